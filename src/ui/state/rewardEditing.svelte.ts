import { defaultExperiment, type Experiment } from '../../core/experiment/experiment.ts';
import type { RewardLog, RewardSpec } from '../../core/reward/sandbox/types.ts';
import { GOLD_EXAMPLES } from '../../core/tasks/goldExamples.ts';
import { getTask } from '../../core/tasks/index.ts';
import type { RewardCheckResult } from '../../core/tasks/rewardCheck.ts';
import { RewardCheck, type BenchScore } from './rewardCheck.ts';
import type { Sample } from '../../core/reward/reward.ts';
import type { SandboxOutcome } from '../../worker/trainerApi.ts';
import { RewardDrafts } from './rewardDrafts.svelte.ts';

/** A completion of the frozen reference policy, scored under the applied reward (null when that failed). */
export interface ReferenceSample {
  prompt: string;
  text: string;
  reward: number | null;
}

/**
 * The reward as the person edits it, beside the one in force: the components'
 * drafts, the test bench and what the code printed, the reference samples with
 * their rewards, and the check a draft passes before it trains (rewardCheck.ts).
 */
export class RewardEditing {
  /** The experiment in force and the iteration, as the page holds them now. */
  readonly #page: () => { experiment: Experiment; iteration: number };
  /** The reward components as the editor holds them, applied or not. */
  drafts = new RewardDrafts(defaultExperiment().rewards);
  /** The selected component's code, as the editor shows it. */
  draft = $derived(this.drafts.current.source);
  /** The test bench's text: scored as the person types, and part of the check before Apply. */
  benchText = $state('annabelle');
  /** What the reward code printed last, and where (an iteration or the test bench). */
  logs = $state.raw<{ source: string; logs: RewardLog[] } | null>(null);
  /** Completions of the reference policy, scored under the rewards in force: before and after compare. */
  referenceSamples = $state.raw<ReferenceSample[]>([]);
  /** The check before training of the reward in force: what it was checked on and its warnings (null: not checked yet). */
  checked = $state.raw<RewardCheckResult | null>(null);
  #checking = 0;

  /** The prompt the bench's text continues: the task's first. */
  get benchPrompt(): string {
    return getTask(this.#page().experiment.task).prompts[0];
  }

  /** The editor holds rewards that are not the ones in force. */
  get dirty(): boolean {
    return !this.drafts.same(this.#page().experiment.rewards);
  }

  #check = new RewardCheck(() => ({ ...this.#page(), benchText: this.benchText, benchPrompt: this.benchPrompt, referenceSamples: this.referenceSamples }));

  constructor(page: () => { experiment: Experiment; iteration: number }) {
    this.#page = page;
  }

  /** The editor takes an experiment's rewards (a new task's bench text too). */
  show(e: Experiment, from: Experiment): void {
    if (e.task !== from.task) this.benchText = getTask(e.task).benchText;
    this.drafts.reset(e.rewards);
  }

  /** Checks the reward in force for the ways a reward fails to teach (diagnose.ts); the latest call wins. */
  async diagnose(rewards: RewardSpec[]): Promise<void> {
    const call = ++this.#checking;
    let result: RewardCheckResult | null;
    try {
      result = await this.#check.diagnose(rewards);
    } catch (e) {
      result = { on: 'nothing', warnings: [{ kind: 'nonfinite', message: (e as Error).message }] };
    }
    if (call === this.#checking) this.checked = result;
  }

  /** Why `rewards` may not train (a draft's own problem, or code that fails on the bench's text or the reference samples), or null. */
  async problem(rewards: RewardSpec[]): Promise<string | null> {
    return this.drafts.problem() ?? (await this.#check.check(rewards));
  }

  /** Scores `text` under the editor's rewards in the page's own sandbox (it answers while an iteration runs): the total and each component's value. */
  async testReward(text: string): Promise<BenchScore> {
    const { score, logs } = await this.#check.bench(this.drafts.list, text);
    if (logs) this.logs = { source: 'test bench', logs };
    return score;
  }

  /** The editor's rewards scored on `samples` (the batch on screen) in the page's sandbox, for the what-if; nothing trains. */
  async scoreDrafts(samples: Sample[]): Promise<SandboxOutcome> {
    const problem = this.drafts.problem();
    if (problem) return { ok: false, message: problem, details: {} };
    return this.#check.score(this.drafts.list, samples);
  }

  /** Puts an example's code in the selected component; it trains once applied (or on Train). */
  loadExample(key: string): void {
    const example = getTask(this.#page().experiment.task).examples[key];
    if (example) this.drafts.setSource(example.source);
  }

  /** Puts the task's proxy-against-gold pair in the editor as its two components (the gold at weight 0); Apply to use them. */
  loadGold(): void {
    const gold = GOLD_EXAMPLES[this.#page().experiment.task];
    if (gold) this.drafts.reset(gold.rewards.map((r) => ({ ...r })));
  }

  setDraft(source: string): void {
    this.drafts.setSource(source);
  }

  setBenchText(text: string): void {
    this.benchText = text;
  }

  /** New reference samples, not scored yet. */
  setReferences(items: { prompt: string; text: string }[]): void {
    this.checked = null; // the check read the samples before these
    this.referenceSamples = items.map(({ prompt, text }) => ({ prompt, text, reward: null }));
  }

  /** Scores the reference samples under `rewards`; the problem when they could not be scored, else null. */
  async scoreReferences(rewards: RewardSpec[]): Promise<string | null> {
    const refs = this.referenceSamples;
    if (refs.length === 0) return null;
    let scored: (number | null)[];
    try {
      scored = await this.#check.referenceRewards(rewards, refs);
    } catch (e) {
      return `The reference samples could not be scored: ${(e as Error).message}`;
    }
    if (this.referenceSamples === refs) this.referenceSamples = refs.map((s, i) => ({ ...s, reward: scored[i] })); // else a newer load replaced them
    return null;
  }
}
