import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { CheckpointManifest } from '../core/policy/checkpoint.ts';
import type { CorpusStats } from '../core/tasks/corpus.ts';

/**
 * A person's corpora in IndexedDB, in a database of their own (saved runs'
 * upgrades never touch them): the kept lines, what the page showed of them,
 * and once pretrained the reference policy's checkpoint. The page lists them
 * as tasks; the trainer worker reads the checkpoint when a run opens one.
 */
export interface StoredCorpus {
  hash: string;
  stats: CorpusStats;
  /** The kept lines, joined by line breaks. */
  text: string;
  addedAt: number;
  /** The pretrained reference policy; absent until pretraining finished. */
  checkpoint?: { manifest: CheckpointManifest; weights: Uint8Array };
}

interface Schema extends DBSchema {
  corpora: { key: string; value: StoredCorpus };
}

let db: Promise<IDBPDatabase<Schema>> | null = null;

function open(): Promise<IDBPDatabase<Schema>> {
  if (typeof indexedDB === 'undefined') return Promise.reject(new Error('this browser offers no IndexedDB here'));
  db ??= openDB<Schema>('rlcf-playground-corpora', 1, {
    upgrade(d) {
      d.createObjectStore('corpora', { keyPath: 'hash' });
    },
  }).catch((e) => {
    db = null;
    throw e;
  });
  return db;
}

/** Runs a storage operation; a refusal (a full disk, private mode) becomes an Error with a plain reason. */
async function guard<T>(what: string, op: (d: IDBPDatabase<Schema>) => Promise<T>): Promise<T> {
  try {
    return await op(await open());
  } catch (e) {
    const name = (e as DOMException).name;
    const reason = name === 'QuotaExceededError' ? 'the disk or the browser quota is full' : (e as Error).message;
    throw new Error(`${what}: the browser refused (${reason})`);
  }
}

export function listCorpora(): Promise<StoredCorpus[]> {
  return guard('reading your corpora', async (d) => (await d.getAll('corpora')).sort((a, b) => a.addedAt - b.addedAt));
}

export function getCorpus(hash: string): Promise<StoredCorpus | undefined> {
  return guard('reading a corpus', (d) => d.get('corpora', hash));
}

/** Stores a corpus with its pretrained policy, in one write: both or neither. */
export function putCorpus(c: StoredCorpus): Promise<void> {
  return guard(`storing ${c.stats.name}`, async (d) => {
    await d.put('corpora', c);
  });
}

export function deleteCorpus(hash: string): Promise<void> {
  return guard('forgetting a corpus', (d) => d.delete('corpora', hash));
}
