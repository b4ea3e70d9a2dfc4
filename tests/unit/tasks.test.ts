import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { loadPolicyFromDisk } from '../../scripts/nodeModels.ts';
import { nodeQuickJs } from '../../scripts/nodeSandbox.ts';
import { startingHyperparameters } from '../../src/core/algorithms/catalog.ts';
import { sandboxLimits } from '../../src/core/hyperparameters.ts';
import { SandboxReward } from '../../src/core/sandbox/sandboxReward.ts';
import { defaultRewards, taskSample, taskTokenizer, TASKS } from '../../src/core/tasks.ts';
import { sentimentFields } from '../../src/core/tasks/sentiment.ts';
import { Trainer } from '../../src/core/trainer.ts';
import { rewardHelpers } from '../../src/core/rewardHelpers.ts';

// Every registered task, walked through what the app does with it: load its
// reference policy, score samples with each example reward in the sandbox, and
// train one iteration with its default reward.
describe.each(TASKS.map((t) => [t.id, t] as const))('task %s', (_id, task) => {
  it('says what it is: explanation, examples, fields documented', () => {
    for (const part of Object.values(task.explanation)) expect(part.length).toBeGreaterThan(30);
    expect(Object.keys(task.examples).length).toBeGreaterThanOrEqual(2);
    for (const [key, example] of Object.entries(task.examples)) expect(example.source, key).toMatch(/^\/\/ .+\nfunction reward\(sample, ctx\) \{/);
    if (task.fields) {
      const fields = task.fields.compute('', task.prompts[0]);
      expect(Object.keys(fields).sort()).toEqual(Object.keys(task.fields.docs).sort());
    }
    for (const id of Object.values(task.models)) expect(existsSync(`public/models/${id}.json`), id).toBe(true);
  });

  it('loads, scores with every example in the sandbox, and trains one iteration', async () => {
    const h = startingHyperparameters('ppo', task.hyperparameters, { batchSize: 16 });
    const tokenizer = taskTokenizer(task);
    const samples = ['', task.alphabet.slice(0, 5)].map((text, i) => taskSample(task, text, tokenizer.encode(text), task.prompts[0], i));
    for (const [key, example] of Object.entries(task.examples)) {
      const model = await SandboxReward.create(nodeQuickJs, [{ name: key, weight: 1, source: example.source }], sandboxLimits(h));
      const scores = await model.score(samples, { iteration: 1, task: task.id, helpers: rewardHelpers });
      expect(scores.total.every(Number.isFinite), key).toBe(true);
      model.dispose();
    }
    for (const arch of ['mlp', 'transformer'] as const) {
      const reward = await SandboxReward.create(nodeQuickJs, defaultRewards(task), sandboxLimits(h));
      const trainer = new Trainer({ task, reference: loadPolicyFromDisk(task.models[arch]), hyperparameters: h, seed: 1, reward });
      const { metrics, samples: scored } = await trainer.step();
      expect(metrics.iteration).toBe(1);
      expect(Number.isFinite(metrics.rewardMean)).toBe(true);
      expect(scored).toHaveLength(16);
      if (task.fields) expect(Object.keys(scored[0].fields ?? {})).toEqual(Object.keys(task.fields.docs));
      trainer.dispose();
      reward.dispose();
    }
  });
});

describe('sentiment fields (VADER)', () => {
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

describe('sentiment learns', () => {
  it('its default reward raises the mean VADER score by at least 0.15 within 30 iterations (MLP, seed 1, wasm)', async () => {
    const task = TASKS.find((t) => t.id === 'sentiment')!;
    const h = startingHyperparameters('ppo', task.hyperparameters);
    const reward = await SandboxReward.create(nodeQuickJs, defaultRewards(task), sandboxLimits(h));
    const trainer = new Trainer({ task, reference: loadPolicyFromDisk(task.models.mlp), hyperparameters: h, seed: 1, reward });
    const means: number[] = [];
    for (let i = 0; i < 30; i++) means.push((await trainer.step()).metrics.rewardMean);
    trainer.dispose();
    reward.dispose();
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(`sentiment: mean VADER score ${avg(means.slice(0, 5)).toFixed(3)} at iterations 1-5, ${avg(means.slice(-5)).toFixed(3)} at 26-30`);
    expect(avg(means.slice(-5)) - avg(means.slice(0, 5))).toBeGreaterThanOrEqual(0.15);
  });
});
