// How the cost of an iteration grows with the policy (a benchmark, not a test):
// the MLP at hidden 256, 512, 1024 and the transformer at widths 64, 128, 256
// with 2 and 4 layers, ours against the PyTorch peer at the same sizes. Both
// pretrain 300 steps on names (so completions look like names), then run PPO
// iterations at the peer's settings; the median of the iterations after the
// first, per phase, split where the peer splits them (bench.ts says how), and
// for each architecture the fitted growth: time = c x parameters^b.
//   npm run bench-scaling [-- --iterations N --only mlp|transformer --no-peer --out bench-results/scaling.json]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createPolicy } from '../src/core/policy/create.ts';
import { copyWeights, parameterCount, type PolicyConfig } from '../src/core/policy/policy.ts';
import { heapThreadServed, kernelOptions } from '../src/core/ops/kernels/wasmKernels.ts';
import { pretrain, splitLines } from '../src/core/policy/pretrain.ts';
import { FunctionReward } from '../src/core/reward/reward.ts';
import { Rng } from '../src/core/rng.ts';
import { getTask, taskTokenizer } from '../src/core/tasks/index.ts';
import { Trainer } from '../src/core/training/trainer.ts';
import type { IterationMetrics } from '../src/core/training/metrics.ts';
import { parseArgs, runMain } from './args.ts';
import { findTorch, median, fmt } from './benchShared.ts';
import { initNodeBackend } from './nodeBackend.ts';

/** The peer's PPO settings (peer_ppo.py): Adam 3e-4, a fixed KL coefficient of 0.05, value weight 0.1, no entropy bonus, completions up to 20. */
const PEER_SETTINGS = { learningRate: 3e-4, klCoef: 0.05, adaptiveKl: false, valueCoef: 0.1, entropyCoef: 0, maxLength: 20 };

interface Size {
  label: string;
  config: PolicyConfig;
  /** The peer's flags for the same shape (its MLP's hidden layer is 4 x --width). */
  peer: string[];
}

interface Row {
  arch: string;
  size: string;
  parameters: number;
  ours: { iterationMs: number; rolloutMs: number; updateMs: number; lengthLast: number };
  /** Ours with a second thread (where one runs): the same completions, timed at the same moments. */
  twoThreads: { iterationMs: number; rolloutMs: number; updateMs: number } | null;
  peer: { iterationMs: number; rolloutMs: number; updateMs: number; parameters: number; lengthLast: number } | null;
}

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), { iterations: 'count', only: 'string', 'no-peer': 'boolean', out: 'string' });
  const iterations = Math.max(3, Number(args.iterations ?? 6));
  const out = String(args.out ?? 'bench-results/scaling.json');
  await initNodeBackend('wasm');
  const twoThreads = heapThreadServed() !== null;
  const task = getTask('names');
  const tokenizer = taskTokenizer(task);
  const V = tokenizer.vocabSize;
  const sizes: Size[] = [
    ...[256, 512, 1024].map((hidden) => ({ label: `hidden ${hidden}`, config: { arch: 'mlp' as const, vocabSize: V, contextLength: 8, embedDim: 16, hiddenDim: hidden }, peer: ['--arch', 'mlp', '--window', '8', '--embed', '16', '--width', String(hidden / 4)] })),
    ...[2, 4].flatMap((layers) =>
      [64, 128, 256].map((width) => ({ label: `width ${width}, ${layers} layers`, config: { arch: 'transformer' as const, vocabSize: V, contextLength: 32, layers, heads: 4, width }, peer: ['--arch', 'transformer', '--width', String(width), '--layers', String(layers), '--heads', '4'] })),
    ),
  ].filter((s) => !args.only || s.config.arch === args.only);
  const names = readFileSync('data/names.txt', 'utf8');
  const python = args['no-peer'] ? null : findTorch();
  if (!python && !args['no-peer']) console.log('peer: skipped: no python3 with torch here (Debian: apt-get install python3-torch)');
  const rows: Row[] = [];
  for (const size of sizes) {
    const rng = new Rng(1);
    const split = splitLines(names, tokenizer, rng);
    const policy = createPolicy(size.config, rng);
    await pretrain(policy, split.train, { steps: 300, batchSize: 64, learningRate: 3e-3, width: 20, rng, logEvery: 300 });
    // One thread (as the peer), and where a second thread runs, a twin trainer with it: the two take
    // turns from the same weights and seed, so they time the same completions at the same moments.
    const make = (reference: typeof policy) => new Trainer({ task, reference, hyperparameters: PEER_SETTINGS, seed: 1, reward: new FunctionReward([{ name: 'length', weight: 1, fn: (s) => s.text.length }]) });
    const trainer = make(policy);
    const copy = (p: typeof policy) => {
      const c = createPolicy(size.config);
      copyWeights(p, c);
      return c;
    };
    const twin = twoThreads ? make(copy(policy)) : null;
    const runs: IterationMetrics[] = [];
    const twinRuns: IterationMetrics[] = [];
    for (let i = 0; i < iterations; i++) {
      kernelOptions.threads = false;
      runs.push((await trainer.step()).metrics);
      kernelOptions.threads = true;
      if (twin) twinRuns.push((await twin.step()).metrics);
    }
    const scoring = (m: IterationMetrics) => m.scoringMs ?? 0;
    const times = (ms: IterationMetrics[]) => ({
      iterationMs: median(ms.slice(1).map((m) => m.totalMs)),
      rolloutMs: median(ms.slice(1).map((m) => m.rolloutMs - scoring(m))),
      updateMs: median(ms.slice(1).map((m) => m.updateMs + scoring(m))),
    });
    const ours = { ...times(runs), lengthLast: runs.at(-1)!.sampleLength - 1 };
    const two = twin ? times(twinRuns) : null;
    const parameters = parameterCount(trainer.policy);
    trainer.dispose();
    twin?.dispose();
    let peer: Row['peer'] = null;
    if (python) {
      const p = JSON.parse(
        execFileSync(python, [path.join('scripts', 'peer_ppo.py'), ...size.peer, '--ctx', '21', '--iters', String(iterations)], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' } }).trim().split('\n').at(-1)!,
      ) as { iter_s: number; rollout_s: number; update_s: number; params: number; reward_last: number };
      peer = { iterationMs: p.iter_s * 1000, rolloutMs: p.rollout_s * 1000, updateMs: p.update_s * 1000, parameters: p.params, lengthLast: p.reward_last };
    }
    rows.push({ arch: size.config.arch, size: size.label, parameters, ours, twoThreads: two, peer });
    const r = rows.at(-1)!;
    console.log(`${r.arch} ${r.size}: ${r.parameters} parameters; ours ${fmt(ours.iterationMs)} ms (rollout ${fmt(ours.rolloutMs)}, update ${fmt(ours.updateMs)})${two ? `, two threads ${fmt(two.iterationMs)} ms (update ${fmt(two.updateMs)})` : ''}${peer ? `; peer ${fmt(peer.iterationMs)} ms (rollout ${fmt(peer.rolloutMs)}, update ${fmt(peer.updateMs)}): ${(peer.iterationMs / ours.iterationMs).toFixed(2)}x` : ''}`);
  }

  console.log(`PPO on names at the peer's settings, wasm (Node) against PyTorch (one thread), median of ${iterations - 1} iterations after the first; ratio = peer time / ours`);
  console.table(
    rows.map((r) => ({
      arch: r.arch,
      size: r.size,
      parameters: r.parameters,
      'ours ms': fmt(r.ours.iterationMs),
      'rollout': fmt(r.ours.rolloutMs),
      'update': fmt(r.ours.updateMs),
      'ours, two threads ms': r.twoThreads ? fmt(r.twoThreads.iterationMs) : '-',
      'two threads update': r.twoThreads ? fmt(r.twoThreads.updateMs) : '-',
      'peer ms': r.peer ? fmt(r.peer.iterationMs) : '-',
      'peer rollout': r.peer ? fmt(r.peer.rolloutMs) : '-',
      'peer update': r.peer ? fmt(r.peer.updateMs) : '-',
      'iteration ratio': r.peer ? `${(r.peer.iterationMs / r.ours.iterationMs).toFixed(2)}x` : '-',
      'update ratio': r.peer ? `${(r.peer.updateMs / r.ours.updateMs).toFixed(2)}x` : '-',
      'length (ours / peer)': `${r.ours.lengthLast.toFixed(1)} / ${r.peer ? r.peer.lengthLast.toFixed(1) : '-'}`,
      // The two pretrainings leave completions of different lengths, and an iteration's work grows with them: per token (the stop token counted) is the fairer ratio.
      'per-token ratio': r.peer ? `${((r.peer.iterationMs / r.ours.iterationMs) * ((r.ours.lengthLast + 1) / (r.peer.lengthLast + 1))).toFixed(2)}x` : '-',
      'per-token update ratio': r.peer ? `${((r.peer.updateMs / r.ours.updateMs) * ((r.ours.lengthLast + 1) / (r.peer.lengthLast + 1))).toFixed(2)}x` : '-',
    })),
  );
  const growth: Record<string, unknown>[] = [];
  for (const arch of ['mlp', 'transformer']) {
    const of = rows.filter((r) => r.arch === arch);
    if (of.length < 2) continue;
    const fit = (ms: (r: Row) => number | null) => {
      const points = of.map((r) => [r.parameters, ms(r)] as const).filter((p): p is readonly [number, number] => p[1] !== null);
      return points.length >= 2 ? powerLaw(points) : null;
    };
    growth.push({
      arch,
      'ours: iteration': fit((r) => r.ours.iterationMs),
      'ours: rollout': fit((r) => r.ours.rolloutMs),
      'ours: update': fit((r) => r.ours.updateMs),
      'ours, two threads: iteration': fit((r) => r.twoThreads?.iterationMs ?? null),
      'peer: iteration': fit((r) => r.peer?.iterationMs ?? null),
      'peer: rollout': fit((r) => r.peer?.rolloutMs ?? null),
      'peer: update': fit((r) => r.peer?.updateMs ?? null),
    });
  }
  console.log('Fitted growth, time = c x parameters^b (least squares on logs): b per phase');
  console.table(growth.map((g) => Object.fromEntries(Object.entries(g).map(([k, v]) => [k, typeof v === 'object' && v ? (v as { b: number }).b.toFixed(2) : v]))));
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ iterations, settings: PEER_SETTINGS, rows, growth }, null, 2));
  console.log(`wrote ${out}`);
});

/** Least squares of log(ms) on log(parameters): ms = c x parameters^b. */
function powerLaw(points: readonly (readonly [number, number])[]): { b: number; c: number } {
  const xs = points.map(([p]) => Math.log(p));
  const ys = points.map(([, ms]) => Math.log(ms));
  const mx = xs.reduce((a, x) => a + x, 0) / xs.length;
  const my = ys.reduce((a, y) => a + y, 0) / ys.length;
  let sxy = 0;
  let sxx = 0;
  xs.forEach((x, i) => {
    sxy += (x - mx) * (ys[i] - my);
    sxx += (x - mx) ** 2;
  });
  const b = sxy / sxx;
  return { b, c: Math.exp(my - b * mx) };
}
