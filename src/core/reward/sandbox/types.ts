/** One named reward component: its code and its weight in the total that trains. */
export interface RewardSpec {
  name: string;
  /** Weight in the total; 0 makes it evaluation-only (still computed and charted). */
  weight: number;
  /** Code declaring `function reward(sample, ctx)` or `function rewardBatch(samples, ctx)`. */
  source: string;
  /**
   * Set when the component is learnt from preferences (reward/preferences.ts):
   * who labels the pairs, and `source` is then the judge's code (from 'judge').
   */
  learn?: LearnSpec;
}

/** Where a learnt component's labels come from: a person, reward code as judge, or the task's other reference policy as judge (its likelihood). */
export const LEARN_FROM = ['person', 'judge', 'model'] as const;
export type LearnFrom = (typeof LEARN_FROM)[number];

/** How a component is learnt from preferences. */
export interface LearnSpec {
  from: LearnFrom;
  /** A judge's pairs of reference completions to label (judge and model). */
  pairs: number;
  /** Share of a judge's labels flipped, imitating imperfect annotators. */
  noise: number;
  /** A person's labels: retrain after every `every` new ones (0: on request). */
  every: number;
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
