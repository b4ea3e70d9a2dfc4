import * as tf from '../tf.ts';
import { evaluateActions, maskedMean } from '../algorithms/masked.ts';
import type { Policy } from '../policy/policy.ts';
import { Rng } from '../rng.ts';

/**
 * Median time of one minibatch's forward and backward pass through `policy`:
 * a policy-gradient and value loss over `rows` completions of `length` random
 * actions. What the backend is chosen by, so a policy too small for a GPU's
 * dispatch cost stays on wasm and a large one moves. Leaves no tensor behind.
 */
export async function timeTrainingStep(policy: Policy, rows: number, length: number, repeats = 3): Promise<number> {
  const n = Math.max(1, Math.min(length, policy.config.contextLength - 1));
  const rng = new Rng(0);
  const tokens = tf.tensor2d(Int32Array.from({ length: rows * (1 + n) }, () => rng.int(policy.config.vocabSize)), [rows, 1 + n], 'int32');
  const mask = tf.ones([rows, n]);
  const pad = new Int32Array(rows);
  try {
    return await medianGradientTime(
      [...policy.weights.values()].filter((v) => v.trainable),
      () => {
        const o = evaluateActions(policy, tokens, 1, n, 1, 0, pad);
        return tf.add(maskedMean(o.logprob, mask), maskedMean(tf.square(o.value), mask)) as tf.Scalar;
      },
      repeats,
    );
  } finally {
    tf.dispose([tokens, mask]);
  }
}

/** Median time of a small dense forward and backward pass, the shape of a policy update: for a task with no checkpoint to time. */
export async function timeDenseStep(repeats = 3): Promise<number> {
  const x = tf.randomNormal([512, 128]);
  const w = tf.tidy(() => tf.variable(tf.randomNormal([128, 256]))); // tidy: the initial values go with it
  const v = tf.tidy(() => tf.variable(tf.randomNormal([256, 32])));
  try {
    return await medianGradientTime([w, v], () => tf.mean(tf.matMul(tf.tanh(tf.matMul(x, w)), v)) as tf.Scalar, repeats);
  } finally {
    tf.dispose([x, w, v]);
  }
}

/** The median of `repeats` timed gradient computations, after two that compile kernels; gradients read back (a GPU has finished then). */
async function medianGradientTime(vars: tf.Variable[], loss: () => tf.Scalar, repeats: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < repeats + 2; i++) {
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(loss, vars);
    await grads[vars[0].name].data();
    tf.dispose([value, ...Object.values(grads)]);
    if (i >= 2) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
