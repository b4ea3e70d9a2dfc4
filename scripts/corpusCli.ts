// `--corpus FILE` for the command line: the file read and checked as the page
// reads a dropped one, offered as a task, and its reference policy pretrained
// here (the worker's routine), with the losses printed as it goes.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readCorpus, corpusTask, type CorpusStats } from '../src/core/tasks/corpus.ts';
import { registerTask } from '../src/core/tasks/index.ts';
import { pretrainCorpus } from '../src/core/training/corpusPretraining.ts';
import type { Policy } from '../src/core/policy/policy.ts';
import { loadPolicy } from '../src/core/policy/checkpoint.ts';

/** Reads `file` as a corpus and offers it as a task (an experiment file may then name it); throws naming what was wrong. */
export function registerCorpusFile(file: string): { text: string; stats: CorpusStats } {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new Error(`--corpus ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const corpus = readCorpus(path.basename(file), bytes);
  const { stats } = corpus;
  registerTask(corpusTask(stats));
  const dropped = [stats.tooLong && `${stats.tooLong} longer than the limit`, stats.outside && `${stats.outside} with characters outside the alphabet (${stats.outsideChars.map(([c, n]) => `${c} ×${n}`).join(', ')})`].filter(Boolean);
  console.log(`corpus ${stats.name}: ${(stats.bytes / 1024).toFixed(0)} KiB, ${stats.kept} of ${stats.lines} lines kept${dropped.length ? ` (left out: ${dropped.join('; ')})` : ''}, ${[...stats.alphabet].length} symbols, lines of 1-${stats.longest} characters; task corpus-${stats.hash}`);
  return corpus;
}

/** Pretrains the corpus's reference policy, printing progress about every tenth of the way; returns a loader of fresh copies of it. */
export async function pretrainCorpusFile(corpus: { text: string; stats: CorpusStats }, steps?: number): Promise<() => Policy> {
  let shown = 0;
  const { policy, manifest, weights } = await pretrainCorpus(corpus.text, corpus.stats, {
    steps,
    onProgress: (p) => {
      if (p.step < p.steps && p.step / p.steps < shown + 0.1) return;
      shown = p.step / p.steps;
      console.log(`pretraining step ${p.step}/${p.steps}: train ${p.trainLoss.toFixed(3)}, validation ${p.validationLoss?.toFixed(3) ?? '–'} nats/char (bigram ${p.bigramLoss.toFixed(3)}), ${p.seconds.toFixed(0)} s, about ${p.etaSeconds.toFixed(0)} s left`);
    },
  });
  console.log(`pretrained in ${manifest.training.seconds} s: validation loss ${manifest.validationLoss} nats/char against the bigram's ${manifest.bigramValidationLoss}`);
  policy.dispose();
  return () => loadPolicy(manifest, weights);
}
