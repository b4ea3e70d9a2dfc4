import type { Rng } from '../rng.ts';

/** What a task's reference policies are pretrained on, and how (the task's `pretraining`). */
export interface CorpusFile {
  kind: 'file';
  file: string;
  maxLength: number;
  drop?: string;
}
export interface CorpusGenerator {
  kind: 'generated';
  /** How many examples to make. */
  count: number;
  /** One example (a line the policy should learn to write, prompt included). */
  generate(rng: Rng): string;
}
export interface PretrainingRecipe {
  steps: number;
  batchSize: number;
  learningRate: number;
  /** The MLP's window in tokens (default 8): a task whose prompt matters as a whole needs a wider one. */
  window?: number;
}


/** The lines of a corpus file a task pretrains on: trimmed, none empty, none longer than maxLength, none matching drop. */
export function corpusLines(text: string, corpus: Pick<CorpusFile, 'maxLength' | 'drop'>): string[] {
  const drop = corpus.drop ? new RegExp(corpus.drop) : null;
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && l.length <= corpus.maxLength && !drop?.test(l));
}
