// A/B of our optional wasm kernels in one process (not a test): two trainers from
// the same seed take turns, one iteration each, A with the kernels named by --off
// turned off, B with them on, so both see the same machine at the same moments.
// Prints each phase's median for A and B, B's time over A's, and whether every
// iteration's metrics (times aside) came out the same.
//   npm run bench-ab [-- --iterations N --off transposedProducts,broadcastSum --out bench-results/ab.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { defaultHyperparameters, sandboxLimits } from '../src/core/hyperparameters.ts';
import { kernelOptions } from '../src/core/ops/kernels/wasmKernels.ts';
import { SandboxReward } from '../src/core/reward/sandbox/sandboxReward.ts';
import { defaultRewards, getTask, modelId } from '../src/core/tasks/index.ts';
import { Trainer } from '../src/core/training/trainer.ts';
import type { IterationMetrics } from '../src/core/training/metrics.ts';
import type { Arch } from '../src/core/policy/archs.ts';
import { parseArgs, runMain } from './args.ts';
import { median, fmt } from './benchShared.ts';
import { initNodeBackend } from './nodeBackend.ts';
import { loadPolicyFromDisk } from './nodeModels.ts';
import { nodeQuickJs } from './nodeSandbox.ts';

type Option = keyof typeof kernelOptions;
const LENGTH_REWARD = 'function reward(sample) { return sample.text.length; }';
/** The peer's settings (as npm run bench times names against PyTorch). */
const PEER = { learningRate: 3e-4, klCoef: 0.05, adaptiveKl: false, valueCoef: 0.1, entropyCoef: 0, maxLength: 20 };

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), { iterations: 'count', off: 'string', out: 'string' });
  const iterations = Number(args.iterations ?? 8);
  const off = String(args.off ?? Object.keys(kernelOptions).join(',')).split(',') as Option[];
  for (const o of off) if (!(o in kernelOptions)) throw new Error(`--off names ${o}, which is not one of ${Object.keys(kernelOptions).join(', ')}`);
  const out = String(args.out ?? 'bench-results/ab.json');
  await initNodeBackend('wasm');
  const set = (on: boolean) => off.forEach((o) => (kernelOptions[o] = on));
  const runs: [string, Arch, boolean][] = [['names', 'mlp', true], ['names', 'transformer', true], ['images', 'transformer', false]];
  const rows: Record<string, unknown>[] = [];
  for (const [taskId, arch, peer] of runs) {
    const task = getTask(taskId);
    const h = { ...defaultHyperparameters(), ...task.hyperparameters };
    const make = async () => {
      const reward = await SandboxReward.create(nodeQuickJs, peer ? [{ name: 'length', weight: 1, source: LENGTH_REWARD }] : defaultRewards(task), sandboxLimits(h));
      return { reward, trainer: new Trainer({ task, reference: loadPolicyFromDisk(modelId(task, arch)), hyperparameters: peer ? PEER : {}, seed: 1, reward }) };
    };
    const [a, b] = [await make(), await make()];
    const m: Record<'A' | 'B', IterationMetrics[]> = { A: [], B: [] };
    let same = true;
    const n = taskId === 'images' ? Math.min(iterations, 5) : iterations;
    for (let i = 0; i <= n; i++) {
      set(false);
      const ma = (await a.trainer.step()).metrics;
      set(true);
      const mb = (await b.trainer.step()).metrics;
      same &&= Object.keys(ma).every((k) => /Ms$|PerSecond$/.test(k) || JSON.stringify(ma[k as keyof IterationMetrics]) === JSON.stringify(mb[k as keyof IterationMetrics]));
      if (i === 0) continue; // kernels compile in the first
      m.A.push(ma);
      m.B.push(mb);
    }
    for (const x of [a, b]) {
      x.trainer.dispose();
      x.reward.dispose();
    }
    // As npm run bench splits phases against the peer: scoring the batch counts in the update.
    const phase = (ms: IterationMetrics[], f: (x: IterationMetrics) => number) => median(ms.map(f));
    const update = (x: IterationMetrics) => x.updateMs + (x.scoringMs ?? 0);
    const row = {
      run: `${taskId} ${arch}${peer ? " (peer's settings)" : ''}`,
      aIterationMs: phase(m.A, (x) => x.totalMs),
      bIterationMs: phase(m.B, (x) => x.totalMs),
      aUpdateMs: phase(m.A, update),
      bUpdateMs: phase(m.B, update),
      same,
    };
    rows.push(row);
    console.log(`${row.run}: iteration ${fmt(row.aIterationMs)} -> ${fmt(row.bIterationMs)} ms (${(row.bIterationMs / row.aIterationMs).toFixed(3)}x), update ${fmt(row.aUpdateMs)} -> ${fmt(row.bUpdateMs)} ms (${(row.bUpdateMs / row.aUpdateMs).toFixed(3)}x); metrics ${same ? 'identical' : 'differ'}`);
  }
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), off, iterations, rows }, null, 2) + '\n');
  console.log(`wrote ${out} (A: ${off.join(', ')} off; B: on)`);
});
