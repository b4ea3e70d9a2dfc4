import * as tf from '../tf.ts';
import { kernelOptions } from './kernels/wasmKernels.ts';

/**
 * Small maths on numbers the process already holds. On the wasm and cpu
 * backends a tensor's numbers are in this process's memory, so a read costs a
 * copy, not a wait for a device. There, a chain of small elementwise ops (the
 * action statistics below; PPO's loss, algorithms/hostLosses.ts) is one step in JS,
 * forwards and backwards, where tfjs runs and tapes a kernel for every op:
 * about 30 kernels for a softmax's log-probability and entropy with their
 * gradients, each with its bookkeeping (a few microseconds) on a few hundred
 * numbers. Sums run in float64 and round once, so the numbers are tfjs's to
 * float32 rounding. On GPU backends (a read would wait for the device) the
 * callers keep tfjs's ops.
 */
export function hostMaths(): boolean {
  const backend = tf.getBackend();
  return kernelOptions.hostLosses && (backend === 'wasm' || backend === 'cpu');
}

/** Each row's log-probabilities (logits [n, V] / temperature, log-softmaxed) and probabilities, its action's log-probability, its entropy, as plain numbers. */
export function softmaxStats(logits: Float32Array, V: number, actions: Int32Array, temperature: number) {
  const n = actions.length;
  const logprob = new Float64Array(n);
  const entropy = new Float64Array(n);
  const logp = new Float64Array(n * V);
  const p = new Float64Array(n * V);
  for (let i = 0, base = 0; i < n; i++, base += V) {
    let max = -Infinity;
    for (let k = base; k < base + V; k++) {
      logp[k] = logits[k] / temperature; // the scaled logit, for now
      if (logp[k] > max) max = logp[k];
    }
    let sum = 0;
    for (let k = base; k < base + V; k++) sum += p[k] = Math.exp(logp[k] - max);
    const lse = max + Math.log(sum);
    let h = 0;
    for (let k = base; k < base + V; k++) {
      logp[k] -= lse;
      p[k] /= sum;
      h -= p[k] * logp[k];
    }
    logprob[i] = logp[base + actions[i]];
    entropy[i] = h;
  }
  return { logprob, entropy, logp, p };
}

/**
 * The gradient to the logits [n, V] (softmaxStats' input) of a loss whose
 * gradients to each row's action log-probability and entropy are `dLogprob` and
 * `dEntropy`, times `scale`: (dLogprob (onehot - p) - dEntropy p (logp + H)) / T.
 */
export function softmaxStatsGrad(stats: ReturnType<typeof softmaxStats>, V: number, actions: Int32Array, temperature: number, dLogprob: ArrayLike<number>, dEntropy: ArrayLike<number>, scale: number): Float32Array {
  const n = actions.length;
  const grad = new Float32Array(n * V);
  for (let i = 0, base = 0; i < n; i++, base += V) {
    const g = (dLogprob[i] * scale) / temperature;
    const e = (dEntropy[i] * scale) / temperature;
    const h = stats.entropy[i];
    for (let k = 0; k < V; k++) {
      const p = stats.p[base + k];
      grad[base + k] = g * ((k === actions[i] ? 1 : 0) - p) - e * p * (stats.logp[base + k] + h);
    }
  }
  return grad;
}

/**
 * The log-probability of each row's action and the entropy of its
 * distribution, from logits [n, V] at a temperature: [n] each, as
 * `-sum(softmax * logSoftmax)` and `logSoftmax[action]` with tfjs's ops. Its
 * gradient to the logits: (dLogprob (onehot - p) - dEntropy p (logp + H)) / T.
 */
export function hostActionStats(logits: tf.Tensor2D, actions: Int32Array, temperature: number): { logprob: tf.Tensor1D; entropy: tf.Tensor1D } {
  const [n, V] = logits.shape;
  if (actions.length !== n) throw new Error(`hostActionStats: ${actions.length} actions for ${n} rows of logits`);
  const op = tf.customGrad(((z: tf.Tensor) => {
    const stats = softmaxStats(z.dataSync() as Float32Array, V, actions, temperature);
    const out = new Float32Array(2 * n);
    out.set(stats.logprob);
    out.set(stats.entropy, n);
    return {
      value: tf.tensor2d(out, [2, n]),
      gradFunc: (dy: tf.Tensor) => {
        const d = dy.dataSync();
        return tf.tensor2d(softmaxStatsGrad(stats, V, actions, temperature, d.subarray(0, n), d.subarray(n), 1), [n, V]);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const [logprob, entropy] = tf.split(op(logits) as tf.Tensor2D, 2, 0);
  return { logprob: logprob.reshape([n]), entropy: entropy.reshape([n]) };
}
