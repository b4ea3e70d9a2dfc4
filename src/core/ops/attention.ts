import * as tf from '../tf.ts';
import { ATTENTION, ATTENTION_GRAD, kernelOptions } from './kernels/wasmKernels.ts';
import { inverseRows } from './rows.ts';

/** Whether causal attention on forwardAt's layout runs as one kernel each way (wasm, our kernels, kernelOptions.attention). */
export function oneKernelAttention(): boolean {
  return kernelOptions.attention && kernelOptions.causal && tf.getBackend() === 'wasm' && tf.getKernel(ATTENTION, 'wasm') !== undefined;
}

/**
 * Causal attention's core on forwardAt's layout as one op: a product's packed
 * rows [n, 3C] (each row's q, k and v) -> the heads' outputs in packed rows [n,
 * C]. `toHeads` [3 * B * H * T]: for each of q's, k's and v's cells [B, H, T]
 * in turn, the row of the [n * 3 * H, hd] view it comes from (n * 3 * H: a
 * zero row); `fromHeads` [n * H]: each packed row's head, the cell it comes
 * from. On wasm one kernel forwards and one backwards (kernels/attention.ts)
 * run what the op-by-op path runs (the heads moved by rows, q scaled by
 * 1/sqrt(hd), the causal products and softmax, the heads moved back; backwards
 * each in turn), where that path makes about 45 tfjs ops a layer, forwards and
 * backwards, and three gradients of the packed rows' size, mostly zeros, to
 * add: the same numbers, bit for bit.
 */
export function packedAttention(toHeads: Int32Array, fromHeads: Int32Array, [B, H, T, hd]: [number, number, number, number]): (qkv: tf.Tensor2D, mask: tf.Tensor | null) => tf.Tensor2D {
  const n = fromHeads.length / H;
  const toInverse = inverseRows(toHeads, n * 3 * H); // each packed row's q, k or v head: its cell among the three
  const fromInverse = inverseRows(fromHeads, B * H * T); // each cell: its packed row's head
  const attrs = { B, H, T, hd };
  let indices: tf.Tensor1D[] | null = null; // made at the first layer's call, in forwardAt's scope, for every layer
  return (qkv, mask) => {
    indices ??= [toHeads, fromHeads, fromInverse, toInverse].map((index) => tf.tensor1d(index, 'int32'));
    const [to, from, fromBack, toBack] = indices;
    const m = mask && mask.rank === 2 ? mask.reshape([1, 1, ...mask.shape]) : mask;
    const op = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
      const [y, qs, k, v, p] = tf.engine().runKernel(ATTENTION, { qkv: x, toHeads: to, fromHeads: from, ...(m && { mask: m }) }, attrs) as tf.Tensor[];
      save([qs, k, v, p, fromBack, toBack]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(ATTENTION_GRAD, { dy, qs: saved[0], k: saved[1], v: saved[2], p: saved[3], fromInverse: saved[4], toInverse: saved[5] }, attrs) as tf.Tensor,
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    return op(qkv) as tf.Tensor2D;
  };
}
