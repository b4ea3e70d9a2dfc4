import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ALGORITHM_IDS } from '../../src/core/algorithms/catalog.ts';
import { defaultExperiment, EXPERIMENT_VERSION, MIGRATIONS, validateExperiment, type Experiment } from '../../src/core/experiment/experiment.ts';
import { HYPERPARAMETERS, HYPERPARAMETER_NAMES } from '../../src/core/hyperparameters.ts';
import { decodeExperiment, encodeExperiment, fromBase64Url, LinkError, LINK_MAX_JSON_BYTES, LINK_PARAM, toBase64Url } from '../../src/core/experiment/link.ts';
import { taskAlgorithms, taskArchs, TASKS } from '../../src/core/tasks/index.ts';
import { Rng } from '../../src/core/rng.ts';

/** An experiment with every field away from its default. */
function unusual(): Experiment {
  const e = defaultExperiment('shakespeare', 'transformer', 'grpo');
  e.seed = 4294967295;
  e.view = 'classroom';
  e.rewards = [
    { name: 'length', weight: 0.5, source: '// Longer.\nreturn sample.text.length; // ünïcödé ✓' },
    { name: 'no_e', weight: -2.25, source: 'return sample.text.includes("e") ? 1 : 0;' },
    { name: 'x-3', weight: 1000, source: '' },
  ];
  for (const name of HYPERPARAMETER_NAMES) {
    const spec = HYPERPARAMETERS[name];
    if (spec.kind === 'bool') (e.hyperparameters as Record<string, unknown>)[name] = !spec.default;
    else if (spec.kind === 'enum') (e.hyperparameters as Record<string, unknown>)[name] = spec.options.find((o) => o !== spec.default);
    else if (name !== 'batchSize' && name !== 'minibatches' && name !== 'groupSize') (e.hyperparameters as Record<string, unknown>)[name] = spec.kind === 'int' ? spec.max : spec.min;
  }
  e.hyperparameters.batchSize = 96;
  e.hyperparameters.minibatches = 3;
  e.hyperparameters.groupSize = 4;
  return e;
}

describe('Experiment schema', () => {
  it('accepts the default of every task, architecture and algorithm unchanged', () => {
    for (const task of TASKS) for (const arch of taskArchs(task)) for (const algorithm of taskAlgorithms(task)) {
      const e = defaultExperiment(task.id, arch, algorithm);
      expect(validateExperiment(structuredClone(e))).toEqual(e);
    }
  });

  it("refuses an architecture or algorithm the task has no use for, and the default gives way to the task's own", () => {
    expect(() => validateExperiment({ ...defaultExperiment('images', 'transformer'), arch: 'mlp' })).toThrow('experiment: arch must be transformer for task images, got "mlp"');
    expect(() => validateExperiment({ ...defaultExperiment('cartpole'), algorithm: 'grpo' })).toThrow('experiment: algorithm must be ppo for task cartpole, got "grpo"');
    expect(defaultExperiment('images', 'mlp', 'grpo')).toMatchObject({ arch: 'transformer', algorithm: 'grpo' });
    expect(defaultExperiment('cartpole', 'transformer', 'rloo')).toMatchObject({ arch: 'mlp', algorithm: 'ppo' });
  });

  it('names the field of every kind of mistake', () => {
    const d = defaultExperiment();
    const cases: [unknown, RegExp][] = [
      [{ ...d, colour: 'red' }, /^experiment: colour is not a field of an experiment$/],
      [{ ...d, task: 'chess' }, new RegExp(`task must be one of ${TASKS.map((t) => t.id).join(', ')} or a corpus \\(corpus-<hash>\\), got "chess"`)],
      [{ ...d, arch: 'rnn' }, /arch must be one of mlp, transformer/],
      [{ ...d, algorithm: 'dpo' }, /algorithm must be one of ppo, grpo, rloo, got "dpo"/],
      [{ ...d, seed: -1 }, /seed must be a whole number from 0 to 4294967295, got -1/],
      [{ ...d, seed: '3' }, /seed must be a whole number/],
      [{ ...d, view: 'kiosk' }, /view must be one of full, classroom, embed/],
      [{ ...d, rewards: [] }, /rewards must be a non-empty list/],
      [{ ...d, rewards: [{ name: 'a', weight: 1e9, source: '' }] }, /rewards\[0\]\.weight must be a number from -1000 to 1000/],
      [{ ...d, rewards: [{ name: 'a', weight: 1, source: 'x'.repeat(20001) }] }, /rewards\[0\]\.source is 20001 characters, the limit is 20000/],
      [{ ...d, rewards: [{ name: 'a', weight: 1, source: '', why: 1 }] }, /rewards\[0\]\.why is not a field of a reward/],
      [{ ...d, rewards: [...d.rewards, ...d.rewards] }, /two rewards named "reward"/],
      [{ ...d, hyperparameters: { learningRate: 3 } }, /hyperparameters\.learningRate must be between 1e-7 and 0\.1, got 3/],
      [{ ...d, hyperparameters: { grpoScale: 'rows' } }, /hyperparameters\.grpoScale must be one of group, batch, none/],
      [{ ...d, hyperparameters: { lr: 1 } }, /hyperparameters\.lr is not a setting/],
      [{ ...d, hyperparameters: { batchSize: 64, minibatches: 5 } }, /hyperparameters\.minibatches .*must divide batchSize/],
      [{ ...d, version: 99 }, /version is 99: this experiment was made by a newer version/],
      [{ ...d, version: 'x' }, /version must be a whole number/],
      [[], /an experiment must be an object, got a list/],
    ];
    for (const [input, message] of cases) expect(() => validateExperiment(input), JSON.stringify(input).slice(0, 80)).toThrow(message);
  });

  it('fills settings left out from the task and the algorithm', () => {
    const { hyperparameters, ...rest } = defaultExperiment('shakespeare', 'mlp', 'rloo');
    expect(validateExperiment(rest).hyperparameters).toEqual(hyperparameters);
    expect(validateExperiment({ ...rest, hyperparameters: { epochs: 2 } }).hyperparameters).toEqual({ ...hyperparameters, epochs: 2 });
  });

  it('migrates a hand-written version 0 file step by step', () => {
    const v0 = JSON.parse(readFileSync('tests/fixtures/experiment-v0.json', 'utf8'));
    expect(MIGRATIONS).toHaveLength(EXPERIMENT_VERSION);
    const v1 = MIGRATIONS[0](v0);
    expect(v1).toMatchObject({ version: 1, arch: 'mlp', reward: v0.reward });
    const v2 = MIGRATIONS[1](v1);
    expect(v2).toMatchObject({ version: 2, rewards: [{ name: 'reward', weight: 1, source: v0.reward }] });
    expect(v2).not.toHaveProperty('reward');
    const v3 = MIGRATIONS[2](v2);
    expect(v3).toMatchObject({ version: 3, algorithm: 'ppo', view: 'full' });
    expect(MIGRATIONS[3](v3)).toEqual({ ...v3, version: 4 }); // not RLOO: nothing else changes
    const e = validateExperiment(v0);
    expect(e).toEqual({ ...defaultExperiment('names'), rewards: [{ name: 'reward', weight: 1, source: v0.reward }], seed: 7, hyperparameters: { ...defaultExperiment('names').hyperparameters, batchSize: 32, learningRate: 0.0005, klCoef: 0.5 } });
    // A version 2 file (several rewards) needs only the last step.
    const { view: _view, ...v2file } = { ...defaultExperiment(), version: 2 };
    expect(validateExperiment(v2file)).toEqual(defaultExperiment());
  });

  it('reads the pace (speed, stop at), and refuses a bad one naming the field', () => {
    const e = defaultExperiment('names');
    expect(e.pace).toEqual({ speed: 0, stopAt: 0 });
    const { pace: _pace, ...without } = e;
    expect(validateExperiment(without).pace).toEqual({ speed: 0, stopAt: 0 });
    expect(validateExperiment({ ...e, pace: { speed: 0.25, stopAt: 12 } }).pace).toEqual({ speed: 0.25, stopAt: 12 });
    expect(() => validateExperiment({ ...e, pace: { speed: 3, stopAt: 0 } })).toThrow(/pace\.speed.*must be one of 0, 4, 1, 0\.25/);
    expect(() => validateExperiment({ ...e, pace: { speed: 1, stopAt: -1 } })).toThrow(/pace\.stopAt.*whole number/);
    expect(() => validateExperiment({ ...e, pace: { speed: 1, stopAt: 2.5 } })).toThrow(/pace\.stopAt/);
    expect(() => validateExperiment({ ...e, pace: { speed: 1 } })).toThrow(/pace\.stopAt.*missing/);
    expect(() => validateExperiment({ ...e, pace: { speed: 1, stopAt: 0, fast: true } })).toThrow(/pace\.fast.*not a field/);
  });

  it('keeps the KL penalty an RLOO experiment of version 3 trained with (summed); new ones are length-neutral', () => {
    const now = defaultExperiment('shakespeare', 'transformer', 'rloo');
    expect(now.hyperparameters.rlooKl).toBe('mean');
    const { rlooKl: _kl, ...before } = now.hyperparameters;
    expect(validateExperiment({ ...now, version: 3, hyperparameters: before }).hyperparameters).toEqual({ ...now.hyperparameters, rlooKl: 'sum' });
    expect(validateExperiment({ ...now, version: 3, hyperparameters: { ...before, rlooKl: 'mean' } }).hyperparameters.rlooKl).toBe('mean');
    expect(validateExperiment({ ...now, version: 3, hyperparameters: undefined }).hyperparameters.rlooKl).toBe('sum');
    expect(() => validateExperiment({ ...now, version: 3, hyperparameters: 'fast' })).toThrow('hyperparameters');
  });
});

describe('Links', () => {
  it('round-trips every field', async () => {
    for (const e of [defaultExperiment(), unusual()]) {
      const fragment = await encodeExperiment(e);
      expect(fragment).toMatch(new RegExp(`^${LINK_PARAM}=${EXPERIMENT_VERSION}\\.[A-Za-z0-9_-]+$`));
      expect(await decodeExperiment(`#${fragment}`)).toEqual(e);
    }
  });

  it('says what is wrong with each kind of bad link', async () => {
    const good = await encodeExperiment(defaultExperiment());
    const data = good.split('.')[1];
    // Half the data, cut where base64url stays well formed (a lone character in the last group of four is not).
    const half = Math.floor(data.length / 2) - (Math.floor(data.length / 2) % 4 === 1 ? 1 : 0);
    const flipped = fromBase64Url(data);
    flipped[Math.floor(flipped.length / 2)] ^= 0x55;
    const huge = await packRaw(JSON.stringify({ ...defaultExperiment(), rewards: [{ name: 'r', weight: 1, source: 'x'.repeat(LINK_MAX_JSON_BYTES) }] }));
    const notJson = await packRaw('{"version": 3, "task": ');
    const invalid = await packRaw(JSON.stringify({ ...defaultExperiment(), seed: 0.5 }));
    const cases: [string, string, RegExp][] = [
      ['#nothing=1', 'format', /has no experiment/],
      [`#${LINK_PARAM}=garbage`, 'format', /not in the expected form/],
      [`#${LINK_PARAM}=9.${data}`, 'version', /newer version/],
      [`#${LINK_PARAM}=3.${data.slice(0, -1)}A`.slice(0, -2) + '=', 'format', /expected form/],
      [`#${LINK_PARAM}=3.${data.slice(0, 4 * Math.floor(data.length / 8) + 1)}`, 'encoding', /not valid base64url/],
      [`#${LINK_PARAM}=3.${data.slice(0, half)}`, 'truncated', /incomplete/],
      [`#${LINK_PARAM}=3.${toBase64Url(flipped)}`, 'corrupt', /damaged/],
      [`#${LINK_PARAM}=3.${huge}`, 'too-large', /larger than 64 KiB/],
      [`#${LINK_PARAM}=3.${notJson}`, 'json', /not a readable experiment/],
      [`#${LINK_PARAM}=3.${invalid}`, 'invalid', /seed must be a whole number/],
    ];
    for (const [fragment, problem, message] of cases) {
      const err = await decodeExperiment(fragment).then(() => null, (e: unknown) => e);
      expect(err, fragment.slice(0, 40)).toBeInstanceOf(LinkError);
      expect((err as LinkError).problem, fragment.slice(0, 40)).toBe(problem);
      expect((err as LinkError).message).toMatch(message);
    }
  });

  it('decodes 10,000 random and mutated links to an experiment or a LinkError, never anything else', async () => {
    const rng = new Rng(12345);
    const seeds = [await encodeExperiment(defaultExperiment()), await encodeExperiment(unusual())];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=#&%';
    const pick = (n: number) => Math.floor(rng.next() * n);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 10_000; i++) {
      let link: string;
      const base = seeds[i % 2];
      const kind = i % 5;
      if (kind === 0) link = Array.from({ length: pick(200) }, () => alphabet[pick(alphabet.length)]).join('');
      else if (kind === 1) link = base.slice(0, pick(base.length + 1));
      else if (kind === 2) {
        const chars = base.split('');
        for (let k = 0, n = 1 + pick(4); k < n; k++) chars[pick(chars.length)] = alphabet[pick(alphabet.length - 7)];
        link = chars.join('');
      } else if (kind === 3) {
        // Valid compression of mutated JSON: exercises the schema, not only the codec.
        const json = JSON.stringify(i % 2 ? unusual() : defaultExperiment()).split('');
        for (let k = 0, n = 1 + pick(3); k < n; k++) json[pick(json.length)] = '{}[]",:0-1.9aetrnu '[pick(20)];
        link = `${LINK_PARAM}=3.${await packRaw(json.join(''))}`;
      } else {
        const bytes = fromBase64Url(base.split('.')[1]);
        for (let k = 0, n = 1 + pick(3); k < n; k++) bytes[pick(bytes.length)] = pick(256);
        link = `${LINK_PARAM}=3.${toBase64Url(bytes)}`;
      }
      try {
        const e = await decodeExperiment(link);
        expect(validateExperiment(e)).toEqual(e);
        counts.ok = (counts.ok ?? 0) + 1;
      } catch (err) {
        if (!(err instanceof LinkError)) throw new Error(`link ${JSON.stringify(link.slice(0, 80))} threw ${String(err)}`);
        expect(err.message.length).toBeGreaterThan(20);
        counts[err.problem] = (counts[err.problem] ?? 0) + 1;
      }
    }
    // Every kind of outcome happened, so the fuzzing reached each stage of the decoder.
    for (const problem of ['ok', 'format', 'encoding', 'truncated', 'corrupt', 'json', 'invalid']) expect(counts[problem], problem).toBeGreaterThan(0);
  }, 120_000);
});

async function packRaw(text: string): Promise<string> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('deflate'));
  return toBase64Url(new Uint8Array(await new Response(stream).arrayBuffer()));
}
