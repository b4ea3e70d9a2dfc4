import * as Comlink from 'comlink';
import { BACKENDS, GPU_BACKENDS, type BackendName } from '../../core/backend/names.ts';
import { defaultExperiment, VIEWS, type Experiment, type View } from '../../core/experiment/experiment.ts';
import { decodeExperiment, encodeExperiment, hasExperiment } from '../../core/experiment/link.ts';
import type { ReadFile } from '../../worker/filesApi.ts';
import { filesWorker } from '../filesClient.ts';
import { checkField, type HyperparameterName, type Hyperparameters } from '../../core/hyperparameters.ts';
import type { IterationMetrics } from '../../core/training/metrics.ts';
import { switchAlgorithmSettings, type AlgorithmId } from '../../core/algorithms/catalog.ts';
import type { Arch } from '../../core/policy/policy.ts';
import type { Sample } from '../../core/reward/reward.ts';
import type { RewardLog, RewardSpec } from '../../core/reward/sandbox/types.ts';
import { defaultRewards, getTask } from '../../core/tasks/index.ts';
import type { ScoredSample } from '../../core/training/runState.ts';
import type { BackendReport, Result, Status, TrainerEvent } from '../../worker/trainerApi.ts';
import type { ChartMarker } from '../metrics/markers.ts';
import { createTrainerClient, type TrainerClient } from '../trainerClient.ts';
import { rewardsLabel } from './rewardLabel.ts';
import { RewardDrafts } from './rewardDrafts.svelte.ts';
import { SavedRuns } from './savedRuns.svelte.ts';
import { RewardCheck } from './rewardCheck.ts';

/** A completion of the frozen reference policy, scored under the applied reward (null when that failed). */
export interface ReferenceSample {
  prompt: string;
  text: string;
  reward: number | null;
}

/** How often the watchdog asks the trainer worker for a sign of life, and how long it waits by default. */
const PING_INTERVAL_MS = 5000;
const STALL_MS = 30_000;

/** How many reference completions are shown. */
const REFERENCE_COUNT = 16;

/**
 * The page's view of one training session: what the worker reported, and the
 * experiment being edited. Components read these fields and call the methods;
 * only this class talks to the workers.
 */
/** Asks whether an imported file may replace a run of `iterations` iterations; true to go ahead. */
export type MayReplace = (what: { fileName: string; iterations: number }) => Promise<boolean>;

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
  /** The prompt the bench's text continues: the task's first. */
  benchPrompt = $derived(getTask(this.experiment.task).prompts[0]);
  /** The editor holds rewards that are not the ones in force. */
  dirty = $derived(!this.drafts.same(this.experiment.rewards));
  /** What the reward code printed last, and where (an iteration or the test bench). */
  logs = $state.raw<{ source: string; logs: RewardLog[] } | null>(null);
  /** The last iteration's wall time in ms. */
  lastIterationMs = $derived(this.metrics.at(-1)?.totalMs ?? null);
  error = $derived(this.runError ?? this.requestError);
  /** Saved runs: this one as it trains, the list, the offer to resume. */
  runs = new SavedRuns(() => ({
    experiment: $state.snapshot(this.experiment) as Experiment,
    metrics: this.metrics,
    samples: this.samples,
    changes: this.changes,
    live: this.status === 'training',
  }));
  /** Where the experiment on screen came from, when that is worth a line (a link, a file, a resumed run). */
  origin = $state<string | null>(null);
  /** Why a link or a file could not be opened (the default experiment is open instead). */
  openProblem = $state<string | null>(null);
  /** How the page is laid out: from the link's experiment, or ?view= in the address. */
  view = $state<View>('full');
  /** In the classroom view the code is read-only until Edit is pressed. */
  editing = $state(true);

  #client: TrainerClient | null = null;
  #requested: BackendName | null = null;
  /** The worker's last checkpoint: what a restart resumes from. */
  #checkpoint: { state: Blob; experiment: Experiment } | null = null;
  #stallMs = STALL_MS;
  #pinging = false;
  #restarting = false;
  /** The page's own sandbox worker: the test bench, the check before Apply, reference scores. */
  /** Draft rewards scored in the page's own sandbox: the bench, the check before Apply, the reference samples. */
  #rewards = new RewardCheck(() => ({ experiment: this.experiment, iteration: this.iteration, benchText: this.benchText, benchPrompt: this.benchPrompt, referenceSamples: this.referenceSamples }));
  /** What the person had on the tasks they left: reward code (applied and in the editor) and settings. */
  #shelved = new Map<string, { rewards: RewardSpec[]; drafts: RewardSpec[]; hyperparameters: Hyperparameters }>();
  #loaded = false;
  #queue: Promise<unknown> = Promise.resolve();

  async start(search: string, hash = ''): Promise<void> {
    const requested = new URLSearchParams(search).get('backend');
    if (requested !== null && !BACKENDS.includes(requested as BackendName)) {
      this.#fail(`unknown backend "${requested}" in ?backend= (use one of ${BACKENDS.join(', ')})`);
      return;
    }
    const watchdog = Number(new URLSearchParams(search).get('watchdog'));
    if (watchdog > 0) this.#stallMs = watchdog * 1000;
    this.#requested = requested as BackendName | null;
    const viewParam = new URLSearchParams(search).get('view');
    await this.#openLink(hash);
    if (viewParam !== null) {
      if ((VIEWS as readonly string[]).includes(viewParam)) this.view = viewParam as View;
      else this.openProblem = `Unknown view "${viewParam}" in ?view= (use one of ${VIEWS.join(', ')}); showing the full page.`;
    }
    this.editing = this.view !== 'classroom';
    const opening = this.runs.open();
    const client = this.#newClient();
    try {
      this.backend = await Promise.race([client.api.init(client.listener((e) => this.#onEvent(e)), this.#requested, $state.snapshot(this.experiment)), client.dead]);
    } catch (e) {
      this.#fail(`${requested ? `backend ${requested}` : 'the trainer'} failed to start: ${(e as Error).message}`);
      return;
    }
    await this.#load();
    await opening;
    setInterval(() => void this.#watch(), PING_INTERVAL_MS);
  }

  /** Opens the experiment a link carries; a bad link leaves the default open and says why. */
  async #openLink(hash: string): Promise<void> {
    if (!hasExperiment(hash)) return;
    try {
      const e = await decodeExperiment(hash);
      this.#show(e);
      this.view = e.view;
      this.origin = 'This experiment came from a link: its settings and reward code are shown as they came, and the code runs in the sandbox. Nothing trains until you press Train.';
    } catch (e) {
      this.openProblem = `This link could not be opened, so the default experiment is open instead. ${(e as Error).message}`;
    }
  }

  /** Puts an experiment on screen (before it is loaded into the worker). */
  #show(e: Experiment): void {
    if (e.task !== this.experiment.task) this.benchText = getTask(e.task).benchText;
    this.experiment = e;
    this.drafts.reset(e.rewards);
  }

  /** The link that opens the experiment in force (applied rewards, current settings) in the given view. */
  async shareLink(view: View = 'full'): Promise<string> {
    const e = { ...$state.snapshot(this.experiment), view };
    return `${location.origin}${location.pathname}#${await encodeExperiment(e)}`;
  }

  /**
   * Opens an experiment or run file: its experiment replaces the one on screen.
   * The files worker reads and checks it (a large file never blocks the page) and
   * keeps its history; a file that cannot be read is refused before anything is
   * asked; one that can replaces a run only once `mayReplace` agrees.
   */
  importFile(file: Blob, fileName: string, mayReplace: MayReplace): Promise<boolean> {
    return this.#inOrder(async () => {
      let read: ReadFile;
      try {
        read = await filesWorker().read(file);
      } catch (e) {
        read = { ok: false, message: `it could not be read (${(e as Error).message})` };
      }
      if (!read.ok) {
        this.openProblem = `${fileName} could not be imported: ${read.message}`;
        return false;
      }
      if (!(await this.#mayReplace(mayReplace, fileName))) {
        void filesWorker().drop(read.token);
        return false;
      }
      this.openProblem = null;
      this.#show(read.experiment);
      this.origin = `Imported from ${fileName}${read.iterations ? ` (its ${read.iterations} iterations are in Saved runs, for comparison)` : ''}. Nothing trains until you press Train.`;
      await this.#load();
      if (read.iterations) await this.runs.addImported(read.name ?? fileName, read.experiment, read);
      return true;
    });
  }

  /** The policy as it is now, in the checkpoint format (the weights file). */
  exportPolicy(): Promise<Uint8Array | undefined> {
    return this.#inOrder(() => this.#call('Export', (api) => api.exportPolicy()));
  }

  /** Starts the run again from a policy file's weights, which must be finite and fit the task and architecture on screen. */
  importPolicy(bytes: Uint8Array, fileName: string, mayReplace: MayReplace): Promise<boolean> {
    return this.#inOrder(async () => {
      // The worker reads the file (format, finite weights, fit) before it touches the run: a refused file loses nothing.
      if (!(await this.#mayReplace(mayReplace, fileName))) return false;
      const r = await this.#call<Result<null>>('Import', (api) => api.importPolicy(Comlink.transfer(bytes, [bytes.buffer])));
      if (!r) return false;
      if (!r.ok) {
        this.openProblem = `${fileName} could not be imported: ${r.message.replace(/^checkpoint: (?!tensor)/, 'not a policy file: ').replace(/^checkpoint: /, '')}`;
        return false;
      }
      this.openProblem = null;
      this.#clearRun();
      this.origin = `The policy now starts from the weights in ${fileName} (the reference for the KL stays the shipped one). Nothing trains until you press Train.`;
      return true;
    });
  }

  /** Opens a dropped or picked file: a policy's weights (checkpoint format) or an experiment; a run on screen is replaced only once `mayReplace` agrees. */
  async openFile(file: File, mayReplace: MayReplace): Promise<void> {
    const magic = new TextDecoder().decode(new Uint8Array(await file.slice(0, 8).arrayBuffer()));
    if (magic === 'RLCFCKPT' || file.name.endsWith('.bin')) await this.importPolicy(new Uint8Array(await file.arrayBuffer()), file.name, mayReplace);
    else await this.importFile(file, file.name, mayReplace);
  }

  /** Whether an import may replace what is on screen: asked only when there is a run to lose. */
  async #mayReplace(mayReplace: MayReplace, fileName: string): Promise<boolean> {
    return this.iteration === 0 || (await mayReplace({ fileName, iterations: this.iteration }));
  }

  /** Continues a saved run from its last checkpoint (or opens its experiment at iteration 0 when it has none). */
  resume(id: string): Promise<void> {
    return this.#inOrder(async () => {
      let saved;
      try {
        saved = await this.runs.load(id);
      } catch (e) {
        this.requestError = `Resume failed: ${(e as Error).message}`;
        return;
      }
      const { run, metrics, samples, checkpoint } = saved;
      if (!(await this.runs.claim(id))) {
        this.requestError = `"${run.name}" is open in another tab of this browser: continue it there, or close that tab and resume it here.`;
        return;
      }
      this.#show(checkpoint?.experiment ?? run.experiment);
      await this.#load();
      if (!this.#loaded) return;
      let at = 0;
      if (checkpoint) {
        const r = await this.#call<Result<number>>('Resume', (api) => api.restore(checkpoint.state));
        if (!r) return;
        if (!r.ok) {
          this.requestError = `Resume failed: ${r.message}`;
          return;
        }
        at = r.value;
        this.metrics = metrics.filter((m) => m.iteration <= at);
        this.changes = run.changes.filter((c) => c.iteration <= at);
        // The saved samples are the latest batch's: shown when they are the checkpoint's iteration's.
        if (metrics.length === at) this.samples = samples;
        this.iteration = at;
        this.#checkpoint = { state: checkpoint.state, experiment: checkpoint.experiment };
      }
      this.runs.attach({ ...run, iterations: this.metrics.length, lastReward: this.metrics.at(-1)?.rewardMean ?? null, checkpointIteration: checkpoint ? at : null }, this.metrics.length);
      this.runs.changed(true);
      const lost = metrics.length - at;
      this.origin = `Resumed "${run.name}" at iteration ${at}${lost > 0 ? `: the ${lost} iteration${lost === 1 ? '' : 's'} after its last checkpoint were not saved and will run again` : ''}. Press Train to continue.`;
    });
  }

  /** Leaves the interrupted run saved, without resuming it. */
  dismissResume(): Promise<void> {
    return this.runs.dismissOffer();
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

  /** Before the page reloads (a new version): training pauses, which checkpoints the run, and every save is written. */
  async saveForReload(): Promise<void> {
    if (this.status === 'training') await this.pause();
    this.runs.changed(true);
    await this.runs.settled();
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
    let samples: Sample[];
    try {
      samples = await this.#rewards.samples([{ prompt: this.benchPrompt, text }]);
    } catch (e) {
      return { ok: false, message: (e as Error).message };
    }
    const rewards = this.drafts.list;
    const r = await this.#rewards.score(rewards, samples);
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
      const next = defaultExperiment(taskId, arch, this.experiment.algorithm);
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
        this.benchText = getTask(taskId).benchText;
      }
      next.seed = this.experiment.seed;
      next.algorithm = this.experiment.algorithm;
      this.experiment = next;
      await this.#load();
    });
  }

  /**
   * Another algorithm starts the run again from the reference policy, with the same
   * task, rewards and settings; a setting still at the old algorithm's default takes the new one's.
   */
  setAlgorithm(algorithm: AlgorithmId): Promise<void> {
    return this.#inOrder(async () => {
      const now = $state.snapshot(this.experiment);
      const hyperparameters = switchAlgorithmSettings(now.hyperparameters, getTask(now.task).hyperparameters, now.algorithm, algorithm);
      this.experiment = { ...now, algorithm, hyperparameters };
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
    const problem = this.drafts.problem() ?? (await this.#rewards.check(rewards));
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

  async #reset(): Promise<void> {
    if (!this.#loaded) return this.#load();
    await this.#call('Reset', (api) => api.reset(this.experiment.seed));
    this.#clearRun();
  }

  async #load(): Promise<void> {
    if (!this.#client) return;
    this.#clearRun();
    this.referenceSamples = [];
    this.#checkpoint = null;
    const experiment = $state.snapshot(this.experiment);
    const r = await this.#call<Result<null>>('Loading', (api) => api.load(experiment));
    if (!r) return;
    this.#loaded = r.ok;
    if (!r.ok) {
      this.runError = r.message;
      return;
    }
    const texts = (await this.#call('Reference samples', (api) => api.referenceSamples(REFERENCE_COUNT))) ?? [];
    this.referenceSamples = texts.map(({ prompt, text }) => ({ prompt, text, reward: null }));
    await this.#scoreReferences();
  }

  /** Scores the reference samples under the applied reward, so before and after compare. */
  async #scoreReferences(): Promise<void> {
    const refs = this.referenceSamples;
    if (refs.length === 0) return;
    let samples: Sample[];
    try {
      samples = await this.#rewards.samples(refs);
    } catch (e) {
      this.requestError = `The reference samples could not be scored: ${(e as Error).message}`;
      return;
    }
    const r = await this.#rewards.score($state.snapshot(this.experiment.rewards), samples);
    if (this.referenceSamples !== refs) return; // a newer load replaced them
    this.referenceSamples = refs.map((s, i) => ({ ...s, reward: r.ok ? r.scores.total[i] : null }));
  }

  /**
   * Calls the worker; a failure becomes a message on the page, never an unhandled
   * rejection, and a call to a worker that was ended rejects instead of waiting forever.
   */
  async #call<T>(what: string, fn: (api: TrainerClient['api']) => Promise<T>): Promise<T | undefined> {
    const client = this.#client;
    if (!client) return undefined;
    try {
      return await Promise.race([fn(client.api), client.dead]);
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
    this.runs.detach();
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
        this.runs.changed(e.status !== 'training');
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
      case 'checkpoint':
        this.#checkpoint = { state: e.state, experiment: e.experiment };
        this.runs.checkpoint(e.iteration, e.state, e.experiment);
        break;
      case 'snapshot':
        this.metrics = [...this.metrics, ...e.metrics];
        this.samples = e.samples;
        this.iteration = e.iteration;
        this.runs.changed();
        break;
    }
  }

  #newClient(): TrainerClient {
    const client = createTrainerClient((message) => {
      if (client !== this.#client) return;
      if (this.#loaded) void this.#restart(`crashed (${message})`);
      else this.#fail(message);
    });
    this.#client = client;
    return client;
  }

  /** Asks the worker for a sign of life; one that does not answer in time is restarted. */
  async #watch(): Promise<void> {
    const client = this.#client;
    if (!client || this.#pinging || this.#restarting || !this.#loaded) return;
    this.#pinging = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const silent = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.#stallMs)));
    const answered = await Promise.race([client.api.ping().then(() => true), client.dead.catch(() => true), silent]);
    clearTimeout(timer);
    this.#pinging = false;
    if (!answered && client === this.#client) await this.#restart(`stopped answering for ${Math.round(this.#stallMs / 1000)} s`);
  }

  /**
   * Replaces a trainer worker that hung or crashed: calls waiting on it reject,
   * and a fresh worker (on wasm, when a GPU backend may be the cause) loads the
   * experiment in force and continues from the last checkpoint.
   */
  async #restart(reason: string): Promise<void> {
    if (this.#restarting) return;
    this.#restarting = true;
    const old = this.#client;
    this.#client = null;
    old?.terminate(`the trainer ${reason} and was restarted`);
    this.status = 'loading';
    this.pausing = false;
    const from = this.#checkpoint;
    const gpu = this.backend !== null && GPU_BACKENDS.includes(this.backend.name);
    await this.#inOrder(async () => {
      const client = this.#newClient();
      try {
        const experiment = from?.experiment ?? $state.snapshot(this.experiment);
        this.backend = await Promise.race([client.api.init(client.listener((e) => this.#onEvent(e)), gpu ? 'wasm' : this.#requested, experiment), client.dead]);
        const loaded = await Promise.race([client.api.load(experiment), client.dead]);
        if (!loaded.ok) throw new Error(loaded.message);
        let resumed = 0;
        if (from) {
          const r = await Promise.race([client.api.restore(from.state), client.dead]);
          if (!r.ok) throw new Error(r.message);
          resumed = r.value;
        }
        const lost = this.iteration - resumed;
        this.metrics = this.metrics.filter((m) => m.iteration <= resumed);
        this.changes = this.changes.filter((c) => c.iteration <= resumed);
        if (lost > 0) this.samples = [];
        this.iteration = resumed;
        this.experiment.rewards = experiment.rewards;
        this.experiment.hyperparameters = experiment.hyperparameters;
        this.requestError = null; // the calls it answers were cut short by the restart the notice explains
        this.notice =
          `The trainer ${reason}. It was restarted on ${this.backend.name} and continues from iteration ${resumed}` +
          (lost > 0 ? `; the ${lost} iteration${lost === 1 ? '' : 's'} after its last saved state were lost.` : ', with nothing lost.');
      } catch (e) {
        this.#fail(`The trainer ${reason}, and restarting it failed: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        this.#restarting = false;
      }
    });
  }

  #fail(message: string): void {
    this.status = 'error';
    this.runError = message;
  }
}
