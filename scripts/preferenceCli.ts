// The command line's rewards learnt from preferences. An experiment file's
// component with `learn` (or the short form { "kind": "preferences", "name",
// "weight", "judge": "<code>", "pairs": N, "noise": p }) is fitted before
// training: its judge labels pairs of the reference policy's completions
// (reward code, or the task's other reference policy's likelihood; the higher
// score is the better completion, `noise` of the labels flipped), or the
// file's labels are a person's; a reward model is fitted on the frozen
// reference policy's features, and the run trains on the model's score while a
// judge's own score is reported beside it as the gold.
import { rewardProgram, type RewardModel, type Sample } from '../src/core/reward/reward.ts';
import { SandboxReward } from '../src/core/reward/sandbox/sandboxReward.ts';
import { sandboxLimits } from '../src/core/hyperparameters.ts';
import type { Experiment } from '../src/core/experiment/experiment.ts';
import type { RewardSpec } from '../src/core/reward/sandbox/types.ts';
import { getTask, taskSample, taskTokenizer } from '../src/core/tasks/index.ts';
import { createTrainer } from '../src/core/experiment/createTrainer.ts';
import { allHelpers, FunctionReward } from '../src/core/reward/reward.ts';
import { completionFeatures, completionLikelihood } from '../src/core/training/preferenceFeatures.ts';
import { checkPreferenceSpec, fitLearnt, goldName, LearntReward, sandboxSpecs, type FitReport, type LearnTools } from '../src/core/training/learntReward.ts';
import type { Arch, Policy } from '../src/core/policy/policy.ts';
import { nodeQuickJs } from './nodeSandbox.ts';

/**
 * Rewrites an experiment file's short-form preference components as the
 * schema's (`learn`, the judge as the source), each checked, naming the field.
 * Returns the file's text so changed.
 */
export function takePreferences(text: string): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return text; // the file's reader says what is wrong with it
  }
  const holder = (json as { experiment?: unknown }).experiment ?? json;
  const rewards = (holder as { rewards?: unknown })?.rewards;
  if (!Array.isArray(rewards)) return text;
  (holder as { rewards: unknown[] }).rewards = rewards.map((r, i) => {
    if (typeof r !== 'object' || r === null || (r as { kind?: unknown }).kind !== 'preferences') return r;
    const spec = checkPreferenceSpec(r as Record<string, unknown>, `rewards[${i}]`);
    return { ...spec, source: rewardProgram(spec.source) };
  });
  return JSON.stringify(json);
}

/** The task's other architecture's reference policy: a model as judge. */
const otherArch = (arch: Arch): Arch => (arch === 'mlp' ? 'transformer' : 'mlp');

/** The reward a run with learnt components trains on, once each reward model is fitted (said on the console). */
/** A fresh copy of the task's reference policy of an architecture (shipped, or pretrained on a corpus). */
export type PolicyLoader = (arch: Arch) => Policy;

export async function learntReward(experiment: Experiment, load: PolicyLoader): Promise<{ reward: LearntReward; summary: FitReport[] }> {
  const task = getTask(experiment.task);
  const limits = sandboxLimits(experiment.hyperparameters);
  const specs = experiment.rewards.filter((r) => r.learn);
  const code = sandboxSpecs(experiment.rewards).length ? await SandboxReward.create(nodeQuickJs, sandboxSpecs(experiment.rewards), limits) : null;
  const judges = new Map<string, RewardModel>();
  for (const s of specs) if (s.learn!.from === 'judge') judges.set(s.name, await SandboxReward.create(nodeQuickJs, [{ name: goldName(s.name), weight: 1, source: s.source }], limits));
  const features = load(experiment.arch);
  let other: Policy | null = null;
  const tokenizer = taskTokenizer(task);
  // The completions labelled: the reference policy's, from a stream of their own.
  const sampler = createTrainer(experiment, new FunctionReward([{ name: 'none', weight: 1, fn: () => 0 }]), load(experiment.arch));
  const tools: LearnTools = {
    featurize: (items, progress) => completionFeatures(features, tokenizer, items, experiment.hyperparameters.maxLength, progress),
    references: async (count, seed) => (await sampler.preview(count, 'reference', seed)).map((c, i) => taskSample(task, c.text, tokenizer.encode(c.text), c.prompt, i)),
    judge: async (spec: RewardSpec, samples: readonly Sample[]) => {
      if (spec.learn!.from === 'model') return completionLikelihood((other ??= load(otherArch(experiment.arch))), tokenizer, samples);
      return (await judges.get(spec.name)!.score(samples, { iteration: 0, task: task.id, helpers: allHelpers() })).total;
    },
  };
  const reward = new LearntReward(code, experiment.rewards, tools);
  const summary: FitReport[] = [];
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
  for (const s of specs) {
    const labels = experiment.labels.filter((l) => l.reward === s.name);
    const { head, report } = await fitLearnt(s, { seed: experiment.seed, labels }, tools);
    const by = s.learn!.from === 'person' ? `${labels.length} labels from the file` : `${s.learn!.pairs} pairs of ${Math.min(2 * s.learn!.pairs, 600)} reference completions labelled by its ${s.learn!.from === 'model' ? `judge (the ${otherArch(experiment.arch)} reference's likelihood)` : 'judge'} (${(100 * s.learn!.noise).toFixed(0)}% flipped)`;
    console.log(
      head
        ? `reward model "${s.name}": ${by}, held-out accuracy ${pct(report.heldOutAccuracy)} on ${report.heldOutPairs} pairs, train ${pct(report.trainAccuracy)}, fitted in ${report.ms.toFixed(0)} ms`
        : `reward model "${s.name}": ${by}, fewer than two that are not ties: it scores 0 until it has labels`,
    );
    reward.setHead(s.name, head);
    summary.push(report);
  }
  sampler.dispose();
  const dispose = reward.dispose.bind(reward);
  reward.dispose = () => {
    dispose();
    for (const j of judges.values()) j.dispose?.();
    features.dispose();
    other?.dispose();
  };
  return { reward, summary };
}
