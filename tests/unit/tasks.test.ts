import * as tf from '../../src/core/tf.ts';
import { expectFlatTensorCount } from './helpers.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { loadPolicyFromDisk } from '../../scripts/nodeModels.ts';
import { nodeQuickJs } from '../../scripts/nodeSandbox.ts';
import { startingHyperparameters } from '../../src/core/algorithms/catalog.ts';
import { sandboxLimits } from '../../src/core/hyperparameters.ts';
import { SandboxReward } from '../../src/core/reward/sandbox/sandboxReward.ts';
import { defaultRewards, modelId, prepareTask, taskArchs, taskSample, taskTokenizer, TASKS } from '../../src/core/tasks/index.ts';
import { ControlTrainer } from '../../src/core/training/control.ts';
import { exampleTransitions } from '../../src/core/tasks/environments.ts';
import type { Sample } from '../../src/core/reward/reward.ts';
import { sentimentFields } from '../../src/core/tasks/sentiment.ts';
import { PROBLEMS, problem, testFields } from '../../src/core/tasks/unitTests.ts';
import { Rng } from '../../src/core/rng.ts';
import { privacyFields, sentence } from '../../src/core/tasks/privacy.ts';
import { base4, protocolFields } from '../../src/core/tasks/protocol.ts';
import { Trainer } from '../../src/core/training/trainer.ts';
import type { Hyperparameters } from '../../src/core/hyperparameters.ts';
import { rewardHelpers } from '../../src/core/reward/helpers.ts';

beforeAll(() => Promise.all(TASKS.map(prepareTask))); // the packages some tasks load when first used

// Every registered task, walked through what the app does with it: load its
// reference policy, score samples with each example reward in the sandbox, and
// train one iteration with its default reward.
describe.each(TASKS.map((t) => [t.id, t] as const))('task %s', (_id, task) => {
  it('says what it is: explanation, examples, fields documented', () => {
    for (const part of Object.values(task.explanation)) expect(part.length).toBeGreaterThan(30);
    expect(Object.keys(task.examples).length).toBeGreaterThanOrEqual(2);
    for (const [key, example] of Object.entries(task.examples)) {
      expect(example.source, key).toMatch(/^\/\/ /); // it starts by saying what it rewards
      expect(example.source, key).toContain(task.environment ? 'function reward(step, ctx) {' : 'function reward(sample, ctx) {');
    }
    if (task.fields) {
      const fields = task.fields.compute('', task.prompts[0]);
      expect(Object.keys(fields).sort()).toEqual(Object.keys(task.fields.docs).sort());
    }
    for (const h of Object.values(task.helpers ?? {})) expect(h.doc.length, h.signature).toBeGreaterThan(20);
    // Every architecture it offers has its reference policy, except a control task, which starts from scratch.
    for (const arch of taskArchs(task)) {
      if (task.environment) expect(task.models[arch]).toBeUndefined();
      else expect(existsSync(`public/models/${modelId(task, arch)}.json`), arch).toBe(true);
    }
  });

  it('loads, scores with every example in the sandbox, and trains one iteration', async () => {
    const h = startingHyperparameters('ppo', task.hyperparameters, { batchSize: 16 });
    const tokenizer = taskTokenizer(task);
    const samples: Sample[] = task.environment
      ? exampleTransitions(task.environment, 16, new Rng(1)).map((transition, index) => ({ text: '', tokens: [transition.action], prompt: '', index, transition }))
      : ['', task.alphabet.slice(0, 5)].map((text, i) => taskSample(task, text, tokenizer.encode(text), task.prompts[0], i));
    for (const [key, example] of Object.entries(task.examples)) {
      const model = await SandboxReward.create(nodeQuickJs, [{ name: key, weight: 1, source: example.source }], sandboxLimits(h));
      const scores = await model.score(samples, { iteration: 1, task: task.id, helpers: rewardHelpers });
      expect(scores.total.every(Number.isFinite), key).toBe(true);
      model.dispose();
    }
    for (const arch of taskArchs(task)) {
      const reward = await SandboxReward.create(nodeQuickJs, defaultRewards(task), sandboxLimits(h));
      const trainer = task.environment
        ? new ControlTrainer({ task, hyperparameters: h, seed: 1, reward })
        : new Trainer({ task, reference: loadPolicyFromDisk(modelId(task, arch)), hyperparameters: h, seed: 1, reward });
      const { metrics, samples: scored } = await trainer.step();
      expect(metrics.iteration).toBe(1);
      expect(Number.isFinite(metrics.entropy)).toBe(true);
      if (task.environment) {
        // Samples are the episodes that ended, the longest first with its states.
        expect(scored.length).toBe(metrics.episodes);
        if (scored.length) expect(scored[0].episode!.states!.length).toBe(scored[0].episode!.length + 1);
      } else {
        expect(Number.isFinite(metrics.rewardMean)).toBe(true);
        expect(scored).toHaveLength(16);
        if (task.fields) expect(Object.keys(scored[0].fields ?? {})).toEqual(Object.keys(task.fields.docs));
        if (task.image) expect(scored[0].pixels).toHaveLength(task.image.width * task.image.height);
        // Each sample carries each component's own value.
        expect(Object.keys(scored[0].components)).toEqual(defaultRewards(task).map((r) => r.name));
      }
      trainer.dispose();
      reward.dispose();
    }
  });
});

describe('prompts of different lengths', () => {
  it('leak no tensors on the padded path: the count after iteration 3 equals the count after 8 (unit tests, transformer)', async () => {
    const task = TASKS.find((t) => t.id === 'unittests')!;
    expect(new Set(task.prompts.map((p) => p.length)).size).toBeGreaterThan(1); // rows really are padded
    const h = startingHyperparameters('ppo', task.hyperparameters, { batchSize: 8, minibatches: 2 });
    const reward = await SandboxReward.create(nodeQuickJs, defaultRewards(task), sandboxLimits(h));
    const trainer = new Trainer({ task, reference: loadPolicyFromDisk(modelId(task, 'transformer')), hyperparameters: h, seed: 3, reward });
    await expectFlatTensorCount(() => trainer.step(), 3, 8);
    trainer.dispose();
    reward.dispose();
  });
});

describe('sentiment fields (VADER)', () => {
  it('counts repeated words', () => {
    expect(sentimentFields('thanks thanks thanks to thee').distinctWords).toBeCloseTo(3 / 5);
    expect(sentimentFields('').distinctWords).toBe(1);
  });

  it('scores a known positive line above 0.5 and a known negative one below -0.5', () => {
    expect(sentimentFields('I love thee, sweet heart').sentiment).toBeGreaterThan(0.5);
    expect(sentimentFields('Death and grief and bloody war').sentiment).toBeLessThan(-0.5);
    expect(sentimentFields('The king is here').sentiment).toBe(0);
  });

  it("counts the words Shakespeare never wrote, apostrophes and case aside", () => {
    expect(sentimentFields("O ROMEO, abandon'd Romeo!")).toMatchObject({ words: 4, unknownWords: 0 });
    expect(sentimentFields("'Tis thou")).toMatchObject({ words: 2 });
    expect(sentimentFields('The kiing is hxre')).toMatchObject({ words: 4, unknownWords: 2, unknown: ['kiing', 'hxre'] });
  });
});

/** Each gallery task's default reward, on the wasm backend: the mean reward of iterations 26-30 beats that of 1-5 by at least `margin`. */
const LEARNING = [
  { task: 'unittests', arch: 'mlp', seed: 1, margin: 0.15, what: 'share of shown tests passed' },
  { task: 'privacy', arch: 'mlp', seed: 1, margin: 0.3, what: 'reward (minus the personal data found, minus 1 when not well formed)' },
  { task: 'protocol', arch: 'mlp', seed: 1, margin: 0.1, what: 'reward (decoded right, minus 0.05 per symbol)' },
] as const;

describe.each(LEARNING)('$task learns', ({ task: id, arch, seed, margin, what }) => {
  it(`its default reward raises the ${what} by at least ${margin} within 30 iterations (${arch}, seed ${seed})`, async () => {
    const task = TASKS.find((t) => t.id === id)!;
    const h = startingHyperparameters('ppo', task.hyperparameters);
    const reward = await SandboxReward.create(nodeQuickJs, defaultRewards(task), sandboxLimits(h));
    const trainer = new Trainer({ task, reference: loadPolicyFromDisk(modelId(task, arch)), hyperparameters: h, seed, reward });
    const means: number[] = [];
    for (let i = 0; i < 30; i++) means.push((await trainer.step()).metrics.rewardMean);
    trainer.dispose();
    reward.dispose();
    console.log(`${id}: ${what} ${avg(means.slice(0, 5)).toFixed(3)} at iterations 1-5, ${avg(means.slice(-5)).toFixed(3)} at 26-30`);
    expect(avg(means.slice(-5)) - avg(means.slice(0, 5))).toBeGreaterThanOrEqual(margin);
  });
});

describe('sentiment learns, and the KL penalty keeps its lines fluent', () => {
  /** 30 iterations of the default reward (mlp, seed 1): mean reward and the lines' share of distinct words, at 1-5 and 26-30, and the last KL. */
  async function run(overrides: Partial<Hyperparameters>) {
    const task = TASKS.find((t) => t.id === 'sentiment')!;
    const h = startingHyperparameters('ppo', task.hyperparameters, overrides);
    const reward = await SandboxReward.create(nodeQuickJs, defaultRewards(task), sandboxLimits(h));
    const trainer = new Trainer({ task, reference: loadPolicyFromDisk(modelId(task, 'mlp')), hyperparameters: h, seed: 1, reward });
    const rewards: number[] = [];
    const distinct: number[] = [];
    let kl = 0;
    for (let i = 0; i < 30; i++) {
      const { metrics, samples } = await trainer.step();
      rewards.push(metrics.rewardMean);
      distinct.push(avg(samples.map((s) => s.fields!.distinctWords as number)));
      kl = metrics.kl;
    }
    trainer.dispose();
    reward.dispose();
    return { first: avg(rewards.slice(0, 5)), last: avg(rewards.slice(-5)), distinctFirst: avg(distinct.slice(0, 5)), distinctLast: avg(distinct.slice(-5)), kl };
  }

  it('with the KL penalty, the mean VADER score rises by 0.15 in 30 iterations and the lines stay varied; without it, they chant one word', async () => {
    const withKl = await run({});
    const withoutKl = await run({ klCoef: 0, adaptiveKl: false });
    console.log(`sentiment with KL: reward ${withKl.first.toFixed(3)} -> ${withKl.last.toFixed(3)}, distinct words ${withKl.distinctFirst.toFixed(2)} -> ${withKl.distinctLast.toFixed(2)}, KL ${withKl.kl.toFixed(1)}`);
    console.log(`sentiment without: reward ${withoutKl.first.toFixed(3)} -> ${withoutKl.last.toFixed(3)}, distinct words ${withoutKl.distinctFirst.toFixed(2)} -> ${withoutKl.distinctLast.toFixed(2)}, KL ${withoutKl.kl.toFixed(1)}`);
    expect(withKl.last - withKl.first).toBeGreaterThanOrEqual(0.15);
    // Fluent: lines keep their words varied, as the reference's do (about 0.98 distinct).
    expect(withKl.distinctLast).toBeGreaterThan(0.9);
    // Unchecked, the policy finds the reward's cheapest trick, repeating "thanks".
    expect(withoutKl.last).toBeGreaterThan(withKl.last);
    expect(withoutKl.distinctLast).toBeLessThan(0.7);
    expect(withoutKl.kl).toBeGreaterThan(5 * withKl.kl);
  });
});

const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('unit-test fields (jsep, the tiny language)', () => {
  const prompt = PROBLEMS[0].prompt;
  it('runs an expression on the shown and the hidden cases of a training problem', () => {
    const right = problem(new Rng(2024)); // the first problem the task's seed makes, with its answer
    expect(right.prompt).toBe(prompt);
    expect(testFields(right.answer, prompt)).toMatchObject({ valid: true, error: null, passed: 3, total: 3, hiddenPassed: 3, hiddenTotal: 3 });
    const wrong = testFields('x', prompt);
    expect(wrong).toMatchObject({ valid: true, passed: 0, hiddenPassed: 0 });
    expect((wrong.cases as { ok: boolean }[]).map((c) => c.ok)).toEqual([false, false, false, false, false, false]);
  });

  it('an expression fitted to the shown cases only passes them and fails the hidden ones', () => {
    const right = problem(new Rng(2024));
    // The answer plus a term that is 0 exactly at the three shown x: right where the prompt looks, wrong elsewhere.
    const [a, b, c] = PROBLEMS[0].shown.map(([x]) => x);
    const overfit = `${right.answer}+(x-${a})*(x-${b})*(x-${c})`;
    expect(testFields(overfit, prompt)).toMatchObject({ valid: true, passed: 3, total: 3, hiddenPassed: 0, hiddenTotal: 3 });
  });

  it('refuses what is not numbers, x, + - * and parentheses, saying why', () => {
    expect(testFields('2x', prompt)).toMatchObject({ valid: false, passed: 0, error: expect.stringMatching(/does not parse/) });
    expect(testFields('x/2', prompt)).toMatchObject({ valid: false, error: expect.stringMatching(/operator \/ is not allowed/) });
    expect(testFields('y+1', prompt)).toMatchObject({ valid: false, error: 'the only name is x, not y' });
    expect(testFields('x(1)', prompt).error).toMatch(/CallExpression is not allowed/);
    expect(testFields('', prompt).error).toBe('empty expression');
  });

  it('reads the cases of any prompt typed on the test bench', () => {
    expect(testFields('2*x+1', 'f(1)=3 f(2)=5 f(5)=11 ->')).toMatchObject({ passed: 3, total: 3, hiddenTotal: 0 });
    expect(testFields('x*x', 'f(1)=3 f(2)=5 f(5)=11 ->')).toMatchObject({ passed: 0, total: 3 });
  });
});

describe('privacy fields (patterns and compromise)', () => {
  it('finds the personal data in a sentence, each with its kind and place', () => {
    const f = privacyFields('Call Maria Lopez at 555-201-3344 or maria.lopez@mail.com.');
    expect(f).toMatchObject({ found: 3, names: 1, phones: 1, emails: 1, wellFormed: true });
    expect(f.detections).toEqual([
      { kind: 'name', text: 'Maria Lopez', start: 5 },
      { kind: 'phone', text: '555-201-3344', start: 20 },
      { kind: 'email', text: 'maria.lopez@mail.com', start: 36 },
    ]);
    expect(privacyFields('Chloe met Aisha in Denver on Friday.')).toMatchObject({ names: 2, places: 1 });
    expect(privacyFields('Emma Miller lives at 63 Lake Road.')).toMatchObject({ names: 1, addresses: 1 });
  });

  it('finds nothing in a sentence without personal data, and only Luhn-valid card numbers', () => {
    expect(privacyFields('The report is due on Friday.')).toMatchObject({ found: 0, wellFormed: true });
    expect(privacyFields('My card number is 4111 1111 1111 1111.')).toMatchObject({ cards: 1 });
    expect(privacyFields('My card number is 4111 1111 1111 1112.')).toMatchObject({ cards: 0 });
    expect(privacyFields('due friday')).toMatchObject({ found: 0, wellFormed: false });
  });

  it('its generator writes what the detector finds: most sentences with personal data carry some', () => {
    const rng = new Rng(7);
    const found = Array.from({ length: 200 }, () => privacyFields(sentence(rng)).found as number);
    const share = found.filter((n) => n > 0).length / found.length;
    expect(share).toBeGreaterThan(0.4);
    expect(share).toBeLessThan(0.8);
  });
});

describe('protocol: the decoder beside the reward', () => {
  const h = startingHyperparameters('ppo', {});
  const decodedSpec = defaultRewards(TASKS.find((t) => t.id === 'protocol')!)[0];
  const score = async (source: string, codes: [string, number][]) => {
    const task = TASKS.find((t) => t.id === 'protocol')!;
    const model = await SandboxReward.create(nodeQuickJs, [{ name: 'decoded', weight: 1, source }], sandboxLimits(h));
    const samples = codes.map(([code, n], i) => taskSample(task, code, taskTokenizer(task).encode(code), `${n}=`, i));
    const scores = await model.score(samples, { iteration: 1, task: task.id, helpers: rewardHelpers });
    model.dispose();
    return scores.total;
  };

  it('the default decoder recovers base-4 codes whatever their x padding, and nothing else', async () => {
    expect(base4(417)).toBe('bccab');
    expect(base4(0)).toBe('a');
    expect(await score(decodedSpec.source, [['bccab', 417], ['xbcxcabx', 417], ['bccab', 418], ['', 0], ['xxx', 0], ['ddcbd', 999]])).toEqual([1, 1, 0, 0, 0, 1]);
  });

  it('the weight-0 probe shows the message the decoder heard, -1 for none', async () => {
    const heard = defaultRewards(TASKS.find((t) => t.id === 'protocol')!).find((r) => r.name === 'heard')!;
    expect(heard.weight).toBe(0);
    expect(await score(heard.source, [['bccab', 417], ['xbx', 3], ['', 0]])).toEqual([417, 1, -1]);
  });

  it('a decoder that does not recover the message scores nothing, whatever the code', async () => {
    const broken = decodedSpec.source.replace('n = 4 * n +', 'n = 5 * n +');
    expect(await score(broken, [['bccab', 417], ['a', 0], ['b', 1], ['ba', 4]])).toEqual([0, 1, 1, 0]);
  });

  it('reads the message out of the prompt, and counts the symbols and the padding', () => {
    expect(protocolFields('xbcx', '417=')).toEqual({ message: 417, length: 4, padding: 2 });
    expect(protocolFields('a', 'no message')).toMatchObject({ message: null });
  });
});
