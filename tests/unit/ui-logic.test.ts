import type { IterationMetrics } from '../../src/core/training/metrics.ts';
import { detectionsOf, highlight } from '../../src/ui/samples/highlight.ts';
import { describe, expect, it } from 'vitest';
import { lintReward } from '../../src/ui/editor/rewardLint.ts';
import { smooth, SmoothedColumn } from '../../src/core/training/smoothing.ts';
import { lastIndexWithValue, latestReward } from '../../src/ui/metrics/latest.ts';
import { mergeMarkers } from '../../src/ui/metrics/markers.ts';
import { MAX_POINTS, thin } from '../../src/core/training/thinning.ts';
import { rankSamples } from '../../src/ui/samples/ranking.ts';
import { rewardLabel, trainedRewardLabel } from '../../src/ui/state/rewardLabel.ts';
import { getTask } from '../../src/core/tasks/index.ts';
import { experimentDiff, lineDiff } from '../../src/ui/runs/runDiff.ts';
import { defaultExperiment } from '../../src/core/experiment/experiment.ts';

describe('lintReward', () => {
  it('accepts code declaring reward', () => {
    expect(lintReward('function reward(sample, ctx) {\n  return sample.text.length;\n}\n')).toEqual([]);
    expect(lintReward('const reward = (s) => 1;')).toEqual([]);
  });

  it('marks a syntax error at its line', () => {
    const [p] = lintReward('function reward(sample) {\n  return sample.text.length +;\n}\n');
    expect(p.line).toBe(2);
    expect(p.message).toMatch(/^Syntax error: Unexpected token/);
  });

  it('says when no reward function is declared', () => {
    expect(lintReward('function score(s) { return 1; }')[0].message).toMatch(/declares no reward function/);
  });
});

describe('smooth', () => {
  it('returns the input at weight 0 and a bias-corrected average otherwise', () => {
    expect(smooth([1, 2, 3], 0)).toEqual([1, 2, 3]);
    const s = smooth([2, 4], 0.5);
    expect(s[0]).toBeCloseTo(2, 10); // bias correction: the first value is itself
    expect(s[1]).toBeCloseTo((0.5 * 0.5 * 2 + 0.5 * 4) / (1 - 0.25), 10);
  });
});

describe('smooth across reward changes', () => {
  it('starts afresh after each listed iteration', () => {
    const x = [1, 2, 3, 4, 5];
    const s = smooth([0, 0, 0, 10, 10], 0.9, x, [3]);
    expect(s.slice(0, 3)).toEqual([0, 0, 0]);
    expect(s[3]).toBeCloseTo(10, 10); // not a slow climb from the old reward's scores
    expect(s[4]).toBeCloseTo(10, 10);
    const across = smooth([0, 0, 0, 10, 10], 0.9);
    expect(across[3]).toBeLessThan(5);
  });
});

describe('rankSamples', () => {
  const samples = [3, 1, 3, 2].map((reward, index) => ({ text: `s${index}`, tokens: [], prompt: '', index, reward, refLogprob: -2, components: { reward } }));
  it('gives equal rewards one rank and marks them as tied', () => {
    const r = rankSamples(samples, 'reward-desc');
    expect(r.map((s) => [s.index, s.rank, s.tied])).toEqual([
      [0, 1, true],
      [2, 1, true],
      [3, 3, false],
      [1, 4, false],
    ]);
    expect(r.filter((s) => s.best).map((s) => s.index)).toEqual([0, 2]);
    expect(r.filter((s) => s.worst).map((s) => s.index)).toEqual([1]);
  });
  it('keeps batch order on request, and marks no best or worst when all scores are equal', () => {
    expect(rankSamples(samples, 'batch').map((s) => s.index)).toEqual([0, 1, 2, 3]);
    expect(rankSamples(samples, 'reward-asc').map((s) => s.index)).toEqual([1, 3, 0, 2]);
    const flat = rankSamples(samples.map((s) => ({ ...s, reward: 1 })), 'reward-desc');
    expect(flat.some((s) => s.best || s.worst)).toBe(false);
    expect(flat.every((s) => s.rank === 1 && s.tied)).toBe(true);
  });
});

describe('chart markers', () => {
  it('merges changes made between the same two iterations into one labelled marker', () => {
    expect(
      mergeMarkers([
        { iteration: 5, kind: 'reward', label: 'reward: Questions' },
        { iteration: 2, kind: 'setting', label: 'klCoef = 0.5' },
        { iteration: 5, kind: 'setting', label: 'learningRate = 0.0005' },
      ]),
    ).toEqual([
      { iteration: 2, label: 'klCoef = 0.5' },
      { iteration: 5, label: 'reward: Questions; learningRate = 0.0005' },
    ]);
  });
  it('names a reward by its example title, else by its first comment', () => {
    const task = getTask('shakespeare');
    expect(rewardLabel(task, task.examples.questions.source)).toBe('Questions');
    expect(rewardLabel(task, '// Lines with rhyme.\nfunction reward(s) { return 1; }')).toBe('Lines with rhyme');
    expect(rewardLabel(task, 'function reward(s) { return 1; }')).toBe('edited code');
  });
  it("names what a run trains on by its first weighted component, with how many more there are", () => {
    const task = getTask('shakespeare');
    const q = { name: 'q', weight: 1, source: task.examples.questions.source };
    expect(trainedRewardLabel(task, [q])).toBe('Questions');
    expect(trainedRewardLabel(task, [{ name: 'gold', weight: 0, source: '// Held out.\nfunction reward() { return 0; }' }, q])).toBe('Questions (+1 component)');
    expect(trainedRewardLabel(task, [q, q, q])).toBe('Questions (+2 components)');
  });
});

describe('highlighted finds in a sample', () => {
  it('cuts the text into plain and found parts, skipping finds that do not match the text or overlap', () => {
    const text = 'Call Maria at 555-201-3344.';
    expect(highlight(text, [{ kind: 'phone', text: '555-201-3344', start: 14 }, { kind: 'name', text: 'Maria', start: 5 }])).toEqual([
      { text: 'Call ', kind: null },
      { text: 'Maria', kind: 'name' },
      { text: ' at ', kind: null },
      { text: '555-201-3344', kind: 'phone' },
      { text: '.', kind: null },
    ]);
    expect(highlight(text, [{ kind: 'name', text: 'Maria', start: 6 }, { kind: 'x', text: 'Mar', start: 5 }, { kind: 'y', text: 'aria', start: 6 }])).toEqual([
      { text: 'Call ', kind: null },
      { text: 'Mar', kind: 'x' },
      { text: 'ia at 555-201-3344.', kind: null },
    ]);
    expect(highlight('', [])).toEqual([]);
    expect(detectionsOf({ detections: [{ kind: 'a', text: 'b', start: 0 }, { kind: 1 }] })).toEqual([{ kind: 'a', text: 'b', start: 0 }]);
    expect(detectionsOf(undefined)).toEqual([]);
  });
});

describe('the latest mean reward (header) and the legend\'s latest point', () => {
  it('skips an iteration in which no episode ended (NaN), and says which iteration the shown mean is from', () => {
    expect(latestReward([])).toBeNull();
    expect(latestReward([{ iteration: 1, rewardMean: NaN }])).toBeNull();
    expect(latestReward([{ iteration: 1, rewardMean: 12 }, { iteration: 2, rewardMean: 20 }])).toEqual({ value: 20, iteration: 2, stale: false });
    expect(latestReward([{ iteration: 1, rewardMean: 12 }, { iteration: 2, rewardMean: NaN }, { iteration: 3, rewardMean: NaN }])).toEqual({ value: 12, iteration: 1, stale: true });
  });

  it('finds the last index at which any series has a value', () => {
    expect(lastIndexWithValue([[1, 2, null], [null, 3, null]])).toBe(1);
    expect(lastIndexWithValue([[null, null]])).toBe(-1);
    expect(lastIndexWithValue([Float64Array.from([1, 2, 3])])).toBe(2);
  });
});

describe('thinning a long run for a chart', () => {
  it('leaves a short run as it is', () => {
    const x = [1, 2, 3];
    const t = thin(x, { lo: [0, 1, 2], hi: [3, 4, 5] }, [[7, 8, 9]]);
    expect(t).toEqual({ x, lo: [0, 1, 2], hi: [3, 4, 5], lines: [[7, 8, 9]] });
    expect(t.x).not.toBe(x); // a copy: the column may grow before the chart draws
  });

  it('keeps at most MAX_POINTS, always the latest iteration, each stretch of the band at its extremes', () => {
    const n = 50_001;
    const x = Array.from({ length: n }, (_, i) => i + 1);
    const lo = x.map((i) => (i === 30_000 ? -99 : -i % 7));
    const hi = x.map((i) => (i === 12_345 ? 99 : i % 5));
    const line = x.map((i) => i * 2);
    const t = thin(x, { lo, hi }, [line]);
    expect(t.x.length).toBeLessThanOrEqual(MAX_POINTS);
    expect(t.x.length).toBeGreaterThan(MAX_POINTS / 2);
    expect(t.x.at(-1)).toBe(n);
    expect(t.lines[0].at(-1)).toBe(2 * n);
    expect(t.lines[0]).toEqual(t.x.map((i) => 2 * i));
    expect(Math.min(...t.lo!)).toBe(-99);
    expect(Math.max(...t.hi!)).toBe(99);
    expect(t.lo!.length).toBe(t.x.length);
  });
});

describe('a smoothed column kept as rows are appended', () => {
  const rows = Array.from({ length: 500 }, (_, i) => ({ iteration: i + 1, v: i % 7 === 3 ? NaN : Math.sin(i) * 10 + i / 50 }));
  const pick = (r: { v: number }) => r.v;
  const iter = (r: { iteration: number }) => r.iteration;

  it('equals smoothing the whole history, however the rows arrive, across restarts and weights', () => {
    const col = new SmoothedColumn<(typeof rows)[number]>(pick, iter);
    const restarts = [120, 333];
    let shown: typeof rows = [];
    for (const end of [1, 2, 50, 51, 200, 499, 500]) {
      shown = [...shown, ...rows.slice(shown.length, end)]; // a new array each snapshot, as the page holds them
      const whole = smooth(shown.map(pick), 0.8, shown.map(iter), restarts);
      expect([...col.get(shown, 0.8, restarts)]).toEqual(whole);
    }
    expect(col.get(shown, 0.5, restarts)).toEqual(smooth(shown.map(pick), 0.5, shown.map(iter), restarts));
    expect(col.get(shown, 0.5, [10])).toEqual(smooth(shown.map(pick), 0.5, shown.map(iter), [10]));
    expect(col.get(shown, 0, [10])).toEqual(shown.map(pick));
    // A history cut back (a resume from an earlier checkpoint) and grown again: computed afresh.
    const cut = shown.slice(0, 90);
    expect(col.get(cut, 0.5, [10])).toEqual(smooth(cut.map(pick), 0.5, cut.map(iter), [10]));
    const other = cut.map((r) => ({ ...r, v: r.v + 1 }));
    expect(col.get(other, 0.5, [10])).toEqual(smooth(other.map(pick), 0.5, other.map(iter), [10]));
  });
});

describe('why is it stalling: the signs and their hints', () => {
  const row = (i: number, o: Partial<IterationMetrics> = {}): IterationMetrics =>
    ({ iteration: i, rewardMean: 1.2, rewardStd: 0.5, rewardMin: 0, rewardMax: 2, rewardComponents: {}, kl: 3.5, entropy: 1, policyLoss: 0, clipFrac: 0.1, approxKl: 0.01, klCoef: 0.1, klTarget: null, sampleLength: 5, rolloutMs: 1, rewardMs: 1, updateMs: 1, totalMs: 3, tokensPerSecond: 1, distinctShare: 1, alarms: [], ...o }) as IterationMetrics;
  it("RLOO at a clip fraction of 0.44 on a flat reward: both said, with RLOO's sequence ratios named", async () => {
    const { stallSigns } = await import('../../src/ui/metrics/stallSigns.ts');
    const signs = stallSigns({ metrics: Array.from({ length: 20 }, (_, i) => row(i + 1, { clipFrac: 0.44 })), algorithm: 'rloo', learningRate: 1e-3, equalGroups: 0.25 });
    const by = Object.fromEntries(signs.map((s) => [s.id, s]));
    expect(by.plateau.hint).toContain('Flat');
    expect(by.clip.hint).toContain("44% of completions clipped");
    expect(by.clip.hint).toContain("RLOO's ratios are whole sequences'");
    expect(by['equal-groups'].says).toContain('25% of the groups scored all alike');
    expect(by['equal-groups'].hint).toBeNull();
    expect(by['kl-share']).toBeUndefined(); // PPO's
  });
  it("PPO: the KL penalty's share against the score's spread, and a critic worse than none", async () => {
    const { stallSigns } = await import('../../src/ui/metrics/stallSigns.ts');
    const rising = Array.from({ length: 20 }, (_, i) => row(i + 1, { rewardMean: i / 4, klCoef: 0.3, kl: 3.5, explainedVariance: -0.2 }));
    const by = Object.fromEntries(stallSigns({ metrics: rising, algorithm: 'ppo', learningRate: 1e-3, equalGroups: null }).map((s) => [s.id, s]));
    expect(by.plateau.hint).toBeNull();
    expect(by['kl-share'].says).toContain('takes 1.05 a completion');
    expect(by['kl-share'].hint).toContain('lower beta');
    expect(by['explained-variance'].hint).toContain('Below 0');
    expect(by['equal-groups']).toBeUndefined();
  });
  it('the share of groups whose rewards are all equal, from a batch', async () => {
    const { equalGroupShare } = await import('../../src/ui/metrics/stallSigns.ts');
    expect(equalGroupShare([1, 1, 2, 3, 0, 0, 5, 6], 2)).toBe(0.5);
    expect(equalGroupShare([1, 2], 4)).toBeNull();
  });
});

describe('what-if: a draft reward against the one in force, on the batch on screen', () => {
  it('counts rank changes, correlates the rankings, and lists the samples that moved most', async () => {
    const { whatIf } = await import('../../src/ui/editor/whatIf.ts');
    const samples = ['ann', 'bo', 'christopher', 'di'].map((text, index) => ({ index, text }));
    const length = samples.map((s) => s.text.length);
    const same = whatIf(samples, length, length.map((x) => 2 * x));
    expect(same).toMatchObject({ rankChanges: 0, moved: [] });
    expect(same.correlation).toBeCloseTo(1, 9);
    const short = length.map((x) => -x);
    const w = whatIf(samples, length, short);
    expect(w.correlation).toBeCloseTo(-1, 9);
    expect(w.rankChanges).toBe(4);
    expect(w.moved[0]).toMatchObject({ text: 'christopher', rankBefore: 1, rankAfter: 4 });
    expect(w.after.mean).toBeCloseTo(-4.5, 9);
    expect(Number.isNaN(whatIf(samples, length, [1, 1, 1, 1]).correlation)).toBe(true);
  });
});

describe('what differs between two runs', () => {
  it('diffs code line by line (longest common subsequence), removals before additions', () => {
    expect(lineDiff('a\nb\nc', 'a\nc\nd')).toEqual([
      { kind: 'same', text: 'a' },
      { kind: 'removed', text: 'b' },
      { kind: 'same', text: 'c' },
      { kind: 'added', text: 'd' },
    ]);
    expect(lineDiff('x', 'y')).toEqual([
      { kind: 'removed', text: 'x' },
      { kind: 'added', text: 'y' },
    ]);
  });

  it('lists the settings and reward components that differ, and nothing for the same experiment', () => {
    const a = defaultExperiment('names');
    expect(experimentDiff(a, structuredClone(a))).toEqual({ settings: [], rewards: [] });
    const b = { ...structuredClone(a), algorithm: 'grpo' as const, seed: 9, hyperparameters: { ...a.hyperparameters, learningRate: 0.01 } };
    b.rewards = [{ ...b.rewards[0], weight: 2 }, { name: 'extra', weight: 0, source: 'function reward() {\n  return 1;\n}' }];
    const d = experimentDiff(a, b);
    expect(d.settings.map((s) => s.name)).toEqual(['algorithm', 'seed', 'learningRate']);
    expect(d.settings[2]).toEqual({ name: 'learningRate', a: String(a.hyperparameters.learningRate), b: '0.01' });
    expect(d.rewards.map((r) => [r.name, r.a?.weight ?? null, r.b?.weight ?? null])).toEqual([[a.rewards[0].name, 1, 2], ['extra', null, 0]]);
    expect(d.rewards[1].lines.every((l) => l.kind === 'added')).toBe(true);
  });
});
