// The whole page/worker boundary in one screen: the comlink API the page calls
// and every event the worker sends back.
import type { BackendName } from '../core/backendNames.ts';
import type { Experiment } from '../core/experiment.ts';
import type { Hyperparameters } from '../core/hyperparameters.ts';
import type { IterationMetrics } from '../core/metrics.ts';
import type { ScoredSample } from '../core/trainer.ts';

export type Status = 'idle' | 'loading' | 'training' | 'paused' | 'error';

export interface BackendReport {
  name: BackendName;
  /** Why this backend: what was found and measured, in a sentence. */
  reason: string;
}

export type TrainerEvent =
  | { type: 'progress'; stage: string; fraction: number }
  /** `error` is set exactly while the run is stopped by a failure (status 'error'). */
  | { type: 'status'; status: Status; iteration: number; error: string | null }
  /** New metrics since the last snapshot (throttled), and the latest batch's samples. */
  | { type: 'snapshot'; iteration: number; metrics: IterationMetrics[]; samples: ScoredSample[] }
  /** The backend changed mid-run (a GPU failed and the run moved to wasm). */
  | { type: 'backend'; report: BackendReport }
  /** Something the person should know that did not stop the run. */
  | { type: 'notice'; message: string };

export type Result<T> = { ok: true; value: T } | { ok: false; message: string };

export interface TrainerApi {
  /** Picks and starts the backend (`requested` overrides the choice) and subscribes to events. */
  init(onEvent: (e: TrainerEvent) => void, requested: BackendName | null): Promise<BackendReport>;
  /** Loads the experiment's task and reference policy and starts at iteration 0. */
  load(experiment: Experiment): Promise<Result<null>>;
  /** Compiles and swaps the reward; on failure the old reward stays. Returns the iteration it takes effect after. */
  applyReward(source: string): Promise<Result<number>>;
  /** Changes settings mid-run. Returns the iteration they take effect after. */
  setHyperparameters(h: Partial<Hyperparameters>): Promise<Result<number>>;
  /** Starts the training loop; returns at once. */
  train(): Promise<void>;
  /** Stops the loop after the running iteration; resolves once stopped. */
  pause(): Promise<void>;
  /** Exactly one iteration (while paused). */
  step(): Promise<void>;
  /** Back to the reference policy at iteration 0, optionally with a new seed. */
  reset(seed?: number): Promise<void>;
  /** Completions of the frozen reference policy, for comparison. */
  referenceSamples(count: number): Promise<string[]>;
}

/**
 * The reward bench: a second worker that scores texts under draft code (the test
 * bench, the check before Apply, the reference samples' scores). It never waits
 * for a training iteration, and code that hangs there is stopped by ending that
 * worker, never the trainer.
 */
export interface RewardBenchApi {
  /** Scores `texts` of task `task` under `source`, as the reward would see them at `iteration`. */
  score(source: string, task: string, texts: string[], iteration: number): Promise<Result<number[]>>;
}
