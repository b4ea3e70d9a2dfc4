import * as tf from '../../src/core/tf.ts';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { compileKernels, KERNEL_DIR } from '../../scripts/buildKernels.ts';
import { addRowsShape, batchedShape, columnSumShape, gatherRowsShape, hasRelaxedSimd, kernelOptions, LAYER_NORM, LINEAR, ROW_MOVE, SUMMED_ROWS, wasmKernelsInstalled } from '../../src/core/ops/kernels/wasmKernels.ts';
import { summedRows } from '../../src/core/ops/rows.ts';
import { layerNorm } from '../../src/core/ops/layerNorm.ts';
import { FusedAdam } from '../../src/core/ops/adam.ts';
import { gelu } from '../../src/core/ops/activations.ts';
import { attentionSoftmax } from '../../src/core/ops/softmax.ts';
import { linear } from '../../src/core/ops/matmul.ts';
import { MAT_MUL_PLAIN_WASM, MAT_MUL_WASM } from '../../src/core/ops/kernels/matMulWasm.ts';
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

describe('the matrix product kernel (wasm)', () => {
  it('is what scripts/buildKernels.ts makes of its source', async () => {
    for (const [file, source] of await compileKernels()) expect(readFileSync(path.join(KERNEL_DIR, file), 'utf8'), file).toBe(source);
  });

  it('runs the wasm backend’s products and leading-axis sums, with fused multiply-adds where the engine has relaxed SIMD', () => {
    expect(tf.getBackend()).toBe('wasm');
    // The Node entry points turn relaxed SIMD on (a flag on Node 20), as Chrome has it.
    expect(hasRelaxedSimd()).toBe(true);
    expect(wasmKernelsInstalled()).toBe('relaxed');
  });

  it('has a variant without relaxed SIMD that every engine with SIMD accepts', () => {
    const bytes = (base64: string) => Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    expect(bytes(MAT_MUL_PLAIN_WASM).length).toBeGreaterThan(1000);
    expect(new TextDecoder('latin1').decode(bytes(MAT_MUL_PLAIN_WASM))).toContain('matMul');
    // Relaxed SIMD's opcodes are 0xfd 0x80-0x93 0x02 (LEB128 256-275); the plain variant has none of them.
    expect(relaxedOpcodes(bytes(MAT_MUL_WASM))).toBeGreaterThan(0);
    expect(relaxedOpcodes(bytes(MAT_MUL_PLAIN_WASM))).toBe(0);
    // And it multiplies: [2, 7, 5] x [2, 5, 13] in a memory of its own.
    const memory = new WebAssembly.Memory({ initial: 1 });
    const { matMul } = new WebAssembly.Instance(new WebAssembly.Module(bytes(MAT_MUL_PLAIN_WASM)), { env: { memory } }).exports as {
      matMul: (a: number, b: number, c: number, batch: number, m: number, k: number, n: number, ta: number, tb: number, scratch: number) => void;
    };
    const [batch, m, k, n] = [2, 7, 5, 13];
    const rng = new Rng(12);
    const f = new Float32Array(memory.buffer);
    const a = Float32Array.from({ length: batch * m * k }, () => rng.normal());
    const b = Float32Array.from({ length: batch * k * n }, () => rng.normal());
    f.set(a, 0);
    f.set(b, a.length);
    matMul(0, a.length * 4, (a.length + b.length) * 4, batch, m, k, n, 0, 0, 0);
    const got = f.subarray(a.length + b.length, a.length + b.length + batch * m * n);
    reference(a, b, batch, m, k, n).forEach((w, i) => expect(Math.abs(got[i] - w)).toBeLessThan(1e-5 * (1 + Math.abs(w))));
  });

  // Row counts through its 4-row blocks (in blocks of 64) and single rows, columns through its
  // 8-wide panels (read in place, or packed from 16 rows up) and 4-wide ones and one-by-one
  // columns; ranks 2 to 4, one batch and many.
  for (const [lead, m, k, n] of [
    [[32, 4], 20, 20, 16],
    [[32, 4], 13, 16, 13],
    [[3], 5, 7, 23],
    [[2], 1, 9, 4],
    [[6], 8, 1, 37],
    [[], 270, 128, 256],
    [[], 67, 256, 28],
    [[], 9, 64, 1],
    [[2], 9, 600, 21],
    [[1], 6, 5, 3],
    [[], 150, 300, 37], // rows in blocks of 64 (64, 64, 20, then 2 one by one), k in two blocks
    [[2], 131, 520, 70],
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

    it(`[${[...lead, m, k]}] x [${[...lead, k, n]}] with either operand stored transposed: the very numbers of the product of transposed copies`, () => {
      const rng = new Rng(m * 100 + n + 7);
      const a = random([...lead, m, k], rng);
      const b = random([...lead, k, n], rng);
      const swap = (x: tf.Tensor) => tf.transpose(x, [...lead.map((_, i) => i), lead.length + 1, lead.length]);
      const [at, bt] = [swap(a), swap(b)]; // [..., k, m] and [..., n, k]
      const plain = tf.matMul(a, b);
      const before = tf.memory().numTensors;
      for (const [x, y, ta, tb] of [[at, b, true, false], [a, bt, false, true], [at, bt, true, true]] as [tf.Tensor, tf.Tensor, boolean, boolean][]) {
        expect(batchedShape(x, y, ta, tb), `${ta} ${tb}`).not.toBeNull(); // the kernel's case, not tfjs's
        const c = tf.matMul(x, y, ta, tb);
        expect(c.shape).toEqual(plain.shape);
        expect(Array.from(c.dataSync()), `transposeA ${ta}, transposeB ${tb}`).toEqual(Array.from(plain.dataSync()));
        c.dispose();
      }
      expect(tf.memory().numTensors).toBe(before); // the scratch memory of a transposed B is freed
      tf.dispose([a, b, at, bt, plain]);
    });
  }

  it('rounds every entry alike wherever it falls (panels, edges, last columns, k in blocks of 256 or whole): a product and its transpose agree bit for bit', () => {
    const rng = new Rng(21);
    // k over 256: the panels' quads sum k in blocks, the single rows and last columns in one go.
    for (const [m, k, n] of [[11, 16, 13], [7, 65, 3], [65, 16, 65], [5, 9, 2], [9, 600, 13], [13, 513, 9], [6, 256, 11], [150, 300, 37], [70, 513, 19]]) {
      const a = random([m, k], rng);
      const b = random([k, n], rng);
      const c = tf.matMul(a, b); // [m, n]: n's last columns one by one
      const ct = tf.matMul(b, a, true, true); // [n, m] = b^T a^T: other entries fall in the last columns
      expect(Array.from(tf.transpose(ct).dataSync()), `${m} ${k} ${n}`).toEqual(Array.from(c.dataSync()));
      tf.dispose([a, b, c, ct]);
    }
  });

  it('leaves to tfjs what it does not cover (broadcast batches, mismatched sizes), with the same results', () => {
    const rng = new Rng(9);
    const a = random([4, 6, 5], rng);
    const one = random([1, 5, 3], rng);
    expect(batchedShape(a, random([4, 5, 3], rng), true, false)).toBeNull(); // 6 against 5
    expect(batchedShape(a, one, false, false)).toBeNull();
    expect(batchedShape(random([6, 5], rng), one, false, false)).toBeNull();
    // A broadcast batch goes to tfjs and still multiplies every batch by the one matrix.
    const broadcast = tf.matMul(a, one);
    const each = tf.matMul(a, tf.tile(one, [4, 1, 1]));
    expect(maxDifference(broadcast, each)).toBeLessThan(1e-5);
    tf.dispose([a, one, broadcast, each]);
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

/** How many relaxed-SIMD instructions a module's code holds (prefix 0xfd, then LEB128 256-275). */
function relaxedOpcodes(bytes: Uint8Array): number {
  let count = 0;
  for (let i = 0; i + 2 < bytes.length; i++) if (bytes[i] === 0xfd && bytes[i + 1] >= 0x80 && bytes[i + 1] <= 0x93 && bytes[i + 2] === 0x02) count++;
  return count;
}

describe('the row-gather kernel (wasm)', () => {
  it('gathers rows on the first axis (float32 and int32, indices of any rank) as tfjs does, and names an index out of range', () => {
    const rng = new Rng(21);
    const x = random([7, 3, 5], rng);
    const indices = tf.tensor2d([[6, 0, 2], [2, 2, 1]], [2, 3], 'int32');
    expect(gatherRowsShape(x, indices, 0, 0)).not.toBeNull(); // the kernel's case
    expect(gatherRowsShape(x, indices, 1, 0)).toBeNull();
    const got = tf.gather(x, indices);
    expect(got.shape).toEqual([2, 3, 3, 5]);
    const xs = x.arraySync() as number[][][];
    expect(got.arraySync()).toEqual([[xs[6], xs[0], xs[2]], [xs[2], xs[2], xs[1]]]);
    const ints = tf.tensor2d([[1, 2], [3, 4], [5, 6]], [3, 2], 'int32');
    expect(tf.gather(ints, tf.tensor1d([2, 0], 'int32')).arraySync()).toEqual([[5, 6], [1, 2]]);
    // A gather on another axis still goes to tfjs, with the same numbers as slicing.
    expect(tf.gather(x, tf.tensor1d([4, 0], 'int32'), 2).arraySync()).toEqual(xs.map((m) => m.map((r) => [r[4], r[0]])));
    const [past, negative] = [tf.tensor1d([1, 7], 'int32'), tf.tensor1d([-1], 'int32')];
    const before = tf.memory().numTensors;
    expect(() => tf.gather(x, past)).toThrow('GatherV2: the index value 7 is not in [0, 6]');
    expect(() => tf.gather(x, negative)).toThrow('GatherV2: the index value -1 is not in [0, 6]');
    expect(tf.memory().numTensors).toBe(before); // no output left behind
    tf.dispose([x, indices, got, ints, past, negative]);
  });

  it('moves rows with zeros for the index one past the last row (rowMover’s kernel)', () => {
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const moved = tf.engine().runKernel(ROW_MOVE, { x, indices: tf.tensor1d([1, 2, 0], 'int32') }) as tf.Tensor;
    expect(moved.arraySync()).toEqual([[3, 4], [0, 0], [1, 2]]);
    expect(() => tf.engine().runKernel(ROW_MOVE, { x, indices: tf.tensor1d([3], 'int32') })).toThrow(`${ROW_MOVE}: the index value 3 is not in [0, 2]`);
    tf.dispose([x, moved]);
  });
});

describe('identity and same-type casts (wasm)', () => {
  it('share the data instead of copying it, and each tensor lives and dies on its own', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const same = tf.cast(x, 'float32');
    const copy = tf.clone(x);
    const ints = tf.cast(x, 'int32'); // a real cast still converts
    x.dispose();
    expect(Array.from(same.dataSync())).toEqual([1, 2, 3]);
    same.dispose();
    expect(Array.from(copy.dataSync())).toEqual([1, 2, 3]);
    expect(ints.dtype).toBe('int32');
    expect(Array.from(tf.cast(tf.tensor1d([1.7, -2.2]), 'int32').dataSync())).toEqual([1, -2]);
    tf.dispose([copy, ints]);
  });

  it("the tape keeps what a registered kernel's gradient needs without cloning it: the same gradients, fewer Identity kernels, and every tensor freed", async () => {
    const rng = new Rng(21);
    const [x, w] = [tf.tensor2d(Float32Array.from({ length: 600 }, () => rng.normal()), [20, 30]), tf.variable(tf.tensor2d(Float32Array.from({ length: 300 }, () => rng.normal()), [30, 10]))];
    const b = tf.variable(tf.zeros([10]));
    const before = tf.memory().numTensors;
    const grads = async (on: boolean) => {
      kernelOptions.sharedSaves = on;
      try {
        let out: tf.Tensor[] = [];
        const profile = await tf.profile(() => {
          out = tf.tidy(() => {
            const { grads: g } = tf.variableGrads(() => tf.sum(tf.square(layerNorm(gelu(linear(x, w as tf.Tensor2D, b as tf.Tensor1D)), tf.ones([10]), tf.zeros([10])))) as tf.Scalar, [w, b]);
            return [g[w.name], g[b.name]];
          });
        });
        return { out, identities: profile.kernels.filter((k) => k.name === 'Identity').length };
      } finally {
        kernelOptions.sharedSaves = true;
      }
    };
    const cloned = await grads(false);
    const kept = await grads(true);
    expect(cloned.identities).toBeGreaterThan(0);
    expect(kept.identities).toBeLessThan(cloned.identities); // (a customGrad's own saves still clone: layer norm's here)
    cloned.out.forEach((g, i) => expect(Array.from(kept.out[i].dataSync())).toEqual(Array.from(g.dataSync())));
    tf.dispose([...cloned.out, ...kept.out]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w, b]);
  });
});

describe('segment sums and summed rows (wasm)', () => {
  it('UnsortedSegmentSum adds rows by id in float32 as a loop does (a gather’s gradient), and names an id out of range', () => {
    const rng = new Rng(31);
    const x = random([6, 2, 5], rng);
    const ids = [3, 0, 3, 1, 3, 0];
    const got = tf.unsortedSegmentSum(x, tf.tensor1d(ids, 'int32'), 5);
    expect(got.shape).toEqual([5, 2, 5]);
    const xs = x.dataSync();
    const want = new Float32Array(5 * 10);
    ids.forEach((s, i) => { for (let j = 0; j < 10; j++) want[s * 10 + j] = Math.fround(want[s * 10 + j] + xs[i * 10 + j]); });
    expect(Array.from(got.dataSync())).toEqual(Array.from(want)); // same order, same float32 sums: equal to the bit
    expect(() => tf.unsortedSegmentSum(x, tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32'), 5)).toThrow('UnsortedSegmentSum: the segment id 5 is not in [0, 4]');
    // So a gather has a gradient on wasm: d/dtable of sum(gather(table, ids) * w) puts w's rows on their ids.
    const table = random([4, 3], rng);
    const w = random([5, 3], rng);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor1d([2, 0, 2, 3, 2], 'int32')), w)))(table);
    const ws = w.arraySync() as number[][];
    const sum = (...r: number[][]) => [0, 1, 2].map((j) => r.reduce((a, row) => a + row[j], 0));
    const expected = [ws[1], [0, 0, 0], sum(ws[0], ws[2], ws[4]), ws[3]];
    (g.arraySync() as number[][]).forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i][j], 5)));
    tf.dispose([x, got, table, w, g]);
  });

  it('summedRows gives a gather-then-sum’s values and gradients, leaves no tensor behind, and names a row out of range', () => {
    const rng = new Rng(32);
    const table = random([10, 7], rng);
    const rows = tf.tensor2d([[0, 9, 3, 3], [1, 1, 2, 9], [5, 0, 3, 8]], [3, 4], 'int32'); // K 3, N 4
    const w = random([4, 7], rng);
    const composite = (t: tf.Tensor) => tf.sum(tf.gather(t, rows).reshape([3, 28]), 0).reshape([4, 7]);
    const before = tf.memory().numTensors;
    const [value, grad, wantValue, wantGrad] = tf.tidy(() => [
      summedRows(table as tf.Tensor2D, rows),
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(summedRows(t as tf.Tensor2D, rows), w)))(table),
      composite(table),
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(composite(t), w)))(table),
    ].map((t) => Array.from(t.dataSync())));
    expect(tf.memory().numTensors).toBe(before);
    expect(value).toEqual(wantValue); // rows added in the same order
    grad.forEach((v, i) => expect(v).toBeCloseTo(wantGrad[i], 5));
    expect(() => summedRows(table as tf.Tensor2D, tf.tensor2d([[0], [10]], [2, 1], 'int32'))).toThrow(`${SUMMED_ROWS}: the row index 10 is not in [0, 9]`);
    tf.dispose([table, rows, w]);
  });
});

describe('layer norm (wasm kernels)', () => {
  it('gives the composed ops’ values and gradients for x, gain and bias, and leaves no tensor behind', () => {
    const rng = new Rng(41);
    const x = tf.add(tf.mul(random([3, 5, 12], rng), 3), 1); // rows with a mean and a scale of their own
    const g = random([12], rng);
    const b = random([12], rng);
    const w = random([3, 5, 12], rng);
    const composed = (xs: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor) => {
      const { mean, variance } = tf.moments(xs, -1, true);
      return xs.sub(mean).mul(tf.rsqrt(variance.add(1e-5))).mul(gain).add(bias);
    };
    const before = tf.memory().numTensors;
    const [fused, plain] = [layerNorm, composed].map((f) =>
      tf.tidy(() => [f(x, g, b), ...tf.grads((xs: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor) => tf.sum(tf.mul(f(xs, gain, bias), w)))([x, g, b])].map((t) => Array.from(t.dataSync()))),
    );
    expect(tf.memory().numTensors).toBe(before);
    fused.forEach((values, k) => values.forEach((v, i) => expect(Math.abs(v - plain[k][i])).toBeLessThan(2e-5 * (1 + Math.abs(plain[k][i])))));
    expect(new Set(fused[1].map((v) => v.toFixed(3))).size).toBeGreaterThan(100); // a gradient that says something
    tf.dispose([x, g, b, w]);
  });

  it('refuses rows whose length is not the gain’s', () => {
    const x = tf.zeros([2, 8]);
    expect(() => tf.engine().runKernel(LAYER_NORM, { x, g: tf.ones([4]), b: tf.zeros([4]) }, { eps: 1e-5 })).toThrow(/needs float32 rows whose length/);
    x.dispose();
  });
});

describe('GELU (wasm kernels)', () => {
  it("matches tfjs's ops, x * sigmoid(1.702 x), forwards and backwards, over the whole float range it meets, with no tensor left", () => {
    // Near zero, large of both signs (sigmoid's exp at its clamps), and a tail of n mod 4.
    const values = Float32Array.from({ length: 40003 }, (_, i) => (i % 5 === 0 ? (i / 40003 - 0.5) * 400 : (i / 40003 - 0.5) * 16));
    const x = tf.tensor(values, [40003]);
    const dy = tf.tensor(Float32Array.from({ length: 40003 }, (_, i) => Math.sin(i)), [40003]);
    const before = tf.memory().numTensors;
    const run = (on: boolean) => {
      kernelOptions.gelu = on;
      const y = tf.tidy(() => gelu(x));
      const dx = tf.grad((t: tf.Tensor) => gelu(t).mul(dy).sum())(x);
      return [y.dataSync(), dx.dataSync(), tf.dispose([y, dx])] as const;
    };
    const [y0, g0] = run(false);
    const [y1, g1] = run(true);
    kernelOptions.gelu = true;
    expect(tf.memory().numTensors).toBe(before);
    for (let i = 0; i < values.length; i++) {
      expect(Math.abs(y1[i] - y0[i]), `y at ${values[i]}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(y0[i])));
      // The gradient's terms cancel near its zero (x about -1.5): compare against the scale of its terms.
      expect(Math.abs(g1[i] - g0[i]), `dx at ${values[i]}`).toBeLessThanOrEqual(3e-6 * Math.max(1, Math.abs(values[i])));
    }
    expect(y1.some((v, i) => v !== y0[i])).toBe(true); // the kernel ran (its exp rounds otherwise than tfjs's sigmoid)
    tf.dispose([x, dy]);
  });
});

describe("attention's softmax (wasm kernels)", () => {
  // [B, H, T, n] scores against each mask attention makes: none, causal [T, n], padding [B, 1, 1, n], both [B, 1, T, n].
  const [B, H, T, n] = [3, 4, 9, 13];
  const causal = tf.tensor(Float32Array.from({ length: T * n }, (_, i) => (i % n > Math.floor(i / n) + n - T ? -1e9 : 0)), [T, n]);
  const padding = tf.tensor(Float32Array.from({ length: B * n }, (_, i) => (i % n < Math.floor(i / n) * 2 ? -1e9 : 0)), [B, 1, 1, n]);
  const both = causal.add(padding);
  for (const [name, mask] of [['no mask', null], ['a causal mask', causal], ['a padding mask', padding], ['both', both]] as [string, tf.Tensor | null][]) {
    it(`matches tfjs's softmax of the masked scores, forwards and backwards, with ${name}`, () => {
      const rng = new Rng(31);
      const x = random([B, H, T, n], rng).mul(4) as tf.Tensor4D;
      const dy = random([B, H, T, n], rng);
      const before = tf.memory().numTensors;
      const run = (on: boolean) => {
        kernelOptions.softmax = on;
        const y = tf.tidy(() => attentionSoftmax(x, mask));
        const dx = tf.grad((t: tf.Tensor) => attentionSoftmax(t as tf.Tensor4D, mask).mul(dy).sum())(x);
        return [y.dataSync(), dx.dataSync(), tf.dispose([y, dx])] as const;
      };
      const [y0, g0] = run(false);
      const [y1, g1] = run(true);
      kernelOptions.softmax = true;
      expect(tf.memory().numTensors).toBe(before);
      y0.forEach((v, i) => expect(Math.abs(y1[i] - v), `y ${i}`).toBeLessThanOrEqual(1e-6));
      g0.forEach((v, i) => expect(Math.abs(g1[i] - v), `dx ${i}`).toBeLessThanOrEqual(2e-6));
      if (mask) expect(y1.filter((v, i) => y0[i] === 0).every((v) => v === 0)).toBe(true); // masked columns exactly 0
      expect(y1.some((v, i) => v !== y0[i])).toBe(true); // the kernel ran
      tf.dispose([x, dy]);
    });
  }
});

describe('a product with its bias (wasm kernel)', () => {
  // Rows through quads and singles, columns through 8-wide and 4-wide panels and the last ones; k over 256; and a product shared with the second thread.
  for (const [N, K, n, residual] of [[13, 20, 16, false], [70, 300, 45, true], [9, 7, 3, true], [300, 256, 192, false], [300, 256, 192, true], [6, 4, 40, true]] as [number, number, number, boolean][]) {
    it(`x [${N}, ${K}] w [${K}, ${n}] + b${residual ? ', then + a residual' : ''}: the very numbers of tfjs's product and sums, forwards and backwards`, async () => {
      const rng = new Rng(N + K + n);
      const [x, w, b, r, dy] = [random([N, K], rng), random([K, n], rng), random([n], rng), random([N, n], rng), random([N, n], rng)] as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor2D];
      const f = (p: tf.Tensor, q: tf.Tensor, c: tf.Tensor, s: tf.Tensor) => linear(p as tf.Tensor2D, q as tf.Tensor2D, c as tf.Tensor1D, residual ? (s as tf.Tensor2D) : undefined);
      const before = tf.memory().numTensors;
      const run = (on: boolean) => {
        kernelOptions.linear = on;
        const y = tf.tidy(() => f(x, w, b, r));
        const grads = tf.grads((p: tf.Tensor, q: tf.Tensor, c: tf.Tensor, s: tf.Tensor) => f(p, q, c, s).mul(dy).sum().add(s.sum().mul(0)))([x, w, b, r]);
        const out = [y, ...grads].map((t) => Array.from(t.dataSync()));
        tf.dispose([y, ...grads]);
        return out;
      };
      const [plain, fused] = [run(false), run(true)];
      kernelOptions.linear = true;
      expect(tf.memory().numTensors).toBe(before);
      ['y', 'dx', 'dw', 'db', 'dr'].forEach((name, i) => expect(fused[i], name).toEqual(plain[i]));
      const profile = await tf.profile(() => f(x, w, b, r));
      expect(profile.kernelNames).toEqual([LINEAR]); // one kernel, ours
      tf.dispose([profile.result as tf.Tensor, x, w, b, r, dy]);
    });
  }
});

describe('FusedAdam (wasm kernel)', () => {
  it('takes tfjs Adam’s steps to the bit, keeps its state format, and leaves no tensor behind', async () => {
    const rng = new Rng(51);
    const shapes = [[7, 5], [64], [3], [2, 3, 4]];
    const make = (tag: string) => shapes.map((s, i) => tf.variable(random(s, new Rng(100 + i)), true, `fused_adam_${tag}_${i}`));
    const [ours, theirs] = [make('ours'), make('theirs')];
    const [fused, plain]: tf.Optimizer[] = [new FusedAdam(3e-3, 0.9, 0.999, 1e-5), tf.train.adam(3e-3, 0.9, 0.999, 1e-5)];
    const before = tf.memory().numTensors;
    for (let step = 0; step < 6; step++) {
      const grads = shapes.map((s) => random(s, rng));
      fused.applyGradients(Object.fromEntries(ours.map((v, i) => [v.name, grads[i]])));
      plain.applyGradients(Object.fromEntries(theirs.map((v, i) => [v.name, grads[i]])));
      tf.dispose(grads);
    }
    ours.forEach((v, i) => expect(Array.from(v.dataSync())).toEqual(Array.from(theirs[i].dataSync())));
    const [a, b] = await Promise.all([fused.getWeights(), plain.getWeights()]);
    expect(a.map((w) => w.name.replace('ours', ''))).toEqual(b.map((w) => w.name.replace('theirs', '')));
    a.forEach((w, i) => expect(Array.from(w.tensor.dataSync())).toEqual(Array.from(b[i].tensor.dataSync())));
    tf.dispose([a[0].tensor, b[0].tensor]); // the fresh step-count scalars
    // Six steps created each weight's two moments once (2 x 4 per optimizer); nothing else stayed.
    expect(tf.memory().numTensors).toBe(before + 2 * 2 * shapes.length);
    fused.dispose();
    plain.dispose();
    tf.dispose([...ours, ...theirs]);
  });
});

describe('the broadcast sum kernel (wasm)', () => {
  it('takes a bias or a mask added to every row, and leaves the rest to tfjs', () => {
    const t = (shape: number[]) => ({ shape, dtype: 'float32' }) as unknown as tf.TensorInfo;
    expect(addRowsShape(t([2080, 64]), t([64]))).toEqual({ rows: 2080, n: 64, rowsOf: 'a', out: [2080, 64] });
    expect(addRowsShape(t([65, 65]), t([32, 4, 65, 65]))).toEqual({ rows: 128, n: 4225, rowsOf: 'b', out: [32, 4, 65, 65] });
    expect(addRowsShape(t([1, 256]), t([9, 256]))?.rows).toBe(9);
    expect(addRowsShape(t([9, 256]), t([9, 256]))).toBeNull(); // same shapes: tfjs's
    expect(addRowsShape(t([9, 3]), t([3]))).toBeNull(); // too few to gain
    expect(addRowsShape(t([4, 1, 1, 8]), t([8, 8]))).toBeNull(); // both broadcast
    expect(addRowsShape(t([2, 5]), t([1, 1, 5]))).toBeNull(); // the output would gain a rank
    expect(addRowsShape({ shape: [8, 8], dtype: 'int32' } as unknown as tf.TensorInfo, t([8]))).toBeNull();
  });

  for (const [big, small] of [[[7, 64], [64]], [[3, 2, 13, 13], [13, 13]], [[5, 21], [1, 21]], [[2, 3, 4], [3, 4]]]) {
    it(`[${big}] + [${small}], either way round: every sum rounded once, as float32 adds`, () => {
      const rng = new Rng(big.length * 31 + small.length);
      const x = random(big, rng);
      const y = random(small, rng);
      const xs = x.dataSync();
      const ys = y.dataSync();
      const want = Array.from(xs, (v, i) => Math.fround(v + ys[i % ys.length]));
      const before = tf.memory().numTensors;
      for (const sum of [tf.add(x, y), tf.add(y, x)]) {
        expect(sum.shape).toEqual(big);
        expect(Array.from(sum.dataSync())).toEqual(want);
        sum.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, y]);
    });
  }
});
