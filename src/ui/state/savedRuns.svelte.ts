import { validateExperiment, type Experiment } from '../../core/experiment.ts';
import type { IterationMetrics } from '../../core/metrics.ts';
import { getTask } from '../../core/tasks.ts';
import type { ScoredSample, TrainerState } from '../../core/trainer.ts';
import type { ChartMarker } from '../metrics/markers.ts';
import { RunStore, type SavedCheckpoint, type SavedRun } from './runStore.ts';

/** Most often a run's metrics are written while it trains. */
const SAVE_INTERVAL_MS = 1000;

/** What the page hands over after each change of the run. */
export interface RunProgress {
  experiment: Experiment;
  metrics: IterationMetrics[];
  samples: ScoredSample[];
  changes: ChartMarker[];
  live: boolean;
}

/**
 * Saves the run in force as it trains (at most once a second, and at once when
 * it stops; a checkpoint whenever the worker sends one) and keeps the list the
 * runs panel shows. What a save holds is read from the page when it happens
 * (`source`), never copied on every change. When storage fails, it says so once
 * and the run goes on in memory.
 */
export class SavedRuns {
  list = $state.raw<SavedRun[]>([]);
  /** Why runs are not being saved, in words; null while saving works. */
  problem = $state<string | null>(null);
  /** A run a closed page left training, offered for resuming. */
  offer = $state.raw<SavedRun | null>(null);
  /** The saved run the page is training, if any. */
  currentId = $state<string | null>(null);

  #store: RunStore | null = null;
  #current: SavedRun | null = null;
  #dirty = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #writing: Promise<void> = Promise.resolve();

  constructor(private readonly source: () => RunProgress) {}

  async open(): Promise<void> {
    try {
      this.#store = await RunStore.open();
      await this.refresh();
      this.offer = this.list.find((r) => r.live && r.checkpointIteration !== null) ?? null;
    } catch (e) {
      this.#off(e);
    }
  }

  async refresh(): Promise<void> {
    if (!this.#store) return;
    try {
      this.list = await this.#store.list();
    } catch (e) {
      this.#off(e);
    }
  }

  /** The run changed: it is saved within a second, or at once when `now`. */
  changed(now = false): void {
    if (!this.#store) return;
    this.#dirty = true;
    if (now) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), SAVE_INTERVAL_MS);
  }

  /** The worker's checkpoint of the run in force: saved with the run, in one transaction. */
  checkpoint(state: TrainerState, experiment: Experiment): void {
    if (!this.#store || state.iteration === 0) return;
    const run = this.#snapshot({ checkpointIteration: state.iteration });
    if (run) this.#write((store) => store.put(run, { runId: run.id, state, experiment }));
  }

  /** The page starts another run: what is pending is saved into this one, then the next change saves a new one. */
  detach(): void {
    this.#flush();
    this.#current = null;
    this.currentId = null;
  }

  /** Continue saving into a run the page resumed. */
  attach(run: SavedRun): void {
    this.#current = run;
    this.currentId = run.id;
    this.offer = null;
  }

  /** Saves an imported run's history beside the others, for comparison (it has no checkpoint to resume). */
  async addImported(name: string, experiment: Experiment, metrics: IterationMetrics[]): Promise<void> {
    const now = Date.now();
    const run: SavedRun = { id: newId(now), name: name.slice(0, 120), createdAt: now, updatedAt: now, experiment, metrics, samples: [], changes: [], checkpointIteration: null, live: false };
    this.#listed(run);
    this.#write((store) => store.put(run));
    await this.#writing;
  }

  async load(id: string): Promise<{ run: SavedRun; checkpoint: SavedCheckpoint | undefined }> {
    if (!this.#store) throw new Error(this.problem ?? 'saved runs are unavailable');
    const run = await this.#store.get(id);
    if (!run) throw new Error('that run is no longer saved');
    const checkpoint = await this.#store.getCheckpoint(id);
    // Saved by this or an older version of the app: through the one schema (and its migrations) like a link or a file.
    return {
      run: { ...run, experiment: validateExperiment(run.experiment) },
      checkpoint: checkpoint && { ...checkpoint, experiment: validateExperiment(checkpoint.experiment) },
    };
  }

  async dismissOffer(): Promise<void> {
    const run = this.offer;
    this.offer = null;
    if (run) this.#write((store) => store.put({ ...run, live: false }));
    await this.#writing;
  }

  async rename(id: string, name: string): Promise<void> {
    const clean = name.trim().slice(0, 120);
    const run = this.list.find((r) => r.id === id);
    if (!clean || !run) return;
    if (this.#current?.id === id) this.#current = { ...this.#current, name: clean };
    this.list = this.list.map((r) => (r.id === id ? { ...r, name: clean } : r));
    this.#write((store) => store.rename(id, clean));
    await this.#writing;
  }

  async delete(id: string): Promise<void> {
    if (this.#current?.id === id) this.detach();
    this.list = this.list.filter((r) => r.id !== id);
    this.#write((store) => store.delete(id));
    await this.#writing;
  }

  #flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const run = this.#snapshot();
    if (run) this.#write((store) => store.put(run));
  }

  /**
   * The run as the page holds it now, as the record to save: built at once (so a
   * later detach cannot make it a new run), and listed first in the panel.
   * Null when nothing changed since the last save or the run has no iteration yet.
   */
  #snapshot(extra: Partial<SavedRun> = {}): SavedRun | null {
    const pending = this.#dirty || Object.keys(extra).length > 0;
    this.#dirty = false;
    if (!this.#store || !pending) return null;
    const p = this.source();
    if (p.metrics.length === 0) return null;
    const now = Date.now();
    const base = this.#current ?? { id: newId(now), name: defaultName(p.experiment), createdAt: now, checkpointIteration: null };
    const run: SavedRun = { ...base, ...extra, updatedAt: now, experiment: p.experiment, metrics: p.metrics, samples: p.samples, changes: p.changes, live: p.live };
    this.#current = run;
    this.currentId = run.id;
    this.#listed(run);
    return run;
  }

  /** Puts a run first in the list (the latest first), without reading the database back. */
  #listed(run: SavedRun): void {
    this.list = [run, ...this.list.filter((r) => r.id !== run.id)];
  }

  #write(op: (store: RunStore) => Promise<void>): void {
    const store = this.#store;
    if (!store) return;
    this.#writing = this.#writing.then(() => op(store)).catch((e) => this.#off(e));
  }

  #off(e: unknown): void {
    this.#store = null;
    this.problem = `Runs are not being saved: ${e instanceof Error ? e.message : String(e)}. The run continues in memory; export it to keep it.`;
  }
}

function defaultName(e: Experiment): string {
  const date = new Date().toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  return `${getTask(e.task).title} · ${e.algorithm.toUpperCase()} · ${e.arch} · ${date}`;
}

function newId(now: number): string {
  return `${now.toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
