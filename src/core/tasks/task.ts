import type { Arch } from '../policy/policy.ts';
import type { HyperparameterName, Hyperparameters } from '../hyperparameters.ts';
import type { AlgorithmId } from '../algorithms/catalog.ts';
import type { Environment } from './environments.ts';
import type { FieldValue } from '../reward/reward.ts';
import type { HostedHelper } from '../reward/helpers.ts';
import type { CorpusFile, CorpusGenerator, PretrainingRecipe } from '../policy/pretrainData.ts';
import type { RewardSpec } from '../reward/sandbox/types.ts';

export type { FieldValue, CorpusFile, CorpusGenerator, PretrainingRecipe };
/** A function a task offers reward code (`helpers.<name>(...)`), run by the task's trusted code. */
export type TaskHelper = HostedHelper;

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
  /** A task made from a person's corpus (corpus.ts): which file, by name, hash and kept lines. */
  corpus?: { name: string; hash: string; lines: number };
}
