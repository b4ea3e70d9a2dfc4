import { BACKENDS, type BackendName } from '../../core/backend/names.ts';
import { defaultExperiment, VIEWS, type Experiment, type Pace, type View } from '../../core/experiment/experiment.ts';
import { encodeExperiment, forLink } from '../../core/experiment/link.ts';
import { checkField, type HyperparameterName, type Hyperparameters } from '../../core/hyperparameters.ts';
import type { IterationMetrics } from '../../core/training/metrics.ts';
import { switchAlgorithmSettings, type AlgorithmId } from '../../core/algorithms/catalog.ts';
import type { Arch } from '../../core/policy/policy.ts';
import type { RewardSpec } from '../../core/reward/sandbox/types.ts';
import { getTask } from '../../core/tasks/index.ts';
import type { ScoredSample } from '../../core/training/runState.ts';
import type { BackendReport, Result, Status } from '../../worker/trainerApi.ts';
import type { ChartMarker } from '../metrics/markers.ts';
import { rewardsLabel } from './rewardLabel.ts';
import { RewardEditing } from './rewardEditing.svelte.ts';
import { SavedRuns } from './savedRuns.svelte.ts';
import { importFile, importPolicy, openFile, openLink, resumeRun, type MayReplace } from './opening.ts';
import { TrainerConnection } from './trainerConnection.ts';
import { applyEvent, applyRestart } from './runEvents.ts';
import { TaskShelf } from './taskShelf.ts';
import { RequestQueue } from './requestQueue.ts';
import { Lesson } from './lesson.svelte.ts';
import type { IterationLesson } from '../../core/algorithms/lesson.ts';
import { Guide } from './guide.svelte.ts';
import { RunHistory } from './history.svelte.ts';
import { ProbeLog } from './probes.svelte.ts';
import { Preferences } from './preferences.svelte.ts';
import { componentWeights, type FitReport } from '../../core/training/learntReward.ts';

export type { MayReplace } from './opening.ts';

/** How many reference completions are shown. */
const REFERENCE_COUNT = 16;

/**
 * The page's view of one training session: what the worker reported, and the
 * experiment being edited. Components read these fields and call the methods.
 * The trainer worker is reached through `connection` (trainerConnection.ts,
 * its events applied by runEvents.ts), the reward being edited is `reward`
 * (rewardEditing.svelte.ts), links, files and saved runs are opened by
 * opening.ts, and the person's requests run one after another (requestQueue.ts).
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
  experiment = $state<Experiment>(defaultExperiment());
  /** The reward as the editor holds it: drafts, the test bench, what the code printed, the reference samples. */
  readonly reward = new RewardEditing(() => ({ experiment: this.experiment, iteration: this.iteration }));
  /** Lesson mode and the per-token view: the last stepped iteration's own numbers. */
  readonly lesson = new Lesson();
  /** A ready-made lesson being followed, step by step. */
  readonly guide = new Guide();
  /** Every iteration's batch, kept for the whole run, and which one the samples show. */
  readonly history = new RunHistory(() => ({ iteration: this.iteration, samples: this.samples }));
  /** The probe prompts' completions through the run; `probes.set` changes the prompts. */
  readonly probes = new ProbeLog((p) => this.#queue.run(() => this.connection.call<Result<null>>('Probes', (api) => api.setProbes(p))), (p) => (this.experiment.probes = p));
  /** A person's preference labels, and the reward models' fits (preferences.svelte.ts). */
  readonly preferences: Preferences = new Preferences(this, (labels) => this.#queue.run(() => this.connection.call<Result<FitReport[]>>('Reward model', (api) => api.trainRewardModel(labels()))));
  /** The last iteration's wall time in ms. */
  lastIterationMs = $derived(this.metrics.at(-1)?.totalMs ?? null);
  error = $derived(this.runError ?? this.requestError);
  /** Saved runs: this one as it trains, the list, the offer to resume. */
  runs = new SavedRuns(() => ({
    experiment: $state.snapshot(this.experiment) as Experiment,
    metrics: this.metrics,
    samples: this.samples,
    history: this.history.kept,
    probes: this.probes.rounds,
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

  /** The worker's last checkpoint: what a restart resumes from. */
  checkpoint: { state: Blob; experiment: Experiment } | null = null;
  readonly connection = new TrainerConnection({
    onEvent: (e) => applyEvent(this, e),
    onCallFailed: (message) => (this.requestError = message),
    onFailed: (message) => this.#fail(message),
    onRestarting: () => {
      this.status = 'loading';
      this.pausing = false;
    },
    restartFrom: () => this.checkpoint ?? { experiment: $state.snapshot(this.experiment) as Experiment, state: null },
    onRestarted: (r) => {
      applyRestart(this, r);
      this.lesson.clear(); // a new worker: a capture of the old one may not match the batches to come
    },
    loaded: () => this.#loaded,
    inOrder: (op) => this.#queue.run(op),
  });
  #shelf = new TaskShelf();
  #loaded = false;
  #queue = new RequestQueue();

  async start(search: string, hash = ''): Promise<void> {
    const params = new URLSearchParams(search);
    const requested = params.get('backend');
    if (requested !== null && !BACKENDS.includes(requested as BackendName)) {
      this.#fail(`unknown backend "${requested}" in ?backend= (use one of ${BACKENDS.join(', ')})`);
      return;
    }
    const viewParam = params.get('view');
    const lessonParam = params.get('lesson');
    if (lessonParam !== null) {
      const begun = this.guide.begin(lessonParam, Number(params.get('step') ?? 1));
      if ('experiment' in begun) this.show(begun.experiment);
      else this.openProblem = begun.problem;
    } else await openLink(this, hash);
    if (viewParam !== null) {
      if ((VIEWS as readonly string[]).includes(viewParam)) this.view = viewParam as View;
      else this.openProblem = `Unknown view "${viewParam}" in ?view= (use one of ${VIEWS.join(', ')}); showing the full page.`;
    }
    this.editing = this.view !== 'classroom';
    const opening = this.runs.open();
    try {
      this.backend = await this.connection.start(requested as BackendName | null, $state.snapshot(this.experiment) as Experiment, Number(params.get('watchdog')));
    } catch (e) {
      this.#fail(`${requested ? `backend ${requested}` : 'the trainer'} failed to start: ${(e as Error).message}`);
      return;
    }
    await this.load();
    await opening;
    this.connection.watch();
  }

  /** Puts an experiment on screen (before it is loaded into the worker). */
  show(e: Experiment): void {
    this.reward.show(e, this.experiment);
    this.experiment = e;
  }

  /** Opens an experiment at iteration 0 (a lesson's step); the run before stays in Saved runs. */
  openExperiment(e: Experiment): Promise<void> {
    return this.#queue.run(async () => {
      if (this.status === 'training') await this.connection.call('Pause', (api) => api.pause());
      this.show(structuredClone(e));
      await this.load();
    });
  }

  /** Lays this page out as `view` (what a link in that view shows), and says so in the address, so a reload keeps it. */
  setView(view: View): void {
    this.view = view;
    this.editing = view !== 'classroom';
    const url = new URL(location.href);
    if (view === 'full') url.searchParams.delete('view');
    else url.searchParams.set('view', view);
    history.replaceState(history.state, '', url);
  }

  /** The link that opens the experiment in force (applied rewards, current settings) in the given view. */
  async shareLink(view: View = 'full'): Promise<string> {
    const e = forLink({ ...($state.snapshot(this.experiment) as Experiment), view }).experiment;
    return `${location.origin}${location.pathname}#${await encodeExperiment(e)}`;
  }

  /** Opens an experiment or run file (opening.ts); a run on screen is replaced only once `mayReplace` agrees. */
  importFile(file: Blob, fileName: string, mayReplace: MayReplace): Promise<boolean> {
    return this.#queue.run(() => importFile(this, file, fileName, mayReplace));
  }

  /** The policy as it is now, in the checkpoint format (the weights file). */
  exportPolicy(): Promise<Uint8Array | undefined> {
    return this.#queue.run(() => this.connection.call('Export', (api) => api.exportPolicy()));
  }

  /** Starts the run again from a policy file's weights, which must be finite and fit the task and architecture on screen. */
  importPolicy(bytes: Uint8Array, fileName: string, mayReplace: MayReplace): Promise<boolean> {
    return this.#queue.run(() => importPolicy(this, bytes, fileName, mayReplace));
  }

  /** Opens a dropped or picked file: a policy's weights or an experiment. */
  openFile(file: File, mayReplace: MayReplace): Promise<void> {
    return openFile(this, file, mayReplace);
  }

  /** Continues a saved run from its last checkpoint (or opens its experiment at iteration 0 when it has none). */
  resume(id: string): Promise<void> {
    return this.#queue.run(() => resumeRun(this, id));
  }

  /** Leaves the interrupted run saved, without resuming it. */
  dismissResume(): Promise<void> {
    return this.runs.dismissOffer();
  }

  /** Trains on the code shown: a pending draft is applied first, and a draft that is refused trains nothing. */
  train(): Promise<void> {
    return this.#queue.run(async () => {
      if (this.reward.dirty && !(await this.#apply(this.reward.drafts.list, 'Train'))) return;
      await this.connection.call('Train', (api) => api.train());
    });
  }

  pause(): Promise<void> {
    this.pausing = true;
    return this.#queue.run(async () => {
      try {
        await this.connection.call('Pause', (api) => api.pause());
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
    return this.#queue.run(async () => {
      if (this.reward.dirty && !(await this.#apply(this.reward.drafts.list, 'Step'))) return;
      // A step (not Train) brings its iteration's numbers: lesson mode walks them, the per-token view reads them.
      const capture = await this.connection.call('Step', (api) => api.step(true) as Promise<IterationLesson | null>);
      this.lesson.take(capture ?? null, componentWeights(this.experiment.rewards));
    });
  }

  /** Back to iteration 0; after a failed load, loads again. */
  reset(): Promise<void> {
    return this.#queue.run(() => this.#reset());
  }

  /**
   * Applies the editor's code once it passes a check on the test bench's text and
   * a few reference samples. The run keeps its policy; the charts mark the change.
   */
  applyReward(rewards: RewardSpec[] = this.reward.drafts.list): Promise<boolean> {
    return this.#queue.run(() => this.#apply(rewards, 'Apply'));
  }

  /** Validates one field here (instant feedback), then sends it to the running trainer. */
  setHyperparameter<K extends HyperparameterName>(name: K, value: Hyperparameters[K]): Promise<string | null> {
    const problem = checkField(name, value);
    if (problem) return Promise.resolve(problem);
    return this.#queue.run(async () => {
      const r = await this.connection.call<Result<number>>('Setting', (api) => api.setHyperparameters({ [name]: value }));
      if (!r) return this.requestError;
      if (!r.ok) return r.message;
      if (this.experiment.hyperparameters[name] !== value) this.#mark(r.value, 'setting', `${name} = ${value}`);
      this.experiment.hyperparameters[name] = value;
      return null;
    });
  }

  /** Another task (its shelved code and settings, or its defaults), or another architecture for this one. */
  setTask(taskId: string, arch: Arch = this.experiment.arch): Promise<void> {
    return this.#queue.run(async () => {
      const { next, drafts } = this.#shelf.switch($state.snapshot(this.experiment) as Experiment, this.reward.drafts.list, taskId, arch);
      if (drafts) {
        this.reward.drafts.reset(drafts);
        this.reward.setBenchText(getTask(taskId).benchText);
      }
      this.experiment = next;
      await this.load();
    });
  }

  /**
   * Another algorithm starts the run again from the reference policy, with the same
   * task, rewards and settings; a setting still at the old algorithm's default takes the new one's.
   */
  setAlgorithm(algorithm: AlgorithmId): Promise<void> {
    return this.#queue.run(async () => {
      const now = $state.snapshot(this.experiment);
      const hyperparameters = switchAlgorithmSettings(now.hyperparameters, getTask(now.task).hyperparameters, now.algorithm, algorithm);
      this.experiment = { ...now, algorithm, hyperparameters };
      await this.load();
    });
  }

  /** How fast training runs and where it stops by itself; it takes effect from the next iteration, and links carry it. */
  setPace(pace: Partial<Pace>): Promise<void> {
    this.experiment.pace = { ...this.experiment.pace, ...pace };
    const next = $state.snapshot(this.experiment.pace) as Pace;
    return this.#queue.run(async () => {
      await this.connection.call('Pace', (api) => api.setPace(next));
    });
  }

  setSeed(seed: number): Promise<void> {
    return this.#queue.run(async () => {
      this.experiment.seed = seed;
      await this.#reset();
    });
  }

  dismissNotice(): void {
    this.notice = null;
  }

  async #apply(rewards: RewardSpec[], what: string): Promise<boolean> {
    const problem = await this.reward.problem(rewards);
    if (problem) {
      this.requestError = `${what === 'Apply' ? 'Not applied' : `${what} did not start: the editor's code was not applied`}: ${problem}`;
      return false;
    }
    const labels = this.preferences.carry(rewards);
    const r = await this.connection.call<Result<number>>(what, (api) => api.applyReward(rewards, labels));
    if (!r) return false;
    if (!r.ok) {
      this.requestError = `${what === 'Apply' ? 'Not applied' : `${what} did not start: the editor's code was not applied`}: ${r.message}`;
      return false;
    }
    this.requestError = null;
    if (!this.reward.drafts.same(this.experiment.rewards, rewards)) this.#mark(r.value, 'reward', rewardsLabel(getTask(this.experiment.task), rewards));
    this.experiment.rewards = rewards.map((s) => ({ ...s }));
    this.experiment.labels = labels; // as the worker keeps them
    void this.#scoreReferences();
    return true;
  }

  async #reset(): Promise<void> {
    if (!this.#loaded) {
      await this.load();
      return;
    }
    await this.connection.call('Reset', (api) => api.reset(this.experiment.seed));
    this.clearRun();
  }

  /** Loads the experiment on screen into the worker, and scores its reference samples; false when loading failed. */
  async load(): Promise<boolean> {
    if (!this.connection.connected) return false;
    this.clearRun();
    this.probes.clear(); // another experiment: its probes (if its task has any) come with loading, and its reward models' fits
    this.preferences.clear();
    this.reward.setReferences([]);
    this.checkpoint = null;
    const experiment = $state.snapshot(this.experiment) as Experiment;
    const r = await this.connection.call<Result<null>>('Loading', (api) => api.load(experiment));
    if (!r) return this.#loaded;
    this.#loaded = r.ok;
    if (!r.ok) {
      this.runError = r.message;
      return false;
    }
    const texts = (await this.connection.call('Reference samples', (api) => api.referenceSamples(REFERENCE_COUNT))) ?? [];
    this.reward.setReferences(texts);
    await this.#scoreReferences();
    return true;
  }

  /** Scores the reference samples under the reward in force, then checks the reward before it trains (diagnose.ts). */
  async #scoreReferences(): Promise<void> {
    const rewards = $state.snapshot(this.experiment.rewards) as RewardSpec[];
    const problem = await this.reward.scoreReferences(rewards);
    if (problem) {
      this.requestError = problem;
      this.reward.checked = null;
    } else void this.reward.diagnose(rewards); // in the background: nothing waits for the check
  }

  /** A change mid-run; before the first iteration nothing is drawn yet, so nothing to mark. */
  #mark(iteration: number, kind: ChartMarker['kind'], label: string): void {
    if (iteration > 0) this.changes = [...this.changes, { iteration, kind, label }];
  }

  /** Back to iteration 0 with nothing drawn; the probe table stays until the worker's round at iteration 0 (sent by a reset or a policy import) replaces it. */
  clearRun(): void {
    this.runs.detach();
    this.metrics = [];
    this.samples = [];
    this.history.clear();
    this.changes = [];
    this.iteration = 0;
    this.requestError = null;
    this.lesson.clear();
  }

  #fail(message: string): void {
    this.status = 'error';
    this.runError = message;
  }
}
