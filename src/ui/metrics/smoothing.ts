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
