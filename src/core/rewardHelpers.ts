/** Small helpers every reward function gets as `ctx.helpers` (and `helpers` in editor code). */
export const rewardHelpers = {
  /** Limits x to [lo, hi]. */
  clamp: (x: number, lo: number, hi: number): number => Math.min(Math.max(x, lo), hi),
  /** How often `part` occurs in `text` (non-overlapping). */
  count: (text: string, part: string): number => (part ? text.split(part).length - 1 : 0),
  /** Number of vowels (a, e, i, o, u, y) in `text`. */
  vowels: (text: string): number => (text.match(/[aeiouy]/gi) ?? []).length,
  /** Fraction of distinct characters in `text` (1: no repeats; 0 for empty text). */
  distinct: (text: string): number => (text.length ? new Set(text).size / text.length : 0),
  /** 1 when text reads the same backwards, else 0. */
  palindrome: (text: string): number => (text.length > 0 && text === [...text].reverse().join('') ? 1 : 0),
};

export type RewardHelpers = typeof rewardHelpers;
