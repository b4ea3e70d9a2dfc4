import { describe, expect, it } from 'vitest';
import { FunctionReward } from '../../src/core/reward/reward.ts';
import { getTask, modelId } from '../../src/core/tasks/index.ts';
import { Trainer } from '../../src/core/training/trainer.ts';
import { drawToken } from '../../src/core/policy/sampler.ts';
import { Rng } from '../../src/core/rng.ts';
import { probeChanges, probePrompts, type ProbeRound } from '../../src/core/training/probes.ts';
import { defaultExperiment, validateExperiment } from '../../src/core/experiment/experiment.ts';
import { loadPolicyFromDisk } from '../../scripts/nodeModels.ts';
import { expectFlatTensorCount } from './helpers.ts';

const names = getTask('names');

function trainer(seed = 3) {
  return new Trainer({
    task: names,
    reference: loadPolicyFromDisk(modelId(names, 'mlp')),
    hyperparameters: { batchSize: 16, epochs: 1, minibatches: 2 },
    seed,
    algorithm: 'ppo',
    reward: new FunctionReward([
      { name: 'length', weight: 1, fn: (s) => s.text.length },
      { name: 'vowels', weight: 0, fn: (s) => (s.text.match(/[aeiouy]/g) ?? []).length },
    ]),
  });
}

describe('probe prompts', () => {
  it('temperature 0 is greedy: the most likely token, nothing drawn from the stream', () => {
    const rng = new Rng(1);
    const before = new Rng(1).next();
    expect(drawToken(Float32Array.from([0.1, 2, 1.9, -3]), 0, 0, rng)).toBe(1);
    expect(rng.next()).toBe(before);
  });

  it('completes each prompt greedily and at temperature 1 from its own fixed stream, scored by the reward in force, and leaves the run as it was', async () => {
    const probed = trainer();
    const plain = trainer();
    const first = await probed.probe(['', 'ma'], 7);
    expect(first).toHaveLength(2);
    expect(first[1].prompt).toBe('ma');
    for (const row of first) {
      expect(row.greedy.reward).toBe(row.greedy.text.length);
      expect(row.greedy.components).toEqual({ length: row.greedy.text.length, vowels: (row.greedy.text.match(/[aeiouy]/g) ?? []).length });
    }
    // The same policy and seed: the same completions (greedy, and the fixed stream's).
    expect(await probed.probe(['', 'ma'], 7)).toEqual(first);
    // Probing between iterations changes nothing of the run: same metrics and samples as a run never probed.
    for (let i = 0; i < 2; i++) {
      const a = await probed.step();
      await probed.probe(['', 'ma'], 7);
      const b = await plain.step();
      expect(a.samples.map((s) => s.text)).toEqual(b.samples.map((s) => s.text));
      expect(a.metrics.policyLoss).toBe(b.metrics.policyLoss);
    }
    await expectFlatTensorCount(() => probed.probe(['', 'ma', 'jo'], 7), 1, 3);
    probed.dispose();
    plain.dispose();
  });

  it("takes the task's first prompts when none are chosen, and marks what changed from the round before", () => {
    expect(probePrompts(names, { prompts: [], every: 10 })).toEqual(['']);
    expect(probePrompts(getTask('unittests'), { prompts: [], every: 10 })).toHaveLength(8);
    const row = (g: string, s: string) => ({ prompt: '', greedy: { text: g, reward: 0, components: {} }, sampled: { text: s, reward: 0, components: {} } });
    const rounds: ProbeRound[] = [
      { iteration: 0, rows: [row('anna', 'bo')] },
      { iteration: 10, rows: [row('anna', 'bob')] },
      { iteration: 20, rows: [row('annabel', 'bob')] },
    ];
    expect(probeChanges(rounds)).toEqual([[{ greedy: false, sampled: false }], [{ greedy: false, sampled: true }], [{ greedy: true, sampled: false }]]);
  });

  it('are part of the experiment: checked against the task, migrated in from older versions', () => {
    expect(validateExperiment({ ...defaultExperiment('names'), version: 4, probes: undefined }).probes).toEqual({ prompts: [], every: 10 });
    expect(() => validateExperiment({ ...defaultExperiment('names'), probes: { prompts: ['Ab'], every: 5 } })).toThrow('probes.prompts[0] has "A", which task names does not write');
    expect(() => validateExperiment({ ...defaultExperiment('names'), probes: { prompts: Array(9).fill('a'), every: 5 } })).toThrow('at most 8 probe prompts, got 9');
    expect(() => validateExperiment({ ...defaultExperiment('names'), probes: { prompts: [], every: -1 } })).toThrow('probes.every must be a whole number');
  });
});
