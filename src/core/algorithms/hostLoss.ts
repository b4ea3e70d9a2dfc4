import * as tf from '../tf.ts';
import type { Hyperparameters } from '../hyperparameters.ts';
import type { Policy } from '../policy/policy.ts';
import { hostMaths, softmaxStats, softmaxStatsGrad } from '../ops/hostMaths.ts';
import { realPositions, type SampledBatch } from './masked.ts';
import { pickColumns } from './minibatch.ts';

/**
 * Whether an algorithm's minibatch loss runs in JS: on the wasm and cpu backends
 * (hostMaths), for a policy that evaluates only the real actions (both here),
 * without top-k (whose masked distribution stays with tfjs's ops).
 */
export function hostLossApplies(policy: Policy, h: Pick<Hyperparameters, 'topK'>): boolean {
  return hostMaths() && policy.forwardAt !== undefined && (h.topK === 0 || h.topK >= policy.config.vocabSize);
}

/** A minibatch's real actions (row by row, in the order of `rows`) and what the policy says of them now, as numbers. */
export interface HostActions {
  /** How many real actions, and how many rows. */
  n: number;
  rows: number;
  /** Each row's first action's index, and its number of actions. */
  offsets: Int32Array;
  lengths: Int32Array;
  /** Each action's slot in the batch's per-action arrays ([B * N]): `pick` reads them. */
  at: Int32Array;
  logprob: Float32Array;
  /** The value head's prediction, where the loss asked for it. */
  value: Float32Array | null;
}

/** A loss worked out on numbers (the entropy bonus aside): its value, its gradient to each action's log-probability and value, and diagnostics. */
export interface HostLoss<K extends string> {
  loss: number;
  dLogprob: Float64Array;
  dValue?: Float64Array;
  diagnostics: Record<K, number>;
}

/**
 * A minibatch loss computed in JS (ops/hostMaths.ts) on the real actions of
 * `rows` only: the policy's forward pass at those positions is the only
 * tensor work; the action statistics, `compute`, which turns their numbers
 * into the loss and its gradient, and the entropy bonus are one op on the tape. The masked means of the tensor
 * path are means over the real actions, which is what the mask selects.
 * Returns the loss (a scalar on the tape), the diagnostics, and, when asked
 * (`withLogprob`), the actions' log-probabilities before the step as [rows, n]
 * with zeros on padding, what a lesson records.
 */
export function hostMinibatchLoss<K extends string>(
  policy: Policy,
  batch: SampledBatch,
  rows: readonly number[],
  opts: { temperature: number; entropyCoef: number; withValue: boolean; withLogprob: boolean },
  compute: (a: HostActions) => HostLoss<K>,
): { loss: tf.Scalar; diagnostics: Record<K, number>; logprob?: tf.Tensor2D } {
  const { width, start, N } = batch;
  const tokens = pickColumns(batch.tokens, width, rows, width);
  const lengths = Int32Array.from(rows, (r) => batch.lengths[r]);
  const { n, positions, actions } = realPositions({ tokens, lengths }, width, start);
  const offsets = new Int32Array(rows.length);
  const at = new Int32Array(n);
  for (let i = 0, o = 0; i < rows.length; o += lengths[i], i++) {
    offsets[i] = o;
    for (let t = 0; t < lengths[i]; t++) at[o + t] = rows[i] * N + t;
  }
  const { logits, values } = policy.forwardAt!(tokens, width, positions, Int32Array.from(rows, (r) => batch.pad[r]));
  const V = logits.shape[1];
  let diagnostics!: Record<K, number>;
  let taken!: Float32Array;
  // One op from the logits (and values) to the loss: the action statistics and the loss in one step.
  const inputs = opts.withValue ? [logits, values] : [logits];
  const op = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [z, value] = (args.slice(0, inputs.length) as tf.Tensor[]).map((t) => t.dataSync() as Float32Array);
    const stats = softmaxStats(z, V, actions, opts.temperature);
    // As float32, the numbers the tensor path's losses see.
    taken = Float32Array.from(stats.logprob);
    const out = compute({ n, rows: rows.length, offsets, lengths, at, logprob: taken, value: value ?? null });
    diagnostics = out.diagnostics;
    // The entropy bonus every algorithm subtracts: entropyCoef x the mean entropy over the real actions.
    const count = Math.max(n, 1);
    let entropy = 0;
    for (let i = 0; i < n; i++) entropy += Math.fround(stats.entropy[i]);
    const dEntropy = new Float64Array(n).fill(-opts.entropyCoef / count);
    return {
      value: tf.scalar(out.loss - opts.entropyCoef * (entropy / count)),
      gradFunc: (dy: tf.Tensor) => {
        const s = dy.dataSync()[0];
        const dLogits = tf.tensor2d(softmaxStatsGrad(stats, V, actions, opts.temperature, out.dLogprob, dEntropy, s), [n, V]);
        return opts.withValue ? [dLogits, tf.tensor1d(Float32Array.from(out.dValue!, (x) => x * s))] : [dLogits];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const loss = op(...inputs) as tf.Scalar;
  let rowsLogprob: tf.Tensor2D | undefined;
  if (opts.withLogprob) {
    const width = Math.max(1, ...lengths);
    const out = new Float32Array(rows.length * width);
    for (let i = 0; i < rows.length; i++) out.set(taken.subarray(offsets[i], offsets[i] + lengths[i]), i * width);
    rowsLogprob = tf.tensor2d(out, [rows.length, width]);
  }
  return { loss, diagnostics, logprob: rowsLogprob };
}

/** The batch's per-action numbers ([B * N]) at the minibatch's real actions, as float64. */
export function pick(a: HostActions, perAction: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.n);
  for (let i = 0; i < a.n; i++) out[i] = perAction[a.at[i]];
  return out;
}
