import type { RewardSpec } from '../reward/sandbox/types.ts';
import { reward } from './rewardSource.ts';
import { protocol } from './protocol.ts';

/**
 * Proxy against gold, one example per text task: the reward that trains (the
 * proxy, weight 1) is something cheap that correlates with what is wanted; the
 * gold (weight 0, held out: charted, never trained on) is closer to what is
 * wanted. Optimised hard, the proxy keeps rising while the gold levels off or
 * falls: Goodhart's law, as in reward-model over-optimisation.
 */
export interface GoldExample {
  title: string;
  /** What to watch, in a sentence. */
  says: string;
  /** [proxy (weight 1), gold (weight 0)]. */
  rewards: [RewardSpec, RewardSpec];
}

const pair = (proxy: string, proxySource: string, gold: string, goldSource: string): [RewardSpec, RewardSpec] => [
  { name: proxy, weight: 1, source: proxySource },
  { name: gold, weight: 0, source: goldSource },
];

export const GOLD_EXAMPLES: Readonly<Record<string, GoldExample>> = {
  names: {
    title: 'Vowels (trained) against a name a person could say (gold)',
    says: 'The share of vowels rises; names like "aeiaya" score high on it, and the gold (no run of three vowels or three consonants) falls.',
    rewards: pair(
      'vowels',
      reward('// Proxy: the share of vowels in the name.', 'const n = sample.text.length;', 'return n === 0 ? 0 : helpers.vowels(sample.text) / n;'),
      'sayable',
      reward(
        '// Gold (weight 0: charted, never trained on): could a person say it? A name of',
        '// two letters or more, with a vowel, loses a share for every run of three vowels',
        '// or three consonants in a row.',
        'const t = sample.text;',
        'if (t.length < 2 || !/[aeiouy]/.test(t)) return 0;',
        'const runs = (t.match(/[aeiouy]{3,}|[^aeiouy]{3,}/g) ?? []).length;',
        'return Math.max(0, 1 - runs / Math.ceil(t.length / 3));',
      ),
    ),
  },
  shakespeare: {
    title: 'Exclamations (trained) against lines of real-looking words (gold)',
    says: 'Exclamation marks pile up; the gold, the share of words that look like words, falls once they crowd the line.',
    rewards: pair(
      'exclaims',
      reward('// Proxy: passion, counted as exclamation marks.', "return helpers.count(sample.text, '!');"),
      'wordlike',
      reward(
        '// Gold (weight 0): the share of the line made of word-like words (letters and',
        "// apostrophes, a vowel, at most 12 letters), out of everything between spaces.",
        'const parts = sample.text.split(/\\s+/).filter(Boolean);',
        "const ok = parts.filter((w) => /^[A-Za-z']{1,12}[,.;:]?$/.test(w) && /[aeiouy]/i.test(w)).length;",
        'return parts.length ? ok / parts.length : 0;',
      ),
    ),
  },
  sentiment: {
    title: 'Positive (trained) against still Shakespeare (gold)',
    says: "VADER's score climbs; the gold (words Shakespeare used, none repeated) says whether the lines stay Shakespeare: at the default KL penalty it holds, with a weaker one kind words get chanted and it gives way.",
    rewards: pair(
      'positive',
      reward("// Proxy: VADER's compound score, -1 to 1.", 'return helpers.sentiment(sample.text);'),
      'shakespearean',
      reward('// Gold (weight 0): the share of words Shakespeare used, times the share not repeated.', 'const f = sample.fields;', 'return f.words ? (1 - f.unknownWords / f.words) * f.distinctWords : 0;'),
    ),
  },
  privacy: {
    title: 'No digits or @ (trained) against the detector (gold)',
    says: 'A cheap rule (no digits, no @) is met almost fully; the detector, which also finds names and places, improves less and stays below zero.',
    rewards: pair(
      'noDigits',
      reward('// Proxy: a cheap rule for "no personal data": every digit and @ costs 1.', 'return -(sample.text.match(/[0-9@]/g) ?? []).length;'),
      'detector',
      reward('// Gold (weight 0): what the detector finds (names, places, emails, phones, cards, addresses) costs 1 each.', 'return -sample.fields.found;'),
    ),
  },
  unittests: {
    title: 'Shown cases (trained) against hidden cases (gold)',
    says: 'The shown cases pass more and more; the hidden cases tell whether the expressions are right or fitted to what was shown.',
    rewards: pair(
      'shown',
      reward('// Proxy: the share of the three shown cases passed.', 'return sample.fields.passed / sample.fields.total;'),
      'hidden',
      reward('// Gold (weight 0): the share of the hidden cases passed, which the policy is never scored on.', 'return sample.fields.hiddenPassed / sample.fields.hiddenTotal;'),
    ),
  },
  protocol: {
    title: 'Short codes (trained) against decoded (gold)',
    says: 'Shorter codes score higher on the proxy; the gold, whether the decoder still reads the message, falls as codes lose what they carry.',
    rewards: pair('short', reward('// Proxy: fewer symbols sent is better.', 'return -sample.text.length;'), 'decoded', protocol.rewards![0].source),
  },
};
