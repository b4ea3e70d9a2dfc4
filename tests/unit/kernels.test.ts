import * as tf from '../../src/core/tf.ts';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { compileKernels, KERNEL_DIR } from '../../scripts/buildKernels.ts';
import { batchedShape, columnSumShape, wasmKernelsInstalled } from '../../src/core/kernels/wasmKernels.ts';
import { Rng } from '../../src/core/rng.ts';

/** A [..., m, k] x [..., k, n] product in float64, batch by batch. */
function reference(a: Float32Array, b: Float32Array, batch: number, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(batch * m * n);
  for (let s = 0; s < batch; s++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) sum += a[s * m * k + i * k + p] * b[s * k * n + p * n + j];
        c[s * m * n + i * n + j] = sum;
      }
  return c;
}

function maxDifference(x: tf.Tensor, y: tf.Tensor): number {
  const yv = y.dataSync();
  return Math.max(...Array.from(x.dataSync(), (v, i) => Math.abs(v - yv[i])));
}

function random(shape: number[], rng: Rng): tf.Tensor {
  return tf.tensor(Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.normal()), shape);
}

describe('the batched matrix product kernel (wasm)', () => {
  it('is what scripts/buildKernels.ts makes of its source', async () => {
    for (const [file, source] of await compileKernels()) expect(readFileSync(path.join(KERNEL_DIR, file), 'utf8'), file).toBe(source);
  });

  it('runs the wasm backend’s batched products and leading-axis sums', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(wasmKernelsInstalled()).toBe(true);
  });

  // Column counts that exercise its 16-wide, 4-wide and one-by-one paths, ranks 3 and 4.
  for (const [lead, m, k, n] of [
    [[32, 4], 20, 20, 16],
    [[32, 4], 13, 16, 13],
    [[3], 5, 7, 23],
    [[2], 1, 9, 4],
    [[6], 8, 1, 37],
  ] as [number[], number, number, number][]) {
    it(`[${[...lead, m, k]}] x [${[...lead, k, n]}] equals the product in float64`, () => {
      const rng = new Rng(m * 100 + n);
      const a = random([...lead, m, k], rng);
      const b = random([...lead, k, n], rng);
      expect(batchedShape(a, b, false, false)).not.toBeNull(); // the kernel's case, not tfjs's
      const before = tf.memory().numTensors;
      const c = tf.matMul(a, b);
      expect(c.shape).toEqual([...lead, m, n]);
      const want = reference(a.dataSync() as Float32Array, b.dataSync() as Float32Array, lead.reduce((x, y) => x * y, 1), m, k, n);
      const got = c.dataSync();
      want.forEach((w, i) => expect(Math.abs(got[i] - w)).toBeLessThan(1e-4 * (1 + Math.abs(w))));
      c.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([a, b]);
    });
  }

  it('leaves to tfjs what it does not cover (transposes, broadcast batches, one batch), with the same results', () => {
    const rng = new Rng(9);
    const a = random([4, 6, 5], rng);
    const b = random([4, 5, 3], rng);
    const one = random([1, 5, 3], rng);
    expect(batchedShape(a, b, true, false)).toBeNull();
    expect(batchedShape(a, one, false, false)).toBeNull();
    expect(batchedShape(random([1, 6, 5], rng), one, false, false)).toBeNull();
    // A transposed-by-flag product (tfjs) against the kernel's on explicitly transposed data.
    const viaFlag = tf.matMul(tf.transpose(a, [0, 2, 1]), b, true, false);
    const viaKernel = tf.matMul(a, b);
    expect(maxDifference(viaFlag, viaKernel)).toBeLessThan(1e-5);
    // A broadcast batch goes to tfjs and still multiplies every batch by the one matrix.
    const broadcast = tf.matMul(a, one);
    const each = tf.matMul(a, tf.tile(one, [4, 1, 1]));
    expect(maxDifference(broadcast, each)).toBeLessThan(1e-5);
    tf.dispose([a, b, one, viaFlag, viaKernel, broadcast, each]);
  });

  it('backpropagates: gradients of a batched product equal those of the same product computed per batch', () => {
    const rng = new Rng(4);
    const a = random([3, 4, 6], rng);
    const b = random([3, 6, 5], rng);
    const batched = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y))))([a, b]);
    const perBatch = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
      tf.sum(tf.square(tf.stack([0, 1, 2].map((i) => tf.matMul(x.slice([i, 0, 0], [1, 4, 6]).squeeze([0]), y.slice([i, 0, 0], [1, 6, 5]).squeeze([0])))))),
    )([a, b]);
    for (let i = 0; i < 2; i++) {
      const d = batched[i].dataSync();
      perBatch[i].dataSync().forEach((v, j) => expect(d[j]).toBeCloseTo(v, 4));
    }
  });
});

describe('the column-sum kernel (wasm)', () => {
  // Column counts through its 16-wide, 4-wide and one-by-one paths; ranks 2 to 4; keepDims.
  for (const [shape, axis, keepDims] of [
    [[2080, 256], 0, false],
    [[32, 20, 64], [0, 1], false],
    [[5, 3, 7, 23], [2, 0, 1], true],
    [[9, 1], [-2], false],
    [[1, 37], 0, true],
  ] as [number[], number | number[], boolean][]) {
    it(`sum over ${JSON.stringify(axis)} of [${shape}]${keepDims ? ', keepDims' : ''} equals the sum in float64`, () => {
      const rng = new Rng(shape.reduce((a, b) => a + b, 0));
      const x = random(shape, rng);
      expect(columnSumShape(x, axis, keepDims)).not.toBeNull(); // the kernel's case
      const before = tf.memory().numTensors;
      const s = tf.sum(x, axis, keepDims);
      const cols = shape.at(-1)!;
      expect(s.shape).toEqual(keepDims ? [...shape.slice(0, -1).map(() => 1), cols] : [cols]);
      const xs = x.dataSync();
      const want = Array.from({ length: cols }, (_, c) => {
        let sum = 0;
        for (let i = c; i < xs.length; i += cols) sum += xs[i];
        return sum;
      });
      const got = s.dataSync();
      want.forEach((w, c) => expect(Math.abs(got[c] - w)).toBeLessThan(1e-4 * (1 + Math.abs(w))));
      s.dispose();
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    });
  }

  it('leaves other sums to tfjs: the last axis, some leading axes only, all axes, integers', () => {
    const rng = new Rng(5);
    const x = random([4, 3, 5], rng);
    expect(columnSumShape(x, -1, false)).toBeNull();
    expect(columnSumShape(x, 0, false)).toBeNull();
    expect(columnSumShape(x, [0, 1, 2], false)).toBeNull();
    const ints = tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32');
    expect(columnSumShape(ints, 0, false)).toBeNull();
    expect(Array.from(tf.sum(ints, 0).dataSync())).toEqual([4, 6]);
    // A sum over the first axis alone of a rank-3 tensor still adds the right numbers.
    const first = tf.sum(x, 0);
    const viaColumns = tf.sum(tf.transpose(x, [1, 2, 0]), -1);
    expect(maxDifference(first, viaColumns)).toBeLessThan(1e-5);
    tf.dispose([x, ints, first, viaColumns]);
  });

  it('backpropagates through a bias: its gradient is the column sum of what flows back', () => {
    const rng = new Rng(6);
    const x = random([6, 4, 5], rng);
    const b = random([5], rng);
    const g = tf.grad((bias: tf.Tensor) => tf.sum(tf.square(tf.add(x, bias))))(b);
    const want = tf.sum(tf.mul(2, tf.add(x, b)).reshape([24, 5]).transpose(), -1);
    expect(maxDifference(g, want)).toBeLessThan(1e-4);
    tf.dispose([x, b, g, want]);
  });
});
