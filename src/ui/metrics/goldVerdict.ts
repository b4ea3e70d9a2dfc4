import type { RewardSpec } from '../../core/reward/sandbox/types.ts';
import { goldName } from '../../core/training/learntReward.ts';
import type { IterationMetrics } from '../../core/training/metrics.ts';
import { stretchEnds } from '../../core/training/thinning.ts';

/** How a proxy and its gold moved over a run's rows (indices into both, in iteration order): each one's move from its first tenth to its last, and where the gold peaked. */
export interface GoldVerdict {
  dp: number;
  dg: number;
  /** The row where the gold peaked. */
  peak: number;
  /** The gold peaked inside the run and fell while the proxy rose: over-optimisation. */
  turned: boolean;
  /** The gold fell from the start while the proxy rose. */
  fromStart: boolean;
}

/** Null with fewer than 6 rows: too few to say. */
export function goldVerdict(rows: readonly number[], proxy: readonly number[], gold: readonly number[]): GoldVerdict | null {
  if (rows.length < 6) return null;
  const n = Math.max(1, Math.floor(rows.length / 10));
  const mean = (ys: readonly number[], idx: readonly number[]) => idx.reduce((a, i) => a + ys[i], 0) / idx.length;
  const [first, last] = [rows.slice(0, n), rows.slice(-n)];
  const dp = mean(proxy, last) - mean(proxy, first);
  const dg = mean(gold, last) - mean(gold, first);
  const gs = rows.map((i) => gold[i]);
  const spread = Math.max(...gs) - Math.min(...gs);
  const peak = rows.reduce((b, i) => (gold[i] > gold[b] ? i : b), rows[0]);
  const fell = gold[peak] - mean(gold, last) > 0.1 * (spread > 0 ? spread : 1);
  const turned = dp > 0 && fell && peak !== rows.at(-1) && peak !== rows[0];
  const fromStart = dp > 0 && fell && peak === rows[0];
  return { dp, dg, peak, turned, fromStart };
}

/**
 * Learnt components whose judge's score (the gold) turned down while the reward
 * model's (the proxy) kept rising, since iteration `from`: each series read at
 * most MAX_POINTS times (the charts' thinning) and smoothed (an exponential
 * moving average) before the verdict. Runs on every snapshot: nothing here
 * reads the whole history of a long run.
 */
export function overOptimised(metrics: readonly IterationMetrics[], rewards: readonly RewardSpec[], from: number): { name: string; gold: string; iteration: number; kl: number }[] {
  const judged = rewards.filter((r) => r.learn && r.learn.from !== 'person' && r.weight !== 0);
  if (!judged.length) return [];
  let lo = 0;
  let hi = metrics.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (metrics[mid].iteration > from) hi = mid;
    else lo = mid + 1;
  }
  const rows = stretchEnds(metrics.length - lo).map((i) => metrics[lo + i]);
  const alpha = Math.min(1, 0.1 * Math.max(1, (metrics.length - lo) / Math.max(1, rows.length)));
  const out = [];
  for (const r of judged) {
    const gold = goldName(r.name);
    const ema = (f: (m: IterationMetrics) => number) => {
      let s = NaN;
      return rows.map((m) => {
        const v = f(m);
        return (s = !Number.isFinite(v) ? s : Number.isFinite(s) ? (1 - alpha) * s + alpha * v : v);
      });
    };
    const proxy = ema((m) => (m.rewardComponents[r.name] ?? NaN) * Math.sign(r.weight));
    const g = ema((m) => m.rewardComponents[gold] ?? NaN);
    const kept = rows.map((_, i) => i).filter((i) => Number.isFinite(proxy[i]) && Number.isFinite(g[i]) && Number.isFinite(rows[i].kl));
    const v = goldVerdict(kept, proxy, g);
    if (v?.turned) out.push({ name: r.name, gold, iteration: rows[v.peak].iteration, kl: rows[v.peak].kl });
  }
  return out;
}
