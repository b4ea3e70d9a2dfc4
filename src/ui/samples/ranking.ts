import type { ShownSample } from '../../core/training/sampleHistory.ts';

export type SortOrder = 'reward-desc' | 'reward-asc' | 'batch';

export interface RankedSample extends ShownSample {
  /** Competition rank by reward, 1 = highest: equal rewards share a rank. */
  rank: number;
  /** Another sample has exactly the same reward. */
  tied: boolean;
  /** Highest (lowest) reward of the batch, when not every sample scored the same. */
  best: boolean;
  worst: boolean;
}

/** Every sample with its rank, ties shown as ties, in the order asked for (ties keep batch order). */
export function rankSamples(samples: readonly ShownSample[], order: SortOrder): RankedSample[] {
  const counts = new Map<number, number>();
  for (const s of samples) counts.set(s.reward, (counts.get(s.reward) ?? 0) + 1);
  const distinct = [...counts.keys()].sort((a, b) => b - a);
  // Rank = 1 + the number of samples that scored strictly higher.
  const rankOf = new Map<number, number>();
  let above = 0;
  for (const r of distinct) {
    rankOf.set(r, above + 1);
    above += counts.get(r)!;
  }
  const spread = distinct.length > 1;
  const ranked = samples.map((s) => ({
    ...s,
    rank: rankOf.get(s.reward)!,
    tied: counts.get(s.reward)! > 1,
    best: spread && s.reward === distinct[0],
    worst: spread && s.reward === distinct.at(-1),
  }));
  if (order === 'batch') return ranked;
  const sign = order === 'reward-desc' ? -1 : 1;
  return ranked.sort((a, b) => sign * (a.reward - b.reward) || a.index - b.index);
}
