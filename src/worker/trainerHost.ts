import { transfer } from 'comlink';
import { GPU_BACKENDS, type BackendName } from '../core/backend/names.ts';
import { decodeWeights, encodeWeights } from '../core/policy/checkpoint.ts';
import { DEFAULT_PACE, validateExperiment, type Experiment, type Pace, type Probes } from '../core/experiment/experiment.ts';
import { sandboxLimits, type Hyperparameters } from '../core/hyperparameters.ts';
import type { IterationMetrics } from '../core/training/metrics.ts';
import { RewardError, type RewardModel } from '../core/reward/reward.ts';
import type { RewardLog, RewardSpec } from '../core/reward/sandbox/types.ts';
import { getTask, modelId } from '../core/tasks/index.ts';
import { decodeTrainerState, encodeTrainerState } from '../core/training/trainerState.ts';
import type { Trainer } from '../core/training/trainer.ts';
import type { IterationLesson } from '../core/algorithms/lesson.ts';
import { policyFit, type ScoredSample, type TrainerState } from '../core/training/runState.ts';
import { keepBatch, type KeptBatch } from '../core/training/sampleHistory.ts';
import { probeRound } from './probeRunner.ts';
import type { ControlTrainer } from '../core/training/control.ts';
import { BackendChoice, switchBackend } from './backendChoice.ts';
import { SandboxClient } from './sandboxClient.ts';
import type { WorkerReward } from './workerReward.ts';
import { LearntRewards } from './learntRewards.ts';
import type { FitReport } from '../core/training/learntReward.ts';
import type { LabelRecord } from '../core/reward/preferences.ts';
import { fetchPolicy } from './models.ts';
import { ensureCorpusTask } from './corpora.ts';
import { createTrainer } from '../core/experiment/createTrainer.ts';
import type { Policy } from '../core/policy/policy.ts';
import type { BackendReport, Result, Status, TrainerApi, TrainerEvent } from './trainerApi.ts';

/** Most snapshots per second the page receives; metrics in between are batched. */
const SNAPSHOT_INTERVAL_MS = 100;

/** The worker side: owns the Trainer and runs the loop. Thin on purpose; the learning lives in src/core. */
export class TrainerHost implements TrainerApi {
  #emit: (e: TrainerEvent) => void = () => {};
  #trainer: Trainer | ControlTrainer | null = null;
  #experiment: Experiment | null = null;
  /** The code components in the sandbox (null when none), and what the trainer scores through: those and the learnt components' models. */
  #reward: WorkerReward | null = null;
  #trained: RewardModel | null = null;
  /** Where reward code runs: a worker of its own, ended when a batch outlives its time limit. */
  #sandbox = new SandboxClient();
  /** Components learnt from preferences: their reward models, fitted here. */
  #learnt = new LearntRewards(this.#sandbox, (e) => this.#emit(e), () => this.#trainer);
  #logs: RewardLog[] = [];
  /** The backend in force, and what it was chosen on. */
  #choice = new BackendChoice();
  /** On a GPU backend, the state after the last good iteration: what survives a lost device. */
  #lastGood: TrainerState | null = null;
  #status: Status = 'loading';
  /** The run stopped because the reward failed: applying a working reward clears it (and Train retries). */
  #failedOnReward = false;
  #running = false;
  #loopDone: Promise<void> = Promise.resolve();
  #pace: Pace = DEFAULT_PACE;
  #pending: IterationMetrics[] = [];
  #samples: ScoredSample[] = [];
  /** Every iteration's batch since the last snapshot, as the run's history keeps it (sampleHistory.ts). */
  #batches: KeptBatch[] = [];
  #lastFlush = 0;

  async init(onEvent: (e: TrainerEvent) => void, requested: BackendName | null, experiment?: Experiment): Promise<BackendReport> {
    this.#emit = onEvent;
    this.#sandbox.warm(); // QuickJS loads in its own worker while the backend is chosen
    this.#progress('choosing a backend', 0.05);
    if (experiment) await ensureCorpusTask(experiment.task); // a corpus's policy is timed like a shipped one
    return this.#choice.start(requested, experiment);
  }

  async load(experiment: Experiment): Promise<Result<null>> {
    await this.pause();
    this.#setStatus('loading');
    try {
      await ensureCorpusTask(experiment.task);
      const e = validateExperiment(experiment);
      const moved = await this.#choice.policyChanged(e); // a policy larger than any shipped: the backends measured on it
      if (moved) this.#emit({ type: 'backend', report: moved });
      const reference = this.#reference(e); // fetched while the reward compiles
      reference.catch(() => undefined); // a failed fetch is reported where it is awaited
      let made: Awaited<ReturnType<LearntRewards['create']>>;
      try {
        made = await this.#learnt.create(e);
      } catch (err) {
        (await reference.catch(() => null))?.dispose();
        throw err;
      }
      const trainer = createTrainer(e, made.reward, await reference); // a control task's from random weights
      this.#trainer?.dispose();
      this.#trainer = trainer;
      this.#experiment = e;
      this.#pace = e.pace;
      this.#reward = made.code;
      this.#trained = made.reward;
      this.#lastGood = null;
      await this.#learnt.fit(e, made.reward, 0); // learnt components: fitted before anything trains on them
      this.#progress('warming up', 0.8);
      await this.#trainer.preview(4); // compiles kernels before the first Train
      this.#progress('ready', 1);
      this.#clearPending();
      await this.#probe(true); // the reference's completions: where the probe table starts
      this.#setStatus('idle');
      return { ok: true, value: null };
    } catch (err) {
      this.#setStatus('error', message(err));
      return { ok: false, message: message(err) };
    }
  }

  async applyReward(rewards: RewardSpec[], labels = this.#experiment!.labels): Promise<Result<number>> {
    let made: Awaited<ReturnType<LearntRewards['create']>>;
    let e: Experiment;
    const trainer = this.#need();
    try {
      // A person's labels for a component no longer learnt from them are dropped with it.
      const names = new Set(rewards.filter((r) => r.learn?.from === 'person').map((r) => r.name));
      e = validateExperiment({ ...this.#experiment!, rewards, labels: labels.filter((l) => names.has(l.reward)) });
      made = await this.#learnt.create(e);
      await this.#learnt.fit(e, made.reward, trainer.iteration);
    } catch (err) {
      return { ok: false, message: message(err) };
    }
    trainer.setReward(made.reward);
    this.#reward = made.code;
    this.#trained = made.reward;
    this.#experiment = e;
    // A fixed reward clears the error but does not restart anything: the person presses Train.
    if (this.#status === 'error' && this.#failedOnReward) {
      this.#failedOnReward = false;
      this.#setStatus(trainer.iteration === 0 ? 'idle' : 'paused');
    }
    return { ok: true, value: trainer.iteration };
  }

  async trainRewardModel(labels: LabelRecord[]): Promise<Result<FitReport[]>> {
    try {
      const e = validateExperiment({ ...this.#experiment!, labels });
      const reports = await this.#learnt.fit(e, this.#trained!, this.#need().iteration);
      this.#experiment = e;
      return { ok: true, value: reports };
    } catch (err) {
      return { ok: false, message: message(err) };
    }
  }

  async setHyperparameters(h: Partial<Hyperparameters>): Promise<Result<number>> {
    try {
      this.#need().setHyperparameters(h);
      this.#experiment = { ...this.#experiment!, hyperparameters: this.#need().hyperparameters };
      this.#reward?.setLimits(sandboxLimits(this.#need().hyperparameters));
      return { ok: true, value: this.#need().iteration };
    } catch (err) {
      return { ok: false, message: message(err) };
    }
  }

  async setPace(pace: Pace): Promise<void> {
    this.#pace = { ...pace };
    if (this.#experiment) this.#experiment = { ...this.#experiment, pace: this.#pace };
  }

  async train(): Promise<void> {
    if (this.#running || !this.#trainer || this.#status === 'loading' || this.#status === 'error') return;
    this.#running = true;
    this.#setStatus('training');
    this.#loopDone = this.#loop();
  }

  async pause(): Promise<void> {
    this.#running = false;
    await this.#loopDone;
  }

  async step(capture = false): Promise<IterationLesson | null> {
    if (this.#running || !this.#trainer || this.#status === 'loading' || this.#status === 'error') return null;
    const lesson = await this.#iterate(capture);
    this.#flush(); // metrics and samples reach the page before the status that ends the step
    if (lesson === false) return null;
    await this.#checkpoint();
    this.#setStatus('paused');
    return lesson;
  }

  async ping(): Promise<number> {
    return this.#trainer?.iteration ?? 0;
  }

  async restore(saved: Blob): Promise<Result<number>> {
    try {
      const state = decodeTrainerState(new Uint8Array(await saved.arrayBuffer()));
      await this.pause();
      await this.#need().importState(state);
      this.#setStatus(state.iteration === 0 ? 'idle' : 'paused');
      return { ok: true, value: state.iteration };
    } catch (err) {
      return { ok: false, message: message(err) };
    }
  }

  async exportPolicy(): Promise<Uint8Array> {
    const bytes = await encodeWeights(this.#need().policy);
    return transfer(bytes, [bytes.buffer]);
  }

  async importPolicy(bytes: Uint8Array): Promise<Result<null>> {
    try {
      const weights = Object.fromEntries(decodeWeights(bytes));
      const trainer = this.#need();
      const fit = policyFit(trainer.policy, weights);
      if (fit) throw new Error(`${fit.replace('this policy', `this ${this.#experiment!.arch} policy for ${this.#experiment!.task}`)} (is it a policy of another task or architecture?)`);
      await this.#reset();
      // A fresh run (iteration 0, new optimiser) that starts from these weights.
      await trainer.importState({ ...(await trainer.exportState()), weights, optimizer: [] });
      await this.#probe(true); // the probe table starts again from these weights
      return { ok: true, value: null };
    } catch (err) {
      return { ok: false, message: message(err) };
    }
  }

  /** Back to iteration 0; the probe table starts again from a round of the reference. */
  async reset(seed?: number): Promise<void> {
    await this.#reset(seed);
    await this.#probe(true);
  }

  async #reset(seed?: number): Promise<void> {
    await this.pause();
    const trainer = this.#need();
    trainer.reset(seed);
    this.#lastGood = null;
    this.#clearPending();
    this.#failedOnReward = false;
    this.#setStatus('idle');
  }

  /** New probe prompts or interval: a round at once with the new prompts (the table starts again from it). */
  async setProbes(probes: Probes): Promise<Result<null>> {
    try {
      this.#experiment = validateExperiment({ ...this.#experiment!, probes });
      await this.#probe(true);
      return { ok: true, value: null };
    } catch (err) {
      return { ok: false, message: message(err) };
    }
  }

  /** A round of probes when due (or now), sent to the page. */
  async #probe(now = false): Promise<void> {
    const round = this.#trainer && this.#experiment ? await probeRound(this.#trainer, this.#experiment, now) : null;
    if (round) this.#emit({ type: 'probes', round });
  }

  async referenceSamples(count: number): Promise<{ prompt: string; text: string }[]> {
    return this.#need().preview(count, 'reference', 7);
  }

  async #loop(): Promise<void> {
    while (this.#running) {
      const started = performance.now();
      if ((await this.#iterate()) === false) break;
      const { speed, stopAt } = this.#pace;
      if (stopAt > 0 && this.#need().iteration === stopAt) break; // "stop at": paused here, as if Pause were pressed
      if (speed > 0) {
        // A pace a class can follow: every iteration drawn, then a wait that Pause cuts short.
        this.#flush();
        await this.#waitWhileRunning(started);
      }
      await new Promise((r) => setTimeout(r, 0)); // queued messages (pause, a new reward) come in between iterations
    }
    this.#running = false;
    this.#flush();
    if (this.#status === 'training') {
      await this.#checkpoint();
      this.#setStatus('paused');
    }
  }

  /** Waits, in short slices, until the pace allows the next iteration after one that began at `started`: a Pause or a new pace takes effect at once. */
  async #waitWhileRunning(started: number): Promise<void> {
    const left = () => (this.#pace.speed > 0 ? started + 1000 / this.#pace.speed - performance.now() : 0);
    while (this.#running && left() > 0) await new Promise((r) => setTimeout(r, Math.min(left(), 50)));
  }

  /** One iteration (with its lesson when asked and the trainer can give one); false when it failed (the run is then stopped with the error shown). */
  async #iterate(capture = false): Promise<IterationLesson | null | false> {
    try {
      let result;
      let lesson: IterationLesson | null = null;
      try {
        result = await this.#need().step({ lesson: capture });
        lesson = result.lesson ?? null;
      } finally {
        this.#logs = this.#reward?.lastLogs ?? [];
      }
      const { metrics, samples } = result;
      if (GPU_BACKENDS.includes(this.#choice.current)) this.#lastGood = await this.#need().exportState();
      await this.#probe();
      this.#pending.push(metrics);
      this.#samples = samples;
      this.#batches.push(keepBatch(metrics.iteration, samples));
      if (performance.now() - this.#lastFlush >= SNAPSHOT_INTERVAL_MS) this.#flush();
      // Every checkpointEvery iterations the page gets the whole state: what a restart or a reload resumes from.
      const trainer = this.#need();
      if (this.#running && trainer.iteration % trainer.hyperparameters.checkpointEvery === 0) await this.#checkpoint();
      return lesson;
    } catch (err) {
      this.#running = false;
      if (!(err instanceof RewardError) && GPU_BACKENDS.includes(this.#choice.current)) return this.#recover(err);
      this.#failedOnReward = err instanceof RewardError;
      const n = this.#need().iteration + 1;
      this.#emit({ type: 'log', iteration: n, logs: this.#logs });
      this.#setStatus(
        'error',
        err instanceof RewardError
          ? `Iteration ${n} stopped: ${message(err)}\nFix the code and press Apply, then Train or Step: iteration ${n} runs again from where the run stopped, with nothing lost.`
          : `Training failed at iteration ${n}: ${message(err)}`,
      );
      return false;
    }
  }

  /** A GPU backend failed mid-iteration (most often a lost device): its policy is not trusted; the run moves to wasm from its last good iteration. */
  async #recover(err: unknown): Promise<false> {
    const failed = this.#choice.current;
    const failedAt = this.#need().iteration + 1;
    const state = this.#lastGood;
    this.#setStatus('loading');
    try {
      try {
        this.#trainer?.dispose();
      } catch (disposeError) {
        console.warn(`could not free the ${failed} tensors after the failure: ${message(disposeError)}`);
      }
      this.#trainer = null;
      this.#learnt.dispose(); // the other policy (a model judge) lived on the lost device too
      await switchBackend('wasm');
      this.#choice.failedOver(failed);
      this.#trainer = createTrainer(this.#experiment!, this.#trained!, await this.#reference(this.#experiment!));
      if (state) await this.#trainer.importState(state);
      const resumed = this.#trainer.iteration;
      this.#emit({ type: 'backend', report: { name: 'wasm', reason: `moved from ${failed} after it failed at iteration ${failedAt}` } });
      this.#emit({
        type: 'notice',
        message: `The ${failed} backend failed at iteration ${failedAt} (${message(err)}). The run moved to wasm and is paused at iteration ${resumed}, with everything before kept.`,
      });
      this.#setStatus(resumed === 0 ? 'idle' : 'paused');
    } catch (recoverError) {
      this.#setStatus('error', `Training failed at iteration ${failedAt} on ${failed} (${message(err)}), and moving to wasm failed too: ${message(recoverError)}`);
    }
    return false;
  }

  /** Sends the page the run's state (weights, optimizer, random streams) and the experiment in force. */
  async #checkpoint(): Promise<void> {
    this.#flush(); // the page holds every iteration's metrics up to the checkpoint before it gets the checkpoint
    const trainer = this.#need();
    const state = this.#lastGood?.iteration === trainer.iteration ? this.#lastGood : await trainer.exportState();
    this.#emit({ type: 'checkpoint', iteration: state.iteration, state: new Blob([encodeTrainerState(state)]), experiment: this.#experiment! });
  }

  #flush(): void {
    this.#lastFlush = performance.now();
    if (this.#pending.length === 0) return;
    this.#emit({ type: 'snapshot', iteration: this.#need().iteration, metrics: this.#pending, samples: this.#samples, batches: this.#batches });
    this.#emit({ type: 'log', iteration: this.#need().iteration, logs: this.#logs });
    this.#pending = [];
    this.#batches = [];
  }

  #clearPending(): void {
    this.#pending = [];
    this.#samples = [];
    this.#batches = [];
  }

  /** A language task's reference policy, fetched from this site or a corpus's from storage (null for a control task, which has none). */
  async #reference(e: Experiment): Promise<Policy | null> {
    const task = getTask(e.task);
    if (task.environment) return null;
    this.#progress('loading the reference policy', 0.3);
    return fetchPolicy(modelId(task, e.arch), (f) => this.#progress('loading the reference policy', 0.3 + 0.4 * f));
  }

  #need(): Trainer | ControlTrainer {
    if (!this.#trainer) throw new Error('no experiment is loaded yet');
    return this.#trainer;
  }

  #setStatus(status: Status, error: string | null = null): void {
    this.#status = status;
    this.#emit({ type: 'status', status, iteration: this.#trainer?.iteration ?? 0, error });
  }

  #progress(stage: string, fraction: number): void {
    this.#emit({ type: 'progress', stage, fraction });
  }
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
