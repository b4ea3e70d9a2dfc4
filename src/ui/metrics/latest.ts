import type { IterationMetrics } from '../../core/training/metrics.ts';

/**
 * The latest mean reward there is. A control task's iteration in which no
 * episode ended has none (its mean is NaN): the header then shows the last
 * iteration's that had one, and says which.
 */
export function latestReward(metrics: readonly Pick<IterationMetrics, 'iteration' | 'rewardMean'>[]): { value: number; iteration: number; stale: boolean } | null {
  for (let i = metrics.length - 1; i >= 0; i--) {
    if (Number.isFinite(metrics[i].rewardMean)) return { value: metrics[i].rewardMean, iteration: metrics[i].iteration, stale: i !== metrics.length - 1 };
  }
  return null;
}

/** The last index at which any series has a value (series hold null where there is none), or -1. */
export function lastIndexWithValue(series: readonly ArrayLike<number | null | undefined>[]): number {
  const n = Math.max(0, ...series.map((s) => s.length));
  for (let i = n - 1; i >= 0; i--) if (series.some((s) => s[i] != null)) return i;
  return -1;
}
