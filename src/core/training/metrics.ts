/** What one iteration (PPO, GRPO or RLOO; or the control trainer's PPO) reports, for the charts, the command line and benchmarks. */
export interface IterationMetrics {
  /** Completed iterations after this one, counting from 1. */
  iteration: number;
  rewardMean: number;
  rewardStd: number;
  rewardMin: number;
  rewardMax: number;
  /** Mean of each named reward component, before weighting. */
  rewardComponents: Record<string, number>;
  /** Mean over completions of sum_t log p(y_t) - log p_ref(y_t), in nats. */
  kl: number;
  /** Mean per-token entropy of the policy at the sampled positions, in nats. */
  entropy: number;
  policyLoss: number;
  /** PPO only: the value head's clipped loss, divided by the returns' variance when that is above 1 (what the update minimises). */
  valueLoss?: number;
  /** Fraction of action ratios outside the clip range, over all update steps. */
  clipFrac: number;
  /** Mean k3 estimate of KL(old || new) over the update steps. */
  approxKl: number;
  /** PPO only: the share of value predictions that moved past the value clip. */
  valueClipFrac?: number;
  /** PPO only: how much of the returns the value head explains. */
  explainedVariance?: number;
  /** GRPO only: the share of groups whose rewards were all equal (no signal). */
  equalGroupFrac?: number;
  /** The KL coefficient in force this iteration (PPO's beta, or GRPO's or RLOO's own). */
  klCoef: number;
  /** The adaptive controller's KL target (nats per completion); null when beta is fixed. */
  klTarget: number | null;
  /** Mean completion length in tokens, the stop token included; for a control task, the mean length of the episodes that ended this iteration (NaN when none did). */
  sampleLength: number;
  /** Control tasks: how many episodes ended this iteration (the reward's mean, min and max are then over their returns). */
  episodes?: number;
  rolloutMs: number;
  /** Language tasks: the part of rolloutMs spent scoring the completions (log-probabilities and values under the policy, log-probabilities under the reference). */
  scoringMs?: number;
  rewardMs: number;
  updateMs: number;
  totalMs: number;
  /** Completion tokens per second of the whole iteration. */
  tokensPerSecond: number;
  /** Share of distinct completions in the batch. */
  distinctShare: number;
  /** Signs of collapse or reward hacking this iteration (src/core/training/collapse.ts), each a sentence; empty when none. */
  alarms: string[];
  /** True when one of this iteration's alarms is the runaway alarm (src/core/training/runaway.ts): the policy is leaving its reference fast. */
  runaway?: boolean;
}

export function meanStd(xs: readonly number[]): { mean: number; std: number; min: number; max: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  return { mean, std, min: Math.min(...xs), max: Math.max(...xs) };
}

/** The metrics that do not depend on wall-clock time: equal across runs with the same seed and backend. */
export function deterministicMetrics(m: IterationMetrics): Omit<IterationMetrics, 'rolloutMs' | 'scoringMs' | 'rewardMs' | 'updateMs' | 'totalMs' | 'tokensPerSecond'> {
  const { rolloutMs: _r, scoringMs: _c, rewardMs: _w, updateMs: _u, totalMs: _t, tokensPerSecond: _s, ...rest } = m;
  return rest;
}

/** A change made to a run between two iterations (its reward or a setting): charted as a marker after `iteration`, saved with the run. */
export interface ChartMarker {
  iteration: number;
  kind: 'reward' | 'setting';
  label: string;
}
