import * as tf from '@tensorflow/tfjs';
import type { Hyperparameters } from './hyperparameters.ts';
import type { Policy } from './policy.ts';
import type { Rng } from './rng.ts';

/**
 * PPO for a language policy, in the names of Schulman et al. 2017 and cleanrl's
 * ppo.py, with the per-token KL penalty of Ziegler et al. 2019 / InstructGPT.
 *
 * Layout: a batch holds B completions of up to N actions (tokens). Per-action
 * arrays are Float32Array [B * N], row-major; `lengths[b]` says how many of row
 * b's N actions are real (the rest is masked padding).
 */

/** Per-token rewards: -beta * (logp - logp_ref) on every action, plus the score on the last one. */
export function perTokenRewards(scores: ArrayLike<number>, logprobs: Float32Array, refLogprobs: Float32Array, lengths: Int32Array, N: number, beta: number) {
  const B = lengths.length;
  const rewards = new Float32Array(B * N);
  const kl = new Float32Array(B); // summed over the completion: log p(y)/p_ref(y)
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < lengths[b]; t++) {
      const i = b * N + t;
      const klt = logprobs[i] - refLogprobs[i];
      kl[b] += klt;
      rewards[i] = -beta * klt;
    }
    if (lengths[b] > 0) rewards[b * N + lengths[b] - 1] += scores[b];
  }
  return { rewards, kl };
}

/** Generalised advantage estimation (Schulman et al. 2016); the value after the last action is 0. */
export function computeGae(rewards: Float32Array, values: Float32Array, lengths: Int32Array, N: number, gamma: number, lambda: number) {
  const advantages = new Float32Array(rewards.length);
  const returns = new Float32Array(rewards.length);
  for (let b = 0; b < lengths.length; b++) {
    let lastgaelam = 0;
    for (let t = lengths[b] - 1; t >= 0; t--) {
      const i = b * N + t;
      const nextvalue = t + 1 < lengths[b] ? values[i + 1] : 0;
      const delta = rewards[i] + gamma * nextvalue - values[i];
      lastgaelam = delta + gamma * lambda * lastgaelam;
      advantages[i] = lastgaelam;
      returns[i] = advantages[i] + values[i];
    }
  }
  return { advantages, returns };
}

/** 1 on real actions, 0 on padding: [B * N]. */
export function actionMask(lengths: Int32Array, N: number): Float32Array {
  const mask = new Float32Array(lengths.length * N);
  lengths.forEach((n, b) => mask.fill(1, b * N, b * N + n));
  return mask;
}

/** Shift to zero mean and scale to unit variance over the masked entries (unbiased variance, as in TRL). */
export function whiten(x: Float32Array, mask: Float32Array): Float32Array {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < x.length; i++) if (mask[i]) { n++; sum += x[i]; }
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < x.length; i++) if (mask[i]) ss += (x[i] - mean) ** 2;
  const variance = n > 1 ? ss / (n - 1) : 0;
  const inv = 1 / Math.sqrt(variance + 1e-8);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) if (mask[i]) out[i] = (x[i] - mean) * inv;
  return out;
}

/** 1 - Var(returns - values) / Var(returns) over the masked entries: how much of the return the value head explains. */
export function explainedVariance(values: Float32Array, returns: Float32Array, mask: Float32Array): number {
  const stats = (f: (i: number) => number) => {
    let n = 0, s = 0, ss = 0;
    for (let i = 0; i < mask.length; i++) if (mask[i]) { const v = f(i); n++; s += v; ss += v * v; }
    return n ? ss / n - (s / n) ** 2 : 0;
  };
  const varY = stats((i) => returns[i]);
  return varY === 0 ? NaN : 1 - stats((i) => returns[i] - values[i]) / varY;
}

export function maskedMean(x: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.div(tf.sum(tf.mul(x, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}

/** The clipped surrogate objective, as a loss (to minimise), with its diagnostics. */
export function clippedSurrogate(newlogprob: tf.Tensor, oldlogprob: tf.Tensor, advantages: tf.Tensor, mask: tf.Tensor, clipCoef: number) {
  const logratio = tf.sub(newlogprob, oldlogprob);
  const ratio = tf.exp(logratio);
  const pg_loss1 = tf.mul(tf.neg(advantages), ratio);
  const pg_loss2 = tf.mul(tf.neg(advantages), tf.clipByValue(ratio, 1 - clipCoef, 1 + clipCoef));
  const pg_loss = maskedMean(tf.maximum(pg_loss1, pg_loss2), mask);
  // http://joschu.net/blog/kl-approx.html: k3 = (r - 1) - log r, unbiased and always >= 0.
  const approx_kl = maskedMean(tf.sub(tf.sub(ratio, 1), logratio), mask);
  const clipfrac = maskedMean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), clipCoef), 'float32'), mask);
  return { pg_loss, approx_kl, clipfrac };
}

/** Value loss, clipped around the rollout's values so one update cannot move them far. */
export function clippedValueLoss(newvalue: tf.Tensor, oldvalue: tf.Tensor, returns: tf.Tensor, mask: tf.Tensor, clipCoef: number): tf.Scalar {
  const v_loss_unclipped = tf.square(tf.sub(newvalue, returns));
  const v_clipped = tf.add(oldvalue, tf.clipByValue(tf.sub(newvalue, oldvalue), -clipCoef, clipCoef));
  const v_loss_clipped = tf.square(tf.sub(v_clipped, returns));
  return tf.mul(0.5, maskedMean(tf.maximum(v_loss_unclipped, v_loss_clipped), mask)) as tf.Scalar;
}

/**
 * Log-probabilities of the taken actions, the policy's entropy and its values,
 * at each action position. tokens [B, T]; actions are tokens[:, start : start+N],
 * each predicted from the position before it.
 */
export function evaluateActions(policy: Policy, tokens: tf.Tensor2D, start: number, N: number, temperature: number) {
  const B = tokens.shape[0];
  const { logits, values } = policy.forward(tokens.slice([0, 0], [B, start + N - 1])); // [B, T', V], [B, T']
  const V = logits.shape[2];
  const actLogits = logits.slice([0, start - 1, 0], [B, N, V]).div(temperature); // [B, N, V]
  const logp = tf.logSoftmax(actLogits); // [B, N, V]
  const actions = tokens.slice([0, start], [B, N]); // [B, N]
  const logprob = tf.sum(tf.mul(logp, tf.oneHot(actions, V)), -1); // [B, N]
  const entropy = tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), -1)); // [B, N]
  const value = values.slice([0, start - 1], [B, N]); // [B, N]
  return { logprob, entropy, value };
}

/** The sampled sequences and what the policy said of them at sampling time; per action [B * N] unless said. */
export interface SampledBatch {
  tokens: Int32Array; // [B, T]
  width: number; // T
  start: number; // column of the first action
  N: number;
  lengths: Int32Array; // [B]
  logprobs: Float32Array;
  values: Float32Array;
}

/** What the update needs: the sampled batch with its advantages and returns. */
export interface Batch extends SampledBatch {
  advantages: Float32Array;
  returns: Float32Array;
  mask: Float32Array;
}

export interface UpdateStats {
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  approxKl: number;
  clipFrac: number;
}

/** E epochs x M shuffled minibatches of the PPO loss, with global grad-norm clipping and Adam. */
export async function ppoUpdate(policy: Policy, optimizer: tf.Optimizer, batch: Batch, h: Hyperparameters, rng: Rng): Promise<UpdateStats> {
  const B = batch.lengths.length;
  const mbSize = B / h.minibatches;
  const vars = [...policy.weights.values()].filter((v) => v.trainable);
  const sums = new Float64Array(5);
  let steps = 0;
  for (let epoch = 0; epoch < h.epochs; epoch++) {
    const b_inds = rng.permutation(B);
    for (let m = 0; m < h.minibatches; m++) {
      const mb_inds = b_inds.slice(m * mbSize, (m + 1) * mbSize);
      const stats = tf.tidy(() => {
        const rows = (a: Float32Array | Int32Array, w: number) => pickRows(a, w, mb_inds);
        const shape: [number, number] = [mbSize, batch.N];
        const tokens = tf.tensor2d(rows(batch.tokens, batch.width), [mbSize, batch.width], 'int32');
        const b_logprobs = tf.tensor2d(rows(batch.logprobs, batch.N), shape);
        const b_values = tf.tensor2d(rows(batch.values, batch.N), shape);
        const b_advantages = tf.tensor2d(rows(batch.advantages, batch.N), shape);
        const b_returns = tf.tensor2d(rows(batch.returns, batch.N), shape);
        const mb_mask = tf.tensor2d(rows(batch.mask, batch.N), shape);
        let diagnostics!: tf.Tensor1D;
        const { value: loss, grads } = tf.variableGrads(() => {
          const { logprob: newlogprob, entropy, value: newvalue } = evaluateActions(policy, tokens, batch.start, batch.N, h.temperature);
          const { pg_loss, approx_kl, clipfrac } = clippedSurrogate(newlogprob, b_logprobs, b_advantages, mb_mask, h.clipRange);
          const v_loss = clippedValueLoss(newvalue, b_values, b_returns, mb_mask, h.valueClipRange);
          const entropy_loss = maskedMean(entropy, mb_mask);
          const loss = pg_loss.sub(entropy_loss.mul(h.entropyCoef)).add(v_loss.mul(h.valueCoef)) as tf.Scalar;
          diagnostics = tf.keep(tf.stack([pg_loss, v_loss, entropy_loss, approx_kl, clipfrac]) as tf.Tensor1D);
          return loss;
        }, vars);
        // Global grad-norm clip, computed on device: no read-back needed.
        const names = Object.keys(grads);
        const globalNorm = tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n])))));
        const scale = tf.minimum(1, tf.div(h.maxGradNorm, tf.add(globalNorm, 1e-6)));
        const clipped: tf.NamedTensorMap = {};
        for (const n of names) clipped[n] = tf.mul(grads[n], scale);
        optimizer.applyGradients(clipped);
        loss.dispose();
        return diagnostics;
      });
      const d = await stats.data();
      stats.dispose();
      for (let i = 0; i < 5; i++) sums[i] += d[i];
      steps++;
    }
  }
  return {
    policyLoss: sums[0] / steps,
    valueLoss: sums[1] / steps,
    entropy: sums[2] / steps,
    approxKl: sums[3] / steps,
    clipFrac: sums[4] / steps,
  };
}

function pickRows<A extends Float32Array | Int32Array>(a: A, width: number, rows: readonly number[]): A {
  const out = new (a.constructor as new (n: number) => A)(rows.length * width);
  rows.forEach((r, i) => out.set(a.subarray(r * width, (r + 1) * width), i * width));
  return out;
}
