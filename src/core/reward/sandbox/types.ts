/** One named reward component: its code and its weight in the total that trains. */
export interface RewardSpec {
  name: string;
  /** Weight in the total; 0 makes it evaluation-only (still computed and charted). */
  weight: number;
  /** Code declaring `function reward(sample, ctx)` or `function rewardBatch(samples, ctx)`. */
  source: string;
}

/** Hard limits on one batch's evaluation in the sandbox. */
export interface SandboxLimits {
  timeMs: number;
  memoryBytes: number;
  stackBytes: number;
}

/** A component's console output from one batch: the last lines, and how many earlier ones were dropped. */
export interface RewardLog {
  component: string;
  lines: string[];
  dropped: number;
}
