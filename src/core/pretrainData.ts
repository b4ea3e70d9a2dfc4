import type { CorpusFile } from './tasks.ts';

/** The lines of a corpus file a task pretrains on: trimmed, none empty, none longer than maxLength, none matching drop. */
export function corpusLines(text: string, corpus: Pick<CorpusFile, 'maxLength' | 'drop'>): string[] {
  const drop = corpus.drop ? new RegExp(corpus.drop) : null;
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && l.length <= corpus.maxLength && !drop?.test(l));
}
