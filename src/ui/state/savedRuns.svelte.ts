import { validateExperiment, type Experiment } from '../../core/experiment/experiment.ts';
import type { IterationMetrics } from '../../core/training/metrics.ts';
import { getTask } from '../../core/tasks/index.ts';
import type { ScoredSample } from '../../core/training/runState.ts';
import type { ChartMarker } from '../metrics/markers.ts';
import { filesWorker } from '../filesClient.ts';
import { trainedRewardLabel } from './rewardLabel.ts';
import { RunLocks } from './runLocks.ts';
import { RunStore, type RunParts, type SavedCheckpoint, type SavedRun } from '../../storage/runStore.ts';
import type { KeptBatch, SampleHistory } from '../../core/training/sampleHistory.ts';
import type { ProbeRound } from '../../core/training/probes.ts';

/** Most often a run's metrics are written while it trains. */
const SAVE_INTERVAL_MS = 1000;
/** Samples a save keeps of the latest batch (for a first look after a resume): a batch of 256 cloned whole every second cost the page tens of milliseconds. */
const SAVED_SAMPLES = 64;
/** After a failed save (a full disk, say), the next try: space freed meanwhile is used without a reload. */
const RETRY_MS = 5000;

/** What the page hands over after each change of the run. */
export interface RunProgress {
  experiment: Experiment;
  metrics: IterationMetrics[];
  samples: ScoredSample[];
  probes: ProbeRound[];
  /** Every iteration's batch as kept (sampleHistory.ts). */
  history: SampleHistory;
  changes: ChartMarker[];
  live: boolean;
}

/**
 * Saves the run in force as it trains (at most once a second, and at once when
 * it stops; a checkpoint whenever the worker sends one) and keeps the list the
 * runs panel shows. What a save holds is read from the page when it happens
 * (`source`), never copied on every change. When a save fails, it says so, the
 * run goes on in memory, and saving tries again every few seconds; a failed save
 * of one record leaves the others' saves alone. One tab writes one run: it holds
 * the run's lock (runLocks.ts) while it trains it or offers to resume it.
 */
export class SavedRuns {
  list = $state.raw<SavedRun[]>([]);
  /** Why runs are not being saved, in words; null while saving works. */
  problem = $state<string | null>(null);
  /** Said once saving works again after a problem. */
  recovered = $state<string | null>(null);
  /** Saved runs another tab of this browser has open (trains, or offers to resume). */
  elsewhere = $state.raw<ReadonlySet<string>>(new Set());
  /** A run a closed page left training, offered for resuming. */
  offer = $state.raw<SavedRun | null>(null);
  /** The saved run the page is training, if any. */
  currentId = $state<string | null>(null);

  #store: RunStore | null = null;
  #current: SavedRun | null = null;
  #dirty = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #writing: Promise<void> = Promise.resolve();
  #retry: ReturnType<typeof setTimeout> | null = null;
  /** Whether `problem` is a failed save (retried), not storage refused altogether. */
  #failing = false;
  /** The latest checkpoint not yet saved: a retry saves it with the run, so the run never claims a checkpoint storage lacks. */
  #pendingCheckpoint: SavedCheckpoint | null = null;
  /** Metric rows each run has in storage as the page holds them: a save writes from the chunk of the first row not yet there. */
  #savedRows = new Map<string, number>();
  /** The kept batches each run has in storage, by iteration: a save writes the batches not there yet (or replaced, after a restart ran an iteration again) and deletes those thinned away. */
  #savedBatches = new Map<string, Map<number, KeptBatch>>();
  #locks = new RunLocks();

  constructor(private readonly source: () => RunProgress) {}

  async open(): Promise<void> {
    try {
      this.#store = await RunStore.open();
    } catch (e) {
      this.problem = `Runs are not being saved: ${message(e)}. The run continues in memory; export it to keep it.`;
      return;
    }
    this.#locks.onOthersChanged(() => void this.refresh());
    await this.refresh();
    this.offer = await this.#nextOffer();
  }

  /** Reads the list back from storage (the true count), and which runs other tabs have open. */
  async refresh(): Promise<void> {
    if (!this.#store) return;
    try {
      const [list, elsewhere] = await Promise.all([this.#store.list(), this.#locks.elsewhere()]);
      // The run this tab trains is listed as it is now, not as last saved.
      this.list = this.#current ? list.map((r) => (r.id === this.#current!.id ? this.#current! : r)) : list;
      this.elsewhere = elsewhere;
    } catch (e) {
      this.#failed(e);
    }
  }

  /**
   * The next run a closed page left training that no tab has taken: its lock is
   * taken here, so each interrupted run is offered in one tab only, however many
   * reload at once.
   */
  async #nextOffer(): Promise<SavedRun | null> {
    for (const run of this.list) {
      if (run.live && run.checkpointIteration !== null && !this.elsewhere.has(run.id) && (await this.#locks.take(run.id))) return run;
    }
    return null;
  }

  /**
   * Takes a run for this tab to continue: false when another tab has it open.
   * A run this tab offered and no longer needs is let go for the others.
   */
  async claim(id: string): Promise<boolean> {
    if (!(await this.#locks.take(id))) {
      this.elsewhere = new Set([...this.elsewhere, id]);
      return false;
    }
    if (this.offer && this.offer.id !== id) this.#locks.release(this.offer.id);
    this.offer = null;
    return true;
  }

  /** The run changed: it is saved within a second, or at once when `now`. */
  changed(now = false): void {
    if (!this.#store) return;
    this.#dirty = true;
    if (now) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), SAVE_INTERVAL_MS);
  }

  /** The worker's checkpoint of the run in force (a packed state): saved with the run, in one transaction. */
  checkpoint(iteration: number, state: Blob, experiment: Experiment): void {
    if (!this.#store || iteration === 0) return;
    const snap = this.#snapshot({ checkpointIteration: iteration });
    if (!snap) return;
    const checkpoint: SavedCheckpoint = { runId: snap.run.id, iteration, state, experiment };
    this.#pendingCheckpoint = checkpoint;
    this.#save(snap, checkpoint);
  }

  /** The page starts another run: what is pending is saved into this one, then the next change saves a new one (and the old one is let go). */
  detach(): void {
    this.#flush();
    this.#pendingCheckpoint = null;
    const id = this.#current?.id;
    this.#current = null;
    this.currentId = null;
    // Once its last save is written, the run's bookkeeping goes: what it saved of the history held its batches (up to 20 MB) alive.
    if (id)
      void this.#writing.then(() => {
        this.#savedBatches.delete(id);
        this.#locks.release(id);
      });
  }

  /** Resolves once every save asked for so far has been written (or has failed). */
  settled(): Promise<void> {
    return this.#writing;
  }

  /** Continue saving into a run the page resumed (claimed first), whose first `keptRows` metric rows the page holds as storage has them. */
  attach(run: SavedRun, keptRows: number, history: SampleHistory): void {
    this.#current = run;
    this.#savedRows.set(run.id, keptRows);
    this.#savedBatches.set(run.id, new Map([...history.batches()].map((b) => [b.iteration, b])));
    this.currentId = run.id;
    this.offer = null;
  }

  /** Saves an imported run's history (held by the files worker, which writes it) beside the others, for comparison; it has no checkpoint to resume. */
  async addImported(name: string, experiment: Experiment, read: { token: number; iterations: number; lastReward: number | null }): Promise<void> {
    const now = Date.now();
    const run: SavedRun = { id: newId(now), name: name.slice(0, 120), createdAt: now, updatedAt: now, experiment, iterations: read.iterations, lastReward: read.lastReward, changes: [], checkpointIteration: null, live: false };
    this.#write(async () => {
      const refused = await filesWorker().store(read.token, run);
      if (refused) throw new Error(refused);
      this.#listed(run);
    });
    await this.#writing;
  }

  /** A saved run with its metrics, latest samples and checkpoint, read from storage. */
  async load(id: string): Promise<{ run: SavedRun; metrics: IterationMetrics[]; samples: ScoredSample[]; probes: ProbeRound[]; history: KeptBatch[]; checkpoint: SavedCheckpoint | undefined }> {
    if (!this.#store) throw new Error(this.problem ?? 'saved runs are unavailable');
    const run = await this.#store.get(id);
    if (!run) throw new Error('that run is no longer saved');
    const [metrics, { samples, probes }, history, checkpoint] = await Promise.all([this.#store.metrics(id), this.#store.samples(id), this.#store.history(id), this.#store.getCheckpoint(id)]);
    // Saved by this or an older version of the app: through the one schema (and its migrations) like a link or a file.
    return {
      run: { ...run, experiment: validateExperiment(run.experiment) },
      metrics,
      samples,
      probes,
      history,
      checkpoint: checkpoint && { ...checkpoint, experiment: validateExperiment(checkpoint.experiment) },
    };
  }

  /** A saved run's metrics by key, smoothed and thinned for a comparison chart by the files worker, so a long history never enters the page whole. */
  async columns(id: string, keys: string[], smoothing: number): Promise<{ iterations: Float64Array; values: Record<string, Float64Array> }> {
    if (!this.#store) throw new Error(this.problem ?? 'saved runs are unavailable');
    const run = this.list.find((r) => r.id === id);
    return filesWorker().columns(id, keys, smoothing, (run?.changes ?? []).filter((c) => c.kind === 'reward').map((c) => c.iteration));
  }

  /** Leaves the offered run saved and no longer live, lets it go, and offers the next interrupted run, if any. */
  async dismissOffer(): Promise<void> {
    const run = this.offer;
    this.offer = null;
    if (!run) return;
    const kept = { ...run, live: false };
    this.list = this.list.map((r) => (r.id === run.id ? kept : r));
    this.#write((store) => store.put(kept));
    await this.#writing;
    this.#locks.release(run.id);
    this.offer = await this.#nextOffer();
  }

  async rename(id: string, name: string): Promise<void> {
    const clean = name.trim().slice(0, 120);
    if (clean) await this.#edit(id, { name: clean });
  }

  /** A run's note: what the person wants to remember of it (shown in the list and in a comparison). */
  async setNote(id: string, note: string): Promise<void> {
    await this.#edit(id, { note: note.slice(0, 2000) });
  }

  async #edit(id: string, patch: Partial<Pick<SavedRun, 'name' | 'note'>>): Promise<void> {
    const run = this.list.find((r) => r.id === id);
    if (!run) return;
    if (this.#current?.id === id) this.#current = { ...this.#current, ...patch };
    this.list = this.list.map((r) => (r.id === id ? { ...r, ...patch } : r));
    this.#write((store) => store.edit(id, patch));
    await this.#writing;
  }

  async delete(id: string): Promise<void> {
    if (this.elsewhere.has(id)) return; // another tab trains it: it is that tab's to delete
    if (this.#current?.id === id) this.detach();
    this.list = this.list.filter((r) => r.id !== id);
    this.#write((store) => store.delete(id));
    await this.#writing;
    this.#locks.announce();
  }

  #flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const snap = this.#snapshot();
    if (snap) this.#save(snap);
  }

  /** Writes a snapshot: the summary, the metric rows storage lacks, the samples, and the checkpoint when given. */
  #save({ run, metrics, samples, probes, history }: Snapshot, checkpoint?: SavedCheckpoint): void {
    this.#write(async (store) => {
      const saved = this.#savedBatches.get(run.id) ?? new Map<number, KeptBatch>();
      const put = history.filter((b) => saved.get(b.iteration) !== b);
      const kept = new Map(history.map((b) => [b.iteration, b]));
      const drop = [...saved.keys()].filter((it) => !kept.has(it));
      const parts: RunParts = { metrics: { rows: metrics, from: this.#savedRows.get(run.id) ?? 0 }, samples, probes, checkpoint, history: { put, drop } };
      await store.put(run, parts);
      this.#savedRows.set(run.id, metrics.length);
      this.#savedBatches.set(run.id, kept);
      if (checkpoint && this.#pendingCheckpoint === checkpoint) this.#pendingCheckpoint = null;
      this.#listed(run);
    });
  }

  /**
   * The run as the page holds it now, as the record to save: built at once (so a
   * later detach cannot make it a new run); listed once it is saved.
   * Null when nothing changed since the last save or the run has no iteration yet.
   */
  #snapshot(extra: Partial<SavedRun> = {}): Snapshot | null {
    const pending = this.#dirty || Object.keys(extra).length > 0;
    this.#dirty = false;
    if (!this.#store || !pending) return null;
    const p = this.source();
    if (p.metrics.length === 0) return null;
    const now = Date.now();
    let base: Pick<SavedRun, 'id' | 'name' | 'createdAt' | 'checkpointIteration'> | null = this.#current;
    if (!base) {
      base = { id: newId(now), name: defaultName(p.experiment), createdAt: now, checkpointIteration: null };
      void this.#locks.take(base.id); // a new id: no other tab can hold it
    }
    const run: SavedRun = { ...base, ...extra, updatedAt: now, experiment: p.experiment, ...summaryOf(p.metrics), changes: p.changes, live: p.live, historyStride: p.history.stride };
    this.#current = run;
    this.currentId = run.id;
    return { run, metrics: p.metrics, samples: p.samples.slice(0, SAVED_SAMPLES), probes: p.probes, history: [...p.history.batches()] };
  }

  /** Puts a run just saved first in the list (the latest first), without reading the database back. */
  #listed(run: SavedRun): void {
    const isNew = !this.list.some((r) => r.id === run.id);
    this.list = [run, ...this.list.filter((r) => r.id !== run.id)];
    if (isNew) this.#locks.announce(); // the other tabs list it too
  }

  #write(op: (store: RunStore) => Promise<void>): void {
    const store = this.#store;
    if (!store) return;
    this.#writing = this.#writing.then(
      () =>
        op(store).then(
          () => this.#worked(),
          (e) => this.#failed(e),
        ),
    );
  }

  /** A save failed: say so where the person looks, keep the run in memory, list what storage really holds, and try again soon. */
  #failed(e: unknown): void {
    this.#failing = true;
    this.recovered = null;
    this.problem = `Runs are not being saved: ${message(e)}. The run continues in memory; saving is tried again every ${RETRY_MS / 1000} s, or export it to keep it.`;
    this.#dirty = true;
    if (!this.#retry) {
      void this.#listTruly();
      this.#retry = setTimeout(() => {
        this.#retry = null;
        const cp = this.#pendingCheckpoint;
        if (cp && this.#current?.id === cp.runId) this.checkpoint(cp.iteration, cp.state, cp.experiment);
        else {
          this.#dirty = true;
          this.#flush();
        }
        void this.refresh();
      }, RETRY_MS);
    }
  }

  /** The list as storage has it (after a failed save the panel must not count what was never written). */
  async #listTruly(): Promise<void> {
    try {
      if (this.#store) this.list = await this.#store.list();
    } catch {
      // Storage refuses reads too: the list stays as it was, and the banner already says why.
    }
  }

  #worked(): void {
    if (!this.#failing) return;
    this.#failing = false;
    this.problem = null;
    this.recovered = 'Saving works again: the run is saved.';
    void this.refresh();
  }
}

/** A run as the page holds it at a save: its summary, and the parts written beside it. */
interface Snapshot {
  run: SavedRun;
  metrics: readonly IterationMetrics[];
  samples: ScoredSample[];
  probes: ProbeRound[];
  /** Every kept batch (a batch never changes once kept: it is added, or thinned away). */
  history: KeptBatch[];
}

function summaryOf(metrics: readonly IterationMetrics[]): Pick<SavedRun, 'iterations' | 'lastReward'> {
  return { iterations: metrics.length, lastReward: metrics.at(-1)?.rewardMean ?? null };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A name that tells runs apart at a glance: the task, the algorithm, what its reward says of itself (its first comment, else its name) and when. */
function defaultName(e: Experiment): string {
  const date = new Date().toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  return `${getTask(e.task).title} · ${e.algorithm.toUpperCase()} · ${trainedRewardLabel(getTask(e.task), e.rewards)} · ${date}`;
}

function newId(now: number): string {
  return `${now.toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
