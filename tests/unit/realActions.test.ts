import * as tf from '../../src/core/tf.ts';
import { describe, expect, it } from 'vitest';
import { loadPolicyFromDisk } from '../../scripts/nodeModels.ts';
import { actionMask, evaluateActions, maskedMean } from '../../src/core/algorithms/languageModel.ts';
import { Rng } from '../../src/core/rng.ts';
import { sample } from '../../src/core/sampler.ts';
import { taskTokenizer } from '../../src/core/tasks.ts';
import { PROBLEMS, unitTests } from '../../src/core/tasks/unitTests.ts';

// The MLP evaluates only the real actions in training (none of the padding): the
// log-probabilities, entropies, values and gradients must equal the padded path's.
describe('evaluating only the real actions (MLP)', () => {
  it('gives the padded path’s numbers on every real action, 0 on padding, and the same gradients', async () => {
    const policy = loadPolicyFromDisk('unittests-mlp'); // prompts of several lengths, a window of 32
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
      const real = run(true, topK);
      const m = actionMask(lengths, N);
      for (let k = 0; k < 3; k++) {
        real[k].forEach((v, i) => {
          if (m[i]) expect(v).toBeCloseTo(padded[k][i], 5);
          else expect(v).toBe(0);
        });
      }
      for (let k = 3; k < padded.length; k++) real[k].forEach((v, i) => expect(v).toBeCloseTo(padded[k][i], 5));
    }
    tf.dispose([tokens, mask]);
    policy.dispose();
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
