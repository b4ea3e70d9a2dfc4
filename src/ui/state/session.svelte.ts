import { BACKENDS, type BackendName } from '../../core/backendNames.ts';
import { defaultExperiment, type Experiment } from '../../core/experiment.ts';
import { checkField, type HyperparameterName, type Hyperparameters } from '../../core/hyperparameters.ts';
import type { IterationMetrics } from '../../core/metrics.ts';
import type { Arch } from '../../core/policy.ts';
import { defaultReward, getTask } from '../../core/tasks.ts';
import type { ScoredSample } from '../../core/trainer.ts';
import type { BackendReport, Result, Status, TrainerEvent } from '../../worker/protocol.ts';
import { createTrainerClient, type TrainerClient } from '../trainerClient.ts';

/**
 * The page's view of one training session: what the worker reported, and the
 * experiment being edited. Components read these fields and call the methods;
 * only this class talks to the worker client.
 */
export class Session {
  status = $state<Status>('loading');
  /** Why the run stopped (reward failure, lost device), from the worker. */
  runError = $state<string | null>(null);
  /** A request the worker refused (reward that does not compile, bad setting). */
  requestError = $state<string | null>(null);
  /** Something that did not stop the run but the person should know (a GPU fallback). */
  notice = $state<string | null>(null);
  progress = $state({ stage: 'starting', fraction: 0 });
  backend = $state<BackendReport | null>(null);
  iteration = $state(0);
  metrics = $state.raw<IterationMetrics[]>([]);
  samples = $state.raw<ScoredSample[]>([]);
  /** Iterations after which a new reward took effect (marked on the charts). */
  rewardChanges = $state.raw<number[]>([]);
  referenceSamples = $state.raw<string[]>([]);
  experiment = $state<Experiment>(defaultExperiment());
  /** The editor's text, applied or not. */
  draft = $state(defaultExperiment().reward);
  /** The last iteration's wall time in ms. */
  lastIterationMs = $derived(this.metrics.at(-1)?.totalMs ?? null);
  error = $derived(this.runError ?? this.requestError);

  #client: TrainerClient | null = null;
  /** Reward code (applied and in the editor) of the tasks the person left. */
  #shelved = new Map<string, { reward: string; draft: string }>();
  #loaded = false;
  #queue: Promise<unknown> = Promise.resolve();

  async start(search: string): Promise<void> {
    const requested = new URLSearchParams(search).get('backend');
    if (requested !== null && !BACKENDS.includes(requested as BackendName)) {
      this.#fail(`unknown backend "${requested}" in ?backend= (use one of ${BACKENDS.join(', ')})`);
      return;
    }
    this.#client = createTrainerClient((message) => this.#fail(message));
    try {
      this.backend = await this.#client.api.init(this.#client.listener((e) => this.#onEvent(e)), requested as BackendName | null);
    } catch (e) {
      this.#fail(`${requested ? `backend ${requested}` : 'the trainer'} failed to start: ${(e as Error).message}`);
      return;
    }
    await this.#load();
  }

  train(): Promise<void> {
    return this.#inOrder(() => this.#call('Train', (api) => api.train()));
  }

  pause(): Promise<void> {
    return this.#inOrder(() => this.#call('Pause', (api) => api.pause()));
  }

  step(): Promise<void> {
    return this.#inOrder(() => this.#call('Step', (api) => api.step()));
  }

  /** Back to iteration 0; after a failed load, loads again. */
  reset(): Promise<void> {
    return this.#inOrder(() => this.#reset());
  }

  /** Applies the editor's code. The run keeps its policy; the charts mark the change. */
  applyReward(source = this.draft): Promise<boolean> {
    return this.#inOrder(async () => {
      const r = await this.#call<Result<number>>('Apply', (api) => api.applyReward(source));
      if (!r) return false;
      if (!r.ok) {
        this.requestError = r.message;
        return false;
      }
      this.requestError = null;
      if (source !== this.experiment.reward && r.value > 0) this.rewardChanges = [...this.rewardChanges, r.value];
      this.experiment.reward = source;
      return true;
    });
  }

  /** Scores `text` under the editor's code; touches nothing, so it need not wait its turn. */
  async testReward(text: string): Promise<Result<number>> {
    return (await this.#call<Result<number>>('Test', (api) => api.testReward(this.draft, text))) ?? { ok: false, message: 'the trainer is not running' };
  }

  /** Validates one field here (instant feedback), then sends it to the running trainer. */
  setHyperparameter<K extends HyperparameterName>(name: K, value: Hyperparameters[K]): Promise<string | null> {
    const problem = checkField(name, value);
    if (problem) return Promise.resolve(problem);
    return this.#inOrder(async () => {
      const r = await this.#call<Result<null>>('Setting', (api) => api.setHyperparameters({ [name]: value }));
      if (r && !r.ok) return r.message;
      this.experiment.hyperparameters[name] = value;
      return null;
    });
  }

  setTask(taskId: string, arch: Arch = this.experiment.arch): Promise<void> {
    return this.#inOrder(async () => {
      const next = defaultExperiment(taskId, arch);
      if (taskId === this.experiment.task) {
        // Only the architecture changes: keep the reward and settings.
        next.reward = this.experiment.reward;
        next.hyperparameters = { ...this.experiment.hyperparameters };
      } else {
        // Leaving a task keeps its code for when the person comes back.
        this.#shelved.set(this.experiment.task, { reward: this.experiment.reward, draft: this.draft });
        const back = this.#shelved.get(taskId);
        next.reward = back?.reward ?? defaultReward(getTask(taskId));
        this.draft = back?.draft ?? next.reward;
      }
      next.seed = this.experiment.seed;
      this.experiment = next;
      await this.#load();
    });
  }

  setSeed(seed: number): Promise<void> {
    return this.#inOrder(async () => {
      this.experiment.seed = seed;
      await this.#reset();
    });
  }

  async loadReferenceSamples(): Promise<void> {
    this.referenceSamples = (await this.#call('Reference samples', (api) => api.referenceSamples(16))) ?? [];
  }

  /**
   * Runs the person's requests one after another, each seeing the state the one
   * before left: an Apply still in flight must land before a task switch shelves
   * the code, or the switch would shelve the old reward.
   */
  #inOrder<T>(op: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(op);
    this.#queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  async #reset(): Promise<void> {
    if (!this.#loaded) return this.#load();
    await this.#call('Reset', (api) => api.reset(this.experiment.seed));
    this.#clearRun();
  }

  async #load(): Promise<void> {
    if (!this.#client) return;
    this.#clearRun();
    this.referenceSamples = [];
    const r = await this.#client.api.load($state.snapshot(this.experiment));
    this.#loaded = r.ok;
    if (!r.ok) this.runError = r.message;
  }

  /** Calls the worker; a failure becomes a message on the page, never an unhandled rejection. */
  async #call<T>(what: string, fn: (api: TrainerClient['api']) => Promise<T>): Promise<T | undefined> {
    if (!this.#client) return undefined;
    try {
      return await fn(this.#client.api);
    } catch (e) {
      this.requestError = `${what} failed: ${e instanceof Error ? e.message : String(e)}`;
      return undefined;
    }
  }

  #clearRun(): void {
    this.metrics = [];
    this.samples = [];
    this.rewardChanges = [];
    this.iteration = 0;
    this.requestError = null;
  }

  #onEvent(e: TrainerEvent): void {
    switch (e.type) {
      case 'progress':
        this.progress = { stage: e.stage, fraction: e.fraction };
        break;
      case 'status':
        this.status = e.status;
        this.iteration = e.iteration;
        this.runError = e.error;
        break;
      case 'backend':
        this.backend = e.report;
        break;
      case 'notice':
        this.notice = e.message;
        break;
      case 'snapshot':
        this.metrics = [...this.metrics, ...e.metrics];
        this.samples = e.samples;
        this.iteration = e.iteration;
        break;
    }
  }

  #fail(message: string): void {
    this.status = 'error';
    this.runError = message;
  }
}
