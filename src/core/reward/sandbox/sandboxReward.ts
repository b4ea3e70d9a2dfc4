import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from 'quickjs-emscripten-core';
import type { QuickJsModules } from './quickjsModules.ts';
import { plainSample, RewardError, type RewardContext, type RewardModel, type RewardScores, type Sample } from '../reward.ts';
import { prelude } from './prelude.ts';
import { hostedHelpers, prepareHostedHelpers, type HostedHelper } from '../helpers.ts';
import type { RewardLog, RewardSpec, SandboxLimits } from './types.ts';

/** What the harness in the sandbox reports for a failed batch. */
interface HarnessFailure {
  kind: 'throw' | 'memory' | 'stack' | 'timeout' | 'promise' | 'shape' | 'count' | 'value';
  index: number;
  name?: string;
  message?: string;
  stack?: string;
  value?: string;
}

interface Compiled {
  spec: RewardSpec;
  context: QuickJSContext;
  /** The harness: [locate, score, where, drain]; only this side holds these handles. */
  harness: QuickJSHandle[];
  entry: 'reward' | 'rewardBatch';
}

/**
 * Rewards written by anyone, run in QuickJS compiled to WebAssembly: one fresh
 * runtime per applied reward, one context per named component, no host globals
 * but `helpers` and a capped `console`. The time limit is checked by QuickJS's
 * interrupt handler; memory and stack limits are the runtime's own. Nothing the
 * code does reaches this realm: samples go in as JSON, numbers come out as JSON
 * and are validated here again.
 *
 * After a batch that hit a limit, the runtime is thrown away and rebuilt before
 * the next batch, so a reward never runs in a half-broken interpreter.
 */
export class SandboxReward implements RewardModel {
  readonly names: readonly string[];
  #modules: QuickJsModules;
  #module: QuickJSWASMModule;
  #specs: readonly RewardSpec[];
  #limits: SandboxLimits;
  #runtime: QuickJSRuntime | null = null;
  #compiled: Compiled[] = [];
  #deadline = Infinity;
  #helpers: Readonly<Record<string, HostedHelper>>;
  #prelude: string;
  /** Console output of the last batch, per component. */
  lastLogs: RewardLog[] = [];

  /** Compiles every component; throws a RewardError naming the first that fails. */
  static async create(modules: QuickJsModules, specs: readonly RewardSpec[], limits: SandboxLimits, helpers = hostedHelpers()): Promise<SandboxReward> {
    const [module] = await Promise.all([modules.ready(), prepareHostedHelpers()]); // code may call a helper as it loads
    return new SandboxReward(modules, module, specs, limits, helpers);
  }

  private constructor(modules: QuickJsModules, module: QuickJSWASMModule, specs: readonly RewardSpec[], limits: SandboxLimits, helpers: Readonly<Record<string, HostedHelper>>) {
    if (specs.length === 0) throw new RewardError('at least one reward function is needed');
    const names = new Set<string>();
    for (const s of specs) {
      if (names.has(s.name)) throw new RewardError(`two rewards are named "${s.name}": give each its own name`, { component: s.name });
      names.add(s.name);
      if (!Number.isFinite(s.weight)) throw new RewardError(`reward "${s.name}" has weight ${s.weight}; a weight must be a finite number`, { component: s.name });
    }
    this.#modules = modules;
    this.#module = module;
    this.#specs = specs;
    this.#limits = { ...limits };
    this.#helpers = helpers;
    this.#prelude = prelude(Object.keys(helpers));
    this.names = specs.map((s) => s.name);
    this.#build();
  }

  get weights(): readonly number[] {
    return this.#specs.map((s) => s.weight);
  }

  /** New limits take effect from the next batch. */
  setLimits(limits: SandboxLimits): void {
    this.#limits = { ...limits };
    if (this.#runtime) {
      this.#runtime.setMemoryLimit(limits.memoryBytes);
      this.#runtime.setMaxStackSize(limits.stackBytes);
    }
  }

  /** Scores one batch: every component, then the weighted total. */
  async score(samples: readonly Sample[], ctx: RewardContext): Promise<RewardScores> {
    if (!this.#runtime) {
      this.#module = await this.#modules.ready();
      this.#build();
    }
    const samplesJson = JSON.stringify(samples.map(plainSample));
    const ctxJson = JSON.stringify({ iteration: ctx.iteration, task: ctx.task });
    const total = new Array<number>(samples.length).fill(0);
    const components: RewardScores['components'] = [];
    const logs: RewardLog[] = [];
    this.#deadline = performance.now() + this.#limits.timeMs;
    try {
      for (const c of this.#compiled) {
        const values = this.#scoreOne(c, samples, samplesJson, ctxJson, logs);
        values.forEach((v, i) => (total[i] += c.spec.weight * v));
        components.push({ name: c.spec.name, values });
      }
    } finally {
      this.#deadline = Infinity;
      this.lastLogs = logs;
    }
    return { total, components, logs };
  }

  dispose(): void {
    this.#teardown();
  }

  #scoreOne(c: Compiled, samples: readonly Sample[], samplesJson: string, ctxJson: string, logs: RewardLog[]): number[] {
    const [, score, where, drain] = c.harness;
    const args = [c.context.newString(samplesJson), c.context.newString(ctxJson)];
    let result;
    try {
      result = c.context.callFunction(score, c.context.undefined, ...args);
    } catch (e) {
      // The host's own stack overflowed inside QuickJS: that instance is mid-call and done for.
      this.#abandon();
      if (e instanceof RangeError) throw this.#failure(c, samples, { kind: 'stack', index: -1 });
      throw e;
    }
    args.forEach((a) => a.dispose());
    if (result.error) {
      // Out of the harness entirely: the interrupt (time), or a limit hit while reporting.
      this.#deadline = Infinity; // let the harness answer where it stopped
      const e = dumpError(c.context, result.error);
      result.error.dispose();
      let index = -1;
      try {
        index = c.context.unwrapResult(c.context.callFunction(where, c.context.undefined)).consume((h) => c.context.getNumber(h));
      } catch {
        index = -1; // the interpreter is past answering; the message goes without the sample
      }
      try {
        logs.push({ component: c.spec.name, ...this.#drain(c, drain) });
      } catch {
        logs.push({ component: c.spec.name, lines: [], dropped: 0 });
      }
      this.#teardown(); // rebuilt before the next batch
      throw this.#failure(c, samples, { kind: classify(e), index, name: e.name, message: e.message, stack: e.stack });
    }
    const json = result.value.consume((h) => (c.context.typeof(h) === 'string' ? c.context.getString(h) : null));
    const parsed = json === null ? null : (JSON.parse(json) as { values?: unknown; error?: HarnessFailure; logs?: { lines: string[]; dropped: number } });
    if (!parsed || typeof parsed !== 'object') throw new RewardError(`reward "${c.spec.name}" broke the sandbox's harness (it returned no results); was a built-in like JSON replaced?`, { component: c.spec.name });
    logs.push({ component: c.spec.name, lines: parsed.logs?.lines ?? [], dropped: parsed.logs?.dropped ?? 0 });
    if (parsed.error) {
      if (parsed.error.kind === 'memory' || parsed.error.kind === 'stack') this.#teardown();
      throw this.#failure(c, samples, parsed.error);
    }
    const values = parsed.values;
    if (!Array.isArray(values) || values.length !== samples.length || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new RewardError(`reward "${c.spec.name}" broke the sandbox's harness (malformed results)`, { component: c.spec.name });
    }
    return values as number[];
  }

  #drain(c: Compiled, drain: QuickJSHandle): { lines: string[]; dropped: number } {
    const json = c.context.unwrapResult(c.context.callFunction(drain, c.context.undefined)).consume((h) => c.context.dump(h)) as { lines: string[]; dropped: number };
    return { lines: json.lines ?? [], dropped: json.dropped ?? 0 };
  }

  #failure(c: Compiled, samples: readonly Sample[], f: HarnessFailure): RewardError {
    const name = c.spec.name;
    const batch = c.entry === 'rewardBatch';
    const sample = f.index >= 0 && f.index < samples.length ? samples[f.index] : undefined;
    const on = sample ? ` on sample ${f.index} (${JSON.stringify(sample.text)})` : '';
    const details = { component: name, sampleIndex: sample ? f.index : undefined, text: sample?.text, value: f.value, kind: f.kind };
    const who = `reward "${name}"${batch ? ' (rewardBatch)' : ''}`;
    const { timeMs, memoryBytes, stackBytes } = this.#limits;
    switch (f.kind) {
      case 'timeout':
        return new RewardError(`${who} did not finish within the time limit of ${timeMs} ms per batch (rewardTimeLimitMs)${on}: the code may loop forever`, details);
      case 'memory':
        return new RewardError(`${who} ran out of memory${on}: the sandbox allows ${memoryBytes / 2 ** 20} MiB (rewardMemoryMiB)`, details);
      case 'stack':
        return new RewardError(`${who} overflowed the stack${on}: the sandbox allows ${stackBytes / 1024} KiB (rewardStackKiB); is a recursion missing its base case?`, details);
      case 'throw':
        return new RewardError(`${who} threw${on}: ${f.name ? `${f.name}: ` : ''}${f.message}${where(f.stack, c)}`, details);
      case 'promise':
        return new RewardError(`${who} returned a Promise${on}: rewards are synchronous, so return a number (no async, await or then)`, details);
      case 'shape':
        return new RewardError(`${who} returned ${f.value}; rewardBatch must return an array with one number per sample`, details);
      case 'count':
        return new RewardError(`${who} returned ${f.value} values for ${samples.length} samples`, details);
      case 'value':
        return new RewardError(`${who} returned ${f.value}${on.replace(' on ', ' for ')}; it must return a finite number`, details);
    }
  }

  #build(): void {
    this.#teardown();
    const runtime = this.#module.newRuntime();
    runtime.setMemoryLimit(this.#limits.memoryBytes);
    runtime.setMaxStackSize(this.#limits.stackBytes);
    runtime.setInterruptHandler(() => performance.now() > this.#deadline);
    this.#runtime = runtime;
    this.#deadline = performance.now() + this.#limits.timeMs; // top-level code runs under the limit too
    try {
      for (const spec of this.#specs) this.#compiled.push(this.#compile(runtime, spec));
    } catch (e) {
      if (e instanceof RangeError) {
        this.#abandon();
        throw new RewardError(`a reward overflowed the stack while loading: the sandbox allows ${this.#limits.stackBytes / 1024} KiB (rewardStackKiB)`, { kind: 'stack' });
      }
      this.#teardown();
      throw e;
    } finally {
      this.#deadline = Infinity;
    }
  }

  #compile(runtime: QuickJSRuntime, spec: RewardSpec): Compiled {
    const context = runtime.newContext();
    const fail = (message: string, kind: string) => {
      context.dispose();
      return new RewardError(message, { component: spec.name, kind });
    };
    context.newFunction('host', (name, args) => this.#host(context, context.getString(name), context.getString(args))).consume((h) => context.setProp(context.global, '__host', h));
    const prelude = context.evalCode(this.#prelude, 'prelude.js');
    if (prelude.error) {
      const e = dumpError(context, prelude.error);
      prelude.error.dispose();
      throw fail(`the reward sandbox could not start: ${e.name}: ${e.message}`, 'sandbox');
    }
    const harness = prelude.value.consume((arr) => [0, 1, 2, 3].map((i) => context.getProp(arr, i)));
    const compiled: Compiled = { spec, context, harness, entry: 'reward' };
    const code = context.evalCode(spec.source, fileName(spec));
    if (code.error) {
      const e = dumpError(context, code.error);
      code.error.dispose();
      harness.forEach((h) => h.dispose());
      const kind = classify(e);
      if (kind === 'timeout') throw fail(`reward "${spec.name}" did not finish loading within the time limit of ${this.#limits.timeMs} ms (rewardTimeLimitMs): its top-level code may loop forever`, kind);
      if (e.name === 'SyntaxError') throw fail(`reward "${spec.name}" does not compile: SyntaxError: ${e.message}${where(e.stack, compiled)}`, 'syntax');
      throw fail(`reward "${spec.name}" failed while loading: ${e.name}: ${e.message}${where(e.stack, compiled)}`, kind);
    }
    code.value.dispose();
    const found = context.unwrapResult(context.callFunction(harness[0], context.undefined)).consume((h) => context.getString(h));
    if (found === 'none' || found === 'both') {
      harness.forEach((h) => h.dispose());
      throw fail(
        found === 'none'
          ? `reward "${spec.name}" must declare a function named reward, as in function reward(sample, ctx) { return sample.text.length; }, or rewardBatch, as in function rewardBatch(samples, ctx) { return samples.map(() => 0); }`
          : `reward "${spec.name}" declares both reward and rewardBatch: keep one`,
        'contract',
      );
    }
    compiled.entry = found as Compiled['entry'];
    return compiled;
  }

  /**
   * One call of a task's helper from reward code: JSON in, JSON out. Its time
   * counts against the batch's limit (checked when control returns to QuickJS),
   * so arguments are capped to keep a single call short.
   */
  #host(context: QuickJSContext, name: string, argsJson: string): QuickJSHandle | { error: QuickJSHandle } {
    const helper = Object.hasOwn(this.#helpers, name) ? this.#helpers[name] : undefined;
    if (!helper) return { error: context.newError(`helpers.${name} is not a helper`) };
    if (argsJson.length > HELPER_ARGUMENT_CHARS) return { error: context.newError(`helpers.${helper.signature} takes at most ${HELPER_ARGUMENT_CHARS} characters of arguments, got ${argsJson.length}`) };
    try {
      return context.newString(JSON.stringify(helper.fn(...(JSON.parse(argsJson) as unknown[])) ?? null));
    } catch (e) {
      return { error: context.newError(`helpers.${helper.signature}: ${e instanceof Error ? e.message : String(e)}`) };
    }
  }

  /** Drops the runtime without touching it (its instance is broken) and asks for a fresh instance. */
  #abandon(): void {
    this.#compiled = [];
    this.#runtime = null;
    this.#modules.discard();
  }

  #teardown(): void {
    for (const c of this.#compiled) {
      c.harness.forEach((h) => h.alive && h.dispose());
      c.context.dispose();
    }
    this.#compiled = [];
    this.#runtime?.dispose();
    this.#runtime = null;
  }
}

/** The most characters (as JSON) one call of a task's helper may pass. */
export const HELPER_ARGUMENT_CHARS = 100_000;

interface DumpedError {
  name: string;
  message: string;
  stack: string;
}

/** Reads an error out of the sandbox as plain strings (bounded: a stack overflow's trace is huge). */
function dumpError(context: QuickJSContext, handle: QuickJSHandle): DumpedError {
  const read = (key: string): string => {
    try {
      return context.getProp(handle, key).consume((h) => (context.typeof(h) === 'string' ? context.getString(h).slice(0, 400) : ''));
    } catch {
      return '';
    }
  };
  const name = read('name');
  const message = read('message');
  if (!name && !message) {
    try {
      return { name: '', message: String(context.dump(handle)).slice(0, 300), stack: '' };
    } catch {
      return { name: '', message: 'unknown error', stack: '' };
    }
  }
  return { name, message, stack: read('stack') };
}

function classify(e: { name?: string; message?: string }): HarnessFailure['kind'] {
  if (e.name === 'InternalError' && e.message === 'interrupted') return 'timeout';
  if (e.name === 'InternalError' && e.message === 'out of memory') return 'memory';
  if (/stack overflow|call stack/i.test(e.message ?? '')) return 'stack';
  return 'throw';
}

/** The file name user code is evaluated under, so traces point at its lines. */
function fileName(spec: RewardSpec): string {
  return `${spec.name.replace(/[^\w.-]+/g, '_') || 'reward'}.js`;
}

/** " (line L, column C)" from a QuickJS trace, for the first frame in the reward's own code. */
function where(stack: string | undefined, c: Pick<Compiled, 'spec'>): string {
  if (!stack) return '';
  const file = fileName(c.spec).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`${file}:(\\d+)(?::(\\d+))?`).exec(stack);
  if (!m) return '';
  return m[2] ? ` (line ${m[1]}, column ${m[2]})` : ` (line ${m[1]})`;
}
