import type { Experiment } from '../../core/experiment/experiment.ts';
import { sandboxLimits } from '../../core/hyperparameters.ts';
import type { Sample } from '../../core/reward/reward.ts';
import type { RewardLog, RewardSpec } from '../../core/reward/sandbox/types.ts';
import { sandboxSpecs } from '../../core/training/learntReward.ts';
import { getTask, prepareTask, taskSample, taskTokenizer } from '../../core/tasks/index.ts';
import type { Result, SandboxOutcome } from '../../worker/trainerApi.ts';
import { SandboxClient } from '../../worker/sandboxClient.ts';
import { checkReward, randomPlay, RANDOM_PLAY_TRANSITIONS, type RewardCheckResult } from '../../core/tasks/rewardCheck.ts';

/** How many reference completions check a draft before Apply. */
const CHECKED_REFERENCES = 8;

/** What the check reads of the page when it runs. */
export interface CheckedPage {
  experiment: Experiment;
  iteration: number;
  benchText: string;
  benchPrompt: string;
  referenceSamples: readonly { prompt: string; text: string }[];
}

/** The test bench's score: the total and each component's (weighted in the total). */
export type BenchScore = Result<{ total: number; components: { name: string; weight: number; value: number }[] }>;

/**
 * Reward code scored in the page's own sandbox, as the next iteration would see
 * it: the test bench, the check a draft passes before Apply (the bench's text, a
 * few reference samples, or transitions of random play for a control task), and
 * the reference samples' rewards.
 */
export class RewardCheck {
  #sandbox = new SandboxClient();

  constructor(private readonly page: () => CheckedPage) {}

  /** Scores samples under `rewards`' code (a learnt component's judge as its gold, weight 0; learntReward.ts), with the experiment's sandbox limits. */
  async score(rewards: RewardSpec[], samples: Sample[]): Promise<SandboxOutcome> {
    const { experiment, iteration } = this.page();
    const specs = sandboxSpecs(rewards);
    if (!specs.length) return { ok: true, scores: { total: samples.map(() => 0), components: [] } };
    return this.#sandbox.score(specs, sandboxLimits(experiment.hyperparameters), samples, { iteration: iteration + 1, task: experiment.task });
  }

  /** Runs draft code on the bench's text and a few reference samples; the problem, or null when it scores them all. */
  async check(rewards: RewardSpec[]): Promise<string | null> {
    const { experiment, benchText, benchPrompt, referenceSamples } = this.page();
    const texts = referenceSamples.slice(0, CHECKED_REFERENCES).map((s) => ({ prompt: s.prompt, text: s.text }));
    const bench = this.#encodable(benchText);
    if (bench) texts.unshift({ prompt: benchPrompt, text: benchText });
    const task = getTask(experiment.task);
    if (task.environment) {
      // A control task's reward reads transitions: it is checked on a few of random play.
      const r = await this.score(rewards, randomPlay(task));
      return r.ok ? null : `${r.message} (checked on ${RANDOM_PLAY_TRANSITIONS} transitions of random play)`;
    }
    let samples: Sample[];
    try {
      samples = await this.samples(texts);
    } catch (e) {
      return (e as Error).message;
    }
    const r = await this.score(rewards, samples);
    if (r.ok) return null;
    const on = [bench ? "the test bench's text" : '', texts.length > (bench ? 1 : 0) ? `${texts.length - (bench ? 1 : 0)} reference samples` : ''].filter(Boolean).join(' and ');
    return on ? `${r.message} (checked on ${on})` : r.message;
  }

  /** Scores the bench's `text` (continuing the bench's prompt) under `rewards`; with what the code printed, when it ran. */
  async bench(rewards: RewardSpec[], text: string): Promise<{ score: BenchScore; logs: RewardLog[] | null }> {
    let samples: Sample[];
    try {
      samples = await this.samples([{ prompt: this.page().benchPrompt, text }]);
    } catch (e) {
      return { score: { ok: false, message: (e as Error).message }, logs: null };
    }
    const r = await this.score(rewards, samples);
    const logs = r.ok ? (r.scores.logs ?? []) : (r.logs ?? null);
    if (!r.ok) return { score: { ok: false, message: r.message }, logs };
    const components = r.scores.components.map((c, i) => ({ name: c.name, weight: sandboxSpecs(rewards)[i].weight, value: c.values[0] }));
    return { score: { ok: true, value: { total: r.scores.total[0], components } }, logs };
  }

  /** The check before training (core/tasks/rewardCheck.ts) of `rewards`, on the reference samples and the task's edge cases; null before there are reference samples. */
  async diagnose(rewards: RewardSpec[]): Promise<RewardCheckResult | null> {
    const { experiment, referenceSamples } = this.page();
    const task = getTask(experiment.task);
    // A learnt component's score is the worker's reward model: the code here is only its judge.
    if ((!task.environment && referenceSamples.length === 0) || rewards.some((r) => r.learn)) return null;
    return checkReward({ task, weights: Object.fromEntries(rewards.map((r) => [r.name, r.weight])), references: referenceSamples, h: experiment.hyperparameters, score: (samples) => this.score(rewards, samples) });
  }

  /** The reference samples' rewards under `rewards` (null each when the code fails on them); throws when they cannot be made into samples. */
  async referenceRewards(rewards: RewardSpec[], refs: readonly { prompt: string; text: string }[]): Promise<(number | null)[]> {
    const r = await this.score(rewards, await this.samples(refs.map(({ prompt, text }) => ({ prompt, text }))));
    return refs.map((_, i) => (r.ok ? r.scores.total[i] : null));
  }

  /** Texts as the reward sees them in this task (its fields computed). */
  async samples(items: { prompt: string; text: string }[]): Promise<Sample[]> {
    const task = getTask(this.page().experiment.task);
    if (task.environment) throw new Error('a control task scores transitions, not text');
    await prepareTask(task); // its fields' packages, loaded the first time the task is scored here
    const tokenizer = taskTokenizer(task);
    return items.map(({ prompt, text }, index) => taskSample(task, text, tokenizer.encode(text), prompt, index));
  }

  #encodable(text: string): boolean {
    try {
      taskTokenizer(getTask(this.page().experiment.task)).encode(text);
      return true;
    } catch {
      return false; // the bench says why; the check before Apply leaves this text out
    }
  }
}
