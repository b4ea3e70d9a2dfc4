import type * as tf from '../../tf.ts';

// The shapes our wasm kernels (wasmKernels.ts) take, and null where tfjs's own kernel should run.

/**
 * The scratch memory the product kernel asks (matMul.wat), in floats: a
 * transposed A turned (one batch at a time), then B's panels of 8 columns packed
 * as rows, where B is transposed or A has 16 rows or more.
 */
export function productScratchFloats({ m, k, n, ta, tb }: { m: number; k: number; n: number; ta: boolean; tb: boolean }): number {
  return (ta ? m * k : 0) + (tb || m >= 16 ? k * Math.max(n - (n % 8), 4) : 0);
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

/** The shape a product kernel is asked to compute (batchedShape). */
export type ProductShape = NonNullable<ReturnType<typeof batchedShape>>;

function size(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/**
 * BatchMatMul's attribute `causal` for attention's products on our kernel
 * (ops/matmul.ts's matMulT; each batch a [T, T] grid): A is zero above its
 * diagonal (the softmax's weights), or below it (them transposed), or only C on
 * and below its diagonal is read (scores; the rest is stored as zeros).
 */
export const CAUSAL = { zeroAboveA: 1, zeroBelowA: 2, lowerOut: 3 } as const;

/**
 * A product's causal mode (matMul.wat's $causal) from BatchMatMul's attribute
 * `causal` (CAUSAL; 0 where kernelOptions has it off), where its operands are
 * [.., T, T] grids as the mode needs; 0 otherwise (the whole product: the same numbers where they matter).
 */
export function causalMode(shape: ProductShape, mode: number): number {
  if (mode === CAUSAL.zeroAboveA || mode === CAUSAL.zeroBelowA) return shape.m === shape.k ? mode : 0;
  return mode === CAUSAL.lowerOut && shape.m === shape.n ? mode : 0;
}

/** Layer norm's epsilon: ops/layerNorm.ts's, and the decoding step's (decodeStep.ts). */
export const LAYER_NORM_EPS = 1e-5;
