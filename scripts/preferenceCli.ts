// The command line's rewards learnt from preferences: an experiment file's
// reward component { "kind": "preferences", "name", "weight", "judge": "<code>",
// "pairs": N, "noise": p } is learnt before training. Its judge labels pairs of
// the reference policy's completions (reward code: the higher score is the
// better completion, `noise` of the labels flipped), a reward model is fitted on
// the frozen reference policy's features, and the run trains on the model's
// score while the judge's own score is reported beside it as the gold.
import { rewardProgram, type RewardModel } from '../src/core/reward/reward.ts';
import { SandboxReward } from '../src/core/reward/sandbox/sandboxReward.ts';
import { sandboxLimits } from '../src/core/hyperparameters.ts';
import type { Experiment } from '../src/core/experiment/experiment.ts';
import { getTask, modelId, taskSample, taskTokenizer } from '../src/core/tasks/index.ts';
import { createTrainer } from '../src/core/experiment/createTrainer.ts';
import { FunctionReward } from '../src/core/reward/reward.ts';
import { completionFeatures } from '../src/core/training/preferenceFeatures.ts';
import { checkPreferenceSpec, goldName, learnFromJudge, LearntReward, type PreferenceSpec } from '../src/core/training/learntReward.ts';
import { loadPolicyFromDisk } from './nodeModels.ts';
import { nodeQuickJs } from './nodeSandbox.ts';

/**
 * Takes the preference components out of an experiment file's text: each is
 * checked, and stands in the file as a code component running its judge (so the
 * schema checks the rest as it would any experiment). Returns the file's text
 * so changed, and the components.
 */
export function takePreferences(text: string): { text: string; specs: PreferenceSpec[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { text, specs: [] }; // the file's reader says what is wrong with it
  }
  const holder = (json as { experiment?: unknown }).experiment ?? json;
  const rewards = (holder as { rewards?: unknown })?.rewards;
  if (!Array.isArray(rewards)) return { text, specs: [] };
  const specs: PreferenceSpec[] = [];
  (holder as { rewards: unknown[] }).rewards = rewards.map((r, i) => {
    if (typeof r !== 'object' || r === null || (r as { kind?: unknown }).kind !== 'preferences') return r;
    const spec = checkPreferenceSpec(r as Record<string, unknown>, `rewards[${i}]`);
    specs.push(spec);
    return { name: spec.name, weight: spec.weight, source: rewardProgram(spec.judge) };
  });
  return { text: JSON.stringify(json), specs };
}

/** The reward a run with learnt components trains on, once each reward model is fitted (said on the console). */
export async function learntReward(experiment: Experiment, specs: readonly PreferenceSpec[], models?: string): Promise<{ reward: LearntReward; summary: Record<string, unknown>[] }> {
  const task = getTask(experiment.task);
  if (task.environment) throw new Error(`task ${task.id} has no completions to compare: a reward learnt from preferences needs a language task`);
  const limits = sandboxLimits(experiment.hyperparameters);
  const learntNames = new Set(specs.map((s) => s.name));
  const codeSpecs = experiment.rewards.filter((r) => !learntNames.has(r.name));
  const code = codeSpecs.length ? await SandboxReward.create(nodeQuickJs, codeSpecs, limits) : null;
  const judges: RewardModel[] = [];
  for (const s of specs) judges.push(await SandboxReward.create(nodeQuickJs, [{ name: goldName(s.name), weight: 1, source: rewardProgram(s.judge) }], limits));
  const features = loadPolicyFromDisk(modelId(task, experiment.arch), models);
  const tokenizer = taskTokenizer(task);
  const featurize = (items: readonly { prompt: string; text: string }[]) => completionFeatures(features, tokenizer, items, experiment.hyperparameters.maxLength);
  // The completions labelled: the reference policy's, from a stream of their own.
  const sampler = createTrainer(experiment, new FunctionReward([{ name: 'none', weight: 1, fn: () => 0 }]), loadPolicyFromDisk(modelId(task, experiment.arch), models));
  const learnt = [];
  const summary: Record<string, unknown>[] = [];
  for (let j = 0; j < specs.length; j++) {
    const s = specs[j];
    const drawn = await sampler.preview(Math.min(2 * s.pairs, 600), 'reference', experiment.seed + 11 + j);
    const completions = drawn.map((c, i) => taskSample(task, c.text, tokenizer.encode(c.text), c.prompt, i));
    const started = performance.now();
    const l = await learnFromJudge(s, completions, judges[j], featurize, experiment.seed);
    const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
    console.log(
      `reward model "${s.name}": ${s.pairs} pairs of ${completions.length} reference completions labelled by its judge (${(100 * s.noise).toFixed(0)}% flipped), ` +
        `held-out accuracy ${pct(l.fit.heldOutAccuracy)} on ${l.fit.heldOutPairs} pairs, train ${pct(l.fit.trainAccuracy)}, fitted in ${(performance.now() - started).toFixed(0)} ms`,
    );
    summary.push({ name: s.name, pairs: s.pairs, noise: s.noise, heldOutAccuracy: l.fit.heldOutAccuracy, trainAccuracy: l.fit.trainAccuracy, heldOutPairs: l.fit.heldOutPairs });
    learnt.push(l);
  }
  sampler.dispose();
  const reward = new LearntReward(code, learnt, judges, featurize);
  const dispose = reward.dispose.bind(reward);
  reward.dispose = () => {
    dispose();
    features.dispose();
  };
  return { reward, summary };
}
