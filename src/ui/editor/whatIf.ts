import { meanStd } from '../../core/training/metrics.ts';

/** What a draft reward would change on the batch on screen: ranks, agreement with the reward in force, spread, the samples that moved most. */
export interface WhatIf {
  /** Samples whose rank (1 = best) differs under the draft. */
  rankChanges: number;
  count: number;
  /** Spearman's correlation between the two rankings (NaN when either reward is constant). */
  correlation: number;
  before: { mean: number; std: number };
  after: { mean: number; std: number };
  /** The samples whose rank moved most: index in the batch, text, rank before and after, reward before and after. */
  moved: { index: number; text: string; rankBefore: number; rankAfter: number; before: number; after: number }[];
}

/** Ranks, 1 = highest; ties share their mean rank (for Spearman's correlation). */
function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => ({ x, i })).sort((a, b) => b.x - a.x);
  const r = new Array<number>(xs.length);
  for (let k = 0; k < order.length; ) {
    let j = k;
    while (j + 1 < order.length && order[j + 1].x === order[k].x) j++;
    for (let m = k; m <= j; m++) r[order[m].i] = (k + j) / 2 + 1;
    k = j + 1;
  }
  return r;
}

function pearson(a: readonly number[], b: readonly number[]): number {
  const [ma, mb] = [meanStd(a), meanStd(b)];
  if (ma.std === 0 || mb.std === 0) return NaN;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - ma.mean) * (b[i] - mb.mean);
  return s / a.length / (ma.std * mb.std);
}

export function whatIf(samples: readonly { index: number; text: string }[], before: readonly number[], after: readonly number[], shown = 3): WhatIf {
  const [rb, ra] = [ranks(before), ranks(after)];
  const moved = samples
    .map((s, i) => ({ index: s.index, text: s.text, rankBefore: rb[i], rankAfter: ra[i], before: before[i], after: after[i] }))
    .filter((m) => m.rankBefore !== m.rankAfter)
    .sort((x, y) => Math.abs(y.rankAfter - y.rankBefore) - Math.abs(x.rankAfter - x.rankBefore) || x.index - y.index);
  const spread = (xs: readonly number[]) => {
    const { mean, std } = meanStd(xs);
    return { mean, std };
  };
  return { rankChanges: moved.length, count: samples.length, correlation: pearson(rb, ra), before: spread(before), after: spread(after), moved: moved.slice(0, shown) };
}
