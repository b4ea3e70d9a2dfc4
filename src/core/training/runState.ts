import * as tf from '../tf.ts';
import type { Hyperparameters } from '../hyperparameters.ts';
import type { IterationMetrics } from './metrics.ts';
import { nonFinite } from '../policy/checkpoint.ts';
import type { Policy } from '../policy/policy.ts';
import type { Sample } from '../reward/reward.ts';
import type { BatchProfile } from './collapse.ts';
import type { RunawayHistory } from './runaway.ts';

// What both trainers (the language trainer, trainer.ts, and the control trainer,
// control.ts) hand out and take back: an iteration's result, the run's whole
// state, and moving weights and Adam's moments in and out of plain arrays.

export interface ScoredSample extends Sample {
  reward: number;
  /** Mean per-token log-probability of the completion under the reference policy: how natural it is. */
  refLogprob: number;
  /** Each reward component's value for this sample, before weights (a weight-0 component is a probe: shown, not trained on). */
  components: Record<string, number>;
  /** The advantage it was trained with (PPO: summed over its tokens); absent for a control task's episode. */
  advantage?: number;
  /** Control tasks: the episode this sample stands for (the longest of an iteration keeps its states, for the animation). */
  episode?: Episode;
}

/** A finished episode, for the view and the charts: its length, its return and (for the longest of an iteration) every state. */
export interface Episode {
  length: number;
  return: number;
  /** The states from the first to the last, when kept (the iteration's longest episode). */
  states?: number[][];
  actions?: number[];
  terminated: boolean;
}

/**
 * Everything a run needs to carry on exactly where it was, as plain arrays: on
 * another backend after a lost GPU device, or from a saved run.
 */
export interface TrainerState {
  iteration: number;
  seed: number;
  rng: number[];
  klCoef: number;
  /** Running statistics of the scores, for scoreNormalize (Welford: count, mean, sum of squared deviations). */
  scoreStats: { count: number; mean: number; m2: number };
  /** The first iteration's batch profile, which the collapse alarm compares against. */
  firstProfile: BatchProfile | null;
  /** What the runaway alarm remembers: the first iteration and the last few. */
  runaway?: RunawayHistory | null;
  hyperparameters: Hyperparameters;
  /** Policy weights by checkpoint name. */
  weights: Record<string, { shape: number[]; values: Float32Array }>;
  /** Adam's step count and moments, in the optimizer's own order (its weights follow the policy's order). */
  optimizer: { name: string; shape: number[]; values: Float32Array | Int32Array }[];
  /** Control tasks: each environment's state and its episode so far, so a resumed run continues the same episodes. */
  lanes?: { state: number[]; t: number; return: number }[];
}

export interface IterationResult {
  metrics: IterationMetrics;
  samples: ScoredSample[];
}

/** The policy's weights and the optimizer's state (Adam's step and moments) as plain arrays: what a state carries of the learning. */
export async function readLearning(policy: Pick<Policy, 'weights'>, optimizer: tf.Optimizer): Promise<Pick<TrainerState, 'weights' | 'optimizer'>> {
  const weights: TrainerState['weights'] = {};
  for (const [name, v] of policy.weights) weights[name] = { shape: v.shape, values: (await v.data()) as Float32Array };
  const saved: TrainerState['optimizer'] = [];
  for (const w of await optimizer.getWeights()) {
    saved.push({ name: w.name, shape: w.tensor.shape, values: (await w.tensor.data()) as Float32Array | Int32Array });
    if (w.name === 'iter') w.tensor.dispose(); // a fresh scalar; the moments are the optimizer's own variables
  }
  return { weights, optimizer: saved };
}

/** Sets the policy's weights from plain arrays; weights that do not fit are refused before any is set. */
export function assignWeights(policy: Pick<Policy, 'weights'>, weights: TrainerState['weights']): void {
  const fit = policyFit(policy, weights) ?? Object.entries(weights).map(([name, w]) => nonFinite(name, w.values)).find((x) => x !== null);
  if (fit) throw new Error(fit);
  for (const [name, v] of policy.weights) {
    const w = weights[name];
    tf.tidy(() => v.assign(tf.tensor(w.values, w.shape)));
  }
}

/** Puts saved state into a fresh optimizer (none saved: it starts afresh). */
export async function restoreOptimizer(optimizer: tf.Optimizer, saved: TrainerState['optimizer']): Promise<void> {
  if (saved.length === 0) return;
  const tensors = saved.map((w) => ({ name: w.name, tensor: tf.tensor(w.values, w.shape, w.values instanceof Int32Array ? 'int32' : 'float32') }));
  await optimizer.setWeights(tensors);
  tf.dispose(tensors.map((t) => t.tensor));
}

/** Why these weights do not fit the policy (a tensor missing, of another shape, or one too many), or null when they do. */
export function policyFit(policy: Pick<Policy, 'weights'>, weights: Readonly<Record<string, { shape: number[] }>>): string | null {
  for (const [name, v] of policy.weights) {
    const w = weights[name];
    if (!w) return `it has no tensor ${name}, which this policy needs`;
    if (w.shape.join(',') !== v.shape.join(',')) return `its tensor ${name} is [${w.shape}], this policy needs [${v.shape}]`;
  }
  const extra = Object.keys(weights).find((name) => !policy.weights.has(name));
  return extra ? `it has a tensor ${extra} that this policy does not have` : null;
}
