import type { Task } from './task.ts';
import { reward } from './rewardSource.ts';

/**
 * A person's own corpus as a task: a text file of one item a line (names,
 * short lines, commands, product titles), checked and summarised here, a
 * small policy pretrained on it (training/corpusPretraining.ts), then offered
 * beside the shipped tasks as "Your corpus: <file name>". The same code reads
 * a dropped file in the page and `--corpus FILE` on the command line.
 */

export const CORPUS_LIMITS = {
  /** The largest file read: a few MB of short lines is hundreds of thousands of items. */
  maxBytes: 8 * 1024 * 1024,
  /** Longer lines are left out: the policy writes one item, not a paragraph. */
  maxLineLength: 64,
  /** The most symbols the policy writes; rarer characters are outside its alphabet. */
  maxAlphabet: 96,
  /** More distinct characters than this is not one item a line in one script (or not text). */
  maxDistinct: 200,
  /** Fewer kept lines than this is too little to learn from. */
  minLines: 20,
} as const;

/** What a corpus is, as the page shows it before pretraining and a link names it. */
export interface CorpusStats {
  /** The file's name, as dropped or given. */
  name: string;
  /** Identifies the kept lines (not the file's bytes): the same lines give the same task, whichever file holds them. */
  hash: string;
  bytes: number;
  /** Non-empty lines in the file. */
  lines: number;
  /** Lines the policy learns from. */
  kept: number;
  /** The symbols the policy writes, in code point order. */
  alphabet: string;
  /** Kept lines by length: histogram[n] lines of n characters (index 0 unused). */
  histogram: number[];
  longest: number;
  /** Lines left out for being longer than maxLineLength. */
  tooLong: number;
  /** Lines left out for holding a character outside the alphabet, and the commonest such characters with their counts. */
  outside: number;
  outsideChars: [string, number][];
  /** The first kept line: what the test bench holds when the task opens. */
  example: string;
}

/** A file that cannot be a corpus; the message names the file and what was wrong. */
export class CorpusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorpusError';
  }
}

const CORPUS_PREFIX = 'corpus-';

export function isCorpusTaskId(id: string): boolean {
  return id.startsWith(CORPUS_PREFIX);
}

export function corpusTaskId(hash: string): string {
  return `${CORPUS_PREFIX}${hash}`;
}

const count = (n: number) => n.toLocaleString('en-US');
const shown = (c: string) => (/[\p{L}\p{N}\p{P}\p{S}]/u.test(c) ? c : `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);

/**
 * Reads a corpus file: UTF-8 text, one item a line (trimmed; empty lines
 * skipped). Lines longer than maxLineLength are left out; when more than
 * maxAlphabet distinct characters remain, the commonest make the alphabet and
 * lines holding any other are left out. Throws a CorpusError naming what was
 * wrong: not text, empty, too large, no line short enough, too many distinct
 * characters, too few lines.
 */
export function readCorpus(name: string, bytes: Uint8Array): { text: string; stats: CorpusStats } {
  const label = JSON.stringify(name);
  if (bytes.length === 0) throw new CorpusError(`${label} is empty: a corpus is a text file of one item a line (names, short lines, commands)`);
  if (bytes.length > CORPUS_LIMITS.maxBytes) throw new CorpusError(`${label} is ${(bytes.length / 1048576).toFixed(1)} MB: a corpus may be at most ${CORPUS_LIMITS.maxBytes / 1048576} MB`);
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) throw new CorpusError(`${label} is UTF-16 text: save it as UTF-8 (plain text), one item a line`);
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new CorpusError(`${label} is not a text file: it holds a zero byte (at byte ${count(nul)}), as binary files do`);
  let raw: string;
  try {
    raw = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CorpusError(`${label} is not UTF-8 text: save it as UTF-8 (plain text), one item a line`);
  }
  const all = raw.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/).map((l) => l.trim()).filter(Boolean);
  if (all.length === 0) throw new CorpusError(`${label} has no text, only blank lines`);
  // Lengths in characters (code points), each counted once; loops, not Math.max(...lines): a file may hold a million lines.
  const lengths = all.map(codePoints);
  const short = all.filter((_, i) => lengths[i] <= CORPUS_LIMITS.maxLineLength);
  const tooLong = all.length - short.length;
  if (short.length === 0) {
    throw new CorpusError(`${label} has no line of ${CORPUS_LIMITS.maxLineLength} characters or fewer (${all.length === 1 ? 'it is one line' : `its shortest of ${count(all.length)} lines is ${count(extreme(lengths, -1))}`} of up to ${count(extreme(lengths, 1))} characters): a corpus is one item a line`);
  }
  const freq = new Map<string, number>();
  for (const l of short) for (const c of l) freq.set(c, (freq.get(c) ?? 0) + 1);
  if (freq.size > CORPUS_LIMITS.maxDistinct) {
    throw new CorpusError(`${label} has ${count(freq.size)} distinct characters: a corpus of one item a line in one script has at most ${CORPUS_LIMITS.maxDistinct} (the policy writes the ${CORPUS_LIMITS.maxAlphabet} commonest)`);
  }
  const byUse = [...freq].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const symbols = new Set(byUse.slice(0, CORPUS_LIMITS.maxAlphabet).map(([c]) => c));
  const outsideChars = byUse.slice(CORPUS_LIMITS.maxAlphabet).slice(0, 10);
  const kept = short.filter((l) => [...l].every((c) => symbols.has(c)));
  if (kept.length < CORPUS_LIMITS.minLines) {
    const left = [tooLong && `${count(tooLong)} longer than ${CORPUS_LIMITS.maxLineLength} characters`, short.length > kept.length && `${count(short.length - kept.length)} with characters outside the ${CORPUS_LIMITS.maxAlphabet} commonest`].filter(Boolean);
    throw new CorpusError(`${label} has ${count(kept.length)} usable line${kept.length === 1 ? '' : 's'}${left.length ? ` (left out: ${left.join('; ')})` : ''}: a policy needs at least ${CORPUS_LIMITS.minLines} to learn from`);
  }
  const used = new Set<string>();
  for (const l of kept) for (const c of l) used.add(c);
  const alphabet = [...used].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!).join('');
  const keptLengths = kept.map(codePoints);
  const longest = extreme(keptLengths, 1);
  const histogram = new Array<number>(longest + 1).fill(0);
  for (const n of keptLengths) histogram[n]++;
  const text = kept.join('\n');
  return {
    text,
    stats: {
      name: name.length > MAX_NAME ? `${name.slice(0, MAX_NAME - 1)}…` : name,
      hash: hashText(text),
      bytes: bytes.length,
      lines: all.length,
      kept: kept.length,
      alphabet,
      histogram,
      longest,
      tooLong,
      outside: short.length - kept.length,
      outsideChars: outsideChars.map(([c, n]) => [shown(c), n]),
      example: kept[0],
    },
  };
}

/** A file name as experiments carry it (longer ones are cut). */
const MAX_NAME = 200;

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** The largest (sign 1) or smallest (sign -1) of many numbers, without spreading them into arguments. */
function extreme(xs: readonly number[], sign: 1 | -1): number {
  let best = xs[0];
  for (const x of xs) if (sign * x > sign * best) best = x;
  return best;
}

/** cyrb53 of the text's UTF-16 units, as 14 hex digits: the same lines, the same hash, in every browser and in Node. */
export function hashText(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

/** The policy's recipe on a corpus: the names MLP's shape, fewer steps (it trains in the page while a person waits). */
export const CORPUS_RECIPE = { steps: 1500, batchSize: 64, learningRate: 3e-3 } as const;

/**
 * A corpus as a task: its alphabet, no prompt, an MLP reference policy
 * pretrained on it (stored in the browser, not shipped), and the text task's
 * example rewards, which read only the completion's text.
 */
export function corpusTask(stats: CorpusStats): Task {
  const id = corpusTaskId(stats.hash);
  const vowels = /[aeiouy]/i.test(stats.alphabet);
  return {
    id,
    title: `Your corpus: ${stats.name}`,
    description: `A policy pretrained here on ${count(stats.kept)} lines of ${stats.name}; reward shapes what it writes.`,
    alphabet: stats.alphabet,
    prompts: [''],
    models: { mlp: `${id}-mlp` },
    archs: ['mlp'],
    corpus: { name: stats.name, hash: stats.hash, lines: stats.kept },
    examples: {
      length: { title: 'Longer lines', source: reward('// Longer lines score higher.', 'return sample.text.length;') },
      short: {
        title: 'Shorter lines (lesson: reward hacking)',
        source: reward('// Short lines, but not empty ones: watch the alarm once the policy writes\n// lines the reference would almost never write.', 'return sample.text.length === 0 ? -5 : -sample.text.length;'),
      },
      ...(vowels ? { vowels: { title: 'Vowel-rich lines', source: reward('// The share of vowels in the line.', 'const n = sample.text.length;', 'return n === 0 ? 0 : ctx.helpers.vowels(sample.text) / n;') } } : {}),
      distinct: { title: 'Many different symbols', source: reward('// The number of different symbols in the line.', 'return new Set(sample.text).size;') },
    },
    hyperparameters: { maxLength: Math.min(CORPUS_LIMITS.maxLineLength, stats.longest + 1) },
    benchText: stats.example,
    explanation: {
      writes: `One line, character by character (${[...stats.alphabet].length} symbols), then a stop token: the reference policy learnt this here from the ${count(stats.kept)} lines of ${stats.name}.`,
      reward: 'Whatever your function computes from the line: its length, its symbols, the words it uses.',
      why: 'Your own data, your own measure: the function is the whole feedback, and the KL penalty keeps the policy writing lines like yours.',
      try: 'Train "Longer lines", then write a reward for what you want more of in your lines, and check it on the test bench first.',
    },
  };
}
