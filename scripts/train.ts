// Trains in Node against a reward given on the command line (the key of one of
// the task's examples, e.g. length, a JavaScript expression, or a function), or
// the whole experiment a file holds (exported from the app, or written by hand).
//   npm run train -- --task names --reward "sample.text.length" --iterations 30 --seed 1 --arch mlp --algorithm ppo|grpo|rloo --backend wasm [--json out.json]
//   npm run train -- --experiment experiment.json --iterations 30
//   npm run train -- --corpus lines.txt --iterations 30 [--pretrain-steps N]: a corpus of one item a line,
//   pretrained on first, then trained with the text task's default reward (or an --experiment made on that corpus).
// A reward component { "kind": "preferences", "name", "weight", "judge": "<code>", "pairs": N, "noise": p }
// in the file is learnt first (scripts/preferenceCli.ts); --json then reports each iteration's proxy and gold.
// Hyperparameters: --set name=value (repeatable), e.g. --set klCoef=0.1.
// The reward runs in the same QuickJS sandbox as in the browser; --trusted runs
// it as a plain function in this process instead (faster, and not isolated).
// --check checks the reward before any training, as Apply does in the app (16
// reference samples and the task's edge cases), prints its warnings and stops.
import { writeFileSync } from 'node:fs';
import { defaultExperiment, MissingCorpusError, validateExperiment, type Experiment } from '../src/core/experiment/experiment.ts';
import { readExperimentFile } from '../src/core/experiment/runFile.ts';
import { HYPERPARAMETER_NAMES, HYPERPARAMETERS, sandboxLimits, type HyperparameterName, validateHyperparameters, type Hyperparameters } from '../src/core/hyperparameters.ts';
import type { IterationMetrics } from '../src/core/training/metrics.ts';
import { allHelpers, compileRewardExpression, FunctionReward, rewardProgram, type RewardModel } from '../src/core/reward/reward.ts';
import { checkReward, type CheckScorer } from '../src/core/tasks/rewardCheck.ts';
import { getAlgorithmInfo, startingHyperparameters } from '../src/core/algorithms/catalog.ts';
import { SandboxReward } from '../src/core/reward/sandbox/sandboxReward.ts';
import { getTask, modelId, taskArchs } from '../src/core/tasks/index.ts';
import { createTrainer } from '../src/core/experiment/createTrainer.ts';
import { extractSets, parseArgs, printable, readOptionFile, runMain } from './args.ts';
import { initNodeBackend } from './nodeBackend.ts';
import { loadPolicyFromDisk } from './nodeModels.ts';
import { learntReward, takePreferences, type PolicyLoader } from './preferenceCli.ts';
import { pretrainCorpusFile, registerCorpusFile } from './corpusCli.ts';
import { goldName, type FitReport } from '../src/core/training/learntReward.ts';
import type { RewardSpec } from '../src/core/reward/sandbox/types.ts';
import { nodeQuickJs } from './nodeSandbox.ts';
import type { BackendName } from '../src/core/backend/backend.ts';

runMain(async () => {
  const argv = process.argv.slice(2);
  const sets = extractSets(argv);
  const args = parseArgs(argv, { task: 'string', reward: 'string', iterations: 'count', seed: 'int', arch: 'string', backend: 'string', json: 'string', models: 'string', quiet: 'boolean', trusted: 'boolean', algorithm: 'string', experiment: 'string', check: 'boolean', corpus: 'string', 'pretrain-steps': 'count' });
  // A corpus first: it is the task a file or --task may then name.
  const corpus = args.corpus !== undefined ? registerCorpusFile(String(args.corpus)) : null;
  if (!corpus && args['pretrain-steps'] !== undefined) throw new Error('--pretrain-steps goes with --corpus: shipped tasks are pretrained already');
  if (corpus && args.task !== undefined) throw new Error('--task cannot go with --corpus: the corpus is the task');
  let experiment: Experiment;
  let rewardLabel: string;
  /** Components learnt from preferences (an experiment file's `learn`, or `kind: "preferences"`): fitted before training. */
  let preferences: RewardSpec[] = [];
  if (args.experiment !== undefined) {
    // The experiment file says what to train; only --set, --iterations and the output options go with it.
    const clash = ['task', 'reward', 'seed', 'arch', 'algorithm', 'trusted'].find((k) => args[k] !== undefined);
    if (clash) throw new Error(`--${clash} cannot go with --experiment: the file sets it (use --set for settings)`);
    const file = String(args.experiment);
    const text = readOptionFile('--experiment', file);
    try {
      experiment = readExperimentFile(takePreferences(text)).experiment;
      preferences = experiment.rewards.filter((r) => r.learn);
    } catch (e) {
      if (e instanceof MissingCorpusError) throw new Error(`--experiment ${file} trains on "${e.corpus.name}" (${e.corpus.lines} lines), a corpus of your own: ${corpus ? `--corpus ${String(args.corpus)} is not it (its lines differ)` : 'pass that file as --corpus FILE'}`);
      throw new Error(`--experiment ${file}: ${(e as Error).message}`);
    }
    if (corpus && experiment.task !== `corpus-${corpus.stats.hash}`) throw new Error(`--corpus ${String(args.corpus)} is not the corpus --experiment ${file} trains on (${experiment.corpus ? `"${experiment.corpus.name}", whose lines differ` : `it trains task ${experiment.task}`})`);
    experiment.hyperparameters = validateHyperparameters({ ...experiment.hyperparameters, ...sets });
    rewardLabel = experiment.rewards.map((r) => `${r.weight} x ${r.name}${preferences.some((p) => p.name === r.name) ? ' (learnt from preferences)' : ''}`).join(' + ');
    console.log(`experiment ${file}: ${experiment.task}, ${experiment.arch}, ${experiment.algorithm}, seed ${experiment.seed}, reward ${rewardLabel}`);
  } else {
    const algorithm = getAlgorithmInfo(String(args.algorithm ?? 'ppo')).id;
    const task = getTask(corpus ? `corpus-${corpus.stats.hash}` : String(args.task ?? 'names'));
    const arch = String(args.arch ?? 'mlp');
    if (arch !== 'mlp' && arch !== 'transformer') throw new Error(`--arch must be mlp or transformer, got ${JSON.stringify(arch)}`);
    if (args.arch !== undefined && !taskArchs(task).includes(arch)) throw new Error(`--arch ${arch} does not apply to task ${task.id} (it has: ${taskArchs(task).join(', ')})`);
    // Without --reward, the task's own starting components (as the app starts).
    const starting = defaultExperiment(task.id, arch, algorithm);
    let rewards = starting.rewards;
    if (args.reward === undefined) {
      rewardLabel = rewards.map((r) => `${r.weight} x ${r.name}`).join(' + ');
    } else {
      rewardLabel = String(args.reward);
      rewards = [{ name: 'reward', weight: 1, source: rewardProgram(task.examples[rewardLabel]?.source ?? rewardLabel) }];
    }
    // Through the schema, as a link or a file would be: the seed's range, the rewards' sizes.
    experiment = validateExperiment({
      ...starting,
      rewards,
      hyperparameters: startingHyperparameters(algorithm, task.hyperparameters, sets),
      seed: Number(args.seed ?? 1),
    });
  }
  const task = getTask(experiment.task);
  const { arch, algorithm } = experiment;
  let reward: RewardModel;
  if (args.trusted) {
    console.log('reward: a plain function in this process (--trusted): not sandboxed, no time or memory limits');
    reward = new FunctionReward(experiment.rewards.map((r) => ({ name: r.name, weight: r.weight, fn: compileRewardExpression(r.source) })));
  } else {
    reward = preferences.length ? new FunctionReward([{ name: 'none', weight: 1, fn: () => 0 }]) : await SandboxReward.create(nodeQuickJs, experiment.rewards, sandboxLimits(experiment.hyperparameters));
  }
  const iterations = Number(args.iterations ?? 30);
  await initNodeBackend(String(args.backend ?? 'wasm') as BackendName);

  // The reference policy: shipped (public/models or --models), or pretrained on the corpus now.
  const corpusPolicy = corpus ? await pretrainCorpusFile(corpus, args['pretrain-steps'] as number | undefined) : null;
  const load: PolicyLoader = (a) => (corpusPolicy ? corpusPolicy() : loadPolicyFromDisk(modelId(task, a), args.models as string | undefined));
  const reference = () => (task.environment ? null : load(arch));

  let rewardModels: FitReport[] = [];
  if (preferences.length) {
    if (args.check) throw new Error('--check reads code rewards only: a reward learnt from preferences is checked by its held-out accuracy, printed when it is fitted');
    reward.dispose?.();
    const learnt = await learntReward(experiment, load);
    reward = learnt.reward;
    rewardModels = learnt.summary;
  }
  /** Per iteration, each learnt component's score (the proxy) and its judge's (the gold). */
  const proxyGold = (m: IterationMetrics) =>
    preferences.length ? { proxy: Object.fromEntries(preferences.map((p) => [p.name, m.rewardComponents[p.name]])), gold: Object.fromEntries(preferences.filter((p) => p.learn!.from !== 'person').map((p) => [p.name, m.rewardComponents[goldName(p.name)]])) } : {};

  if (args.check) {
    // The check before training: the reference policy's samples (a control task: random play) and the task's edge cases.
    const probe = createTrainer(experiment, new FunctionReward([{ name: 'none', weight: 1, fn: () => 0 }]), reference());
    const references = await probe.preview(16, 'reference', 7);
    probe.dispose();
    const score: CheckScorer = async (samples) => {
      try {
        return { ok: true, scores: await reward.score(samples, { iteration: 1, task: task.id, helpers: allHelpers() }) };
      } catch (e) {
        return { ok: false, message: (e as Error).message };
      }
    };
    const r = await checkReward({ task, weights: Object.fromEntries(experiment.rewards.map((x) => [x.name, x.weight])), references, h: experiment.hyperparameters, score });
    console.log(`reward ${rewardLabel}: checked on ${r.on}: ${r.warnings.length ? `${r.warnings.length} warning(s)` : 'no warning'}`);
    for (const w of r.warnings) console.log(`  ${w.kind}: ${w.message}`);
    return;
  }

  // A control task trains from random weights; a language task from its reference policy.
  const trainer = createTrainer(experiment, reward, reference());
  const all: IterationMetrics[] = [];
  const writeJson = (interrupted: boolean) =>
    writeFileSync(String(args.json), JSON.stringify({ task: task.id, arch, algorithm, reward: rewardLabel, rewards: experiment.rewards, ...(preferences.length ? { preferences, rewardModels } : {}), seed: trainer.seed, hyperparameters: trainer.hyperparameters, interrupted, iterations: all.map((m) => ({ ...m, ...proxyGold(m) })) }, null, 2));
  // Ctrl-C: what was done is kept, and says it was cut short.
  const stop = (signal: string) => {
    if (args.json) writeJson(true);
    console.log(`interrupted (${signal}) after ${all.length} iteration(s)${args.json ? `; wrote ${args.json}` : ''}`);
    process.exit(130);
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  console.log('iter  reward(mean±std)      kl   entropy  pg_loss  v_loss  clipfrac  approx_kl  expl_var  beta   len  roll/rew/upd ms   tok/s');
  for (let i = 0; i < iterations; i++) {
    // A step awaits only microtasks on wasm: without a turn of the event loop, Ctrl-C would wait for the last iteration.
    await new Promise((resolve) => setImmediate(resolve));
    const { metrics: m, samples } = await trainer.step();
    all.push(m);
    const before = all.at(-2)?.alarms.join('; ') ?? '';
    if (m.alarms.length > 0 && m.alarms.join('; ') !== before) console.log(`  alarm at iteration ${m.iteration}: ${m.alarms.join('; ')}`);
    console.log(
      `${String(m.iteration).padStart(4)}  ${m.rewardMean.toFixed(3).padStart(8)}±${m.rewardStd.toFixed(3).padEnd(7)} ${m.kl.toFixed(3).padStart(7)} ${m.entropy.toFixed(3).padStart(8)} ${m.policyLoss.toFixed(4).padStart(8)} ${opt(m.valueLoss, 4, 7)} ${m.clipFrac.toFixed(3).padStart(9)} ${m.approxKl.toFixed(4).padStart(10)} ${opt(m.explainedVariance, 3, 9)} ${m.klCoef.toFixed(3)} ${m.sampleLength.toFixed(1).padStart(5)}  ${m.rolloutMs.toFixed(0)}/${m.rewardMs.toFixed(0)}/${m.updateMs.toFixed(0)}`.padEnd(130) +
        ` ${m.tokensPerSecond.toFixed(0)}` +
        (args.quiet ? '' : `  ${samples.slice(0, 4).map((s) => s.text).join(' ')}`),
    );
  }
  const ranAway = all.slice(-5).find((m) => m.runaway);
  const collapsed = all.slice(-5).find((m) => m.alarms.length > 0);
  if (ranAway) {
    // A run leaving its reference: its last rewards say nothing about what it learnt.
    console.log(`ran away: at iteration ${ranAway.iteration} ${ranAway.alarms.join('; ')}`);
  } else if (collapsed) {
    // A collapsed run's reward says nothing good about it: no percentage.
    console.log(`collapsed: at iteration ${collapsed.iteration} ${collapsed.alarms.join('; ')}`);
  } else if (all.length >= 10) {
    const first = mean(all.slice(0, 5).map((m) => m.rewardMean));
    const last = mean(all.slice(-5).map((m) => m.rewardMean));
    const change = Math.abs(first) < 1e-9 ? `${last - first >= 0 ? '+' : ''}${(last - first).toFixed(3)}` : `${(((last - first) / Math.abs(first)) * 100).toFixed(1)}%`;
    console.log(`mean reward, first 5 iterations ${first.toFixed(3)}, last 5 ${last.toFixed(3)} (${change})`);
  }
  if (args.json) {
    writeJson(false);
    console.log(`wrote ${args.json}`);
  }
  trainer.dispose();
  reward.dispose?.();
});

/** A metric only some algorithms report: '-' where it does not exist. */
function opt(x: number | undefined, digits: number, width: number): string {
  return (x === undefined ? '-' : x.toFixed(digits)).padStart(width);
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
