import { afterAll, describe, expect, it } from 'vitest';
import { nodeQuickJs } from '../../scripts/nodeSandbox.ts';
import { RewardError, type Sample } from '../../src/core/reward/reward.ts';
import { rewardHelpers } from '../../src/core/reward/helpers.ts';
import { SandboxReward } from '../../src/core/reward/sandbox/sandboxReward.ts';
import type { RewardSpec, SandboxLimits } from '../../src/core/reward/sandbox/types.ts';
// The task registry provides the tasks' helpers to the reward runners when it loads (reward/helpers.ts).
import '../../src/core/tasks/index.ts';

const LIMITS: SandboxLimits = { timeMs: 300, memoryBytes: 16 * 2 ** 20, stackBytes: 256 * 1024 };
/** For failures other than time: room enough that a loaded machine cannot turn them into timeouts. */
const SLOW_OK: SandboxLimits = { ...LIMITS, timeMs: 20_000 };
const samples: Sample[] = ['anna', 'bob', 'zed', 'maximilian'].map((text, index) => ({ text, tokens: [1, 2, 3], prompt: '', index }));
const ctx = { iteration: 3, task: 'names', helpers: rewardHelpers };
const open: SandboxReward[] = [];
afterAll(() => open.forEach((r) => r.dispose()));

async function sandbox(source: string | RewardSpec[], limits = LIMITS): Promise<SandboxReward> {
  const specs = typeof source === 'string' ? [{ name: 'reward', weight: 1, source }] : source;
  const r = await SandboxReward.create(nodeQuickJs, specs, limits);
  open.push(r);
  return r;
}

/** Scores once and returns the failure, which must be a RewardError. */
async function failure(source: string, limits = LIMITS): Promise<RewardError> {
  let r: SandboxReward;
  try {
    r = await sandbox(source, limits);
  } catch (e) {
    expect(e).toBeInstanceOf(RewardError);
    return e as RewardError;
  }
  const err = await r.score(samples, ctx).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'the reward should have failed').toBeInstanceOf(RewardError);
  return err as RewardError;
}

/** Scores once; the reward must succeed. */
async function totals(source: string): Promise<number[]> {
  return (await (await sandbox(source)).score(samples, ctx)).total;
}

describe('the sandbox runs ordinary rewards', () => {
  it('scores per sample with helpers and context, like a plain function', async () => {
    expect(await totals('function reward(s, ctx) { return s.text.length + ctx.helpers.vowels(s.text) + ctx.iteration; }')).toEqual([9, 7, 7, 18]);
    expect(await totals('const reward = (s) => helpers.palindrome(s.text);')).toEqual([1, 1, 0, 0]);
  });

  it('scores per batch with rewardBatch (rewards that compare samples)', async () => {
    expect(await totals('function rewardBatch(samples) { const n = samples.length; return samples.map((s) => samples.filter((o) => o.text.length > s.text.length).length / n); }')).toEqual([0.25, 0.5, 0.5, 0]);
  });

  it('combines named components by weight, and computes a weight-0 component for evaluation only', async () => {
    const r = await sandbox([
      { name: 'length', weight: 2, source: 'function reward(s) { return s.text.length; }' },
      { name: 'z', weight: 0, source: "function reward(s) { return s.text.startsWith('z') ? 1 : 0; }" },
      { name: 'short', weight: -0.5, source: 'function reward(s) { return s.text.length > 5 ? 1 : 0; }' },
    ]);
    const s = await r.score(samples, ctx);
    expect(s.components.map((c) => c.name)).toEqual(['length', 'z', 'short']);
    expect(s.components[1].values).toEqual([0, 0, 1, 0]);
    expect(s.total).toEqual([8, 6, 6, 19.5]);
  });

  it('keeps the last 200 console lines, cut at 500 characters, and counts the rest', async () => {
    const r = await sandbox('function reward(s) { for (let i = 0; i < 300; i++) console.log("line", i, { s: s.index }); console.warn("x".repeat(2000)); return 1; }');
    const s = await r.score(samples, ctx);
    const log = s.logs![0];
    expect(log.lines).toHaveLength(200);
    expect(log.dropped).toBe(4 * 301 - 200);
    expect(log.lines.at(-1)!.startsWith('warn: xxx')).toBe(true);
    expect(log.lines.at(-1)!.length).toBe(501);
    expect(log.lines.at(-2)).toBe('line 299 {"s":3}');
  });
});

describe('hostile and broken rewards are contained, each with its own message', () => {
  const cases: [string, string, RegExp, SandboxLimits?][] = [
    ['syntax error, with line and column', 'function reward(s) {\n  return s.text.length +;\n}', /^reward "reward" does not compile: SyntaxError: .* \(line 2, column \d+\)$/],
    ['no reward function', 'function score(s) { return 1; }', /must declare a function named reward/],
    ['both entry points', 'function reward() { return 1; }\nfunction rewardBatch(s) { return s.map(() => 1); }', /declares both reward and rewardBatch/],
    ['a throw, with message and line', 'function reward(s) {\n  if (s.index === 2) throw new Error("boom");\n  return 1;\n}', /^reward "reward" threw on sample 2 \("zed"\): Error: boom \(line 2, column \d+\)$/],
    ['a thrown string', 'function reward(s) { throw "plain"; }', /threw on sample 0 \("anna"\): plain/],
    ['an infinite loop', 'function reward(s) { while (true) {} }', /did not finish within the time limit of 300 ms per batch \(rewardTimeLimitMs\) on sample 0 \("anna"\): the code may loop forever/],
    ['an infinite loop that catches its interruption', 'function reward(s) { for (;;) { try { while (true) {} } catch (e) {} } }', /the code may loop forever/],
    ['an infinite loop in top-level code', 'while (true) {}\nfunction reward() { return 1; }', /did not finish loading within the time limit .* its top-level code may loop forever/],
    ['a memory bomb', 'function reward(s) { const a = []; while (true) a.push(new Float64Array(1e6)); }', /ran out of memory .*the sandbox allows 16 MiB \(rewardMemoryMiB\)/, SLOW_OK],
    ['a huge string', 'function reward(s) { return "x".repeat(1e8).length; }', /ran out of memory/, SLOW_OK],
    ['deep recursion', 'function reward(s) { const f = (n) => f(n + 1) + 1; return f(0); }', /overflowed the stack on sample 0 .*256 KiB \(rewardStackKiB\); is a recursion missing its base case\?/, SLOW_OK],
    ['recursion inside a built-in (deeply nested JSON)', 'function reward(s) { let o = {}; for (let i = 0; i < 1e5; i++) o = { o }; return JSON.stringify(o).length; }', /overflowed the stack/, SLOW_OK],
    ['NaN', 'function reward(s) { return s.index === 1 ? NaN : 1; }', /^reward "reward" returned NaN for sample 1 \("bob"\); it must return a finite number$/],
    ['Infinity', 'function reward(s) { return 1 / 0; }', /returned Infinity for sample 0/],
    ['a string', "function reward(s) { return 'long'; }", /returned the string "long" for sample 0 \("anna"\)/],
    ['undefined (forgot to return)', 'function reward(s) { s.text.length; }', /returned undefined for sample 0/],
    ['an object', 'function reward(s) { return { score: 1 }; }', /returned a value of type object for sample 0/],
    ['a Promise (async)', 'async function reward(s) { return 1; }', /returned a Promise on sample 0 .*rewards are synchronous/],
    ['a thenable', 'function reward(s) { return { then() {} }; }', /returned a Promise/],
    ['rewardBatch returning the wrong count', 'function rewardBatch(ss) { return [1, 2]; }', /^reward "reward" \(rewardBatch\) returned 2 values for 4 samples$/],
    ['rewardBatch returning a non-array', 'function rewardBatch(ss) { return 3; }', /\(rewardBatch\) returned 3; rewardBatch must return an array with one number per sample/],
    ['rewardBatch returning NaN inside', 'function rewardBatch(ss) { return ss.map((s, i) => (i === 3 ? NaN : 0)); }', /returned NaN for sample 3/],
    ['fetch', "function reward() { fetch('http://127.0.0.1:9/x'); return 1; }", /ReferenceError: 'fetch' is not defined/],
    ['XMLHttpRequest', 'function reward() { new XMLHttpRequest(); return 1; }', /'XMLHttpRequest' is not defined/],
    ['WebSocket', "function reward() { new WebSocket('ws://127.0.0.1:9'); return 1; }", /'WebSocket' is not defined/],
    ['localStorage', "function reward() { return localStorage.getItem('x'); }", /'localStorage' is not defined/],
    ['indexedDB', "function reward() { indexedDB.open('x'); return 1; }", /'indexedDB' is not defined/],
    ['postMessage', "function reward() { postMessage('x'); return 1; }", /'postMessage' is not defined/],
    ['importScripts', "function reward() { importScripts('x.js'); return 1; }", /'importScripts' is not defined/],
    ['process', 'function reward() { return process.pid; }', /'process' is not defined/],
    ['require', "function reward() { return require('fs'); }", /'require' is not defined/],
    ['the Function constructor to reach the host global', "function reward() { const g = (function () {}).constructor('return this')(); return g.fetch('x'); }", /not a function/],
  ];
  for (const [what, source, message, limits] of cases) {
    it(what, async () => {
      const err = await failure(source, limits);
      expect(err.message).toMatch(message);
    });
  }

  it(`covers at least 25 hostile or broken rewards (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it('names the component that failed among several', async () => {
    const r = await sandbox([
      { name: 'fine', weight: 1, source: 'function reward() { return 1; }' },
      { name: 'broken', weight: 1, source: 'function reward(s) { return s.index === 1 ? "x" : 0; }' },
    ]);
    await expect(r.score(samples, ctx)).rejects.toThrow(/^reward "broken" returned the string "x" for sample 1/);
  });

  it('globalThis holds only the documented globals', async () => {
    const r = await sandbox('function reward() { console.log(Object.getOwnPropertyNames(globalThis).filter((k) => !/^[A-Z]/.test(k) || k === "WebAssembly").sort().join(",")); return 1; }');
    const s = await r.score(samples.slice(0, 1), ctx);
    const names = s.logs![0].lines[0].split(',');
    for (const host of ['fetch', 'XMLHttpRequest', 'WebSocket', 'localStorage', 'indexedDB', 'postMessage', 'importScripts', 'process', 'require', 'WebAssembly', 'self', 'window', 'document']) {
      expect(names).not.toContain(host);
    }
    expect(names).toContain('helpers');
    expect(names).toContain('console');
  });

  it('prototype pollution stays inside the sandbox', async () => {
    const r = await sandbox('Array.prototype.map = () => []; Object.prototype.polluted = 1; function reward(s) { return [1, 2].map((x) => x).length; }');
    expect((await r.score(samples, ctx)).total).toEqual([0, 0, 0, 0]);
    expect([1, 2].map((x) => x)).toEqual([1, 2]);
    expect(({} as { polluted?: number }).polluted).toBeUndefined();
  });

  it('a flood of console.log stops at the time limit and loses nothing of the host', async () => {
    const err = await failure('function reward(s) { for (;;) console.log("flood", s.index); }');
    expect(err.message).toMatch(/time limit of 300 ms .*the code may loop forever/);
    const started = performance.now();
    const r = await sandbox('function reward() { for (let i = 0; i < 5000; i++) console.log(i); return 1; }');
    const s = await r.score(samples, ctx);
    expect(s.logs![0].lines).toHaveLength(200);
    expect(performance.now() - started).toBeLessThan(LIMITS.timeMs * 4); // bounded work, not a stall
  });

  it('a sandbox that hit a limit is rebuilt and scores the next batch', async () => {
    const r = await sandbox('function reward(s, ctx) { if (ctx.iteration === 1) { const a = []; while (true) a.push(new Float64Array(1e6)); } return s.text.length; }', SLOW_OK);
    await expect(r.score(samples, { ...ctx, iteration: 1 })).rejects.toThrow(/ran out of memory/);
    expect((await r.score(samples, ctx)).total).toEqual([4, 3, 3, 10]);
    const deep = await sandbox('function reward(s, ctx) { if (ctx.iteration === 1) { let o = {}; for (let i = 0; i < 1e5; i++) o = { o }; JSON.stringify(o); } return 2; }', SLOW_OK);
    await expect(deep.score(samples, { ...ctx, iteration: 1 })).rejects.toThrow(/overflowed the stack/);
    expect((await deep.score(samples, ctx)).total).toEqual([2, 2, 2, 2]);
  });

  it('the time limit holds: an infinite loop stops within the limit plus 100 ms', async () => {
    const r = await sandbox('function reward() { while (true) {} }');
    const started = performance.now();
    await expect(r.score(samples, ctx)).rejects.toThrow(/loop forever/);
    expect(performance.now() - started).toBeLessThan(LIMITS.timeMs + 100);
  });

  it('rejects duplicate names and non-finite weights, naming them', async () => {
    await expect(SandboxReward.create(nodeQuickJs, [{ name: 'a', weight: 1, source: 'function reward() { return 1; }' }, { name: 'a', weight: 1, source: 'function reward() { return 1; }' }], LIMITS)).rejects.toThrow('two rewards are named "a"');
    await expect(SandboxReward.create(nodeQuickJs, [{ name: 'a', weight: NaN, source: 'function reward() { return 1; }' }], LIMITS)).rejects.toThrow('reward "a" has weight NaN');
  });
});

describe("tasks' helpers, called from the sandbox", () => {
  it('helpers.sentiment runs VADER outside and returns its score as plain data', async () => {
    const r = await sandbox('function reward(sample) { return helpers.sentiment(sample.text); }', SLOW_OK);
    const lines = ['I love thee, sweet heart', 'Death and grief and bloody war', 'The king is here'].map((text, index) => ({ text, tokens: [], prompt: '', index }));
    const [kind, dark, plain] = (await r.score(lines, ctx)).total;
    expect(kind).toBeGreaterThan(0.5);
    expect(dark).toBeLessThan(-0.5);
    expect(plain).toBe(0);
  });

  it('a helper given the wrong type, or too much, throws inside the reward with a message naming it', async () => {
    expect((await failure('function reward() { return helpers.sentiment(42); }', SLOW_OK)).message).toContain('helpers.sentiment(text): text must be a string, got number');
    expect((await failure("function reward() { return helpers.sentiment('x'.repeat(200000)); }", SLOW_OK)).message).toMatch(/helpers\.sentiment\(text\) takes at most 100000 characters of arguments/);
  });

  it('the host function is not left where reward code can reach it', async () => {
    const r = await sandbox("function reward() { return typeof globalThis.__host === 'undefined' ? 1 : 0; }");
    expect((await r.score(samples, ctx)).total).toEqual([1, 1, 1, 1]);
  });
});
