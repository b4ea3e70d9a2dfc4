import * as tf from '../tf.ts';
import type { Hyperparameters } from '../hyperparameters.ts';
import type { Policy } from '../policy/policy.ts';
import type { Rng } from '../rng.ts';
import type { RealActions, SampledBatch } from './masked.ts';
import type { UpdateRecorder } from './lesson.ts';
import { FusedAdam } from '../ops/adam.ts';
import { hostMaths } from '../ops/hostMaths.ts';

/**
 * The update every language algorithm here runs: E epochs of shuffled
 * minibatches, a global grad-norm clip and an Adam step each (the control
 * trainer takes the same step), and a minibatch's rows as tensors.
 */

/** The weights of the value head, in both architectures. */
export const VALUE_HEAD: readonly string[] = ['wv', 'bv'];

/**
 * One minibatch's loss and its named diagnostics (scalars), built inside the
 * gradient tape; `logprob` ([mb, n], the taken actions under the policy before
 * this step) is read only when a lesson records the update.
 */
export type MinibatchLoss<K extends string> = (rows: number[]) => { loss: tf.Scalar; diagnostics: Record<K, tf.Scalar> | Record<K, number>; logprob?: tf.Tensor2D };

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
  opts: { withValueHead: boolean; names: readonly K[]; record?: UpdateRecorder },
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
      let recorded: tf.Tensor[] = [];
      let numbers: number[] | null = null; // diagnostics a loss computed as numbers (hostLosses.ts), not tensors
      let diagnostics: tf.Tensor1D | null = null;
      tf.tidy(() => {
        let logprob: tf.Tensor2D | undefined;
        const { value: loss, grads } = tf.variableGrads(() => {
          const out = lossOf(mb_inds);
          const ds = names.map((n) => out.diagnostics[n]);
          if (ds.every((d) => typeof d === 'number')) numbers = ds;
          else diagnostics = tf.keep(tf.stack(ds as tf.Scalar[]) as tf.Tensor1D);
          if (opts.record && out.logprob) logprob = tf.keep(out.logprob);
          return out.loss;
        }, vars);
        const missing = vars.filter((v) => !grads[v.name]);
        if (missing.length) throw new Error(`no gradient reached ${missing.map((v) => v.name).join(', ')}`);
        const norm = clippedStep(optimizer, vars, grads, h.maxGradNorm);
        if (opts.record) recorded = [tf.keep(stepNumbers(loss, norm)), ...(logprob ? [logprob] : [])];
        loss.dispose();
      });
      const d: ArrayLike<number> = numbers ?? (await diagnostics!.data());
      tf.dispose(diagnostics ?? []);
      if (opts.record) await recordStep(opts.record, recorded, epoch, m, mb_inds, Object.fromEntries(names.map((n, i) => [n, d[i]])));
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
 * Scales the gradients so their global norm is at most `maxNorm` (on device: no
 * read-back), then takes the optimizer's step. Inside a tidy. Returns the norm
 * before the clip and the scale applied (tensors, for a lesson to read).
 */
export function clippedStep(optimizer: tf.Optimizer, vars: readonly tf.Variable[], grads: tf.NamedTensorMap, maxNorm: number): { globalNorm: tf.Scalar; scale: tf.Scalar } {
  if (hostMaths()) return hostClippedStep(optimizer, vars, grads, maxNorm); // the same step, its norm summed in JS
  const globalNorm = tf.sqrt(tf.addN(vars.map((v) => tf.sum(tf.square(grads[v.name]))))) as tf.Scalar;
  const scale = tf.minimum(1, tf.div(maxNorm, tf.add(globalNorm, 1e-6))) as tf.Scalar;
  const clipped: tf.NamedTensorMap = {};
  for (const v of vars) clipped[v.name] = tf.mul(grads[v.name], scale);
  optimizer.applyGradients(clipped);
  return { globalNorm, scale };
}

/**
 * clippedStep where the gradients' numbers are in this process (ops/hostMaths.ts):
 * the norm summed in float64 from a copy of each gradient, and the scale taken
 * by Adam's kernel where it can (no product per weight): three kernels per
 * weight fewer than the tensor path, which rounds the norm in float32.
 */
function hostClippedStep(optimizer: tf.Optimizer, vars: readonly tf.Variable[], grads: tf.NamedTensorMap, maxNorm: number): { globalNorm: tf.Scalar; scale: tf.Scalar } {
  let squares = 0;
  for (const v of vars) {
    const g = grads[v.name].dataSync();
    for (let i = 0; i < g.length; i++) squares += g[i] * g[i];
  }
  const norm = Math.sqrt(squares);
  const scale = Math.fround(Math.min(1, maxNorm / (norm + 1e-6)));
  const ordered: tf.NamedTensorMap = {};
  for (const v of vars) ordered[v.name] = grads[v.name];
  if (optimizer instanceof FusedAdam && FusedAdam.scalesGradients()) optimizer.applyGradients(ordered as Parameters<FusedAdam['applyGradients']>[0], scale);
  else {
    if (scale !== 1) for (const v of vars) ordered[v.name] = tf.mul(ordered[v.name], scale);
    optimizer.applyGradients(ordered);
  }
  return { globalNorm: tf.scalar(norm), scale: tf.scalar(scale) };
}

/** A step's loss and its gradient's norm before and after the clip, as one tensor: what a lesson records of it. */
export function stepNumbers(loss: tf.Scalar, norm: { globalNorm: tf.Scalar; scale: tf.Scalar }): tf.Tensor1D {
  return tf.stack([loss, norm.globalNorm, tf.mul(norm.globalNorm, norm.scale)]) as tf.Tensor1D;
}

/**
 * A lesson's record of one step: its loss and norms (`tensors[0]`: [loss, norm
 * before, norm after]), and its rows' log-probabilities before the step
 * (`tensors[1]`, [mb, n]; the last step a row is in wins). Disposes the tensors.
 */
export async function recordStep(record: UpdateRecorder, tensors: tf.Tensor[], epoch: number, minibatch: number, rows: number[], diagnostics: Record<string, number>): Promise<void> {
  const n = tensors[1]?.shape[1] ?? 0;
  const [numbers, logprob] = await Promise.all(tensors.map((t) => t.data()));
  tf.dispose(tensors);
  record.steps.push({ epoch, minibatch, rows: [...rows], loss: numbers[0], diagnostics, gradNorm: numbers[1], clippedNorm: numbers[2] });
  if (!logprob) return;
  rows.forEach((r, i) => record.lastLogprobs.set(logprob.subarray(i * n, (i + 1) * n) as Float32Array, r * record.N));
}

/**
 * The minibatch's rows of the batch as tensors: tokens [mb, start + n] and each
 * per-action array [mb, n], where n is the minibatch's own longest completion
 * (positions past it are padding in every row, so leaving them out changes no
 * masked loss, only the arithmetic spent on it).
 */
export function minibatchTensors<K extends string>(batch: SampledBatch, rows: readonly number[], perAction: Record<K, Float32Array>): { tokens: tf.Tensor2D; pad: Int32Array; N: number; real: RealActions } & Record<K, tf.Tensor2D> {
  const n = Math.max(1, ...rows.map((r) => batch.lengths[r]));
  const width = batch.start + n;
  const shape: [number, number] = [rows.length, n];
  const data = pickColumns(batch.tokens, batch.width, rows, width);
  const tokens = tf.tensor2d(data, [rows.length, width], 'int32');
  const out = {} as Record<K, tf.Tensor2D>;
  for (const k of Object.keys(perAction) as K[]) out[k] = tf.tensor2d(pickColumns(perAction[k], batch.N, rows, n), shape);
  return { tokens, pad: Int32Array.from(rows, (r) => batch.pad[r]), N: n, real: { tokens: data, lengths: Int32Array.from(rows, (r) => batch.lengths[r]) }, ...out };
}

/** The first `keep` columns of the given rows of a row-major [*, width] array. */
export function pickColumns<A extends Float32Array | Int32Array>(a: A, width: number, rows: readonly number[], keep: number): A {
  const out = new (a.constructor as new (n: number) => A)(rows.length * keep);
  rows.forEach((r, i) => out.set(a.subarray(r * width, r * width + keep), i * keep));
  return out;
}
