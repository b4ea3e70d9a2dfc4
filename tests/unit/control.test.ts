import * as tf from '../../src/core/tf.ts';
import { expectFlatTensorCount } from './helpers.ts';
import { describe, expect, it } from 'vitest';
import { nodeQuickJs } from '../../scripts/nodeSandbox.ts';
import { ControlTrainer } from '../../src/core/training/control.ts';
import { exampleTransitions, transitionSample } from '../../src/core/tasks/environments.ts';
import { sandboxLimits, validateHyperparameters } from '../../src/core/hyperparameters.ts';
import { deterministicMetrics } from '../../src/core/training/metrics.ts';
import { FunctionReward, plainSample, RewardError, type Sample, type Transition } from '../../src/core/reward/reward.ts';
import { defaultExperiment } from '../../src/core/experiment/experiment.ts';
import { Trainer } from '../../src/core/training/trainer.ts';
import { createTrainer } from '../../src/core/experiment/createTrainer.ts';
import { loadPolicyFromDisk } from '../../scripts/nodeModels.ts';
import { Rng } from '../../src/core/rng.ts';
import { SandboxReward } from '../../src/core/reward/sandbox/sandboxReward.ts';
import type { RewardSpec } from '../../src/core/reward/sandbox/types.ts';
import { cartPoleEnvironment as env, cartpole, MAX_STEPS, THETA_LIMIT, X_LIMIT } from '../../src/core/tasks/cartpole.ts';
import { defaultRewards } from '../../src/core/tasks/index.ts';

describe('CartPole dynamics (Gymnasium CartPole-v1, Euler steps of 0.02 s)', () => {
  // Expected values worked out by hand from the CartPole-v1 equations (g 9.8, cart 1 kg, pole 0.1 kg,
  // half-length 0.5 m, force 10 N): from rest, a push right accelerates the cart at 9.7561 m/s^2 and the
  // pole at -14.634 rad/s^2; positions move with the old velocities.
  it('from rest, one push right, then one push left', () => {
    const first = env.step([0, 0, 0, 0], 1);
    expect(first.state[0]).toBe(0);
    expect(first.state[1]).toBeCloseTo(0.1951219512195122, 12);
    expect(first.state[2]).toBe(0);
    expect(first.state[3]).toBeCloseTo(-0.2926829268292683, 12);
    expect(first.terminated).toBe(false);
    const second = env.step(first.state, 0);
    expect(second.state[0]).toBeCloseTo(0.0039024390243902443, 12);
    expect(second.state[1]).toBeCloseTo(0, 12);
    expect(second.state[2]).toBeCloseTo(-0.005853658536585366, 12);
    expect(second.state[3]).toBeCloseTo(0, 12);
  });

  it('from a tilted, moving state, under each action', () => {
    const s = [0.1, -0.2, 0.05, 0.3];
    const left = env.step(s, 0).state;
    const right = env.step(s, 1).state;
    [0.096, -0.3957976546439626, 0.056, 0.6080233136061515].forEach((v, i) => expect(left[i]).toBeCloseTo(v, 12));
    [0.096, -0.005625065781779709, 0.056, 0.02349585151852651].forEach((v, i) => expect(right[i]).toBeCloseTo(v, 12));
  });

  it('fails past 12 degrees or 2.4 m, and starts within 0.05 of rest', () => {
    expect(THETA_LIMIT).toBeCloseTo((12 * Math.PI) / 180, 12);
    expect(env.step([0, 0, THETA_LIMIT + 0.01, 0], 1).terminated).toBe(true);
    expect(env.step([X_LIMIT - 0.001, 1, 0, 0], 1).terminated).toBe(true);
    expect(env.step([X_LIMIT - 0.1, 0, 0, 0], 1).terminated).toBe(false);
    const rng = new Rng(3);
    for (let i = 0; i < 100; i++) for (const v of env.reset(rng)) expect(Math.abs(v)).toBeLessThanOrEqual(0.05);
    expect(MAX_STEPS).toBe(500);
  });
});

const limits = sandboxLimits(validateHyperparameters({}));
async function trainer(rewards: RewardSpec[] = defaultRewards(cartpole), overrides = {}, seed = 1) {
  const reward = await SandboxReward.create(nodeQuickJs, rewards, limits);
  return { reward, trainer: new ControlTrainer({ task: cartpole, hyperparameters: overrides, seed, reward }) };
}

describe('episodic PPO on CartPole (cleanrl ppo.py)', () => {
  it('with the default reward (+1 per step), mean episode length rises from the random level past 195 within 40 iterations', async () => {
    const { trainer: t, reward } = await trainer();
    const start = performance.now();
    const lengths: number[] = [];
    let first = NaN;
    let solvedAt = 0;
    for (let i = 1; i <= 40 && !solvedAt; i++) {
      const { metrics } = await t.step();
      if (i === 1) first = metrics.sampleLength;
      if (metrics.episodes) lengths.push(metrics.sampleLength);
      // Solved: the mean over the last five iterations with episodes.
      const recent = lengths.slice(-5);
      if (recent.length === 5 && recent.reduce((a, b) => a + b, 0) / 5 >= 195) solvedAt = i;
    }
    console.log(`cartpole: mean episode length ${first.toFixed(1)} at iteration 1; 195 reached at iteration ${solvedAt} (${((performance.now() - start) / 1000).toFixed(1)} s, wasm, one thread)`);
    expect(first).toBeLessThan(40); // random pushes: about 20 steps
    expect(solvedAt).toBeGreaterThan(0);
    t.dispose();
    reward.dispose();
  });

  it('the reward sees each transition: a reward for leaning right changes what is learnt', async () => {
    const source = 'function reward(step, ctx) { if (!Array.isArray(step.state) || step.nextState.length !== 4 || typeof step.done !== "boolean") throw new Error("bad step"); return step.action; }';
    const { trainer: t, reward } = await trainer([{ name: 'right', weight: 1, source }]);
    const scores = await reward.score(exampleTransitions(cartpole.environment!, 8, new Rng(2)).map((transition, index) => ({ text: '', tokens: [], prompt: '', index, transition })), { iteration: 1, task: 'cartpole', helpers: {} as never });
    expect(scores.total.every((v) => v === 0 || v === 1)).toBe(true);
    await t.step();
    t.dispose();
    reward.dispose();
  });

  it('keeps the tensor count flat: the count after iteration 3 equals the count after 8', async () => {
    const { trainer: t, reward } = await trainer();
    await expectFlatTensorCount(() => t.step(), 3, 8);
    t.dispose();
    reward.dispose();
  });

  it('a reward that throws loses nothing: the retried iteration equals an uninterrupted run', async () => {
    const failing = 'function reward(step, ctx) { if (ctx.iteration === 3 && !globalThis.fixed) throw new Error("broken"); return 1; }';
    const { trainer: a, reward: ra } = await trainer([{ name: 'r', weight: 1, source: failing }]);
    const { trainer: b, reward: rb } = await trainer([{ name: 'r', weight: 1, source: 'function reward() { return 1; }' }]);
    for (let i = 0; i < 2; i++) {
      await a.step();
      await b.step();
    }
    await expect(a.step()).rejects.toThrow(RewardError);
    expect(a.iteration).toBe(2);
    const fixedReward = await SandboxReward.create(nodeQuickJs, [{ name: 'r', weight: 1, source: 'function reward() { return 1; }' }], limits);
    a.setReward(fixedReward);
    const retried = await a.step();
    const reference = await b.step();
    expect(deterministicMetrics(retried.metrics)).toEqual(deterministicMetrics(reference.metrics));
    [a, b].forEach((t) => t.dispose());
    [ra, rb, fixedReward].forEach((r) => r.dispose());
  });

  it('a run resumed from its exported state continues exactly, episodes in progress included', async () => {
    const { trainer: a, reward: ra } = await trainer();
    const { trainer: b, reward: rb } = await trainer(undefined, {}, 9); // another seed: everything comes from the state
    for (let i = 0; i < 3; i++) await a.step();
    await b.importState(await a.exportState());
    for (let i = 0; i < 3; i++) {
      const x = await a.step();
      const y = await b.step();
      expect(deterministicMetrics(y.metrics)).toEqual(deterministicMetrics(x.metrics));
      expect(y.samples.map((s) => s.episode?.length)).toEqual(x.samples.map((s) => s.episode?.length));
    }
    [a, b].forEach((t) => t.dispose());
    [ra, rb].forEach((r) => r.dispose());
  });

  it('refuses settings that do not fit, naming them', async () => {
    const reward = await SandboxReward.create(nodeQuickJs, defaultRewards(cartpole), limits);
    expect(() => new ControlTrainer({ task: cartpole, hyperparameters: { environments: 3 }, seed: 1, reward })).toThrow('environments (3) must divide batchSize (512)');
    reward.dispose();
  });
});

describe('createTrainer', () => {
  it('makes a control task a ControlTrainer (a reference given is freed), a language task a Trainer from its reference, and names what is missing', async () => {
    const reward = new FunctionReward([{ name: 'alive', weight: 1, fn: () => 1 }]);
    const before = tf.memory().numTensors;
    const stray = loadPolicyFromDisk('names-mlp');
    const control = createTrainer(defaultExperiment('cartpole', 'mlp', 'ppo'), reward, stray);
    expect(control).toBeInstanceOf(ControlTrainer);
    control.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => createTrainer(defaultExperiment('names', 'mlp', 'ppo'), reward, null)).toThrow('task names trains from its reference policy, and none was given');
    const language = createTrainer(defaultExperiment('names', 'mlp', 'grpo'), reward, loadPolicyFromDisk('names-mlp'));
    expect(language).toBeInstanceOf(Trainer);
    expect((language as Trainer).algorithm).toBe('grpo');
    language.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('a transition as the reward sees it', () => {
  it('is the same sample in training and in the check before Apply: the action as its symbol', async () => {
    const seen: (Sample & Transition)[] = [];
    const reward = new FunctionReward([{ name: 'reward', weight: 1, fn: (s) => (seen.push(s as Sample & Transition), 1) }]);
    const trainer = new ControlTrainer({ task: cartpole, hyperparameters: { batchSize: 64, environments: 4, epochs: 1, minibatches: 1 }, seed: 2, reward });
    await trainer.step();
    trainer.dispose();
    expect(seen).toHaveLength(64);
    for (const s of seen) {
      // Reward code gets the transition's fields on the sample itself (step.state, step.action, ...).
      const { state, action, nextState, done, terminated, t } = s;
      expect(s).toEqual(plainSample(transitionSample(cartpole.alphabet, { state, action, nextState, done, terminated, t }, s.index)));
      expect(s.text).toBe(cartpole.alphabet[action]);
    }
    // What the check before Apply scores (the page's transitionSamples) is built by the same function.
    const [checked] = exampleTransitions(env, 1, new Rng(11)).map((t, i) => transitionSample(cartpole.alphabet, t, i));
    expect(checked.text).toBe(cartpole.alphabet[checked.transition.action]);
  });
});
