import * as tf from '../tf.ts';
import { batchedShape, CAUSAL, kernelOptions, LINEAR, LINEAR_GRAD, wasmKernelsInstalled } from './kernels/wasmKernels.ts';

/**
 * tfjs's own wasm BatchMatMul is about 10x slower when asked to transpose an
 * operand (measured: [2048,128]^T x [2048,256] takes 58 ms with transposeA, 5.8 ms
 * with an explicit transpose first). Our product kernel (kernels/matMul.wat)
 * reads transposed operands as they lie, with the same sums as on a transposed
 * copy; where it does not apply (a broadcast batch, or our kernels not
 * installed), the transpose is made explicitly. Backpropagation through every
 * matMul uses transposes, so this module offers a BatchMatMul gradient that
 * goes through here (`useTransposeFreeMatMulGradient`, registered when a
 * backend is set up: backend/backend.ts) and `matMulT` for forward passes.
 *
 * `causal` (wasmKernels.ts's CAUSAL), for attention's [.., T, T] grids only:
 * what the causal mask makes zero, or leaves unread, which our kernel then
 * leaves out; its gradient passes the modes on. The caller promises what the
 * mode says: the weights (A of zeroAboveA) are a causal softmax's output and
 * nothing but that softmax reads their gradient; the scores (C of lowerOut)
 * are read by that softmax alone, whose gradient is zero above the diagonal.
 * Elsewhere the whole product, the same numbers where they are read.
 */
export function matMulT(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false, causal = 0): tf.Tensor {
  const ours = tf.getBackend() === 'wasm' && wasmKernelsInstalled() && batchedShape(a, b, transposeA, transposeB);
  if (causal && ours && kernelOptions.causal && (kernelOptions.transposedProducts || (!transposeA && !transposeB))) {
    return tf.engine().runKernel(tf.BatchMatMul, { a, b }, { transposeA, transposeB, causal }) as tf.Tensor;
  }
  if (tf.getBackend() !== 'wasm' || (!transposeA && !transposeB)) return tf.matMul(a, b, transposeA, transposeB);
  if (ours && kernelOptions.transposedProducts) return tf.matMul(a, b, transposeA, transposeB);
  return tf.matMul(transposeA ? swapLast(a) : a, transposeB ? swapLast(b) : b);
}

function swapLast(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  const n = perm.length;
  [perm[n - 2], perm[n - 1]] = [perm[n - 1], perm[n - 2]];
  return tf.transpose(x, perm);
}

let registered = false;

/**
 * Puts this module's BatchMatMul gradient in place of tfjs-core's. Called when a
 * backend is set (useBackend), so it always comes after tfjs's own gradients
 * are registered, whichever order modules load in.
 */
export function useTransposeFreeMatMulGradient(): void {
  if (registered) return;
  registered = true;
  tf.registerGradient(TRANSPOSE_FREE_MATMUL_GRADIENT);
}

// Same algebra as tfjs-core's BatchMatMul_grad.ts; only the transposes move.
export const TRANSPOSE_FREE_MATMUL_GRADIENT: tf.GradConfig = {
  kernelName: tf.BatchMatMul,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const g = dy as tf.Tensor;
    const [a, b] = saved;
    const { transposeA, transposeB, causal } = attrs as unknown as { transposeA: boolean; transposeB: boolean; causal?: number };
    // Attention's causal products: weights zero above the diagonal times values; scores of which only the lower half is read.
    const [weights, scores] = [causal === CAUSAL.zeroAboveA && !transposeA && !transposeB, causal === CAUSAL.lowerOut && !transposeA && transposeB];
    if (weights) return { a: () => matMulT(g, b, false, true, CAUSAL.lowerOut), b: () => matMulT(a, g, true, false, CAUSAL.zeroBelowA) };
    if (scores) return { a: () => matMulT(g, b, false, false, CAUSAL.zeroAboveA), b: () => matMulT(g, a, true, false, CAUSAL.zeroBelowA) };
    if (!transposeA && !transposeB) return { a: () => matMulT(g, b, false, true), b: () => matMulT(a, g, true, false) };
    if (!transposeA && transposeB) return { a: () => matMulT(g, b, false, false), b: () => matMulT(g, a, true, false) };
    if (transposeA && !transposeB) return { a: () => matMulT(b, g, false, true), b: () => matMulT(a, g, false, false) };
    return { a: () => matMulT(b, g, true, true), b: () => matMulT(g, a, true, true) };
  },
};

let linearGradient = false;

/**
 * x [N, K] w [K, n] + b [n], and then + `residual` [N, n] where given (the
 * residual stream's x + layer(x)). On wasm one kernel of ours: the bias and the
 * residual are added to each output row as the product stores it (each the
 * same rounding as a separate sum), where tfjs runs a product and one or two
 * sums, each a pass over the output. Its gradient is the same products and
 * column sum as the ops' gradients. Elsewhere the ops.
 */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, residual?: tf.Tensor2D): tf.Tensor2D {
  const shape = x.rank === 2 ? batchedShape(x, w, false, false) : null;
  const fits = shape && b.dtype === 'float32' && b.rank === 1 && b.shape[0] === shape.n && (!residual || (residual.dtype === 'float32' && residual.shape[0] === shape.m && residual.shape[1] === shape.n));
  if (!(kernelOptions.linear && tf.getBackend() === 'wasm' && tf.getKernel(LINEAR, 'wasm') && fits)) {
    const y = tf.add(tf.matMul(x, w), b) as tf.Tensor2D;
    return residual ? residual.add(y) : y;
  }
  if (!linearGradient) {
    tf.registerGradient({
      kernelName: LINEAR,
      inputsToSave: ['x', 'w'],
      gradFunc: (dy, saved) => {
        const g = dy as tf.Tensor;
        const [sx, sw] = saved;
        const [b, r] = [() => tf.sum(g, 0), () => tf.clone(g)];
        if (!(kernelOptions.linearGrad && kernelOptions.transposedProducts)) return { x: () => matMulT(g, sw, false, true), w: () => matMulT(sx, g, true, false), b, r };
        // Both products in one kernel (one each on two threads), made here: the tape calls each input's
        // gradient in a scope of its own, which would free the other. The same numbers as one by one.
        const [dx, dw] = tf.engine().runKernel(LINEAR_GRAD, { dy: g, x: sx, w: sw }) as tf.Tensor[];
        return { x: () => dx, w: () => dw, b, r };
      },
    });
    linearGradient = true;
  }
  return tf.engine().runKernel(LINEAR, residual ? { x, w, b, r: residual } : { x, w, b }) as tf.Tensor2D;
}
