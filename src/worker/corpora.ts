import { corpusTask, isCorpusTaskId } from '../core/tasks/corpus.ts';
import { hasTask, registerTask } from '../core/tasks/index.ts';
import { loadPolicy, type CheckpointManifest } from '../core/policy/checkpoint.ts';
import type { Policy } from '../core/policy/policy.ts';
import { getCorpus } from '../storage/corpusStore.ts';

/**
 * A person's corpora in the trainer worker: a corpus task is offered here
 * once a run opens it (read from the browser's storage, where the page put
 * it), and its reference policy is the checkpoint pretrained on it.
 */

/** Makes a corpus task known before an experiment on it is checked; nothing for a shipped task (or one not stored, which the check then names). */
export async function ensureCorpusTask(taskId: string): Promise<void> {
  if (!isCorpusTaskId(taskId) || hasTask(taskId)) return;
  const stored = await getCorpus(taskId.slice('corpus-'.length)).catch(() => undefined);
  if (stored) registerTask(corpusTask(stored.stats));
}

/** The model id of a corpus's policy ("corpus-<hash>-mlp"), or null for a shipped one. */
const corpusHash = (modelId: string): string | null => /^corpus-([0-9a-f]{14})-/.exec(modelId)?.[1] ?? null;

async function stored(modelId: string): Promise<{ manifest: CheckpointManifest; weights: Uint8Array } | null> {
  const hash = corpusHash(modelId);
  if (!hash) return null;
  const c = await getCorpus(hash);
  if (!c?.checkpoint) throw new Error(`the policy of ${c ? `"${c.stats.name}"` : 'this corpus'} is not pretrained in this browser: open the corpus file (Import › Corpus…) to pretrain it`);
  return c.checkpoint;
}

/** A corpus's checkpoint manifest, or null when `modelId` is shipped. */
export async function corpusManifest(modelId: string): Promise<CheckpointManifest | null> {
  return (await stored(modelId))?.manifest ?? null;
}

/** A corpus's pretrained policy, or null when `modelId` is shipped. */
export async function corpusPolicy(modelId: string): Promise<Policy | null> {
  const c = await stored(modelId);
  return c ? loadPolicy(c.manifest, c.weights) : null;
}
