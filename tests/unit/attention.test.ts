import * as tf from '../../src/core/tf.ts';
import { describe, expect, it } from 'vitest';
import os from 'node:os';
import { ATTENTION, ATTENTION_GRAD, heapThreadServed, kernelOptions } from '../../src/core/ops/kernels/wasmKernels.ts';
import { TransformerPolicy } from '../../src/core/policy/transformer.ts';
import { Rng } from '../../src/core/rng.ts';
import { FunctionReward } from '../../src/core/reward/reward.ts';
import { getTask, taskTokenizer } from '../../src/core/tasks/index.ts';
import { Trainer } from '../../src/core/training/trainer.ts';
import { expectSameTraining } from './helpers.ts';

/** Every element the same float32, bit for bit. */
function sameBits(x: tf.Tensor, y: tf.Tensor): boolean {
  const [a, b] = [new Uint32Array((x.dataSync() as Float32Array).slice().buffer), new Uint32Array((y.dataSync() as Float32Array).slice().buffer)];
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** forwardAt's logits and values at every real position, and every weight's gradient of a loss on them. */
function forwardAndGrads(policy: TransformerPolicy, tokens: Int32Array, width: number, pad: Int32Array, positions: Int32Array): tf.Tensor[] {
  const vars = [...policy.weights.values()] as tf.Variable[];
  return tf.tidy(() => {
    const { logits, values } = policy.forwardAt(tokens, width, positions, pad);
    const { grads } = tf.variableGrads(() => {
      const out = policy.forwardAt(tokens, width, positions, pad);
      return tf.add(tf.sum(tf.mul(out.logits, tf.sin(out.logits))), tf.sum(tf.square(out.values))) as tf.Scalar;
    }, vars);
    return [logits, values, ...vars.map((v) => grads[v.name])];
  });
}

describe("causal attention as one kernel each way (forwardAt's layout, wasm)", () => {
  // [layers, heads, width, rows, width of a row, padding per row]: heads of 6 numbers, T no multiple of 4, a row all padding but its last column
  const CASES: [number, number, number, number, number, number[]][] = [
    [2, 4, 64, 32, 66, [0]],
    [1, 2, 12, 5, 23, [0, 3, 0, 21, 7]],
    [2, 3, 48, 3, 9, [1, 0, 2]],
  ];

  for (const threads of [false, true]) {
    it.skipIf(threads && os.availableParallelism() < 2)(`gives the op-by-op path's logits, values and every weight's gradient bit for bit, on ${threads ? 'two threads' : 'one thread'}, and leaves no tensor behind`, () => {
      kernelOptions.threads = threads;
      try {
        for (const [layers, heads, width, B, T, pads] of CASES) {
          const vocabSize = 20;
          const policy = new TransformerPolicy({ arch: 'transformer', vocabSize, contextLength: 128, layers, heads, width }, new Rng(layers * 7 + heads));
          const rng = new Rng(width);
          const pad = Int32Array.from({ length: B }, (_, b) => pads[b % pads.length]);
          const tokens = Int32Array.from({ length: B * T }, (_, i) => (i % T < pad[Math.floor(i / T)] ? 0 : rng.int(vocabSize)));
          const positions = Int32Array.from(Array.from({ length: B * T }, (_, i) => i).filter((i) => i % T >= pad[Math.floor(i / T)]));
          const before = tf.memory().numTensors;
          const served = heapThreadServed();
          kernelOptions.attention = false;
          const op = forwardAndGrads(policy, tokens, T, pad, positions);
          kernelOptions.attention = true;
          const one = forwardAndGrads(policy, tokens, T, pad, positions);
          op.forEach((t, i) => expect(sameBits(t, one[i]), `[${layers}, ${heads}, ${width}] x [${B}, ${T}], output ${i}`).toBe(true));
          if (threads && layers === 2 && width === 64) expect(heapThreadServed()! - served!).toBeGreaterThan(0);
          tf.dispose([...op, ...one]);
          expect(tf.memory().numTensors).toBe(before);
          policy.dispose();
        }
      } finally {
        kernelOptions.threads = true;
        kernelOptions.attention = true;
      }
    });
  }

  it('trains a transformer to the same numbers as the op-by-op path (and with the tape cloning what it keeps)', async () => {
    const task = getTask('names');
    const make = () =>
      new Trainer({
        task,
        reference: new TransformerPolicy({ arch: 'transformer', vocabSize: taskTokenizer(task).vocabSize, contextLength: 24, layers: 2, heads: 2, width: 16 }, new Rng(3)),
        hyperparameters: { maxLength: 12, batchSize: 16, minibatches: 2 },
        seed: 4,
        reward: new FunctionReward([{ name: 'length', weight: 1, fn: (s: { text: string }) => s.text.length }]),
      });
    try {
      await expectSameTraining(make, (first) => (kernelOptions.attention = first));
      // And the tape keeping what gradients need without clones (registry.ts's shareSavedTensors), on and off.
      await expectSameTraining(make, (first) => (kernelOptions.sharedSaves = first));
    } finally {
      kernelOptions.attention = true;
      kernelOptions.sharedSaves = true;
    }
  });

  it('names a row index out of range and a gradient input of the wrong shape, and leaves nothing behind', () => {
    const before = tf.memory().numTensors;
    const dataIds = (tf.backend() as unknown as { numDataIds(): number }).numDataIds(); // the backend's own: what a kernel made and did not free
    const [B, H, T, hd] = [1, 2, 3, 4];
    const n = 3;
    const qkv = tf.zeros([n, 3 * H * hd]);
    const toHeads = tf.tensor1d(Int32Array.from({ length: 3 * B * H * T }, (_, i) => (i === 5 ? 99 : i % (n * 3 * H))), 'int32');
    const fromHeads = tf.tensor1d(Int32Array.from({ length: n * H }, (_, i) => i), 'int32');
    expect(() => tf.engine().runKernel(ATTENTION, { qkv, toHeads, fromHeads }, { B, H, T, hd })).toThrow(`${ATTENTION}: the row index 99 is not in [0, ${n * 3 * H}]`);
    // Its gradient names what it was given, where a shape is not the one its attributes say.
    const grid = tf.zeros([B, H, T, hd]);
    const inputs = { dy: tf.zeros([n, H * hd]), qs: grid, k: grid, v: grid, p: tf.zeros([B, H, T, T + 1]), fromInverse: tf.zeros([B * H * T], 'int32'), toInverse: tf.zeros([n * 3 * H], 'int32') };
    expect(() => tf.engine().runKernel(ATTENTION_GRAD, inputs, { B, H, T, hd })).toThrow(`${ATTENTION_GRAD}: needs float32 dy [n, 8], q, k, v [1,2,3,4] and p [1,2,3,3], int32 indices [6] and [n * 6]; got [3,8], [1,2,3,4], [1,2,3,4], [1,2,3,4], [1,2,3,4], [6] and [18]`);
    tf.dispose([qkv, toHeads, fromHeads, grid, inputs.dy, inputs.p, inputs.fromInverse, inputs.toInverse]);
    expect(tf.memory().numTensors).toBe(before);
    expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(dataIds);
  });
});
