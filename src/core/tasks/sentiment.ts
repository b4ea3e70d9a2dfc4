import vader from 'vader-sentiment';
import type { FieldValue, Task } from '../tasks.ts';
import { reward } from './rewardSource.ts';
import { shakespeare } from './shakespeare.ts';
import { SHAKESPEARE_WORDS } from './shakespeareWords.ts';
import { splitWords } from './words.ts';

/**
 * Sentiment (the detoxification idea): the Shakespeare policies again, now
 * rewarded by a sentiment classifier, VADER (Hutto and Gilbert 2014, the
 * `vader-sentiment` package: a lexicon of 7,500 rated words and rules for
 * negation, intensifiers and punctuation). Its compound score runs from -1
 * (most negative) to 1 (most positive).
 */
const VOCABULARY = new Set(SHAKESPEARE_WORDS.split(' '));

/** The fields the sentiment rewards read, for one line. */
export function sentimentFields(text: string): Record<string, FieldValue> {
  const scores = vader.SentimentIntensityAnalyzer.polarity_scores(text);
  const words = splitWords(text);
  const unknown = words.filter((w) => !VOCABULARY.has(w));
  return { sentiment: scores.compound, positive: scores.pos, negative: scores.neg, words: words.length, unknownWords: unknown.length, unknown };
}

export const sentiment: Task = {
  id: 'sentiment',
  title: 'Sentiment (Shakespeare)',
  description: 'The Shakespeare policies, rewarded by a sentiment classifier (VADER): make the verse kinder, or darker.',
  alphabet: shakespeare.alphabet,
  prompts: shakespeare.prompts,
  models: shakespeare.models,
  examples: {
    positive: {
      title: 'Positive lines',
      source: reward(
        "// VADER's compound score: -1 for the darkest line, 1 for the kindest. The classifier",
        '// reads the words, negations ("not good") and emphasis ("so good!"), never the metre:',
        '// the KL penalty to the reference is what keeps the lines sounding like Shakespeare.',
        'return sample.fields.sentiment;',
      ),
    },
    negative: {
      title: 'Negative lines',
      source: reward('// The same classifier, the other way: the gloomier the line, the higher the reward.', 'return -sample.fields.sentiment;'),
    },
    positiveShakespeare: {
      title: 'Positive, but still Shakespeare',
      source: reward(
        '// Kindness, minus half a point for each word Shakespeare never wrote: a second',
        '// signal that guards fluency when the KL penalty alone lets invented words through.',
        'return sample.fields.sentiment - 0.5 * sample.fields.unknownWords;',
      ),
    },
  },
  // Most lines score 0 (no rated word): a sparse signal wants a larger step than the
  // Shakespeare task's 3e-4, and at 1e-3 the transformer collapsed to two-token lines.
  hyperparameters: { maxLength: 48, learningRate: 4e-4 },
  benchText: 'Sweet love, thou art kind and fair',
  explanation: {
    writes: 'A line of verse, character by character: the same pretrained policies as the Shakespeare task.',
    reward: "A sentiment classifier's judgement of the line (VADER's compound score, from -1 to 1), computed outside your code and handed to it as sample.fields.sentiment.",
    why: 'Detoxifying a language model is RL against a classifier: the classifier is the computational feedback. Here it is small enough to read, and its blind spots show.',
    try: 'Train "Positive lines" and read the samples: kinder words, still verse? Lower the KL coefficient and watch fluency go. Then "Positive, but still Shakespeare", which also punishes invented words.',
  },
  fields: {
    docs: {
      sentiment: "VADER's compound score of the line, from -1 (negative) to 1 (positive)",
      positive: 'share of the line VADER reads as positive (0 to 1)',
      negative: 'share of the line VADER reads as negative (0 to 1)',
      words: 'how many words the line has',
      unknownWords: 'how many of its words never occur in the Shakespeare corpus',
      unknown: 'those words, as a list',
    },
    compute: (text) => sentimentFields(text),
  },
};
