import { SampleHistory, type KeptBatch, type ShownSample } from '../../core/training/sampleHistory.ts';

/** What the sample views draw: a batch and the iteration it came from. */
export interface ShownBatch {
  iteration: number;
  samples: readonly ShownSample[];
  /** The batch shown is the latest, and follows training. */
  latest: boolean;
}

/**
 * The run's kept batches on the page (sampleHistory.ts) and which one is shown:
 * the latest (following training) until the slider or a click on a chart picks
 * an iteration. The history itself is not reactive (it can hold 20 MB); its
 * `version` is, and views re-read on it.
 */
export class RunHistory {
  readonly kept = new SampleHistory();
  version = $state(0);
  /** The iteration picked, or null to follow the latest. */
  picked = $state<number | null>(null);

  constructor(private readonly latest: () => { iteration: number; samples: readonly ShownSample[] }) {}

  /** The batch the views show now. */
  get shown(): ShownBatch {
    void this.version;
    const now = this.latest();
    if (this.picked === null || this.picked >= now.iteration) return { ...now, latest: true };
    const b = this.kept.at(this.picked);
    return b ? { iteration: b.iteration, samples: b.samples, latest: false } : { ...now, latest: true };
  }

  /** How many iterations are kept, the first of them, and what is kept in words: reactive (they re-read on `version`). */
  get size(): number {
    void this.version;
    return this.kept.size;
  }

  get first(): number | null {
    void this.version;
    return this.kept.iterations[0] ?? null;
  }

  get described(): string {
    void this.version;
    return this.kept.describe();
  }

  /** Shows iteration `iteration`'s batch (the nearest kept one when it was thinned); the latest one follows training again. */
  pick(iteration: number | null): void {
    const last = this.kept.latest;
    this.picked = iteration === null || last === null || iteration >= last ? null : Math.max(1, Math.round(iteration));
  }

  add(batches: readonly KeptBatch[]): void {
    if (batches.length === 0) return;
    for (const b of batches) this.kept.add(b);
    this.version++;
  }

  /** A restart resumed from iteration `last`: what came after is gone. */
  truncate(last: number): void {
    this.kept.truncate(last);
    if (this.picked !== null && this.picked > last) this.picked = null;
    this.version++;
  }

  restore(batches: readonly KeptBatch[], stride: number): void {
    this.kept.restore(batches, stride);
    this.picked = null;
    this.version++;
  }

  clear(): void {
    this.kept.clear();
    this.picked = null;
    this.version++;
  }
}
