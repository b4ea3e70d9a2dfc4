import { ARCHS, type Arch } from '../policy/archs.ts';
import { ALGORITHM_IDS, type AlgorithmId } from '../algorithms/catalog.ts';
import type { Sample } from '../reward/reward.ts';
import type { RewardSpec } from '../reward/sandbox/types.ts';
import { Tokenizer } from '../policy/tokenizer.ts';
import { provideHelpers } from '../reward/helpers.ts';
import type { Task, TaskHelper } from './task.ts';
import { names } from './names.ts';
import { sentiment } from './sentiment.ts';
import { shakespeare } from './shakespeare.ts';
import { unitTests } from './unitTests.ts';
import { privacy } from './privacy.ts';
import { protocol } from './protocol.ts';
import { images } from './images.ts';
import { cartpole } from './cartpole.ts';

export type { Task, TaskHelper, FieldValue, CorpusFile, CorpusGenerator, PretrainingRecipe } from './task.ts';

/** Every task, in the order the page offers them. Adding a task is adding its module here. */
export const TASKS: readonly Task[] = [names, shakespeare, sentiment, privacy, unitTests, protocol, images, cartpole];

/** The example a task starts from. */
export function defaultReward(task: Task): string {
  return Object.values(task.examples)[0].source;
}

/** The reward components a task starts from: its own, or its first example as the one component "reward". */
export function defaultRewards(task: Task): RewardSpec[] {
  return task.rewards ? task.rewards.map((r) => ({ ...r })) : [{ name: 'reward', weight: 1, source: defaultReward(task) }];
}

/** Tasks made at run time (a person's corpus, corpus.ts), by id: offered after the shipped ones. */
const added = new Map<string, Task>();

/** Offers a task made at run time (a person's corpus); the same id again replaces it. */
export function registerTask(task: Task): void {
  if (TASKS.some((t) => t.id === task.id)) throw new Error(`task ${task.id} is shipped and cannot be replaced`);
  added.set(task.id, task);
}

export function unregisterTask(id: string): void {
  added.delete(id);
}

/** Whether a task is offered here: shipped, or made at run time in this page or process. */
export function hasTask(id: string): boolean {
  return TASKS.some((t) => t.id === id) || added.has(id);
}

export function getTask(id: string): Task {
  const t = TASKS.find((t) => t.id === id) ?? added.get(id);
  if (!t) throw new Error(`unknown task ${JSON.stringify(id)} (known: ${[...TASKS, ...added.values()].map((t) => t.id).join(', ')})`);
  return t;
}

/** The architectures a task's policy may have. */
export function taskArchs(task: Task): readonly Arch[] {
  return task.archs ?? ARCHS;
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

/**
 * A completion another model wrote (the TRL export's), as the reward sees it:
 * up to its first line break unless `keepNewlines` (the task's policies stop
 * at their stop token), its tokens those of the characters the task knows.
 */
export function externalSample(task: Task, text: string, prompt: string, index: number, keepNewlines = false): Sample {
  const line = keepNewlines ? text : text.split(/\r?\n/, 1)[0];
  const known = [...line].filter((c) => task.alphabet.includes(c)).join('');
  return taskSample(task, line, taskTokenizer(task).encode(known), prompt, index);
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

// Reward code may call any task's helpers: the reward runners (reward.ts, the sandbox) get them from here.
provideHelpers({ prepare: prepareHelpers, helpers: taskHelpers });
