import * as tf from '../tf.ts';
import type { Hyperparameters } from '../hyperparameters.ts';
import type { Algorithm, AlgorithmInput, AlgorithmStats } from './algorithm.ts';
import { actionMask, evaluateActions, maskedMean, maskedOut } from './masked.ts';
import { minibatchTensors, minibatchUpdate } from './minibatch.ts';
import { grpoHostLoss } from './hostLosses.ts';
import { hostLossApplies } from './hostLoss.ts';
import type { Policy } from '../policy/policy.ts';
import type { Rollout } from './algorithm.ts';

/**
 * GRPO (Shao et al. 2024, DeepSeekMath), as TRL's GRPOTrainer computes it: G
 * completions per prompt, each scored against its group's mean (no value head),
 * a per-token clipped surrogate, and the k3 KL to the reference added to the
 * loss with weight beta. Read `grpo.step` top to bottom.
 */

/** Each completion's group mean and the divisor of its advantage: its group's, the batch's or no std (Bessel-corrected, + 1e-4). */
export function groupBaselines(rewards: readonly number[], G: number, scale: Hyperparameters['grpoScale']): { mean: Float64Array; divisor: Float64Array } {
  const mean = new Float64Array(rewards.length);
  const divisor = new Float64Array(rewards.length);
  const std = (xs: readonly number[]) => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
  };
  const batchStd = std(rewards);
  for (let g = 0; g < rewards.length / G; g++) {
    const group = rewards.slice(g * G, (g + 1) * G);
    const m = group.reduce((a, b) => a + b, 0) / G;
    const div = scale === 'group' ? std(group) + 1e-4 : scale === 'batch' ? batchStd + 1e-4 : 1;
    mean.fill(m, g * G, (g + 1) * G);
    divisor.fill(div, g * G, (g + 1) * G);
  }
  return { mean, divisor };
}

/** Advantage of each completion: its reward minus its group's mean, over the divisor groupBaselines gives. */
export function groupAdvantages(rewards: readonly number[], G: number, scale: Hyperparameters['grpoScale']): Float32Array {
  const { mean, divisor } = groupBaselines(rewards, G, scale);
  return Float32Array.from(rewards, (r, b) => (r - mean[b]) / divisor[b]);
}

/** The share of groups whose rewards are all equal: they carry no signal (every advantage is 0). */
export function equalGroupFraction(rewards: readonly number[], G: number): number {
  let equal = 0;
  const groups = rewards.length / G;
  for (let g = 0; g < groups; g++) if (rewards.slice(g * G, (g + 1) * G).every((r) => r === rewards[g * G])) equal++;
  return equal / groups;
}

/** Per-token k3 estimate of KL(policy || reference): exp(ref - logp) - (ref - logp) - 1, always >= 0. */
export function k3ToReference(logprob: tf.Tensor, refLogprob: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
  const d = mask ? maskedOut(tf.sub(refLogprob, logprob), mask) : tf.sub(refLogprob, logprob);
  return tf.sub(tf.sub(tf.exp(d), d), 1);
}

/**
 * The GRPO loss of a minibatch. logprob, oldLogprob, refLogprob, mask: [mb, N];
 * advantages: [mb]. `tokensPerStep` normalises the dapo loss (the batch's
 * tokens over the minibatches); `maxLength` the dr_grpo loss.
 */
export function grpoLoss(
  logprob: tf.Tensor2D,
  oldLogprob: tf.Tensor2D,
  refLogprob: tf.Tensor2D,
  advantages: tf.Tensor1D,
  mask: tf.Tensor2D,
  o: {
    beta: number;
    epsilon: number;
    lossType: Hyperparameters['grpoLossType'];
    maxLength: number;
    tokensPerStep: number;
    /** The log-probabilities under the whole distribution, for the KL term when top-k masks `logprob` (see evaluateActions). */
    fullLogprob?: tf.Tensor2D;
  },
) {
  const A = advantages.expandDims(1); // [mb, 1]
  // 0 on padding before exp (see clippedSurrogate in ppo.ts).
  const logratio = maskedOut(tf.sub(logprob, oldLogprob), mask);
  const coef_1 = tf.exp(logratio);
  const coef_2 = tf.clipByValue(coef_1, 1 - o.epsilon, 1 + o.epsilon);
  let per_token_loss = tf.neg(tf.minimum(tf.mul(coef_1, A), tf.mul(coef_2, A)));
  if (o.beta !== 0) per_token_loss = tf.add(per_token_loss, tf.mul(o.beta, k3ToReference(o.fullLogprob ?? logprob, refLogprob, mask)));
  const masked = tf.where(tf.greater(mask, 0), per_token_loss, tf.zerosLike(per_token_loss)); // padding can never be NaN here
  const rows = mask.shape[0];
  let loss: tf.Scalar;
  if (o.lossType === 'grpo') loss = tf.mean(tf.div(tf.sum(masked, 1), tf.maximum(tf.sum(mask, 1), 1)));
  else if (o.lossType === 'bnpo') loss = tf.div(tf.sum(masked), tf.maximum(tf.sum(mask), 1));
  else if (o.lossType === 'dr_grpo') loss = tf.div(tf.sum(masked), rows * o.maxLength);
  else loss = tf.div(tf.sum(masked), Math.max(o.tokensPerStep, 1));
  // Clipped where the clip is active for the advantage's sign, as TRL reports it.
  const clipped = tf.logicalOr(tf.logicalAnd(tf.less(coef_1, 1 - o.epsilon), tf.less(A, 0)), tf.logicalAnd(tf.greater(coef_1, 1 + o.epsilon), tf.greater(A, 0)));
  const clipfrac = maskedMean(tf.cast(clipped, 'float32'), mask);
  const approx_kl = maskedMean(tf.sub(tf.sub(coef_1, 1), logratio), mask);
  return { loss, clipfrac, approx_kl };
}

/** One minibatch's GRPO loss (grpoLoss minus the entropy bonus) and its diagnostics, with tfjs's ops. */
export function grpoMinibatchLoss(policy: Policy, rollout: Rollout, rows: number[], advantages: Float32Array, mask: Float32Array, h: Hyperparameters, tokensPerStep: number) {
  const mb = minibatchTensors(rollout, rows, { logprobs: rollout.logprobs, refLogprobs: rollout.refLogprobs, mask });
  const mbAdvantages = tf.tensor1d(rows.map((r) => advantages[r]));
  const { logprob, entropy, fullLogprob } = evaluateActions(policy, mb.tokens, rollout.start, mb.N, h.temperature, h.topK, mb.pad, mb.real);
  const out = grpoLoss(logprob, mb.logprobs, mb.refLogprobs, mbAdvantages, mb.mask, {
    beta: h.grpoBeta,
    epsilon: h.clipRange,
    lossType: h.grpoLossType,
    maxLength: h.maxLength,
    tokensPerStep,
    fullLogprob,
  });
  const loss = out.loss.sub(maskedMean(entropy, mb.mask).mul(h.entropyCoef)) as tf.Scalar;
  return { loss, diagnostics: { loss: out.loss, approx_kl: out.approx_kl, clipfrac: out.clipfrac }, logprob };
}

export const grpo: Algorithm = {
  id: 'grpo',
  async step({ policy, optimizer, rollout, scores, h, rng, record }: AlgorithmInput): Promise<AlgorithmStats> {
    const { N, lengths } = rollout;
    const G = h.groupSize;
    // 3. Advantages: each completion against its group (the Trainer drew G completions per prompt, consecutive).
    const advantages = groupAdvantages(scores, G, h.grpoScale);
    if (record) {
      const { mean, divisor } = groupBaselines(scores, G, h.grpoScale);
      record.rewards = { kind: 'grpo', groupMean: mean, divisor };
      record.advantages = { raw: advantages, trained: advantages };
    }
    const mask = actionMask(lengths, N);
    const tokens = lengths.reduce((a, b) => a + b, 0);

    // 4. Update: the clipped per-token surrogate plus beta * k3 KL to the reference; the value head rests.
    const host = hostLossApplies(policy, h);
    const stats = await minibatchUpdate(
      policy,
      optimizer,
      lengths.length,
      h,
      rng,
      { withValueHead: false, names: ['loss', 'approx_kl', 'clipfrac'], record: record?.update },
      // On backends whose numbers this process holds, the same loss in JS (hostLosses.ts), in a few kernels.
      (rows) => (host ? grpoHostLoss(policy, rollout, rows, advantages, h, tokens / h.minibatches, !!record) : grpoMinibatchLoss(policy, rollout, rows, advantages, mask, h, tokens / h.minibatches)),
    );

    // 5. Report.
    return { policyLoss: stats.loss, approxKl: stats.approx_kl, clipFrac: stats.clipfrac, equalGroupFrac: equalGroupFraction(scores, G), beta: h.grpoBeta, advantages: Array.from(advantages) };
  },
};
