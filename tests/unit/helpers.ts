import * as tf from '../../src/core/tf.ts';
import { expect } from 'vitest';
import type { MlpConfig, TransformerConfig } from '../../src/core/policy/policy.ts';

export const tinyMlp: MlpConfig = { arch: 'mlp', vocabSize: 12, contextLength: 3, embedDim: 4, hiddenDim: 16 };
export const tinyTransformer: TransformerConfig = { arch: 'transformer', vocabSize: 12, contextLength: 16, layers: 2, heads: 2, width: 16 };

/** Runs `from` steps, counts tensors, runs on to `to` steps: the count must not have moved (nothing leaks per step). */
export async function expectFlatTensorCount(step: () => Promise<unknown>, from: number, to: number): Promise<void> {
  for (let i = 0; i < from; i++) await step();
  const after = tf.memory().numTensors;
  for (let i = from; i < to; i++) await step();
  expect(tf.memory().numTensors).toBe(after);
}
