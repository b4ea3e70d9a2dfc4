import * as tf from '../tf.ts';
import { adam } from '../ops/adam.ts';
import type { Hyperparameters } from '../hyperparameters.ts';
import type { Policy } from '../policy/policy.ts';
import type { Rollout } from './algorithm.ts';
import type { Algorithm, AlgorithmInput, AlgorithmStats } from './algorithm.ts';
import { actionMask, evaluateActions, maskedMean, maskedOut, whiten, whitenStats } from './masked.ts';
import { minibatchTensors, minibatchUpdate, VALUE_HEAD } from './minibatch.ts';
import { ppoHostLoss, type PpoTargets } from './hostLosses.ts';
import { hostLossApplies } from './hostLoss.ts';

/**
 * PPO for a language policy, in the names of Schulman et al. 2017 and cleanrl's
 * ppo.py, with the per-token KL penalty of Ziegler et al. 2019 / InstructGPT, as
 * TRL's PPOTrainer computes it. Read `ppo.step` top to bottom.
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

/**
 * GAE over E environments run side by side for T steps (index t * E + e, as
 * cleanrl's [T, E]): an episode that ended at a step (`dones`) stops the sum
 * there; a lane's last step bootstraps from `lastValues`, the value of the
 * state it is in now.
 */
export function computeLaneGae(rewards: Float32Array, values: Float32Array, dones: Float32Array, lastValues: readonly number[], T: number, E: number, gamma: number, lambda: number) {
  const advantages = new Float32Array(T * E);
  const lastGae = new Float64Array(E);
  for (let t = T - 1; t >= 0; t--) {
    for (let e = 0; e < E; e++) {
      const i = t * E + e;
      const nextNonTerminal = 1 - dones[i];
      const nextValue = t === T - 1 ? lastValues[e] : values[i + E];
      const delta = rewards[i] + gamma * nextValue * nextNonTerminal - values[i];
      lastGae[e] = delta + gamma * lambda * nextNonTerminal * lastGae[e];
      advantages[i] = lastGae[e];
    }
  }
  const returns = advantages.map((a, i) => a + values[i]);
  return { advantages, returns };
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

/**
 * What the value loss is divided by: the variance of the returns over the real
 * actions, when it is above 1 (1 otherwise). The returns carry the summed KL
 * penalty, so their spread grows with KL; unscaled, so did the value loss (0.1 to
 * 100,000 on the privacy transformer), and its gradient, in the trunk the value
 * head shares with the policy, moved the policy further from the reference: KL
 * reached 400-550 nats on seeds 2, 3, 4 and 7. Scaled, the value loss is the share of the
 * returns' variance the head misses, whatever their units, and those seeds hold.
 * Returns of unit scale (normalised scores, little KL) are left as they were.
 */
export function returnScale(returns: Float32Array, mask: Float32Array): number {
  let n = 0, sum = 0, sq = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) { n++; sum += returns[i]; sq += returns[i] ** 2; }
  return n ? Math.max(1, sq / n - (sum / n) ** 2) : 1;
}

/** The mean over the mask's entries, or over every entry where there is no mask (the control trainer's flat batches). */
function meanOver(x: tf.Tensor, mask: tf.Tensor | null): tf.Scalar {
  return mask ? maskedMean(x, mask) : tf.mean(x);
}

/** The clipped surrogate objective, as a loss (to minimise), with its diagnostics. `mask` null: every entry counts. */
export function clippedSurrogate(newlogprob: tf.Tensor, oldlogprob: tf.Tensor, advantages: tf.Tensor, mask: tf.Tensor | null, clipCoef: number) {
  // 0 on padding before exp: a log-probability of -1e9 there (top-k masked) would make exp overflow, and 0 x inf is NaN in the gradient.
  const logratio = mask ? maskedOut(tf.sub(newlogprob, oldlogprob), mask) : tf.sub(newlogprob, oldlogprob);
  const ratio = tf.exp(logratio);
  const pg_loss1 = tf.mul(tf.neg(advantages), ratio);
  const pg_loss2 = tf.mul(tf.neg(advantages), tf.clipByValue(ratio, 1 - clipCoef, 1 + clipCoef));
  const pg_loss = meanOver(tf.maximum(pg_loss1, pg_loss2), mask);
  // http://joschu.net/blog/kl-approx.html: k3 = (r - 1) - log r, unbiased and always >= 0.
  const approx_kl = meanOver(tf.sub(tf.sub(ratio, 1), logratio), mask);
  const clipfrac = meanOver(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), clipCoef), 'float32'), mask);
  return { pg_loss, approx_kl, clipfrac };
}

/** Value loss, clipped around the rollout's values so one update cannot move them far (clipCoef 0: not clipped). `mask` null: every entry counts. */
export function clippedValueLoss(newvalue: tf.Tensor, oldvalue: tf.Tensor, returns: tf.Tensor, mask: tf.Tensor | null, clipCoef: number): tf.Scalar {
  const v_loss_unclipped = tf.square(tf.sub(newvalue, returns));
  if (clipCoef === 0) return tf.mul(0.5, meanOver(v_loss_unclipped, mask)) as tf.Scalar;
  const v_clipped = tf.add(oldvalue, tf.clipByValue(tf.sub(newvalue, oldvalue), -clipCoef, clipCoef));
  const v_loss_clipped = tf.square(tf.sub(v_clipped, returns));
  return tf.mul(0.5, meanOver(tf.maximum(v_loss_unclipped, v_loss_clipped), mask)) as tf.Scalar;
}

/**
 * Fits the value head alone to this rollout's Monte Carlo returns (lambda 1), with
 * an Adam of its own, and returns the refitted values. The head starts at zero;
 * untrained, its errors make early advantages grow with position, so later tokens
 * look better than they are.
 */
export async function warmUpValueHead(policy: Policy, rollout: Rollout, scores: readonly number[], h: Hyperparameters, beta: number): Promise<Float32Array> {
  const { N, lengths } = rollout;
  const { rewards } = perTokenRewards(scores, rollout.logprobs, rollout.refLogprobs, lengths, N, beta);
  const { returns } = computeGae(rewards, new Float32Array(rewards.length), lengths, N, h.gamma, 1);
  const mask = actionMask(lengths, N);
  const head = VALUE_HEAD.map((n) => policy.weights.get(n)!);
  // Start the bias at the mean return: Adam then only has to learn what depends on the prefix.
  let sum = 0, n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) { sum += returns[i]; n++; }
  tf.tidy(() => policy.weights.get('bv')!.assign(tf.fill(policy.weights.get('bv')!.shape, n ? sum / n : 0)));
  const opt = adam(3e-3, 0.9, 0.999, 1e-5);
  const B = lengths.length;
  // The rest of the policy stays fixed while the head learns, so what the head reads
  // is computed once: each Adam step is then one [n, F] x [F, 1] product, not a forward pass.
  const real = Int32Array.from(mask.keys()).filter((i) => mask[i] > 0); // flat indices of the real actions
  const [all, features, target] = tf.tidy(() => {
    const tokens = tf.tensor2d(rollout.tokens, [B, rollout.width], 'int32').slice([0, 0], [B, rollout.start + N - 1]) as tf.Tensor2D;
    const f = policy.valueFeatures(tokens, rollout.pad);
    const F = f.shape[2];
    const all = f.slice([0, rollout.start - 1, 0], [B, N, F]).reshape([B * N, F]) as tf.Tensor2D; // the value of action t is read before it
    return [all, tf.gather(all, tf.tensor1d(real, 'int32')) as tf.Tensor2D, tf.tensor2d(Float32Array.from(real, (i) => returns[i]), [real.length, 1])];
  });
  const [wv, bv] = head;
  for (let i = 0; i < h.valueWarmup && real.length > 0; i++) {
    tf.tidy(() => {
      const { grads, value } = tf.variableGrads(() => tf.mul(0.5, tf.mean(tf.square(tf.sub(tf.add(tf.matMul(features, wv), bv), target)))) as tf.Scalar, head);
      opt.applyGradients(grads);
      value.dispose();
    });
  }
  const values = tf.tidy(() => tf.add(tf.matMul(all, wv), bv).reshape([B * N]));
  const out = (await values.data()) as Float32Array;
  tf.dispose([all, features, target, values]);
  opt.dispose();
  return out;
}

/**
 * One minibatch's loss (clipped surrogate + clipped value loss in units of the
 * returns' variance - entropy bonus) and its diagnostics, with tfjs's ops.
 */
export function ppoLoss(policy: Policy, rollout: Rollout, rows: number[], targets: PpoTargets & { mask: Float32Array }, h: Hyperparameters, scale: number) {
  const mb = minibatchTensors(rollout, rows, targets);
  const { logprob: newlogprob, entropy, value: newvalue } = evaluateActions(policy, mb.tokens, rollout.start, mb.N, h.temperature, h.topK, mb.pad, mb.real);
  const { pg_loss, approx_kl, clipfrac } = clippedSurrogate(newlogprob, mb.logprobs, mb.advantages, mb.mask, h.clipRange);
  const v_loss = clippedValueLoss(newvalue, mb.values, mb.returns, mb.mask, h.valueClipRange).div(scale) as tf.Scalar; // in units of the returns' variance
  const entropy_loss = maskedMean(entropy, mb.mask);
  const loss = pg_loss.sub(entropy_loss.mul(h.entropyCoef)).add(v_loss.mul(h.valueCoef)) as tf.Scalar;
  // The share of value predictions that moved past the clip (0 when clipping is off).
  const v_clipfrac = h.valueClipRange === 0 ? tf.scalar(0) : maskedMean(tf.cast(tf.greater(tf.abs(tf.sub(newvalue, mb.values)), h.valueClipRange), 'float32'), mb.mask);
  return { loss, diagnostics: { pg_loss, v_loss, approx_kl, clipfrac, v_clipfrac }, logprob: newlogprob };
}

export const ppo: Algorithm = {
  id: 'ppo',
  async step({ policy, optimizer, rollout: sampled, scores, h, rng, beta, first, record }: AlgorithmInput): Promise<AlgorithmStats> {
    const { N, lengths } = sampled;
    // 3a. On the first update, a value head that knows something: refit it, then use its values.
    const rollout = first && h.valueWarmup > 0 ? { ...sampled, values: await warmUpValueHead(policy, sampled, scores, h, beta) } : sampled;
    // 3. Advantages: per-token KL penalty plus the score on the last token, then GAE and whitening.
    const { rewards } = perTokenRewards(scores, rollout.logprobs, rollout.refLogprobs, lengths, N, beta);
    const { advantages, returns } = computeGae(rewards, rollout.values, lengths, N, h.gamma, h.gaeLambda);
    const mask = actionMask(lengths, N);
    const b_advantages_all = h.whitenAdvantages ? whiten(advantages, mask) : advantages;
    const scale = returnScale(returns, mask);
    if (record) {
      record.rewards = { kind: 'ppo', rewards };
      record.advantages = { values: rollout.values, raw: advantages, returns, trained: b_advantages_all, ...(h.whitenAdvantages ? { whitened: whitenStats(advantages, mask) } : {}) };
    }

    // 4. Update: E epochs x M minibatches of clipped surrogate + clipped value loss - entropy bonus.
    const host = hostLossApplies(policy, h);
    const stats = await minibatchUpdate(
      policy,
      optimizer,
      lengths.length,
      h,
      rng,
      { withValueHead: true, names: ['pg_loss', 'v_loss', 'approx_kl', 'clipfrac', 'v_clipfrac'], record: record?.update },
      (rows) => {
        const targets = { logprobs: rollout.logprobs, values: rollout.values, advantages: b_advantages_all, returns };
        // On backends whose numbers this process holds, the same loss in JS (hostLosses.ts), in a few kernels.
        return host ? ppoHostLoss(policy, rollout, rows, targets, h, scale, !!record) : ppoLoss(policy, rollout, rows, { ...targets, mask }, h, scale);
      },
    );

    // 5. Report.
    return {
      policyLoss: stats.pg_loss,
      valueLoss: stats.v_loss,
      approxKl: stats.approx_kl,
      clipFrac: stats.clipfrac,
      valueClipFrac: stats.v_clipfrac,
      explainedVariance: explainedVariance(rollout.values, returns, mask),
      beta,
      advantages: Array.from(lengths, (n, b) => {
        let sum = 0;
        for (let t = 0; t < n; t++) sum += b_advantages_all[b * N + t];
        return sum;
      }),
    };
  },
};
