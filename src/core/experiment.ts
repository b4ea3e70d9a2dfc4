import { validateHyperparameters, type Hyperparameters } from './hyperparameters.ts';
import type { Arch } from './policy.ts';
import { defaultReward, getTask, TASKS } from './tasks.ts';

/**
 * The whole experiment as one serialisable object: what a saved run or a
 * shared link carries. `validateExperiment` accepts only known keys and ranges.
 */
export const EXPERIMENT_VERSION = 1;
/** Longest reward source accepted (characters). */
export const MAX_REWARD_SOURCE = 20_000;

export interface Experiment {
  version: typeof EXPERIMENT_VERSION;
  task: string;
  arch: Arch;
  /** Reward code declaring `function reward(sample, ctx)`. */
  reward: string;
  hyperparameters: Hyperparameters;
  /** Seeds sampling, shuffling and initialisation: same seed, same backend, same curve. */
  seed: number;
}

export function defaultExperiment(taskId = TASKS[0].id, arch: Arch = 'mlp'): Experiment {
  const task = getTask(taskId);
  return {
    version: EXPERIMENT_VERSION,
    task: task.id,
    arch,
    reward: defaultReward(task),
    hyperparameters: validateHyperparameters(task.hyperparameters),
    seed: 1,
  };
}

export function validateExperiment(input: unknown): Experiment {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error('experiment must be an object');
  const e = input as Record<string, unknown>;
  const known = ['version', 'task', 'arch', 'reward', 'hyperparameters', 'seed'];
  for (const k of Object.keys(e)) if (!known.includes(k)) throw new Error(`experiment: unknown field ${JSON.stringify(k)}`);
  if (e.version !== EXPERIMENT_VERSION) throw new Error(`experiment: version ${JSON.stringify(e.version)} is not supported (expected ${EXPERIMENT_VERSION})`);
  if (typeof e.task !== 'string') throw new Error('experiment: task must be a string');
  getTask(e.task);
  if (e.arch !== 'mlp' && e.arch !== 'transformer') throw new Error(`experiment: arch must be "mlp" or "transformer", got ${JSON.stringify(e.arch)}`);
  if (typeof e.reward !== 'string') throw new Error('experiment: reward must be a string of code');
  if (e.reward.length > MAX_REWARD_SOURCE) throw new Error(`experiment: reward code is ${e.reward.length} characters, the limit is ${MAX_REWARD_SOURCE}`);
  if (typeof e.seed !== 'number' || !Number.isInteger(e.seed) || e.seed < 0 || e.seed > 0xffffffff) {
    throw new Error(`experiment: seed must be a whole number from 0 to 4294967295, got ${JSON.stringify(e.seed)}`);
  }
  return {
    version: EXPERIMENT_VERSION,
    task: e.task,
    arch: e.arch,
    reward: e.reward,
    hyperparameters: validateHyperparameters(e.hyperparameters ?? {}),
    seed: e.seed,
  };
}
