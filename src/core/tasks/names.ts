import type { Task } from './task.ts';
import { reward } from './rewardSource.ts';

/** Baby names: the first task, and the one the learning benchmark uses. */
export const names: Task = {
  id: 'names',
  title: 'Baby names',
  description: 'A policy pretrained on 32k US baby names; reward shapes the names it invents.',
  alphabet: 'abcdefghijklmnopqrstuvwxyz',
  prompts: [''],
  models: { mlp: 'names-mlp', transformer: 'names-transformer' },
  examples: {
    length: { title: 'Longer names', source: reward('// Longer names score higher.', 'return sample.text.length;') },
    // Kept on purpose as a lesson: the policy learns one-letter names the reference almost never writes, and the collapse alarm says so.
    short: {
      title: 'Shorter names (lesson: reward hacking)',
      source: reward('// Short names, but not empty ones. A lesson in reward hacking: watch the\n// alarm once the policy finds names the reference would almost never write.', 'return sample.text.length === 0 ? -5 : -sample.text.length;'),
    },
    vowels: {
      title: 'Vowel-rich names',
      source: reward('// The share of vowels in the name.', 'const n = sample.text.length;', 'return n === 0 ? 0 : ctx.helpers.vowels(sample.text) / n;'),
    },
    startsWithZ: { title: 'Names starting with z', source: reward("// 1 for names that start with z, else 0.", "return sample.text.startsWith('z') ? 1 : 0;") },
    palindrome: { title: 'Palindromes', source: reward('// Names that read the same backwards, longer ones a bit better.', 'return ctx.helpers.palindrome(sample.text) * (1 + 0.1 * sample.text.length);') },
  },
  hyperparameters: { maxLength: 20 },
  benchText: 'annabelle',
  explanation: {
    writes: 'A name, letter by letter (26 letters), then a stop token: the reference policy learnt this from 32k US baby names.',
    reward: 'Whatever your function computes from the name: its length, its vowels, its first letter, whether it reads the same backwards.',
    why: 'No person rates any name: a few lines of code are the whole feedback, and the policy moves towards what they score high, while the KL penalty keeps it close to real names.',
    try: 'Train "Longer names", then "Shorter names" and watch the collapse alarm: a reward that can be gamed will be. Then add a second component with a weight.',
  },
  pretraining: {
    data: { kind: 'file', file: 'names.txt', maxLength: 19 },
    recipes: {
      mlp: { steps: 4000, batchSize: 128, learningRate: 3e-3 },
      transformer: { steps: 4000, batchSize: 64, learningRate: 2e-3 },
    },
  },
};
