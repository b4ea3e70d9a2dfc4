import * as v from 'valibot';
import { ALGORITHM_IDS, startingHyperparameters, type AlgorithmId } from '../algorithms/catalog.ts';
import { HyperparameterError, type Hyperparameters } from '../hyperparameters.ts';
import { ARCHS, type Arch } from '../policy/archs.ts';
import { LEARN_FROM, type RewardSpec } from '../reward/sandbox/types.ts';
import type { LabelRecord } from '../reward/preferences.ts';
import { defaultRewards, getTask, hasTask, taskAlgorithms, taskArchs, TASKS } from '../tasks/index.ts';
import { isCorpusTaskId, corpusTaskId } from '../tasks/corpus.ts';
import { DEFAULT_PROBES, MAX_PROBE_LENGTH, MAX_PROBES, type Probes } from '../training/probes.ts';

export type { Probes };

/**
 * The whole experiment as one serialisable object, described once by the schema
 * below: what a shared link, a saved run, an exported file and the CLI's
 * --experiment carry, and what `validateExperiment` checks. The settings come
 * from the hyperparameter table; nothing here lists them again.
 */
export const EXPERIMENT_VERSION = 6;
/** Longest reward source accepted (characters). */
export const MAX_REWARD_SOURCE = 20_000;
/** Most named reward components in one experiment. */
export const MAX_REWARDS = 8;
/** Largest weight magnitude of a reward component. */
export const MAX_WEIGHT = 1000;
/** How the page opens the experiment: everything, for teaching (settings hidden, code read-only until Edit), or for an iframe in slides. */
export const VIEWS = ['full', 'classroom', 'embed'] as const;
export type View = (typeof VIEWS)[number];
/** Training paces, in iterations a second; 0 is as fast as the machine goes. */
export const SPEEDS = [0, 4, 1, 0.25] as const;
/** How training runs for a class: at most `speed` iterations a second (0: no limit), and a pause after iteration `stopAt` (0: none). */
export interface Pace {
  speed: (typeof SPEEDS)[number];
  stopAt: number;
}
export const DEFAULT_PACE: Pace = { speed: 0, stopAt: 0 };
/** The most iterations "stop at" may name. */
export const MAX_STOP_AT = 1_000_000;
const REWARD_NAME = /^[A-Za-z_][\w-]{0,31}$/;

const got = (input: unknown): string => (typeof input === 'string' ? JSON.stringify(input.length > 40 ? input.slice(0, 40) + '…' : input) : Array.isArray(input) ? 'a list' : input === null ? 'null' : typeof input === 'object' ? 'an object' : String(input));
const oneOf = <const T extends readonly string[]>(options: T) => v.picklist(options, (i) => `must be one of ${options.join(', ')}, got ${got(i.input)}`);

const wholeIn = (lo: number, hi: number, what: string) => {
  const m = (i: { input: unknown }) => `must be a whole number from ${lo} to ${hi}${what}, got ${got(i.input)}`;
  return v.pipe(v.number(m), v.integer(m), v.minValue(lo, m), v.maxValue(hi, m));
};
/** Most pairs a judge labels for one component. */
export const MAX_JUDGE_PAIRS = 2000;
/** Most labels an experiment keeps (all components together); links carry the latest LINK_LABELS of them. */
export const MAX_LABELS = 2000;
/** Longest completion or prompt a label keeps. */
export const MAX_LABEL_TEXT = 400;
const LearnSchema = v.strictObject(
  {
    from: v.picklist(LEARN_FROM, (i) => `must be one of ${LEARN_FROM.join(', ')} (who labels the pairs), got ${got(i.input)}`),
    pairs: wholeIn(10, MAX_JUDGE_PAIRS, ' (pairs a judge labels)'),
    noise: v.pipe(
      v.number((i) => `must be a share of flipped labels from 0 to 0.5, got ${got(i.input)}`),
      v.check((x) => x >= 0 && x <= 0.5, (i) => `must be a share of flipped labels from 0 to 0.5, got ${got(i.input)}`),
    ),
    every: wholeIn(0, 1000, ' (new labels between retrainings; 0: on request)'),
  },
  (i) => (i.expected === 'never' ? 'is not a field of learn (from, pairs, noise, every)' : i.path?.length ? 'is missing' : `must be { from, pairs, noise, every }, got ${got(i.input)}`),
);

const labelText = v.pipe(v.string((i) => `must be a string, got ${got(i.input)}`), v.maxLength(MAX_LABEL_TEXT, (i) => `is ${(i.input as string).length} characters, the limit is ${MAX_LABEL_TEXT}`));
const LabelSchema = v.strictObject(
  {
    reward: v.string((i) => `must be the name of a learnt reward, got ${got(i.input)}`),
    pa: labelText,
    a: labelText,
    pb: labelText,
    b: labelText,
    y: v.picklist([1, 0, 0.5] as const, (i) => `must be 1 (the first is better), 0 (the second) or 0.5 (a tie), got ${got(i.input)}`),
    at: wholeIn(0, 100_000_000, ' (the iteration labelled at)'),
  },
  (i) => (i.expected === 'never' ? 'is not a field of a label (reward, pa, a, pb, b, y, at)' : i.path?.length ? 'is missing' : `must be a label { reward, pa, a, pb, b, y, at }, got ${got(i.input)}`),
);
const LabelsSchema = v.pipe(
  v.array(LabelSchema, (i) => `must be a list of labels, got ${got(i.input)}`),
  v.maxLength(MAX_LABELS, (i) => `at most ${MAX_LABELS} labels, got ${(i.input as unknown[]).length}`),
);

const RewardSchema = v.strictObject(
  {
    name: v.pipe(v.string((i) => `must be a string, got ${got(i.input)}`), v.regex(REWARD_NAME, (i) => `must be 1-32 letters, digits, _ or - (starting with a letter or _), got ${got(i.input)}`)),
    weight: v.pipe(
      v.number((i) => `must be a number, got ${got(i.input)}`),
      v.finite((i) => `must be finite, got ${got(i.input)}`),
      v.check((w) => Math.abs(w) <= MAX_WEIGHT, (i) => `must be a number from -${MAX_WEIGHT} to ${MAX_WEIGHT}, got ${got(i.input)}`),
    ),
    source: v.pipe(v.string((i) => `must be a string of code, got ${got(i.input)}`), v.maxLength(MAX_REWARD_SOURCE, (i) => `is ${(i.input as string).length} characters, the limit is ${MAX_REWARD_SOURCE}`)),
    /** Learnt from preferences (its source is then the judge's code). */
    learn: v.optional(LearnSchema),
  },
  (i) => (i.expected === 'never' ? 'is not a field of a reward (name, weight, source, learn)' : i.path?.length ? 'is missing' : `must be an object with name, weight and source, got ${got(i.input)}`),
);

const RewardsSchema = v.pipe(
  v.array(RewardSchema, (i) => `must be a non-empty list of { name, weight, source }, got ${got(i.input)}`),
  v.minLength(1, 'must be a non-empty list of { name, weight, source }'),
  v.maxLength(MAX_REWARDS, (i) => `at most ${MAX_REWARDS} rewards, got ${(i.input as unknown[]).length}`),
  v.check((list) => new Set(list.map((r) => r.name)).size === list.length, (i) => `has two rewards named ${JSON.stringify(firstDuplicate((i.input as RewardSpec[]).map((r) => r.name)))}`),
);

const stopAtMessage = (i: { input: unknown }) => `must be a whole number from 0 (no stop) to ${MAX_STOP_AT}, got ${got(i.input)}`;
const PaceSchema = v.strictObject(
  {
    speed: v.picklist(SPEEDS, (i) => `must be one of ${SPEEDS.join(', ')} (iterations a second; 0: as fast as possible), got ${got(i.input)}`),
    stopAt: v.pipe(v.number(stopAtMessage), v.integer(stopAtMessage), v.minValue(0, stopAtMessage), v.maxValue(MAX_STOP_AT, stopAtMessage)),
  },
  (i) => (i.expected === 'never' ? 'is not a field of the pace (speed, stopAt)' : i.path?.length ? 'is missing' : `must be { speed, stopAt }, got ${got(i.input)}`),
);

const everyMessage = (i: { input: unknown }) => `must be a whole number of iterations from 0 (never) to 10000, got ${got(i.input)}`;
const ProbesSchema = v.strictObject(
  {
    prompts: v.pipe(
      v.array(v.pipe(v.string((i) => `must be a string, got ${got(i.input)}`), v.maxLength(MAX_PROBE_LENGTH, (i) => `is ${(i.input as string).length} characters, the limit is ${MAX_PROBE_LENGTH}`)), (i) => `must be a list of prompts, got ${got(i.input)}`),
      v.maxLength(MAX_PROBES, (i) => `at most ${MAX_PROBES} probe prompts, got ${(i.input as unknown[]).length}`),
    ),
    every: v.pipe(v.number(everyMessage), v.integer(everyMessage), v.minValue(0, everyMessage), v.maxValue(10_000, everyMessage)),
  },
  (i) => (i.expected === 'never' ? 'is not a field of the probes (prompts, every)' : i.path?.length ? 'is missing' : `must be { prompts, every }, got ${got(i.input)}`),
);

const CorpusSchema = v.strictObject(
  {
    name: v.pipe(v.string((i) => `must be a file name, got ${got(i.input)}`), v.maxLength(200, 'is longer than 200 characters')),
    hash: v.pipe(v.string((i) => `must be 14 hex digits, got ${got(i.input)}`), v.regex(/^[0-9a-f]{14}$/, (i) => `must be 14 hex digits, got ${got(i.input)}`)),
    lines: v.pipe(v.number((i) => `must be a count of lines, got ${got(i.input)}`), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1')),
  },
  (i) => (i.expected === 'never' ? 'is not a field of the corpus (name, hash, lines)' : i.path?.length ? 'is missing' : `must be { name, hash, lines }, got ${got(i.input)}`),
);

const seedMessage = (i: { input: unknown }) => `must be a whole number from 0 to 4294967295, got ${got(i.input)}`;

/** The settings: checked field by field against the hyperparameter table (missing ones take the task's and algorithm's defaults later). */
const SettingsSchema = v.custom<Record<string, unknown>>((h) => typeof h === 'object' && h !== null && !Array.isArray(h), (i) => `must be an object of settings, got ${got(i.input)}`);

/** The experiment's fields, once: the link codec, saved runs, export/import and the CLI all read this. */
export const EXPERIMENT_FIELDS = {
  /** The schema's version: older ones are migrated (see migrate). */
  version: v.literal(EXPERIMENT_VERSION, (i) => `must be ${EXPERIMENT_VERSION}, got ${got(i.input)}`),
  /** A shipped task's id, or a person's corpus (corpus-<hash>, with `corpus` saying which). */
  task: v.custom<string>((t) => typeof t === 'string' && (TASKS.some((k) => k.id === t) || /^corpus-[0-9a-f]{14}$/.test(t)), (i) => `must be one of ${TASKS.map((t) => t.id).join(', ')} or a corpus (corpus-<hash>), got ${got(i.input)}`),
  arch: oneOf(ARCHS),
  /** The RL algorithm: PPO, GRPO or RLOO. */
  algorithm: v.optional(oneOf(ALGORITHM_IDS), 'ppo'),
  /** Named reward components with weights; their weighted sum trains the policy. */
  rewards: RewardsSchema,
  /** Every setting, the reward sandbox's limits included (missing ones take their defaults). */
  hyperparameters: v.optional(SettingsSchema, {}),
  /** Seeds sampling, shuffling and initialisation: same seed, same backend, same curve. */
  seed: v.pipe(v.number(seedMessage), v.integer(seedMessage), v.minValue(0, seedMessage), v.maxValue(0xffffffff, seedMessage)),
  view: v.optional(oneOf(VIEWS), 'full'),
  /** How fast training runs, and where it stops by itself: for a class to follow. */
  pace: v.optional(PaceSchema, () => ({ ...DEFAULT_PACE })),
  /** Prompts whose completions are followed through the run (the probe table). */
  probes: v.optional(ProbesSchema, () => ({ ...DEFAULT_PROBES, prompts: [] })),
  /** A person's preference labels, for the rewards learnt from a person. */
  labels: v.optional(LabelsSchema, () => []),
  /** The corpus a corpus task learnt from, by name and hash: a link carries which, not the file. */
  corpus: v.optional(CorpusSchema),
} as const;

const ExperimentSchema = v.strictObject(EXPERIMENT_FIELDS, (i) => (i.expected === 'never' ? 'is not a field of an experiment' : i.path?.length ? 'is missing' : `an experiment must be an object, got ${got(i.input)}`));

/**
 * An experiment: what its schema reads (EXPERIMENT_FIELDS, the one description
 * of its shape), with every setting filled in from the task's and the
 * algorithm's defaults by validateExperiment.
 */
export type Experiment = Omit<v.InferOutput<typeof ExperimentSchema>, 'hyperparameters'> & { hyperparameters: Hyperparameters };

/** A rejected experiment; `field` is the path of what was wrong ("rewards[1].weight"), "" for the whole. */
export class ExperimentError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(field ? `experiment: ${field} ${message}` : `experiment: ${message}`);
    this.name = 'ExperimentError';
  }
}

/** An experiment on a person's corpus that this page (or process) does not have: whoever opens it is asked for the file. */
export class MissingCorpusError extends ExperimentError {
  constructor(readonly corpus: CorpusRef) {
    super('task', `trains on "${corpus.name}" (${corpus.lines.toLocaleString('en-US')} lines), a corpus that is not here: open that file to train on it`);
    this.name = 'MissingCorpusError';
  }
}

/** Which corpus an experiment learnt from. */
export type CorpusRef = v.InferOutput<typeof CorpusSchema>;

/** A task's starting experiment; an architecture or algorithm the task has no use for gives way to the task's first. */
export function defaultExperiment(taskId = TASKS[0].id, arch: Arch = 'mlp', algorithm: AlgorithmId = 'ppo'): Experiment {
  const task = getTask(taskId);
  if (!taskArchs(task).includes(arch)) arch = taskArchs(task)[0];
  if (!taskAlgorithms(task).includes(algorithm)) algorithm = taskAlgorithms(task)[0];
  return {
    version: EXPERIMENT_VERSION,
    task: task.id,
    arch,
    algorithm,
    rewards: defaultRewards(task),
    hyperparameters: startingHyperparameters(algorithm, task.hyperparameters),
    seed: 1,
    view: 'full',
    pace: { ...DEFAULT_PACE },
    probes: { ...DEFAULT_PROBES, prompts: [] },
    labels: [],
    ...(task.corpus ? { corpus: { ...task.corpus } } : {}),
  };
}

/**
 * Checks an experiment of any version (older ones are migrated step by step
 * first) and fills in missing settings from the task's and the algorithm's
 * defaults. Unknown fields, wrong types and values out of range throw an
 * ExperimentError naming the field.
 */
export function validateExperiment(input: unknown): Experiment {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ExperimentError('', `an experiment must be an object, got ${got(input)}`);
  const migrated = migrate(input);
  const r = v.safeParse(ExperimentSchema, migrated);
  if (!r.success) {
    const issue = r.issues[0];
    throw new ExperimentError(pathOf(issue), issue.message);
  }
  const e = r.output;
  if (isCorpusTaskId(e.task)) {
    if (!e.corpus) throw new ExperimentError('corpus', `is missing: task ${e.task} learns from a corpus, and the experiment must say which (name, hash, lines)`);
    if (corpusTaskId(e.corpus.hash) !== e.task) throw new ExperimentError('corpus.hash', `must be the task's (${e.task.slice('corpus-'.length)}), got ${got(e.corpus.hash)}`);
    if (!hasTask(e.task)) throw new MissingCorpusError(e.corpus);
  } else if (e.corpus) throw new ExperimentError('corpus', `is only for a corpus task, and ${e.task} is shipped`);
  const task = getTask(e.task);
  if (!taskArchs(task).includes(e.arch)) throw new ExperimentError('arch', `must be ${taskArchs(task).join(' or ')} for task ${task.id}, got ${got(e.arch)}`);
  e.probes.prompts.forEach((p, i) => {
    const bad = [...p].find((c) => !task.alphabet.includes(c));
    if (bad !== undefined) throw new ExperimentError(`probes.prompts[${i}]`, `has ${JSON.stringify(bad)}, which task ${task.id} does not write (its symbols: ${JSON.stringify(task.alphabet.length > 40 ? `${task.alphabet.slice(0, 40)}…` : task.alphabet)})`);
  });
  const learnt = new Map(e.rewards.filter((r) => r.learn).map((r) => [r.name, r.learn!.from]));
  if (learnt.size && task.environment) throw new ExperimentError('rewards', `learn: task ${task.id} has no completions to compare; a reward learnt from preferences needs a language task`);
  e.rewards.forEach((r, i) => {
    if (r.learn?.from === 'model' && taskArchs(task).length < 2) throw new ExperimentError(`rewards[${i}].learn.from`, `"model" asks the task's other reference policy to judge, and task ${task.id} has only its ${taskArchs(task).join(', ')} policy`);
    const judged = e.rewards.find((x) => x.learn && x.learn.from !== 'person' && `${x.name}_judge` === r.name);
    if (judged) throw new ExperimentError(`rewards[${i}].name`, `"${r.name}" is where the judge of "${judged.name}" is charted; choose another name`);
  });
  e.labels.forEach((l, i) => {
    if (learnt.get(l.reward) !== 'person') throw new ExperimentError(`labels[${i}].reward`, `must name a reward learnt from a person's labels (${[...learnt].filter(([, f]) => f === 'person').map(([n]) => n).join(', ') || 'there is none'}), got ${got(l.reward)}`);
  });
  if (!taskAlgorithms(task).includes(e.algorithm)) throw new ExperimentError('algorithm', `must be ${taskAlgorithms(task).join(' or ')} for task ${task.id}, got ${got(e.algorithm)}`);
  let hyperparameters: Hyperparameters;
  try {
    hyperparameters = startingHyperparameters(e.algorithm, task.hyperparameters, e.hyperparameters as Partial<Hyperparameters>);
  } catch (err) {
    const name = err instanceof HyperparameterError ? err.field : '';
    const message = (err as Error).message;
    throw new ExperimentError(name ? `hyperparameters.${name}` : 'hyperparameters', message.startsWith(`${name} `) ? message.slice(name.length + 1) : message.startsWith('unknown') ? 'is not a setting' : `is wrong: ${message}`);
  }
  return { ...e, ...(e.corpus ? { corpus: { ...e.corpus } } : {}), rewards: e.rewards.map((r) => (r.learn ? { ...r, learn: { ...r.learn } } : { ...r })), labels: e.labels.map((l) => ({ ...l }) as LabelRecord), probes: { ...e.probes, prompts: [...e.probes.prompts] }, hyperparameters };
}

/** Checks the named reward components alone: names, weights and code sizes. */
export function validateRewards(input: unknown): RewardSpec[] {
  const r = v.safeParse(RewardsSchema, input);
  if (r.success) return r.output;
  const issue = r.issues[0];
  const path = pathOf(issue);
  throw new ExperimentError(`rewards${path.startsWith('[') || !path ? path : `.${path}`}`, issue.message);
}

/** Where a valibot issue is, as "rewards[1].weight" ("" for the whole input). */
export function pathOf(issue: v.BaseIssue<unknown>): string {
  let out = '';
  for (const item of issue.path ?? []) {
    const key = item.key as string | number;
    out += typeof key === 'number' ? `[${key}]` : out ? `.${key}` : String(key);
  }
  return out;
}

function firstDuplicate(names: string[]): string {
  return names.find((n, i) => names.indexOf(n) !== i) ?? '';
}

type Loose = Record<string, unknown>;
/**
 * One explicit step per version, each taking version n to n + 1:
 *   0 (no version field, one `reward` string, MLP only) → 1: version 1, arch "mlp".
 *   1 → 2: the one `reward` string becomes the component "reward" with weight 1.
 *   2 → 3: `view` ("full") joins; algorithm, if missing, is PPO.
 *   3 → 4: an RLOO experiment keeps the KL penalty it trained with, summed per
 *          completion (`rlooKl: 'sum'`), unless it says otherwise; new ones take the
 *          length-neutral default.
 *   4 → 5: `probes` joins (the task's first prompts, every 10 iterations).
 *   5 → 6: a reward may be learnt from preferences (`learn`), and `labels` joins (none).
 */
export const MIGRATIONS: readonly ((e: Loose) => Loose)[] = [
  (e) => ({ ...e, version: 1, arch: e.arch ?? 'mlp' }),
  ({ reward, ...rest }) => ({ ...rest, version: 2, ...(reward === undefined ? {} : { rewards: [{ name: 'reward', weight: 1, source: reward }] }) }),
  (e) => ({ ...e, version: 3, algorithm: e.algorithm ?? 'ppo', view: e.view ?? 'full' }),
  (e) => ({ ...e, version: 4, ...(e.algorithm === 'rloo' && isPlainObject(e.hyperparameters ?? {}) ? { hyperparameters: { rlooKl: 'sum', ...(e.hyperparameters as Loose | undefined) } } : {}) }),
  (e) => ({ ...e, version: 5 }),
  (e) => ({ ...e, version: 6 }),
];

const isPlainObject = (x: unknown): boolean => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Brings an experiment of an older version up to this one; unknown versions are refused. */
export function migrate(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  let e = input as Loose;
  const version = e.version ?? 0;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) throw new ExperimentError('version', `must be a whole number from 0 to ${EXPERIMENT_VERSION}, got ${got(version)}`);
  if (version > EXPERIMENT_VERSION) throw new ExperimentError('version', `is ${version}: this experiment was made by a newer version of the playground (this one reads up to ${EXPERIMENT_VERSION})`);
  for (let n = version; n < EXPERIMENT_VERSION; n++) e = MIGRATIONS[n](e);
  return e;
}
