import * as tf from '../../src/core/tf.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPolicyFromDisk } from '../../scripts/nodeModels.ts';
import { defaultHyperparameters, type Hyperparameters } from '../../src/core/hyperparameters.ts';
import { kernelOptions } from '../../src/core/ops/kernels/wasmKernels.ts';
import { adam } from '../../src/core/ops/adam.ts';
import { hostMaths } from '../../src/core/ops/hostMaths.ts';
import { actionMask } from '../../src/core/algorithms/masked.ts';
import { clippedStep } from '../../src/core/algorithms/minibatch.ts';
import { ppoLoss } from '../../src/core/algorithms/ppo.ts';
import { grpoHostLoss, ppoHostLoss, rlooHostLoss } from '../../src/core/algorithms/hostLosses.ts';
import { grpoMinibatchLoss } from '../../src/core/algorithms/grpo.ts';
import { rlooMinibatchLoss } from '../../src/core/algorithms/rloo.ts';
import { collectRollout } from '../../src/core/training/rollout.ts';
import { Rng } from '../../src/core/rng.ts';
import { getTask, taskTokenizer } from '../../src/core/tasks/index.ts';
import { PROBLEMS, unitTests } from '../../src/core/tasks/unitTests.ts';

// On wasm and cpu, PPO's loss, the action statistics and the gradient clip are
// computed in JS (ops/hostMaths.ts, algorithms/hostLosses.ts) instead of with tfjs's
// ops. Both must give the same loss, diagnostics and gradients, to float32 rounding.
afterEach(() => void (kernelOptions.hostLosses = true));

/** Largest absolute difference between two lists, relative to the larger list's largest entry (at least 1). */
function relativeGap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 1, gap = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]), Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) gap = Math.max(gap, Math.abs(a[i] - b[i]));
  return gap / scale;
}

describe('the minibatch losses in JS', () => {
  const cases = [
    { algorithm: 'ppo', arch: 'mlp', task: 'names', valueClipRange: 0.2, temperature: 1 },
    { algorithm: 'ppo', arch: 'transformer', task: 'unittests', valueClipRange: 0.2, temperature: 0.7 }, // prompts of several lengths: left padding
    { algorithm: 'ppo', arch: 'transformer', task: 'names', valueClipRange: 0, temperature: 1.3 },
    { algorithm: 'grpo', arch: 'mlp', task: 'names', grpoLossType: 'grpo' },
    { algorithm: 'grpo', arch: 'transformer', task: 'unittests', grpoLossType: 'dapo' },
    { algorithm: 'grpo', arch: 'mlp', task: 'names', grpoLossType: 'bnpo', grpoBeta: 0 },
    { algorithm: 'grpo', arch: 'transformer', task: 'names', grpoLossType: 'dr_grpo', temperature: 0.8 },
    { algorithm: 'rloo', arch: 'mlp', task: 'names' },
    { algorithm: 'rloo', arch: 'transformer', task: 'unittests', temperature: 1.2 },
  ] as const;
  for (const c of cases) {
    const { algorithm, arch, task: taskId, ...settings } = c;
    it(`${algorithm}, ${arch} on ${taskId} (${JSON.stringify(settings)}): the tensor path's loss, diagnostics and gradients, and no tensor left behind`, async () => {
      const task = getTask(taskId);
      const policy = loadPolicyFromDisk(`${taskId}-${arch}`);
      const reference = loadPolicyFromDisk(`${taskId}-${arch}`);
      tf.tidy(() => policy.weights.get('wv')!.assign(tf.randomNormal(policy.weights.get('wv')!.shape, 0, 0.5, 'float32', 7)));
      const h: Hyperparameters = { ...defaultHyperparameters(), maxLength: 12, batchSize: 16, entropyCoef: 0.05, clipRange: 0.1, ...settings };
      const prompts = taskId === 'unittests' ? PROBLEMS.slice(0, 16).map((p) => p.prompt) : Array<string>(16).fill('');
      const rollout = await collectRollout(policy, reference, taskTokenizer(task), prompts, h, new Rng(4));
      // Old log-probabilities and values off the policy's, so ratios and value moves fall on both sides of their clips.
      const rng = new Rng(9);
      const noisy = (a: Float32Array, s: number) => a.map((x) => x + s * (rng.next() * 2 - 1));
      const batch = { ...rollout, logprobs: noisy(rollout.logprobs, 0.5), values: noisy(rollout.values, 0.6), refLogprobs: noisy(rollout.refLogprobs, 0.5) };
      const targets = { logprobs: batch.logprobs, values: batch.values, advantages: Float32Array.from(rollout.logprobs, () => rng.next() * 4 - 2), returns: Float32Array.from(rollout.logprobs, () => rng.next() * 6 - 3) };
      const perRow = Float32Array.from({ length: 16 }, () => rng.next() * 4 - 2);
      if (algorithm === 'rloo') batch.logprobs = noisy(rollout.logprobs, 0.1); // whole-sequence ratios: smaller steps per token
      const mask = actionMask(rollout.lengths, rollout.N);
      const rows = [0, 3, 5, 6, 9, 10, 12, 15];
      const tokens = rows.reduce((a, r) => a + rollout.lengths[r], 0) * 1.1;
      const vars = [...policy.weights.values()].filter((v) => algorithm === 'ppo' || !['wv', 'bv'].includes([...policy.weights].find(([, w]) => w === v)![0]));
      const names = algorithm === 'ppo' ? ['pg_loss', 'v_loss', 'approx_kl', 'clipfrac', 'v_clipfrac'] : ['loss', 'approx_kl', 'clipfrac'];
      const lossOf = (host: boolean) => {
        if (algorithm === 'ppo') return host ? ppoHostLoss(policy, batch, rows, targets, h, 1.7, false) : ppoLoss(policy, batch, rows, { ...targets, mask }, h, 1.7);
        if (algorithm === 'grpo') return host ? grpoHostLoss(policy, batch, rows, perRow, h, tokens, false) : grpoMinibatchLoss(policy, batch, rows, perRow, mask, h, tokens);
        return host ? rlooHostLoss(policy, batch, rows, perRow, h, false) : rlooMinibatchLoss(policy, batch, rows, perRow, mask, h);
      };
      const run = (host: boolean) =>
        tf.tidy(() => {
          kernelOptions.hostLosses = host; // off: tfjs's ops for the action statistics too
          let d: number[] = [];
          const { value, grads } = tf.variableGrads(() => {
            const out = lossOf(host);
            const ds = out.diagnostics as Record<string, number | tf.Scalar>;
            d = names.map((k) => (typeof ds[k] === 'number' ? (ds[k] as number) : (ds[k] as tf.Scalar).dataSync()[0]));
            return out.loss;
          }, vars);
          return { loss: value.dataSync()[0], d, grads: vars.map((v) => Array.from(grads[v.name].dataSync())) };
        });
      const onTensors = run(false);
      const before = tf.memory().numTensors;
      const inJs = run(true);
      expect(tf.memory().numTensors).toBe(before);
      expect(onTensors.d[names.indexOf('clipfrac')]).toBeGreaterThan(0.05); // some ratios were clipped
      if (algorithm === 'ppo' && h.valueClipRange > 0) expect(onTensors.d[4]).toBeGreaterThan(0.05); // and some values
      expect(Math.abs(inJs.loss - onTensors.loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(onTensors.loss)));
      inJs.d.forEach((v, i) => expect(Math.abs(v - onTensors.d[i]), names[i]).toBeLessThan(1e-5 * Math.max(1, Math.abs(onTensors.d[i]))));
      inJs.grads.forEach((g, i) => expect(relativeGap(g, onTensors.grads[i]), vars[i].name).toBeLessThan(2e-5));
      policy.dispose();
      reference.dispose();
    });
  }

  it('is what wasm and cpu run, and tfjs’s ops what the A/B switch turns back on', () => {
    expect(hostMaths()).toBe(true);
    kernelOptions.hostLosses = false;
    expect(hostMaths()).toBe(false);
  });
});

describe('the gradient clip in JS', () => {
  for (const maxNorm of [100, 0.05]) {
    it(`takes the tensor path's Adam step (max norm ${maxNorm}: ${maxNorm > 1 ? 'no clip' : 'clipped'}) and leaves no tensor behind`, () => {
      const shapes = [[7, 5], [5], [5, 3], [1]];
      const step = (host: boolean) => {
        kernelOptions.hostLosses = host;
        const rng = new Rng(2);
        const numbers = (shape: number[], s: number) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => s * (rng.next() * 2 - 1)), shape);
        const vars = shapes.map((s, i) => tf.variable(numbers(s, 1), true, `clip-${host}-${maxNorm}-${i}`));
        const optimizer = adam(1e-2, 0.9, 0.999, 1e-5);
        const before = tf.memory().numTensors;
        const norms: number[][] = [];
        for (let t = 0; t < 3; t++) {
          tf.tidy(() => {
            const grads: tf.NamedTensorMap = {};
            vars.forEach((v) => (grads[v.name] = numbers(v.shape, 0.5)));
            const n = clippedStep(optimizer, vars, grads, maxNorm);
            norms.push([n.globalNorm.dataSync()[0], n.scale.dataSync()[0]]);
          });
        }
        const leftBehind = tf.memory().numTensors - before - 2 * vars.length; // Adam's moments of each weight
        const weights = vars.map((v) => Array.from(v.dataSync()));
        optimizer.dispose();
        tf.dispose(vars);
        return { norms, weights, leftBehind };
      };
      const onTensors = step(false);
      const inJs = step(true);
      expect(inJs.leftBehind).toBe(0);
      expect(onTensors.leftBehind).toBe(0);
      inJs.norms.forEach(([norm, scale], t) => {
        expect(norm).toBeCloseTo(onTensors.norms[t][0], 4);
        expect(scale).toBeCloseTo(onTensors.norms[t][1], 6);
        if (maxNorm < 1) expect(scale).toBeLessThan(1);
        else expect(scale).toBe(1);
      });
      inJs.weights.forEach((w, i) => expect(relativeGap(w, onTensors.weights[i])).toBeLessThan(1e-5));
    });
  }
});
