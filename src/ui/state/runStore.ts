import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Experiment } from '../../core/experiment.ts';
import type { IterationMetrics } from '../../core/metrics.ts';
import type { ScoredSample, TrainerState } from '../../core/trainer.ts';
import type { ChartMarker } from '../metrics/markers.ts';

/** A run as saved in the browser: what the runs panel lists and compares, and what a reload resumes. */
export interface SavedRun {
  id: string;
  name: string;
  createdAt: number;
  updatedAt: number;
  /** The experiment in force at the last save (rewards and settings may change mid-run). */
  experiment: Experiment;
  metrics: IterationMetrics[];
  /** The latest batch, for a first look after a resume. */
  samples: ScoredSample[];
  changes: ChartMarker[];
  /** The iteration of the saved checkpoint (null before the first). */
  checkpointIteration: number | null;
  /** Training when last saved: a page that closed mid-run left it so, and the next page offers to resume. */
  live: boolean;
}

/** The policy, optimiser and random streams at an iteration, with the experiment in force then. */
export interface SavedCheckpoint {
  runId: string;
  state: TrainerState;
  experiment: Experiment;
}

interface Schema extends DBSchema {
  runs: { key: string; value: SavedRun; indexes: { updatedAt: number } };
  checkpoints: { key: string; value: SavedCheckpoint };
}

const DB_NAME = 'rlcf-playground';
const DB_VERSION = 1;

/** Saved runs in IndexedDB. Every method throws an Error with a plain reason when storage fails. */
export class RunStore {
  private constructor(private readonly db: IDBPDatabase<Schema>) {}

  /** Opens the database; throws with the browser's reason when storage is unavailable (private mode, disabled). */
  static async open(): Promise<RunStore> {
    if (typeof indexedDB === 'undefined') throw new Error('this browser offers no IndexedDB here');
    try {
      const db = await openDB<Schema>(DB_NAME, DB_VERSION, {
        upgrade(db) {
          const runs = db.createObjectStore('runs', { keyPath: 'id' });
          runs.createIndex('updatedAt', 'updatedAt');
          db.createObjectStore('checkpoints', { keyPath: 'runId' });
        },
      });
      return new RunStore(db);
    } catch (e) {
      throw new Error(`the browser refused its storage (${reason(e)})`);
    }
  }

  /** Every saved run, the latest first. */
  async list(): Promise<SavedRun[]> {
    return guard(async () => (await this.db.getAllFromIndex('runs', 'updatedAt')).reverse());
  }

  get(id: string): Promise<SavedRun | undefined> {
    return guard(() => this.db.get('runs', id));
  }

  /** Saves a run, and its checkpoint when given, in one transaction. */
  async put(run: SavedRun, checkpoint?: SavedCheckpoint): Promise<void> {
    await guard(async () => {
      const tx = this.db.transaction(['runs', 'checkpoints'], 'readwrite');
      await Promise.all([tx.objectStore('runs').put(run), checkpoint && tx.objectStore('checkpoints').put(checkpoint), tx.done]);
    });
  }

  getCheckpoint(id: string): Promise<SavedCheckpoint | undefined> {
    return guard(() => this.db.get('checkpoints', id));
  }

  async rename(id: string, name: string): Promise<void> {
    await guard(async () => {
      const run = await this.db.get('runs', id);
      if (run) await this.db.put('runs', { ...run, name });
    });
  }

  async delete(id: string): Promise<void> {
    await guard(async () => {
      const tx = this.db.transaction(['runs', 'checkpoints'], 'readwrite');
      await Promise.all([tx.objectStore('runs').delete(id), tx.objectStore('checkpoints').delete(id), tx.done]);
    });
  }
}

async function guard<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    const name = (e as DOMException).name;
    throw new Error(name === 'QuotaExceededError' ? 'the browser storage for this site is full' : `the browser storage failed (${reason(e)})`);
  }
}

function reason(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
