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
