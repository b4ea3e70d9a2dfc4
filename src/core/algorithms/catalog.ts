import { validateHyperparameters, type Hyperparameters, type SettingGroup } from '../hyperparameters.ts';

/**
 * The algorithms, as data: what the page, the CLI and validation need to know
 * without loading tfjs. Their steps live in one file each beside this one.
 */
export const ALGORITHM_IDS = ['ppo', 'grpo', 'rloo'] as const;
export type AlgorithmId = (typeof ALGORITHM_IDS)[number];

/** Metrics only some algorithms report (every one reports the policy loss, clip fraction and approx. KL). */
export type OptionalMetric = 'valueLoss' | 'valueClipFrac' | 'explainedVariance' | 'equalGroupFrac';

export interface AlgorithmInfo {
  id: AlgorithmId;
  title: string;
  /** One line for the picker. */
  summary: string;
  /** The hyperparameter groups that apply (besides the common ones and the sandbox's). */
  settings: readonly SettingGroup[];
  metrics: readonly OptionalMetric[];
  /** Whether beta follows the adaptive KL controller (else it is the algorithm's own fixed coefficient). */
  adaptiveKl: boolean;
  /** The algorithm's own defaults for common settings (a task's own defaults still come after them). */
  defaults: Partial<Hyperparameters>;
}

export const ALGORITHMS: Readonly<Record<AlgorithmId, AlgorithmInfo>> = {
  ppo: {
    id: 'ppo',
    title: 'PPO',
    summary: 'PPO with a value head and GAE, a per-token KL penalty to the reference (InstructGPT, TRL PPOTrainer).',
    settings: ['ppo'],
    metrics: ['valueLoss', 'valueClipFrac', 'explainedVariance'],
    adaptiveKl: true,
    defaults: {},
  },
  grpo: {
    id: 'grpo',
    title: 'GRPO',
    summary: 'Group-relative advantages, no value head; k3 KL to the reference in the loss (DeepSeekMath, TRL GRPOTrainer).',
    settings: ['group', 'grpo'],
    metrics: ['equalGroupFrac'],
    adaptiveKl: false,
    defaults: {},
  },
  rloo: {
    id: 'rloo',
    title: 'RLOO',
    summary: 'REINFORCE with a leave-one-out baseline per group, KL in the reward, sequence-level clipped ratio (Ahmadian et al. 2024, TRL RLOOTrainer).',
    settings: ['group', 'rloo'],
    metrics: [],
    adaptiveKl: false,
    // One ratio per completion moves as much as all its tokens' ratios together: at
    // PPO's 1e-3 the first epoch already clips most completions (clip fraction 0.6,
    // approx. KL 0.7 per update on the transformer) and the longer-names reward
    // gains 5%; at 3e-4 it gains 33% (transformer) and 52% (MLP).
    defaults: { learningRate: 3e-4 },
  },
};

export function getAlgorithmInfo(id: string): AlgorithmInfo {
  if (!(ALGORITHM_IDS as readonly string[]).includes(id)) throw new Error(`unknown algorithm ${JSON.stringify(id)} (known: ${ALGORITHM_IDS.join(', ')})`);
  return ALGORITHMS[id as AlgorithmId];
}

/** Whether a setting group applies to an algorithm. */
export function settingApplies(group: SettingGroup, id: AlgorithmId): boolean {
  return group === 'common' || group === 'sandbox' || ALGORITHMS[id].settings.includes(group);
}

/**
 * The settings a run starts from: the table's defaults, then the algorithm's own,
 * then the task's, then the given overrides; validated.
 */
export function startingHyperparameters(algorithm: AlgorithmId, taskDefaults: Partial<Hyperparameters>, overrides: Partial<Hyperparameters> = {}): Hyperparameters {
  return validateHyperparameters({ ...ALGORITHMS[algorithm].defaults, ...taskDefaults, ...overrides });
}

/** The settings after a switch of algorithm: each one the person left at the old algorithm's starting value takes the new one's. */
export function switchAlgorithmSettings(h: Hyperparameters, taskDefaults: Partial<Hyperparameters>, from: AlgorithmId, to: AlgorithmId): Hyperparameters {
  const before = startingHyperparameters(from, taskDefaults);
  const after = startingHyperparameters(to, taskDefaults);
  const out: Record<string, unknown> = { ...h };
  for (const name of Object.keys(after) as (keyof Hyperparameters)[]) if (h[name] === before[name]) out[name] = after[name];
  return validateHyperparameters(out);
}
