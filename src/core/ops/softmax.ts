import * as tf from '../tf.ts';
import { kernelOptions, SOFTMAX, SOFTMAX_GRAD, wasmKernelsInstalled } from './kernels/wasmKernels.ts';

let gradient = false;

/**
 * Attention's softmax over the last axis of scores [B, H, T, n], after adding
 * `mask` ([T, n], or [B or 1, 1, T or 1, n]; null for none). On wasm one kernel
 * of ours forward and one backward (their exp our own, within float32
 * rounding of tfjs's), where tfjs's ops make 2 and 4; elsewhere those ops.
 * `causal` (only where causalSoftmax()): each row reads its columns up to its
 * own (row t of T after n - T earlier ones), as if a causal mask were added
 * too; the rest get 0 without being read, forwards and backwards.
 */
export function attentionSoftmax(scores: tf.Tensor4D, mask: tf.Tensor | null, causal = false): tf.Tensor4D {
  if (!ourSoftmax(scores, mask)) {
    if (causal) throw new Error('attentionSoftmax: a causal softmax needs the wasm kernel (causalSoftmax())');
    return tf.softmax(mask ? scores.add(mask) : scores) as tf.Tensor4D;
  }
  const m = mask && mask.rank === 2 ? mask.reshape([1, 1, ...mask.shape]) : mask;
  if (!gradient) {
    tf.registerGradient({ kernelName: SOFTMAX, outputsToSave: [true], gradFunc: (dy, saved, attrs) => ({ x: () => tf.engine().runKernel(SOFTMAX_GRAD, { dy: dy as tf.Tensor, y: saved[0] }, { causal: attrs.causal ?? false }) as tf.Tensor }) });
    gradient = true;
  }
  const y = tf.engine().runKernel(SOFTMAX, m ? { x: scores, mask: m } : { x: scores }, { causal }) as tf.Tensor4D;
  if (m && m !== mask) m.dispose(); // its gradient keeps only y
  return y;
}

/** Whether attention's products and softmax can leave out what the causal mask zeroes (our wasm kernels, on). */
export function causalSoftmax(): boolean {
  return kernelOptions.causal && ourSoftmax(null, null) && wasmKernelsInstalled() !== null;
}

function ourSoftmax(scores: tf.Tensor | null, mask: tf.Tensor | null): boolean {
  return kernelOptions.softmax && tf.getBackend() === 'wasm' && tf.getKernel(SOFTMAX, 'wasm') !== undefined && (!scores || scores.dtype === 'float32') && (!mask || mask.rank === 2 || mask.rank === 4);
}
