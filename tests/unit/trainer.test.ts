import * as tf from '../../src/core/tf.ts';
import { expectFlatTensorCount } from './helpers.ts';
import { describe, expect, it } from 'vitest';
import type { AlgorithmId } from '../../src/core/algorithms/catalog.ts';
import type { Hyperparameters } from '../../src/core/hyperparameters.ts';
import { deterministicMetrics } from '../../src/core/training/metrics.ts';
import { FunctionReward, type RewardFunction } from '../../src/core/reward/reward.ts';
import { getTask, modelId } from '../../src/core/tasks/index.ts';
import { Trainer } from '../../src/core/training/trainer.ts';
import { decodeTrainerState, encodeTrainerState } from '../../src/core/training/trainerState.ts';
import { loadPolicyFromDisk } from '../../scripts/nodeModels.ts';

const task = getTask('names');
const length: RewardFunction = (s) => s.text.length;
const small = { batchSize: 16, epochs: 2, minibatches: 2 };

function trainer(arch: 'mlp' | 'transformer', fn: RewardFunction = length, hyperparameters: Partial<Hyperparameters> = small, seed = 1, algorithm: AlgorithmId = 'ppo') {
  return new Trainer({ task, reference: loadPolicyFromDisk(modelId(task, arch)), hyperparameters, seed, reward: new FunctionReward([{ name: 'length', weight: 1, fn }]), algorithm });
}

describe('Trainer', () => {
  it('learns: a short run raises the length reward (smoke run)', async () => {
    const t = trainer('mlp', length, {}); // default settings
    const rewards: number[] = [];
    for (let i = 0; i < 20; i++) rewards.push((await t.step()).metrics.rewardMean);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(rewards.slice(-3))).toBeGreaterThan(1.15 * mean(rewards.slice(0, 3)));
    t.dispose();
  });

  it('reports every metric as a finite number', async () => {
    const t = trainer('transformer');
    const { metrics, samples } = await t.step();
    expect(samples).toHaveLength(16);
    for (const [k, v] of Object.entries(metrics)) {
      if (k === 'rewardComponents') expect(Object.keys(v)).toEqual(['length']);
      else if (k === 'alarms') expect(v).toEqual([]); // the first batch is the reference's own: nothing collapsed
      else if (k === 'runaway') expect(v).toBe(false);
      else expect(Number.isFinite(v), `${k} = ${v}`).toBe(true);
    }
    expect(metrics.iteration).toBe(1);
    expect(metrics.kl).toBeCloseTo(0, 4); // the first batch is sampled from the reference itself
    t.dispose();
  });

  it.each(['mlp', 'transformer'] as const)('is deterministic for a seed (%s)', async (arch) => {
    const run = async () => {
      const t = trainer(arch, length, small, 7);
      const out = [];
      for (let i = 0; i < 3; i++) out.push(deterministicMetrics((await t.step()).metrics));
      t.dispose();
      return out;
    };
    expect(await run()).toEqual(await run());
  });

  it.each(['mlp', 'transformer'] as const)('leaks no tensors: the count after iteration 3 equals the count after 20 (%s)', async (arch) => {
    const t = trainer(arch, length, { batchSize: 8, epochs: 1, minibatches: 2 });
    await expectFlatTensorCount(() => t.step(), 3, 20);
    t.dispose();
  });

  it('a failing reward changes nothing: fixing it and retrying gives the clean run', async () => {
    const clean = trainer('mlp');
    await clean.step();
    const expected = deterministicMetrics((await clean.step()).metrics);
    clean.dispose();

    const t = trainer('mlp');
    await t.step();
    t.setReward(new FunctionReward([{ name: 'length', weight: 1, fn: (s) => (s.index === 5 ? NaN : s.text.length) }]));
    await expect(t.step()).rejects.toThrow(/returned NaN for sample 5/);
    t.setReward(new FunctionReward([{ name: 'length', weight: 1, fn: () => 'oops' }]));
    await expect(t.step()).rejects.toThrow(/returned the string "oops" for sample 0/);
    t.setReward(new FunctionReward([{ name: 'length', weight: 1, fn: () => { throw new Error('boom'); } }]));
    await expect(t.step()).rejects.toThrow(/threw on sample 0 \(".*"\): Error: boom/);
    expect(t.iteration).toBe(1);
    t.setReward(new FunctionReward([{ name: 'length', weight: 1, fn: length }]));
    expect(deterministicMetrics((await t.step()).metrics)).toEqual(expected);
    t.dispose();
  });

  it('reset returns to iteration 0 and the reference policy', async () => {
    const t = trainer('mlp');
    const first = deterministicMetrics((await t.step()).metrics);
    await t.step();
    t.reset();
    expect(t.iteration).toBe(0);
    expect(deterministicMetrics((await t.step()).metrics)).toEqual(first);
    t.dispose();
  });

  it('validates hyperparameter changes, naming the field', () => {
    const t = trainer('mlp');
    expect(() => t.setHyperparameters({ clipRange: -1 })).toThrow(/clipRange must be between/);
    t.setHyperparameters({ learningRate: 1e-4 });
    expect(t.hyperparameters.learningRate).toBe(1e-4);
    t.setHyperparameters({ maxLength: 100 }); // the MLP has no context limit
    t.dispose();
    const g = trainer('transformer');
    expect(() => g.setHyperparameters({ maxLength: 40 })).toThrow(/maxLength must be at most 32 for this transformer \(context 32\), got 40/);
    expect(g.hyperparameters.maxLength).toBe(20);
    g.dispose();
  });
});

describe('Trainer state', () => {
  it('exporting and importing into a fresh trainer continues the run exactly', async () => {
    const a = trainer('mlp');
    await a.step();
    await a.step();
    const state = await a.exportState();
    const expected = [];
    for (let i = 0; i < 2; i++) expected.push(deterministicMetrics((await a.step()).metrics));
    a.dispose();

    for (const packed of [false, true]) {
      const b = trainer('mlp', length, small, 99); // another seed: the state must bring its own
      // Packed as the worker sends it to the page and the page stores it, and read back.
      await b.importState(packed ? decodeTrainerState(encodeTrainerState(state)) : state);
      expect(b.iteration).toBe(2);
      const got = [];
      for (let i = 0; i < 2; i++) got.push(deterministicMetrics((await b.step()).metrics));
      expect(got).toEqual(expected);
      b.dispose();
    }
  });

  it('packs every field bit for bit, NaN and infinities included, with int32 arrays as int32', async () => {
    const a = trainer('mlp');
    await a.step();
    const state = await a.exportState();
    a.dispose();
    const odd = { ...state, klCoef: Infinity, scoreStats: { count: 1, mean: NaN, m2: -Infinity } };
    const back = decodeTrainerState(encodeTrainerState(odd));
    expect(back).toEqual(odd);
    expect(back.optimizer.find((o) => o.name === 'iter')?.values).toBeInstanceOf(odd.optimizer.find((o) => o.name === 'iter')!.values.constructor);
  });

  it('refuses a malformed packed state, naming what is wrong', async () => {
    const a = trainer('mlp');
    const bytes = encodeTrainerState(await a.exportState());
    a.dispose();
    expect(() => decodeTrainerState(bytes.subarray(0, 10))).toThrow('saved state: 10 bytes is too short');
    const wrongMagic = bytes.slice();
    wrongMagic[0] = 0x58;
    expect(() => decodeTrainerState(wrongMagic)).toThrow(/^saved state: bad magic "XLCFSTAT"/);
    expect(() => decodeTrainerState(bytes.subarray(0, bytes.length - 4))).toThrow(/^saved state: array "\S+" runs past the end/);
    const longer = new Uint8Array(bytes.length + 8);
    longer.set(bytes);
    expect(() => decodeTrainerState(longer)).toThrow('saved state: 8 bytes left over after the last array');
    const badVersion = bytes.slice();
    new DataView(badVersion.buffer).setUint32(8, 7, true);
    expect(() => decodeTrainerState(badVersion)).toThrow('saved state: format version 7 is not supported (expected 1)');
  });
});

describe.each(['grpo', 'rloo'] as const)('Trainer with %s', (algorithm) => {
  it('learns: a short run raises the length reward, and the value head is left alone', async () => {
    const t = trainer('mlp', length, {}, 1, algorithm); // default settings
    const head = () => ['wv', 'bv'].map((n) => Array.from(t.policy.weights.get(n)!.dataSync()));
    const before = head();
    const rewards: number[] = [];
    for (let i = 0; i < 20; i++) {
      const { metrics } = await t.step();
      rewards.push(metrics.rewardMean);
      expect(metrics.valueLoss).toBeUndefined();
      if (algorithm === 'grpo') expect(metrics.equalGroupFrac).toBeGreaterThanOrEqual(0);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(`${algorithm}: mean reward ${mean(rewards.slice(0, 3)).toFixed(2)} -> ${mean(rewards.slice(-3)).toFixed(2)}`);
    expect(mean(rewards.slice(-3))).toBeGreaterThan(1.15 * mean(rewards.slice(0, 3)));
    expect(head()).toEqual(before);
    t.dispose();
  });

  it('draws one prompt per group of G consecutive completions', async () => {
    const shakespeare = getTask('shakespeare');
    const t = new Trainer({ task: { ...shakespeare, prompts: ['A', 'B', 'C', 'D'] }, reference: loadPolicyFromDisk(modelId(shakespeare, 'mlp')), hyperparameters: { batchSize: 16, groupSize: 4, epochs: 1, minibatches: 2 }, seed: 3, reward: new FunctionReward([{ name: 'one', weight: 1, fn: () => 1 }]), algorithm });
    const { samples } = await t.step();
    for (let g = 0; g < 4; g++) expect(new Set(samples.slice(g * 4, g * 4 + 4).map((s) => s.prompt)).size).toBe(1);
    t.dispose();
  });

  it('leaks no tensors: the count after iteration 3 equals the count after 12', async () => {
    const t = trainer('transformer', length, { batchSize: 8, groupSize: 4, epochs: 1, minibatches: 2 }, 1, algorithm);
    await expectFlatTensorCount(() => t.step(), 3, 12);
    t.dispose();
  });

  it('refuses a group size that does not divide the batch, naming the field', () => {
    expect(() => trainer('mlp', length, { batchSize: 12, groupSize: 8, minibatches: 2 }, 1, algorithm)).toThrow(/groupSize \(8\) must divide batchSize \(12\)/);
  });
});

describe('importState', () => {
  it("refuses another architecture's weights, naming the tensor, and sets none of them", async () => {
    const mlp = trainer('mlp');
    const transformer = trainer('transformer');
    const before = await mlp.exportState();
    const foreign = await transformer.exportState();
    await expect(mlp.importState(foreign)).rejects.toThrow(/^(it has no tensor \S+, which this policy needs|its tensor \S+ is \[[\d,]+\], this policy needs \[[\d,]+\])$/);
    const { wv: _wv, ...missing } = before.weights;
    await expect(mlp.importState({ ...before, weights: missing })).rejects.toThrow('it has no tensor wv, which this policy needs');
    await expect(mlp.importState({ ...before, weights: { ...before.weights, extra: { shape: [1], values: new Float32Array(1) } } })).rejects.toThrow('it has a tensor extra that this policy does not have');
    const wrong = { ...before.weights, wv: { shape: [3, 1], values: new Float32Array(3) } };
    await expect(mlp.importState({ ...before, weights: wrong })).rejects.toThrow(/its tensor wv is \[3,1\], this policy needs \[\d+,1\]/);
    expect((await mlp.exportState()).weights).toEqual(before.weights);
    mlp.dispose();
    transformer.dispose();
  });
});
