/**
 * Large products on two threads (heapThread.ts): the helper takes about half
 * of the output's rows (or of its batches), this thread the rest. Shares are
 * whole rows, each summed by the same kernel in the same order as on one
 * thread: the same numbers, bit for bit. A transposed A (backpropagation's
 * weight gradients) is turned into scratch first, as the kernel would turn it,
 * each thread turning the columns that become its own rows.
 */
import type { HeapThread } from './heapThread.ts';
import { productScratchFloats, type ProductShape } from './shapes.ts';

/** Products below this many multiply-adds stay on one thread: asking and waiting costs microseconds. */
export const THREADED_MIN_MADDS = 1 << 23;

/** The product kernel's exports (matMul.wat), in the heap. */
export interface ProductKernel {
  matMul(...args: number[]): void;
  transpose(src: number, dst: number, k: number, m: number, ld: number): void;
}

/** Whether a product of this shape is shared. */
export function sharesProduct(s: ProductShape): boolean {
  return s.batch * s.m * s.k * s.n >= THREADED_MIN_MADDS && (s.batch >= 2 || s.m >= 8);
}

/** The scratch a shared product needs, in floats: a transposed A (per thread where each turns its own batches), then each thread's packed panels. */
export function sharedScratchFloats(s: ProductShape): number {
  return (s.batch >= 2 && s.ta ? 2 : 1) * (s.ta ? s.m * s.k : 0) + 2 * panelFloats(s.k, s.n);
}

/**
 * C = A x B (+ bias, + res: pointers or 0; pointers into the heap; `scratch` of sharedScratchFloats), as the
 * kernel computes it on one thread, the helper taking about half. False if the
 * helper did not answer in time (its share was then worked out here too; it
 * may still write its scratch, which the caller must not free).
 */
export function sharedProduct(thread: HeapThread, kernel: ProductKernel, s: ProductShape, a: number, b: number, c: number, scratch: number, bias = 0, res = 0, causal = 0): boolean {
  const { batch, m, k, n, ta, tb } = s;
  const [fa, fb] = [ta ? 1 : 0, tb ? 1 : 0];
  const panels = 4 * panelFloats(k, n);
  if (batch >= 2) {
    // Whole batches each, each thread with scratch of its own (a batch's A turned, then the panels).
    const mine = batch >> 1;
    const theirs = batch - mine;
    const theirScratch = scratch + (ta ? 4 * m * k : 0) + panels;
    const call: [string, number[]] = ['matMul', [a + 4 * mine * m * k, b + 4 * mine * k * n, c + 4 * mine * m * n, theirs, m, k, n, fa, fb, theirScratch, bias, res && res + 4 * mine * m * n, causal]];
    return thread.together([call], () => kernel.matMul(a, b, c, mine, m, k, n, fa, fb, scratch, bias, res, causal)).answered;
  }
  // Rows split (a causal mode is left out: it counts rows from 0, and is only ever an economy).
  const mine = Math.max(4, Math.round(m / 8) * 4);
  const theirs = m - mine;
  const [rows, packs] = ta ? [scratch, scratch + 4 * m * k] : [a, scratch];
  const calls: [string, number[]][] = ta ? [['transpose', [a + 4 * mine, rows + 4 * mine * k, k, theirs, m]]] : [];
  calls.push(['matMul', [rows + 4 * mine * k, b, c + 4 * mine * n, 1, theirs, k, n, 0, fb, packs + panels, bias, res && res + 4 * mine * n]]);
  return thread.together(calls, () => {
    if (ta) kernel.transpose(a, rows, k, mine, m);
    kernel.matMul(rows, b, c, 1, mine, k, n, 0, fb, packs, bias, res);
  }).answered;
}

/** B's packed panels, as many floats as the kernel may ask for any number of rows. */
function panelFloats(k: number, n: number): number {
  return productScratchFloats({ m: 16, k, n, ta: false, tb: true });
}
