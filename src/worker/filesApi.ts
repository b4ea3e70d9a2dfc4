import type { Experiment } from '../core/experiment/experiment.ts';
import type { SavedRun } from '../storage/runStore.ts';

/** A run or experiment file as read and checked: its history stays in the worker, under `token`, until stored or dropped. */
export type ReadFile =
  | { ok: true; token: number; experiment: Experiment; name: string | null; iterations: number; lastReward: number | null }
  | { ok: false; message: string };

/** The files worker (files.worker.ts), as the page calls it. */
export interface FilesApi {
  /** Reads a file (a run file or a bare experiment) and checks it through the schemas; refusals name what was wrong. */
  read(file: Blob): Promise<ReadFile>;
  /** Saves a read file's history as the saved run `run` (a summary the page made): null, or why storage refused. */
  store(token: number, run: SavedRun): Promise<string | null>;
  /** Forgets a read file's history (the person kept what was on screen). */
  drop(token: number): void;
  /** A saved run's reward and KL by iteration, at most MAX_POINTS of them (thinning.ts), for a comparison chart. */
  /** A saved run's metrics by key (compareMetrics.ts), each smoothed as the live charts are (restarting after the given iterations) and thinned to a chart's points. */
  columns(id: string, keys: string[], smoothing: number, restartAfter: number[]): Promise<{ iterations: Float64Array; values: Record<string, Float64Array> }>;
}
