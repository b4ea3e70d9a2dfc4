// Learning benchmark (not a test): does each algorithm learn, how far does it move
// from the reference, and does every shipped preset learn without collapsing?
//   npm run bench-learning [-- --seeds 3 --iterations 30 --backend wasm --quick]
// Writes bench-results/learning.json and bench-results/learning.svg (reward gain
// against KL, one point per run) and prints two tables.
import { mkdirSync, writeFileSync } from 'node:fs';
import type { BackendName } from '../src/core/backend.ts';
import { ALGORITHM_IDS, startingHyperparameters, type AlgorithmId } from '../src/core/algorithms/catalog.ts';
import { sandboxLimits } from '../src/core/hyperparameters.ts';
import type { IterationMetrics } from '../src/core/metrics.ts';
import type { Arch } from '../src/core/policy.ts';
import { SandboxReward } from '../src/core/sandbox/sandboxReward.ts';
import { getTask, TASKS, modelId, taskArchs } from '../src/core/tasks.ts';
import { Trainer } from '../src/core/trainer.ts';
import { parseArgs, runMain } from './args.ts';
import { initNodeBackend } from './nodeBackend.ts';
import { loadPolicyFromDisk } from './nodeModels.ts';
import { nodeQuickJs } from './nodeSandbox.ts';

const ARCHS: Arch[] = ['mlp', 'transformer'];
/** The benchmark's rewards on the names task: longer, vowel-rich, and starting with z (a rare event to find). */
const BENCH_REWARDS = ['length', 'vowels', 'startsWithZ'];

interface Run {
  task: string;
  algorithm: AlgorithmId;
  arch: Arch;
  reward: string;
  seed: number;
  first5: number;
  last5: number;
  gain: number;
  klAt30: number;
  finalLength: number;
  alarm: boolean;
  seconds: number;
}

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), { seeds: 'number', iterations: 'number', backend: 'string', quick: 'boolean', out: 'string' });
  const seeds = Number(args.seeds ?? (args.quick ? 1 : 3));
  const iterations = Number(args.iterations ?? 30);
  const out = String(args.out ?? 'bench-results');
  await initNodeBackend(String(args.backend ?? 'wasm') as BackendName);

  const runs: Run[] = [];
  for (const algorithm of ALGORITHM_IDS) {
    for (const arch of ARCHS) {
      for (const reward of BENCH_REWARDS) {
        for (let seed = 1; seed <= seeds; seed++) runs.push(await run('names', algorithm, arch, reward, seed, iterations));
      }
    }
  }
  // Presets titled as lessons in reward hacking are expected to raise the alarm.
  const presets: Run[] = [];
  for (const task of TASKS.filter((t) => !t.environment)) {
    for (const arch of taskArchs(task)) for (const reward of Object.keys(task.examples)) presets.push(await run(task.id, 'ppo', arch, reward, 1, iterations));
  }

  console.log(`\nLearning on names, default settings, ${iterations} iterations, mean over ${seeds} seed(s)`);
  const groups = new Map<string, Run[]>();
  for (const r of runs) groups.set(`${r.algorithm} ${r.arch} ${r.reward}`, [...(groups.get(`${r.algorithm} ${r.arch} ${r.reward}`) ?? []), r]);
  console.table(
    [...groups.values()].map((rs) => ({
      algorithm: rs[0].algorithm,
      arch: rs[0].arch,
      reward: rs[0].reward,
      'reward 1-5': fmt(avg(rs.map((r) => r.first5))),
      [`reward ${iterations - 4}-${iterations}`]: fmt(avg(rs.map((r) => r.last5))),
      gain: `${(100 * (avg(rs.map((r) => r.gain)) - 1)).toFixed(0)}%`,
      [`KL at ${iterations}`]: fmt(avg(rs.map((r) => r.klAt30))),
      alarms: rs.filter((r) => r.alarm).length,
      's / run': avg(rs.map((r) => r.seconds)).toFixed(1),
    })),
  );
  console.log(`\nEvery shipped preset, PPO, default settings, seed 1`);
  console.table(presets.map((r) => ({ task: r.task, preset: r.reward + (getTask(r.task).examples[r.reward].title.includes('lesson') ? ' (lesson)' : ''), arch: r.arch, 'reward 1-5': fmt(r.first5), 'reward last 5': fmt(r.last5), gain: `${(100 * (r.gain - 1)).toFixed(0)}%`, KL: fmt(r.klAt30), length: r.finalLength.toFixed(1), alarm: r.alarm ? 'yes' : '' })));

  mkdirSync(out, { recursive: true });
  writeFileSync(`${out}/learning.json`, JSON.stringify({ date: new Date().toISOString(), iterations, seeds, runs, presets }, null, 2) + '\n');
  writeFileSync(`${out}/learning.svg`, scatter(runs));
  console.log(`wrote ${out}/learning.json and ${out}/learning.svg`);
});

async function run(taskId: string, algorithm: AlgorithmId, arch: Arch, reward: string, seed: number, iterations: number): Promise<Run> {
  const task = getTask(taskId);
  const h = startingHyperparameters(algorithm, task.hyperparameters);
  const model = await SandboxReward.create(nodeQuickJs, [{ name: 'reward', weight: 1, source: task.examples[reward].source }], sandboxLimits(h));
  const trainer = new Trainer({ task, reference: loadPolicyFromDisk(modelId(task, arch)), hyperparameters: {}, seed, reward: model, algorithm });
  const started = performance.now();
  const ms: IterationMetrics[] = [];
  for (let i = 0; i < iterations; i++) ms.push((await trainer.step()).metrics);
  const seconds = (performance.now() - started) / 1000;
  trainer.dispose();
  model.dispose();
  const first5 = avg(ms.slice(0, 5).map((m) => m.rewardMean));
  const last5 = avg(ms.slice(-5).map((m) => m.rewardMean));
  const r: Run = {
    task: taskId,
    algorithm,
    arch,
    reward,
    seed,
    first5,
    last5,
    // The change relative to where it started, whatever the sign; rewards near 0 (rare events) are measured against 0.05.
    gain: 1 + (last5 - first5) / Math.max(Math.abs(first5), 0.05),
    klAt30: ms.at(-1)!.kl,
    finalLength: ms.at(-1)!.sampleLength,
    alarm: ms.slice(-5).some((m) => m.alarms.length > 0),
    seconds,
  };
  console.log(`${taskId} ${algorithm} ${arch} ${reward} seed ${seed}: ${fmt(first5)} -> ${fmt(last5)}, KL ${fmt(r.klAt30)}${r.alarm ? ', ALARM' : ''} (${seconds.toFixed(1)} s)`);
  return r;
}

/** Reward gain (last 5 over first 5) against KL at the end, one point per run, coloured by algorithm. */
function scatter(runs: Run[]): string {
  const W = 640, H = 420, L = 60, B = 50, T = 30, R = 150;
  const colors: Record<AlgorithmId, string> = { ppo: '#2563eb', grpo: '#dc2626', rloo: '#059669' };
  const shapes: Record<string, string> = { length: 'circle', vowels: 'square', startsWithZ: 'triangle' };
  const maxKl = Math.max(1, ...runs.map((r) => r.klAt30));
  const gains = runs.map((r) => r.gain);
  const [gMin, gMax] = [Math.min(0.5, ...gains), Math.max(2, ...gains)];
  const x = (kl: number) => L + ((W - L - R) * kl) / maxKl;
  const y = (g: number) => H - B - ((H - B - T) * (g - gMin)) / (gMax - gMin);
  const mark = (r: Run) => {
    const [cx, cy, c] = [x(r.klAt30), y(r.gain), colors[r.algorithm]];
    const fill = r.arch === 'mlp' ? c : 'none';
    if (shapes[r.reward] === 'square') return `<rect x="${cx - 4}" y="${cy - 4}" width="8" height="8" fill="${fill}" stroke="${c}"/>`;
    if (shapes[r.reward] === 'triangle') return `<polygon points="${cx},${cy - 5} ${cx - 5},${cy + 4} ${cx + 5},${cy + 4}" fill="${fill}" stroke="${c}"/>`;
    return `<circle cx="${cx}" cy="${cy}" r="4.5" fill="${fill}" stroke="${c}"/>`;
  };
  const ticks = (n: number, lo: number, hi: number) => Array.from({ length: n + 1 }, (_, i) => lo + ((hi - lo) * i) / n);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="18" font-size="13" font-weight="bold">Reward gain (iterations 26-30 over 1-5) against KL to the reference at iteration 30</text>`,
    ...ticks(5, 0, maxKl).map((v) => `<line x1="${x(v)}" y1="${T}" x2="${x(v)}" y2="${H - B}" stroke="#eee"/><text x="${x(v)}" y="${H - B + 15}" text-anchor="middle">${v.toFixed(1)}</text>`),
    ...ticks(5, gMin, gMax).map((v) => `<line x1="${L}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#eee"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(2)}x</text>`),
    `<line x1="${L}" y1="${y(1)}" x2="${W - R}" y2="${y(1)}" stroke="#999" stroke-dasharray="4 3"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">KL at iteration 30 (nats per completion)</text>`,
    ...runs.map(mark),
    ...Object.entries(colors).map(([a, c], i) => `<circle cx="${W - R + 20}" cy="${T + 10 + 18 * i}" r="4.5" fill="${c}"/><text x="${W - R + 30}" y="${T + 14 + 18 * i}">${a.toUpperCase()}</text>`),
    ...Object.entries(shapes).map(([rw, sh], i) => `<text x="${W - R + 20}" y="${T + 80 + 18 * i}">${sh === 'circle' ? '●' : sh === 'square' ? '■' : '▲'} ${rw}</text>`),
    `<text x="${W - R + 20}" y="${T + 150}">filled: mlp</text><text x="${W - R + 20}" y="${T + 166}">open: transformer</text>`,
    '</svg>',
    '',
  ].join('\n');
}

function avg(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function fmt(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(3);
}
