import * as tf from '../tf.ts';
import { BATCH_MAT_MUL_WASM } from './batchMatMulWasm.ts';
import { COLUMN_SUM_WASM } from './columnSumWasm.ts';

/** What these kernels need of tfjs's wasm backend: its memory, and where each tensor lives in it. */
interface WasmBackendLike {
  wasm: { asm?: { memory?: WebAssembly.Memory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

let installed = false;

/** Whether the wasm backend's batched products and leading-axis sums run on this module's kernels. */
export function wasmKernelsInstalled(): boolean {
  return installed;
}

/**
 * Two of the wasm backend's kernels, where tfjs's own are slow, run on SIMD
 * kernels of ours (the .wat files beside this one) in the backend's memory:
 * - BatchMatMul when both operands carry a batch (attention's scores and
 *   mixes, and their gradients): tfjs runs those through a scalar loop at about
 *   1 GFLOP/s, ours about 20 on the same core;
 * - Sum over every axis but the last (every bias's gradient, every layer
 *   norm's): tfjs transposes first; ours walks the rows in place, 5-9x faster.
 * Every other case goes to tfjs's kernel as before. Called when the wasm
 * backend is set; once. Leaves tfjs alone on a build it does not recognise.
 */
export function useWasmKernels(): void {
  if (installed) return;
  const backend = tf.findBackend('wasm') as unknown as WasmBackendLike | null;
  const memory = backend?.wasm.asm?.memory;
  const matMul = tf.getKernel(tf.BatchMatMul, 'wasm');
  const sum = tf.getKernel(tf.Sum, 'wasm');
  if (!backend || !(memory instanceof WebAssembly.Memory) || !matMul || !sum) return;
  const bmm = instantiate(BATCH_MAT_MUL_WASM, memory).bmm as (a: number, b: number, c: number, batch: number, m: number, k: number, n: number) => void;
  const colsum = instantiate(COLUMN_SUM_WASM, memory).colsum as (x: number, out: number, rows: number, cols: number) => void;
  installed = true;
  override(matMul, (args, original) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const shape = batchedShape(a, b, transposeA, transposeB);
    if (!shape) return original(args);
    const wasm = args.backend as unknown as WasmBackendLike;
    const out = wasm.makeOutput(shape.out, 'float32');
    bmm(offset(wasm, a), offset(wasm, b), offset(wasm, out), shape.batch, shape.m, shape.k, shape.n);
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
}

function instantiate(base64: string, memory: WebAssembly.Memory): WebAssembly.Exports {
  const module = new WebAssembly.Module(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
  return new WebAssembly.Instance(module, { env: { memory } }).exports;
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
 * operands of the same rank (3 or more) and the same batch, more than one of
 * it. Null otherwise (tfjs's kernel then runs, broadcasting and all).
 */
export function batchedShape(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): { batch: number; m: number; k: number; n: number; out: number[] } | null {
  if (transposeA || transposeB || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const r = a.shape.length;
  if (r < 3 || b.shape.length !== r) return null;
  const lead = a.shape.slice(0, -2);
  if (lead.some((d, i) => d !== b.shape[i])) return null;
  const batch = lead.reduce((x, y) => x * y, 1);
  const [m, k] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  if (batch < 2 || k !== k2 || m === 0 || n === 0 || k === 0) return null;
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
