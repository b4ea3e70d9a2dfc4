import type { BackendName } from './names.ts';

/** A backend that may run here, or why it may not. */
export interface Candidate {
  name: BackendName;
  usable: boolean;
  /** What was found (an adapter, a renderer) or why it is left out. */
  detail: string;
}

/**
 * Picks among the usable candidates by measuring each (`measure` switches to it
 * and times a training step): the fastest wins. One usable candidate is taken
 * without measuring; none that works leaves cpu. The reason says what was
 * measured and what was left out, and why.
 */
export async function pickBackend(candidates: readonly Candidate[], measure: (name: BackendName) => Promise<number>): Promise<{ name: BackendName; reason: string }> {
  const usable = candidates.filter((c) => c.usable);
  const skipped = candidates.filter((c) => !c.usable).map((c) => `${c.name}: ${c.detail}`);
  if (usable.length === 1) return { name: usable[0].name, reason: [`the only one usable here`, ...skipped].join('; ') };
  const measured: { name: BackendName; ms: number }[] = [];
  for (const c of usable) {
    try {
      const ms = await measure(c.name);
      if (!Number.isFinite(ms)) throw new Error(`its training step took ${ms} ms`);
      measured.push({ name: c.name, ms });
    } catch (e) {
      skipped.push(`${c.name}: ${(e as Error).message}`);
    }
  }
  measured.sort((a, b) => a.ms - b.ms);
  const times = measured.map((m) => `${m.name} ${m.ms.toFixed(1)} ms`).join(', ');
  return {
    name: measured[0]?.name ?? 'cpu',
    reason: [times ? `fastest measured training step of this policy (${times})` : 'no faster backend worked', ...skipped].join('; '),
  };
}
