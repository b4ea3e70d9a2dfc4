import type { ChartMarker } from '../../core/training/metrics.ts';

export type { ChartMarker };

/** One line per iteration: changes made between the same two iterations share it, labels joined. */
export function mergeMarkers(markers: readonly ChartMarker[]): { iteration: number; label: string }[] {
  const byIteration = new Map<number, string[]>();
  for (const m of markers) byIteration.set(m.iteration, [...(byIteration.get(m.iteration) ?? []), m.label]);
  return [...byIteration.entries()].sort((a, b) => a[0] - b[0]).map(([iteration, labels]) => ({ iteration, label: labels.join('; ') }));
}
