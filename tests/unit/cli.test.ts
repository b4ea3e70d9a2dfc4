import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IterationMetrics } from '../../src/core/training/metrics.ts';
import { defaultExperiment } from '../../src/core/experiment/experiment.ts';
import { runFile } from '../../src/core/experiment/runFile.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'rlcf-cli-'));

function train(args: string[]): { iterations: IterationMetrics[] } {
  const json = path.join(dir, `${args.join('_').replace(/\W+/g, '')}.json`);
  execFileSync('npx', ['tsx', 'scripts/train.ts', ...args, '--json', json, '--quiet'], { stdio: 'pipe' });
  return JSON.parse(readFileSync(json, 'utf8'));
}

const mean = (ms: IterationMetrics[]) => ms.reduce((a, m) => a + m.rewardMean, 0) / ms.length;

describe('npm run train', () => {
  for (const arch of ['mlp', 'transformer']) {
    it(`raises the name-length reward by 30% in 30 iterations at default settings (${arch})`, () => {
      const run = train(['--task', 'names', '--reward', 'sample.text.length', '--iterations', '30', '--seed', '1', '--arch', arch, '--backend', 'wasm']);
      expect(run.iterations).toHaveLength(30);
      expect(mean(run.iterations.slice(25, 30))).toBeGreaterThanOrEqual(1.3 * mean(run.iterations.slice(0, 5)));
    });
  }

  it('trains with GRPO and RLOO, and writes the algorithm into its JSON', () => {
    for (const algorithm of ['grpo', 'rloo']) {
      const run = train(['--task', 'names', '--reward', 'length', '--iterations', '2', '--algorithm', algorithm, '--set', 'batchSize=16', '--set', 'groupSize=4']) as { algorithm?: string; iterations: IterationMetrics[] };
      expect(run.algorithm).toBe(algorithm);
      expect(run.iterations).toHaveLength(2);
      expect(run.iterations[1].valueLoss).toBeUndefined();
    }
  });

  it('a reward with a loophole drives the run into the collapse alarm, and the summary says so', () => {
    const json = path.join(dir, 'loophole.json');
    const out = execFileSync('npx', ['tsx', 'scripts/train.ts', '--task', 'names', '--reward', '-text.length', '--iterations', '30', '--quiet', '--set', 'klCoef=0.01', '--set', 'adaptiveKl=false', '--set', 'learningRate=0.005', '--json', json], { encoding: 'utf8' });
    const run = JSON.parse(readFileSync(json, 'utf8')) as { iterations: IterationMetrics[] };
    expect(run.iterations[0].alarms).toEqual([]);
    const last = run.iterations.at(-1)!;
    expect(last.alarms.some((a) => a.startsWith('completions shrank'))).toBe(true);
    expect(last.alarms.some((a) => a.includes('less likely per token under the reference'))).toBe(true);
    expect(out).toMatch(/^collapsed: at iteration \d+ completions shrank/m);
    expect(out).not.toMatch(/^mean reward, first 5/m);
  });

  it('--check checks the reward before any training: a loophole in the names reward is named with its numbers, the default reward passes', () => {
    const out = execFileSync('npx', ['tsx', 'scripts/train.ts', '--task', 'names', '--reward', 'sample.text.length === 0 ? 5 : sample.text.length / 10', '--check'], { encoding: 'utf8' });
    expect(out).toMatch(/checked on 16 reference samples and 4 edge cases: 1 warning/);
    expect(out).toMatch(/loophole: An empty completion \(the stop token at once\) scores 5, above every reference sample/);
    expect(out).not.toMatch(/^\s+1\s/m); // no iteration ran
    const ok = execFileSync('npx', ['tsx', 'scripts/train.ts', '--task', 'names', '--reward', 'length', '--check'], { encoding: 'utf8' });
    expect(ok).toContain('no warning');
  });

  it('a run made to diverge raises the runaway alarm within 3 iterations of its start, and the summary says it ran away', () => {
    const json = path.join(dir, 'runaway.json');
    const out = execFileSync('npx', ['tsx', 'scripts/train.ts', '--task', 'names', '--reward', 'length', '--iterations', '5', '--quiet', '--set', 'learningRate=0.05', '--json', json], { encoding: 'utf8' });
    const run = JSON.parse(readFileSync(json, 'utf8')) as { iterations: IterationMetrics[] };
    expect(run.iterations[0].runaway).toBe(false);
    // Within 3 iterations of KL passing 3x its target (6 nats), where the runaway starts.
    const start = run.iterations.find((m) => m.kl > 18)!.iteration;
    const first = run.iterations.find((m) => m.runaway)!;
    expect(first.iteration).toBeLessThanOrEqual(start + 3);
    expect(first.alarms.find((a) => a.startsWith('runaway:'))).toMatch(/\d/);
    expect(out).toMatch(/alarm at iteration \d+: .*runaway: /);
    expect(out).toMatch(/^ran away: at iteration \d+ .*Lower the learning rate or raise the KL coefficient, then Reset\./m);
  });

  it('trains the experiment of an exported run file: its task, algorithm, seed, settings and weighted rewards', () => {
    const experiment = {
      ...defaultExperiment('names', 'mlp', 'rloo'),
      seed: 11,
      rewards: [
        { name: 'long', weight: 1, source: 'function reward(sample) { return sample.text.length; }' },
        { name: 'z', weight: 3, source: "function reward(sample) { return sample.text.startsWith('z') ? 1 : 0; }" },
      ],
    };
    experiment.hyperparameters.batchSize = 16;
    experiment.hyperparameters.groupSize = 4;
    const file = path.join(dir, 'exported.json');
    writeFileSync(file, JSON.stringify(runFile('two rewards', experiment, [])));
    const out = path.join(dir, 'exported-out.json');
    const log = execFileSync('npx', ['tsx', 'scripts/train.ts', '--experiment', file, '--iterations', '2', '--quiet', '--set', 'epochs=1', '--json', out], { encoding: 'utf8' });
    expect(log).toMatch(/experiment .*exported\.json: names, mlp, rloo, seed 11, reward 1 x long \+ 3 x z/);
    const run = JSON.parse(readFileSync(out, 'utf8')) as { algorithm: string; seed: number; rewards: unknown; hyperparameters: Record<string, unknown>; iterations: IterationMetrics[] };
    expect(run).toMatchObject({ algorithm: 'rloo', seed: 11, rewards: experiment.rewards });
    expect(run.hyperparameters).toMatchObject({ batchSize: 16, groupSize: 4, epochs: 1, learningRate: experiment.hyperparameters.learningRate });
    expect(Object.keys(run.iterations[1].rewardComponents)).toEqual(['long', 'z']);
    // A second run of the same file gives the same curve.
    execFileSync('npx', ['tsx', 'scripts/train.ts', '--experiment', file, '--iterations', '2', '--quiet', '--set', 'epochs=1', '--json', out + '2']);
    const again = JSON.parse(readFileSync(out + '2', 'utf8')) as { iterations: IterationMetrics[] };
    expect(again.iterations.map((m) => [m.rewardMean, m.kl, m.policyLoss])).toEqual(run.iterations.map((m) => [m.rewardMean, m.kl, m.policyLoss]));
  });

  it('an experiment with a component learnt from preferences fits the reward model first, then trains on it, and --json reports each iteration\'s proxy and gold', () => {
    const judge = 'function reward(sample) {\n  return sample.text.length;\n}\n';
    const experiment = { ...defaultExperiment('names', 'mlp', 'ppo'), rewards: [{ name: 'rm', weight: 1, kind: 'preferences', judge, pairs: 100, noise: 0 }] };
    experiment.hyperparameters.batchSize = 16;
    const file = path.join(dir, 'preferences.json');
    writeFileSync(file, JSON.stringify(experiment));
    const out = path.join(dir, 'preferences-out.json');
    const log = execFileSync('npx', ['tsx', 'scripts/train.ts', '--experiment', file, '--iterations', '3', '--quiet', '--set', 'epochs=1', '--json', out], { encoding: 'utf8' });
    expect(log).toMatch(/reward 1 x rm \(learnt from preferences\)/);
    expect(log).toMatch(/reward model "rm": 100 pairs of 200 reference completions labelled by its judge \(0% flipped\), held-out accuracy (\d+\.\d)% on 20 pairs/);
    expect(Number(/held-out accuracy (\d+\.\d)%/.exec(log)![1])).toBeGreaterThanOrEqual(90);
    const run = JSON.parse(readFileSync(out, 'utf8')) as { rewardModels: { heldOutAccuracy: number }[]; iterations: (IterationMetrics & { proxy: Record<string, number>; gold: Record<string, number> })[] };
    expect(run.iterations).toHaveLength(3);
    for (const m of run.iterations) {
      expect(Object.keys(m.rewardComponents)).toEqual(['rm', 'rm_judge']);
      expect(m.proxy.rm).toBe(m.rewardComponents.rm);
      expect(m.gold.rm).toBe(m.rewardComponents.rm_judge);
      expect(m.rewardMean).toBeCloseTo(m.proxy.rm, 9); // trained on the reward model alone: the gold has weight 0
      expect(m.gold.rm).toBeCloseTo(m.sampleLength - 1, 0); // the judge's score is the length (the stop token not counted)
    }
    // A bad field is named.
    writeFileSync(file, JSON.stringify({ ...experiment, rewards: [{ ...experiment.rewards[0], noise: 0.9 }] }));
    expect(() => execFileSync('npx', ['tsx', 'scripts/train.ts', '--experiment', file], { stdio: 'pipe' })).toThrow(/rewards\[0\] \(kind "preferences"\)\.noise must be a share of flipped labels from 0 to 0\.5, got 0\.9/);
  }, 120_000);

  it('an experiment file in the schema\'s own form trains on reward models of a person\'s labels and of the other policy\'s likelihood', () => {
    const source = 'function reward(sample) {\n  return 0;\n}\n';
    const words = ['annabelle', 'bo', 'christina', 'di', 'evangeline', 'fe', 'georgiana', 'hu', 'isadora', 'jo', 'katherine', 'li'];
    const labels = words.slice(0, 11).map((a, i) => ({ reward: 'you', pa: '', a, pb: '', b: words[i + 1], y: a.length > words[i + 1].length ? 1 : 0, at: 0 }));
    const experiment = {
      ...defaultExperiment('names', 'mlp', 'ppo'),
      rewards: [
        { name: 'you', weight: 1, source, learn: { from: 'person', pairs: 200, noise: 0, every: 10 } },
        { name: 'ai', weight: 0.5, source, learn: { from: 'model', pairs: 60, noise: 0, every: 0 } },
      ],
      labels,
    };
    experiment.hyperparameters.batchSize = 16;
    const file = path.join(dir, 'ladder.json');
    writeFileSync(file, JSON.stringify(experiment));
    const out = path.join(dir, 'ladder-out.json');
    const log = execFileSync('npx', ['tsx', 'scripts/train.ts', '--experiment', file, '--iterations', '2', '--quiet', '--set', 'epochs=1', '--json', out], { encoding: 'utf8' });
    expect(log).toMatch(/reward model "you": 11 labels from the file, held-out accuracy/);
    expect(log).toMatch(/reward model "ai": 60 pairs of 120 reference completions labelled by its judge \(the transformer reference's likelihood\)/);
    const run = JSON.parse(readFileSync(out, 'utf8')) as { iterations: (IterationMetrics & { gold: Record<string, number> })[] };
    for (const m of run.iterations) {
      expect(Object.keys(m.rewardComponents)).toEqual(['you', 'ai', 'ai_judge']);
      expect(m.rewardMean).toBeCloseTo(m.rewardComponents.you + 0.5 * m.rewardComponents.ai, 9);
      expect(m.gold).toEqual({ ai: m.rewardComponents.ai_judge });
      expect(m.rewardComponents.ai_judge).toBeLessThan(0); // a mean log-probability
    }
  }, 120_000);

  it('names what is wrong with a bad experiment file', () => {
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ ...defaultExperiment(), arch: undefined, seed: 2 }));
    expect(() => execFileSync('npx', ['tsx', 'scripts/train.ts', '--experiment', file], { stdio: 'pipe' })).toThrow(/bad\.json: experiment: arch is missing/);
    writeFileSync(file, '{"version": 3,');
    expect(() => execFileSync('npx', ['tsx', 'scripts/train.ts', '--experiment', file], { stdio: 'pipe' })).toThrow(/bad\.json: not a JSON file/);
    expect(() => execFileSync('npx', ['tsx', 'scripts/train.ts', '--experiment', file, '--task', 'names'], { stdio: 'pipe' })).toThrow(/--task cannot go with --experiment/);
  });

  it('writes its --json when interrupted, with what was done and a field saying so', async () => {
    const json = path.join(dir, 'interrupted.json');
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/train.ts', '--task', 'names', '--reward', 'length', '--iterations', '1000', '--quiet', '--json', json], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => ((out += d), /^\s+2\s/m.test(out) && resolve())));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(130);
    const run = JSON.parse(readFileSync(json, 'utf8')) as { interrupted: boolean; iterations: IterationMetrics[] };
    expect(run.interrupted).toBe(true);
    expect(run.iterations.length).toBeGreaterThanOrEqual(2);
    expect(run.iterations.length).toBeLessThan(1000);
    expect(out).toMatch(/interrupted \(SIGINT\) after \d+ iteration\(s\); wrote /);
  });

  it('rejects a bad option with a message naming it', () => {
    expect(() => execFileSync('npx', ['tsx', 'scripts/train.ts', '--algorithm', 'dpo'], { stdio: 'pipe' })).toThrow(/unknown algorithm "dpo" \(known: ppo, grpo, rloo\)/);
    expect(() => execFileSync('npx', ['tsx', 'scripts/train.ts', '--arch', 'rnn'], { stdio: 'pipe' })).toThrow(/--arch must be mlp or transformer, got "rnn"/);
    expect(() => execFileSync('npx', ['tsx', 'scripts/train.ts', '--set', 'gamma=3', '--iterations', '1'], { stdio: 'pipe' })).toThrow(/gamma must be between 0 and 1, got 3/);
    expect(() => execFileSync('npx', ['tsx', 'scripts/train.ts', '--set', 'learningRate=abc'], { stdio: 'pipe' })).toThrow(/--set learningRate must be a number, got "abc"/);
    expect(() => execFileSync('npx', ['tsx', 'scripts/train.ts', '--seed', '99999999999'], { stdio: 'pipe' })).toThrow(/seed must be a whole number from 0 to 4294967295, got 99999999999/);
  });
});
