import type { ScoredSample } from './runState.ts';

// Every iteration's batch, kept for the whole run within a byte budget: what
// the history slider, a click on a chart, the search across iterations and
// the JSONL export read, and what a saved run keeps. Past the budget, old
// iterations are thinned evenly (every 2nd, then every 4th, ...) while the
// latest few stay whole; the run says so.

/** A sample as a view draws it: the latest batch's samples and the kept ones alike. */
export type ShownSample = Omit<ScoredSample, 'tokens'>;

/** A sample as the history keeps it: what the page shows of it, without its token ids (or a picture's pixels: the painter's view paints them from the text). */
export type KeptSample = Omit<ShownSample, 'pixels' | 'width' | 'height'> & { /** Completion length in tokens (stop token excluded). */ length: number };

/** One iteration's batch, as kept. */
export interface KeptBatch {
  iteration: number;
  samples: KeptSample[];
  /** Its size as stored (JSON characters): what the budget counts. */
  bytes: number;
}

/** A run's history budget: 20 MB of JSON a run, as the issue asked. */
export const HISTORY_BUDGET = 20_000_000;
/** The latest iterations are never thinned: the recent past at full detail. */
export const RECENT = 20;

/** A batch as the history keeps it (and its size): built where the batch is made, so the page never measures it. */
export function keepBatch(iteration: number, samples: readonly ScoredSample[]): KeptBatch {
  const kept = samples.map(({ tokens, pixels: _pixels, width: _width, height: _height, ...rest }) => ({ ...rest, length: tokens.length }));
  return { iteration, samples: kept, bytes: JSON.stringify(kept).length };
}

/** Whether `iteration` is kept at thinning `stride` (iteration 1 always is). */
const onStride = (iteration: number, stride: number) => (iteration - 1) % stride === 0;

export class SampleHistory {
  #batches = new Map<number, KeptBatch>();
  /** Iterations in order (ascending). */
  #order: number[] = [];
  #bytes = 0;
  /** Every `stride`-th iteration is kept beyond the recent ones: 1 until the budget is first reached. */
  stride = 1;
  /** Bumped on every change: what a view of the history re-reads on. */
  version = 0;

  constructor(readonly budget = HISTORY_BUDGET) {}

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#order.length;
  }

  /** The iterations kept, ascending. */
  get iterations(): readonly number[] {
    return this.#order;
  }

  get latest(): number | null {
    return this.#order.at(-1) ?? null;
  }

  /** Adds an iteration's batch (a batch for an iteration already kept replaces it, as after a restart that ran it again). */
  add(batch: KeptBatch): void {
    if (this.#batches.has(batch.iteration)) this.#remove(batch.iteration);
    if (batch.iteration < (this.latest ?? 0)) this.truncate(batch.iteration - 1);
    this.#batches.set(batch.iteration, batch);
    this.#order.push(batch.iteration);
    this.#bytes += batch.bytes;
    // The batch that just left the recent window goes unless it lies on the stride.
    const left = this.#order.at(-1 - RECENT);
    if (left !== undefined && !onStride(left, this.stride)) this.#remove(left);
    while (this.#bytes > this.budget && this.#order.length > RECENT + 1) this.#thin();
    this.version++;
  }

  /** The batch of `iteration` when kept; otherwise the nearest kept one before it (or after, before the first). */
  at(iteration: number): KeptBatch | null {
    const exact = this.#batches.get(iteration);
    if (exact) return exact;
    let best: number | null = null;
    for (const it of this.#order) {
      if (it <= iteration) best = it;
      else {
        best ??= it;
        break;
      }
    }
    return best === null ? null : this.#batches.get(best)!;
  }

  /** Every kept batch, in order. */
  *batches(): Generator<KeptBatch> {
    for (const it of this.#order) yield this.#batches.get(it)!;
  }

  /** Drops every iteration after `last` (a restart resumed from an earlier state). */
  truncate(last: number): void {
    for (const it of this.#order.filter((i) => i > last)) this.#remove(it);
    this.version++;
  }

  clear(): void {
    this.#batches.clear();
    this.#order = [];
    this.#bytes = 0;
    this.stride = 1;
    this.version++;
  }

  /** Puts back a saved history (in any order), thinned as it was. */
  restore(batches: readonly KeptBatch[], stride = 1): void {
    this.clear();
    this.stride = stride;
    for (const b of [...batches].sort((a, b) => a.iteration - b.iteration)) {
      this.#batches.set(b.iteration, b);
      this.#order.push(b.iteration);
      this.#bytes += b.bytes;
    }
    while (this.#bytes > this.budget && this.#order.length > RECENT + 1) this.#thin();
    this.version++;
  }

  /** What is kept, in words: how many iterations, how large, and whether old ones were thinned. */
  describe(): string {
    const mb = (this.#bytes / 1e6).toFixed(this.#bytes < 1e7 ? 1 : 0);
    const n = this.#order.length;
    const base = `${n} iteration${n === 1 ? '' : 's'} kept (${mb} of ${this.budget / 1e6} MB)`;
    return this.stride === 1 ? base : `${base}; past the budget, every ${ordinal(this.stride)} iteration is kept before the last ${RECENT}`;
  }

  /** Doubles the stride and drops what no longer lies on it (the recent window excepted). */
  #thin(): void {
    this.stride *= 2;
    const recent = new Set(this.#order.slice(-RECENT));
    for (const it of this.#order.filter((i) => !recent.has(i) && !onStride(i, this.stride))) this.#remove(it);
  }

  #remove(iteration: number): void {
    const b = this.#batches.get(iteration);
    if (!b) return;
    this.#batches.delete(iteration);
    this.#order.splice(this.#order.indexOf(iteration), 1);
    this.#bytes -= b.bytes;
  }
}

function ordinal(n: number): string {
  return n === 2 ? '2nd' : n === 3 ? '3rd' : `${n}th`;
}
