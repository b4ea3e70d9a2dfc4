// The reward server: an experiment's reward code, run in the sandbox with the
// task's fields exactly as `npm run train` scores, for another program (the TRL
// export's reward_bridge.py). JSON lines over stdio:
//
//   out, first:  {"ready": true, "task": "names", "components": [{"name": "length", "weight": 1}, ...]}
//   in:          {"id": 1, "prompts": ["", ...], "completions": ["anna", ...]}
//   out:         {"id": 1, "total": [...], "components": {"length": [...], ...}}
//            or  {"id": 1, "error": "reward \"length\" threw ...", "component": "length"}
//
// A completion is scored up to its first line break (as the playground's
// policies stop at their stop token) unless --keep-newlines. Components learnt
// from preferences have no code and are left out. Nothing else is written to
// stdout: the console goes to stderr.
//
//   npm run reward-server -- --experiment file.json [--corpus lines.txt] [--time-limit-ms N] [--memory-mib N] [--stack-kib N] [--keep-newlines]
// --corpus gives the lines of a task made from a person's corpus (the TRL export's corpus.txt).
import { createInterface } from 'node:readline';
import { readExperimentFile } from '../src/core/experiment/runFile.ts';
import { sandboxLimits, validateHyperparameters } from '../src/core/hyperparameters.ts';
import { allHelpers, RewardError } from '../src/core/reward/reward.ts';
import { SandboxReward } from '../src/core/reward/sandbox/sandboxReward.ts';
import { externalSample, getTask, prepareTask } from '../src/core/tasks/index.ts';
import { parseArgs, readOptionFile, runMain } from './args.ts';
import { nodeQuickJs } from './nodeSandbox.ts';
import { registerCorpusFile } from './corpusCli.ts';

runMain(async () => {
  console.log = console.info = console.warn = console.error; // stdout carries the protocol alone
  const args = parseArgs(process.argv.slice(2), { experiment: 'string', 'time-limit-ms': 'int', 'memory-mib': 'int', 'stack-kib': 'int', 'keep-newlines': 'boolean', corpus: 'string' });
  if (args.corpus !== undefined) registerCorpusFile(String(args.corpus));
  if (args.experiment === undefined) throw new Error('--experiment file.json is needed: the experiment whose reward to run');
  const file = String(args.experiment);
  const text = readOptionFile('--experiment', file);
  const { experiment } = readExperimentFile(text);
  const task = getTask(experiment.task);
  if (task.environment) throw new Error(`task ${task.id} is a control task: its reward reads transitions, not texts`);
  const h = validateHyperparameters({
    ...experiment.hyperparameters,
    ...(args['time-limit-ms'] !== undefined ? { rewardTimeLimitMs: Number(args['time-limit-ms']) } : {}),
    ...(args['memory-mib'] !== undefined ? { rewardMemoryMiB: Number(args['memory-mib']) } : {}),
    ...(args['stack-kib'] !== undefined ? { rewardStackKiB: Number(args['stack-kib']) } : {}),
  });
  const specs = experiment.rewards.filter((r) => !r.learn).map((r) => ({ name: r.name, weight: r.weight, source: r.source }));
  if (specs.length === 0) throw new Error('every reward component is learnt from preferences: there is no code to run');
  await prepareTask(task);
  const reward = await SandboxReward.create(nodeQuickJs, specs, sandboxLimits(h));
  const say = (x: unknown) => process.stdout.write(JSON.stringify(x) + '\n');
  say({ ready: true, task: task.id, components: specs.map((s) => ({ name: s.name, weight: s.weight })) });
  let iteration = 0;
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    if (!line.trim()) continue;
    let id: unknown = null;
    try {
      const request = JSON.parse(line) as { id?: unknown; prompts?: unknown; completions?: unknown };
      id = request.id ?? null;
      const { prompts, completions } = request;
      if (!Array.isArray(completions) || !completions.every((c) => typeof c === 'string')) throw new Error('"completions" must be a list of strings');
      if (!Array.isArray(prompts) || prompts.length !== completions.length || !prompts.every((p) => typeof p === 'string')) throw new Error(`"prompts" must be a list of ${completions.length} strings, one per completion`);
      const samples = completions.map((c, i) => externalSample(task, c, prompts[i] as string, i, Boolean(args['keep-newlines'])));
      const scores = await reward.score(samples, { iteration: ++iteration, task: task.id, helpers: allHelpers() });
      say({ id, total: scores.total, components: Object.fromEntries(scores.components.map((c) => [c.name, c.values])) });
    } catch (e) {
      say({ id, error: (e as Error).message, ...(e instanceof RewardError && e.details.component ? { component: e.details.component } : {}) });
    }
  }
  reward.dispose();
});
