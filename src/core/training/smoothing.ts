/**
 * Exponential moving average with bias correction (as TensorBoard smooths):
 * weight 0 returns the input, weight near 1 a slow trend. NaN entries are
 * carried through without disturbing the average.
 *
 * `restartAfter` lists iterations after which the average starts afresh (a new
 * reward: the old scores say nothing about the new ones, and averaging across
 * the change would draw a slow decay that looks like the policy got worse).
 * `x` gives each value's iteration.
 */
export function smooth(values: readonly number[], weight: number, x: readonly number[] = [], restartAfter: readonly number[] = []): number[] {
  if (weight <= 0) return [...values];
  const out: number[] = [];
  let last = 0;
  let n = 0;
  let segment = 0;
  values.forEach((v, i) => {
    const s = x.length ? restartAfter.filter((r) => x[i] > r).length : 0;
    if (s !== segment) {
      segment = s;
      last = 0;
      n = 0;
    }
    if (!Number.isFinite(v)) {
      out.push(v);
      return;
    }
    last = last * weight + (1 - weight) * v;
    n++;
    out.push(last / (1 - weight ** n));
  });
  return out;
}

/**
 * One column of a run's metrics, smoothed as `smooth` does, kept as rows are
 * appended: a new snapshot costs its new rows, not the whole history (seven
 * charts re-smoothing 36,000 iterations on every snapshot kept the page's main
 * thread busy 80-230 ms at a time). Any other change (a shorter or replaced
 * history, another weight, another restart) computes it afresh.
 */
export class SmoothedColumn<R> {
  #rows: readonly R[] = [];
  #weight = NaN;
  #restarts = '';
  #out: number[] = [];
  #last = 0;
  #n = 0;
  #segment = 0;

  constructor(
    private readonly pick: (row: R) => number,
    private readonly iterationOf: (row: R) => number,
  ) {}

  /**
   * The column of `rows`, smoothed by `weight` (0: as it is), starting afresh after
   * each iteration in `restartAfter`. The column itself, not a copy (copying 20
   * columns of 36,000 rows cost 20 ms a snapshot): it grows as rows are appended,
   * so copy what must stay as it is (thinning.ts does).
   */
  get(rows: readonly R[], weight: number, restartAfter: readonly number[] = []): number[] {
    const restarts = restartAfter.join(',');
    const seen = this.#rows.length;
    const appended = weight === this.#weight && restarts === this.#restarts && rows.length >= seen && (seen === 0 || rows[seen - 1] === this.#rows[seen - 1]);
    let from = seen;
    if (!appended) {
      this.#out = [];
      this.#last = 0;
      this.#n = 0;
      this.#segment = 0;
      this.#weight = weight;
      this.#restarts = restarts;
      from = 0;
    }
    for (let i = from; i < rows.length; i++) {
      const v = this.pick(rows[i]) ?? NaN;
      if (weight <= 0) {
        this.#out.push(v);
        continue;
      }
      const it = this.iterationOf(rows[i]);
      let s = 0;
      for (const r of restartAfter) if (it > r) s++;
      if (s !== this.#segment) {
        this.#segment = s;
        this.#last = 0;
        this.#n = 0;
      }
      if (!Number.isFinite(v)) {
        this.#out.push(v);
        continue;
      }
      this.#last = this.#last * weight + (1 - weight) * v;
      this.#n++;
      this.#out.push(this.#last / (1 - weight ** this.#n));
    }
    this.#rows = rows;
    return this.#out;
  }
}
