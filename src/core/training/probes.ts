import type { Task } from '../tasks/task.ts';

// Probe prompts: a few fixed prompts, each completed greedily and at
// temperature 1 from the same random stream every few iterations, so the table
// of their completions shows how the policy itself changed (not the luck of a
// draw).

/** Most probe prompts, and their longest. */
export const MAX_PROBES = 8;
export const MAX_PROBE_LENGTH = 200;
/** Probe prompts, sampled greedily and at temperature 1 every `every` iterations (0: never); no prompts: the task's first ones. */
export interface Probes {
  prompts: string[];
  every: number;
}
export const DEFAULT_PROBES: Probes = { prompts: [], every: 10 };

/** A probe's completion and what the reward in force made of it. */
export interface ProbeSample {
  text: string;
  reward: number;
  components: Record<string, number>;
}

/** One probe prompt at one iteration. */
export interface ProbeRow {
  prompt: string;
  greedy: ProbeSample;
  /** At temperature 1 (the run's top-k), from the probe's own fixed stream. */
  sampled: ProbeSample;
}

/** Every probe at one iteration (0: the reference policy, before training). */
export interface ProbeRound {
  iteration: number;
  rows: ProbeRow[];
  /** Why this round has no rows (its reward failed on a probe). */
  error?: string;
}

/** The seed of probe `i`'s stream: the same at every round, so a change in its completion is the policy's. */
export const probeSeed = (runSeed: number, i: number) => (runSeed * 7919 + 104_729 * (i + 1)) >>> 0;

/** The prompts probed: the experiment's own, or the task's first distinct ones (up to 8). */
export function probePrompts(task: Task, probes: Probes): string[] {
  if (probes.prompts.length) return probes.prompts;
  return [...new Set(task.prompts)].slice(0, 8);
}

/** Whether probes run after iteration `iteration` (0 runs always, as the starting point). */
export const probeDue = (probes: Probes, iteration: number) => probes.every > 0 && iteration % probes.every === 0;

/** For the table: which cells changed from the round before (text, or reward), per row and kind. */
export function probeChanges(rounds: readonly ProbeRound[]): { greedy: boolean; sampled: boolean }[][] {
  return rounds.map((round, r) =>
    round.rows.map((row, i) => {
      const before = r > 0 ? rounds[r - 1].rows.find((x, j) => j === i && x.prompt === row.prompt) : undefined;
      if (!before) return { greedy: false, sampled: false };
      return { greedy: before.greedy.text !== row.greedy.text, sampled: before.sampled.text !== row.sampled.text };
    }),
  );
}
