import type { AlgorithmId } from '../../core/algorithms/catalog.ts';
import type { IterationMetrics } from '../../core/training/metrics.ts';

/** One sign a researcher reads first when a run stalls: what it is, its number in words, and a hint when the number says something. */
export interface StallSign {
  id: 'plateau' | 'kl-share' | 'equal-groups' | 'clip' | 'approx-kl' | 'explained-variance' | 'settings';
  says: string;
  hint: string | null;
}

const pct = (x: number) => `${Math.round(100 * x)}%`;
const num = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(2));
/** The mean of the finite values; NaN when there are none. */
const mean = (xs: number[]) => {
  const f = xs.filter(Number.isFinite);
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN;
};

/**
 * The signs over the last `window` iterations (their mean), for the algorithm in
 * force: the reward's trend, the KL penalty's share against the score's spread
 * (PPO), groups that scored all alike (GRPO, RLOO: `equalGroups` from the latest
 * batch where the metrics lack it), the clip fraction and approximate KL per
 * update, the critic's explained variance (PPO), and the settings in force.
 */
export function stallSigns(o: {
  metrics: readonly IterationMetrics[];
  algorithm: AlgorithmId;
  learningRate: number;
  equalGroups: number | null;
  /** PPO trains on the score normalised to unit spread (scoreNormalize): the KL penalty is weighed against that. */
  scoreNormalized?: boolean;
  /** A control task: no reference, no KL. */
  control?: boolean;
  window?: number;
}): StallSign[] {
  const w = o.window ?? 10;
  const recent = o.metrics.slice(-w);
  if (recent.length === 0) return [];
  const last = recent.at(-1)!;
  const avg = (f: (m: IterationMetrics) => number | undefined) => mean(recent.map(f).filter((v): v is number => v !== undefined));
  const signs: StallSign[] = [];
  const spread = avg((m) => m.rewardStd);
  const earlier = o.metrics.slice(-2 * w, -w);
  if (earlier.length >= w / 2 && Number.isFinite(avg((m) => m.rewardMean)) && Number.isFinite(mean(earlier.map((m) => m.rewardMean)))) {
    const change = avg((m) => m.rewardMean) - mean(earlier.map((m) => m.rewardMean));
    const flat = Math.abs(change) < 0.05 * Math.max(spread, 1e-9);
    signs.push({
      id: 'plateau',
      says: `Mean reward ${num(avg((m) => m.rewardMean))} over the last ${recent.length} iterations, ${change >= 0 ? '+' : ''}${num(change)} on the ${earlier.length} before (the batch's spread: ${num(spread)}).`,
      hint: flat ? 'Flat: the reward has stopped moving. Read the signs below for why.' : null,
    });
  }
  if (o.algorithm === 'ppo' && !o.control) {
    const penalty = avg((m) => m.klCoef * m.kl);
    // What the algorithm trains on: the score normalised to unit spread, when it is.
    const against = o.scoreNormalized ? 1 : spread;
    const share = against > 0 ? penalty / against : 0;
    signs.push({
      id: 'kl-share',
      says: `The KL penalty takes ${num(penalty)} a completion (beta ${num(last.klCoef)} × KL ${num(last.kl)}), against ${o.scoreNormalized ? 'the normalised score\'s spread of 1' : `a score spread of ${num(spread)}`}: ${pct(share)}.`,
      hint: share > 0.5 ? 'The leash weighs as much as what the reward can tell apart: a lower beta (or KL target) lets the reward move the policy.' : null,
    });
  }
  if (o.algorithm !== 'ppo') {
    const fromMetrics = avg((m) => m.equalGroupFrac);
    const equal = Number.isFinite(fromMetrics) ? fromMetrics : o.equalGroups;
    if (equal !== null && Number.isFinite(equal)) {
      signs.push({
        id: 'equal-groups',
        says: `${pct(equal)} of the groups scored all alike: their advantages are 0, so they teach nothing.`,
        hint: equal > 0.5 ? "Most groups teach nothing: a reward that tells a prompt's completions apart (a finer score, or partial credit) gives the group something to compare." : null,
      });
    }
  }
  const clip = avg((m) => m.clipFrac);
  signs.push({
    id: 'clip',
    says: `Clip fraction ${pct(clip)} per update.`,
    hint:
      clip > 0.3
        ? `${pct(clip)} of ${o.algorithm === 'rloo' ? 'completions' : 'tokens'} clipped: each update moves the policy further than the clip allows${o.algorithm === 'rloo' ? " (RLOO's ratios are whole sequences', so they leave the clip range first)" : ''}; a lower learning rate or fewer epochs.`
        : null,
  });
  const approxKl = avg((m) => m.approxKl);
  signs.push({ id: 'approx-kl', says: `Approximate KL between the sampling policy and the updated one: ${num(approxKl)} per update.`, hint: approxKl > 0.05 ? 'Large steps: the update changes the policy a lot per iteration; a lower learning rate or a target KL (early stop) makes it steadier.' : null });
  if (o.algorithm === 'ppo') {
    const ev = avg((m) => m.explainedVariance);
    signs.push({ id: 'explained-variance', says: Number.isFinite(ev) ? `The critic explains ${pct(ev)} of the returns' variance.` : 'No explained variance reported yet.', hint: ev < 0 ? "Below 0: the critic's guesses are worse than none, so the advantages are mostly noise; more value warm-up, or a smaller learning rate." : null });
  }
  signs.push({ id: 'settings', says: `In force: learning rate ${o.learningRate}${o.control ? '' : `, beta ${num(last.klCoef)}`}.`, hint: null });
  return signs;
}

/** The share of groups (G consecutive samples) whose rewards are all equal, from a batch. */
export function equalGroupShare(rewards: readonly number[], G: number): number | null {
  if (G < 2 || rewards.length < G) return null;
  let equal = 0;
  const groups = Math.floor(rewards.length / G);
  for (let g = 0; g < groups; g++) if (rewards.slice(g * G, (g + 1) * G).every((r) => r === rewards[g * G])) equal++;
  return equal / groups;
}
