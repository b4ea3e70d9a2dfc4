/**
 * Exponential moving average with bias correction (as TensorBoard smooths):
 * weight 0 returns the input, weight near 1 a slow trend. NaN entries are
 * carried through without disturbing the average.
 */
export function smooth(values: readonly number[], weight: number): number[] {
  if (weight <= 0) return [...values];
  const out: number[] = [];
  let last = 0;
  let n = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) {
      out.push(v);
      continue;
    }
    last = last * weight + (1 - weight) * v;
    n++;
    out.push(last / (1 - weight ** n));
  }
  return out;
}
