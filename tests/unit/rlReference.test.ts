import * as tf from '../../src/core/tf.ts';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { equalGroupFraction, groupAdvantages, grpoLoss, k3ToReference } from '../../src/core/algorithms/grpo.ts';
import { actionMask, klPerSequence, whiten } from '../../src/core/algorithms/masked.ts';
import { clippedSurrogate, clippedValueLoss, computeGae, perTokenRewards } from '../../src/core/algorithms/ppo.ts';
import { penalisedKl, rlooAdvantages, rlooLoss } from '../../src/core/algorithms/rloo.ts';
import { AdaptiveKlController } from '../../src/core/training/klController.ts';

// Reference numbers (float64) for the RL maths; see its `about` field for the layout.
const ref = JSON.parse(readFileSync('tests/fixtures/rl-reference.json', 'utf8'));
const f32 = (xs: number[]) => Float32Array.from(xs);
const i32 = (xs: number[]) => Int32Array.from(xs);

/** Every number matches to 1e-5 (padding entries past a row's length are 0 in the reference and ignored). */
function expectClose(actual: ArrayLike<number> | number, expected: number[] | number, mask?: Float32Array) {
  const a = typeof actual === 'number' ? [actual] : Array.from(actual);
  const e = typeof expected === 'number' ? [expected] : expected;
  expect(a).toHaveLength(e.length);
  e.forEach((x, i) => {
    if (mask && !mask[i]) return;
    expect(Math.abs(a[i] - x), `entry ${i}: ${a[i]} vs ${x}`).toBeLessThanOrEqual(1e-5);
  });
}

const scalar = (t: tf.Tensor) => t.dataSync()[0];

describe('PPO against the reference numbers', () => {
  for (const c of ref.ppo) {
    it(c.name, () => {
      const x = c.inputs;
      const lengths = i32(x.lengths);
      const mask = actionMask(lengths, x.N);
      const { rewards, kl } = perTokenRewards(x.scores, f32(x.logprobs), f32(x.refLogprobs), lengths, x.N, x.beta);
      expectClose(rewards, c.outputs.rewards, mask);
      expectClose(kl, c.outputs.klPerSequence);
      const { advantages, returns } = computeGae(rewards, f32(x.values), lengths, x.N, x.gamma, x.lambda);
      expectClose(advantages, c.outputs.advantages, mask);
      expectClose(returns, c.outputs.returns, mask);
      const whitened = whiten(advantages, mask);
      expectClose(whitened, c.outputs.whitenedAdvantages, mask);
      tf.tidy(() => {
        const shape: [number, number] = [x.B, x.N];
        const m = tf.tensor2d(mask, shape);
        const { pg_loss, approx_kl, clipfrac } = clippedSurrogate(tf.tensor2d(f32(x.newLogprobs), shape), tf.tensor2d(f32(x.logprobs), shape), tf.tensor2d(whitened, shape), m, x.clipRange);
        expectClose(scalar(pg_loss), c.outputs.policyLoss);
        expectClose(scalar(clipfrac), c.outputs.clipFrac);
        expectClose(scalar(approx_kl), c.outputs.approxKlK3);
        const v_loss = clippedValueLoss(tf.tensor2d(f32(x.newValues), shape), tf.tensor2d(f32(x.values), shape), tf.tensor2d(returns, shape), m, x.valueClipRange);
        expectClose(scalar(v_loss), c.outputs.valueLoss);
      });
    });
  }

  it('the adaptive KL controller (Ziegler et al. 2019)', () => {
    const k = ref.klController;
    const c = new AdaptiveKlController(k.init, k.target, k.horizon);
    const betas = k.steps.map((s: { kl: number; nSteps: number }) => (c.update(s.kl, s.nSteps), c.value));
    expectClose(betas, k.betas);
  });
});

describe('GRPO against the reference numbers', () => {
  const { inputs: x, outputs: o } = ref.grpo;
  const lengths = i32(x.lengths);
  const mask = actionMask(lengths, x.N);
  const B = x.G * x.groups;

  it('advantages under each scale: group, batch, none', () => {
    for (const scale of ['group', 'batch', 'none'] as const) expectClose(groupAdvantages(x.rewards, x.G, scale), o.advantages[scale]);
    expect(equalGroupFraction(x.rewards, x.G)).toBeCloseTo(1 / 3, 10); // the second group scored 1.5 four times
  });

  it('per-token k3 KL to the reference', () => {
    tf.tidy(() => expectClose(k3ToReference(tf.tensor1d(f32(x.logprobs)), tf.tensor1d(f32(x.refLogprobs))).dataSync(), o.klK3, mask));
  });

  for (const lossType of ['grpo', 'bnpo', 'dr_grpo', 'dapo'] as const) {
    it(`the loss, normalised as ${lossType}`, () => {
      tf.tidy(() => {
        const shape: [number, number] = [B, x.N];
        const tokens = x.lengths.reduce((a: number, b: number) => a + b, 0);
        const { loss } = grpoLoss(
          tf.tensor2d(f32(x.logprobs), shape),
          tf.tensor2d(f32(x.oldLogprobs), shape),
          tf.tensor2d(f32(x.refLogprobs), shape),
          tf.tensor1d(groupAdvantages(x.rewards, x.G, 'group')),
          tf.tensor2d(mask, shape),
          { beta: x.beta, epsilon: x.epsilon, lossType, maxLength: x.N, tokensPerStep: tokens },
        );
        expectClose(scalar(loss), o.lossByType[lossType]);
      });
    });
  }
});

describe('RLOO against the reference numbers', () => {
  const { inputs: x, outputs: o } = ref.rloo;
  const lengths = i32(x.lengths);
  const mask = actionMask(lengths, x.N);
  const B = x.G * x.groups;

  it('KL in the reward, leave-one-out baselines and advantages', () => {
    const kl = klPerSequence(f32(x.oldLogprobs), f32(x.refLogprobs), lengths, x.N);
    expectClose(kl, o.klPerSequence);
    const { rewards, baseline, advantages } = rlooAdvantages(x.scores, kl, x.beta, x.G, false);
    expectClose(rewards, o.rewards);
    expectClose(baseline, o.baseline);
    expectClose(advantages, o.advantages);
    expect(penalisedKl(kl, lengths, 'sum')).toBe(kl); // TRL's, the default
  });

  it("the length-neutral KL: each completion's mean per token at the batch's mean length", () => {
    const kl = klPerSequence(f32(x.oldLogprobs), f32(x.refLogprobs), lengths, x.N);
    const neutral = penalisedKl(kl, lengths, 'mean');
    const meanLength = lengths.reduce((a, b) => a + b, 0) / lengths.length;
    for (let b = 0; b < B; b++) expect(neutral[b]).toBeCloseTo(lengths[b] > 0 ? (kl[b] / lengths[b]) * meanLength : 0, 6);
    // Two completions at the same KL per token pay the same, whatever their lengths.
    const same = penalisedKl([0.5, 2.0, 0], [5, 20, 0], 'mean');
    expect(same[0]).toBeCloseTo(same[1], 12);
    expect(same[0]).toBeCloseTo(0.1 * (25 / 3), 12);
    expect(same[2]).toBe(0);
  });

  it('the sequence-level clipped loss', () => {
    tf.tidy(() => {
      const shape: [number, number] = [B, x.N];
      const { loss } = rlooLoss(tf.tensor2d(f32(x.logprobs), shape), tf.tensor2d(f32(x.oldLogprobs), shape), tf.tensor1d(f32(o.advantages)), tf.tensor2d(mask, shape), x.epsilon);
      expectClose(scalar(loss), o.loss);
    });
  });
});
