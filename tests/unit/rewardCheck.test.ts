import { describe, expect, it } from 'vitest';
import { nodeQuickJs } from '../../scripts/nodeSandbox.ts';
import { loadPolicyFromDisk } from '../../scripts/nodeModels.ts';
import { diagnoseReward, REWARD_WARNING_KINDS } from '../../src/core/reward/diagnose.ts';
import { FunctionReward, RewardError, type RewardComponent, type RewardModel } from '../../src/core/reward/reward.ts';
import { SandboxReward } from '../../src/core/reward/sandbox/sandboxReward.ts';
import { defaultExperiment } from '../../src/core/experiment/experiment.ts';
import { sandboxLimits } from '../../src/core/hyperparameters.ts';
import { defaultRewards, getTask, modelId, TASKS } from '../../src/core/tasks/index.ts';
import { checkReward, type CheckScorer } from '../../src/core/tasks/rewardCheck.ts';
import { GOLD_EXAMPLES } from '../../src/core/tasks/goldExamples.ts';
import { allHelpers } from '../../src/core/reward/reward.ts';
import { prepareHelpers, taskSample } from '../../src/core/tasks/index.ts';
import { Trainer } from '../../src/core/training/trainer.ts';

// The check before training: each warning on a reward made to show it, and none
// on any task's default reward.

const scorer = (model: RewardModel): CheckScorer => async (samples) => {
  try {
    return { ok: true, scores: await model.score(samples, { iteration: 1, task: 'check', helpers: {} as never }) };
  } catch (e) {
    if (e instanceof RewardError) return { ok: false, message: e.message };
    throw e;
  }
};

async function referencesOf(taskId: string, count = 16): Promise<{ prompt: string; text: string }[]> {
  const task = getTask(taskId);
  if (task.environment) return [];
  const e = defaultExperiment(taskId);
  const t = new Trainer({ task, reference: loadPolicyFromDisk(modelId(task, e.arch)), hyperparameters: e.hyperparameters, seed: 1, reward: new FunctionReward([{ name: 'r', weight: 1, fn: () => 0 }]) });
  const out = await t.preview(count, 'reference', 7);
  t.dispose();
  return out;
}

async function check(components: RewardComponent[], h: Partial<ReturnType<typeof defaultExperiment>['hyperparameters']> = {}) {
  const e = defaultExperiment('names');
  return checkReward({
    task: getTask('names'),
    weights: Object.fromEntries(components.map((c) => [c.name, c.weight])),
    references: await referencesOf('names'),
    h: { ...e.hyperparameters, ...h },
    score: scorer(new FunctionReward(components)),
  });
}
const kinds = (r: { warnings: { kind: string }[] }) => r.warnings.map((w) => w.kind);
const VOWELS = /[aeiouy]/g;

describe('the reward check before training', () => {
  it('finds each kind of warning on a reward made to show it, naming its numbers', async () => {
    const constant = await check([{ name: 'one', weight: 1, fn: () => 1 }]);
    expect(kinds(constant)).toEqual(['constant']);
    expect(constant.warnings[0].message).toContain('Every one of the 16 reference samples scores 1');

    // Weighted alike, but the share of vowels (0 to 1) lives on a smaller scale than the length (letters).
    const dominated = await check([
      { name: 'length', weight: 1, fn: (s) => Math.min(s.text.length, 9) },
      { name: 'vowel share', weight: 1, fn: (s) => (s.text.match(VOWELS) ?? []).length / Math.max(1, s.text.length) },
    ]);
    expect(kinds(dominated)).toContain('dominated'); // (one vowel repeated is also a loophole of it)
    expect(dominated.warnings.find((w) => w.kind === 'dominated')!.message).toMatch(/"length" makes (9\d|100)% of the reward's spread on the reference samples \(weighted\): "vowel share" \(× 1\) hardly counts, though weighted alike/);
    // A tie-breaker weighted far lower on purpose is not reported.
    expect(kinds(await check([{ name: 'length', weight: 1, fn: (s) => s.text.length }, { name: 'tie', weight: 0.05, fn: (s) => (s.text.match(VOWELS) ?? []).length / Math.max(1, s.text.length) }]))).not.toContain('dominated');

    const nonfinite = await check([{ name: 'inverse', weight: 1, fn: (s) => 1 / s.text.length }]);
    expect(kinds(nonfinite)).toContain('nonfinite');
    expect(nonfinite.warnings.find((w) => w.kind === 'nonfinite')!.message).toContain('An empty completion');

    let calls = 0;
    const noisy = await check([{ name: 'noisy', weight: 1, fn: (s) => s.text.length + (calls++ % 7) / 10 }]);
    expect(kinds(noisy)).toContain('nondeterministic');

    const slow = await check(
      [
        {
          name: 'slow',
          weight: 1,
          fn: (s) => {
            const until = performance.now() + 3;
            while (performance.now() < until);
            return s.text.length;
          },
        },
      ],
      { batchSize: 64, rewardTimeLimitMs: 200 },
    );
    expect(kinds(slow)).toEqual(['slow']);
    expect(slow.warnings[0].message).toMatch(/a batch of 64 would take about \d+ ms, over (half of )?its limit of 200 ms/);

    const loophole = await check([{ name: 'short', weight: 1, fn: (s) => (s.text.length === 0 ? 3 : -s.text.length) }]);
    expect(kinds(loophole)).toEqual(['loophole']);
    // The share of vowels: one vowel repeated beats every real name.
    const vowels = await check([{ name: 'vowel share', weight: 1, fn: (s) => (s.text.match(VOWELS) ?? []).length / Math.max(1, s.text.length) }]);
    expect(vowels.warnings.map((w) => w.message)).toEqual([expect.stringMatching(/^One symbol repeated \("a+", \d+, as long as the longest reference sample\) scores 1, above every reference sample/)]);
    expect(loophole.warnings[0].message).toMatch(/^An empty completion \(the stop token at once\) scores 3, above every reference sample \(best -\d+\): a loophole\?/);

    // The kinds checked here are every kind there is.
    expect([...new Set([...kinds(constant), ...kinds(dominated), ...kinds(nonfinite), ...kinds(noisy), ...kinds(slow), ...kinds(loophole)])].sort()).toEqual([...REWARD_WARNING_KINDS].sort());
  }, 60_000);

  it('no warning on a varied, deterministic, fast reward, and none from numbers that say nothing', () => {
    const reference = [1, 2, 3].map((total) => ({ total, components: { a: total } }));
    expect(diagnoseReward({ reference, again: [1, 2, 3], edges: [{ label: 'an empty completion', total: 0 }], weights: { a: 1 }, msPerSample: 0.01, batchSize: 64, limitMs: 1000 })).toEqual([]);
  });

  /**
   * What the check finds in the default rewards, each a real property of the reward, not a
   * false alarm: Shakespeare's "Lines of love" charges 0.05 a word, so one long word with
   * no word of love (-0.05) beats every real line (at best -0.1 with no word of love).
   */
  const KNOWN: Record<string, string[]> = { shakespeare: ['loophole'] };
  for (const task of TASKS) {
    it(`finds ${KNOWN[task.id] ? `only ${KNOWN[task.id].join(', ')}` : 'nothing wrong'} in the ${task.id} task's default reward, in the sandbox`, async () => {
      const e = defaultExperiment(task.id);
      const rewards = defaultRewards(task);
      const model = await SandboxReward.create(nodeQuickJs, rewards, sandboxLimits(e.hyperparameters));
      try {
        const r = await checkReward({ task, weights: Object.fromEntries(rewards.map((x) => [x.name, x.weight])), references: await referencesOf(task.id), h: e.hyperparameters, score: scorer(model) });
        expect(r.warnings.map((w) => w.kind), r.warnings.map((w) => w.message).join('\n')).toEqual(KNOWN[task.id] ?? []);
        console.log(`${task.id}: checked on ${r.on}`);
      } finally {
        model.dispose();
      }
    }, 60_000);
  }

  for (const [taskId, gold] of Object.entries(GOLD_EXAMPLES)) {
    it(`the ${taskId} proxy-against-gold pair scores the reference samples in the sandbox, the gold held out at weight 0`, async () => {
      const task = getTask(taskId);
      const e = defaultExperiment(taskId);
      const model = await SandboxReward.create(nodeQuickJs, gold.rewards, sandboxLimits(e.hyperparameters));
      try {
        await prepareHelpers();
        await task.prepare?.();
        const refs = await referencesOf(taskId);
        const samples = refs.map((r, i) => taskSample(task, r.text, [], r.prompt, i));
        const scores = await model.score(samples, { iteration: 1, task: taskId, helpers: allHelpers() });
        expect(gold.rewards.map((r) => r.weight)).toEqual([1, 0]);
        expect(scores.components.map((c) => c.name)).toEqual(gold.rewards.map((r) => r.name));
        for (const c of scores.components) expect(c.values.every(Number.isFinite), c.name).toBe(true);
        // The total is the proxy alone: the gold is charted, never trained on.
        expect(scores.total).toEqual(scores.components[0].values);
        // Neither is constant on real samples (a gold that never moves shows nothing).
        expect(new Set(scores.components[1].values).size, `${taskId} gold ${scores.components[1].values}`).toBeGreaterThan(1);
      } finally {
        model.dispose();
      }
    }, 60_000);
  }
});
