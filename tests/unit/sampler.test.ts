import * as tf from '../../src/core/tf.ts';
import { describe, expect, it } from 'vitest';
import { createPolicy } from '../../src/core/policy/create.ts';
import { Rng } from '../../src/core/rng.ts';
import { drawToken, sample } from '../../src/core/policy/sampler.ts';
import { EOS } from '../../src/core/policy/tokenizer.ts';
import { tinyMlp, tinyTransformer } from './helpers.ts';

describe('drawToken', () => {
  it('samples only among the top-k logits', () => {
    const logits = new Float32Array([0.1, 2, -1, 1.5, 0.3, 1.9]);
    const rng = new Rng(3);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(drawToken(logits, 1, 3, rng));
    expect([...seen].sort()).toEqual([1, 3, 5]);
  });

  it('samples from the whole vocabulary with top-k 0, and greedily with top-k 1', () => {
    const logits = new Float32Array([0, 0.5, 1, 0.2]);
    const rng = new Rng(4);
    const all = new Set<number>();
    for (let i = 0; i < 2000; i++) all.add(drawToken(logits, 1, 0, rng));
    expect(all.size).toBe(4);
    for (let i = 0; i < 50; i++) expect(drawToken(logits, 1, 1, rng)).toBe(2);
  });

  it('follows the softmax of logits / temperature', () => {
    const logits = new Float32Array([0, Math.log(3)]); // p = [0.25, 0.75] at temperature 1
    const rng = new Rng(5);
    let ones = 0;
    for (let i = 0; i < 20000; i++) ones += drawToken(logits, 1, 0, rng);
    expect(ones / 20000).toBeCloseTo(0.75, 1);
  });
});

describe.each([tinyMlp, tinyTransformer])('sample with the $arch policy', (config) => {
  it('stops each row at the stop token and pads after it', async () => {
    const policy = createPolicy(config, new Rng(1));
    const gen = await sample(policy, { prompts: Array(32).fill([]), maxNew: 12, temperature: 1, topK: 0, rng: new Rng(2) });
    let stopped = 0;
    for (let b = 0; b < gen.batch; b++) {
      const row = Array.from(gen.tokens.subarray(b * gen.width + 1, (b + 1) * gen.width));
      const n = gen.lengths[b];
      expect(n).toBeGreaterThan(0);
      const stopAt = row.indexOf(EOS);
      if (stopAt !== -1) {
        stopped++;
        expect(n).toBe(stopAt + 1); // the stop token is the last action
        expect(row.slice(stopAt).every((t) => t === EOS)).toBe(true);
      } else expect(n).toBe(12);
    }
    // An untrained 12-token vocabulary stops on about 1 token in 12: most of 32 rows stop within 12 steps.
    expect(stopped).toBeGreaterThan(10);
    policy.dispose();
  });

  it('gives the same tokens with and without the cache at the same seed', async () => {
    const policy = createPolicy(config, new Rng(7));
    const opts = { prompts: Array.from({ length: 16 }, (_, i) => (i % 3 === 0 ? [3, 4] : [5])), maxNew: 10, temperature: 1, topK: 0 };
    const cached = await sample(policy, { ...opts, rng: new Rng(11), cache: true });
    const uncached = await sample(policy, { ...opts, rng: new Rng(11), cache: false });
    expect(Array.from(cached.tokens)).toEqual(Array.from(uncached.tokens));
    expect(Array.from(cached.lengths)).toEqual(Array.from(uncached.lengths));
    policy.dispose();
  });

  it('honours top-k 1 (greedy): every row with the same prompt is identical', async () => {
    const policy = createPolicy(config, new Rng(8));
    const gen = await sample(policy, { prompts: Array(6).fill([2]), maxNew: 8, temperature: 1, topK: 1, rng: new Rng(1) });
    const rows = Array.from({ length: 6 }, (_, b) => Array.from(gen.tokens.subarray(b * gen.width, (b + 1) * gen.width)).join(','));
    expect(new Set(rows).size).toBe(1);
    policy.dispose();
  });

  it('leaves no tensors behind', async () => {
    const policy = createPolicy(config, new Rng(9));
    const before = tf.memory().numTensors;
    await sample(policy, { prompts: Array(4).fill([]), maxNew: 6, temperature: 1, topK: 2, rng: new Rng(1) });
    await sample(policy, { prompts: Array(4).fill([]), maxNew: 6, temperature: 1, topK: 0, rng: new Rng(1), cache: false });
    expect(tf.memory().numTensors).toBe(before);
    policy.dispose();
  });
});

it('refuses to decode past the transformer context', async () => {
  const policy = createPolicy(tinyTransformer, new Rng(1));
  await expect(sample(policy, { prompts: [[2, 3]], maxNew: 15, temperature: 1, topK: 0, rng: new Rng(1) })).rejects.toThrow(/exceed the transformer's context length 16/);
  policy.dispose();
});
