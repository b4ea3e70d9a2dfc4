import * as tf from '../tf.ts';
import type { Policy } from '../policy/policy.ts';
import { rowMover } from '../ops/rows.ts';
import { hostActionStats, hostMaths } from '../ops/hostMaths.ts';

/**
 * The masked maths every algorithm here shares for a language policy:
 * log-probabilities of the taken tokens, masked means and sums, whitening, KL
 * per completion (the update loop is in minibatch.ts).
 *
 * Layout: a batch holds B completions of up to N actions (tokens). Per-action
 * arrays are Float32Array [B * N], row-major; `lengths[b]` says how many of row
 * b's N actions are real (the rest is masked padding).
 */

/** The sampled sequences and what the policy said of them at sampling time; per action [B * N] unless said. */
export interface SampledBatch {
  tokens: Int32Array; // [B, T]
  width: number; // T
  start: number; // column of the first action
  N: number;
  lengths: Int32Array; // [B]
  /** Extra start tokens left-padding each row's prompt: [B]. */
  pad: Int32Array;
  logprobs: Float32Array;
  values: Float32Array;
}

/**
 * Log-probabilities of the taken actions, the policy's entropy and its values,
 * at each action position. tokens [B, T]; actions are tokens[:, start : start+N],
 * each predicted from the position before it. With top-k sampling the
 * distribution is the one that sampled: logits outside the k likeliest are
 * masked, so the ratio and the KL compare like with like.
 *
 * `fullLogprob` is the log-probability under the whole distribution (equal to
 * `logprob` without top-k): a sampled token may fall outside the current k
 * likeliest, where a KL estimate to the reference would be infinite.
 *
 * Given `real` (the tokens as numbers and each row's number of actions), a
 * policy that can evaluates only the real actions (the MLP) or only the
 * positions they need (the transformer), and the results are placed into
 * [B, N] with zeros on the padding, which every loss masks.
 */
export function evaluateActions(policy: Policy, tokens: tf.Tensor2D, start: number, N: number, temperature: number, topK: number, pad: Int32Array, real?: RealActions) {
  if (real && policy.forwardAt) return evaluateRealActions(policy, real, tokens.shape[1], start, N, temperature, topK, pad);
  const B = tokens.shape[0];
  const { logits, values } = policy.forward(tokens.slice([0, 0], [B, start + N - 1]), pad); // [B, T', V], [B, T']
  const V = logits.shape[2];
  const actLogits = logits.slice([0, start - 1, 0], [B, N, V]).div(temperature) as tf.Tensor3D; // [B, N, V]
  const actions = tokens.slice([0, start], [B, N]); // [B, N]
  const { logprob, entropy, fullLogprob } = actionStats(actLogits, actions, topK);
  const value = values.slice([0, start - 1], [B, N]) as tf.Tensor2D; // [B, N]
  return { logprob: logprob as tf.Tensor2D, entropy: entropy as tf.Tensor2D, value, fullLogprob: fullLogprob as tf.Tensor2D };
}

/** The rows' tokens as numbers, row-major [B, width], and how many actions each row really has. */
export interface RealActions {
  tokens: Int32Array;
  lengths: Int32Array;
}

/** Log-probabilities of `actions` and the entropy, under logits [..., V] (top-k masked when asked). */
function actionStats(actLogits: tf.Tensor, actions: tf.Tensor, topK: number): { logprob: tf.Tensor; entropy: tf.Tensor; fullLogprob: tf.Tensor } {
  const V = actLogits.shape[actLogits.rank - 1];
  const oneHot = tf.oneHot(actions, V);
  const full = topK > 0 && topK < V ? tf.sum(tf.mul(tf.logSoftmax(actLogits), oneHot), -1) : null;
  if (full) actLogits = topKMasked(actLogits, topK);
  const logp = tf.logSoftmax(actLogits);
  const logprob = tf.sum(tf.mul(logp, oneHot), -1);
  // Masked logits are -1e9, not -Infinity: exp(logp) * logp is 0 there, never NaN.
  const entropy = tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), -1));
  return { logprob, entropy, fullLogprob: full ?? logprob };
}

/**
 * Logits outside each row's k likeliest set to -1e9, as the sampler masks
 * them. The choice of the k is a constant to the gradient (dy passes on the
 * kept logits, 0 on the masked): tfjs has no gradient for the comparison that
 * makes it, and would refuse to differentiate through it.
 */
function topKMasked(x: tf.Tensor, k: number): tf.Tensor {
  const op = tf.customGrad(((logits: tf.Tensor, save: tf.GradSaveFunc) => {
    const top = tf.topk(logits, k).values;
    const kth = tf.slice(top, [...top.shape.slice(0, -1).map(() => 0), k - 1], [...top.shape.slice(0, -1), 1]);
    const keep = tf.cast(tf.greaterEqual(logits, kth), 'float32');
    save([keep]);
    const value = tf.add(tf.mul(logits, keep), tf.mul(tf.sub(1, keep), -1e9));
    return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, saved[0]) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x);
}

/**
 * evaluateActions on the real actions only: n of them instead of B x N. They
 * go back into [B, N] (zeros on the padding) by a row move whose gradient
 * every backend runs (see rowMover).
 */
function evaluateRealActions(policy: Policy, real: RealActions, width: number, start: number, N: number, temperature: number, topK: number, pad: Int32Array) {
  const B = real.lengths.length;
  const { n, positions, actions } = realPositions(real, width, start);
  const realAt = new Int32Array(B * N).fill(n); // which action fills each slot (n: none, a 0)
  for (let b = 0, i = 0; b < B; b++) for (let t = 0; t < real.lengths[b]; t++, i++) realAt[b * N + t] = i;
  const { logits, values } = policy.forwardAt!(real.tokens, width, positions, pad); // [n, V], [n]
  const V = logits.shape[1];
  const { logprob, entropy, fullLogprob } =
    hostMaths() && (topK === 0 || topK >= V)
      ? { ...hostActionStats(logits, actions, temperature), fullLogprob: null }
      : actionStats(tf.div(logits, temperature), tf.tensor1d(actions, 'int32'), topK);
  const move = rowMover(realAt, n);
  const toRows = (x: tf.Tensor) => move(x).reshape([B, N]) as tf.Tensor2D;
  const logprobRows = toRows(logprob);
  return { logprob: logprobRows, entropy: toRows(entropy), value: toRows(values), fullLogprob: fullLogprob === logprob || !fullLogprob ? logprobRows : toRows(fullLogprob) };
}

/** The real actions in order (row by row): how many, where each is predicted from (b * width + column), and the tokens taken. */
export function realPositions(real: RealActions, width: number, start: number): { n: number; positions: Int32Array; actions: Int32Array } {
  const n = real.lengths.reduce((a, b) => a + b, 0);
  const positions = new Int32Array(n);
  const actions = new Int32Array(n);
  for (let b = 0, i = 0; b < real.lengths.length; b++) {
    for (let t = 0; t < real.lengths[b]; t++, i++) {
      positions[i] = b * width + start - 1 + t;
      actions[i] = real.tokens[b * width + start + t];
    }
  }
  return { n, positions, actions };
}

/** 1 on real actions, 0 on padding: [B * N]. */
export function actionMask(lengths: Int32Array, N: number): Float32Array {
  const mask = new Float32Array(lengths.length * N);
  lengths.forEach((n, b) => mask.fill(1, b * N, b * N + n));
  return mask;
}

/** Mean over the masked entries. Padding is selected away with `where`, so a NaN there cannot leak in. */
export function maskedMean(x: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  const kept = tf.where(tf.greater(mask, 0), x, tf.zerosLike(x));
  return tf.div(tf.sum(kept), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}

/** x where the mask is set, 0 on padding (selected with `where`: what padding holds never reaches the result). */
export function maskedOut(x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.where(tf.greater(mask, 0), x, tf.zerosLike(x));
}

/** Sum over each row's masked entries: [B, N] -> [B]. */
export function maskedRowSum(x: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.where(tf.greater(mask, 0), x, tf.zerosLike(x)), 1) as tf.Tensor1D;
}

/** The mean and the scale (1 / std, unbiased variance + 1e-8, as in TRL) over the masked entries: what `whiten` applies. */
export function whitenStats(x: Float32Array, mask: Float32Array): { mean: number; inv: number } {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < x.length; i++) if (mask[i]) { n++; sum += x[i]; }
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < x.length; i++) if (mask[i]) ss += (x[i] - mean) ** 2;
  const variance = n > 1 ? ss / (n - 1) : 0;
  return { mean, inv: 1 / Math.sqrt(variance + 1e-8) };
}

/** Shift to zero mean and scale to unit variance over the masked entries (whitenStats). */
export function whiten(x: Float32Array, mask: Float32Array): Float32Array {
  const { mean, inv } = whitenStats(x, mask);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) if (mask[i]) out[i] = (x[i] - mean) * inv;
  return out;
}

/** KL to the reference per completion (k1: the sum of logp - logp_ref over its tokens), in nats. */
export function klPerSequence(logprobs: Float32Array, refLogprobs: Float32Array, lengths: Int32Array, N: number): Float32Array {
  const kl = new Float32Array(lengths.length);
  for (let b = 0; b < lengths.length; b++) for (let t = 0; t < lengths[b]; t++) kl[b] += logprobs[b * N + t] - refLogprobs[b * N + t];
  return kl;
}
