import * as tf from '../../src/core/tf.ts';
import { describe, expect, it } from 'vitest';
import { tanh } from '../../src/core/ops/activations.ts';

describe('tanh on wasm (2·σ(2x) − 1)', () => {
  it("matches tf.tanh in value and gradient, on a wide range, and leaks nothing", () => {
    expect(tf.getBackend()).toBe('wasm');
    const x = tf.tensor1d([-40, -8, -2, -0.5, -1e-4, 0, 1e-4, 0.3, 1, 3, 9, 40]);
    const before = tf.memory().numTensors;
    const [ours, theirs] = [tanh, tf.tanh].map((f) => tf.tidy(() => [f(x), tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v), tf.range(1, 13))))(x)]));
    expect(tf.memory().numTensors).toBe(before + 4);
    const close = (a: tf.Tensor, b: tf.Tensor) => Array.from(a.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(b.dataSync()[i], 6));
    close(ours[0], theirs[0]);
    Array.from(ours[1].dataSync()).forEach((v, i) => expect(v).toBeCloseTo(theirs[1].dataSync()[i], 5));
    tf.dispose([...ours, ...theirs, x]);
  });
});
