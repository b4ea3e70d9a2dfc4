import * as tf from '../tf.ts';
import { MAT_MUL_PLAIN_WASM, MAT_MUL_WASM } from './matMulWasm.ts';
import { COLUMN_SUM_WASM } from './columnSumWasm.ts';
import { GATHER_ROWS_WASM } from './gatherRowsWasm.ts';
import { SEGMENT_SUM_WASM } from './segmentSumWasm.ts';
import { SUMMED_ROWS_WASM } from './summedRowsWasm.ts';
import { LAYER_NORM_WASM } from './layerNormWasm.ts';
import { ADAM_WASM } from './adamWasm.ts';

/** What these kernels need of tfjs's wasm backend: its memory, and where each tensor lives in it. */
interface WasmBackendLike {
  wasm: { asm?: { memory?: WebAssembly.Memory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  incRef(dataId: object): void;
  disposeData(dataId: object): void;
}

let installed: 'relaxed' | 'plain' | null = null;

/**
 * Whether the wasm backend's products and leading-axis sums run on this
 * module's kernels, and which product: 'relaxed' (fused multiply-adds, relaxed
 * SIMD), 'plain' (engines without it), null (tfjs's own kernels).
 */
export function wasmKernelsInstalled(): 'relaxed' | 'plain' | null {
  return installed;
}

/** Whether this engine runs relaxed SIMD (Chrome 114+, Firefox 145+, Node 22+; Node 20 with --experimental-wasm-relaxed-simd). */
export function hasRelaxedSimd(): boolean {
  return WebAssembly.validate(decode(MAT_MUL_WASM));
}

/**
 * Three of the wasm backend's kernels run on kernels of ours (the .wat files
 * beside this one) in the backend's memory:
 * - BatchMatMul, plain or batched (not broadcast, not transposed by flag):
 *   blocks of 4 x 8 in registers, fused multiply-adds where the engine has
 *   relaxed SIMD: 40-44 GFLOP/s on one core of a 2-core EPYC on the update's
 *   shapes, against tfjs's XNNPACK at 21-25 (and its scalar loop at about 1
 *   for products whose operands both carry a batch, attention's);
 * - Sum over every axis but the last (every bias's gradient, every layer
 *   norm's): tfjs transposes first; ours walks the rows in place, 5-9x faster;
 * - GatherV2 on the first axis (embeddings' rows, rows moved between layouts):
 *   tfjs computes every element's source index; ours copies whole rows, 20-60x
 *   faster on [640, 64];
 * - UnsortedSegmentSum, which tfjs's wasm backend lacks: a gather's gradient,
 *   so embeddings can be gathers there too;
 * - and kernels of our own: SUMMED_ROWS and its gradient (the MLP's folded
 *   layer), LAYER_NORM and its gradient (the transformer's layer norms),
 *   ADAM (one optimizer step of one weight).
 * Every other case goes to tfjs's kernel as before. Called when the wasm
 * backend is set; once. Leaves tfjs alone on a build it does not recognise.
 */
export function useWasmKernels(): void {
  if (installed) return;
  const backend = tf.findBackend('wasm') as unknown as WasmBackendLike | null;
  const memory = backend?.wasm.asm?.memory;
  const matMul = tf.getKernel(tf.BatchMatMul, 'wasm');
  const sum = tf.getKernel(tf.Sum, 'wasm');
  const gather = tf.getKernel(tf.GatherV2, 'wasm');
  const identity = tf.getKernel(tf.Identity, 'wasm');
  const cast = tf.getKernel(tf.Cast, 'wasm');
  if (!backend || !(memory instanceof WebAssembly.Memory) || !matMul || !sum || !gather || !identity || !cast) return;
  const relaxed = hasRelaxedSimd();
  const product = instantiate(relaxed ? MAT_MUL_WASM : MAT_MUL_PLAIN_WASM, memory).matMul as (a: number, b: number, c: number, batch: number, m: number, k: number, n: number) => void;
  const colsum = instantiate(COLUMN_SUM_WASM, memory).colsum as (x: number, out: number, rows: number, cols: number) => void;
  const gatherRows = instantiate(GATHER_ROWS_WASM, memory).gatherRows as (x: number, index: number, out: number, count: number, rows: number, rowBytes: number, zeroRow: number) => number;
  /** Throws naming the index at `bad` (freeing `out`) unless bad < 0. */
  const checked = (wasm: WasmBackendLike, out: tf.TensorInfo, bad: number, ids: tf.TensorInfo, what: string, limit: number): tf.TensorInfo => {
    if (bad < 0) return out;
    wasm.disposeData(out.dataId);
    const value = new Int32Array(memory.buffer, offset(wasm, ids) + 4 * bad, 1)[0];
    throw new Error(`${what} ${value} is not in [0, ${limit - 1}]`);
  };
  /** Rows of x by index into `out`, or throws naming the first index out of range. */
  const rowsInto = (wasm: WasmBackendLike, x: tf.TensorInfo, indices: tf.TensorInfo, out: tf.TensorInfo, count: number, rowBytes: number, zeroRow: boolean): tf.TensorInfo => {
    if (count === 0 || rowBytes === 0) return out;
    const bad = gatherRows(offset(wasm, x), offset(wasm, indices), offset(wasm, out), count, x.shape[0], rowBytes, zeroRow ? 1 : 0);
    return checked(wasm, out, bad, indices, `${zeroRow ? ROW_MOVE : 'GatherV2'}: the index value`, x.shape[0] + (zeroRow ? 1 : 0));
  };
  installed = relaxed ? 'relaxed' : 'plain';
  override(matMul, (args, original) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const shape = batchedShape(a, b, transposeA, transposeB);
    if (!shape) return original(args);
    const wasm = args.backend as unknown as WasmBackendLike;
    const out = wasm.makeOutput(shape.out, 'float32');
    product(offset(wasm, a), offset(wasm, b), offset(wasm, out), shape.batch, shape.m, shape.k, shape.n);
    return out;
  });
  override(sum, (args, original) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const shape = columnSumShape(x, axis, keepDims);
    if (!shape) return original(args);
    const wasm = args.backend as unknown as WasmBackendLike;
    const out = wasm.makeOutput(shape.out, 'float32');
    colsum(offset(wasm, x), offset(wasm, out), shape.rows, shape.cols);
    return out;
  });
  override(gather, (args, original) => {
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
    const shape = gatherRowsShape(x, indices, axis, batchDims);
    if (!shape) return original(args);
    const wasm = args.backend as unknown as WasmBackendLike;
    return rowsInto(wasm, x, indices, wasm.makeOutput(shape.out, x.dtype), shape.count, shape.rowBytes, false);
  });
  tf.registerKernel({
    kernelName: ROW_MOVE,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
      const shape = gatherRowsShape(x, indices, 0, 0);
      if (!shape || indices.shape.length !== 1) throw new Error(`${ROW_MOVE}: needs float32 or int32 rows and a 1-D int32 index`);
      const wasm = args.backend as unknown as WasmBackendLike;
      return rowsInto(wasm, x, indices, wasm.makeOutput(shape.out, x.dtype), shape.count, shape.rowBytes, true);
    },
  });
  const segmentSum = instantiate(SEGMENT_SUM_WASM, memory).segmentSum as (x: number, ids: number, out: number, count: number, segments: number, cols: number, period: number) => number;
  const summedRows = instantiate(SUMMED_ROWS_WASM, memory).summedRows as (table: number, rows: number, out: number, k: number, n: number, cols: number, tableRows: number) => number;
  if (!tf.getKernel(tf.UnsortedSegmentSum, 'wasm')) {
    tf.registerKernel({
      kernelName: tf.UnsortedSegmentSum,
      backendName: 'wasm',
      kernelFunc: (args) => {
        const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
        const { numSegments } = args.attrs as { numSegments: number };
        const lead = segmentIds.shape.length;
        if (x.dtype !== 'float32' || segmentIds.dtype !== 'int32' || segmentIds.shape.some((d, i) => d !== x.shape[i])) {
          throw new Error(`UnsortedSegmentSum (wasm): needs float32 values whose leading dimensions are the int32 ids' shape; got ${x.dtype} [${x.shape}] and ${segmentIds.dtype} [${segmentIds.shape}]`);
        }
        const count = segmentIds.shape.reduce((p, d) => p * d, 1);
        const cols = x.shape.slice(lead).reduce((p, d) => p * d, 1);
        const wasm = args.backend as unknown as WasmBackendLike;
        const out = wasm.makeOutput([numSegments, ...x.shape.slice(lead)], 'float32');
        const bad = segmentSum(offset(wasm, x), offset(wasm, segmentIds), offset(wasm, out), count, numSegments, cols, Math.max(count, 1));
        return checked(wasm, out, bad, segmentIds, 'UnsortedSegmentSum: the segment id', numSegments);
      },
    });
  }
  tf.registerKernel({
    kernelName: SUMMED_ROWS,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { table, rows } = args.inputs as { table: tf.TensorInfo; rows: tf.TensorInfo };
      const [k, n] = rows.shape;
      const [tableRows, cols] = table.shape;
      const wasm = args.backend as unknown as WasmBackendLike;
      const out = wasm.makeOutput([n, cols], 'float32');
      if (k === 0) throw new Error(`${SUMMED_ROWS}: needs at least one row to sum`);
      const bad = summedRows(offset(wasm, table), offset(wasm, rows), offset(wasm, out), k, n, cols, tableRows);
      return checked(wasm, out, bad, rows, `${SUMMED_ROWS}: the row index`, tableRows);
    },
  });
  tf.registerKernel({
    kernelName: SUMMED_ROWS_GRAD,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { dy, rows } = args.inputs as { dy: tf.TensorInfo; rows: tf.TensorInfo };
      const { tableRows } = args.attrs as { tableRows: number };
      const [k, n] = rows.shape;
      const cols = dy.shape[1];
      const wasm = args.backend as unknown as WasmBackendLike;
      const out = wasm.makeOutput([tableRows, cols], 'float32');
      const bad = segmentSum(offset(wasm, dy), offset(wasm, rows), offset(wasm, out), k * n, tableRows, cols, Math.max(n, 1));
      return checked(wasm, out, bad, rows, `${SUMMED_ROWS_GRAD}: the row index`, tableRows);
    },
  });
  const norm = instantiate(LAYER_NORM_WASM, memory) as unknown as {
    layerNorm(x: number, g: number, b: number, y: number, mean: number, rstd: number, rows: number, cols: number, eps: number): void;
    layerNormGrad(dy: number, x: number, g: number, mean: number, rstd: number, dx: number, dg: number, db: number, rows: number, cols: number): void;
  };
  const normShape = (x: tf.TensorInfo, g: tf.TensorInfo): { rows: number; cols: number } => {
    const cols = x.shape.at(-1) ?? 0;
    if (x.dtype !== 'float32' || cols % 4 !== 0 || g.shape.length !== 1 || g.shape[0] !== cols) throw new Error(`${LAYER_NORM}: needs float32 rows whose length (a multiple of 4) is the gain's; got [${x.shape}] and [${g.shape}]`);
    return { rows: x.shape.slice(0, -1).reduce((p, d) => p * d, 1), cols };
  };
  tf.registerKernel({
    kernelName: LAYER_NORM,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x, g, b } = args.inputs as { x: tf.TensorInfo; g: tf.TensorInfo; b: tf.TensorInfo };
      const { eps } = args.attrs as { eps: number };
      const { rows, cols } = normShape(x, g);
      const wasm = args.backend as unknown as WasmBackendLike;
      const y = wasm.makeOutput(x.shape, 'float32');
      const mean = wasm.makeOutput([rows], 'float32');
      const rstd = wasm.makeOutput([rows], 'float32');
      if (rows > 0) norm.layerNorm(offset(wasm, x), offset(wasm, g), offset(wasm, b), offset(wasm, y), offset(wasm, mean), offset(wasm, rstd), rows, cols, eps);
      return [y, mean, rstd];
    },
  });
  tf.registerKernel({
    kernelName: LAYER_NORM_GRAD,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { dy, x, g, mean, rstd } = args.inputs as Record<'dy' | 'x' | 'g' | 'mean' | 'rstd', tf.TensorInfo>;
      const { rows, cols } = normShape(x, g);
      const wasm = args.backend as unknown as WasmBackendLike;
      const dx = wasm.makeOutput(x.shape, 'float32');
      const dg = wasm.makeOutput([cols], 'float32');
      const db = wasm.makeOutput([cols], 'float32');
      norm.layerNormGrad(offset(wasm, dy), offset(wasm, x), offset(wasm, g), offset(wasm, mean), offset(wasm, rstd), offset(wasm, dx), offset(wasm, dg), offset(wasm, db), rows, cols);
      return [dx, dg, db];
    },
  });
  const adam = instantiate(ADAM_WASM, memory).adam as (...args: number[]) => void;
  tf.registerKernel({
    kernelName: ADAM,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { w, m, v, g, c1, c2 } = args.inputs as Record<'w' | 'm' | 'v' | 'g' | 'c1' | 'c2', tf.TensorInfo>;
      const { beta1, beta2, epsilon, learningRate } = args.attrs as Record<'beta1' | 'beta2' | 'epsilon' | 'learningRate', number>;
      const n = w.shape.reduce((p, d) => p * d, 1);
      if ([w, m, v, g, c1, c2].some((t) => t.dtype !== 'float32') || [m, v, g].some((t) => t.shape.reduce((p, d) => p * d, 1) !== n)) {
        throw new Error(`${ADAM}: needs float32 weight, moments and gradient of one size`);
      }
      const wasm = args.backend as unknown as WasmBackendLike;
      const [wo, mo, vo] = [0, 1, 2].map(() => wasm.makeOutput(w.shape, 'float32'));
      // The scalars as tfjs makes them: float32 tensors of the JS numbers.
      if (n > 0) adam(...[w, m, v, g, c1, c2, wo, mo, vo].map((t) => offset(wasm, t)), n, beta1, beta2, 1 - beta1, 1 - beta2, epsilon, -learningRate);
      return [wo, mo, vo];
    },
  });
  // Identity, and a cast to the same type, share the data (as the cpu backend does) instead of copying it:
  // every product's and every elementwise product's gradient casts its operands.
  const share = (args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    (args.backend as unknown as WasmBackendLike).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  override(identity, (args, original) => ((args.inputs as { x: tf.TensorInfo }).x.dtype === 'string' ? original(args) : share(args)));
  override(cast, (args, original) => ((args.attrs as { dtype: tf.DataType }).dtype === (args.inputs as { x: tf.TensorInfo }).x.dtype && (args.inputs as { x: tf.TensorInfo }).x.dtype !== 'string' ? share(args) : original(args)));
}

/**
 * Kernels of ours for the wasm backend (see rows.ts's summedRows): table
 * [R, C] and rows [K, N] int32 -> [N, C], out[n] the sum of table[rows[k][n]]
 * over k; and its gradient, dy [N, C] and rows -> [R, C] (attribute tableRows).
 */
export const SUMMED_ROWS = 'RlcfSummedRows';
/**
 * Layer norm over the last axis (see layerNorm.ts): x [..., C], gain g and bias
 * b [C], attribute eps -> y, and each row's mean and 1/sqrt(var + eps); its
 * gradient: dy, x, g, mean, rstd -> dx, dg, db.
 */
export const LAYER_NORM = 'RlcfLayerNorm';
/**
 * One Adam step (see adam.ts): weight w, moments m and v, gradient g, and the
 * bias corrections c1 = 1 - beta1^t, c2 = 1 - beta2^t (scalars); attributes
 * beta1, beta2, epsilon, learningRate -> the new w, m, v.
 */
export const ADAM = 'RlcfAdam';
export const LAYER_NORM_GRAD = 'RlcfLayerNormGrad';
export const SUMMED_ROWS_GRAD = 'RlcfSummedRowsGrad';

/**
 * A kernel of ours for the wasm backend, not tfjs's: rows of x [rows, ...] by a
 * 1-D index, where the index `rows` reads a row of zeros (see rowMover). Other
 * backends have no such kernel: there it is a concatenation and a gather.
 */
export const ROW_MOVE = 'RlcfRowMove';

function decode(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function instantiate(base64: string, memory: WebAssembly.Memory): WebAssembly.Exports {
  return new WebAssembly.Instance(new WebAssembly.Module(decode(base64)), { env: { memory } }).exports;
}

/** Re-registers a wasm kernel with `kernelFunc` in front of tfjs's own (the backend is set up already). */
function override(config: tf.KernelConfig, kernelFunc: (args: Parameters<tf.KernelFunc>[0], original: tf.KernelFunc) => ReturnType<tf.KernelFunc>): void {
  const original = config.kernelFunc;
  tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel({ ...config, setupFunc: undefined, kernelFunc: (args) => kernelFunc(args, original) });
}

function offset(backend: WasmBackendLike, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId)!.memoryOffset;
}

/**
 * The sizes when the product kernel applies: float32, no transposes, both
 * operands of the same rank (2 or more) and the same batch. Null otherwise
 * (tfjs's kernel then runs, broadcasting and all).
 */
export function batchedShape(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): { batch: number; m: number; k: number; n: number; out: number[] } | null {
  if (transposeA || transposeB || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const r = a.shape.length;
  if (r < 2 || b.shape.length !== r) return null;
  const lead = a.shape.slice(0, -2);
  if (lead.some((d, i) => d !== b.shape[i])) return null;
  const batch = lead.reduce((x, y) => x * y, 1);
  const [m, k] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  if (k !== k2 || m === 0 || n === 0 || k === 0) return null;
  return { batch, m, k, n, out: [...lead, m, n] };
}

/**
 * The sizes when the column-sum kernel applies: float32, a sum over every axis
 * but the last (of a tensor of rank 2 or more). Null otherwise.
 */
export function columnSumShape(x: tf.TensorInfo, axis: number | number[], keepDims: boolean): { rows: number; cols: number; out: number[] } | null {
  const r = x.shape.length;
  if (x.dtype !== 'float32' || r < 2) return null;
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + r : a)))].sort((a, b) => a - b);
  if (axes.length !== r - 1 || axes.some((a, i) => a !== i)) return null;
  const cols = x.shape[r - 1];
  const rows = x.shape.slice(0, -1).reduce((p, d) => p * d, 1);
  if (rows === 0 || cols === 0) return null;
  return { rows, cols, out: keepDims ? [...Array<number>(r - 1).fill(1), cols] : [cols] };
}

/**
 * The sizes when the row-gather kernel applies: the first axis, no batch
 * dimensions, 4-byte elements (float32 or int32), int32 indices. Null otherwise.
 */
export function gatherRowsShape(x: tf.TensorInfo, indices: tf.TensorInfo, axis: number, batchDims: number): { count: number; rowBytes: number; out: number[] } | null {
  const r = x.shape.length;
  if (r < 1 || (axis < 0 ? axis + r : axis) !== 0 || batchDims !== 0) return null;
  if ((x.dtype !== 'float32' && x.dtype !== 'int32') || indices.dtype !== 'int32') return null;
  const count = indices.shape.reduce((p, d) => p * d, 1);
  const rowBytes = 4 * x.shape.slice(1).reduce((p, d) => p * d, 1);
  return { count, rowBytes, out: [...indices.shape, ...x.shape.slice(1)] };
}
