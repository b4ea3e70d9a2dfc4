import { validateHyperparameters, type Hyperparameters } from './hyperparameters.ts';
import { ALGORITHM_IDS, type AlgorithmId } from './algorithms/catalog.ts';
import type { Arch } from './policy.ts';
import type { RewardSpec } from './sandbox/types.ts';
import { defaultRewards, getTask, TASKS } from './tasks.ts';

/**
 * The whole experiment as one serialisable object: what a saved run or a
 * shared link carries. `validateExperiment` accepts only known keys and ranges.
 */
export const EXPERIMENT_VERSION = 2;
/** Longest reward source accepted (characters). */
export const MAX_REWARD_SOURCE = 20_000;
/** Most named reward components in one experiment. */
export const MAX_REWARDS = 8;
/** Largest weight magnitude of a reward component. */
export const MAX_WEIGHT = 1000;
const REWARD_NAME = /^[A-Za-z_][\w-]{0,31}$/;

export interface Experiment {
  version: typeof EXPERIMENT_VERSION;
  task: string;
  arch: Arch;
  /** The RL algorithm: PPO, GRPO or RLOO. */
  algorithm: AlgorithmId;
  /** Named reward components with weights; their weighted sum trains the policy. */
  rewards: RewardSpec[];
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
    algorithm: 'ppo',
    rewards: defaultRewards(task),
    hyperparameters: validateHyperparameters(task.hyperparameters),
    seed: 1,
  };
}

export function validateExperiment(input: unknown): Experiment {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error('experiment must be an object');
  let e = input as Record<string, unknown>;
  if (e.version === 1) e = migrateV1(e);
  const known = ['version', 'task', 'arch', 'algorithm', 'rewards', 'hyperparameters', 'seed'];
  for (const k of Object.keys(e)) if (!known.includes(k)) throw new Error(`experiment: unknown field ${JSON.stringify(k)}`);
  if (e.version !== EXPERIMENT_VERSION) throw new Error(`experiment: version ${JSON.stringify(e.version)} is not supported (expected ${EXPERIMENT_VERSION})`);
  if (typeof e.task !== 'string') throw new Error('experiment: task must be a string');
  getTask(e.task);
  if (e.arch !== 'mlp' && e.arch !== 'transformer') throw new Error(`experiment: arch must be "mlp" or "transformer", got ${JSON.stringify(e.arch)}`);
  const algorithm = e.algorithm ?? 'ppo';
  if (!(ALGORITHM_IDS as readonly unknown[]).includes(algorithm)) throw new Error(`experiment: algorithm must be one of ${ALGORITHM_IDS.join(', ')}, got ${JSON.stringify(algorithm)}`);
  const rewards = validateRewards(e.rewards);
  if (typeof e.seed !== 'number' || !Number.isInteger(e.seed) || e.seed < 0 || e.seed > 0xffffffff) {
    throw new Error(`experiment: seed must be a whole number from 0 to 4294967295, got ${JSON.stringify(e.seed)}`);
  }
  return {
    version: EXPERIMENT_VERSION,
    task: e.task,
    arch: e.arch,
    algorithm: algorithm as AlgorithmId,
    rewards,
    hyperparameters: validateHyperparameters(e.hyperparameters ?? {}),
    seed: e.seed,
  };
}

/** Checks the named reward components: names, weights and code sizes. */
export function validateRewards(input: unknown): RewardSpec[] {
  if (!Array.isArray(input) || input.length === 0) throw new Error('experiment: rewards must be a non-empty list of { name, weight, source }');
  if (input.length > MAX_REWARDS) throw new Error(`experiment: at most ${MAX_REWARDS} rewards, got ${input.length}`);
  const names = new Set<string>();
  return input.map((r: unknown, i) => {
    if (typeof r !== 'object' || r === null) throw new Error(`experiment: rewards[${i}] must be an object`);
    const { name, weight, source, ...rest } = r as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length) throw new Error(`experiment: rewards[${i}] has an unknown field ${JSON.stringify(extra[0])}`);
    if (typeof name !== 'string' || !REWARD_NAME.test(name)) {
      throw new Error(`experiment: rewards[${i}].name must be 1-32 letters, digits, _ or - (starting with a letter or _), got ${JSON.stringify(name)}`);
    }
    if (names.has(name)) throw new Error(`experiment: two rewards are named ${JSON.stringify(name)}`);
    names.add(name);
    if (typeof weight !== 'number' || !Number.isFinite(weight) || Math.abs(weight) > MAX_WEIGHT) {
      throw new Error(`experiment: rewards[${i}].weight must be a number from -${MAX_WEIGHT} to ${MAX_WEIGHT}, got ${JSON.stringify(weight)}`);
    }
    if (typeof source !== 'string') throw new Error(`experiment: rewards[${i}].source must be a string of code`);
    if (source.length > MAX_REWARD_SOURCE) throw new Error(`experiment: rewards[${i}].source is ${source.length} characters, the limit is ${MAX_REWARD_SOURCE}`);
    return { name, weight, source };
  });
}

/** Version 1 held one reward as `reward: string`; it becomes the one component "reward" with weight 1. */
function migrateV1(e: Record<string, unknown>): Record<string, unknown> {
  const { reward, ...rest } = e;
  return { ...rest, version: 2, rewards: [{ name: 'reward', weight: 1, source: reward }] };
}
