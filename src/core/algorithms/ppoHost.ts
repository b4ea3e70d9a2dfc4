import * as tf from '../tf.ts';
import type { Hyperparameters } from '../hyperparameters.ts';
import type { Policy } from '../policy/policy.ts';
import { hostActionStats } from '../ops/hostMaths.ts';
import { realPositions, type SampledBatch } from './masked.ts';

/** PPO's diagnostics of one minibatch, as ppo.ts names them. */
export type PpoDiagnostics = Record<'pg_loss' | 'v_loss' | 'approx_kl' | 'clipfrac' | 'v_clipfrac', number>;

/** The per-action numbers the loss compares against, [B * N] each, as the rollout and the advantages left them. */
export interface PpoTargets {
  logprobs: Float32Array;
  values: Float32Array;
  advantages: Float32Array;
  returns: Float32Array;
}

/**
 * PPO's minibatch loss (ppo.ts: the clipped surrogate, the clipped value loss
 * over `scale`, the entropy bonus) on the real actions of `rows` only, its
 * arithmetic in JS (ops/hostMaths.ts): the policy's forward pass and the
 * action statistics are the only tensors, and the loss is one op whose
 * gradient to the log-probabilities, entropies and values was worked out with
 * it. The same loss as the tensor path, to float32 rounding (a unit test
 * compares both, values and gradients); the masked means are means over the
 * real actions, which is what the mask selects. Branches as tfjs's gradients
 * take them: max(a, b) passes to a where a >= b, a clip passes inside its
 * bounds (ends included).
 */
export function ppoHostLoss(policy: Policy, batch: SampledBatch, rows: readonly number[], targets: PpoTargets, h: Hyperparameters, scale: number, withLogprob: boolean) {
  const { width, start, N } = batch;
  const tokens = new Int32Array(rows.length * width);
  rows.forEach((r, i) => tokens.set(batch.tokens.subarray(r * width, (r + 1) * width), i * width));
  const lengths = Int32Array.from(rows, (r) => batch.lengths[r]);
  const { n, positions, actions } = realPositions({ tokens, lengths }, width, start);
  const at = new Int32Array(n); // each real action's slot in the batch's [B * N] arrays
  for (let i = 0, o = 0; i < rows.length; o += lengths[i], i++) for (let t = 0; t < lengths[i]; t++) at[o + t] = rows[i] * N + t;
  const pick = (a: Float32Array) => Float64Array.from(at, (j) => a[j]);
  const [old, adv, ret, oldValue] = [targets.logprobs, targets.advantages, targets.returns, targets.values].map(pick);
  const { logits, values } = policy.forwardAt!(tokens, width, positions, Int32Array.from(rows, (r) => batch.pad[r]));
  const { logprob, entropy } = hostActionStats(logits, actions, h.temperature);
  let diagnostics!: PpoDiagnostics;
  let taken!: Float32Array;
  const clip = h.clipRange;
  const vclip = h.valueClipRange;
  const op = tf.customGrad(((lpT: tf.Tensor, entT: tf.Tensor, valueT: tf.Tensor) => {
    const [lp, ent, value] = [lpT, entT, valueT].map((t) => t.dataSync() as Float32Array);
    taken = lp;
    const count = Math.max(n, 1);
    const dLp = new Float64Array(n);
    const dValue = new Float64Array(n);
    let pg = 0, kl = 0, clipped = 0, vl = 0, vClipped = 0, entSum = 0;
    for (let i = 0; i < n; i++) {
      // The clipped surrogate, as a loss: max(-A r, -A clip(r)), r = exp(logp - logp_old).
      const logratio = lp[i] - old[i];
      const ratio = Math.exp(logratio);
      const a = -adv[i] * ratio;
      const b = -adv[i] * Math.min(Math.max(ratio, 1 - clip), 1 + clip);
      pg += Math.max(a, b);
      dLp[i] = a >= b ? a : 0; // d(-A r)/d logp = -A r; the clipped branch is flat where it is taken
      kl += ratio - 1 - logratio;
      if (Math.abs(ratio - 1) > clip) clipped++;
      // The value loss, clipped around the rollout's value.
      const vu = (value[i] - ret[i]) ** 2;
      if (vclip === 0) {
        vl += vu;
        dValue[i] = 2 * (value[i] - ret[i]);
      } else {
        const move = value[i] - oldValue[i];
        const vc = oldValue[i] + Math.min(Math.max(move, -vclip), vclip);
        const vcu = (vc - ret[i]) ** 2;
        vl += Math.max(vu, vcu);
        dValue[i] = vu >= vcu ? 2 * (value[i] - ret[i]) : Math.abs(move) <= vclip ? 2 * (vc - ret[i]) : 0;
        if (Math.abs(move) > vclip) vClipped++;
      }
      entSum += ent[i];
    }
    diagnostics = { pg_loss: pg / count, v_loss: (0.5 * vl) / count / scale, approx_kl: kl / count, clipfrac: clipped / count, v_clipfrac: vclip === 0 ? 0 : vClipped / count };
    const loss = diagnostics.pg_loss - h.entropyCoef * (entSum / count) + h.valueCoef * diagnostics.v_loss;
    return {
      value: tf.scalar(loss),
      gradFunc: (dy: tf.Tensor) => {
        const s = dy.dataSync()[0] / count;
        const valueScale = (s * h.valueCoef * 0.5) / scale;
        return [
          tf.tensor1d(Float32Array.from(dLp, (d) => d * s)),
          tf.fill([n], -h.entropyCoef * s),
          tf.tensor1d(Float32Array.from(dValue, (d) => d * valueScale)),
        ];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const loss = op(logprob, entropy, values) as tf.Scalar;
  // The taken actions' log-probabilities before this step, [rows, N'] with zeros on padding: what a lesson records.
  let rowsLogprob: tf.Tensor2D | undefined;
  if (withLogprob) {
    const nMax = Math.max(1, ...lengths);
    const out = new Float32Array(rows.length * nMax);
    for (let i = 0, o = 0; i < rows.length; o += lengths[i], i++) out.set(taken.subarray(o, o + lengths[i]), i * nMax);
    rowsLogprob = tf.tensor2d(out, [rows.length, nMax]);
  }
  return { loss, diagnostics, logprob: rowsLogprob };
}
