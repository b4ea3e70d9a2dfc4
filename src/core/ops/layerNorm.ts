import * as tf from '../tf.ts';
import { LAYER_NORM, LAYER_NORM_EPS as EPS, LAYER_NORM_GRAD } from './kernels/wasmKernels.ts';

/**
 * Layer norm over the last axis: (x - mean) / sqrt(var + 1e-5) * g + b, the
 * variance biased (as in GPT-2 and tf.moments). On wasm (rows a multiple of 4
 * long) two kernels of ours, one pass forward and two backward, where tfjs's
 * ops make about 30; elsewhere the ops, the same numbers to float32 rounding.
 */
export function layerNorm<T extends tf.Tensor>(x: T, g: tf.Tensor, b: tf.Tensor): T {
  const C = x.shape[x.rank - 1];
  if (!(tf.getBackend() === 'wasm' && tf.getKernel(LAYER_NORM, 'wasm') && x.dtype === 'float32' && C % 4 === 0)) {
    const { mean, variance } = tf.moments(x, -1, true);
    return x.sub(mean).mul(tf.rsqrt(variance.add(EPS))).mul(g).add(b) as T;
  }
  // Nothing recording gradients (sampling, scoring): the kernel alone, without customGrad's scope.
  if (!(tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn()) {
    const [y, mean, rstd] = tf.engine().runKernel(LAYER_NORM, { x, g, b }, { eps: EPS }) as tf.Tensor[];
    tf.dispose([mean, rstd]);
    return y as T;
  }
  const op = tf.customGrad(((xs: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, mean, rstd] = tf.engine().runKernel(LAYER_NORM, { x: xs, g: gain, b: bias }, { eps: EPS }) as tf.Tensor[];
    save([xs, gain, mean, rstd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg, sm, sr] = saved;
        return tf.engine().runKernel(LAYER_NORM_GRAD, { dy, x: sx, g: sg, mean: sm, rstd: sr }) as tf.Tensor[];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, g, b) as T;
}
