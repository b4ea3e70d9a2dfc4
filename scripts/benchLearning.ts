// Learning benchmark (not a test): does every task learn under every algorithm, on
// every seed, without running away from its reference or raising an alarm?
//   npm run bench-learning [-- --quick] [--seeds 5] [--iterations 30] [--jobs 2]
//                          [--tasks names,privacy] [--archs transformer] [--algorithms ppo,grpo]
//                          [--no-presets] [--set name=value ...]
// Every task (its default reward), both policies where it has them, every algorithm it
// offers, seeds 1-5, then every shipped preset with PPO on seed 1. --quick runs seed 1
// of every cell and no presets (about 4 minutes on 2 cores). Runs go to --jobs child
// processes (default: one per core). Writes bench-results/learning.json (with each
// run's per-iteration trace), learning.md (the tables) and learning.svg. --set changes a
// setting in every run (an experiment across the benchmark), as train.ts's --set does.
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { BackendName } from '../src/core/backend/backend.ts';
import { ALGORITHM_IDS, type AlgorithmId } from '../src/core/algorithms/catalog.ts';
import { defaultExperiment } from '../src/core/experiment/experiment.ts';
import { sandboxLimits, validateHyperparameters, type Hyperparameters } from '../src/core/hyperparameters.ts';
import type { IterationMetrics } from '../src/core/training/metrics.ts';
import { ARCHS, type Arch } from '../src/core/policy/policy.ts';
import { rewardProgram } from '../src/core/reward/reward.ts';
import { SandboxReward } from '../src/core/reward/sandbox/sandboxReward.ts';
import { getTask, modelId, TASKS, taskAlgorithms, taskArchs } from '../src/core/tasks/index.ts';
import { createTrainer } from '../src/core/experiment/createTrainer.ts';
import { extractSets, parseArgs, runMain } from './args.ts';
import { initNodeBackend } from './nodeBackend.ts';
import { loadPolicyFromDisk } from './nodeModels.ts';
import { nodeQuickJs } from './nodeSandbox.ts';

/** One run to make: a task at its defaults (reward: null) or one of its presets. */
interface Cell {
  task: string;
  arch: Arch;
  algorithm: AlgorithmId;
  seed: number;
  /** A preset's key in the task's examples; null: the task's own starting reward. */
  preset: string | null;
  iterations: number;
  /** Settings changed from the task's defaults (--set). */
  sets: Partial<Hyperparameters>;
}

/** What one iteration leaves in the trace: enough to judge the run and to tune the alarms. */
type TracePoint = Pick<IterationMetrics, 'rewardMean' | 'kl' | 'entropy' | 'sampleLength' | 'alarms'> & { valueLoss?: number; runaway?: boolean };

interface Run extends Cell {
  first5: number;
  last5: number;
  /** The change relative to where it started, whatever the sign; rewards near 0 (rare events) are measured against 0.05. */
  gain: number;
  klAt30: number;
  klMax: number;
  /** The most KL the issue allows this algorithm: 3x the target for PPO's adaptive beta, 20 nats for GRPO and RLOO. */
  klLimit: number;
  /** The first iteration with any alarm, and the first with the runaway alarm (0: none). */
  firstAlarm: number;
  firstRunaway: number;
  lesson: boolean;
  seconds: number;
  trace: TracePoint[];
}

const GROUP_KL_LIMIT = 20;

if (process.argv.includes('--child')) child();
else runMain(main);

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const sets = extractSets(argv);
  const args = parseArgs(argv, { seeds: 'count', iterations: 'count', backend: 'string', quick: 'boolean', out: 'string', jobs: 'count', tasks: 'string', archs: 'string', algorithms: 'string', 'no-presets': 'boolean' });
  const seeds = Number(args.seeds ?? (args.quick ? 1 : 5));
  const iterations = Number(args.iterations ?? 30);
  const out = String(args.out ?? 'bench-results');
  const jobs = Math.max(1, Number(args.jobs ?? availableParallelism()));
  const backend = String(args.backend ?? 'wasm');
  const only = <T extends string>(list: string | boolean | number | undefined, all: readonly T[]): T[] => {
    if (list === undefined) return [...all];
    const asked = String(list).split(',');
    const unknown = asked.find((x) => !all.includes(x as T));
    if (unknown) throw new Error(`unknown ${JSON.stringify(unknown)} (known: ${all.join(', ')})`);
    return asked as T[];
  };
  const taskIds = only(args.tasks, TASKS.map((t) => t.id));

  const cells: Cell[] = [];
  for (const id of taskIds) {
    const task = getTask(id);
    for (const arch of only(args.archs, ARCHS).filter((a) => taskArchs(task).includes(a))) {
      for (const algorithm of only(args.algorithms, ALGORITHM_IDS).filter((a) => taskAlgorithms(task).includes(a))) {
        for (let seed = 1; seed <= seeds; seed++) cells.push({ task: id, arch, algorithm, seed, preset: null, iterations, sets });
      }
    }
  }
  if (!args.quick && !args['no-presets']) {
    for (const id of taskIds) {
      const task = getTask(id);
      if (task.environment) continue;
      for (const arch of taskArchs(task)) for (const preset of Object.keys(task.examples)) cells.push({ task: id, arch, algorithm: 'ppo', seed: 1, preset, iterations, sets });
    }
  }
  const started = performance.now();
  console.log(`${cells.length} runs of ${iterations} iterations on ${jobs} process(es), ${backend}`);
  const runs = await runAll(cells, jobs, backend);
  const minutes = (performance.now() - started) / 60000;

  const date = new Date().toISOString().slice(0, 10);
  const md = [
    `Learning benchmark, ${date}: ${iterations} iterations, task defaults${Object.keys(sets).length ? ` but ${Object.entries(sets).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}, ${backend}, ${minutes.toFixed(1)} min on ${jobs} process(es).`,
    '',
    cellTable(runs.filter((r) => r.preset === null), seeds),
    '',
    verdict(runs.filter((r) => r.preset === null)),
  ];
  const presets = runs.filter((r) => r.preset !== null);
  if (presets.length) md.push('', presetTable(presets));
  console.log('\n' + md.join('\n'));
  mkdirSync(out, { recursive: true });
  writeFileSync(`${out}/learning.json`, JSON.stringify({ date: new Date().toISOString(), iterations, seeds, backend, runs }) + '\n');
  writeFileSync(`${out}/learning.md`, md.join('\n') + '\n');
  writeFileSync(`${out}/learning.svg`, scatter(runs.filter((r) => r.preset === null)));
  console.log(`wrote ${out}/learning.json, learning.md and learning.svg`);
}

/** Runs the cells on `jobs` child processes, longest first, and returns them in the cells' order. */
async function runAll(cells: Cell[], jobs: number, backend: string): Promise<Run[]> {
  const cost = (c: Cell) => (c.task === 'images' ? 4 : c.task === 'privacy' || c.task === 'unittests' ? 3 : 1) * (c.arch === 'transformer' ? 2 : 1);
  const queue = cells.map((c, i) => ({ c, i })).sort((a, b) => cost(b.c) - cost(a.c));
  const results: Run[] = new Array(cells.length);
  let done = 0;
  const worker = () =>
    new Promise<void>((resolve, reject) => {
      // Each process a core of its own: a second thread each would only take the other's.
      const p = fork(process.argv[1], ['--child', backend, jobs > 1 ? 'one-thread' : 'threads'], { execArgv: process.execArgv });
      const next = () => {
        const item = queue.shift();
        if (!item) {
          p.kill();
          resolve();
          return;
        }
        p.once('message', (r: Run | { error: string }) => {
          if ('error' in r) {
            p.kill();
            reject(new Error(`${label(item.c)}: ${r.error}`));
            return;
          }
          results[item.i] = r;
          console.log(`[${++done}/${cells.length}] ${summary(r)}`);
          next();
        });
        p.send(item.c);
      };
      p.once('error', reject);
      next();
    });
  await Promise.all(Array.from({ length: Math.min(jobs, cells.length) }, worker));
  return results;
}

/** A child process: runs the cells it is sent, one at a time, and answers each with its run. */
function child(): void {
  const at = process.argv.indexOf('--child');
  const backend = process.argv[at + 1] as BackendName;
  const ready = initNodeBackend(backend, { threads: process.argv[at + 2] !== 'one-thread' });
  process.on('message', (cell: Cell) => {
    ready
      .then(() => run(cell))
      .then((r) => process.send!(r))
      .catch((e: unknown) => process.send!({ error: e instanceof Error ? e.message : String(e) }));
  });
}

async function run(cell: Cell): Promise<Run> {
  const task = getTask(cell.task);
  const experiment = { ...defaultExperiment(task.id, cell.arch, cell.algorithm), seed: cell.seed };
  experiment.hyperparameters = validateHyperparameters({ ...experiment.hyperparameters, ...cell.sets });
  if (cell.preset) experiment.rewards = [{ name: 'reward', weight: 1, source: rewardProgram(task.examples[cell.preset].source) }];
  const model = await SandboxReward.create(nodeQuickJs, experiment.rewards, sandboxLimits(experiment.hyperparameters));
  const trainer = createTrainer(experiment, model, task.environment ? null : loadPolicyFromDisk(modelId(task, cell.arch)));
  const started = performance.now();
  const ms: IterationMetrics[] = [];
  for (let i = 0; i < cell.iterations; i++) ms.push((await trainer.step()).metrics);
  const seconds = (performance.now() - started) / 1000;
  const klTarget = trainer.hyperparameters.klTarget;
  trainer.dispose();
  model.dispose();
  // A control task's iteration may end no episode: its reward is then NaN, and left out of the means.
  const mean = (xs: number[]) => avg(xs.filter((x) => Number.isFinite(x)));
  const first5 = mean(ms.slice(0, 5).map((m) => m.rewardMean));
  const last5 = mean(ms.slice(-5).map((m) => m.rewardMean));
  return {
    ...cell,
    first5,
    last5,
    gain: 1 + (last5 - first5) / Math.max(Math.abs(first5), 0.05),
    klAt30: ms.at(-1)!.kl,
    klMax: Math.max(...ms.map((m) => m.kl)),
    klLimit: cell.algorithm === 'ppo' ? 3 * klTarget : GROUP_KL_LIMIT,
    firstAlarm: ms.find((m) => m.alarms.length > 0)?.iteration ?? 0,
    firstRunaway: ms.find((m) => m.runaway)?.iteration ?? 0,
    lesson: cell.preset !== null && task.examples[cell.preset].title.includes('lesson'),
    seconds,
    trace: ms.map((m) => ({ rewardMean: m.rewardMean, kl: m.kl, entropy: m.entropy, sampleLength: m.sampleLength, valueLoss: m.valueLoss, alarms: m.alarms, runaway: m.runaway })),
  };
}

function label(c: Cell): string {
  return `${c.task} ${c.arch} ${c.algorithm}${c.preset ? ` ${c.preset}` : ''} seed ${c.seed}`;
}

function summary(r: Run): string {
  return `${label(r)}: ${fmt(r.first5)} -> ${fmt(r.last5)}, KL ${fmt(r.klAt30)} (max ${fmt(r.klMax)})${r.firstAlarm ? `, alarm at ${r.firstAlarm}` : ''}${r.firstRunaway ? ', RUNAWAY' : ''} (${r.seconds.toFixed(1)} s)`;
}

/** Did the run hold: reward up, KL within its limit, no alarm. */
function held(r: Run): boolean {
  return r.last5 > r.first5 && r.klMax <= r.klLimit && r.firstAlarm === 0;
}

/** One row per task, policy and algorithm; one cell per seed: gain, KL at the end, and the first alarm's iteration. */
function cellTable(runs: Run[], seeds: number): string {
  const rows = new Map<string, Run[]>();
  for (const r of runs) rows.set(`${r.task}|${r.arch}|${r.algorithm}`, [...(rows.get(`${r.task}|${r.arch}|${r.algorithm}`) ?? []), r]);
  const seedCols = Array.from({ length: seeds }, (_, i) => `seed ${i + 1}`);
  const lines = [`| task | policy | algorithm | ${seedCols.join(' | ')} |`, `|---|---|---|${seedCols.map(() => '---|').join('')}`];
  for (const rs of rows.values()) {
    const cells = rs.sort((a, b) => a.seed - b.seed).map((r) => `${held(r) ? '' : '**'}${pct(r.gain)}, KL ${fmt(r.klAt30)}${r.klMax > r.klLimit ? ` (max ${fmt(r.klMax)})` : ''}${r.firstAlarm ? `, alarm ${r.firstAlarm}${r.firstRunaway ? ' (runaway)' : ''}` : ''}${held(r) ? '' : '**'}`);
    lines.push(`| ${rs[0].task} | ${rs[0].arch} | ${rs[0].algorithm} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function verdict(runs: Run[]): string {
  const failed = runs.filter((r) => !held(r));
  const fell = runs.filter((r) => r.last5 <= r.first5).length;
  const over = runs.filter((r) => r.klMax > r.klLimit).length;
  const alarmed = runs.filter((r) => r.firstAlarm > 0).length;
  return `${runs.length - failed.length} of ${runs.length} runs held (reward of iterations 26-30 above 1-5, KL within 3x target for PPO or 20 nats for GRPO and RLOO, no alarm); ${fell} fell, ${over} went past their KL limit, ${alarmed} raised an alarm. Bold: a run that did not hold.`;
}

function presetTable(runs: Run[]): string {
  const lines = ['Every shipped preset, PPO, seed 1:', '', '| task | preset | policy | reward 1-5 | reward 26-30 | gain | KL | length | alarm |', '|---|---|---|---|---|---|---|---|---|'];
  for (const r of runs) {
    const t = r.trace.at(-1)!;
    lines.push(`| ${r.task} | ${r.preset}${r.lesson ? ' (lesson)' : ''} | ${r.arch} | ${fmt(r.first5)} | ${fmt(r.last5)} | ${pct(r.gain)} | ${fmt(r.klAt30)} | ${t.sampleLength.toFixed(1)} | ${r.firstAlarm ? `${r.firstAlarm}${r.firstRunaway ? ' (runaway)' : ''}` : ''} |`);
  }
  return lines.join('\n');
}

/** Reward gain (last 5 over first 5) against KL at the end, one point per run, coloured by algorithm. */
function scatter(runs: Run[]): string {
  const W = 640, H = 420, L = 60, B = 50, T = 30, R = 150;
  const colors: Record<AlgorithmId, string> = { ppo: '#2563eb', grpo: '#dc2626', rloo: '#059669' };
  const maxKl = Math.max(1, ...runs.map((r) => r.klAt30));
  const gains = runs.map((r) => Math.min(r.gain, 10));
  const [gMin, gMax] = [Math.min(0.5, ...gains), Math.max(2, ...gains)];
  const x = (kl: number) => L + ((W - L - R) * kl) / maxKl;
  const y = (g: number) => H - B - ((H - B - T) * (Math.min(g, 10) - gMin)) / (gMax - gMin);
  const mark = (r: Run) => {
    const [cx, cy, c] = [x(r.klAt30), y(r.gain), colors[r.algorithm]];
    const fill = r.arch === 'mlp' ? c : 'none';
    return `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="4" fill="${fill}" stroke="${c}"><title>${label(r)}</title></circle>`;
  };
  const ticks = (n: number, lo: number, hi: number) => Array.from({ length: n + 1 }, (_, i) => lo + ((hi - lo) * i) / n);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="18" font-size="13" font-weight="bold">Reward gain (iterations 26-30 over 1-5, capped at 10x) against KL at the end</text>`,
    ...ticks(5, 0, maxKl).map((v) => `<line x1="${x(v)}" y1="${T}" x2="${x(v)}" y2="${H - B}" stroke="#eee"/><text x="${x(v)}" y="${H - B + 15}" text-anchor="middle">${v.toFixed(1)}</text>`),
    ...ticks(5, gMin, gMax).map((v) => `<line x1="${L}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#eee"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(2)}x</text>`),
    `<line x1="${L}" y1="${y(1)}" x2="${W - R}" y2="${y(1)}" stroke="#999" stroke-dasharray="4 3"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">KL to the reference at the last iteration (nats per completion)</text>`,
    ...runs.map(mark),
    ...Object.entries(colors).map(([a, c], i) => `<circle cx="${W - R + 20}" cy="${T + 10 + 18 * i}" r="4.5" fill="${c}"/><text x="${W - R + 30}" y="${T + 14 + 18 * i}">${a.toUpperCase()}</text>`),
    `<text x="${W - R + 20}" y="${T + 80}">filled: mlp</text><text x="${W - R + 20}" y="${T + 96}">open: transformer</text>`,
    '</svg>',
    '',
  ].join('\n');
}

function avg(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

function pct(gain: number): string {
  return `${gain >= 1 ? '+' : ''}${(100 * (gain - 1)).toFixed(0)}%`;
}

function fmt(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2);
}
