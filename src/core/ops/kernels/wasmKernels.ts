import * as tf from '../../tf.ts';
import { MAT_MUL_PLAIN_WASM, MAT_MUL_WASM } from './matMulWasm.ts';
import { ADD_ROWS_WASM } from './addRowsWasm.ts';
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
 * Kernels that can be turned off while installed, for A/B benchmarks in one
 * process (`npm run bench-ab`): off, tfjs's kernel runs (and products take
 * explicit transposes, as before the kernel read them). Two are not kernels:
 * `hostLosses`, the losses and action statistics computed in JS
 * (ops/hostMaths.ts); `headMoves`, attention's heads reached by one row move
 * from one product (policy/transformer.ts, forwardAt).
 */
export const kernelOptions = { transposedProducts: true, broadcastSum: true, hostLosses: true, headMoves: true };

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
  const k = {
    ...instantiate(relaxed ? MAT_MUL_WASM : MAT_MUL_PLAIN_WASM, memory),
    ...instantiate(COLUMN_SUM_WASM, memory),
    ...instantiate(ADD_ROWS_WASM, memory),
    ...instantiate(GATHER_ROWS_WASM, memory),
    ...instantiate(SEGMENT_SUM_WASM, memory),
    ...instantiate(SUMMED_ROWS_WASM, memory),
    ...instantiate(LAYER_NORM_WASM, memory),
    ...instantiate(ADAM_WASM, memory),
  } as unknown as Record<'matMul' | 'colsum' | 'addRows' | 'layerNorm' | 'layerNormGrad' | 'adam', (...args: number[]) => void> &
    Record<'gatherRows' | 'segmentSum' | 'summedRows', (...args: number[]) => number>;
  installed = relaxed ? 'relaxed' : 'plain';
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

  overrideWhere(matMul, ({ a, b }, attrs) => ((attrs.transposeA || attrs.transposeB) && !kernelOptions.transposedProducts ? null : batchedShape(a, b, attrs.transposeA as boolean, attrs.transposeB as boolean)), (wasm, { a, b }, shape) => {
    const out = wasm.makeOutput(shape.out, 'float32');
    // Scratch memory: a transposed A turned (one batch at a time), then a transposed B's panel of 8 columns as rows.
    const floats = (shape.ta ? shape.m * shape.k : 0) + (shape.tb ? shape.k * 8 : 0);
    const scratch = floats ? wasm.makeOutput([floats], 'float32') : null;
    k.matMul(...at(wasm, a, b, out), shape.batch, shape.m, shape.k, shape.n, shape.ta ? 1 : 0, shape.tb ? 1 : 0, scratch ? at(wasm, scratch)[0] : 0);
    if (scratch) wasm.disposeData(scratch.dataId);
    return out;
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

type Inputs = Record<string, tf.TensorInfo>;
type Run<P> = (wasm: WasmBackendLike, inputs: Inputs, plan: P, attrs: tf.NamedAttrMap) => tf.TensorInfo | tf.TensorInfo[];

/**
 * Puts `run` in front of a wasm kernel of tfjs's (the backend is set up
 * already) for the inputs `plan` accepts (anything but null); tfjs's kernel
 * takes the rest.
 */
function overrideWhere<P>(config: tf.KernelConfig, plan: (inputs: Inputs, attrs: tf.NamedAttrMap) => P | null, run: Run<P>): void {
  const original = config.kernelFunc;
  tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel({
    ...config,
    setupFunc: undefined,
    kernelFunc: (args) => {
      const inputs = args.inputs as Inputs;
      const p = plan(inputs, args.attrs ?? {});
      return p === null ? original(args) : run(args.backend as unknown as WasmBackendLike, inputs, p, args.attrs ?? {});
    },
  });
}

/** Registers a wasm kernel tfjs does not have. */
function ours(kernelName: string, run: (wasm: WasmBackendLike, inputs: Inputs, attrs: tf.NamedAttrMap) => tf.TensorInfo | tf.TensorInfo[]): void {
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: (args) => run(args.backend as unknown as WasmBackendLike, args.inputs as Inputs, args.attrs ?? {}) });
}

/** The input x itself under a new tensor: its data, one more reference to it. */
const shared: Run<true> = (wasm, { x }) => {
  wasm.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

function size(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

function decode(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function instantiate(base64: string, memory: WebAssembly.Memory): WebAssembly.Exports {
  return new WebAssembly.Instance(new WebAssembly.Module(decode(base64)), { env: { memory } }).exports;
}

/**
 * The sizes when the product kernel applies: float32, either operand
 * transposed or not, both of the same rank (2 or more) and the same batch.
 * Null otherwise (tfjs's kernel then runs, broadcasting and all).
 */
export function batchedShape(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): { batch: number; m: number; k: number; n: number; ta: boolean; tb: boolean; out: number[] } | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const r = a.shape.length;
  if (r < 2 || b.shape.length !== r) return null;
  const lead = a.shape.slice(0, -2);
  if (lead.some((d, i) => d !== b.shape[i])) return null;
  const batch = lead.reduce((x, y) => x * y, 1);
  const [a0, a1] = a.shape.slice(-2);
  const [b0, b1] = b.shape.slice(-2);
  const [m, k] = transposeA ? [a1, a0] : [a0, a1];
  const [k2, n] = transposeB ? [b1, b0] : [b0, b1];
  if (k !== k2 || m === 0 || n === 0 || k === 0) return null;
  return { batch, m, k, n, ta: transposeA, tb: transposeB, out: [...lead, m, n] };
}

/**
 * The sizes when the broadcast-sum kernel applies: float32, one operand (of 4
 * or more elements) the other's trailing dimensions, leading 1s aside (a bias
 * [C] or [1, C] for [..., C]; a mask [T, T] for [B, H, T, T]). Null otherwise,
 * same shapes included (tfjs's own sum is as quick there).
 */
export function addRowsShape(a: tf.TensorInfo, b: tf.TensorInfo): { rows: number; n: number; rowsOf: 'a' | 'b'; out: number[] } | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const [big, small, rowsOf] = size(a.shape) >= size(b.shape) ? [a, b, 'a' as const] : [b, a, 'b' as const];
  let lead = 0;
  while (lead < small.shape.length && small.shape[lead] === 1) lead++;
  const tail = small.shape.slice(lead);
  const n = size(tail);
  if (n < 4 || tail.length >= big.shape.length || small.shape.length > big.shape.length) return null;
  if (tail.some((d, i) => d !== big.shape[big.shape.length - tail.length + i])) return null;
  return { rows: size(big.shape) / n, n, rowsOf, out: [...big.shape] };
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
