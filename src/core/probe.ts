import * as tf from './tf.ts';
import { evaluateActions, maskedMean } from './algorithms/languageModel.ts';
import type { Policy } from './policy.ts';
import { Rng } from './rng.ts';

/**
 * Median time of one minibatch's forward and backward pass through `policy`:
 * a policy-gradient and value loss over `rows` completions of `length` random
 * actions, gradients read back (a GPU backend has finished when they are). What
 * the backend is chosen by, so a policy too small for a GPU's dispatch cost
 * stays on wasm and a large one moves. Leaves no tensor behind.
 */
export async function timeTrainingStep(policy: Policy, rows: number, length: number, repeats = 3): Promise<number> {
  const n = Math.max(1, Math.min(length, policy.config.contextLength - 1));
  const width = 1 + n;
  const rng = new Rng(0);
  const data = Int32Array.from({ length: rows * width }, () => rng.int(policy.config.vocabSize));
  const tokens = tf.tensor2d(data, [rows, width], 'int32');
  const mask = tf.ones([rows, n]);
  const pad = new Int32Array(rows);
  const vars = [...policy.weights.values()].filter((v) => v.trainable);
  const times: number[] = [];
  try {
    for (let i = 0; i < repeats + 2; i++) {
      const t0 = performance.now();
      const { value, grads } = tf.variableGrads(() => {
        const o = evaluateActions(policy, tokens, 1, n, 1, 0, pad);
        return tf.add(maskedMean(o.logprob, mask), maskedMean(tf.square(o.value), mask)) as tf.Scalar;
      }, vars);
      await grads[vars[0].name].data();
      tf.dispose([value, ...Object.values(grads)]);
      if (i >= 2) times.push(performance.now() - t0); // the first two compile kernels
    }
  } finally {
    tf.dispose([tokens, mask]);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
