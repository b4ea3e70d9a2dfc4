import * as tf from '../tf.ts';
import { kernelOptions, SOFTMAX, SOFTMAX_GRAD } from './kernels/wasmKernels.ts';

let gradient = false;

/**
 * Attention's softmax over the last axis of scores [B, H, T, n], after adding
 * `mask` ([T, n], or [B or 1, 1, T or 1, n]; null for none). On wasm one kernel
 * of ours forward and one backward (their exp our own, within float32
 * rounding of tfjs's), where tfjs's ops make 2 and 4; elsewhere those ops.
 */
export function attentionSoftmax(scores: tf.Tensor4D, mask: tf.Tensor | null): tf.Tensor4D {
  if (!(kernelOptions.softmax && tf.getBackend() === 'wasm' && tf.getKernel(SOFTMAX, 'wasm') && scores.dtype === 'float32' && (!mask || mask.rank === 2 || mask.rank === 4))) {
    return tf.softmax(mask ? scores.add(mask) : scores) as tf.Tensor4D;
  }
  const m = mask && mask.rank === 2 ? mask.reshape([1, 1, ...mask.shape]) : mask;
  if (!gradient) {
    tf.registerGradient({ kernelName: SOFTMAX, outputsToSave: [true], gradFunc: (dy, saved) => ({ x: () => tf.engine().runKernel(SOFTMAX_GRAD, { dy: dy as tf.Tensor, y: saved[0] }) as tf.Tensor }) });
    gradient = true;
  }
  const y = tf.engine().runKernel(SOFTMAX, m ? { x: scores, mask: m } : { x: scores }) as tf.Tensor4D;
  if (m && m !== mask) m.dispose(); // its gradient keeps only y
  return y;
}
