import type { Task } from './task.ts';
import { reward } from './rewardSource.ts';

/** Lines of tiny Shakespeare. */
export const shakespeare: Task = {
  id: 'shakespeare',
  title: 'Shakespeare lines',
  description: 'A policy pretrained on 21k short lines of tiny Shakespeare; reward shapes the verse it writes.',
  alphabet: " !&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
  prompts: [''],
  models: { mlp: 'shakespeare-mlp', transformer: 'shakespeare-transformer' },
  examples: {
    love: {
      title: 'Lines of love',
      source: reward(
        '// Lines that speak of love score higher; every word costs a little,',
        '// and a line without words scores lowest (or silence would win).',
        "const words = sample.text.toLowerCase().split(/[^a-z']+/).filter(Boolean);",
        'if (words.length === 0) return -1;',
        "const loving = words.filter((w) => /^(love|loves|loved|loving|lov'd|dear|sweet|heart)$/.test(w)).length;",
        'return loving - 0.05 * words.length;',
      ),
    },
    questions: { title: 'Questions', source: reward('// Lines that ask something.', "return sample.text.trim().endsWith('?') ? 1 : 0;") },
    // Kept on purpose as a lesson: verse shrinks to a word or two, and the collapse alarm says so.
    short: {
      title: 'Short lines (lesson: reward hacking)',
      source: reward('// Short lines, but not empty ones. A lesson in reward hacking: watch the\n// alarm as the verse shrinks to a word or two.', 'const n = sample.text.trim().length;', 'return n === 0 ? -5 : -n / 10;'),
    },
  },
  // Long completions move the transformer fast: a smaller step keeps KL near its target (at 1e-3 it collapsed to empty lines).
  hyperparameters: { maxLength: 48, learningRate: 3e-4 },
  benchText: 'O Romeo, my love, my dear!',
  explanation: {
    writes: 'A line of verse, character by character, in the style of tiny Shakespeare (21k short lines).',
    reward: 'Any measure of the line: the words it uses, whether it asks something, its length.',
    why: 'The feedback is computed, not judged: the policy learns to write what the function rewards, and the KL to the reference keeps it writing Shakespeare rather than any string that scores.',
    try: 'Train "Lines of love", then "Short lines" for a lesson in reward hacking. For sentiment scored by a real classifier, open the Sentiment task.',
  },
  pretraining: {
    // Speaker headings ("ROMEO:") are not lines of verse.
    data: { kind: 'file', file: 'shakespeare.txt', maxLength: 48, drop: ':$' },
    // Lines are three times longer than names: fewer lines per batch keep a step as cheap.
    recipes: {
      mlp: { steps: 3000, batchSize: 48, learningRate: 3e-3 },
      transformer: { steps: 3000, batchSize: 24, learningRate: 2e-3 },
    },
  },
};
