import * as tf from '../tf.ts';
import type { Algorithm, AlgorithmInput, AlgorithmStats } from './algorithm.ts';
import { actionMask, evaluateActions, maskedMean, maskedRowSum } from './masked.ts';
import { minibatchTensors, minibatchUpdate } from './minibatch.ts';
import { rlooHostLoss } from './hostLosses.ts';
import { hostLossApplies } from './hostLoss.ts';
import type { Hyperparameters } from '../hyperparameters.ts';
import type { Policy } from '../policy/policy.ts';
import type { Rollout } from './algorithm.ts';

/**
 * RLOO (Ahmadian et al. 2024, "Back to Basics"), as TRL's RLOOTrainer computes
 * it: the KL to the reference (k1, summed per completion, under the policy that
 * sampled) is subtracted from the score with weight beta; each completion's
 * baseline is the mean reward of the other G - 1 in its group; the update is a
 * clipped surrogate on the ratio of whole sequences. Read `rloo.step` top to bottom.
 */

/**
 * Each completion's KL as the penalty counts it: as summed (TRL's), or, for
 * 'mean', its mean per token times the batch's mean length, so that every
 * completion pays at the same length and dropping tokens saves nothing.
 */
export function penalisedKl(kl: ArrayLike<number>, lengths: ArrayLike<number>, how: 'sum' | 'mean'): ArrayLike<number> {
  if (how === 'sum') return kl;
  const B = lengths.length;
  let total = 0;
  for (let b = 0; b < B; b++) total += lengths[b];
  const meanLength = total / B;
  return Float64Array.from({ length: B }, (_, b) => (lengths[b] > 0 ? (kl[b] / lengths[b]) * meanLength : 0));
}

/** Rewards (score - beta * KL), leave-one-out baselines and advantages; groups are G consecutive completions. */
export function rlooAdvantages(scores: readonly number[], kl: ArrayLike<number>, beta: number, G: number, normalize: boolean) {
  const B = scores.length;
  const rewards = new Float64Array(B);
  for (let b = 0; b < B; b++) rewards[b] = scores[b] - beta * kl[b];
  const baseline = new Float64Array(B);
  const advantages = new Float32Array(B);
  for (let g = 0; g < B / G; g++) {
    let sum = 0;
    for (let i = 0; i < G; i++) sum += rewards[g * G + i];
    for (let i = 0; i < G; i++) {
      const b = g * G + i;
      baseline[b] = (sum - rewards[b]) / (G - 1);
      advantages[b] = rewards[b] - baseline[b];
    }
  }
  if (normalize) {
    const mean = advantages.reduce((a, b) => a + b, 0) / B;
    const std = Math.sqrt(advantages.reduce((a, b) => a + (b - mean) ** 2, 0) / (B - 1));
    for (let b = 0; b < B; b++) advantages[b] = (advantages[b] - mean) / (std + 1e-8);
  }
  return { rewards, baseline, advantages };
}

/** The clipped surrogate on sequence-level ratios exp(sum logp - sum old logp). logprob, oldLogprob, mask: [mb, N]; advantages: [mb]. */
export function rlooLoss(logprob: tf.Tensor2D, oldLogprob: tf.Tensor2D, advantages: tf.Tensor1D, mask: tf.Tensor2D, epsilon: number) {
  const logratio = tf.sub(maskedRowSum(logprob, mask), maskedRowSum(oldLogprob, mask)); // [mb]
  const ratio = tf.exp(logratio);
  const pg_losses = tf.mul(tf.neg(advantages), ratio);
  const pg_losses2 = tf.mul(tf.neg(advantages), tf.clipByValue(ratio, 1 - epsilon, 1 + epsilon));
  const loss = tf.mean(tf.maximum(pg_losses, pg_losses2)) as tf.Scalar;
  const clipfrac = tf.mean(tf.cast(tf.greater(pg_losses2, pg_losses), 'float32')) as tf.Scalar;
  const approx_kl = tf.mean(tf.sub(tf.sub(ratio, 1), logratio)) as tf.Scalar;
  return { loss, clipfrac, approx_kl };
}

/** One minibatch's RLOO loss (rlooLoss minus the entropy bonus) and its diagnostics, with tfjs's ops. */
export function rlooMinibatchLoss(policy: Policy, rollout: Rollout, rows: number[], advantages: Float32Array, mask: Float32Array, h: Hyperparameters) {
  const mb = minibatchTensors(rollout, rows, { logprobs: rollout.logprobs, mask });
  const mbAdvantages = tf.tensor1d(rows.map((r) => advantages[r]));
  const { logprob, entropy } = evaluateActions(policy, mb.tokens, rollout.start, mb.N, h.temperature, h.topK, mb.pad, mb.real);
  const out = rlooLoss(logprob, mb.logprobs, mbAdvantages, mb.mask, h.clipRange);
  const loss = out.loss.sub(maskedMean(entropy, mb.mask).mul(h.entropyCoef)) as tf.Scalar;
  return { loss, diagnostics: { loss: out.loss, approx_kl: out.approx_kl, clipfrac: out.clipfrac }, logprob };
}

export const rloo: Algorithm = {
  id: 'rloo',
  async step({ policy, optimizer, rollout, scores, h, rng, kl, record }: AlgorithmInput): Promise<AlgorithmStats> {
    const { N, lengths } = rollout;
    // 3. Advantages: KL in the reward, then each completion against the others of its group.
    const counted = penalisedKl(kl, lengths, h.rlooKl);
    const { advantages, rewards, baseline } = rlooAdvantages(scores, counted, h.rlooBeta, h.groupSize, h.rlooNormalizeAdvantages);
    if (record) {
      record.rewards = { kind: 'rloo', penalisedKl: Float64Array.from(counted), rewards, baseline };
      record.advantages = { raw: advantages, trained: advantages };
    }
    const mask = actionMask(lengths, N);

    // 4. Update: the clipped surrogate on whole-sequence ratios; the value head rests.
    const host = hostLossApplies(policy, h);
    const stats = await minibatchUpdate(
      policy,
      optimizer,
      lengths.length,
      h,
      rng,
      { withValueHead: false, names: ['loss', 'approx_kl', 'clipfrac'], record: record?.update },
      // On backends whose numbers this process holds, the same loss in JS (hostLosses.ts), in a few kernels.
      (rows) => (host ? rlooHostLoss(policy, rollout, rows, advantages, h, !!record) : rlooMinibatchLoss(policy, rollout, rows, advantages, mask, h)),
    );

    // 5. Report.
    return { policyLoss: stats.loss, approxKl: stats.approx_kl, clipFrac: stats.clipfrac, beta: h.rlooBeta, advantages: Array.from(advantages) };
  },
};
