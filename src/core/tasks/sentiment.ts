import type { FieldValue, Task } from './task.ts';
import { reward } from './rewardSource.ts';
import { shakespeare } from './shakespeare.ts';
import { splitWords } from './words.ts';
import { lazyPackage } from './lazy.ts';

/**
 * Sentiment (the detoxification idea): the Shakespeare policies again, now
 * rewarded by a sentiment classifier, VADER (Hutto and Gilbert 2014, the
 * `vader-sentiment` package: a lexicon of 7,500 rated words and rules for
 * negation, intensifiers and punctuation). Its compound score runs from -1
 * (most negative) to 1 (most positive).
 */
/** The corpus's 11,067 words (87 KB), loaded with VADER when the task is first used: a page that never opens it never loads them. */
const vocabulary = lazyPackage('Shakespeare word list', async () => new Set((await import('./shakespeareWords.ts')).SHAKESPEARE_WORDS.split(' ')));
const vader = lazyPackage('vader-sentiment', async () => (await import('vader-sentiment')).default.SentimentIntensityAnalyzer);

/** VADER's compound score of a text, from -1 (negative) to 1 (positive). */
export function sentimentScore(text: string): number {
  return vader.get().polarity_scores(text).compound;
}

/** The fields the sentiment rewards read, for one line. */
export function sentimentFields(text: string): Record<string, FieldValue> {
  const scores = vader.get().polarity_scores(text);
  const words = splitWords(text);
  const known = vocabulary.get();
  const unknown = words.filter((w) => !known.has(w));
  const distinctWords = words.length ? new Set(words).size / words.length : 1;
  return { sentiment: scores.compound, positive: scores.pos, negative: scores.neg, words: words.length, unknownWords: unknown.length, unknown, distinctWords };
}

export const sentiment: Task = {
  id: 'sentiment',
  title: 'Sentiment (Shakespeare)',
  description: 'The Shakespeare policies, rewarded by a sentiment classifier (VADER): make the verse kinder, or darker.',
  alphabet: shakespeare.alphabet,
  prompts: shakespeare.prompts,
  models: shakespeare.models,
  prepare: async () => {
    await Promise.all([vader.load(), vocabulary.load()]);
  },
  examples: {
    positive: {
      title: 'Positive lines',
      source: reward(
        "// VADER's compound score: -1 for the darkest line, 1 for the kindest. The classifier",
        '// reads the words, negations ("not good") and emphasis ("so good!"), never the metre:',
        '// the KL penalty to the reference is what keeps the lines sounding like Shakespeare.',
        '// helpers.sentiment runs the classifier outside the sandbox: try it on any text.',
        'return helpers.sentiment(sample.text);',
      ),
    },
    negative: {
      title: 'Negative lines',
      source: reward('// The same classifier, the other way: the gloomier the line, the higher the reward.', 'return -helpers.sentiment(sample.text);'),
    },
    positiveShakespeare: {
      title: 'Positive, but still Shakespeare',
      source: reward(
        '// Kindness, minus half a point for each word Shakespeare never wrote: a second',
        '// signal that guards fluency when the KL penalty alone lets invented words through.',
        'return helpers.sentiment(sample.text) - 0.5 * sample.fields.unknownWords;',
      ),
    },
  },
  // Most lines score 0 (no rated word): a sparse signal wants a larger step than the
  // Shakespeare task's 3e-4, and at 1e-3 the transformer collapsed to two-token lines.
  hyperparameters: { maxLength: 48, learningRate: 4e-4 },
  benchText: 'Sweet love, thou art kind and fair',
  explanation: {
    writes: 'A line of verse, character by character: the same pretrained policies as the Shakespeare task.',
    reward: "A sentiment classifier's judgement of the line (VADER's compound score, from -1 to 1), computed outside your code: helpers.sentiment(text) asks the classifier, and sample.fields.sentiment holds its answer for the sample.",
    why: 'Detoxifying a language model is RL against a classifier: the classifier is the computational feedback. Here it is small enough to read, and its blind spots show.',
    try: 'Train "Positive lines" and read the samples: kinder words, still verse? Then Reset, set klCoef to 0 with adaptiveKl off, and train again: within 30 iterations the lines chant "thanks thanks thanks" (see distinctWords on each sample, and the KL chart). Then "Positive, but still Shakespeare", which also punishes invented words.',
  },
  fields: {
    docs: {
      sentiment: "VADER's compound score of the line, from -1 (negative) to 1 (positive): helpers.sentiment(sample.text)",
      positive: 'share of the line VADER reads as positive (0 to 1)',
      negative: 'share of the line VADER reads as negative (0 to 1)',
      words: 'how many words the line has',
      unknownWords: 'how many of its words never occur in the Shakespeare corpus',
      unknown: 'those words, as a list',
      distinctWords: 'share of its words that are distinct (1: no word repeats; a line that chants "thanks thanks thanks" scores low)',
    },
    compute: (text) => sentimentFields(text),
  },
  helpers: {
    sentiment: {
      signature: 'sentiment(text)',
      doc: "VADER's compound score of any text, from -1 (most negative) to 1 (most positive); 0 when no word carries feeling",
      fn: (text) => {
        if (typeof text !== 'string') throw new TypeError(`text must be a string, got ${text === null ? 'null' : typeof text}`);
        return sentimentScore(text);
      },
    },
  },
};
