import * as tf from '../tf.ts';
import type { Hyperparameters } from '../hyperparameters.ts';
import type { Policy } from '../policy.ts';
import type { Rng } from '../rng.ts';

/**
 * What every algorithm here shares for a language policy: log-probabilities of
 * the taken tokens, masked means, whitening, and the update loop (shuffled
 * minibatches, global grad-norm clipping, Adam).
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
 */
export function evaluateActions(policy: Policy, tokens: tf.Tensor2D, start: number, N: number, temperature: number, topK: number, pad: Int32Array) {
  const B = tokens.shape[0];
  const { logits, values } = policy.forward(tokens.slice([0, 0], [B, start + N - 1]), pad); // [B, T', V], [B, T']
  const V = logits.shape[2];
  let actLogits = logits.slice([0, start - 1, 0], [B, N, V]).div(temperature) as tf.Tensor3D; // [B, N, V]
  if (topK > 0 && topK < V) {
    const kth = tf.topk(actLogits, topK).values.slice([0, 0, topK - 1], [B, N, 1]); // [B, N, 1]
    actLogits = tf.where(tf.less(actLogits, kth), tf.fill(actLogits.shape, -1e9), actLogits);
  }
  const logp = tf.logSoftmax(actLogits); // [B, N, V]
  const actions = tokens.slice([0, start], [B, N]); // [B, N]
  const logprob = tf.sum(tf.mul(logp, tf.oneHot(actions, V)), -1) as tf.Tensor2D; // [B, N]
  // Masked logits are -1e9, not -Infinity: exp(logp) * logp is 0 there, never NaN.
  const entropy = tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), -1)) as tf.Tensor2D; // [B, N]
  const value = values.slice([0, start - 1], [B, N]) as tf.Tensor2D; // [B, N]
  return { logprob, entropy, value };
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

/** Sum over each row's masked entries: [B, N] -> [B]. */
export function maskedRowSum(x: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.where(tf.greater(mask, 0), x, tf.zerosLike(x)), 1) as tf.Tensor1D;
}

/** Shift to zero mean and scale to unit variance over the masked entries (unbiased variance, eps 1e-8, as in TRL). */
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

/** KL to the reference per completion (k1: the sum of logp - logp_ref over its tokens), in nats. */
export function klPerSequence(logprobs: Float32Array, refLogprobs: Float32Array, lengths: Int32Array, N: number): Float32Array {
  const kl = new Float32Array(lengths.length);
  for (let b = 0; b < lengths.length; b++) for (let t = 0; t < lengths[b]; t++) kl[b] += logprobs[b * N + t] - refLogprobs[b * N + t];
  return kl;
}

/** The weights of the value head, in both architectures. */
export const VALUE_HEAD: readonly string[] = ['wv', 'bv'];

/** One minibatch's loss and its named diagnostics (scalars), built inside the gradient tape. */
export type MinibatchLoss<K extends string> = (rows: number[]) => { loss: tf.Scalar; diagnostics: Record<K, tf.Scalar> };

/**
 * E epochs x M shuffled minibatches of `lossOf`, each followed by a global
 * grad-norm clip (on device: no read-back) and an Adam step; with `targetKl`,
 * no further epoch once an epoch's mean `approx_kl` passed it. Returns each
 * diagnostic averaged over the steps. Every trainable weight must receive a
 * gradient: a weight the loss does not reach is a bug, not a detail.
 */
export async function minibatchUpdate<K extends string>(
  policy: Policy,
  optimizer: tf.Optimizer,
  B: number,
  h: Hyperparameters,
  rng: Rng,
  opts: { withValueHead: boolean; names: readonly K[] },
  lossOf: MinibatchLoss<K>,
): Promise<Record<K, number>> {
  const names = opts.names;
  const stopOn = names.indexOf('approx_kl' as K);
  const mbSize = B / h.minibatches;
  // Critic-free algorithms leave the value head alone: it gets no gradient, so it takes no step.
  const vars = [...policy.weights].filter(([name, v]) => v.trainable && (opts.withValueHead || !VALUE_HEAD.includes(name))).map(([, v]) => v);
  const sums = new Float64Array(names.length);
  let steps = 0;
  for (let epoch = 0; epoch < h.epochs; epoch++) {
    const b_inds = rng.permutation(B);
    let epochKl = 0;
    for (let m = 0; m < h.minibatches; m++) {
      const mb_inds = b_inds.slice(m * mbSize, (m + 1) * mbSize);
      const stats = tf.tidy(() => {
        let diagnostics!: tf.Tensor1D;
        const { value: loss, grads } = tf.variableGrads(() => {
          const out = lossOf(mb_inds);
          diagnostics = tf.keep(tf.stack(names.map((n) => out.diagnostics[n])) as tf.Tensor1D);
          return out.loss;
        }, vars);
        const missing = vars.filter((v) => !grads[v.name]);
        if (missing.length) throw new Error(`no gradient reached ${missing.map((v) => v.name).join(', ')}`);
        const globalNorm = tf.sqrt(tf.addN(vars.map((v) => tf.sum(tf.square(grads[v.name])))));
        const scale = tf.minimum(1, tf.div(h.maxGradNorm, tf.add(globalNorm, 1e-6)));
        const clipped: tf.NamedTensorMap = {};
        for (const v of vars) clipped[v.name] = tf.mul(grads[v.name], scale);
        optimizer.applyGradients(clipped);
        loss.dispose();
        return diagnostics;
      });
      const d = await stats.data();
      stats.dispose();
      names.forEach((_, i) => (sums[i] += d[i]));
      if (stopOn >= 0) epochKl += d[stopOn] / h.minibatches;
      steps++;
    }
    // Early stop (cleanrl's target_kl): the policy moved as far from the sampling one as this batch should take it.
    if (h.targetKl > 0 && epochKl > h.targetKl) break;
  }
  return Object.fromEntries(names.map((n, i) => [n, sums[i] / steps])) as Record<K, number>;
}

/**
 * The minibatch's rows of the batch as tensors: tokens [mb, start + n] and each
 * per-action array [mb, n], where n is the minibatch's own longest completion
 * (positions past it are padding in every row, so leaving them out changes no
 * masked loss, only the arithmetic spent on it).
 */
export function minibatchTensors<K extends string>(batch: SampledBatch, rows: readonly number[], perAction: Record<K, Float32Array>): { tokens: tf.Tensor2D; pad: Int32Array; N: number } & Record<K, tf.Tensor2D> {
  const n = Math.max(1, ...rows.map((r) => batch.lengths[r]));
  const width = batch.start + n;
  const shape: [number, number] = [rows.length, n];
  const tokens = tf.tensor2d(pickColumns(batch.tokens, batch.width, rows, width), [rows.length, width], 'int32');
  const out = {} as Record<K, tf.Tensor2D>;
  for (const k of Object.keys(perAction) as K[]) out[k] = tf.tensor2d(pickColumns(perAction[k], batch.N, rows, n), shape);
  return { tokens, pad: Int32Array.from(rows, (r) => batch.pad[r]), N: n, ...out };
}

/** The first `keep` columns of the given rows of a row-major [*, width] array. */
function pickColumns<A extends Float32Array | Int32Array>(a: A, width: number, rows: readonly number[], keep: number): A {
  const out = new (a.constructor as new (n: number) => A)(rows.length * keep);
  rows.forEach((r, i) => out.set(a.subarray(r * width, r * width + keep), i * keep));
  return out;
}
