// Benchmarks (not tests): PPO iteration time split and tokens/s for both
// architectures at default settings, side by side with the PyTorch peer
// (scripts/peer_ppo.py, when a python3 with torch is present); the largest
// gallery policies (the image painter, CartPole); KV-cached vs uncached
// sampling; reward scoring in the QuickJS sandbox against plain functions.
//   npm run bench [-- --backend wasm|cpu --iterations N --no-peer --out bench-results/bench.json]
import * as tf from '../src/core/tf.ts';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BackendName } from '../src/core/backend/backend.ts';
import { ALGORITHM_IDS } from '../src/core/algorithms/catalog.ts';
import { defaultHyperparameters, sandboxLimits } from '../src/core/hyperparameters.ts';
import { compileRewardSource, FunctionReward, type RewardModel } from '../src/core/reward/reward.ts';
import { rewardHelpers } from '../src/core/reward/helpers.ts';
import { SandboxReward } from '../src/core/reward/sandbox/sandboxReward.ts';
import { Rng } from '../src/core/rng.ts';
import { sample } from '../src/core/policy/sampler.ts';
import { ARCHS } from '../src/core/policy/policy.ts';
import { defaultRewards, getTask, modelId } from '../src/core/tasks/index.ts';
import { ControlTrainer } from '../src/core/training/control.ts';
import { Trainer } from '../src/core/training/trainer.ts';
import type { IterationMetrics } from '../src/core/training/metrics.ts';
import { parseArgs, runMain } from './args.ts';
import { findTorch, median, fmt } from './benchShared.ts';
import { initNodeBackend } from './nodeBackend.ts';
import { heapThreadServed, kernelOptions } from '../src/core/ops/kernels/wasmKernels.ts';
import { loadPolicyFromDisk } from './nodeModels.ts';
import { nodeQuickJs } from './nodeSandbox.ts';

const LENGTH_REWARD = 'function reward(sample) { return sample.text.length; }';

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), { backend: 'string', iterations: 'count', out: 'string', 'no-peer': 'boolean' });
  const backend = String(args.backend ?? 'wasm') as BackendName;
  const iterations = Number(args.iterations ?? 8);
  const out = String(args.out ?? 'bench-results/bench.json');
  await initNodeBackend(backend);
  // Everything but the painter's second row runs on one thread, as the peer does (OMP_NUM_THREADS=1).
  const twoThreads = heapThreadServed() !== null;
  kernelOptions.threads = false;
  const task = getTask('names');
  const h = { ...defaultHyperparameters(), ...task.hyperparameters };
  const results: Record<string, unknown>[] = [];

  for (const arch of ARCHS) {
    const trainer = new Trainer({
      task,
      reference: loadPolicyFromDisk(modelId(task, arch)),
      hyperparameters: {},
      seed: 1,
      reward: await SandboxReward.create(nodeQuickJs, [{ name: 'length', weight: 1, source: LENGTH_REWARD }], sandboxLimits(h)),
    });
    await trainer.step(); // warm-up: kernel compilation and first allocations
    const ms = { rollout: [] as number[], reward: [] as number[], update: [] as number[], total: [] as number[], tokps: [] as number[] };
    for (let i = 0; i < iterations; i++) {
      const { metrics: m } = await trainer.step();
      ms.rollout.push(m.rolloutMs);
      ms.reward.push(m.rewardMs);
      ms.update.push(m.updateMs);
      ms.total.push(m.totalMs);
      ms.tokps.push(m.tokensPerSecond);
    }
    // Sampling alone: the full context (31 new tokens after the start token), no stop token, batch 64.
    const steps = arch === 'transformer' ? trainer.policy.config.contextLength - 1 : 31;
    const sampling: Record<string, number> = {};
    for (const cache of [true, false]) {
      const times: number[] = [];
      for (let r = 0; r < 4; r++) {
        const t0 = performance.now();
        await sample(trainer.policy, { prompts: Array(h.batchSize).fill([]), maxNew: steps, temperature: 1, topK: 0, rng: new Rng(r), stopToken: -1, cache });
        if (r > 0) times.push(performance.now() - t0);
      }
      sampling[cache ? 'cachedMs' : 'uncachedMs'] = median(times);
    }
    results.push({
      arch,
      backend,
      batchSize: h.batchSize,
      epochs: h.epochs,
      minibatches: h.minibatches,
      iterationMs: median(ms.total),
      rolloutMs: median(ms.rollout),
      rewardMs: median(ms.reward),
      updateMs: median(ms.update),
      tokensPerSecond: median(ms.tokps),
      samplingSteps: steps,
      sampleCachedMs: sampling.cachedMs,
      sampleUncachedMs: sampling.uncachedMs,
      cacheSpeedup: sampling.uncachedMs / sampling.cachedMs,
      sampledTokensPerSecondCached: (h.batchSize * steps) / (sampling.cachedMs / 1000),
    });
    trainer.dispose();
  }

  // The PyTorch peer: the same iteration, one thread, sized like our policies.
  const peer: Record<string, PeerResult | null> = {};
  const python = args['no-peer'] ? null : findTorch();
  if (args['no-peer']) console.log('peer: skipped (--no-peer)');
  else if (!python) console.log('peer: skipped: no python3 with torch here (Debian: apt-get install python3-torch)');
  else {
    for (const arch of ARCHS) {
      const sizing = arch === 'mlp' ? ['--window', '8', '--embed', '16', '--width', '64'] : ['--width', '64', '--layers', '2', '--heads', '4'];
      const out = execFileSync(python, [path.join('scripts', 'peer_ppo.py'), '--arch', arch, ...sizing, '--ctx', '21', '--iters', String(Math.max(iterations, 6))], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' } });
      peer[arch] = JSON.parse(out.trim().split('\n').at(-1)!) as PeerResult;
    }
  }

  console.log(`PPO on names, ${backend} backend, default settings (batch ${h.batchSize}, ${h.epochs} epochs x ${h.minibatches} minibatches), median of ${iterations} iterations`);
  console.table(
    results.map((r) => ({
      arch: r.arch,
      'iteration ms': fmt(r.iterationMs),
      'rollout ms': fmt(r.rolloutMs),
      'reward ms': fmt(r.rewardMs),
      'update ms': fmt(r.updateMs),
      'tokens/s': fmt(r.tokensPerSecond),
      [`sample ${r.samplingSteps} tok cached ms`]: fmt(r.sampleCachedMs),
      'uncached ms': fmt(r.sampleUncachedMs),
      'cache speedup': `${(r.cacheSpeedup as number).toFixed(2)}x`,
    })),
  );
  // Ours at the peer's own settings (Adam 3e-4, a fixed KL coefficient of 0.05, value loss weight 0.1,
  // no entropy bonus), from the first iteration on, as the peer runs: names then grow at a like pace,
  // so both time the same completions (the mean length at the end is printed beside the peer's).
  // The phases split where the peer splits them: its update starts with the forward passes that
  // score the batch (old log-probs, values, reference log-probs), which our rollout does, so here
  // our scoring moves from rollout to update.
  const matched: Record<string, { iterationMs: number; rolloutMs: number; updateMs: number; lengthLast: number }> = {};
  if (python) {
    for (const arch of ARCHS) {
      const reward = await SandboxReward.create(nodeQuickJs, [{ name: 'length', weight: 1, source: LENGTH_REWARD }], sandboxLimits(h));
      const trainer = new Trainer({ task, reference: loadPolicyFromDisk(modelId(task, arch)), hyperparameters: { learningRate: 3e-4, klCoef: 0.05, adaptiveKl: false, valueCoef: 0.1, entropyCoef: 0, maxLength: 20 }, seed: 1, reward });
      const runs: IterationMetrics[] = [];
      for (let i = 0; i < Math.max(iterations, 6); i++) runs.push((await trainer.step()).metrics);
      const after = runs.slice(1); // the first iteration compiles kernels; the peer leaves its first out too
      const scoring = (m: IterationMetrics) => m.scoringMs ?? 0;
      matched[arch] = {
        iterationMs: median(after.map((m) => m.totalMs)),
        rolloutMs: median(after.map((m) => m.rolloutMs - scoring(m))),
        updateMs: median(after.map((m) => m.updateMs + scoring(m))),
        lengthLast: runs.at(-1)!.sampleLength - 1,
      };
      trainer.dispose();
      reward.dispose();
    }
    console.log(`Against the PyTorch peer (${peer.mlp?.peer}, one thread), both at the peer's settings: its time over ours, so above 1 means faster than PyTorch. Rollout is sampling; update is scoring the batch, then the minibatch steps (as the peer splits them)`);
    console.table(
      (ARCHS).map((arch) => {
        const p = peer[arch]!;
        const r = matched[arch];
        return {
          arch,
          'ours iteration ms': fmt(r.iterationMs),
          'peer iteration ms': fmt(p.iter_s * 1000),
          'iteration ratio': `${((p.iter_s * 1000) / r.iterationMs).toFixed(2)}x`,
          'ours rollout ms': fmt(r.rolloutMs),
          'peer rollout ms': fmt(p.rollout_s * 1000),
          'ours update ms': fmt(r.updateMs),
          'peer update ms': fmt(p.update_s * 1000),
          'update ratio': `${((p.update_s * 1000) / r.updateMs).toFixed(2)}x`,
          'mean length at the end (ours / peer)': `${r.lengthLast.toFixed(1)} / ${p.reward_last.toFixed(1)}`,
        };
      }),
    );
  }

  // The largest gallery policies at their own defaults: the image painter (64 pixels, context 128) and CartPole.
  const gallery: Record<string, unknown>[] = [];
  {
    const images = getTask('images');
    const hi = { ...defaultHyperparameters(), ...images.hyperparameters };
    const reward = await SandboxReward.create(nodeQuickJs, defaultRewards(images), sandboxLimits(hi));
    // One thread and (where a second thread runs) two: two trainers from the same seed taking turns, so
    // both time the same completions at the same moments.
    const threads = twoThreads ? [false, true] : [false];
    const trainers = threads.map(() => new Trainer({ task: images, reference: loadPolicyFromDisk(modelId(images, 'transformer')), hyperparameters: {}, seed: 1, reward }));
    let turn = 0;
    const step = () => {
      kernelOptions.threads = threads[turn];
      const t = trainers[turn];
      turn = (turn + 1) % threads.length;
      return t.step();
    };
    const all = await timeSteps(step, threads.length * iterations, threads.length);
    all.forEach((times, i) => gallery.push({ task: 'images', policy: `transformer, context 128, ${threads[i] ? 'two threads' : 'one thread'}`, ...times }));
    kernelOptions.threads = false;
    trainers.forEach((t) => t.dispose());
    reward.dispose();
    const cartpole = getTask('cartpole');
    const rc = await SandboxReward.create(nodeQuickJs, defaultRewards(cartpole), sandboxLimits(hi));
    const control = new ControlTrainer({ task: cartpole, hyperparameters: {}, seed: 1, reward: rc });
    gallery.push({ task: 'cartpole', policy: 'actor-critic MLP 64-64, 512 steps', ...(await timeSteps(() => control.step(), iterations))[0] });
    control.dispose();
    rc.dispose();
  }
  console.log('The largest gallery policies, default settings, median iteration');
  console.table(gallery.map((g) => ({ task: g.task, policy: g.policy, 'iteration ms': fmt(g.iterationMs), 'rollout ms': fmt(g.rolloutMs), 'reward ms': fmt(g.rewardMs), 'update ms': fmt(g.updateMs) })));

  // The algorithms side by side at the same number of completions, from the same reference
  // policy, under a reward that is 0 for every completion: the policies stay where they
  // start, so the completions (and their lengths) stay alike and only the algorithms'
  // work differs. A learning reward would lengthen one algorithm's names sooner than
  // another's and time the lengths instead. Medians of PPO, GRPO and RLOO iterations.
  const perAlgorithm: Record<string, unknown>[] = [];
  for (const arch of ARCHS) {
    for (const algorithm of ALGORITHM_IDS) {
      const reward = await SandboxReward.create(nodeQuickJs, [{ name: 'neutral', weight: 1, source: 'function reward() { return 0; }' }], sandboxLimits(h));
      const trainer = new Trainer({ task, reference: loadPolicyFromDisk(modelId(task, arch)), hyperparameters: {}, seed: 1, reward, algorithm });
      await trainer.step();
      const total: number[] = [], update: number[] = [], length: number[] = [];
      for (let i = 0; i < iterations; i++) {
        const { metrics: m } = await trainer.step();
        total.push(m.totalMs);
        update.push(m.updateMs);
        length.push(m.sampleLength);
      }
      trainer.dispose();
      reward.dispose();
      perAlgorithm.push({ arch, algorithm, iterationMs: median(total), updateMs: median(update), meanLength: length.reduce((a, b) => a + b, 0) / length.length });
    }
  }
  console.log(`Algorithms at batch ${h.batchSize} from the same reference policy, median of ${iterations} iterations`);
  console.table(perAlgorithm.map((r) => ({ arch: r.arch, algorithm: r.algorithm, 'iteration ms': fmt(r.iterationMs), 'update ms': fmt(r.updateMs), 'mean length': (r.meanLength as number).toFixed(1) })));

  // Scoring one batch of 64 names with a one-line reward: the sandbox against a plain function.
  const tokenizerTask = getTask('names');
  const names = ['anna', 'bob', 'zoe', 'maximilian', 'oliver', 'emma', 'liam', 'sophia'];
  const batch = Array.from({ length: h.batchSize }, (_, index) => ({ text: names[index % names.length], tokens: [1, 2, 3], prompt: '', index }));
  const ctx = { iteration: 1, task: tokenizerTask.id, helpers: rewardHelpers };
  const scoring: Record<string, number> = {};
  const models: [string, RewardModel][] = [
    ['sandboxed (QuickJS)', await SandboxReward.create(nodeQuickJs, [{ name: 'length', weight: 1, source: LENGTH_REWARD }], sandboxLimits(h))],
    ['plain function (--trusted)', new FunctionReward([{ name: 'length', weight: 1, fn: compileRewardSource(LENGTH_REWARD) }])],
  ];
  for (const [name, model] of models) {
    for (let i = 0; i < 20; i++) await model.score(batch, ctx); // warm-up
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      await model.score(batch, ctx);
      times.push(performance.now() - t0);
    }
    scoring[name] = median(times);
    model.dispose?.();
  }
  console.log(`Scoring a batch of ${h.batchSize} with a one-line reward, median of 200`);
  console.table(Object.entries(scoring).map(([how, ms]) => ({ reward: how, 'ms / batch': ms.toFixed(3), 'us / sample': ((ms * 1000) / h.batchSize).toFixed(1) })));

  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), tfjs: tf.version_core, node: process.version, results, peer, peerMatched: matched, gallery, algorithms: perAlgorithm, rewardScoringMs: scoring }, null, 2) + '\n');
  console.log(`wrote ${out}`);
});

interface PeerResult {
  peer: string;
  arch: string;
  iter_s: number;
  rollout_s: number;
  update_s: number;
  /** Mean completion length (the reward) at the last iteration. */
  reward_last: number;
}


/** Median phase times of `n` iterations after a warm-up each, `ways` steppers taking turns (one set of times each). */
async function timeSteps(step: () => Promise<{ metrics: { totalMs: number; rolloutMs: number; rewardMs: number; updateMs: number } }>, n: number, ways = 1) {
  for (let w = 0; w < ways; w++) await step();
  const ms = Array.from({ length: ways }, () => ({ total: [] as number[], rollout: [] as number[], reward: [] as number[], update: [] as number[] }));
  for (let i = 0; i < n; i++) {
    const { metrics: m } = await step();
    const into = ms[i % ways];
    into.total.push(m.totalMs);
    into.rollout.push(m.rolloutMs);
    into.reward.push(m.rewardMs);
    into.update.push(m.updateMs);
  }
  return ms.map((x) => ({ iterationMs: median(x.total), rolloutMs: median(x.rollout), rewardMs: median(x.reward), updateMs: median(x.update) }));
}
