import type { Arch } from './policy.ts';
import type { Hyperparameters } from './hyperparameters.ts';
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
  /** The reward function a person starts from, as source declaring `function reward(sample, ctx)`. */
  defaultReward: string;
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
    defaultReward: [
      '// Longer names score higher.',
      'function reward(sample, ctx) {',
      '  return sample.text.length;',
      '}',
      '',
    ].join('\n'),
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
    defaultReward: [
      '// Lines that speak of love score higher; every other word costs a little.',
      'function reward(sample, ctx) {',
      "  const words = sample.text.toLowerCase().split(/[^a-z']+/).filter(Boolean);",
      "  const loving = words.filter((w) => /^(love|loves|loved|loving|lov'd|dear|sweet|heart)$/.test(w)).length;",
      '  return loving - 0.05 * words.length;',
      '}',
      '',
    ].join('\n'),
    hyperparameters: { maxLength: 48 },
    // Speaker headings ("ROMEO:") are not lines of verse.
    corpus: { file: 'shakespeare.txt', maxLength: 48, drop: ':$' },
  },
];

export function getTask(id: string): Task {
  const t = TASKS.find((t) => t.id === id);
  if (!t) throw new Error(`unknown task ${JSON.stringify(id)} (known: ${TASKS.map((t) => t.id).join(', ')})`);
  return t;
}

export function taskTokenizer(task: Task): Tokenizer {
  return new Tokenizer(task.alphabet);
}
