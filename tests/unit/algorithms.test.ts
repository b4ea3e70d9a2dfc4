import * as tf from '../../src/core/tf.ts';
import { sample } from '../../src/core/policy/sampler.ts';
import { describe, expect, it } from 'vitest';
import { evaluateActions, maskedMean } from '../../src/core/algorithms/masked.ts';
import { minibatchUpdate } from '../../src/core/algorithms/minibatch.ts';
import { clippedValueLoss } from '../../src/core/algorithms/ppo.ts';
import { defaultHyperparameters } from '../../src/core/hyperparameters.ts';
import { AdaptiveKlController } from '../../src/core/training/klController.ts';
import { createPolicy } from '../../src/core/policy/create.ts';
import { FunctionReward } from '../../src/core/reward/reward.ts';
import { Rng } from '../../src/core/rng.ts';
import { getTask, modelId } from '../../src/core/tasks/index.ts';
import { Trainer } from '../../src/core/training/trainer.ts';
import { loadPolicyFromDisk } from '../../scripts/nodeModels.ts';
import { tinyMlp, tinyTransformer } from './helpers.ts';

describe('shared language-model pieces', () => {
  it('padding never turns into NaN: masked entries are selected away, not multiplied by 0', () => {
    tf.tidy(() => {
      const x = tf.tensor2d([[1, 2, NaN], [3, Infinity, NaN]]);
      const mask = tf.tensor2d([[1, 1, 0], [1, 0, 0]]);
      expect(maskedMean(x, mask).dataSync()[0]).toBeCloseTo(2, 6);
    });
  });

  it('with top-k, log-probabilities are those of the distribution that sampled (the k likeliest, renormalised)', () => {
    const policy = createPolicy({ ...tinyTransformer }, new Rng(5));
    tf.tidy(() => {
      const tokens = tf.tensor2d([[0, 3, 4, 5]], [1, 4], 'int32');
      const all = evaluateActions(policy, tokens, 1, 3, 1, 0, new Int32Array(1));
      const top = evaluateActions(policy, tokens, 1, 3, 1, 3, new Int32Array(1));
      // Under top-k a token's probability can only grow (mass of the dropped tokens goes to the kept ones), or vanish.
      const [a, t] = [all.logprob.dataSync(), top.logprob.dataSync()];
      for (let i = 0; i < 3; i++) expect(t[i] > a[i] - 1e-6 || t[i] < -1e8).toBe(true);
      // Entropy under top-3 is at most log 3.
      for (const e of top.entropy.dataSync()) expect(e).toBeLessThanOrEqual(Math.log(3) + 1e-5);
    });
    policy.dispose();
  });

  it('a prompt means the same alone and left-padded in a batch: identical log-probs, and sampling agrees with the forward pass', async () => {
    const policy = createPolicy({ ...tinyTransformer }, new Rng(9));
    // Row 0: start, prompt [3, 4], completion [5, 6]. Row 1 (longer prompt [7, 8, 3, 4]) forces two columns of padding on row 0.
    const alone = tf.tidy(() => evaluateActions(policy, tf.tensor2d([[0, 3, 4, 5, 6]], [1, 5], 'int32'), 3, 2, 1, 0, new Int32Array(1)).logprob.arraySync());
    const batched = tf.tidy(() =>
      evaluateActions(policy, tf.tensor2d([[0, 0, 0, 3, 4, 5, 6], [0, 7, 8, 3, 4, 5, 6]], [2, 7], 'int32'), 5, 2, 1, 0, Int32Array.from([2, 0])).logprob.arraySync(),
    );
    expect(batched[0][0]).toBeCloseTo(alone[0][0], 5);
    expect(batched[0][1]).toBeCloseTo(alone[0][1], 5);
    // Without the padding known, the same row reads differently: the test can tell.
    const unaware = tf.tidy(() => evaluateActions(policy, tf.tensor2d([[0, 0, 0, 3, 4, 5, 6]], [1, 7], 'int32'), 5, 2, 1, 0, new Int32Array(1)).logprob.arraySync());
    expect(Math.abs(unaware[0][0] - alone[0][0])).toBeGreaterThan(1e-4);
    // The KV-cached sampler pads the same way: its first step's distribution is the forward pass's.
    const gen = await sample(policy, { prompts: [[3, 4], [7, 8, 3, 4]], maxNew: 1, temperature: 1, topK: 0, rng: new Rng(1), cache: true });
    expect(Array.from(gen.pad)).toEqual([2, 0]);
    const viaDecoder = tf.tidy(() => {
      const d = policy.decoder(2, gen.pad);
      let logits: tf.Tensor2D | null = null;
      for (let t = 0; t < 5; t++) {
        logits?.dispose();
        logits = d.step(Int32Array.from([gen.tokens[t], gen.tokens[gen.width + t]]));
      }
      const out = tf.logSoftmax(logits!).arraySync() as number[][];
      d.dispose();
      return out;
    });
    const viaForward = tf.tidy(() => (tf.logSoftmax(policy.forward(tf.tensor2d([[0, 3, 4]], [1, 3], 'int32')).logits.slice([0, 2, 0], [1, 1, -1]).reshape([1, -1])).arraySync() as number[][])[0]);
    viaForward.forEach((v, i) => expect(viaDecoder[0][i]).toBeCloseTo(v, 5));
    policy.dispose();
  });

  it('stops the update early once an epoch passes the target approx. KL (0: never)', async () => {
    const run = async (targetKl: number) => {
      const policy = createPolicy({ ...tinyMlp }, new Rng(2));
      const optimizer = tf.train.adam(1e-3);
      let calls = 0;
      const h = { ...defaultHyperparameters(), epochs: 4, minibatches: 2, targetKl };
      await minibatchUpdate(policy, optimizer, 4, h, new Rng(1), { withValueHead: true, names: ['approx_kl'] }, () => {
        calls++;
        const loss = tf.addN([...policy.weights.values()].map((w) => tf.sum(tf.square(w)))) as tf.Scalar;
        return { loss, diagnostics: { approx_kl: tf.scalar(0.5) } };
      });
      optimizer.dispose();
      policy.dispose();
      return calls;
    };
    expect(await run(0)).toBe(8);
    expect(await run(0.1)).toBe(2);
  });

  it('refuses an update that leaves a trainable weight without a gradient', async () => {
    const policy = createPolicy({ ...tinyMlp }, new Rng(2));
    const optimizer = tf.train.adam(1e-3);
    const h = { ...defaultHyperparameters(), epochs: 1, minibatches: 1 };
    const onlyEmbedding = () => ({ loss: tf.sum(policy.weights.get('wte')!) as tf.Scalar, diagnostics: { x: tf.scalar(0) } });
    await expect(minibatchUpdate(policy, optimizer, 2, h, new Rng(1), { withValueHead: true, names: ['x'] }, onlyEmbedding)).rejects.toThrow(/no gradient reached/);
    optimizer.dispose();
    policy.dispose();
  });
});

describe('training with top-k sampling', () => {
  it.each(['ppo', 'grpo', 'rloo'] as const)('%s trains at topK 5 on both architectures: finite losses, a finite KL to the reference, no leaked tensors', async (algorithm) => {
    const task = getTask('names');
    for (const arch of ['mlp', 'transformer'] as const) {
      const t = new Trainer({ task, reference: loadPolicyFromDisk(modelId(task, arch)), hyperparameters: { topK: 5, batchSize: 16, groupSize: 4 }, seed: 2, reward: new FunctionReward([{ name: 'length', weight: 1, fn: (s) => s.text.length }]), algorithm });
      await t.step();
      const tensors = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        const { metrics: m } = await t.step();
        for (const v of [m.policyLoss, m.kl, m.entropy, m.valueLoss ?? 0]) expect(Number.isFinite(v), `${arch} ${JSON.stringify(m)}`).toBe(true);
        // The reference judges with its whole distribution: no sampled token is impossible to it.
        expect(m.kl).toBeLessThan(100);
      }
      expect(tf.memory().numTensors).toBe(tensors);
      t.dispose();
    }
  });
});

describe('PPO, made sturdier', () => {
  it('valueClipRange 0 turns value clipping off', () => {
    tf.tidy(() => {
      const [nv, ov, ret, mask] = [tf.tensor1d([3, -2]), tf.tensor1d([0, 0]), tf.tensor1d([1, 1]), tf.tensor1d([1, 1])];
      expect(clippedValueLoss(nv, ov, ret, mask, 0).dataSync()[0]).toBeCloseTo(0.5 * ((4 + 9) / 2), 6);
      expect(clippedValueLoss(nv, ov, ret, mask, 0.2).dataSync()[0]).toBeCloseTo(0.5 * ((4 + 9) / 2), 6); // clipped is worse here: max keeps the unclipped
    });
  });

  it('caps the adaptive beta: a KL that cannot reach its target cannot drive it up without bound', () => {
    const c = new AdaptiveKlController(2, 6, 200, 3);
    for (let i = 0; i < 100; i++) c.update(1000, 64);
    expect(c.value).toBe(3);
  });

  it('with scoreNormalize, a reward in the millions trains like one in units', async () => {
    const task = getTask('names');
    const run = async (scale: number, scoreNormalize: boolean) => {
      const t = new Trainer({ task, reference: loadPolicyFromDisk(modelId(task, 'mlp')), hyperparameters: { scoreNormalize, scoreClip: scoreNormalize ? 5 : 0 }, seed: 4, reward: new FunctionReward([{ name: 'length', weight: 1, fn: (s) => scale * s.text.length }]) });
      const lengths: number[] = [];
      for (let i = 0; i < 15; i++) lengths.push((await t.step()).metrics.sampleLength);
      const state = await t.exportState();
      t.dispose();
      return { first: lengths.slice(0, 3).reduce((a, b) => a + b) / 3, last: lengths.slice(-3).reduce((a, b) => a + b) / 3, state };
    };
    const unit = await run(1, true);
    const big = await run(1e6, true);
    const raw = await run(1e6, false);
    const gain = (r: { first: number; last: number }) => r.last / r.first;
    console.log(`mean length over 15 iterations, normalised: units ${unit.first.toFixed(2)} -> ${unit.last.toFixed(2)}, x1e6 ${big.first.toFixed(2)} -> ${big.last.toFixed(2)}; x1e6 not normalised ${raw.first.toFixed(2)} -> ${raw.last.toFixed(2)}`);
    // Normalised, the scale of the reward does not matter: the same run, up to float rounding.
    expect(Math.abs(gain(big) - gain(unit))).toBeLessThan(0.02);
    expect(gain(big)).toBeGreaterThan(1.05);
    expect(big.state.scoreStats.count).toBe(15 * 64);
    expect(big.state.scoreStats.mean).toBeGreaterThan(1e6);
  });
});

describe('the value head warm start', () => {
  it('explained variance is positive from the first iteration on the names task', async () => {
    const task = getTask('names');
    const ev = async (valueWarmup: number) => {
      const t = new Trainer({ task, reference: loadPolicyFromDisk(modelId(task, 'mlp')), hyperparameters: { valueWarmup }, seed: 1, reward: new FunctionReward([{ name: 'length', weight: 1, fn: (s) => s.text.length }]) });
      const out: number[] = [];
      for (let i = 0; i < 5; i++) out.push((await t.step()).metrics.explainedVariance!);
      t.dispose();
      return out;
    };
    const warm = await ev(30);
    const cold = await ev(0);
    console.log(`explained variance, iterations 1-5: warm start ${warm.map((x) => x.toFixed(2)).join(' ')}; none ${cold.map((x) => x.toFixed(2)).join(' ')}`);
    expect(warm.every((x) => x > 0)).toBe(true);
    expect(warm[0]).toBeGreaterThan(cold[0] + 0.2); // the first update's advantages come from a value head that knows something
  });
});
