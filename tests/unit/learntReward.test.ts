import { describe, expect, it } from 'vitest';
import * as tf from '../../src/core/tf.ts';
import { defaultExperiment, validateExperiment, type Experiment } from '../../src/core/experiment/experiment.ts';
import { decodeExperiment, encodeExperiment, forLink, LINK_LABELS, LINK_MAX_JSON_BYTES } from '../../src/core/experiment/link.ts';
import { labelledPairs, selfAgreement, type LabelRecord } from '../../src/core/reward/preferences.ts';
import { allHelpers, FunctionReward, RewardError, type Sample } from '../../src/core/reward/reward.ts';
import type { RewardSpec } from '../../src/core/reward/sandbox/types.ts';
import { getTask, modelId, taskSample, taskTokenizer } from '../../src/core/tasks/index.ts';
import { componentWeights, explainJudge, fitLearnt, goldName, LearntReward, sandboxSpecs, type LearnTools } from '../../src/core/training/learntReward.ts';
import { completionFeatures, completionLikelihood } from '../../src/core/training/preferenceFeatures.ts';
import { Trainer } from '../../src/core/training/trainer.ts';
import { loadPolicyFromDisk } from '../../scripts/nodeModels.ts';
import { ladderExperiment } from '../../src/ui/gallery/ladder.ts';

// Rewards learnt from preferences as the page and the command line run them:
// the experiment's `learn` and `labels`, the fitting shared by both, the reward
// that scores through the fitted heads, and links that carry labels.

const names = getTask('names');
const code = 'function reward(sample) {\n  return sample.text.length;\n}\n';
const label = (a: string, b: string, y: 0 | 1 | 0.5, reward = 'rm', at = 0): LabelRecord => ({ reward, pa: '', a, pb: '', b, y, at });

describe('the experiment', () => {
  it('reads a learnt component and its labels, migrates version 5, and names what is wrong', () => {
    const base = defaultExperiment('names');
    const e = validateExperiment({ ...base, rewards: [{ name: 'rm', weight: 1, source: code, learn: { from: 'person', pairs: 200, noise: 0, every: 10 } }], labels: [label('anna', 'bo', 1)] });
    expect(e.labels).toEqual([label('anna', 'bo', 1)]);
    const { labels: _, ...v5 } = { ...base, version: 5 };
    expect(validateExperiment(v5).labels).toEqual([]);
    const bad = (x: Partial<Experiment> & Record<string, unknown>) => () => validateExperiment({ ...base, ...x });
    expect(bad({ rewards: [{ name: 'rm', weight: 1, source: code, learn: { from: 'judge', pairs: 200, noise: 0.9, every: 0 } }] })).toThrow('experiment: rewards[0].learn.noise must be a share of flipped labels from 0 to 0.5, got 0.9');
    expect(bad({ rewards: [{ name: 'rm', weight: 1, source: code, learn: { from: 'crowd', pairs: 200, noise: 0, every: 0 } as never }] })).toThrow('experiment: rewards[0].learn.from must be one of person, judge, model');
    expect(bad({ rewards: [{ name: 'rm', weight: 1, source: code, learn: { from: 'judge', pairs: 5, noise: 0, every: 0 } }] })).toThrow('rewards[0].learn.pairs must be a whole number from 10 to 2000');
    expect(bad({ labels: [label('a', 'b', 1, 'reward')] })).toThrow('experiment: labels[0].reward must name a reward learnt from a person\'s labels (there is none), got "reward"');
    expect(bad({ rewards: [{ name: 'rm', weight: 1, source: code, learn: { from: 'person', pairs: 200, noise: 0, every: 10 } }], labels: [{ ...label('a', 'b', 1), y: 2 as never }] })).toThrow('labels[0].y must be 1 (the first is better), 0 (the second) or 0.5 (a tie), got 2');
    expect(bad({ rewards: [{ name: 'rm', weight: 1, source: code, learn: { from: 'judge', pairs: 100, noise: 0, every: 0 } }, { name: 'rm_judge', weight: 1, source: code }] })).toThrow('experiment: rewards[1].name "rm_judge" is where the judge of "rm" is charted; choose another name');
    expect(() => validateExperiment({ ...defaultExperiment('images'), rewards: [{ name: 'rm', weight: 1, source: code, learn: { from: 'model', pairs: 100, noise: 0, every: 0 } }] })).toThrow(/rewards\[0\]\.learn\.from "model" asks the task's other reference policy to judge, and task images has only its transformer policy/);
    expect(() => validateExperiment({ ...defaultExperiment('cartpole'), rewards: [{ name: 'rm', weight: 1, source: code, learn: { from: 'judge', pairs: 200, noise: 0, every: 0 } }] })).toThrow(/needs a language task/);
  });

  it('runs a judge\'s code as the gold at weight 0, no code for a person or a model, and charts every component with its weight', () => {
    const rewards: RewardSpec[] = [
      { name: 'len', weight: 0.5, source: code },
      { name: 'rm', weight: 1, source: code, learn: { from: 'judge', pairs: 100, noise: 0, every: 0 } },
      { name: 'you', weight: 2, source: code, learn: { from: 'person', pairs: 100, noise: 0, every: 10 } },
      { name: 'ai', weight: 1, source: code, learn: { from: 'model', pairs: 100, noise: 0, every: 0 } },
    ];
    expect(sandboxSpecs(rewards)).toEqual([
      { name: 'len', weight: 0.5, source: code },
      { name: goldName('rm'), weight: 0, source: code },
    ]);
    expect(componentWeights(rewards)).toEqual({ len: 0.5, rm: 1, rm_judge: 0, you: 2, ai: 1, ai_judge: 0 });
  });

  it('a judge\'s error names the component the person wrote, not its chart name', () => {
    const rewards: RewardSpec[] = [{ name: 'rm', weight: 1, source: code, learn: { from: 'judge', pairs: 100, noise: 0, every: 0 } }];
    const e = explainJudge(new RewardError('reward "rm_judge" returned NaN for sample 3', { component: 'rm_judge', sampleIndex: 3 }), rewards) as RewardError;
    expect(e).toBeInstanceOf(RewardError);
    expect(e.message).toBe('the judge code of "rm" returned NaN for sample 3');
    expect(e.details).toEqual({ component: 'rm', sampleIndex: 3 });
    const other = new RewardError('reward "len" threw');
    expect(explainJudge(other, rewards)).toBe(other);
  });

  it('the ladder\'s rungs and its lesson are valid experiments', () => {
    for (const rung of ['person', 'model', 'judge', 'rule'] as const) expect(validateExperiment(ladderExperiment(rung)).task).toBe('names');
    expect(ladderExperiment('person').rewards[0].learn?.from).toBe('person');
    expect(ladderExperiment('rule').rewards[0].learn).toBeUndefined();
  });
});

describe('labels', () => {
  it('become a table of distinct completions and pairs into it', () => {
    const { items, pairs } = labelledPairs([label('anna', 'bo', 1), label('bo', 'cy', 0), label('anna', 'cy', 0.5)]);
    expect(items.map((i) => i.text)).toEqual(['anna', 'bo', 'cy']);
    expect(pairs).toEqual([{ a: 0, b: 1, label: 1 }, { a: 1, b: 2, label: 0 }, { a: 0, b: 2, label: 0.5 }]);
  });

  it('say how often a person agreed with themself on pairs shown again (either way round)', () => {
    expect(selfAgreement([label('anna', 'bo', 1)])).toBeNull();
    expect(selfAgreement([label('anna', 'bo', 1), label('bo', 'anna', 0), label('cy', 'di', 1), label('di', 'cy', 1), label('anna', 'bo', 0.5)])).toEqual({ agreed: 1, repeats: 3 });
  });

  it('a link carries the latest 300 at most, fewer when long completions would pass its size, and opens again as it was', async () => {
    const e0 = defaultExperiment('names');
    const rewards: RewardSpec[] = [{ name: 'rm', weight: 1, source: code, learn: { from: 'person', pairs: 200, noise: 0, every: 10 } }];
    const many = Array.from({ length: 400 }, (_, i) => label(`name${i}`, `other${i}`, 1, 'rm', i));
    const e = validateExperiment({ ...e0, rewards, labels: many });
    const { experiment, droppedLabels } = forLink(e);
    expect(droppedLabels).toBe(100);
    expect(experiment.labels).toEqual(many.slice(100));
    expect(await decodeExperiment(await encodeExperiment(experiment))).toEqual(experiment);
    const long = Array.from({ length: 300 }, (_, i) => label(`${i}`.padEnd(200, 'a'), `${i}`.padEnd(200, 'b'), 0, 'rm', i));
    const cut = forLink(validateExperiment({ ...e0, rewards, labels: long }));
    expect(cut.droppedLabels).toBeGreaterThan(0);
    expect(cut.experiment.labels.length).toBeLessThan(LINK_LABELS);
    expect(new TextEncoder().encode(JSON.stringify(cut.experiment)).length).toBeLessThanOrEqual(LINK_MAX_JSON_BYTES);
    expect(await decodeExperiment(await encodeExperiment(cut.experiment))).toEqual(cut.experiment);
  });
});

describe('fitting and scoring, on the names reference policy', () => {
  function tools(h = 20) {
    const reference = loadPolicyFromDisk(modelId(names, 'mlp'));
    const trainer = new Trainer({ task: names, reference, hyperparameters: { maxLength: h }, seed: 1, reward: new FunctionReward([{ name: 'r', weight: 1, fn: () => 0 }]) });
    const tokenizer = taskTokenizer(names);
    const other = loadPolicyFromDisk(modelId(names, 'transformer'));
    const t: LearnTools = {
      featurize: (items, progress) => completionFeatures(trainer.reference, tokenizer, items, h, progress),
      references: async (count, seed) => (await trainer.preview(count, 'reference', seed)).map((c, i) => taskSample(names, c.text, tokenizer.encode(c.text), c.prompt, i)),
      judge: async (spec, samples) => (spec.learn!.from === 'model' ? completionLikelihood(other, tokenizer, samples) : samples.map((s) => s.text.length)),
    };
    return { t, trainer, dispose: () => (trainer.dispose(), other.dispose()) };
  }

  it('a judge\'s component learns its judge, and fitting again gives the same model and report', async () => {
    const { t, dispose } = tools();
    const spec: RewardSpec = { name: 'rm', weight: 1, source: code, learn: { from: 'judge', pairs: 150, noise: 0, every: 0 } };
    const stages: string[] = [];
    const a = await fitLearnt(spec, { seed: 2 }, { ...t, progress: (_, stage) => stages.push(stage) });
    const b = await fitLearnt(spec, { seed: 2 }, t);
    expect(a.report.heldOutAccuracy!).toBeGreaterThanOrEqual(0.9);
    expect(Array.from(b.head!.w)).toEqual(Array.from(a.head!.w));
    expect({ ...b.report, ms: 0 }).toEqual({ ...a.report, ms: 0 });
    expect(a.report.losses.length).toBeLessThanOrEqual(100);
    expect(stages).toEqual(expect.arrayContaining(['drawing completions to label', 'the judge labels', 'reading features', 'fitting', 'done']));
    dispose();
  }, 60_000);

  it('a person\'s component waits for two decisive labels, then says how the old model ordered the labels made since', async () => {
    const { t, dispose } = tools();
    const spec: RewardSpec = { name: 'rm', weight: 1, source: code, learn: { from: 'person', pairs: 200, noise: 0, every: 10 } };
    expect((await fitLearnt(spec, { seed: 1, labels: [label('anna', 'bo', 1), label('cy', 'di', 0.5)] }, t)).head).toBeNull();
    const words = ['annabelle', 'bo', 'christina', 'di', 'evangeline', 'fe', 'georgiana', 'hu', 'isadora', 'jo', 'katherine', 'li', 'marguerite', 'mo', 'nathaniel', 'ru'];
    const longer = (i: number) => label(words[i], words[i + 1], words[i].length > words[i + 1].length ? 1 : 0);
    const first = Array.from({ length: 8 }, (_, i) => longer(i));
    const fit = await fitLearnt(spec, { seed: 1, labels: first }, t);
    expect(fit.head).not.toBeNull();
    expect(fit.report.freshAccuracy).toBeNull();
    const more = [...first, ...Array.from({ length: 6 }, (_, i) => longer(i + 8))];
    const next = await fitLearnt(spec, { seed: 1, labels: more, previous: fit.head, freshFrom: first.length }, t);
    expect(next.report.freshPairs).toBe(6);
    expect(next.report.freshAccuracy).not.toBeNull();
    expect(next.report.pairs).toBe(14);
    dispose();
  }, 60_000);

  it('the reward scores through the fitted heads (0 before), in the experiment\'s order with each gold after its model, and frees every tensor', async () => {
    const { t, trainer, dispose } = tools();
    const rewards: RewardSpec[] = [
      { name: 'len', weight: 0.5, source: code },
      { name: 'ai', weight: 2, source: code, learn: { from: 'model', pairs: 60, noise: 0, every: 0 } },
    ];
    const codeReward = new FunctionReward([{ name: 'len', weight: 0.5, fn: (s: Sample) => s.text.length }]);
    const reward = new LearntReward(codeReward, rewards, t);
    expect(reward.names).toEqual(['len', 'ai', 'ai_judge']);
    const tokenizer = taskTokenizer(names);
    const samples = (await trainer.preview(8, 'reference', 3)).map((c, i) => taskSample(names, c.text, tokenizer.encode(c.text), c.prompt, i));
    const ctx = { iteration: 1, task: 'names', helpers: allHelpers() };
    const before = tf.memory().numTensors;
    const cold = await reward.score(samples, ctx);
    expect(cold.components.map((c) => c.name)).toEqual(['len', 'ai', 'ai_judge']);
    expect(cold.components[1].values).toEqual(new Array(8).fill(0));
    expect(cold.total).toEqual(samples.map((s) => 0.5 * s.text.length));
    const judgeModel = loadPolicyFromDisk(modelId(names, 'transformer'));
    const likelihood = await completionLikelihood(judgeModel, tokenizer, samples);
    judgeModel.dispose();
    expect(cold.components[2].values).toEqual(likelihood);
    for (const v of likelihood) expect(v).toBeLessThan(0);
    const fit = await fitLearnt(rewards[1], { seed: 1 }, t);
    reward.setHead('ai', fit.head);
    const warm = await reward.score(samples, ctx);
    warm.total.forEach((x, i) => expect(x).toBeCloseTo(0.5 * samples[i].text.length + 2 * warm.components[1].values[i], 9));
    expect(new Set(warm.components[1].values).size).toBeGreaterThan(1);
    expect(tf.memory().numTensors).toBe(before);
    dispose();
  }, 60_000);
});
