import * as tf from '../../src/core/tf.ts';
import { describe, expect, it } from 'vitest';
import { CAUSAL, kernelOptions } from '../../src/core/ops/kernels/wasmKernels.ts';
import { matMulT } from '../../src/core/ops/matmul.ts';
import { attentionSoftmax, causalSoftmax } from '../../src/core/ops/softmax.ts';
import { TransformerPolicy } from '../../src/core/policy/transformer.ts';
import { Rng } from '../../src/core/rng.ts';
import { FunctionReward } from '../../src/core/reward/reward.ts';
import { getTask, taskTokenizer } from '../../src/core/tasks/index.ts';
import { Trainer } from '../../src/core/training/trainer.ts';
import { expectSameTraining } from './helpers.ts';

/** Every element the same float32, bit for bit. */
function sameBits(x: tf.Tensor, y: tf.Tensor): boolean {
  const [a, b] = [new Uint32Array((x.dataSync() as Float32Array).slice().buffer), new Uint32Array((y.dataSync() as Float32Array).slice().buffer)];
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function random(shape: number[], rng: Rng, scale = 1): tf.Tensor {
  return tf.tensor(Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.normal() * scale), shape);
}

/** [batch, T, T] with zeros above (or below) the diagonal. */
function triangular(batch: number, T: number, rng: Rng, below: boolean): tf.Tensor {
  return tf.tensor(Float32Array.from({ length: batch * T * T }, (_, e) => {
    const [i, j] = [Math.floor(e / T) % T, e % T];
    return (below ? j <= i : j >= i) ? rng.normal() : 0;
  }), [batch, T, T]);
}

/** Attention over q, k, v [B, H, T, hd] with padding: its output and the gradients to q, k and v (dy zero on padding rows, as the model's). */
function attention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, pad: number[], dy: tf.Tensor4D, causal: boolean): tf.Tensor[] {
  return tf.tidy(() => attentionAndGrads(q, k, v, pad, dy, causal));
}

function attentionAndGrads(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, pad: number[], dy: tf.Tensor4D, causal: boolean): tf.Tensor[] {
  const [B, , T] = q.shape;
  const hidden = new Float32Array(B * T);
  pad.forEach((p, b) => hidden.fill(-1e9, b * T, b * T + p));
  const padMask = tf.tensor4d(hidden, [B, 1, 1, T]);
  const mask = causal ? padMask : tf.add(tf.linalg.bandPart(tf.ones([T, T]), -1, 0).sub(1).mul(1e9), padMask);
  const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
    const att = matMulT(a, b, false, true, causal ? CAUSAL.lowerOut : 0) as tf.Tensor4D;
    return matMulT(attentionSoftmax(att, mask, causal), c, false, false, causal ? CAUSAL.zeroAboveA : 0);
  };
  const y = f(q, k, v);
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => f(a, b, c).mul(dy).sum())([q, k, v], undefined);
  return [y, ...grads];
}

describe("attention's causal products and softmax (wasm kernels)", () => {
  it('products that leave out what is zero give the whole product bit for bit; a causal output matches on and below the diagonal', () => {
    const rng = new Rng(1);
    const before = tf.memory().numTensors;
    for (const [batch, T, n] of [[3, 65, 16], [2, 7, 5], [1, 16, 16], [2, 300, 12], [5, 4, 33]]) tf.tidy(() => {
      const lower = triangular(batch, T, rng, true);
      const upper = triangular(batch, T, rng, false);
      const b = random([batch, T, n], rng);
      const kq = random([batch, T, n], rng);
      expect(sameBits(matMulT(lower, b, false, false, CAUSAL.zeroAboveA), matMulT(lower, b)), `[${batch}, ${T}] zero above A`).toBe(true);
      // A stored zero above its diagonal and read transposed: zero below it, as the product reads it.
      expect(sameBits(matMulT(lower, b, true, false, CAUSAL.zeroBelowA), matMulT(lower, b, true, false)), `[${batch}, ${T}] zero below A (transposed)`).toBe(true);
      expect(sameBits(matMulT(upper, b, false, false, CAUSAL.zeroBelowA), matMulT(upper, b)), `[${batch}, ${T}] zero below A`).toBe(true);
      const [out, whole] = [matMulT(kq, b, false, true, CAUSAL.lowerOut), matMulT(kq, b, false, true)];
      const keep = tf.linalg.bandPart(tf.ones([batch, T, T]), -1, 0).cast('bool');
      const zero = tf.zerosLike(out);
      expect(sameBits(tf.where(keep, out, zero), tf.where(keep, whole, zero)), `[${batch}, ${T}] causal output`).toBe(true);
      // Blocks of 4 rows x 8 columns wholly above the diagonal hold zeros, not whatever memory held.
      expect(Array.from(out.dataSync()).every(Number.isFinite)).toBe(true);
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it("attention with the causal mask applied by the softmax gives the masked path's numbers, forwards and backwards, and no tensor behind", () => {
    expect(causalSoftmax()).toBe(true);
    const rng = new Rng(2);
    const before = tf.memory().numTensors;
    for (const [B, H, T, hd, pad] of [[3, 2, 65, 16, [0, 5, 64]], [2, 4, 9, 6, [0, 3]], [1, 1, 17, 3, [2]], [2, 2, 260, 8, [0, 100]]] as [number, number, number, number, number[]][]) {
      const [q, k, v] = [0, 1, 2].map(() => random([B, H, T, hd], rng) as tf.Tensor4D);
      const rows = Float32Array.from({ length: B * H * T * hd }, (_, e) => (Math.floor(e / hd) % T >= pad[Math.floor(e / (H * T * hd))] ? rng.normal() : 0));
      const dy = tf.tensor4d(rows, [B, H, T, hd]);
      const causal = attention(q, k, v, pad, dy, true);
      const masked = attention(q, k, v, pad, dy, false);
      // A padding row's own output differs (its weights spread over other columns) and is never read: compared elsewhere.
      const real = dy.notEqual(0);
      const zero = tf.zerosLike(dy);
      expect(tf.tidy(() => sameBits(tf.where(real, causal[0], zero), tf.where(real, masked[0], zero))), `[${B}, ${H}, ${T}, ${hd}] output`).toBe(true);
      for (let i = 1; i < 4; i++) expect(sameBits(causal[i], masked[i]), `[${B}, ${H}, ${T}, ${hd}] gradient ${i}`).toBe(true);
      tf.dispose([q, k, v, dy, real, zero, ...causal, ...masked]);
    }
    // More rows than columns cannot be causal: named, not read past.
    const wide = tf.zeros([1, 1, 5, 3]) as tf.Tensor4D;
    expect(() => attentionSoftmax(wide, null, true)).toThrow('RlcfSoftmax: a causal softmax needs a row per column at most (T <= n); got [1,1,5,3]');
    wide.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  /** A names transformer trainer (small, random reference), with these settings and seeds. */
  const trainer = (referenceSeed: number, seed: number, hyperparameters: Record<string, number>) => () =>
    new Trainer({
      task: getTask('names'),
      reference: new TransformerPolicy({ arch: 'transformer', vocabSize: taskTokenizer(getTask('names')).vocabSize, contextLength: 24, layers: 2, heads: 2, width: 16 }, new Rng(referenceSeed)),
      hyperparameters: { maxLength: 12, batchSize: 16, minibatches: 2, ...hyperparameters },
      seed,
      reward: new FunctionReward([{ name: 'length', weight: 1, fn: (s: { text: string }) => s.text.length }]),
    });

  it("takes a rollout's old log-probabilities, values and entropies from sampling where they are forwardAt's: the same training, bit for bit", async () => {
    try {
      await expectSameTraining(trainer(8, 9, { temperature: 0.7 }), (first) => (kernelOptions.scoresFromSampling = first));
    } finally {
      kernelOptions.scoresFromSampling = true;
    }
  });

  it('trains a transformer to the same numbers with the causal mask applied by the softmax as with it added', async () => {
    try {
      await expectSameTraining(trainer(4, 6, {}), (first) => (kernelOptions.causal = first));
    } finally {
      kernelOptions.causal = true;
    }
  });
});
