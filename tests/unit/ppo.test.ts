import * as tf from '../../src/core/tf.ts';
import { describe, expect, it } from 'vitest';
import { AdaptiveKlController, FixedKlController } from '../../src/core/training/klController.ts';
import { actionMask, whiten } from '../../src/core/algorithms/masked.ts';
import { clippedSurrogate, clippedValueLoss, computeGae, explainedVariance, perTokenRewards } from '../../src/core/algorithms/ppo.ts';

const f32 = (xs: number[]) => new Float32Array(xs);
const close = (actual: ArrayLike<number>, expected: number[]) =>
  expected.forEach((e, i) => expect(actual[i]).toBeCloseTo(e, 5));

describe('per-token rewards', () => {
  it('puts -beta * (logp - logp_ref) on every action and the score on the last', () => {
    // One row of 2 actions, one of 1 action padded to N = 2.
    const { rewards, kl } = perTokenRewards([5, 1], f32([-1, -2, -3, 9]), f32([-1.5, -1, -2, 9]), new Int32Array([2, 1]), 2, 0.1);
    // Row 0: kl_t = [0.5, -1] -> [-0.05, 0.1 + 5]. Row 1: kl_t = -1 -> 0.1 + 1; padding stays 0.
    close(rewards, [-0.05, 5.1, 1.1, 0]);
    close(kl, [-0.5, -1]);
  });
});

describe('GAE', () => {
  it('matches a hand computation with gamma 1, lambda 0.95', () => {
    const { advantages, returns } = computeGae(f32([1, 2, 3, 0]), f32([0.5, 1, 1, 7]), new Int32Array([2, 1]), 2, 1, 0.95);
    // Row 0: delta1 = 2 - 1 = 1 -> A1 = 1; delta0 = 1 + 1 - 0.5 = 1.5 -> A0 = 1.5 + 0.95 * 1 = 2.45.
    // Row 1: A0 = 3 - 1 = 2; the padded slot stays 0.
    close(advantages, [2.45, 1, 2, 0]);
    close(returns, [2.95, 2, 3, 0]);
  });

  it('discounts with gamma 0.9, lambda 0.5', () => {
    const { advantages, returns } = computeGae(f32([1, 2]), f32([0.5, 1]), new Int32Array([2]), 2, 0.9, 0.5);
    // delta1 = 1 -> A1 = 1; delta0 = 1 + 0.9 * 1 - 0.5 = 1.4 -> A0 = 1.4 + 0.45 * 1 = 1.85.
    close(advantages, [1.85, 1]);
    close(returns, [2.35, 2]);
  });
});

describe('whitening and explained variance', () => {
  it('whitens over the masked entries only (unbiased variance)', () => {
    const out = whiten(f32([1, 2, 3, 100]), actionMask(new Int32Array([3]), 4));
    close(out, [-1, 0, 1, 0]);
  });

  it('explained variance is 1 for a perfect value head and 0 for a constant at the mean', () => {
    const mask = f32([1, 1, 1]);
    expect(explainedVariance(f32([1, 2, 3]), f32([1, 2, 3]), mask)).toBeCloseTo(1, 6);
    expect(explainedVariance(f32([2, 2, 2]), f32([1, 2, 3]), mask)).toBeCloseTo(0, 6);
  });
});

describe('clipped losses', () => {
  it('clipped surrogate, clip fraction and approx KL match hand numbers', () => {
    const r = tf.tidy(() => {
      // Ratios 1.5, 0.5, 1.1 and a masked fourth entry that must not count.
      const newlogprob = tf.tensor1d([Math.log(1.5), Math.log(0.5), Math.log(1.1), 5]);
      const out = clippedSurrogate(newlogprob, tf.zeros([4]), tf.tensor1d([1, -1, 2, 100]), tf.tensor1d([1, 1, 1, 0]), 0.2);
      return tf.stack([out.pg_loss, out.clipfrac, out.approx_kl]);
    });
    const [pg, clipfrac, approxKl] = r.dataSync();
    r.dispose();
    // max(-A r, -A clip(r)): -1.2, 0.8, -2.2.
    expect(pg).toBeCloseTo((-1.2 + 0.8 - 2.2) / 3, 5);
    expect(clipfrac).toBeCloseTo(2 / 3, 5);
    const k3 = (x: number) => x - 1 - Math.log(x);
    expect(approxKl).toBeCloseTo((k3(1.5) + k3(0.5) + k3(1.1)) / 3, 5);
  });

  it('value loss takes the larger of the clipped and unclipped errors', () => {
    const loss = tf.tidy(() =>
      clippedValueLoss(tf.tensor1d([2, 0.9, 50]), tf.tensor1d([1, 1, 0]), tf.tensor1d([3, 0, 0]), tf.tensor1d([1, 1, 0]), 0.2),
    );
    // Entry 0: unclipped (2-3)^2 = 1, clipped (1.2-3)^2 = 3.24. Entry 1: both 0.81.
    expect(loss.dataSync()[0]).toBeCloseTo(0.5 * (3.24 + 0.81) / 2, 5);
    loss.dispose();
  });
});

describe('KL controller', () => {
  it('adaptive beta moves by the clipped proportional error over the horizon', () => {
    const c = new AdaptiveKlController(0.1, 6, 10000);
    c.update(9, 64); // error 0.5 clipped to 0.2 -> x(1 + 0.2 * 64 / 10000)
    expect(c.value).toBeCloseTo(0.1 * 1.00128, 10);
    c.update(5.4, 100); // error -0.1 -> x(1 - 0.1 * 100 / 10000)
    expect(c.value).toBeCloseTo(0.1 * 1.00128 * 0.999, 10);
    c.update(0, 100); // error -1 clipped to -0.2
    expect(c.value).toBeCloseTo(0.1 * 1.00128 * 0.999 * 0.998, 10);
  });

  it('fixed beta never moves', () => {
    const c = new FixedKlController(0.05);
    c.update();
    expect(c.value).toBe(0.05);
  });
});
