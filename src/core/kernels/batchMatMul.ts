import * as tf from '../tf.ts';
import { BATCH_MAT_MUL_WASM } from './batchMatMulWasm.ts';

/** What this module needs of tfjs's wasm backend (its memory and where each tensor lives in it). */
interface WasmBackendLike {
  wasm: { asm?: { memory?: WebAssembly.Memory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

type Bmm = (a: number, b: number, c: number, batch: number, m: number, k: number, n: number) => void;

let installed = false;

/** Whether the wasm backend's batched products run on this module's kernel. */
export function wasmBatchMatMulInstalled(): boolean {
  return installed;
}

/**
 * The wasm backend's BatchMatMul, with products whose operands both carry a
 * batch (attention's scores and mixes, and their gradients) run by our own
 * SIMD kernel (batchMatMul.wat) in the backend's memory: tfjs runs those through
 * a scalar loop at about 1 GFLOP/s, the kernel at about 20 on the same core.
 * Everything else (dense layers, transposed operands, other dtypes) goes to
 * tfjs's own kernel as before. Called when the wasm backend is set; once.
 */
export function useWasmBatchMatMul(): void {
  if (installed) return;
  const original = tf.getKernel(tf.BatchMatMul, 'wasm');
  const backend = tf.findBackend('wasm') as unknown as WasmBackendLike | null;
  const memory = backend?.wasm.asm?.memory;
  if (!original || !backend || !(memory instanceof WebAssembly.Memory)) return; // not the backend this was written for: leave it be
  const module = new WebAssembly.Module(Uint8Array.from(atob(BATCH_MAT_MUL_WASM), (c) => c.charCodeAt(0)));
  const bmm = new WebAssembly.Instance(module, { env: { memory } }).exports.bmm as Bmm;
  installed = true;
  tf.unregisterKernel(tf.BatchMatMul, 'wasm');
  tf.registerKernel({
    ...original,
    setupFunc: undefined, // the backend is already set up
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      const shape = batchedShape(a, b, transposeA, transposeB);
      if (!shape) return original.kernelFunc(args);
      const wasm = args.backend as unknown as WasmBackendLike;
      const out = wasm.makeOutput(shape.out, 'float32');
      const at = (t: tf.TensorInfo) => wasm.dataIdMap.get(t.dataId)!.memoryOffset;
      bmm(at(a), at(b), at(out), shape.batch, shape.m, shape.k, shape.n);
      return out;
    },
  });
}

/**
 * The sizes when this kernel applies: float32, no transposes, both operands
 * of the same rank (3 or more) and the same batch, more than one of it. Null
 * otherwise (tfjs's kernel then runs, broadcasting and all).
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
