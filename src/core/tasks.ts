import type { Arch } from './policy.ts';
import type { HyperparameterName, Hyperparameters } from './hyperparameters.ts';
import { ALGORITHM_IDS, type AlgorithmId } from './algorithms/catalog.ts';
import type { Environment } from './environments.ts';
import type { Sample } from './reward.ts';
import type { Rng } from './rng.ts';
import type { RewardSpec } from './sandbox/types.ts';
import { Tokenizer } from './tokenizer.ts';
import { names } from './tasks/names.ts';
import { sentiment } from './tasks/sentiment.ts';
import { shakespeare } from './tasks/shakespeare.ts';
import { unitTests } from './tasks/unitTests.ts';
import { privacy } from './tasks/privacy.ts';
import { protocol } from './tasks/protocol.ts';
import { images } from './tasks/images.ts';
import { cartpole } from './tasks/cartpole.ts';

/**
 * A task is one module in src/core/tasks/: its symbols, its prompts, how a
 * completion turns into what the reward sees, the reference checkpoints and the
 * recipe that trains them, its example rewards and its explanation. Adding a
 * task means adding its module to TASKS below; the trainer, the page, the CLI
 * and the tests read everything from here.
 */
export interface Task {
  id: string;
  title: string;
  /** One line for the task picker. */
  description: string;
  /** The symbols the policy writes; the tokenizer adds start and end tokens. */
  alphabet: string;
  /** Prompts a rollout conditions on, drawn at random; [''] for unconditional generation. */
  prompts: readonly string[];
  /** Checkpoint id (public/models/<id>.json) of the pretrained reference policy per architecture; none for a control task. */
  models: Readonly<Partial<Record<Arch, string>>>;
  /** The policy architectures that apply (default: both). */
  archs?: readonly Arch[];
  /** The algorithms that apply (default: all). */
  algorithms?: readonly AlgorithmId[];
  /** The settings that apply, when not every one does (a control task has no KL, no sampling temperature). */
  settings?: readonly HyperparameterName[];
  /**
   * A control task's environment: the policy acts in it instead of writing text,
   * and the reward scores each transition (`function reward(step, ctx)`).
   */
  environment?: Environment;
  /**
   * Example rewards, as source declaring `function reward(sample, ctx)`, by a short
   * key (the command line's `--reward KEY`). The first is the one a person starts from.
   */
  examples: Readonly<Record<string, { title: string; source: string }>>;
  /** The reward components a run starts with, when not the first example alone (weighted parts charted apart). */
  rewards?: readonly RewardSpec[];
  /** Per-task changes to the defaults, e.g. a completion length that suits the task. */
  hyperparameters: Partial<Hyperparameters>;
  /** What the test bench holds when the task opens: an output worth scoring (after the first prompt). */
  benchText: string;
  /** The task's panel on the page: what the policy writes, what the reward computes, why it is RLCF, what to try. */
  explanation: { writes: string; reward: string; why: string; try: string };
  /**
   * What the task measures of each completion besides its text, computed by the
   * task's own (trusted) code outside the sandbox, e.g. with a classifier package:
   * the reward reads them as `sample.fields.<name>`. `docs` explains each field
   * beside the editor.
   */
  fields?: { docs: Readonly<Record<string, string>>; compute(text: string, prompt: string): Readonly<Record<string, FieldValue>> };
  /**
   * Loads what the task's fields and helpers need (a package behind a dynamic
   * import, so that no page or worker evaluates it before the task is used).
   * Awaited through `prepareTask` before anything computes them.
   */
  prepare?(): Promise<void>;
  /**
   * For a task that paints: each token is a pixel, row by row, of one palette
   * colour (the symbol's position in the alphabet). The reward then also sees
   * `sample.pixels` ([r, g, b] triples), `sample.width` and `sample.height`.
   */
  image?: { width: number; height: number; palette: readonly string[]; paint(text: string): number[][] };
  /**
   * Functions the task offers reward code as `helpers.<name>(...)`, run by the
   * task's own (trusted) code outside the sandbox, e.g. a classifier from a
   * package: arguments and results cross as plain data (JSON).
   */
  helpers?: Readonly<Record<string, TaskHelper>>;
  /**
   * How the reference policies are trained (scripts/pretrain.ts): the data, read
   * from a file under data/ (one example per line, trimmed; lines longer than
   * `maxLength` or matching `drop` left out) or made by a seeded generator, and
   * the steps per architecture. None when the task reuses another's checkpoints.
   */
  pretraining?: { data: CorpusFile | CorpusGenerator; recipes: Readonly<Partial<Record<Arch, PretrainingRecipe>>> };
}

export interface TaskHelper {
  /** How a call reads, e.g. "sentiment(text)". */
  signature: string;
  doc: string;
  fn(...args: unknown[]): FieldValue;
}

export type FieldValue = number | string | boolean | null | readonly FieldValue[] | { readonly [key: string]: FieldValue };
export interface CorpusFile {
  kind: 'file';
  file: string;
  maxLength: number;
  drop?: string;
}
export interface CorpusGenerator {
  kind: 'generated';
  /** How many examples to make. */
  count: number;
  /** One example (a line the policy should learn to write, prompt included). */
  generate(rng: Rng): string;
}
export interface PretrainingRecipe {
  steps: number;
  batchSize: number;
  learningRate: number;
  /** The MLP's window in tokens (default 8): a task whose prompt matters as a whole needs a wider one. */
  window?: number;
}

export const TASKS: readonly Task[] = [names, shakespeare, sentiment, privacy, unitTests, protocol, images, cartpole];

/** The example a task starts from. */
export function defaultReward(task: Task): string {
  return Object.values(task.examples)[0].source;
}

/** The reward components a task starts from: its own, or its first example as the one component "reward". */
export function defaultRewards(task: Task): RewardSpec[] {
  return task.rewards ? task.rewards.map((r) => ({ ...r })) : [{ name: 'reward', weight: 1, source: defaultReward(task) }];
}

export function getTask(id: string): Task {
  const t = TASKS.find((t) => t.id === id);
  if (!t) throw new Error(`unknown task ${JSON.stringify(id)} (known: ${TASKS.map((t) => t.id).join(', ')})`);
  return t;
}

/** The architectures a task's policy may have. */
export function taskArchs(task: Task): readonly Arch[] {
  return task.archs ?? ['mlp', 'transformer'];
}

/** The algorithms that apply to a task. */
export function taskAlgorithms(task: Task): readonly AlgorithmId[] {
  return task.algorithms ?? ALGORITHM_IDS;
}

/** The checkpoint of a task's reference policy for an architecture; an error naming both when it has none. */
export function modelId(task: Task, arch: Arch): string {
  const id = task.models[arch];
  if (!id) throw new Error(`task ${task.id} has no ${arch} reference policy${task.environment ? ' (a control task trains from scratch)' : ''}`);
  return id;
}

export function taskTokenizer(task: Task): Tokenizer {
  return new Tokenizer(task.alphabet);
}

/** What the reward sees of one completion: its text and tokens, its prompt, and the task's fields. */
export function taskSample(task: Task, text: string, tokens: number[], prompt: string, index: number): Sample {
  const sample: Sample = { text, tokens, prompt, index };
  if (task.fields) sample.fields = task.fields.compute(text, prompt);
  if (task.image) {
    sample.pixels = task.image.paint(text);
    sample.width = task.image.width;
    sample.height = task.image.height;
  }
  return sample;
}

/** Loads what a task's fields and helpers need (once; nothing for most tasks). */
export function prepareTask(task: Task): Promise<void> {
  return task.prepare?.() ?? Promise.resolve();
}

/** Loads what every task's helpers need: reward code may call any task's helper. */
export function prepareHelpers(): Promise<void> {
  return Promise.all(TASKS.filter((t) => t.helpers).map(prepareTask)).then(() => undefined);
}

/**
 * Every task's helpers by name: reward code may call any of them, whichever
 * task it trains (a helper named twice must be the same function).
 */
export function taskHelpers(): Readonly<Record<string, TaskHelper>> {
  const all: Record<string, TaskHelper> = {};
  for (const t of TASKS) {
    for (const [name, h] of Object.entries(t.helpers ?? {})) {
      if (all[name] && all[name] !== h) throw new Error(`two tasks offer different helpers named ${name}`);
      all[name] = h;
    }
  }
  return all;
}
