/**
 * Points a chart draws at most: a 30-minute run of a fast task has tens of
 * thousands of iterations. Past this, each point stands for a run of
 * iterations: its last value (curves are smoothed before), the band's lowest
 * and highest.
 */
export const MAX_POINTS = 2000;
export function thin(x: number[], band: { lo: number[]; hi: number[] } | undefined, lines: number[][]): { x: number[]; lo?: number[]; hi?: number[]; lines: number[][] } {
  const n = x.length;
  // Copies, also when short: a column may grow after this (smoothing.ts) and a chart draws later (taskQueue.ts).
  if (n <= MAX_POINTS) return { x: x.slice(), lo: band?.lo.slice(), hi: band?.hi.slice(), lines: lines.map((l) => l.slice(0, n)) };
  const step = Math.ceil(n / MAX_POINTS);
  const ends = stretchEnds(n);
  const lo: number[] = [];
  const hi: number[] = [];
  if (band)
    for (const end of ends) {
      let a = Infinity;
      let b = -Infinity;
      for (let i = Math.max(0, end - step + 1); i <= end; i++) {
        if (band.lo[i] < a) a = band.lo[i];
        if (band.hi[i] > b) b = band.hi[i];
      }
      lo.push(a === Infinity ? NaN : a);
      hi.push(b === -Infinity ? NaN : b);
    }
  return { x: ends.map((i) => x[i]), lo: band ? lo : undefined, hi: band ? hi : undefined, lines: lines.map((v) => ends.map((i) => v[i])) };
}

/** The indices a thinned series keeps of `n` points: the last of each stretch, the very last always (all of them when `n` is at most MAX_POINTS). */
export function stretchEnds(n: number): number[] {
  const step = Math.max(1, Math.ceil(n / MAX_POINTS));
  const ends: number[] = [];
  for (let end = n - 1; end >= 0; end -= step) ends.push(end);
  return ends.reverse();
}
