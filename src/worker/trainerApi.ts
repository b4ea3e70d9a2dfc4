// The whole page/worker boundary in one screen: the comlink API the page calls
// and every event the worker sends back.
import type { BackendName } from '../core/backend/names.ts';
import type { Experiment, Pace, Probes } from '../core/experiment/experiment.ts';
import type { ProbeRound } from '../core/training/probes.ts';
import type { Hyperparameters } from '../core/hyperparameters.ts';
import type { IterationMetrics } from '../core/training/metrics.ts';
import type { RewardError, RewardScores, Sample } from '../core/reward/reward.ts';
import type { RewardLog, RewardSpec, SandboxLimits } from '../core/reward/sandbox/types.ts';
import type { ScoredSample } from '../core/training/runState.ts';
import type { KeptBatch } from '../core/training/sampleHistory.ts';
import type { IterationLesson } from '../core/algorithms/lesson.ts';
import type { LabelRecord } from '../core/reward/preferences.ts';
import type { FitReport } from '../core/training/learntReward.ts';

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
  /** New metrics since the last snapshot (throttled), the latest batch's samples, and every batch since the last snapshot as the run's history keeps it. */
  | { type: 'snapshot'; iteration: number; metrics: IterationMetrics[]; samples: ScoredSample[]; batches: KeptBatch[] }
  /** A round of the probe prompts (after loading, and every probes.every iterations). */
  | { type: 'probes'; round: ProbeRound }
  /** The backend changed mid-run (a GPU failed and the run moved to wasm). */
  | { type: 'backend'; report: BackendReport }
  /** Something the person should know that did not stop the run. */
  | { type: 'notice'; message: string }
  /** What the reward code printed (console.log) while scoring iteration `iteration`, per component. */
  | { type: 'log'; iteration: number; logs: RewardLog[] }
  /** The run's whole state and the experiment in force (every checkpointEvery iterations while training, and when it stops): what a restart resumes from. */
  | { type: 'checkpoint'; iteration: number; state: Blob; experiment: Experiment }
  /** A reward model being fitted: its stage and progress, and when done (`report`) what it learnt. */
  | { type: 'rm'; name: string; stage: string; fraction: number; report?: FitReport };

export type Result<T> = { ok: true; value: T } | { ok: false; message: string };

export interface TrainerApi {
  /**
   * Picks and starts the backend (`requested` overrides the choice; else each usable one is timed on a
   * training step of `experiment`'s policy) and subscribes to events.
   */
  init(onEvent: (e: TrainerEvent) => void, requested: BackendName | null, experiment?: Experiment): Promise<BackendReport>;
  /** Loads the experiment's task and reference policy and starts at iteration 0. */
  load(experiment: Experiment): Promise<Result<null>>;
  /** Compiles and swaps the rewards (with a person's labels as the page holds them, when given); on failure the old ones stay. Returns the iteration they take effect after. */
  applyReward(rewards: RewardSpec[], labels?: LabelRecord[]): Promise<Result<number>>;
  /** A person's labels changed: the reward models learnt from them are fitted again (seeded: the same labels, the same model) and train from the next iteration. Returns the new fits. */
  trainRewardModel(labels: LabelRecord[]): Promise<Result<FitReport[]>>;
  /** Changes settings mid-run. Returns the iteration they take effect after. */
  setHyperparameters(h: Partial<Hyperparameters>): Promise<Result<number>>;
  /** How fast the loop runs, and the iteration it pauses after (0: none), from the next iteration on. */
  setPace(pace: Pace): Promise<void>;
  /** New probe prompts or interval (checked like a link's): a round runs at once. */
  setProbes(probes: Probes): Promise<Result<null>>;
  /** Starts the training loop; returns at once. */
  train(): Promise<void>;
  /** Stops the loop after the running iteration; resolves once stopped. */
  pause(): Promise<void>;
  /**
   * Exactly one iteration (while paused). With `capture`, its intermediate
   * numbers as the trainer computed them (lesson mode and the per-token view);
   * null when the step failed.
   */
  step(capture?: boolean): Promise<IterationLesson | null>;
  /** Back to the reference policy at iteration 0, optionally with a new seed. */
  reset(seed?: number): Promise<void>;
  /** Completions of the frozen reference policy, for comparison. */
  referenceSamples(count: number): Promise<{ prompt: string; text: string }[]>;
  /** Answers at once with the iteration: the page's watchdog asks every few seconds. */
  ping(): Promise<number>;
  /** The policy's weights in the checkpoint format (src/core/policy/checkpoint.ts). */
  exportPolicy(): Promise<Uint8Array>;
  /** Starts the run again at iteration 0 from a policy's weights (checkpoint format) that fit the loaded task and architecture. */
  importPolicy(bytes: Uint8Array): Promise<Result<null>>;
  /** Continues from a checkpoint of the loaded experiment (a packed state, trainerState.ts), after a restart or on resuming a saved run. Returns its iteration. */
  restore(state: Blob): Promise<Result<number>>;
}

/** A batch scored in the sandbox, or why not (the RewardError's message and details, as plain data). */
export type SandboxOutcome<T = RewardScores> = { ok: true; scores: T } | { ok: false; message: string; details: RewardError['details']; logs?: RewardLog[] };

/**
 * The sandbox worker, where reward code runs: the trainer worker holds one for
 * training, the page one for the test bench and the check before Apply. The
 * holder ends it when a batch outlives its time limit.
 */
export interface SandboxApi {
  /** Scores samples under the rewards (compiled once per distinct code). */
  score(specs: RewardSpec[], limits: SandboxLimits, samples: Sample[], ctx: { iteration: number; task: string }): Promise<SandboxOutcome>;
  /** Compiles the rewards without scoring: the code's syntax and contract. */
  compile(specs: RewardSpec[], limits: SandboxLimits): Promise<SandboxOutcome<null>>;
  /** Loads QuickJS; resolves once the sandbox can score. */
  warm(): Promise<void>;
}
