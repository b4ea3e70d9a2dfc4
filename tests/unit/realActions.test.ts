import * as tf from '../../src/core/tf.ts';
import { afterAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { useBackend } from '../../src/core/backend/backend.ts';
import { adam } from '../../src/core/ops/adam.ts';
import { loadPolicyFromDisk } from '../../scripts/nodeModels.ts';
import { actionMask, evaluateActions, maskedMean } from '../../src/core/algorithms/masked.ts';
import { Rng } from '../../src/core/rng.ts';
import { rowMover } from '../../src/core/ops/rows.ts';
import { sample } from '../../src/core/policy/sampler.ts';
import { taskTokenizer } from '../../src/core/tasks/index.ts';
import { PROBLEMS, unitTests } from '../../src/core/tasks/unitTests.ts';

// Training evaluates only what the real actions need (the MLP: those positions; the
// transformer: every position up to each row's last action, from its first real
// column): the log-probabilities, entropies, values and gradients must equal the
// padded path's.
describe('evaluating only the real actions', () => {
  for (const arch of ['mlp', 'transformer'] as const) it(`${arch}: gives the padded path’s numbers on every real action, 0 on padding, the same gradients, and leaves no tensor behind`, async () => {
    const policy = loadPolicyFromDisk(`unittests-${arch}`); // prompts of several lengths
    // A checkpoint's value head is zero: give it weights, so values and their gradients mean something.
    tf.tidy(() => policy.weights.get('wv')!.assign(tf.randomNormal(policy.weights.get('wv')!.shape, 0, 0.5, 'float32', 7)));
    const tokenizer = taskTokenizer(unitTests);
    const prompts = PROBLEMS.slice(0, 8).map((p) => tokenizer.encode(p.prompt));
    expect(new Set(prompts.map((p) => p.length)).size).toBeGreaterThan(1); // left padding too
    const gen = await sample(policy, { prompts, maxNew: 12, temperature: 1, topK: 0, rng: new Rng(5) });
    const { width, lengths, pad } = gen;
    const start = 1 + gen.promptWidth;
    const N = width - start;
    const data = gen.tokens;
    expect(new Set(lengths).size).toBeGreaterThan(1); // rows really differ in length
    const tokens = tf.tensor2d(data, [lengths.length, width], 'int32');
    const mask = tf.tensor2d(actionMask(lengths, N), [lengths.length, N]);
    const vars = [...policy.weights.values()];
    const run = (real: boolean, topK: number) =>
      tf.tidy(() => {
        const out = evaluateActions(policy, tokens, start, N, 0.8, topK, pad, real ? { tokens: data, lengths } : undefined);
        const { grads } = tf.variableGrads(() => {
          const o = evaluateActions(policy, tokens, start, N, 0.8, topK, pad, real ? { tokens: data, lengths } : undefined);
          return tf.add(tf.add(maskedMean(o.logprob, mask), maskedMean(o.entropy, mask)), maskedMean(o.value, mask)) as tf.Scalar;
        }, vars);
        return [out.logprob, out.entropy, out.value, ...vars.map((v) => grads[v.name])].map((t) => Array.from(t.dataSync()));
      });
    for (const topK of [0, 5]) {
      const padded = run(false, topK);
      const before = tf.memory().numTensors;
      const real = run(true, topK);
      expect(tf.memory().numTensors).toBe(before);
      const m = actionMask(lengths, N);
      // Float32 rounding, relative to each quantity's scale (values here reach 14: sums of 64 terms).
      const scale = padded.map((p, k) => p.reduce((a, v, i) => (k > 2 || m[i] ? Math.max(a, Math.abs(v)) : a), 1));
      for (let k = 0; k < 3; k++) {
        real[k].forEach((v, i) => {
          if (m[i]) expect(Math.abs(v - padded[k][i])).toBeLessThan(5e-6 * scale[k]);
          else expect(v).toBe(0);
        });
      }
      for (let k = 3; k < padded.length; k++) real[k].forEach((v, i) => expect(Math.abs(v - padded[k][i])).toBeLessThan(5e-6 * scale[k]));
    }
    tf.dispose([tokens, mask]);
    policy.dispose();
  });
});

describe('rowMover', () => {
  it('moves rows, fills zeros, sends gradients back the same way, and refuses a row taken twice', () => {
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    const move = rowMover(Int32Array.from([2, 3, 0]), 3); // row 2, zeros, row 0
    const [value, grad] = tf.tidy(() => {
      const w = tf.tensor2d([[1, 10], [100, 1000], [-1, -2]]);
      return [move(x), tf.grad((y: tf.Tensor) => tf.sum(tf.mul(move(y), w)))(x)].map((t) => t.arraySync());
    });
    expect(value).toEqual([[5, 6], [0, 0], [1, 2]]);
    expect(grad).toEqual([[-1, -2], [0, 0], [1, 10]]); // row 1 went nowhere
    expect(() => rowMover(Int32Array.from([1, 1]), 3)).toThrow(/row 1 .*taken twice/);
    x.dispose();
  });
});

// The value head's warm start fits the head alone on features computed once: they
// must be exactly what forward's values read, left padding included.
describe('value features', () => {
  for (const arch of ['mlp', 'transformer'] as const) {
    it(`${arch}: features x wv + bv are forward's values at every position, and no tensor is left behind`, async () => {
      const policy = loadPolicyFromDisk(`unittests-${arch}`);
      const tokenizer = taskTokenizer(unitTests);
      const prompts = PROBLEMS.slice(0, 6).map((p) => tokenizer.encode(p.prompt));
      const gen = await sample(policy, { prompts, maxNew: 8, temperature: 1, topK: 0, rng: new Rng(3) });
      // A checkpoint's head is zero: give it weights, so the comparison means something.
      const wv = policy.weights.get('wv')!;
      tf.tidy(() => wv.assign(tf.randomNormal(wv.shape, 0, 0.5, 'float32', 7)));
      tf.tidy(() => policy.weights.get('bv')!.assign(tf.fill([1], 0.3)));
      const before = tf.memory().numTensors;
      const [fromForward, fromFeatures] = tf.tidy(() => {
        const tokens = tf.tensor2d(gen.tokens, [gen.lengths.length, gen.width], 'int32');
        const values = policy.forward(tokens, gen.pad).values;
        const f = policy.valueFeatures(tokens, gen.pad);
        const [B, T, F] = f.shape;
        const viaHead = tf.add(tf.matMul(f.reshape([B * T, F]), policy.weights.get('wv')!), policy.weights.get('bv')!).reshape([B, T]);
        return [values, viaHead].map((t) => Array.from(t.dataSync()));
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(fromFeatures.length).toBe(fromForward.length);
      expect(new Set(fromForward.map((v) => v.toFixed(4))).size).toBeGreaterThan(10); // values that differ by position
      fromForward.forEach((v, i) => expect(fromFeatures[i]).toBeCloseTo(v, 5));
      policy.dispose();
    });
  }
});

// The MLP folds its embedding into its first layer: its logits must be those of
// the layer written out (concatenated embeddings times W1), at every position.
describe('the MLP’s folded first layer', () => {
  it('gives the logits and values of concat(embeddings) x W1, in forward, forwardAt and the decoder', async () => {
    const policy = loadPolicyFromDisk('names-mlp');
    tf.tidy(() => policy.weights.get('wv')!.assign(tf.randomNormal(policy.weights.get('wv')!.shape, 0, 0.5, 'float32', 3)));
    const { contextLength: K, embedDim: C } = policy.config as { contextLength: number; embedDim: number };
    const w = (n: string) => policy.weights.get(n)! as unknown as tf.Tensor2D;
    const tokens = [[0, 5, 12, 1, 20, 3, 3, 9, 14, 0], [0, 1, 2, 3, 0, 0, 0, 0, 0, 0]];
    const written = (t: number[][]) => tf.tidy(() => {
      // Each position's window: the K tokens up to and including it, start tokens (0) before the row.
      const windows = t.flatMap((row) => row.map((_, p) => Array.from({ length: K }, (_, k) => (p - K + 1 + k >= 0 ? row[p - K + 1 + k] : 0))));
      const emb = tf.gather(w('wte'), tf.tensor2d(windows, undefined, 'int32')).reshape([windows.length, K * C]);
      const h = tf.tanh(tf.add(tf.matMul(emb, w('w1')), w('b1')));
      return [tf.add(tf.matMul(h, w('w2')), w('b2')), tf.add(tf.matMul(h, w('wv')), w('bv')).reshape([-1])].map((x) => Array.from(x.dataSync()));
    });
    const [wantLogits, wantValues] = written(tokens);
    const close = (got: ArrayLike<number>, want: number[]) => want.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThan(2e-5 * (1 + Math.abs(v))));
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const out = policy.forward(tf.tensor2d(tokens, undefined, 'int32'));
      close(out.logits.dataSync(), wantLogits);
      close(out.values.dataSync(), wantValues);
      const at = policy.forwardAt!(Int32Array.from(tokens.flat()), 10, Int32Array.from([3, 9, 10, 13]));
      const V = at.logits.shape[1];
      close(at.logits.dataSync(), [3, 9, 10, 13].flatMap((p) => wantLogits.slice(p * V, (p + 1) * V)));
    });
    // The decoder reads one token per row per step, its windows kept in plain arrays.
    const decoder = policy.decoder(2);
    for (let p = 0; p < 10; p++) {
      const logits = decoder.step(Int32Array.from(tokens.map((row) => row[p])));
      const V = logits.shape[1];
      close(logits.dataSync(), [p, 10 + p].flatMap((q) => wantLogits.slice(q * V, (q + 1) * V)));
      logits.dispose();
    }
    decoder.dispose();
    expect(tf.memory().numTensors).toBe(before);
    policy.dispose();
  });
});

// Where our wasm kernels do not run (the cpu backend here; WebGL and WebGPU in a
// browser), the same layers take tfjs's ops: a training step must agree.
describe('the wasm kernels and the ops elsewhere', () => {
  afterAll(() => useBackend('wasm'));
  for (const arch of ['mlp', 'transformer'] as const) {
    it(`${arch}: one evaluation, its gradients and an Adam step agree between wasm and cpu`, async () => {
      // The transformer with prompts of several lengths (left padding); the MLP's window of 8 (the cpu backend is slow).
      const policy = loadPolicyFromDisk(arch === 'mlp' ? 'names-mlp' : 'unittests-transformer');
      tf.tidy(() => policy.weights.get('wv')!.assign(tf.randomNormal(policy.weights.get('wv')!.shape, 0, 0.5, 'float32', 7)));
      const tokenizer = taskTokenizer(unitTests);
      const prompts = arch === 'mlp' ? Array.from({ length: 6 }, () => []) : PROBLEMS.slice(0, 6).map((p) => tokenizer.encode(p.prompt));
      const gen = await sample(policy, { prompts, maxNew: 10, temperature: 1, topK: 0, rng: new Rng(8) });
      const start = 1 + gen.promptWidth;
      const N = gen.width - start;
      const vars = [...policy.weights.values()];
      const initial = vars.map((v) => tf.keep(v.clone()));
      const run = () => {
        vars.forEach((v, i) => v.assign(initial[i]));
        const optimizer = adam(1e-2, 0.9, 0.999, 1e-5);
        const out = tf.tidy(() => {
          const tokens = tf.tensor2d(gen.tokens, [gen.lengths.length, gen.width], 'int32');
          const mask = tf.tensor2d(actionMask(gen.lengths, N), [gen.lengths.length, N]);
          const { value, grads } = tf.variableGrads(() => {
            const o = evaluateActions(policy, tokens, start, N, 1, 0, gen.pad, { tokens: gen.tokens, lengths: gen.lengths });
            return tf.add(tf.add(maskedMean(o.logprob, mask), maskedMean(o.entropy, mask)), maskedMean(o.value, mask)) as tf.Scalar;
          }, vars);
          optimizer.applyGradients(grads);
          return [value, ...vars.map((v) => grads[v.name]), ...vars.map((v) => v.clone())].map((t) => Array.from(t.dataSync()));
        });
        optimizer.dispose();
        return out;
      };
      const onWasm = run();
      await useBackend('cpu');
      const onCpu = run();
      await useBackend('wasm');
      // The loss and gradients to float32 rounding; the weights after the step to a hundredth of its size
      // (Adam's first step is about lr x sign(g), sensitive where a gradient is near its epsilon).
      onWasm.forEach((values, k) => {
        const scale = values.reduce((a, v) => Math.max(a, Math.abs(v)), 1);
        const tolerance = k <= vars.length ? 3e-5 * scale : 1e-4;
        values.forEach((v, i) => expect(Math.abs(v - onCpu[k][i])).toBeLessThan(tolerance));
      });
      tf.dispose(initial);
      policy.dispose();
    });
  }
});
