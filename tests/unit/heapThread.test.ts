import * as tf from '../../src/core/tf.ts';
import { describe, expect, it } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { startNodeHelper } from '../../scripts/nodeBackend.ts';
import { hasRelaxedSimd, heapThreadServed, kernelOptions, LINEAR_GRAD, ROW_MOVE, stopHeapThread, useHeapThread, wasmHeapShared } from '../../src/core/ops/kernels/wasmKernels.ts';
import { serveHeap } from '../../src/core/ops/kernels/heapHelper.ts';
import { MAT_MUL_PLAIN_SHARED_WASM, MAT_MUL_SHARED_WASM, MAT_MUL_WASM } from '../../src/core/ops/kernels/matMulWasm.ts';
import { importSharedMemory } from '../../src/core/ops/kernels/sharedHeap.ts';
import { sharedProduct, sharedScratchFloats, sharesProduct, type ProductKernel } from '../../src/core/ops/kernels/productThread.ts';
import { HeapThread, type Call, type HeapHelperInit } from '../../src/core/ops/kernels/heapThread.ts';
import { gelu } from '../../src/core/ops/activations.ts';
import { attentionSoftmax } from '../../src/core/ops/softmax.ts';
import { layerNorm } from '../../src/core/ops/layerNorm.ts';
import { linear } from '../../src/core/ops/matmul.ts';
import { FusedAdam } from '../../src/core/ops/adam.ts';
import { Rng } from '../../src/core/rng.ts';
import { FunctionReward } from '../../src/core/reward/reward.ts';
import { createPolicy } from '../../src/core/policy/create.ts';
import { getTask, taskTokenizer } from '../../src/core/tasks/index.ts';
import { Trainer } from '../../src/core/training/trainer.ts';
import { expectSameTraining } from './helpers.ts';

const require = createRequire(import.meta.url);
const bytes = (base64: string) => Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
const relaxed = hasRelaxedSimd();

/** Every element the same float32, bit for bit (NaN and -0 included). */
function sameBits(x: Float32Array, y: Float32Array): boolean {
  const [a, b] = [new Uint32Array(x.buffer, x.byteOffset, x.length), new Uint32Array(y.buffer, y.byteOffset, y.length)];
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function random(shape: number[], rng: Rng): tf.Tensor {
  return tf.tensor(Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.normal()), shape);
}

// [a's shape, b's shape, transposeA, transposeB, whether the second thread takes a share]
const CASES: [number[], number[], boolean, boolean, boolean][] = [
  [[301, 256], [256, 131], false, false, true], // rows split, odd m, the last columns one by one
  [[2080, 256], [2080, 97], true, false, true], // a weight's gradient: A turned, then its rows split
  [[300, 256], [133, 256], false, true, true], // a transposed B: both threads pack panels
  [[520, 200], [260, 520], true, true, true],
  [[5, 130, 256], [5, 256, 190], false, false, true], // batched: whole batches each
  [[3, 256, 130], [3, 190, 256], true, true, true],
  [[128, 65, 16], [128, 65, 16], false, true, true], // attention's scores
  [[64, 64], [64, 256], false, false, false], // too small to share: decoding's products
  [[1, 4096], [4096, 4096], false, false, false], // one row: nothing to share
];

describe('kernels on two threads', () => {
  it.skipIf(os.availableParallelism() < 2)('serves the wasm backend in Node with two or more cores, and gives the same numbers as one thread', () => {
    expect(heapThreadServed()).not.toBeNull();
    const rng = new Rng(3);
    const before = tf.memory().numTensors;
    for (const [sa, sb, ta, tb, shared] of CASES) {
      const [a, b] = [random(sa, rng), random(sb, rng)];
      kernelOptions.threads = false;
      const one = tf.matMul(a, b, ta, tb);
      kernelOptions.threads = true;
      const served = heapThreadServed()!;
      const two = tf.matMul(a, b, ta, tb);
      expect(heapThreadServed()! - served, `[${sa}] x [${sb}] ${ta} ${tb}`).toBe(shared ? 1 : 0);
      expect(two.shape).toEqual(one.shape);
      expect(sameBits(one.dataSync() as Float32Array, two.dataSync() as Float32Array), `[${sa}] x [${sb}] ${ta} ${tb}`).toBe(true);
      tf.dispose([a, b, one, two]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it.skipIf(os.availableParallelism() < 2)('trains a policy to the same numbers as one thread, and leaves no tensor behind', async () => {
    const task = getTask('names');
    const vocabSize = taskTokenizer(task).vocabSize;
    const make = () =>
      new Trainer({
        task,
        reference: createPolicy({ arch: 'transformer', vocabSize, contextLength: 32, layers: 1, heads: 4, width: 128 }, new Rng(5)),
        hyperparameters: { maxLength: 12, batchSize: 32, minibatches: 2 },
        seed: 2,
        reward: new FunctionReward([{ name: 'length', weight: 1, fn: (s: { text: string }) => s.text.length }]),
      });
    const served = heapThreadServed()!;
    const start = tf.memory().numTensors;
    try {
      await expectSameTraining(make, (first) => (kernelOptions.threads = !first), async (_, b) => {
        expect(tf.memory().numTensors).toBeGreaterThan(start);
        expect(heapThreadServed()! - served).toBeGreaterThan(0);
        const live = tf.memory().numTensors;
        await b.step();
        expect(tf.memory().numTensors).toBe(live);
      });
    } finally {
      kernelOptions.threads = true;
    }
  });

  it.skipIf(os.availableParallelism() < 2)('shares the rows of GELU, and leaves layer norm, row moves, broadcast sums and Adam the same numbers', () => {
    const rng = new Rng(6);
    const start = tf.memory().numTensors;
    const x = random([1041, 257], rng); // an odd count of fours, and a tail
    const m = random([2081, 64], rng);
    const [g, b] = [random([64], rng), random([64], rng)];
    const index = tf.tensor1d(Int32Array.from({ length: 4099 }, (_, i) => (i * 37) % 2082), 'int32'); // 2081: a row of zeros
    const bias = random([64], rng);
    const scores = random([3, 4, 65, 90], rng); // odd grids: the helper's half starts at a grid's first row
    const run = () => {
      const moved = tf.engine().runKernel(ROW_MOVE, { x: m, indices: index }) as tf.Tensor;
      const grad = tf.grad((t: tf.Tensor) => gelu(t).mul(t).sum())(x);
      const scoresGrad = tf.grad((t: tf.Tensor) => attentionSoftmax(t as tf.Tensor4D, null, true).mul(scores).sum())(scores); // softmax's rows forwards, whole grids backwards
      return [gelu(x), grad, layerNorm(m, g, b), moved, m.add(bias), scoresGrad];
    };
    kernelOptions.threads = false;
    const one = run();
    kernelOptions.threads = true;
    const served = heapThreadServed()!;
    const two = run();
    expect(heapThreadServed()! - served).toBe(5); // GELU forwards (twice, once for its gradient) and backwards, the softmax forwards and backwards
    one.forEach((t, i) => expect(sameBits(t.dataSync() as Float32Array, two[i].dataSync() as Float32Array), `output ${i}`).toBe(true));
    tf.dispose([...one, ...two]);
    // A bad index in the helper's half is named as on one thread.
    const bad = tf.tensor1d(Int32Array.from({ length: 4099 }, (_, i) => (i === 3000 ? 5000 : i % 2081)), 'int32');
    expect(() => tf.engine().runKernel(ROW_MOVE, { x: m, indices: bad })).toThrow(`${ROW_MOVE}: the index value 5000 is not in [0, 2081]`);
    tf.dispose([x, m, g, b, index, bias, bad, scores]);
    expect(tf.memory().numTensors).toBe(start);
    // Adam's step on 70,001 weights, with a clip's scale.
    const adam = (threads: boolean) => {
      kernelOptions.threads = threads;
      const w = tf.variable(random([70001], new Rng(7)));
      const opt = new FusedAdam(1e-3, 0.9, 0.999, 1e-8);
      for (let i = 0; i < 2; i++) tf.tidy(() => opt.applyGradients({ [w.name]: random([70001], new Rng(8 + i)) } as unknown as Parameters<FusedAdam["applyGradients"]>[0], 0.5));
      const out = w.dataSync().slice() as Float32Array;
      w.dispose();
      opt.dispose();
      return out;
    };
    expect(sameBits(adam(false), adam(true))).toBe(true);
    kernelOptions.threads = true;
  });

  it.skipIf(os.availableParallelism() < 2)("runs a biased product's two gradient products one on each thread, bit for bit the products one by one", () => {
    const rng = new Rng(11);
    const start = tf.memory().numTensors;
    for (const [N, K, n, shared] of [[2080, 64, 256, true], [2081, 256, 63, true], [33, 16, 8, false]] as [number, number, number, boolean][]) {
      const [x, w, b] = [random([N, K], rng) as tf.Tensor2D, random([K, n], rng) as tf.Tensor2D, random([n], rng) as tf.Tensor1D];
      const dy = random([N, n], rng);
      const grads = (pair: boolean, overlap = true) => {
        [kernelOptions.linearGrad, kernelOptions.overlap] = [pair, overlap];
        try {
          return tf.grads((a: tf.Tensor, c: tf.Tensor) => linear(a as tf.Tensor2D, c as tf.Tensor2D, b).mul(dy).sum())([x, w]);
        } finally {
          [kernelOptions.linearGrad, kernelOptions.overlap] = [true, true];
        }
      };
      let served = heapThreadServed()!;
      const one = grads(false);
      // The forward product and each gradient product shared by rows, or the forward shared and one request for both gradients.
      expect(heapThreadServed()! - served, `[${N}, ${K}] x [${K}, ${n}], one by one`).toBe(shared ? 3 : 0);
      served = heapThreadServed()!;
      const two = grads(true, false);
      expect(heapThreadServed()! - served, `[${N}, ${K}] x [${K}, ${n}], together`).toBe(shared ? 2 : 0);
      // The weight's gradient left to the helper while this thread goes on (the default).
      served = heapThreadServed()!;
      const late = grads(true);
      expect(heapThreadServed()! - served, `[${N}, ${K}] x [${K}, ${n}], the weight's later`).toBe(shared ? 2 : 0);
      for (const other of [two, late]) one.forEach((g, i) => expect(sameBits(g.dataSync() as Float32Array, other[i].dataSync() as Float32Array), `[${N}, ${K}] x [${K}, ${n}], gradient ${i}`).toBe(true));
      tf.dispose([x, w, b, dy, ...one, ...two, ...late]);
    }
    expect(tf.memory().numTensors).toBe(start);
  });

  /** A helper that sleeps `ms` after taking each request, before running it (its source is serveHeap's, one line added). */
  const slowHelper = (ms: number) => (init: HeapHelperInit) => {
    const serve = serveHeap.toString().replace('if (Atomics.compareExchange(sync, 3, seen, -seen) !== seen) continue;', `$& Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${ms});`);
    expect(serve).toContain(`0, 0, ${ms})`);
    const worker = new Worker(`require('node:worker_threads').parentPort.once('message', (init) => (${serve})(init));`, { eval: true });
    worker.unref();
    worker.postMessage(init);
    return { terminate: () => void worker.terminate() };
  };

  it.skipIf(os.availableParallelism() < 2)("goes on while the helper finishes a weight's gradient; whatever reads it, or frees what it reads, waits for it", async () => {
    const rng = new Rng(12);
    const start = tf.memory().numTensors;
    const [x, w, dy] = [random([600, 128], rng), random([128, 96], rng), random([600, 96], rng)];
    kernelOptions.threads = false;
    const [dxOne, dwOne] = tf.engine().runKernel(LINEAR_GRAD, { dy, x, w }) as tf.Tensor[];
    const [dxBits, dwBits] = [dxOne.dataSync().slice() as Float32Array, dwOne.dataSync().slice() as Float32Array];
    tf.dispose([dxOne, dwOne]);
    kernelOptions.threads = true;
    stopHeapThread();
    expect(useHeapThread(slowHelper(40))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the helper started, waiting
    try {
      const late = () => tf.engine().runKernel(LINEAR_GRAD, { dy, x, w }) as tf.Tensor[];
      // Read back at once: the helper is still asleep on it.
      let [dx, dw] = late();
      expect(sameBits(dx.dataSync() as Float32Array, dxBits)).toBe(true);
      expect(sameBits(dw.dataSync() as Float32Array, dwBits), 'read back').toBe(true);
      tf.dispose([dx, dw]);
      // The input of a kernel (tfjs's own).
      [dx, dw] = late();
      const doubled = tf.mul(dw, 2);
      expect(sameBits(doubled.dataSync() as Float32Array, dwBits.map((v) => 2 * v)), 'a kernel input').toBe(true);
      tf.dispose([dx, dw, doubled]);
      // One after another: the second settles the first, and is guarded itself.
      const first = late();
      [dx, dw] = late();
      expect(sameBits(dw.dataSync() as Float32Array, dwBits), 'the second of two').toBe(true);
      expect(sameBits(first[1].dataSync() as Float32Array, dwBits), 'the first of two').toBe(true);
      tf.dispose([dx, dw, ...first]);
      // What it reads, freed at once, and its memory written by new tensors.
      const [x2, dy2] = [x, dy].map((t) => tf.tensor(t.dataSync(), t.shape)); // memory of their own
      [dx, dw] = tf.engine().runKernel(LINEAR_GRAD, { dy: dy2, x: x2, w }) as tf.Tensor[];
      tf.dispose([x2, dy2]);
      const filler = [random([600, 128], rng), random([600, 96], rng)];
      expect(sameBits(dw.dataSync() as Float32Array, dwBits), 'its inputs freed').toBe(true);
      tf.dispose([dx, dw, ...filler]);
      expect(heapThreadServed()).toBe(5);
    } finally {
      stopHeapThread();
      useHeapThread(startNodeHelper);
    }
    tf.dispose([x, w, dy]);
    expect(tf.memory().numTensors).toBe(start);
  });

  it.skipIf(os.availableParallelism() < 2)("a weight's gradient left to a helper that never answers: worked out here into memory of its own, the helper's left to it", { retry: 2 }, async () => {
    const rng = new Rng(13);
    const start = tf.memory().numTensors;
    const [x, w, dy] = [random([600, 128], rng), random([128, 96], rng), random([600, 96], rng)];
    kernelOptions.threads = false;
    const one = tf.engine().runKernel(LINEAR_GRAD, { dy, x, w }) as tf.Tensor[];
    kernelOptions.threads = true;
    // Takes every request as it comes, and answers none.
    const stuck = (init: HeapHelperInit) => {
      const worker = new Worker(`const { workerData } = require('node:worker_threads'); const s = new Int32Array(workerData, 0, 4); let seen = 0; for (;;) { if (Atomics.load(s, 0) !== seen) { seen = Atomics.load(s, 0); Atomics.compareExchange(s, 3, seen, -seen); } }`, { eval: true, workerData: init.control });
      worker.unref();
      return { terminate: () => void worker.terminate() };
    };
    stopHeapThread();
    expect(useHeapThread(stuck, 300)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    try {
      const late = tf.engine().runKernel(LINEAR_GRAD, { dy, x, w }) as tf.Tensor[];
      expect(heapThreadServed()).toBe(1);
      late.forEach((t, i) => expect(sameBits(t.dataSync() as Float32Array, one[i].dataSync() as Float32Array), `output ${i}`).toBe(true));
      // tfjs's own kernels find the recomputed gradient too (the backend's module knows where it is now).
      const [twice, twiceOne] = [tf.mul(late[1], 2), tf.mul(one[1], 2)];
      expect(sameBits(twice.dataSync() as Float32Array, twiceOne.dataSync() as Float32Array), 'a tfjs kernel on it').toBe(true);
      tf.dispose([twice, twiceOne]);
      const again = tf.engine().runKernel(LINEAR_GRAD, { dy, x, w }) as tf.Tensor[]; // on one thread now
      expect(heapThreadServed()).toBe(1);
      again.forEach((t, i) => expect(sameBits(t.dataSync() as Float32Array, one[i].dataSync() as Float32Array), `output ${i}, again`).toBe(true));
      tf.dispose([...late, ...again]);
    } finally {
      stopHeapThread();
      useHeapThread(startNodeHelper);
    }
    tf.dispose([x, w, dy, ...one]);
    expect(tf.memory().numTensors).toBe(start);
  });

  it.skipIf(os.availableParallelism() < 2)('can be stopped and started again; stopped, products run on one thread', () => {
    const rng = new Rng(4);
    const [a, b] = [random([300, 256], rng), random([256, 200], rng)];
    const with2 = tf.matMul(a, b);
    stopHeapThread();
    expect(heapThreadServed()).toBeNull();
    const with1 = tf.matMul(a, b);
    expect(useHeapThread(startNodeHelper)).toBe(true);
    const again = tf.matMul(a, b);
    expect(heapThreadServed()).toBe(1);
    for (const t of [with1, again]) expect(sameBits(with2.dataSync() as Float32Array, t.dataSync() as Float32Array)).toBe(true);
    tf.dispose([a, b, with1, with2, again]);
  });
});

describe('the second thread on a memory of its own', () => {
  /** The shared product kernel on a shared memory of its own, A, B, C and scratch laid out in it. */
  function setUp(shape: { m: number; k: number; n: number; batch: number; ta: boolean; tb: boolean; out: number[] }) {
    const { m, k, n } = shape;
    const floats = m * k + k * n + m * n + sharedScratchFloats(shape);
    const memory = new WebAssembly.Memory({ initial: Math.ceil((4 * floats) / 65536) + 1, maximum: 1024, shared: true });
    const module = new WebAssembly.Module(bytes(relaxed ? MAT_MUL_SHARED_WASM : MAT_MUL_PLAIN_SHARED_WASM));
    const here = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as ProductKernel & Record<string, (...args: number[]) => number | void>;
    const rng = new Rng(9);
    const [a, b, c, scratch] = [0, 4 * m * k, 4 * (m * k + k * n), 4 * (m * k + k * n + m * n)];
    new Float32Array(memory.buffer, a, m * k + k * n).set(Float32Array.from({ length: m * k + k * n }, () => rng.normal()));
    const result = () => new Float32Array(memory.buffer, c, m * n).slice();
    const clear = () => new Float32Array(memory.buffer, c, m * n).fill(0);
    return { memory, module, here, a, b, c, scratch, result, clear };
  }
  const shape = { batch: 1, m: 256, k: 256, n: 160, ta: true, tb: false, out: [256, 160] };

  it.skipIf(os.availableParallelism() < 2)('shares a transposed A with a helper started in Node, each turning its own columns, bit for bit', () => {
    const s = setUp(shape);
    s.here.matMul(s.a, s.b, s.c, 1, shape.m, shape.k, shape.n, 1, 0, s.scratch, 0, 0);
    const alone = s.result();
    s.clear();
    const thread = new HeapThread(startNodeHelper, s.memory, [s.module], { matMul: s.here.matMul, transpose: s.here.transpose });
    expect(sharesProduct(shape)).toBe(true);
    expect(sharedProduct(thread, s.here, shape, s.a, s.b, s.c, s.scratch)).toBe(true);
    expect(thread.served).toBe(1);
    expect(sameBits(alone, s.result())).toBe(true);
    thread.dispose();
    expect(thread.stopped).toMatch(/stopped/);
  });

  it.skipIf(os.availableParallelism() < 2)('leaves a request running while this thread goes on: settled by the next request, or taken back if never begun', () => {
    const s = setUp(shape);
    const { m, k, n } = shape;
    s.here.matMul(s.a, s.b, s.c, 1, m, k, n, 1, 0, s.scratch, 0, 0);
    const alone = s.result();
    const call: Call = ['matMul', [s.a, s.b, s.c, 1, m, k, n, 1, 0, s.scratch, 0, 0, 0]];
    for (const start of [startNodeHelper, () => ({ terminate: () => undefined })]) {
      const thread = new HeapThread(start, s.memory, [s.module], { matMul: s.here.matMul, transpose: s.here.transpose });
      const settled: boolean[] = [];
      for (let i = 0; i < 3; i++) {
        s.clear();
        thread.start([call], (answered) => settled.push(answered));
        if (i < 2) thread.settle();
        else thread.together([['transpose', [s.a, s.scratch, k, m, m]]], () => undefined); // the next request settles it first
        expect(settled).toHaveLength(i + 1);
        expect(thread.busy).toBe(false);
        expect(sameBits(alone, s.result())).toBe(true);
      }
      expect(settled.every(Boolean)).toBe(true);
      expect(thread.served).toBe(4);
      // A helper that never starts: each is taken back and done here.
      if (start !== startNodeHelper) expect(thread.takenBack).toBe(4);
      thread.dispose();
    }
  });

  it("a share the helper has not started when this thread's own is done is taken back and done here", () => {
    const s = setUp(shape);
    s.here.matMul(s.a, s.b, s.c, 1, shape.m, shape.k, shape.n, 1, 0, s.scratch, 0, 0);
    const alone = s.result();
    s.clear();
    const thread = new HeapThread(() => ({ terminate: () => undefined }), s.memory, [s.module], { matMul: s.here.matMul, transpose: s.here.transpose }); // a helper that never starts
    expect(sharedProduct(thread, s.here, shape, s.a, s.b, s.c, s.scratch)).toBe(true);
    expect(thread.takenBack).toBe(1);
    expect(thread.stopped).toBeNull();
    expect(sameBits(alone, s.result())).toBe(true);
  });

  // Spinning, the stuck helper takes a request within microseconds of it, given a core (retried where the cores are busy with other work).
  it.skipIf(os.availableParallelism() < 2)('a helper that takes a share and never answers: the share is done here, and later requests run here, with the reason kept', { retry: 2 }, async () => {
    const big = { batch: 1, m: 512, k: 512, n: 512, ta: false, tb: false, out: [512, 512] };
    const s = setUp(big);
    s.here.matMul(s.a, s.b, s.c, 1, big.m, big.k, big.n, 0, 0, s.scratch, 0, 0);
    const alone = s.result();
    s.clear();
    // Takes every request as it comes, and answers none (spinning: it takes each within microseconds).
    const stuck = (init: { control: SharedArrayBuffer }) => {
      const source = `const { workerData } = require('node:worker_threads'); const s = new Int32Array(workerData, 0, 4); let seen = 0; for (;;) { if (Atomics.load(s, 0) !== seen) { seen = Atomics.load(s, 0); Atomics.compareExchange(s, 3, seen, -seen); } }`;
      const worker = new Worker(source, { eval: true, workerData: init.control });
      worker.unref();
      return { terminate: () => void worker.terminate() };
    };
    const thread = new HeapThread(stuck, s.memory, [s.module], { matMul: s.here.matMul, transpose: s.here.transpose }, 300);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the worker started, waiting
    expect(sharedProduct(thread, s.here, big, s.a, s.b, s.c, s.scratch)).toBe(false);
    expect(sameBits(alone, s.result())).toBe(true);
    expect(thread.stopped).toMatch(/did not answer in 0\.3 s; kernels run on one thread from now on/);
    s.clear();
    expect(sharedProduct(thread, s.here, big, s.a, s.b, s.c, s.scratch)).toBe(true); // all of it here now
    expect(thread.served).toBe(1);
    expect(sameBits(alone, s.result())).toBe(true);
  });
});

describe('the wasm backend on a shared memory', () => {
  it("turns tfjs's own memory into an import of a shared one, and leaves other modules alone", () => {
    const binary = new Uint8Array(readFileSync(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist', 'tfjs-backend-wasm-simd.wasm')));
    const patched = importSharedMemory(binary)!;
    expect(patched.initialPages).toBeGreaterThan(0);
    const module = new WebAssembly.Module(patched.bytes);
    expect(WebAssembly.Module.imports(module).filter((i) => i.kind === 'memory')).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(WebAssembly.Module.exports(module).map((e) => e.name)).toEqual(WebAssembly.Module.exports(new WebAssembly.Module(binary)).map((e) => e.name));
    expect(importSharedMemory(bytes(MAT_MUL_WASM))).toBeNull(); // imports its memory already
    expect(importSharedMemory(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]))).toBeNull();
  });

  it.skipIf(os.availableParallelism() < 2)('is where Node runs it, and tensors read and write through it as before', () => {
    expect(wasmHeapShared()).toBe(true);
    const x = tf.tensor([1.5, -2, 3], [3]);
    expect(Array.from(x.mul(2).dataSync())).toEqual([3, -4, 6]);
    x.dispose();
  });
});
