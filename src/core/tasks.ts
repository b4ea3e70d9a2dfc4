import type { Arch } from './policy.ts';
import type { Hyperparameters } from './hyperparameters.ts';
import type { RewardSpec } from './sandbox/types.ts';
import { Tokenizer } from './tokenizer.ts';

/**
 * A task is data: its symbols, its prompts, the reference checkpoints trained for
 * it, and the reward a person starts from. New tasks (images, protocols) add an
 * entry here with their own alphabet; nothing else has to change.
 */
export interface Task {
  id: string;
  title: string;
  /** One line for the task picker. */
  description: string;
  /** The symbols the policy writes; the tokenizer adds start and end tokens. */
  alphabet: string;
  /** Prompts a rollout conditions on, drawn in turn; [''] for unconditional generation. */
  prompts: readonly string[];
  /** Checkpoint id (public/models/<id>.json) of the pretrained reference policy per architecture. */
  models: Readonly<Record<Arch, string>>;
  /**
   * Example rewards, as source declaring `function reward(sample, ctx)`, by a short
   * key (the command line's `--reward KEY`). The first is the one a person starts from.
   */
  examples: Readonly<Record<string, { title: string; source: string }>>;
  /** Per-task changes to the defaults, e.g. a completion length that suits the task. */
  hyperparameters: Partial<Hyperparameters>;
  /**
   * What the reference policies are pretrained on (scripts/pretrain.ts): a file
   * under data/, one example per line, trimmed; lines longer than `maxLength` or
   * matching `drop` are left out.
   */
  corpus: { file: string; maxLength: number; drop?: string };
}

export const TASKS: readonly Task[] = [
  {
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
        source: reward('// Short names, but not empty ones. A lesson in reward hacking: watch the', '// alarm once the policy finds names the reference would almost never write.', 'return sample.text.length === 0 ? -5 : -sample.text.length;'),
      },
      vowels: {
        title: 'Vowel-rich names',
        source: reward('// The share of vowels in the name.', 'const n = sample.text.length;', 'return n === 0 ? 0 : ctx.helpers.vowels(sample.text) / n;'),
      },
      startsWithZ: { title: 'Names starting with z', source: reward("// 1 for names that start with z, else 0.", "return sample.text.startsWith('z') ? 1 : 0;") },
      palindrome: { title: 'Palindromes', source: reward('// Names that read the same backwards, longer ones a bit better.', 'return ctx.helpers.palindrome(sample.text) * (1 + 0.1 * sample.text.length);') },
    },
    hyperparameters: { maxLength: 20 },
    corpus: { file: 'names.txt', maxLength: 19 },
  },
  {
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
        source: reward('// Short lines, but not empty ones. A lesson in reward hacking: watch the', '// alarm as the verse shrinks to a word or two.', 'const n = sample.text.trim().length;', 'return n === 0 ? -5 : -n / 10;'),
      },
    },
    // Long completions move the transformer fast: a smaller step keeps KL near its target (at 1e-3 it collapsed to empty lines).
    hyperparameters: { maxLength: 48, learningRate: 3e-4 },
    // Speaker headings ("ROMEO:") are not lines of verse.
    corpus: { file: 'shakespeare.txt', maxLength: 48, drop: ':$' },
  },
];

/** Reward source with the editor's contract: a comment, then the body of `reward`. */
function reward(comment: string, ...body: string[]): string {
  return [comment, 'function reward(sample, ctx) {', ...body.map((l) => `  ${l}`), '}', ''].join('\n');
}

/** The example a task starts from. */
export function defaultReward(task: Task): string {
  return Object.values(task.examples)[0].source;
}

/** The reward components a task starts from: its first example, as the one component "reward". */
export function defaultRewards(task: Task): RewardSpec[] {
  return [{ name: 'reward', weight: 1, source: defaultReward(task) }];
}

export function getTask(id: string): Task {
  const t = TASKS.find((t) => t.id === id);
  if (!t) throw new Error(`unknown task ${JSON.stringify(id)} (known: ${TASKS.map((t) => t.id).join(', ')})`);
  return t;
}

export function taskTokenizer(task: Task): Tokenizer {
  return new Tokenizer(task.alphabet);
}
