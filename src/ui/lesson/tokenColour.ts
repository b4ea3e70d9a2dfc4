/** Colours for numbers on tokens: a diverging scale (blue below 0, orange above), light enough for dark text at every value. */
const NEG = [147, 197, 253]; // #93c5fd
const POS = [253, 186, 116]; // #fdba74
const ZERO = [255, 255, 255];

export function colourFor(value: number, max: number): string {
  if (!Number.isFinite(value) || max <= 0) return 'rgb(243, 244, 246)';
  const f = Math.min(1, Math.abs(value) / max);
  const end = value < 0 ? NEG : POS;
  const c = ZERO.map((z, i) => Math.round(z + (end[i] - z) * f));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** The scale's half-width: the largest magnitude among the finite values (at least a tiny positive number). */
export function scaleOf(values: readonly number[]): number {
  let m = 0;
  for (const v of values) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  return m || 1e-12;
}

/** A token as shown: spaces and the end token made visible. */
export function tokenLabel(t: string): string {
  return t === '</s>' ? '⏎' : t === ' ' ? '␣' : t;
}

export function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return '–';
  if (x !== 0 && Math.abs(x) < 10 ** -digits) return x.toExponential(1);
  return x.toFixed(digits);
}
