import type { CorpusStats } from '../core/tasks/corpus.ts';
import type { CorpusProgress } from '../core/training/corpusPretraining.ts';

/** A file read as a corpus: its summary (the page shows it before anything trains), or why it cannot be one. */
export type CorpusRead = { ok: true; stats: CorpusStats } | { ok: false; message: string };

/** What pretraining left in storage: the reference policy's losses and time. */
export interface CorpusPretrained {
  validationLoss: number;
  bigramLoss: number;
  seconds: number;
  steps: number;
}

/** The corpus worker (corpus.worker.ts), as the page calls it: reading, storing and pretraining off the page's thread. */
export interface CorpusApi {
  /** Reads and checks a file (corpus.ts); its kept lines wait here for pretraining. */
  read(file: Blob, name: string): Promise<CorpusRead>;
  /**
   * Pretrains the policy of a corpus read before (`backend` as the trainer's),
   * reporting as it goes, then stores the corpus and its checkpoint in the
   * browser together: a stopped or failed pretraining stores nothing.
   */
  pretrain(hash: string, backend: string, onProgress: (p: CorpusProgress) => void, steps?: number): Promise<{ ok: true; value: CorpusPretrained } | { ok: false; message: string; stopped: boolean }>;
  /** Stops pretraining after the step it is in; nothing is stored. */
  stop(): void;
}
