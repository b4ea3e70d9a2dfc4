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

/** How each built-in helper is called and what it does: the docs beside the editor are drawn from this (every helper listed, checked by type). */
export const REWARD_HELPER_DOCS: Readonly<Record<keyof RewardHelpers, { signature: string; doc: string }>> = {
  clamp: { signature: 'clamp(x, lo, hi)', doc: 'x limited to [lo, hi]' },
  count: { signature: 'count(text, part)', doc: 'how often part occurs in text (non-overlapping)' },
  vowels: { signature: 'vowels(text)', doc: 'the number of vowels (a, e, i, o, u, y)' },
  distinct: { signature: 'distinct(text)', doc: 'the share of distinct characters (1: no repeats; 0 for empty text)' },
  palindrome: { signature: 'palindrome(text)', doc: '1 when text reads the same backwards, else 0' },
};

/** What reward code may receive besides these: a function a task offers (`helpers.<name>(...)`), run by the task's trusted code; arguments and results cross as plain data. */
export interface HostedHelper {
  /** How a call reads, e.g. "sentiment(text)". */
  signature: string;
  doc: string;
  fn(...args: unknown[]): unknown;
}

/**
 * Where the tasks' helpers come from. The task registry (tasks/index.ts) provides
 * them when it loads, so that this folder, below the tasks, never imports them.
 */
interface HelperSource {
  prepare(): Promise<void>;
  helpers(): Readonly<Record<string, HostedHelper>>;
}
let source: HelperSource = { prepare: () => Promise.resolve(), helpers: () => ({}) };
const listeners: (() => void)[] = [];

export function provideHelpers(s: HelperSource): void {
  source = s;
  for (const l of listeners) l();
}

/** Loads what the hosted helpers need (a package behind a dynamic import). */
export function prepareHostedHelpers(): Promise<void> {
  return source.prepare();
}

export function hostedHelpers(): Readonly<Record<string, HostedHelper>> {
  return source.helpers();
}

/** Calls `f` whenever another source of helpers is provided (a cache of them is then stale). */
export function onHelpersProvided(f: () => void): void {
  listeners.push(f);
}
