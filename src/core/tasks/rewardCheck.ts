import type { Hyperparameters } from '../hyperparameters.ts';
import type { RewardScores, Sample } from '../reward/reward.ts';
import { diagnoseReward, textEdgeCases, type RewardWarning } from '../reward/diagnose.ts';
import { Rng } from '../rng.ts';
import { exampleTransitions, transitionSample } from './environments.ts';
import { prepareTask, taskSample, taskTokenizer } from './index.ts';
import type { Task } from './task.ts';

/** Scores samples under the rewards being checked (the page's sandbox worker, or the CLI's sandbox). */
export type CheckScorer = (samples: Sample[]) => Promise<{ ok: true; scores: RewardScores } | { ok: false; message: string }>;

export interface RewardCheckResult {
  /** What the reward was checked on, in words. */
  on: string;
  warnings: RewardWarning[];
}

/** How many transitions of random play stand for a control task's reference samples. */
export const RANDOM_PLAY_TRANSITIONS = 32;

/** Transitions of random play (a fixed stream), as a control task's reward sees them. */
export function randomPlay(task: Task, count = RANDOM_PLAY_TRANSITIONS): Sample[] {
  return exampleTransitions(task.environment!, count, new Rng(11)).map((t, i) => transitionSample(task.alphabet, t, i));
}

/**
 * The check before training (reward/diagnose.ts) on a task: the reward scored on
 * the reference samples (twice, timed; a control task: transitions of random
 * play) and on the task's edge cases, one at a time so that each failure names
 * its case.
 */
export async function checkReward(o: { task: Task; weights: Record<string, number>; references: readonly { prompt: string; text: string }[]; h: Hyperparameters; score: CheckScorer }): Promise<RewardCheckResult> {
  const { task, h } = o;
  let reference: Sample[];
  let edges: { label: string; sample: Sample }[];
  if (task.environment) {
    reference = randomPlay(task);
    edges = fixedStates(task);
  } else {
    await prepareTask(task);
    const tokenizer = taskTokenizer(task);
    const sample = (p: { prompt: string; text: string }, i: number) => taskSample(task, p.text, tokenizer.encode(p.text), p.prompt, i);
    reference = o.references.map(sample);
    const rng = new Rng(5);
    const cases = textEdgeCases({ alphabet: task.alphabet, maxLength: h.maxLength, references: o.references, image: Boolean(task.image), random: () => rng.next() });
    edges = cases.map((c) => ({ label: c.label, sample: sample(c, 0) }));
  }
  const on = `${reference.length} ${task.environment ? 'transitions of random play' : 'reference samples'} and ${edges.length} edge cases`;
  let started = performance.now();
  const once = await o.score(reference);
  let ms = performance.now() - started;
  if (!once.ok) return { on, warnings: [{ kind: 'nonfinite', message: `On the ${task.environment ? 'transitions' : 'reference samples'}: ${once.message}` }] };
  started = performance.now();
  const again = await o.score(reference);
  // The faster of the two: the first call may pay for compiling the code, or share the cores with the page's start.
  ms = Math.min(ms, performance.now() - started);
  const scored = [];
  for (const e of edges) {
    const r = await o.score([e.sample]);
    scored.push(r.ok ? { label: e.label, total: r.scores.total[0] } : { label: e.label, total: null, problem: r.message });
  }
  const warnings = diagnoseReward({
    reference: once.scores.total.map((total, i) => ({ total, components: Object.fromEntries(once.scores.components.map((c) => [c.name, c.values[i]])) })),
    again: again.ok ? again.scores.total : [],
    edges: scored,
    weights: o.weights,
    perStep: Boolean(task.environment),
    msPerSample: ms / Math.max(reference.length, 1),
    batchSize: h.batchSize,
    limitMs: h.rewardTimeLimitMs,
  });
  return { on, warnings };
}

/** A control task's edge cases: fixed states (upright and still, tilted, near the track's end), each with every action. */
function fixedStates(task: Task): { label: string; sample: Sample }[] {
  const env = task.environment!;
  const states: [string, number[]][] = [
    ['upright and still', env.observation.map(() => 0)],
    ['tilted right', env.observation.map((name) => (name === 'theta' ? 0.15 : 0))],
    ['near the end of the track', env.observation.map((name) => (name === 'x' ? 2.2 : 0))],
  ];
  return states.flatMap(([label, state]) =>
    env.actions.map((action, a) => {
      const { state: nextState, terminated } = env.step(state, a);
      return { label: `the state ${label}, ${action}`, sample: transitionSample(task.alphabet, { state, action: a, nextState, done: terminated, terminated, t: 0 }, 0) };
    }),
  );
}
