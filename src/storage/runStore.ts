import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import type { Experiment } from '../core/experiment/experiment.ts';
import type { ChartMarker, IterationMetrics } from '../core/training/metrics.ts';
import type { ScoredSample, TrainerState } from '../core/training/runState.ts';
import { encodeTrainerState } from '../core/training/trainerState.ts';
import type { KeptBatch } from '../core/training/sampleHistory.ts';
import type { ProbeRound } from '../core/training/probes.ts';

/**
 * A saved run as the runs panel lists it: a summary, a few hundred bytes. Its
 * metrics, latest samples and checkpoint are stored apart and read when asked
 * for (resume, compare): a list of long runs holds no histories in the page, and
 * a save writes what changed, not the whole run.
 */
export interface SavedRun {
  id: string;
  name: string;
  createdAt: number;
  updatedAt: number;
  /** The experiment in force at the last save (rewards and settings may change mid-run). */
  experiment: Experiment;
  /** Iterations in its metrics. */
  iterations: number;
  /** The last iteration's mean reward (null before the first). */
  lastReward: number | null;
  changes: ChartMarker[];
  /** The iteration of the saved checkpoint (null before the first). */
  checkpointIteration: number | null;
  /** Training when last saved: a page that closed mid-run left it so, and the next page offers to resume. */
  live: boolean;
  /** Its kept batches' thinning (sampleHistory.ts): every `historyStride`-th iteration before the latest few; 1 (or absent) when nothing was thinned. */
  historyStride?: number;
  /** What the person wrote about the run. */
  note?: string;
}

/** The policy, optimiser and random streams at an iteration (packed, trainerState.ts), with the experiment in force then. */
export interface SavedCheckpoint {
  runId: string;
  iteration: number;
  state: Blob;
  experiment: Experiment;
}

/** What a save writes beside the summary: the metrics held so far (rows from `from` on are written), the latest samples, a checkpoint. */
export interface RunParts {
  metrics?: { rows: readonly IterationMetrics[]; from: number };
  samples?: ScoredSample[];
  /** The probe table's rounds (kept with the latest samples). */
  probes?: ProbeRound[];
  /** Kept batches: those not yet stored (written) and the iterations no longer kept (deleted: thinning only ever deletes). */
  history?: { put: KeptBatch[]; drop: number[] };
  checkpoint?: SavedCheckpoint;
}

/** Metric rows per stored chunk: a save of a 30-minute run writes one or two chunks of about 100 KB, not its whole history. */
export const CHUNK = 200;

interface MetricChunk {
  runId: string;
  chunk: number;
  rows: IterationMetrics[];
}

interface Schema extends DBSchema {
  runs: { key: string; value: SavedRun; indexes: { updatedAt: number } };
  checkpoints: { key: string; value: SavedCheckpoint };
  metrics: { key: [string, number]; value: MetricChunk };
  samples: { key: string; value: { runId: string; samples: ScoredSample[]; probes?: ProbeRound[] } };
  /** One record per kept batch: a save writes the new iterations' batches, and thinning deletes records, never rewrites them. */
  history: { key: [string, number]; value: KeptBatch & { runId: string } };
}

const DB_NAME = 'rlcf-playground';
/** 1: each run one record with its whole history, checkpoints as plain arrays. 2: summaries, metrics in chunks, packed checkpoints. 3: every iteration's batch, in chunks. */
const DB_VERSION = 3;

/** Saved runs in IndexedDB. Every method throws an Error with a plain reason when storage fails. */
export class RunStore {
  #closed = false;
  private constructor(private readonly db: IDBPDatabase<Schema>) {}

  async #guard<T>(op: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error('a newer version of the playground, open in another tab, changed how runs are stored: reload this page to save here again');
    return guard(op);
  }

  /** Opens the database (moving runs saved by an older version to this one's layout); throws with the browser's reason when storage is unavailable. */
  static async open(): Promise<RunStore> {
    if (typeof indexedDB === 'undefined') throw new Error('this browser offers no IndexedDB here');
    try {
      const db = await openDB<Schema>(DB_NAME, DB_VERSION, {
        async upgrade(db, oldVersion, _newVersion, tx) {
          if (oldVersion < 1) {
            const runs = db.createObjectStore('runs', { keyPath: 'id' });
            runs.createIndex('updatedAt', 'updatedAt');
            db.createObjectStore('checkpoints', { keyPath: 'runId' });
          }
          if (oldVersion < 2) {
            db.createObjectStore('metrics', { keyPath: ['runId', 'chunk'] });
            db.createObjectStore('samples', { keyPath: 'runId' });
            if (oldVersion === 1) await migrateFromV1(tx);
          }
          if (oldVersion < 3) db.createObjectStore('history', { keyPath: ['runId', 'iteration'] });
        },
        blocked() {
          // Another tab holds version 1 open: it is told (versionchange) and closes its connection.
        },
      });
      const store = new RunStore(db);
      // A newer version in another tab: this connection steps aside so that tab can upgrade its storage, and saves here say to reload.
      db.addEventListener('versionchange', () => {
        store.#closed = true;
        db.close();
      });
      return store;
    } catch (e) {
      throw new Error(`the browser refused its storage (${reason(e)})`);
    }
  }

  /** Every saved run's summary, the latest first. */
  async list(): Promise<SavedRun[]> {
    return this.#guard(async () => (await this.db.getAllFromIndex('runs', 'updatedAt')).reverse());
  }

  get(id: string): Promise<SavedRun | undefined> {
    return this.#guard(() => this.db.get('runs', id));
  }

  /** A run's metrics, all its iterations in order. */
  async metrics(id: string): Promise<IterationMetrics[]> {
    return this.#guard(async () => (await this.db.getAll('metrics', IDBKeyRange.bound([id, 0], [id, Infinity]))).flatMap((c) => c.rows));
  }

  /** A run's latest samples and its probe rounds. */
  async samples(id: string): Promise<{ samples: ScoredSample[]; probes: ProbeRound[] }> {
    return this.#guard(async () => {
      const r = await this.db.get('samples', id);
      return { samples: r?.samples ?? [], probes: r?.probes ?? [] };
    });
  }

  /** A run's kept batches, in order. */
  async history(id: string): Promise<KeptBatch[]> {
    return this.#guard(async () => (await this.db.getAll('history', IDBKeyRange.bound([id, 0], [id, Infinity]))).map(({ runId: _runId, ...b }) => b));
  }

  getCheckpoint(id: string): Promise<SavedCheckpoint | undefined> {
    return this.#guard(() => this.db.get('checkpoints', id));
  }

  /**
   * Saves a run's summary and what is given of its parts, in one transaction: the
   * metric chunks from the one holding row `from` to the last (and none beyond it,
   * so a history cut back on resuming is cut in storage too).
   */
  async put(run: SavedRun, parts: RunParts = {}): Promise<void> {
    await this.#guard(async () => {
      const tx = this.db.transaction(['runs', 'checkpoints', 'metrics', 'samples', 'history'], 'readwrite');
      const ops: Promise<unknown>[] = [tx.objectStore('runs').put(run)];
      if (parts.metrics) {
        const { rows, from } = parts.metrics;
        const store = tx.objectStore('metrics');
        const last = Math.ceil(rows.length / CHUNK) - 1;
        for (let c = Math.floor(Math.max(0, from) / CHUNK); c <= last; c++) ops.push(store.put({ runId: run.id, chunk: c, rows: rows.slice(c * CHUNK, (c + 1) * CHUNK) }));
        ops.push(store.delete(IDBKeyRange.bound([run.id, last + 1], [run.id, Infinity])));
      }
      if (parts.samples) ops.push(tx.objectStore('samples').put({ runId: run.id, samples: parts.samples, probes: parts.probes ?? [] }));
      if (parts.checkpoint) ops.push(tx.objectStore('checkpoints').put(parts.checkpoint));
      if (parts.history) {
        const store = tx.objectStore('history');
        for (const b of parts.history.put) ops.push(store.put({ runId: run.id, ...b }));
        for (const it of parts.history.drop) ops.push(store.delete([run.id, it]));
      }
      await Promise.all([...ops, tx.done]);
    });
  }

  /** Changes what a person may edit of a saved run: its name and its note. */
  async edit(id: string, patch: Partial<Pick<SavedRun, 'name' | 'note'>>): Promise<void> {
    await this.#guard(async () => {
      const run = await this.db.get('runs', id);
      if (run) await this.db.put('runs', { ...run, ...patch });
    });
  }

  async delete(id: string): Promise<void> {
    await this.#guard(async () => {
      const tx = this.db.transaction(['runs', 'checkpoints', 'metrics', 'samples', 'history'], 'readwrite');
      await Promise.all([
        tx.objectStore('history').delete(IDBKeyRange.bound([id, 0], [id, Infinity])),
        tx.objectStore('runs').delete(id),
        tx.objectStore('checkpoints').delete(id),
        tx.objectStore('samples').delete(id),
        tx.objectStore('metrics').delete(IDBKeyRange.bound([id, 0], [id, Infinity])),
        tx.done,
      ]);
    });
  }
}

/** A run as version 1 saved it: one record with everything. */
interface RunV1 extends Omit<SavedRun, 'iterations' | 'lastReward'> {
  metrics?: IterationMetrics[];
  samples?: ScoredSample[];
}

/** Runs saved by version 1 of the store, moved into version 2's layout within the upgrade (nothing is lost if it fails: the upgrade is undone). */
async function migrateFromV1(tx: IDBPTransaction<Schema, StoreNames<Schema>[], 'versionchange'>): Promise<void> {
  const runs = tx.objectStore('runs');
  const metrics = tx.objectStore('metrics');
  const samples = tx.objectStore('samples');
  for (let cursor = await runs.openCursor(); cursor; cursor = await cursor.continue()) {
    const { metrics: rows = [], samples: batch = [], ...rest } = cursor.value as unknown as RunV1;
    for (let c = 0; c * CHUNK < rows.length; c++) await metrics.put({ runId: rest.id, chunk: c, rows: rows.slice(c * CHUNK, (c + 1) * CHUNK) });
    await samples.put({ runId: rest.id, samples: batch });
    await cursor.update({ ...rest, iterations: rows.length, lastReward: rows.at(-1)?.rewardMean ?? null });
  }
  const checkpoints = tx.objectStore('checkpoints');
  for (let cursor = await checkpoints.openCursor(); cursor; cursor = await cursor.continue()) {
    const old = cursor.value as unknown as { runId: string; state: TrainerState | Blob; experiment: Experiment };
    if (old.state instanceof Blob) continue;
    await cursor.update({ runId: old.runId, iteration: old.state.iteration, state: new Blob([encodeTrainerState(old.state)]), experiment: old.experiment });
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
