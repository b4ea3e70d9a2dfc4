import type { Hyperparameters } from '../hyperparameters.ts';
import type { Policy } from '../policy/policy.ts';
import type { SampledBatch } from './masked.ts';
import { hostMinibatchLoss, pick, type HostActions } from './hostLoss.ts';

/**
 * The minibatch losses of ppo.ts, grpo.ts and rloo.ts worked out in JS, with
 * their gradients (hostLoss.ts says where and why, and adds the entropy bonus
 * they share). Each is its tensor twin's
 * loss to float32 rounding (tests/unit/hostMaths.test.ts compares values,
 * diagnostics and gradients). Branches are taken as tfjs's gradients take
 * them: max(a, b) passes to a where a >= b, min(a, b) to a where a <= b, a clip
 * passes inside its bounds (ends included).
 */

/** The per-action numbers PPO's loss compares against, [B * N] each, as the rollout and the advantages left them. */
export interface PpoTargets {
  logprobs: Float32Array;
  values: Float32Array;
  advantages: Float32Array;
  returns: Float32Array;
}

/** d/dx of the clipped-surrogate loss max(-A r, -A clip(r)) at r = exp(x): -A r where the unclipped side is taken, 0 where the clip holds it flat. */
function surrogate(advantage: number, ratio: number, clip: number): { loss: number; grad: number } {
  const a = -advantage * ratio;
  const b = -advantage * Math.min(Math.max(ratio, 1 - clip), 1 + clip);
  return { loss: Math.max(a, b), grad: a >= b ? a : 0 };
}

/** PPO (ppo.ts, ppoLoss): the clipped surrogate, the clipped value loss over `scale`, the entropy bonus. */
export function ppoHostLoss(policy: Policy, batch: SampledBatch, rows: readonly number[], targets: PpoTargets, h: Hyperparameters, scale: number, withLogprob: boolean) {
  return hostMinibatchLoss(policy, batch, rows, { temperature: h.temperature, entropyCoef: h.entropyCoef, withValue: true, withLogprob }, (x: HostActions) => {
    const [old, adv, ret, oldValue] = [targets.logprobs, targets.advantages, targets.returns, targets.values].map((t) => pick(x, t));
    const { n, logprob: lp, value } = x;
    const count = Math.max(n, 1);
    const clip = h.clipRange;
    const vclip = h.valueClipRange;
    const dLogprob = new Float64Array(n);
    const dValue = new Float64Array(n);
    let pg = 0, kl = 0, clipped = 0, vl = 0, vClipped = 0;
    for (let i = 0; i < n; i++) {
      const logratio = lp[i] - old[i];
      const ratio = Math.exp(logratio);
      const s = surrogate(adv[i], ratio, clip);
      pg += s.loss;
      dLogprob[i] = s.grad / count;
      kl += ratio - 1 - logratio;
      if (Math.abs(ratio - 1) > clip) clipped++;
      // The value loss, clipped around the rollout's value.
      const v = value![i];
      const vu = (v - ret[i]) ** 2;
      let dv = 2 * (v - ret[i]);
      if (vclip > 0) {
        const move = v - oldValue[i];
        const vc = oldValue[i] + Math.min(Math.max(move, -vclip), vclip);
        const vcu = (vc - ret[i]) ** 2;
        if (vu < vcu) dv = Math.abs(move) <= vclip ? 2 * (vc - ret[i]) : 0;
        vl += Math.max(vu, vcu);
        if (Math.abs(move) > vclip) vClipped++;
      } else vl += vu;
      dValue[i] = (dv * h.valueCoef * 0.5) / scale / count;
    }
    const diagnostics = { pg_loss: pg / count, v_loss: (0.5 * vl) / count / scale, approx_kl: kl / count, clipfrac: clipped / count, v_clipfrac: vclip === 0 ? 0 : vClipped / count };
    return {
      loss: diagnostics.pg_loss + h.valueCoef * diagnostics.v_loss,
      dLogprob,
      dValue,
      diagnostics,
    };
  });
}

/** GRPO (grpo.ts, grpoLoss): the clipped per-token surrogate plus beta x k3 to the reference, averaged as the loss type says, minus the entropy bonus. */
export function grpoHostLoss(policy: Policy, batch: SampledBatch & { refLogprobs: Float32Array }, rows: readonly number[], advantages: Float32Array, h: Hyperparameters, tokensPerStep: number, withLogprob: boolean) {
  return hostMinibatchLoss(policy, batch, rows, { temperature: h.temperature, entropyCoef: h.entropyCoef, withValue: false, withLogprob }, (x: HostActions) => {
    const [old, ref] = [batch.logprobs, batch.refLogprobs].map((t) => pick(x, t));
    const { n, logprob: lp } = x;
    const count = Math.max(n, 1);
    const eps = h.clipRange;
    const perToken = new Float64Array(n);
    const dPerToken = new Float64Array(n);
    let kl = 0, clipped = 0;
    for (let r = 0; r < x.rows; r++) {
      const A = advantages[rows[r]];
      for (let i = x.offsets[r]; i < x.offsets[r] + x.lengths[r]; i++) {
        const logratio = lp[i] - old[i];
        const c1 = Math.exp(logratio);
        const c2 = Math.min(Math.max(c1, 1 - eps), 1 + eps);
        // -min(c1 A, c2 A): the gradient passes through c1 A where it is the smaller (or equal), through the clip otherwise.
        const a = c1 * A;
        const b = c2 * A;
        perToken[i] = -Math.min(a, b);
        dPerToken[i] = a <= b || (c1 >= 1 - eps && c1 <= 1 + eps) ? -a : 0;
        if (h.grpoBeta !== 0) {
          const d = ref[i] - lp[i];
          perToken[i] += h.grpoBeta * (Math.exp(d) - d - 1);
          dPerToken[i] += h.grpoBeta * (1 - Math.exp(d));
        }
        kl += c1 - 1 - logratio;
        if ((c1 < 1 - eps && A < 0) || (c1 > 1 + eps && A > 0)) clipped++;
      }
    }
    // How the per-token losses are averaged (grpoLoss): each token's weight in the loss.
    const weight = new Float64Array(n);
    for (let r = 0; r < x.rows; r++) {
      const w =
        h.grpoLossType === 'grpo' ? 1 / x.rows / Math.max(x.lengths[r], 1)
        : h.grpoLossType === 'bnpo' ? 1 / count
        : h.grpoLossType === 'dr_grpo' ? 1 / (x.rows * h.maxLength)
        : 1 / Math.max(tokensPerStep, 1);
      weight.fill(w, x.offsets[r], x.offsets[r] + x.lengths[r]);
    }
    let loss = 0;
    const dLogprob = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      loss += weight[i] * perToken[i];
      dLogprob[i] = weight[i] * dPerToken[i];
    }
    return {
      loss,
      dLogprob,
      diagnostics: { loss, approx_kl: kl / count, clipfrac: clipped / count },
    };
  });
}

/** RLOO (rloo.ts, rlooLoss): the clipped surrogate on whole-sequence ratios, minus the entropy bonus. */
export function rlooHostLoss(policy: Policy, batch: SampledBatch, rows: readonly number[], advantages: Float32Array, h: Hyperparameters, withLogprob: boolean) {
  return hostMinibatchLoss(policy, batch, rows, { temperature: h.temperature, entropyCoef: h.entropyCoef, withValue: false, withLogprob }, (x: HostActions) => {
    const old = pick(x, batch.logprobs);
    const { n, logprob: lp } = x;
    const dLogprob = new Float64Array(n);
    let loss = 0, kl = 0, clipped = 0;
    for (let r = 0; r < x.rows; r++) {
      let logratio = 0;
      for (let i = x.offsets[r]; i < x.offsets[r] + x.lengths[r]; i++) logratio += lp[i] - old[i];
      const A = advantages[rows[r]];
      const ratio = Math.exp(logratio);
      const s = surrogate(A, ratio, h.clipRange);
      loss += s.loss / x.rows;
      if (-A * Math.min(Math.max(ratio, 1 - h.clipRange), 1 + h.clipRange) > -A * ratio) clipped++;
      kl += (ratio - 1 - logratio) / x.rows;
      dLogprob.fill(s.grad / x.rows, x.offsets[r], x.offsets[r] + x.lengths[r]);
    }
    return {
      loss,
      dLogprob,
      diagnostics: { loss, approx_kl: kl, clipfrac: clipped / x.rows },
    };
  });
}
