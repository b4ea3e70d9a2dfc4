import * as tf from '../../tf.ts';
import { MAT_MUL_PLAIN_SHARED_WASM, MAT_MUL_PLAIN_WASM, MAT_MUL_SHARED_WASM, MAT_MUL_WASM } from './matMulWasm.ts';
import { sharedProduct, sharedScratchFloats, sharesProduct, THREADED_MIN_MADDS, type ProductKernel } from './productThread.ts';
import { HeapThread, type StartHeapHelper } from './heapThread.ts';
import { pairedGradients } from './linearGrad.ts';
import { attentionKernels } from './attention.ts';
import { PendingWork } from './pending.ts';
import { addRowsShape, batchedShape, causalMode, columnSumShape, gatherRowsShape, productScratchFloats, type ProductShape } from './shapes.ts';
import { ADD_ROWS_SHARED_WASM, ADD_ROWS_WASM } from './addRowsWasm.ts';
import { COLUMN_SUM_SHARED_WASM, COLUMN_SUM_WASM } from './columnSumWasm.ts';
import { GATHER_ROWS_SHARED_WASM, GATHER_ROWS_WASM } from './gatherRowsWasm.ts';
import { SEGMENT_SUM_SHARED_WASM, SEGMENT_SUM_WASM } from './segmentSumWasm.ts';
import { SUMMED_ROWS_SHARED_WASM, SUMMED_ROWS_WASM } from './summedRowsWasm.ts';
import { LAYER_NORM_SHARED_WASM, LAYER_NORM_WASM } from './layerNormWasm.ts';
import { ADAM_SHARED_WASM, ADAM_WASM } from './adamWasm.ts';
import { GELU_SHARED_WASM, GELU_WASM } from './geluWasm.ts';
import { SOFTMAX_PLAIN_SHARED_WASM, SOFTMAX_PLAIN_WASM, SOFTMAX_SHARED_WASM, SOFTMAX_WASM } from './softmaxWasm.ts';

import { runDecodeStep, SHARED_STEP_LAYERS } from './decodeStep.ts';
import { decode, ours, overrideWhere, shared, shareSavedTensors, size, type WasmBackendLike } from './registry.ts';

export { ATTENTION, ATTENTION_GRAD, SOFTMAX, SOFTMAX_GRAD } from './attention.ts';
export { addRowsShape, batchedShape, CAUSAL, columnSumShape, gatherRowsShape, LAYER_NORM_EPS, productScratchFloats, type ProductShape } from './shapes.ts';

let installed: 'relaxed' | 'plain' | null = null;
/** The second thread, where one was started (useHeapThread). */
let heapThread: HeapThread | null = null;
/** The wasm backend's memory once the kernels are installed; the kernels' compiled modules and functions. */
let heap: WebAssembly.Memory | null = null;
let kernelModules: WebAssembly.Module[] = [];
let kernelFunctions: Record<string, (...args: number[]) => number | void> = {};
/** Work left running on the second thread (a weight's gradient), settled before anything touches its tensors. */
const pending = new PendingWork(() => heapThread?.settle());
/** Rows (or elements) below which a kernel stays on one thread: asking and waiting costs microseconds. */
const THREADED_MIN_FLOATS = 1 << 16;
/** A decoding step's multiply-adds from which the second thread takes half its rows. */
const DECODE_THREADED_MIN_MADDS = 1 << 20;

/**
 * Kernels that can be turned off while installed, for A/B benchmarks in one
 * process (`npm run bench-ab`): off, tfjs's kernel runs (and products take
 * explicit transposes, as before the kernel read them). Two are not kernels:
 * `hostLosses`, the losses and action statistics computed in JS
 * (ops/hostMaths.ts); `headMoves`, attention's heads reached by one row move
 * from one product (policy/transformer.ts, forwardAt). `threads` applies
 * where a second thread was started (useHeapThread). `gelu`, `softmax`,
 * `linear`: the GELU, attention softmax and biased product kernels
 * (ops/activations.ts, ops/softmax.ts, ops/matmul.ts); `linearGrad`: the
 * biased product's two gradient products in one kernel; `decodeStep`: a
 * transformer's decoding step as one kernel (ops/decodeStep.ts); `causal`:
 * attention's products and softmax leave out what the causal mask zeroes;
 * `scoresFromSampling` (not a kernel): a rollout takes the policy's old
 * log-probabilities and values from sampling where they are forwardAt's
 * (training/rollout.ts); `overlap`: with `linearGrad` on two threads, this
 * thread goes on while the helper finishes the weight's gradient (pending.ts);
 * `attention`: forwardAt's causal attention as one kernel each way
 * (ops/attention.ts); `sharedSaves` (not a kernel): the tape keeps the tensors
 * a gradient needs without cloning them (registry.ts's shareSavedTensors).
 */
export const kernelOptions = { transposedProducts: true, broadcastSum: true, hostLosses: true, headMoves: true, threads: true, gelu: true, softmax: true, linear: true, linearGrad: true, decodeStep: true, causal: true, scoresFromSampling: true, overlap: true, attention: true, sharedSaves: true };

/**
 * Whether the wasm backend's products and leading-axis sums run on this
 * module's kernels, and which product: 'relaxed' (fused multiply-adds, relaxed
 * SIMD), 'plain' (engines without it), null (tfjs's own kernels).
 */
export function wasmKernelsInstalled(): 'relaxed' | 'plain' | null {
  return installed;
}

/** Whether this engine runs relaxed SIMD (Chrome and Edge 114+, Node 22+; Node 20 with --experimental-wasm-relaxed-simd). */
export function hasRelaxedSimd(): boolean {
  return WebAssembly.validate(decode(MAT_MUL_WASM));
}

/**
 * Kernels of ours (the .wat files beside this one), run in the wasm backend's
 * own memory. In front of tfjs's, for the cases they cover (the rest goes to
 * tfjs's kernel as before):
 * - BatchMatMul, plain or batched (not broadcast, not transposed by flag):
 *   blocks of 4 x 8 in registers, fused multiply-adds where the engine has
 *   relaxed SIMD: 33-36 GFLOP/s on one core of a 2-core EPYC on the update's
 *   shapes through tfjs, against XNNPACK's 21-25 (and its scalar loop at about 1
 *   for products whose operands both carry a batch, attention's);
 * - Sum over every axis but the last (every bias's gradient): tfjs transposes
 *   first; ours walks the rows in place, 5-9x faster;
 * - GatherV2 on the first axis (embeddings' rows, rows moved between layouts):
 *   tfjs computes every element's source index; ours copies whole rows;
 * - Identity, and a cast to the same type: shared data (as the cpu backend
 *   does), not a copy: tfjs's tape clones every tensor it saves, and every
 *   product's and elementwise product's gradient casts its operands.
 * Added: UnsortedSegmentSum, which tfjs's wasm backend lacks (a gather's
 * gradient, so embeddings can be gathers there too), and kernels no backend has
 * (ROW_MOVE, SUMMED_ROWS, LAYER_NORM, ADAM and their gradients; see the
 * constants below), which their callers use only where registered.
 * Called when the wasm backend is set; once. Leaves tfjs alone on a build it
 * does not recognise.
 */
export function useWasmKernels(): void {
  if (installed) return;
  const backend = tf.findBackend('wasm') as unknown as WasmBackendLike | null;
  const memory = backend?.wasm.asm?.memory;
  const tfjs = [tf.BatchMatMul, tf.Sum, tf.GatherV2, tf.Identity, tf.Cast, tf.Add].map((name) => tf.getKernel(name, 'wasm'));
  if (!backend || !(memory instanceof WebAssembly.Memory) || tfjs.some((k) => !k)) return;
  const [matMul, sum, gather, identity, cast, add] = tfjs as tf.KernelConfig[];
  const relaxed = hasRelaxedSimd();
  // The same kernels on a shared heap (sharedHeap.ts), where a second thread may work in it.
  const sharedHeap = isShared(memory);
  // The modules are kept: a second thread runs the same compiled code (optimised once, for both).
  kernelModules = (
    sharedHeap
      ? [relaxed ? MAT_MUL_SHARED_WASM : MAT_MUL_PLAIN_SHARED_WASM, COLUMN_SUM_SHARED_WASM, ADD_ROWS_SHARED_WASM, GATHER_ROWS_SHARED_WASM, SEGMENT_SUM_SHARED_WASM, SUMMED_ROWS_SHARED_WASM, LAYER_NORM_SHARED_WASM, ADAM_SHARED_WASM, GELU_SHARED_WASM, relaxed ? SOFTMAX_SHARED_WASM : SOFTMAX_PLAIN_SHARED_WASM]
      : [relaxed ? MAT_MUL_WASM : MAT_MUL_PLAIN_WASM, COLUMN_SUM_WASM, ADD_ROWS_WASM, GATHER_ROWS_WASM, SEGMENT_SUM_WASM, SUMMED_ROWS_WASM, LAYER_NORM_WASM, ADAM_WASM, GELU_WASM, relaxed ? SOFTMAX_WASM : SOFTMAX_PLAIN_WASM]
  ).map((base64) => new WebAssembly.Module(decode(base64)));
  kernelFunctions = Object.assign({}, ...kernelModules.map((module) => new WebAssembly.Instance(module, { env: { memory } }).exports));
  const k = kernelFunctions as unknown as ProductKernel & Record<'matMul' | 'colsum' | 'addRows' | 'scale' | 'layerNorm' | 'layerNormGrad' | 'adam' | 'gelu' | 'geluGrad' | 'softmax' | 'softmaxGrad' | 'attendStep', (...args: number[]) => void> &
    Record<'gatherRows' | 'segmentSum' | 'summedRows', (...args: number[]) => number>;
  installed = relaxed ? 'relaxed' : 'plain';
  pending.watch(backend as unknown as Parameters<PendingWork['watch']>[0]);
  shareSavedTensors(backend as unknown as WasmBackendLike, () => kernelOptions.sharedSaves);
  heap = memory;
  const at = (wasm: WasmBackendLike, ...ts: tf.TensorInfo[]) => ts.map((t) => wasm.dataIdMap.get(t.dataId)!.memoryOffset);
  /** `out`, or (freeing it) an error naming the index at `bad` when a kernel found one out of [0, limit). */
  const checked = (wasm: WasmBackendLike, out: tf.TensorInfo, bad: number, ids: tf.TensorInfo, what: string, limit: number): tf.TensorInfo => {
    if (bad < 0) return out;
    wasm.disposeData(out.dataId);
    const value = new Int32Array(memory.buffer, at(wasm, ids)[0] + 4 * bad, 1)[0];
    throw new Error(`${what} ${value} is not in [0, ${limit - 1}]`);
  };
  /** Rows of x by index (the index `rows` reading zeros when zeroRow), or an error naming the first out of range. */
  const rows = (wasm: WasmBackendLike, x: tf.TensorInfo, indices: tf.TensorInfo, shape: { count: number; rowBytes: number; out: number[] }, zeroRow: boolean) => {
    const out = wasm.makeOutput(shape.out, x.dtype);
    if (shape.count === 0 || shape.rowBytes === 0) return out;
    const bad = k.gatherRows(...at(wasm, x, indices, out), shape.count, x.shape[0], shape.rowBytes, zeroRow ? 1 : 0);
    return checked(wasm, out, bad, indices, `${zeroRow ? ROW_MOVE : 'GatherV2'}: the index value`, x.shape[0] + (zeroRow ? 1 : 0));
  };

  /** A x B (+ bias, a row added to every row of the output; + res, of the output's shape) on our kernel, shared with the second thread where that pays. */
  const product = (wasm: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo, shape: ProductShape, bias?: tf.TensorInfo, res?: tf.TensorInfo, causal = 0) => {
    const out = wasm.makeOutput(shape.out, 'float32');
    productAt(wasm, a, b, shape, at(wasm, out)[0], bias, res, causal);
    return out;
  };
  /** The same, C written at heap address `pc`. */
  const productAt = (wasm: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo, shape: ProductShape, pc: number, bias?: tf.TensorInfo, res?: tf.TensorInfo, causal = 0) => {
    const thread = threads() && sharesProduct(shape) ? heapThread : null;
    const floats = thread ? sharedScratchFloats(shape) : productScratchFloats(shape);
    const scratch = floats ? wasm.makeOutput([floats], 'float32') : null;
    const [pa, pb] = at(wasm, a, b);
    const ps = scratch ? at(wasm, scratch)[0] : 0;
    const [pbias, pres] = [bias ? at(wasm, bias)[0] : 0, res ? at(wasm, res)[0] : 0];
    const answered = thread ? sharedProduct(thread, k, shape, pa, pb, pc, ps, pbias, pres, causal) : (k.matMul(pa, pb, pc, shape.batch, shape.m, shape.k, shape.n, shape.ta ? 1 : 0, shape.tb ? 1 : 0, ps, pbias, pres, causal), true);
    // A helper that did not answer may still write its scratch: that memory is left to it.
    if (scratch && answered) wasm.disposeData(scratch.dataId);
  };
  overrideWhere(matMul, ({ a, b }, attrs) => ((attrs.transposeA || attrs.transposeB) && !kernelOptions.transposedProducts ? null : batchedShape(a, b, attrs.transposeA as boolean, attrs.transposeB as boolean)), (wasm, { a, b }, shape, attrs) => product(wasm, a, b, shape, undefined, undefined, causalMode(shape, kernelOptions.causal ? Number(attrs.causal ?? 0) : 0)));
  ours(LINEAR_GRAD, (wasm, { dy, x, w }) => {
    const [dxShape, dwShape] = [batchedShape(dy, w, false, true), batchedShape(x, dy, true, false)];
    if (!dxShape || !dwShape || x.shape.length !== 2) throw new Error(`${LINEAR_GRAD}: needs float32 dy [N, n], x [N, K] and w [K, n]; got [${dy.shape}], [${x.shape}] and [${w.shape}]`);
    if (!(threads() && 2 * dxShape.m * dxShape.k * dxShape.n >= THREADED_MIN_MADDS)) return [product(wasm, dy, w, dxShape), product(wasm, x, dy, dwShape)];
    return pairedGradients(wasm, k, heapThread!, pending, { dy, x, w }, [dxShape, dwShape], () => product(wasm, x, dy, dwShape), kernelOptions.overlap);
  });
  ours(LINEAR, (wasm, { x, w, b, r }) => {
    const shape = batchedShape(x, w, false, false);
    if (!shape || x.shape.length !== 2 || b.dtype !== 'float32' || b.shape.length !== 1 || b.shape[0] !== shape.n || (r && (r.dtype !== 'float32' || r.shape.length !== 2 || r.shape[0] !== shape.m || r.shape[1] !== shape.n))) {
      throw new Error(`${LINEAR}: needs float32 x [N, K], w [K, n], b [n] and a residual r [N, n] or none; got [${x.shape}], [${w.shape}], [${b.shape}]${r ? ` and [${r.shape}]` : ''}`);
    }
    return product(wasm, x, w, shape, b, r);
  });
  overrideWhere(sum, ({ x }, attrs) => columnSumShape(x, attrs.axis as number | number[], attrs.keepDims as boolean), (wasm, { x }, shape) => {
    const out = wasm.makeOutput(shape.out, 'float32');
    k.colsum(...at(wasm, x, out), shape.rows, shape.cols);
    return out;
  });
  overrideWhere(add, ({ a, b }) => (kernelOptions.broadcastSum ? addRowsShape(a, b) : null), (wasm, { a, b }, shape) => {
    const [x, y] = shape.rowsOf === 'a' ? [a, b] : [b, a];
    const out = wasm.makeOutput(shape.out, 'float32');
    k.addRows(...at(wasm, x, y, out), shape.rows, shape.n);
    return out;
  });
  overrideWhere(gather, ({ x, indices }, attrs) => gatherRowsShape(x, indices, attrs.axis as number, attrs.batchDims as number), (wasm, { x, indices }, shape) => rows(wasm, x, indices, shape, false));
  overrideWhere(identity, ({ x }) => (x.dtype === 'string' ? null : true), shared);
  overrideWhere(cast, ({ x }, attrs) => (x.dtype === 'string' || attrs.dtype !== x.dtype ? null : true), shared);

  ours(ROW_MOVE, (wasm, { x, indices }) => {
    const shape = gatherRowsShape(x, indices, 0, 0);
    if (!shape || indices.shape.length !== 1) throw new Error(`${ROW_MOVE}: needs float32 or int32 rows and a 1-D int32 index`);
    return rows(wasm, x, indices, shape, true);
  });
  if (!tf.getKernel(tf.UnsortedSegmentSum, 'wasm')) {
    ours(tf.UnsortedSegmentSum, (wasm, { x, segmentIds }, { numSegments }) => {
      const segments = numSegments as number;
      const lead = segmentIds.shape.length;
      if (x.dtype !== 'float32' || segmentIds.dtype !== 'int32' || segmentIds.shape.some((d, i) => d !== x.shape[i])) {
        throw new Error(`UnsortedSegmentSum (wasm): needs float32 values whose leading dimensions are the int32 ids' shape; got ${x.dtype} [${x.shape}] and ${segmentIds.dtype} [${segmentIds.shape}]`);
      }
      const count = size(segmentIds.shape);
      const out = wasm.makeOutput([segments, ...x.shape.slice(lead)], 'float32');
      const bad = k.segmentSum(...at(wasm, x, segmentIds, out), count, segments, size(x.shape.slice(lead)), Math.max(count, 1));
      return checked(wasm, out, bad, segmentIds, 'UnsortedSegmentSum: the segment id', segments);
    });
  }
  ours(SUMMED_ROWS, (wasm, { table, rows: ids }) => {
    const [K, N] = ids.shape;
    const [tableRows, cols] = table.shape;
    if (K === 0) throw new Error(`${SUMMED_ROWS}: needs at least one row to sum`);
    const out = wasm.makeOutput([N, cols], 'float32');
    const bad = k.summedRows(...at(wasm, table, ids, out), K, N, cols, tableRows);
    return checked(wasm, out, bad, ids, `${SUMMED_ROWS}: the row index`, tableRows);
  });
  ours(SUMMED_ROWS_GRAD, (wasm, { dy, rows: ids }, { tableRows }) => {
    const [K, N] = ids.shape;
    const out = wasm.makeOutput([tableRows as number, dy.shape[1]], 'float32');
    // Each of dy's N rows goes to the K table rows it summed: a segment sum with period N.
    const bad = k.segmentSum(...at(wasm, dy, ids, out), K * N, tableRows as number, dy.shape[1], Math.max(N, 1));
    return checked(wasm, out, bad, ids, `${SUMMED_ROWS_GRAD}: the row index`, tableRows as number);
  });
  const normShape = (x: tf.TensorInfo, g: tf.TensorInfo): { rows: number; cols: number } => {
    const cols = x.shape.at(-1) ?? 0;
    if (x.dtype !== 'float32' || cols % 4 !== 0 || g.shape.length !== 1 || g.shape[0] !== cols) throw new Error(`${LAYER_NORM}: needs float32 rows whose length (a multiple of 4) is the gain's; got [${x.shape}] and [${g.shape}]`);
    return { rows: size(x.shape.slice(0, -1)), cols };
  };
  ours(LAYER_NORM, (wasm, { x, g, b }, { eps }) => {
    const { rows: n, cols } = normShape(x, g);
    const outs = [wasm.makeOutput(x.shape, 'float32'), wasm.makeOutput([n], 'float32'), wasm.makeOutput([n], 'float32')]; // y, mean, rstd
    if (n > 0) k.layerNorm(...at(wasm, x, g, b, ...outs), n, cols, eps as number);
    return outs;
  });
  ours(LAYER_NORM_GRAD, (wasm, { dy, x, g, mean, rstd }) => {
    const { rows: n, cols } = normShape(x, g);
    const outs = [wasm.makeOutput(x.shape, 'float32'), wasm.makeOutput([cols], 'float32'), wasm.makeOutput([cols], 'float32')]; // dx, dg, db
    k.layerNormGrad(...at(wasm, dy, x, g, mean, rstd, ...outs), n, cols);
    return outs;
  });
  const floats = (name: string, ...ts: tf.TensorInfo[]) => {
    if (ts.some((t) => t.dtype !== 'float32' || size(t.shape) !== size(ts[0].shape))) throw new Error(`${name}: needs float32 tensors of one size; got ${ts.map((t) => `${t.dtype} [${t.shape}]`).join(', ')}`);
    return size(ts[0].shape);
  };
  ours(GELU, (wasm, { x }) => {
    const n = floats(GELU, x);
    const y = wasm.makeOutput(x.shape, 'float32');
    const [px, py] = at(wasm, x, y);
    splitRows('gelu', n >> 2, n, (r0, r1) => [px + 16 * r0, py + 16 * r0, r1 === n >> 2 ? n - 4 * r0 : 4 * (r1 - r0)]); // in fours
    return y;
  });
  ours(GELU_GRAD, (wasm, { dy, x }) => {
    const n = floats(GELU_GRAD, dy, x);
    const dx = wasm.makeOutput(x.shape, 'float32');
    const [pd, px, po] = at(wasm, dy, x, dx);
    splitRows('geluGrad', n >> 2, n, (r0, r1) => [pd + 16 * r0, px + 16 * r0, po + 16 * r0, r1 === n >> 2 ? n - 4 * r0 : 4 * (r1 - r0)]);
    return dx;
  });
  attentionKernels({ k, product: (wasm, a, b, shape, causal) => product(wasm, a, b, shape, undefined, undefined, causal), productAt: (wasm, a, b, shape, causal, pc) => productAt(wasm, a, b, shape, pc, undefined, undefined, causal), splitRows, causal: () => kernelOptions.causal, memory: () => memory });
  ours(DECODE_STEP, (wasm, inputs, attrs) => {
    const { layers, heads } = attrs as Record<'layers' | 'heads', number>;
    const work = inputs.tokens.shape[0] * layers * 12 * inputs.wte.shape[1] ** 2; // a step's multiply-adds, about
    const shared = threads() && work >= DECODE_THREADED_MIN_MADDS && layers <= SHARED_STEP_LAYERS;
    return runDecodeStep(wasm, memory, k, shared ? (calls, mine) => heapThread!.together(calls, mine, false).answered : null, inputs, attrs);
  });
  ours(ADAM, (wasm, { w, m, v, g, c1, c2 }, attrs) => {
    const { beta1, beta2, epsilon, learningRate, scale = 1 } = attrs as Record<'beta1' | 'beta2' | 'epsilon' | 'learningRate' | 'scale', number>;
    const n = size(w.shape);
    if ([w, m, v, g, c1, c2].some((t) => t.dtype !== 'float32') || [m, v, g].some((t) => size(t.shape) !== n)) throw new Error(`${ADAM}: needs float32 weight, moments and gradient of one size`);
    const outs = [0, 1, 2].map(() => wasm.makeOutput(w.shape, 'float32')); // w, m, v
    // The scalars as tfjs makes them: float32 of the JS numbers (1 - beta1 computed in double first).
    if (n > 0) k.adam(...at(wasm, w, m, v, g, c1, c2, ...outs), n, beta1, beta2, 1 - beta1, 1 - beta2, epsilon, -learningRate, scale);
    return outs;
  });
}

/**
 * Starts the second thread (heapThread.ts) with `start`, which runs
 * heapHelper.ts's `serveHeap` on another thread: large products, GELU and
 * attention's softmax (bound by arithmetic) then share their rows with it.
 * Kernels bound by memory stay here (shared, each took longer: the helper's
 * half had to cross between the cores' caches first). Only once our kernels
 * run on a shared heap (useBackend's sharedHeap); once. Whether a thread helps.
 * `timeoutMs`: how long a request may take before the helper is given up on
 * (heapThread.ts; a minute unless given).
 */
export function useHeapThread(start: StartHeapHelper, timeoutMs?: number): boolean {
  if (heapThread) return true;
  if (!installed || !heap || !isShared(heap)) return false;
  heapThread = new HeapThread(start, heap, kernelModules, kernelFunctions, timeoutMs);
  return true;
}

/** How many requests the second thread has been sent (null where none runs). */
export function heapThreadServed(): number | null {
  return heapThread?.served ?? null;
}

/** Stops the second thread, if one runs. */
export function stopHeapThread(): void {
  heapThread?.dispose();
  heapThread = null;
}


/** Whether the second thread helps now. */
function threads(): boolean {
  return heapThread !== null && kernelOptions.threads && heapThread.stopped === null;
}

/**
 * Runs kernel `name` over `count` rows, the second thread taking the second
 * half where it helps and `work` (floats) is worth it; `args(r0, r1)` are the
 * kernel's arguments for rows r0 .. r1-1.
 */
function splitRows(name: string, count: number, work: number, args: (r0: number, r1: number) => number[]): void {
  const f = kernelFunctions[name];
  // (Where the helper is still busy with a weight's gradient, all of it here: it is then done about as soon.)
  if (!threads() || count < 2 || work < THREADED_MIN_FLOATS || heapThread!.busy) {
    f(...args(0, count));
    return;
  }
  const half = count >> 1;
  heapThread!.together([[name, args(half, count)]], () => f(...args(0, half)));
}

/** Whether the wasm backend's memory is shared (sharedHeap.ts): a second thread can work in it. */
export function wasmHeapShared(): boolean {
  return heap !== null && isShared(heap);
}

function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/**
 * Kernels of ours only (no backend has them; their callers check): rows of x
 * [rows, ...] by a 1-D index, where the index `rows` reads a row of zeros (see
 * rows.ts's rowMover).
 */
export const ROW_MOVE = 'RlcfRowMove';
/**
 * table [R, C] and rows [K, N] int32 -> [N, C], out[n] the sum of
 * table[rows[k][n]] over k (see rows.ts's summedRows); its gradient: dy [N, C]
 * and rows -> [R, C] (attribute tableRows).
 */
export const SUMMED_ROWS = 'RlcfSummedRows';
export const SUMMED_ROWS_GRAD = 'RlcfSummedRowsGrad';
/**
 * Layer norm over the last axis (see layerNorm.ts): x [..., C], gain g and bias
 * b [C], attribute eps -> y, and each row's mean and 1/sqrt(var + eps); its
 * gradient: dy, x, g, mean, rstd -> dx, dg, db.
 */
export const LAYER_NORM = 'RlcfLayerNorm';
export const LAYER_NORM_GRAD = 'RlcfLayerNormGrad';
/**
 * One Adam step (see adam.ts): weight w, moments m and v, gradient g, and the
 * bias corrections c1 = 1 - beta1^t, c2 = 1 - beta2^t (scalars); attributes
 * beta1, beta2, epsilon, learningRate, and scale (the gradient's factor, 1
 * when left out) -> the new w, m, v.
 */
export const ADAM = 'RlcfAdam';
/** x [N, K] times w [K, n], plus b [n] on every row, then (an input r [N, n]) plus r, each added last (see ops/matmul.ts's linear). */
export const LINEAR = 'RlcfLinear';
/** Its gradients to x and w from dy [N, n]: dy w^T and x^T dy, the two products on two threads where a second runs. */
export const LINEAR_GRAD = 'RlcfLinearGrad';
/**
 * One step of a transformer's decoding, embedding to logits, caches written in
 * place (see kernels/decodeStep.ts and ops/decodeStep.ts).
 */
export const DECODE_STEP = 'RlcfDecodeStep';
/** GELU as x * sigmoid(1.702 x) (see activations.ts): x -> y; its gradient: dy, x -> dx. */
export const GELU = 'RlcfGelu';
export const GELU_GRAD = 'RlcfGeluGrad';
