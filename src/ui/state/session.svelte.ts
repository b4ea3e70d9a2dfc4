import { BACKENDS, type BackendName } from '../../core/backendNames.ts';
import { defaultExperiment, type Experiment } from '../../core/experiment.ts';
import { checkField, sandboxLimits, type HyperparameterName, type Hyperparameters } from '../../core/hyperparameters.ts';
import type { IterationMetrics } from '../../core/metrics.ts';
import type { Arch } from '../../core/policy.ts';
import type { Sample } from '../../core/reward.ts';
import type { RewardLog, RewardSpec } from '../../core/sandbox/types.ts';
import { defaultRewards, getTask, taskTokenizer } from '../../core/tasks.ts';
import type { ScoredSample } from '../../core/trainer.ts';
import type { BackendReport, Result, SandboxOutcome, Status, TrainerEvent } from '../../worker/protocol.ts';
import { SandboxClient } from '../../worker/sandboxClient.ts';
import type { ChartMarker } from '../metrics/markers.ts';
import { createTrainerClient, type TrainerClient } from '../trainerClient.ts';
import { rewardsLabel } from './rewardLabel.ts';
import { RewardDrafts } from './rewardDrafts.svelte.ts';

/** A completion of the frozen reference policy, scored under the applied reward (null when that failed). */
export interface ReferenceSample {
  text: string;
  reward: number | null;
}

/** How many reference completions are shown, and how many of them check a draft before Apply. */
const REFERENCE_COUNT = 16;
const CHECKED_REFERENCES = 8;

/**
 * The page's view of one training session: what the worker reported, and the
 * experiment being edited. Components read these fields and call the methods;
 * only this class talks to the workers.
 */
export class Session {
  status = $state<Status>('loading');
  /** Pause was pressed and the running iteration has not ended yet. */
  pausing = $state(false);
  /** Why the run stopped (reward failure, lost device), from the worker. */
  runError = $state<string | null>(null);
  /** A request that was refused (reward that does not compile or fails its check, bad setting). */
  requestError = $state<string | null>(null);
  /** Something that did not stop the run but the person should know (a GPU fallback). */
  notice = $state<string | null>(null);
  progress = $state({ stage: 'starting', fraction: 0 });
  backend = $state<BackendReport | null>(null);
  iteration = $state(0);
  metrics = $state.raw<IterationMetrics[]>([]);
  samples = $state.raw<ScoredSample[]>([]);
  /** What changed mid-run (a reward, a setting) and after which iteration: marked on the charts. */
  changes = $state.raw<ChartMarker[]>([]);
  referenceSamples = $state.raw<ReferenceSample[]>([]);
  experiment = $state<Experiment>(defaultExperiment());
  /** The reward components as the editor holds them, applied or not. */
  drafts = new RewardDrafts(defaultExperiment().rewards);
  /** The selected component's code, as the editor shows it. */
  draft = $derived(this.drafts.current.source);
  /** The test bench's text: scored as the person types, and part of the check before Apply. */
  benchText = $state('annabelle');
  /** The editor holds rewards that are not the ones in force. */
  dirty = $derived(!this.drafts.same(this.experiment.rewards));
  /** What the reward code printed last, and where (an iteration or the test bench). */
  logs = $state.raw<{ source: string; logs: RewardLog[] } | null>(null);
  /** The last iteration's wall time in ms. */
  lastIterationMs = $derived(this.metrics.at(-1)?.totalMs ?? null);
  error = $derived(this.runError ?? this.requestError);

  #client: TrainerClient | null = null;
  /** The page's own sandbox worker: the test bench, the check before Apply, reference scores. */
  #sandbox = new SandboxClient();
  /** What the person had on the tasks they left: reward code (applied and in the editor) and settings. */
  #shelved = new Map<string, { rewards: RewardSpec[]; drafts: RewardSpec[]; hyperparameters: Hyperparameters }>();
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

  /** Trains on the code shown: a pending draft is applied first, and a draft that is refused trains nothing. */
  train(): Promise<void> {
    return this.#inOrder(async () => {
      if (this.dirty && !(await this.#apply(this.drafts.list, 'Train'))) return;
      await this.#call('Train', (api) => api.train());
    });
  }

  pause(): Promise<void> {
    this.pausing = true;
    return this.#inOrder(async () => {
      try {
        await this.#call('Pause', (api) => api.pause());
      } finally {
        this.pausing = false;
      }
    });
  }

  step(): Promise<void> {
    return this.#inOrder(async () => {
      if (this.dirty && !(await this.#apply(this.drafts.list, 'Step'))) return;
      await this.#call('Step', (api) => api.step());
    });
  }

  /** Back to iteration 0; after a failed load, loads again. */
  reset(): Promise<void> {
    return this.#inOrder(() => this.#reset());
  }

  /**
   * Applies the editor's code once it passes a check on the test bench's text and
   * a few reference samples. The run keeps its policy; the charts mark the change.
   */
  applyReward(rewards: RewardSpec[] = this.drafts.list): Promise<boolean> {
    return this.#inOrder(() => this.#apply(rewards, 'Apply'));
  }

  /**
   * Scores `text` under the editor's rewards in the page's own sandbox: it
   * answers while an iteration runs. The total, and each component's value.
   */
  async testReward(text: string): Promise<Result<{ total: number; components: { name: string; weight: number; value: number }[] }>> {
    let sample: Sample;
    try {
      sample = { text, tokens: taskTokenizer(getTask(this.experiment.task)).encode(text), prompt: '', index: 0 };
    } catch (e) {
      return { ok: false, message: (e as Error).message };
    }
    const rewards = this.drafts.list;
    const r = await this.#score(rewards, [sample]);
    if (r.ok || r.logs) this.logs = { source: 'test bench', logs: r.ok ? (r.scores.logs ?? []) : r.logs! };
    if (!r.ok) return { ok: false, message: r.message };
    return { ok: true, value: { total: r.scores.total[0], components: r.scores.components.map((c, i) => ({ name: c.name, weight: rewards[i].weight, value: c.values[0] })) } };
  }

  /** Validates one field here (instant feedback), then sends it to the running trainer. */
  setHyperparameter<K extends HyperparameterName>(name: K, value: Hyperparameters[K]): Promise<string | null> {
    const problem = checkField(name, value);
    if (problem) return Promise.resolve(problem);
    return this.#inOrder(async () => {
      const r = await this.#call<Result<number>>('Setting', (api) => api.setHyperparameters({ [name]: value }));
      if (!r) return this.requestError;
      if (!r.ok) return r.message;
      if (this.experiment.hyperparameters[name] !== value) this.#mark(r.value, 'setting', `${name} = ${value}`);
      this.experiment.hyperparameters[name] = value;
      return null;
    });
  }

  setTask(taskId: string, arch: Arch = this.experiment.arch): Promise<void> {
    return this.#inOrder(async () => {
      const next = defaultExperiment(taskId, arch);
      if (taskId === this.experiment.task) {
        // Only the architecture changes: keep the rewards and settings.
        next.rewards = $state.snapshot(this.experiment.rewards);
        next.hyperparameters = { ...this.experiment.hyperparameters };
      } else {
        // Leaving a task keeps its code and settings for when the person comes back.
        this.#shelved.set(this.experiment.task, {
          rewards: $state.snapshot(this.experiment.rewards),
          drafts: this.drafts.list,
          hyperparameters: { ...this.experiment.hyperparameters },
        });
        const back = this.#shelved.get(taskId);
        next.rewards = back?.rewards ?? defaultRewards(getTask(taskId));
        if (back) next.hyperparameters = { ...back.hyperparameters };
        this.drafts.reset(back?.drafts ?? next.rewards);
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

  dismissNotice(): void {
    this.notice = null;
  }

  /** Puts an example's code in the selected component; it trains once applied (or on Train). */
  loadExample(key: string): void {
    const example = getTask(this.experiment.task).examples[key];
    if (example) this.drafts.setSource(example.source);
  }

  setDraft(source: string): void {
    this.drafts.setSource(source);
  }

  setBenchText(text: string): void {
    this.benchText = text;
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

  async #apply(rewards: RewardSpec[], what: string): Promise<boolean> {
    const problem = this.drafts.problem() ?? (await this.#check(rewards));
    if (problem) {
      this.requestError = `${what === 'Apply' ? 'Not applied' : `${what} did not start: the editor's code was not applied`}: ${problem}`;
      return false;
    }
    const r = await this.#call<Result<number>>(what, (api) => api.applyReward(rewards));
    if (!r) return false;
    if (!r.ok) {
      this.requestError = `${what === 'Apply' ? 'Not applied' : `${what} did not start: the editor's code was not applied`}: ${r.message}`;
      return false;
    }
    this.requestError = null;
    if (!this.drafts.same(this.experiment.rewards, rewards)) this.#mark(r.value, 'reward', rewardsLabel(getTask(this.experiment.task), rewards));
    this.experiment.rewards = rewards.map((s) => ({ ...s }));
    void this.#scoreReferences();
    return true;
  }

  /** Scores samples in the page's sandbox under `rewards`, as the next iteration would see them. */
  #score(rewards: RewardSpec[], samples: Sample[]): Promise<SandboxOutcome> {
    return this.#sandbox.score(rewards, sandboxLimits(this.experiment.hyperparameters), samples, { iteration: this.iteration + 1, task: this.experiment.task });
  }

  /** Runs draft code on the bench's text and a few reference samples; the problem, or null when it scores them all. */
  async #check(rewards: RewardSpec[]): Promise<string | null> {
    const texts = this.referenceSamples.slice(0, CHECKED_REFERENCES).map((s) => s.text);
    const bench = this.#encodable(this.benchText);
    if (bench) texts.unshift(this.benchText);
    const r = await this.#score(rewards, this.#samples(texts));
    if (r.ok) return null;
    const on = [bench ? "the test bench's text" : '', texts.length > (bench ? 1 : 0) ? `${texts.length - (bench ? 1 : 0)} reference samples` : ''].filter(Boolean).join(' and ');
    return on ? `${r.message} (checked on ${on})` : r.message;
  }

  #samples(texts: string[]): Sample[] {
    const tokenizer = taskTokenizer(getTask(this.experiment.task));
    return texts.map((text, index) => ({ text, tokens: tokenizer.encode(text), prompt: '', index }));
  }

  #encodable(text: string): boolean {
    try {
      taskTokenizer(getTask(this.experiment.task)).encode(text);
      return true;
    } catch {
      return false; // the bench says why; the check before Apply leaves this text out
    }
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
    if (!r.ok) {
      this.runError = r.message;
      return;
    }
    const texts = (await this.#call('Reference samples', (api) => api.referenceSamples(REFERENCE_COUNT))) ?? [];
    this.referenceSamples = texts.map((text) => ({ text, reward: null }));
    await this.#scoreReferences();
  }

  /** Scores the reference samples under the applied reward, so before and after compare. */
  async #scoreReferences(): Promise<void> {
    const refs = this.referenceSamples;
    if (refs.length === 0) return;
    const r = await this.#score($state.snapshot(this.experiment.rewards), this.#samples(refs.map((s) => s.text)));
    if (this.referenceSamples !== refs) return; // a newer load replaced them
    this.referenceSamples = refs.map((s, i) => ({ text: s.text, reward: r.ok ? r.scores.total[i] : null }));
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

  /** A change mid-run; before the first iteration nothing is drawn yet, so nothing to mark. */
  #mark(iteration: number, kind: ChartMarker['kind'], label: string): void {
    if (iteration > 0) this.changes = [...this.changes, { iteration, kind, label }];
  }

  #clearRun(): void {
    this.metrics = [];
    this.samples = [];
    this.changes = [];
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
      case 'log':
        this.logs = { source: `iteration ${e.iteration}`, logs: e.logs };
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
