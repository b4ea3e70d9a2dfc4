import type { Experiment } from '../core/experiment/experiment.ts';
import { sandboxLimits } from '../core/hyperparameters.ts';
import type { Policy } from '../core/policy/policy.ts';
import type { LabelRecord } from '../core/reward/preferences.ts';
import { allHelpers, type RewardModel, type Sample } from '../core/reward/reward.ts';
import type { RewardSpec } from '../core/reward/sandbox/types.ts';
import { getTask, modelId, taskSample, taskTokenizer } from '../core/tasks/index.ts';
import { explainJudge, fitLearnt, goldName, LearntReward, sandboxSpecs, type FitReport, type LearntFit, type LearnTools } from '../core/training/learntReward.ts';
import { completionFeatures, completionLikelihood } from '../core/training/preferenceFeatures.ts';
import type { Trainer } from '../core/training/trainer.ts';
import type { ControlTrainer } from '../core/training/control.ts';
import { fetchPolicy } from './models.ts';
import type { SandboxClient } from './sandboxClient.ts';
import type { TrainerEvent } from './trainerApi.ts';
import { WorkerReward } from './workerReward.ts';

/**
 * The worker's rewards learnt from preferences: the reward the trainer scores
 * through (the sandbox's components and, when some are learnt, their reward
 * models on the frozen reference policy's features), and their fitting, with
 * progress sent to the page. A fit is kept while what it was fitted on (the
 * judge's code, the settings, a person's labels, the seed) stays the same, so
 * applying another component's code does not refit the others.
 */
export class LearntRewards {
  #fits = new Map<string, LearntFit & { key: string; labels: number }>();
  /** The task's other reference policy, loaded when a model judges. */
  #other: { id: string; policy: Policy } | null = null;
  #judges = new Map<string, { source: string; reward: WorkerReward }>();

  constructor(
    private readonly sandbox: SandboxClient,
    private readonly emit: (e: TrainerEvent) => void,
    private readonly trainer: () => Trainer | ControlTrainer | null,
  ) {}

  /** The code components' reward (null when every component is learnt without code) and the reward training scores through. */
  async create(e: Experiment): Promise<{ code: WorkerReward | null; reward: RewardModel }> {
    const specs = sandboxSpecs(e.rewards);
    const limits = sandboxLimits(e.hyperparameters);
    let code: WorkerReward | null = null;
    try {
      code = specs.length ? await WorkerReward.create(this.sandbox, specs, limits) : null;
    } catch (err) {
      throw explainJudge(err, e.rewards);
    }
    if (!e.rewards.some((r) => r.learn)) return { code, reward: code! };
    const reward = new LearntReward(code, e.rewards, this.#tools(e));
    for (const r of e.rewards) if (r.learn) reward.setHead(r.name, this.#fits.get(r.name)?.key === this.#key(e, r) ? this.#fits.get(r.name)!.head : null);
    return { code, reward };
  }

  /**
   * Fits every learnt component of `e` whose fit is not current and installs
   * it in `reward`; `at` is the iteration. Returns the new fits' reports.
   */
  async fit(e: Experiment, reward: RewardModel, at: number): Promise<FitReport[]> {
    if (!(reward instanceof LearntReward)) return [];
    const reports: FitReport[] = [];
    for (const r of e.rewards) {
      if (!r.learn) continue;
      const key = this.#key(e, r);
      const had = this.#fits.get(r.name);
      if (had?.key === key) {
        reward.setHead(r.name, had.head);
        this.emit({ type: 'rm', name: r.name, stage: 'done', fraction: 1, report: had.report }); // the page shows the fit in force after a load
        continue;
      }
      const labels = e.labels.filter((l) => l.reward === r.name);
      const fresh = had && had.head && r.learn.from === 'person' && labels.length > had.labels ? had.labels : labels.length;
      let fit: LearntFit;
      try {
        fit = await fitLearnt(r, { seed: e.seed, labels, at, previous: had?.head ?? null, freshFrom: fresh }, this.#tools(e));
      } catch (err) {
        this.emit({ type: 'rm', name: r.name, stage: 'failed', fraction: 0 });
        throw explainJudge(err, e.rewards);
      }
      this.#fits.set(r.name, { ...fit, key, labels: labels.length });
      reward.setHead(r.name, fit.head);
      this.emit({ type: 'rm', name: r.name, stage: 'done', fraction: 1, report: fit.report });
      reports.push(fit.report);
    }
    for (const name of this.#fits.keys()) if (!e.rewards.some((r) => r.name === name && r.learn)) this.#fits.delete(name);
    return reports;
  }

  /** What a fit depends on: change any of it and the component is fitted again. */
  #key(e: Experiment, r: RewardSpec): string {
    const person = r.learn?.from === 'person';
    const labels = person ? e.labels.filter((l) => l.reward === r.name).map((l: LabelRecord) => [l.pa, l.a, l.pb, l.b, l.y]) : null;
    // A judge's completions are drawn at the run's temperature and top-k; how often a person's model retrains changes nothing fitted.
    const h = e.hyperparameters;
    const learn = person ? { ...r.learn, every: 0 } : r.learn;
    return JSON.stringify([e.task, e.arch, e.seed, h.maxLength, person ? null : [h.temperature, h.topK], learn, r.learn?.from === 'judge' ? r.source : null, labels]);
  }

  #tools(e: Experiment): LearnTools {
    const task = getTask(e.task);
    const tokenizer = taskTokenizer(task);
    const reference = () => {
      const t = this.trainer();
      if (!t || !('reference' in t)) throw new Error(`task ${task.id} has no reference policy to read completions with`);
      return t as Trainer;
    };
    return {
      featurize: (items, progress) => completionFeatures(reference().reference, tokenizer, items, reference().hyperparameters.maxLength, progress),
      references: async (count, seed) => (await reference().preview(count, 'reference', seed)).map((c, i) => taskSample(task, c.text, tokenizer.encode(c.text), c.prompt, i)),
      judge: async (spec: RewardSpec, samples: readonly Sample[]) => {
        if (spec.learn?.from === 'model') return completionLikelihood(await this.#otherPolicy(e), tokenizer, samples);
        return (await (await this.#judge(e, spec)).score(samples, { iteration: 0, task: task.id, helpers: allHelpers() })).total;
      },
      progress: (name, stage, fraction) => this.emit({ type: 'rm', name, stage, fraction }),
    };
  }

  /** A judge's code alone in the sandbox (for labelling: the run's reward scores the gold itself). */
  async #judge(e: Experiment, spec: RewardSpec): Promise<WorkerReward> {
    const had = this.#judges.get(spec.name);
    if (had?.source === spec.source) return had.reward;
    const reward = await WorkerReward.create(this.sandbox, [{ name: goldName(spec.name), weight: 1, source: spec.source }], sandboxLimits(e.hyperparameters));
    this.#judges.set(spec.name, { source: spec.source, reward });
    return reward;
  }

  async #otherPolicy(e: Experiment): Promise<Policy> {
    const task = getTask(e.task);
    const id = modelId(task, e.arch === 'mlp' ? 'transformer' : 'mlp');
    if (this.#other?.id !== id) {
      this.#other?.policy.dispose();
      this.#other = { id, policy: await fetchPolicy(id) };
    }
    return this.#other.policy;
  }

  dispose(): void {
    this.#other?.policy.dispose();
    this.#other = null;
  }
}
