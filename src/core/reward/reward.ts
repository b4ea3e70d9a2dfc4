import { hostedHelpers, onHelpersProvided, prepareHostedHelpers, rewardHelpers, type RewardHelpers } from './helpers.ts';
import type { RewardLog } from './sandbox/types.ts';

/** A value a task measures of a completion (`sample.fields.<name>`): plain data. */
export type FieldValue = number | string | boolean | null | readonly FieldValue[] | { readonly [key: string]: FieldValue };

/** One transition, as a control task's reward function sees it (`function reward(step, ctx)`). */
export interface Transition {
  state: number[];
  action: number;
  nextState: number[];
  /** The episode ends with this step: it failed, or reached the step limit. */
  done: boolean;
  /** It ended because it failed (not because of the step limit). */
  terminated: boolean;
  /** Steps taken in the episode before this one. */
  t: number;
}

/** One completion, as a reward function sees it. */
export interface Sample {
  /** The completion decoded to text (stop token excluded). */
  text: string;
  /** The completion's token ids (stop token excluded). */
  tokens: number[];
  /** The prompt the completion continues ('' when unconditional). */
  prompt: string;
  /** Position of the sample in its batch. */
  index: number;
  /** What the task measures of it besides the text (a classifier's score, tests passed), when the task has fields. */
  fields?: Readonly<Record<string, FieldValue>>;
  /** For a task that paints: the image, [r, g, b] (0-255) per pixel, row by row, and its size. */
  pixels?: number[][];
  width?: number;
  height?: number;
  /** For a control task: the transition this sample is (the reward reads step.state, step.action, step.nextState, step.done). */
  transition?: Transition;
}

/** A sample as reward code receives it: plain data only. */
export function plainSample(s: Sample): Record<string, unknown> {
  const plain: Record<string, unknown> = { text: s.text, tokens: s.tokens, prompt: s.prompt, index: s.index, fields: s.fields ?? {} };
  if (s.pixels) Object.assign(plain, { pixels: s.pixels, width: s.width, height: s.height });
  if (s.transition) Object.assign(plain, s.transition);
  return plain;
}

export interface RewardContext {
  /** The iteration being scored, counting from 1. */
  iteration: number;
  /** The task's id, e.g. "names". */
  task: string;
  helpers: RewardHelpers;
}

export type RewardFunction = (sample: Sample, ctx: RewardContext) => unknown;

/** Scores of one batch: the weighted total per sample, and each named component. */
export interface RewardScores {
  total: number[];
  components: { name: string; values: number[] }[];
  /** What the reward code printed with console.log (sandboxed rewards only). */
  logs?: RewardLog[];
}

/**
 * The one interface training scores samples through. Plain trusted functions
 * implement it here; a sandbox for untrusted code implements it the same way.
 */
export interface RewardModel {
  readonly names: readonly string[];
  score(samples: readonly Sample[], ctx: RewardContext): Promise<RewardScores>;
  /** Frees what the model holds (a sandbox's runtime); optional for plain functions. */
  dispose?(): void;
}

/** A reward failed: what failed, on which sample, with what value. */
export class RewardError extends Error {
  constructor(
    message: string,
    readonly details: { component?: string; sampleIndex?: number; value?: string; text?: string; kind?: string } = {},
  ) {
    super(message);
    this.name = 'RewardError';
  }
}

/** Checks that a reward gave one finite number per sample; throws a RewardError naming the first bad one. */
export function validateRewardValues(values: readonly unknown[], samples: readonly Sample[], component: string): number[] {
  if (values.length !== samples.length) {
    throw new RewardError(`reward "${component}" returned ${values.length} values for ${samples.length} samples`, { component });
  }
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      const shown = describeValue(v);
      throw new RewardError(
        `reward "${component}" returned ${shown} for sample ${i} (${JSON.stringify(samples[i].text)}); it must return a finite number`,
        { component, sampleIndex: i, value: shown, text: samples[i].text },
      );
    }
  });
  return values as number[];
}

/** A returned value, named for an error message. Self-contained: the sandbox's harness runs this same source. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number') return String(v);
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'bigint') return `the bigint ${v}n`;
  if (typeof v === 'boolean') return `the boolean ${v}`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function') return 'a Promise';
  return `a value of type ${typeof v}`;
}

export interface RewardComponent {
  name: string;
  weight: number;
  fn: RewardFunction;
}

/** Runs trusted functions in this thread: the CLI's, the tests', and the default before a sandbox is chosen. */
export class FunctionReward implements RewardModel {
  readonly names: readonly string[];
  constructor(readonly components: readonly RewardComponent[]) {
    if (components.length === 0) throw new RewardError('at least one reward function is needed');
    this.names = components.map((c) => c.name);
  }

  async score(samples: readonly Sample[], ctx: RewardContext): Promise<RewardScores> {
    await prepareHostedHelpers();
    const total = new Array<number>(samples.length).fill(0);
    const plain = samples.map((s) => plainSample(s) as unknown as Sample); // as the sandbox hands them over
    const components = this.components.map(({ name, weight, fn }) => {
      const raw = samples.map((s, i) => {
        try {
          return fn(plain[i], ctx);
        } catch (e) {
          const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
          throw new RewardError(`reward "${name}" threw on sample ${i} (${JSON.stringify(s.text)}): ${message}`, {
            component: name,
            sampleIndex: i,
            text: s.text,
          });
        }
      });
      const values = validateRewardValues(raw, samples, name);
      values.forEach((v, i) => (total[i] += weight * v));
      return { name, values };
    });
    return { total, components };
  }
}

type AllHelpers = RewardHelpers & Record<string, (...args: unknown[]) => unknown>;
let everyHelper: AllHelpers | null = null;
onHelpersProvided(() => (everyHelper = null));

/** The helpers trusted code gets: the built-in ones and every task's, called directly (made once: the tasks are fixed). */
export function allHelpers(): AllHelpers {
  if (!everyHelper) {
    const hosted = Object.fromEntries(Object.entries(hostedHelpers()).map(([name, h]) => [name, (...args: unknown[]) => h.fn(...args)]));
    everyHelper = Object.freeze({ ...hosted, ...rewardHelpers }) as AllHelpers;
  }
  return everyHelper;
}

/** The editor's contract: the code declares `function reward(sample, ctx)`. */
export function compileRewardSource(source: string): RewardFunction {
  let fn: unknown;
  try {
    fn = new Function('helpers', `"use strict";\n${source}\n;return typeof reward === 'function' ? reward : undefined;`)(allHelpers());
  } catch (e) {
    throw new RewardError(`reward code does not compile: ${(e as Error).name}: ${(e as Error).message}`);
  }
  if (typeof fn !== 'function') throw new RewardError('reward code must declare a function named reward, e.g. function reward(sample, ctx) { return sample.text.length; }');
  return fn as RewardFunction;
}

/**
 * The command line's reward as a program with the editor's contract: code
 * declaring `reward` or `rewardBatch` stays as it is; a function expression
 * (`s => s.text.length`) or an expression over `sample`, `text` and `ctx`
 * (`text.length`) becomes the body of `reward`. The sandbox and the trusted
 * path both run this program.
 */
export function rewardProgram(code: string): string {
  if (/\bfunction\s+(reward|rewardBatch)\s*\(/.test(code)) return code;
  return `const __expression = (sample, ctx, text) => (${code}\n);\nfunction reward(sample, ctx) {\n  const v = __expression(sample, ctx, sample.text);\n  return typeof v === 'function' ? v(sample, ctx) : v;\n}\n`;
}

/** The command line's reward (see `rewardProgram`) as a plain function, for --trusted. */
export function compileRewardExpression(code: string): RewardFunction {
  return compileRewardSource(rewardProgram(code));
}
