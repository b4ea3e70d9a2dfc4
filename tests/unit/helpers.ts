import * as tf from '../../src/core/tf.ts';
import { expect } from 'vitest';
import type { MlpConfig, TransformerConfig } from '../../src/core/policy/policy.ts';
import type { Trainer } from '../../src/core/training/trainer.ts';

export const tinyMlp: MlpConfig = { arch: 'mlp', vocabSize: 12, contextLength: 3, embedDim: 4, hiddenDim: 16 };
export const tinyTransformer: TransformerConfig = { arch: 'transformer', vocabSize: 12, contextLength: 16, layers: 2, heads: 2, width: 16 };

/** Runs `from` steps, counts tensors, runs on to `to` steps: the count must not have moved (nothing leaks per step). */
export async function expectFlatTensorCount(step: () => Promise<unknown>, from: number, to: number): Promise<void> {
  for (let i = 0; i < from; i++) await step();
  const after = tf.memory().numTensors;
  for (let i = from; i < to; i++) await step();
  expect(tf.memory().numTensors).toBe(after);
}

/**
 * Two trainers from `make` take turns for two iterations, `set(true)` before
 * the first's and `set(false)` before the second's: every metric but the
 * timings must be equal and every weight the same bit for bit. `after` sees
 * them before they are disposed (the caller restores what `set` changed).
 */
export async function expectSameTraining(make: () => Trainer, set: (first: boolean) => void, after?: (a: Trainer, b: Trainer) => Promise<void> | void): Promise<void> {
  const [a, b] = [make(), make()];
  try {
    for (let i = 0; i < 2; i++) {
      set(true);
      const ma = (await a.step()).metrics;
      set(false);
      const mb = (await b.step()).metrics;
      for (const key of Object.keys(ma) as (keyof typeof ma)[]) if (!/Ms$|PerSecond$/.test(key)) expect(mb[key], key).toEqual(ma[key]);
    }
    const bits = (t: Trainer) => [...t.policy.weights.values()].map((v) => new Uint32Array((v.dataSync() as Float32Array).slice().buffer));
    const [wa, wb] = [bits(a), bits(b)];
    expect(wa.every((w, i) => w.length === wb[i].length && w.every((x, j) => x === wb[i][j]))).toBe(true);
    await after?.(a, b);
  } finally {
    a.dispose();
    b.dispose();
  }
}
