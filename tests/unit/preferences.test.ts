import { describe, expect, it } from 'vitest';
import * as tf from '../../src/core/tf.ts';
import { btGrad, btLoss, fitRewardModel, judgePairs, scoreFeatures, splitPairs } from '../../src/core/reward/preferences.ts';
import type { PreferenceLabel } from '../../src/core/reward/preferences.ts';
import { completionFeatures } from '../../src/core/training/preferenceFeatures.ts';
import { FunctionReward } from '../../src/core/reward/reward.ts';
import { getTask, modelId, taskTokenizer } from '../../src/core/tasks/index.ts';
import { Trainer } from '../../src/core/training/trainer.ts';
import { Rng } from '../../src/core/rng.ts';
import { loadPolicyFromDisk } from '../../scripts/nodeModels.ts';

// A reward learnt from preferences: the Bradley-Terry loss against hand-computed
// numbers, and a head on the reference policy's features that learns a judge.

describe('Bradley-Terry', () => {
  it('loss and gradient match hand-computed numbers', () => {
    // d = r(a) - r(b); loss = -[y log s(d) + (1-y) log s(-d)]; dloss/dd = s(d) - y.
    expect(btLoss(0, 1)).toBeCloseTo(Math.log(2), 12);
    expect(btGrad(0, 1)).toBeCloseTo(-0.5, 12);
    expect(btLoss(2, 1)).toBeCloseTo(0.1269280110429725, 12); // log(1 + e^-2)
    expect(btGrad(2, 1)).toBeCloseTo(-0.11920292202211755, 12); // s(2) - 1
    expect(btLoss(2, 0)).toBeCloseTo(2.1269280110429727, 12); // log(1 + e^2)
    expect(btGrad(2, 0)).toBeCloseTo(0.8807970779778823, 12);
    expect(btLoss(1, 0.5)).toBeCloseTo(0.8132616875182228, 12); // a tie: half of each
    expect(btGrad(1, 0.5)).toBeCloseTo(0.2310585786300049, 12);
    expect(btLoss(800, 1)).toBe(0); // no overflow far out
    expect(btLoss(-800, 1)).toBe(800);
    // The gradient is the loss's slope.
    for (const [d, y] of [[0.3, 1], [-1.2, 0], [2.5, 0.5]]) expect(btGrad(d, y)).toBeCloseTo((btLoss(d + 1e-6, y) - btLoss(d - 1e-6, y)) / 2e-6, 6);
  });

  it('fits a head that orders pairs as labelled, splits the pairs by seed, and is the same when fitted again', () => {
    // Three features; the judge prefers a larger first feature.
    const rng = new Rng(5);
    const features = Array.from({ length: 60 }, () => Float64Array.from([rng.normal(), rng.normal(), rng.normal()]));
    const raw = Array.from({ length: 100 }, () => [rng.int(60), rng.int(60)] as [number, number]).filter(([a, b]) => a !== b);
    const pairs = judgePairs(features.map((x) => x[0]), raw, 0, 1);
    const fit = fitRewardModel(features, pairs, { seed: 3 });
    expect(fit.heldOutAccuracy).toBe(1);
    expect(fit.losses.at(-1)!).toBeLessThan(fit.losses[0]);
    expect(Math.abs(fit.head.w[0])).toBeGreaterThan(5 * Math.max(Math.abs(fit.head.w[1]), Math.abs(fit.head.w[2])));
    expect(scoreFeatures(fit.head, [1, 0, 0])).toBeGreaterThan(scoreFeatures(fit.head, [0, 0, 0]));
    const again = fitRewardModel(features, pairs, { seed: 3 });
    expect(Array.from(again.head.w)).toEqual(Array.from(fit.head.w));
    expect(again.losses).toEqual(fit.losses);
    const decisive = Array.from({ length: 100 }, (_, i) => (i % 2 ? 1 : 0) as PreferenceLabel);
    expect(splitPairs(decisive, 0.2, 3)).toEqual(splitPairs(decisive, 0.2, 3));
    expect(splitPairs(decisive, 0.2, 3).test).not.toEqual(splitPairs(decisive, 0.2, 4).test);
    expect(splitPairs(decisive, 0.2, 3).test).toHaveLength(20);
  });

  it('holds out a share of the decisive pairs and of the ties apart, so a few decisive labels among many ties are still measured', () => {
    // Ten labels, five decisive: one of those is held out, whichever the shuffle puts first.
    const labels: PreferenceLabel[] = [0.5, 1, 0.5, 0.5, 0, 0.5, 1, 0.5, 1, 0];
    for (let seed = 1; seed <= 20; seed++) {
      const { train, test } = splitPairs(labels, 0.2, seed);
      expect(test.filter((i) => labels[i] !== 0.5)).toHaveLength(1);
      expect(test.filter((i) => labels[i] === 0.5)).toHaveLength(1);
      expect([...train, ...test].sort((a, b) => a - b)).toEqual(labels.map((_, i) => i));
    }
    // Fewer than five of a kind: none of that kind is held out.
    expect(splitPairs([1, 0, 1, 0.5], 0.2, 1).test).toEqual([]);
  });
});

describe('a reward model on the reference policy features', () => {
  const names = getTask('names');

  async function labelled(count: number, pairCount: number, noise: number, seed: number) {
    const reference = loadPolicyFromDisk(modelId(names, 'mlp'));
    const t = new Trainer({ task: names, reference, hyperparameters: { maxLength: 20 }, seed, reward: new FunctionReward([{ name: 'r', weight: 1, fn: () => 0 }]) });
    const items = await t.preview(count, 'reference', seed);
    const features = await completionFeatures(t.reference, taskTokenizer(names), items, 20);
    t.dispose();
    const rng = new Rng(seed + 100);
    const raw: [number, number][] = [];
    while (raw.length < pairCount) {
      const a = rng.int(count);
      const b = rng.int(count);
      if (a !== b) raw.push([a, b]);
    }
    return { items, features, pairs: judgePairs(items.map((x) => x.text.length), raw, noise, seed) };
  }

  it('learns "longer is better" from 200 pairs to at least 90% held-out accuracy, on several seeds', async () => {
    const before = tf.memory().numTensors;
    for (const seed of [1, 2, 3]) {
      const { features, pairs } = await labelled(300, 200, 0, seed);
      const fit = fitRewardModel(features, pairs, { seed });
      console.log(`seed ${seed}: held-out accuracy ${fit.heldOutAccuracy} on ${fit.heldOutPairs} pairs, train ${fit.trainAccuracy}`);
      expect(fit.heldOutAccuracy!).toBeGreaterThanOrEqual(0.9);
    }
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);

  it('reaches at most 70% on labels with 30% noise (the labels, not the model, are wrong that often)', async () => {
    const accuracies: number[] = [];
    for (const seed of [1, 2, 3]) {
      const { features, pairs } = await labelled(300, 200, 0.3, seed);
      accuracies.push(fitRewardModel(features, pairs, { seed }).heldOutAccuracy!);
    }
    console.log(`30% noise: held-out accuracy ${accuracies.join(', ')}`);
    expect(accuracies.reduce((a, b) => a + b, 0) / accuracies.length).toBeLessThanOrEqual(0.7);
  }, 60_000);
});
