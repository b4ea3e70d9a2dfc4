import type { Experiment } from '../../core/experiment/experiment.ts';
import type { RewardSpec } from '../../core/reward/sandbox/types.ts';

/** A line of a diff: in both, only in the first (removed), or only in the second (added). */
export interface DiffLine {
  kind: 'same' | 'removed' | 'added';
  text: string;
}

/** The lines of `a` and `b` as one sequence (longest common subsequence), removals before additions at each change. */
export function lineDiff(a: string, b: string): DiffLine[] {
  const x = a.split('\n');
  const y = b.split('\n');
  // lcs[i][j]: the longest common subsequence of x[i..] and y[j..].
  const lcs = Array.from({ length: x.length + 1 }, () => new Int32Array(y.length + 1));
  for (let i = x.length - 1; i >= 0; i--) for (let j = y.length - 1; j >= 0; j--) lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      out.push({ kind: 'same', text: x[i++] });
      j++;
    } else if (j >= y.length || (i < x.length && lcs[i + 1][j] >= lcs[i][j + 1])) out.push({ kind: 'removed', text: x[i++] });
    else out.push({ kind: 'added', text: y[j++] });
  }
  return out;
}

/** A difference between two runs' experiments, in the first run's terms against the second's. */
export interface ExperimentDiff {
  /** Fields and settings whose values differ (task, algorithm, architecture, seed, each hyperparameter). */
  settings: { name: string; a: string; b: string }[];
  /** Reward components that differ: code (as a line diff) or weight; one side missing when only one run has it. */
  rewards: { name: string; a: RewardSpec | null; b: RewardSpec | null; lines: DiffLine[] }[];
}

const show = (v: unknown) => (v === undefined ? '(not set)' : typeof v === 'string' ? v : JSON.stringify(v));

export function experimentDiff(a: Experiment, b: Experiment): ExperimentDiff {
  const settings: ExperimentDiff['settings'] = [];
  for (const name of ['task', 'algorithm', 'arch', 'seed'] as const) if (a[name] !== b[name]) settings.push({ name, a: show(a[name]), b: show(b[name]) });
  const ha = a.hyperparameters as unknown as Record<string, unknown>;
  const hb = b.hyperparameters as unknown as Record<string, unknown>;
  for (const name of [...new Set([...Object.keys(ha), ...Object.keys(hb)])].sort()) if (show(ha[name]) !== show(hb[name])) settings.push({ name, a: show(ha[name]), b: show(hb[name]) });
  const rewards: ExperimentDiff['rewards'] = [];
  const names = [...new Set([...a.rewards.map((r) => r.name), ...b.rewards.map((r) => r.name)])];
  for (const name of names) {
    const ra = a.rewards.find((r) => r.name === name) ?? null;
    const rb = b.rewards.find((r) => r.name === name) ?? null;
    if (ra && rb && ra.source === rb.source && ra.weight === rb.weight) continue;
    const lines = ra && rb ? lineDiff(ra.source, rb.source) : (ra ?? rb)!.source.split('\n').map((text): DiffLine => ({ kind: ra ? 'removed' : 'added', text }));
    rewards.push({ name, a: ra, b: rb, lines });
  }
  return { settings, rewards };
}
