import { corpusTask, isCorpusTaskId } from '../core/tasks/corpus.ts';
import { hasTask, registerTask } from '../core/tasks/index.ts';
import { getCorpus } from '../storage/corpusStore.ts';

/**
 * A person's corpora in a worker: a corpus task is offered there once a run
 * or a file names it (read from the browser's storage, where the page put it).
 * Light on purpose (no tfjs): the files worker uses it too.
 */

/** Makes a corpus task known before an experiment on it is checked; nothing for a shipped task (or one not stored, which the check then names). */
export async function ensureCorpusTask(taskId: string): Promise<void> {
  if (!isCorpusTaskId(taskId) || hasTask(taskId)) return;
  const stored = await getCorpus(taskId.slice('corpus-'.length)).catch(() => undefined);
  if (stored) registerTask(corpusTask(stored.stats));
}
