import type * as tf from '../tf.ts';
import type { Hyperparameters } from '../hyperparameters.ts';
import type { Policy } from '../policy/policy.ts';
import type { Rng } from '../rng.ts';
import type { Sample } from '../reward/reward.ts';
import type { SampledBatch } from './masked.ts';
import type { AlgorithmId, OptionalMetric } from './catalog.ts';
import type { AlgorithmRecorder } from './lesson.ts';

/** A batch sampled from the policy (training/rollout.ts), scored under the policy and the frozen reference. */
export interface Rollout extends SampledBatch {
  refLogprobs: Float32Array;
  /** The policy's entropy at each action position, for the metrics. */
  entropy: Float32Array;
  samples: Sample[];
  /** Milliseconds spent scoring the samples under the policy and the reference (after sampling them). */
  scoringMs: number;
}

/** What the Trainer hands an algorithm each iteration, after rollout and scoring. */
export interface AlgorithmInput {
  policy: Policy;
  optimizer: tf.Optimizer;
  rollout: Rollout;
  /** The weighted reward of each completion. */
  scores: readonly number[];
  h: Hyperparameters;
  rng: Rng;
  /** PPO's KL coefficient in force (the adaptive controller's value). */
  beta: number;
  /** KL to the reference per completion (k1, summed over its tokens), under the policy that sampled. */
  kl: Float32Array;
  /** This is the run's first update (iteration 1). */
  first: boolean;
  /** Set when a lesson captures this iteration: the algorithm writes its stages 3 and 4 here, and the update its steps. */
  record?: AlgorithmRecorder;
}

/** The update's diagnostics, averaged over its steps. */
export interface AlgorithmStats extends Partial<Record<OptionalMetric, number>> {
  policyLoss: number;
  clipFrac: number;
  approxKl: number;
  /** The KL coefficient this iteration used. */
  beta: number;
  /** Each sample's advantage as trained on (PPO: the sum over its tokens): kept with the sample in the run's history. */
  advantages: number[];
}

/** One algorithm: its advantage step and its update (steps 3 and 4 of an iteration). */
export interface Algorithm {
  id: AlgorithmId;
  step(input: AlgorithmInput): Promise<AlgorithmStats>;
}
