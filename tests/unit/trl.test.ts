import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultExperiment, EXPERIMENT_FIELDS, validateExperiment, type Experiment } from '../../src/core/experiment/experiment.ts';
import { TRL_FIELDS, TRL_SETTINGS, trlConfig, trlTrainer } from '../../src/core/experiment/trl.ts';
import { trlProject } from '../../src/core/experiment/trlProject.ts';
import { HYPERPARAMETER_NAMES, sandboxLimits } from '../../src/core/hyperparameters.ts';
import { allHelpers } from '../../src/core/reward/reward.ts';
import { SandboxReward } from '../../src/core/reward/sandbox/sandboxReward.ts';
import { getTask, prepareTask, taskSample, taskTokenizer } from '../../src/core/tasks/index.ts';
import { Rng } from '../../src/core/rng.ts';
import { nodeQuickJs } from '../../scripts/nodeSandbox.ts';

// Export to TRL: the mapping table covers every field, the generated project
// compiles and carries the experiment, and its reward bridge, driven from
// Python's standard library, scores as `npm run train` scores.

const dir = mkdtempSync(path.join(tmpdir(), 'rlcf-trl-'));
const PYTHON = '/usr/bin/python3';

/** Exports `e` with the command line into a folder of its own. */
function exportTo(e: Experiment, name: string): string {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(e));
  const out = path.join(dir, name);
  execFileSync('npx', ['tsx', 'scripts/exportTrl.ts', '--experiment', file, '--out', out, '--iterations', '10'], { stdio: 'pipe' });
  return out;
}

/** Runs Python code in `cwd` (the export), printing JSON; returns it parsed. */
function python(cwd: string, code: string): unknown {
  return JSON.parse(execFileSync(PYTHON, ['-c', code], { cwd, encoding: 'utf8', env: { ...process.env, RLCF_PLAYGROUND: process.cwd() } }));
}

describe('the mapping to TRL', () => {
  it('has a row for every setting and every field of the experiment (a new one without a row fails here)', () => {
    expect(Object.keys(TRL_SETTINGS).sort()).toEqual([...HYPERPARAMETER_NAMES].sort());
    expect(Object.keys(TRL_FIELDS).sort()).toEqual(Object.keys(EXPERIMENT_FIELDS).sort());
    for (const [name, row] of Object.entries(TRL_SETTINGS)) expect(row.trl === null ? row.why : row.trl, name).toMatch(/\S/);
  });

  it('maps each algorithm to its trainer and settings, PPO to GRPO saying why, and refuses a control task', () => {
    const grpo = defaultExperiment('names', 'mlp', 'grpo');
    const g = trlConfig(grpo, 10).config;
    const h = grpo.hyperparameters;
    expect(trlTrainer(grpo)).toEqual({ trainer: 'GRPOTrainer', config: 'GRPOConfig', why: null });
    expect(g).toMatchObject({ generation_batch_size: h.batchSize, per_device_train_batch_size: h.batchSize / h.minibatches, num_iterations: h.epochs, num_generations: h.groupSize, beta: h.grpoBeta, loss_type: h.grpoLossType, scale_rewards: h.grpoScale, epsilon: h.clipRange, learning_rate: h.learningRate, max_completion_length: h.maxLength, max_steps: 10 * h.minibatches * h.epochs, seed: grpo.seed });
    const rloo = trlConfig(defaultExperiment('names', 'mlp', 'rloo'), 10);
    expect(rloo.config).toMatchObject({ beta: defaultExperiment('names', 'mlp', 'rloo').hyperparameters.rlooBeta });
    expect(rloo.config).not.toHaveProperty('scale_rewards');
    expect(rloo.unmapped.map((u) => u.name)).toEqual(expect.arrayContaining(['rlooKl', 'entropyCoef', 'scoreNormalize']));
    const ppo = defaultExperiment('names', 'mlp', 'ppo');
    expect(trlTrainer(ppo).trainer).toBe('GRPOTrainer');
    expect(trlTrainer(ppo).why).toMatch(/PPOTrainer .* takes a reward model/);
    expect(trlConfig(ppo, 10).config.beta).toBe(ppo.hyperparameters.klCoef);
    expect(() => trlConfig(defaultExperiment('cartpole'), 10)).toThrow(/control task/);
  });
});

describe('npm run export-trl', () => {
  it('writes a project whose Python compiles, whose experiment opens again as it was, and that names what it leaves out', () => {
    const e = validateExperiment({
      ...defaultExperiment('names', 'mlp', 'rloo'),
      rewards: [
        { name: 'length', weight: 0.5, source: 'function reward(sample) {\n  return sample.text.length;\n}\n' },
        { name: 'you', weight: 1, source: 'function reward() {\n  return 0;\n}\n', learn: { from: 'person', pairs: 200, noise: 0, every: 10 } },
      ],
      labels: [{ reward: 'you', pa: '', a: 'anna', pb: '', b: 'bo', y: 1, at: 0 }],
    });
    const out = exportTo(e, 'rloo');
    for (const f of ['train.py', 'reward_bridge.py', 'README.md', 'requirements.txt', 'prompts.jsonl', 'examples.jsonl', 'accelerate/single_gpu.yaml', 'accelerate/multi_gpu.yaml', 'accelerate/deepspeed_zero2.yaml']) expect(readFileSync(path.join(out, f), 'utf8').length, f).toBeGreaterThan(0);
    execFileSync(PYTHON, ['-m', 'py_compile', 'train.py', 'reward_bridge.py'], { cwd: out });
    expect(validateExperiment(JSON.parse(readFileSync(path.join(out, 'experiment.json'), 'utf8')))).toEqual(e);
    const train = readFileSync(path.join(out, 'train.py'), 'utf8');
    expect(train).toContain('from trl import RLOOConfig, RLOOTrainer');
    expect(train).toMatch(/#\s+rlooKl = "mean": TRL's RLOO subtracts the KL summed/);
    expect(train).toMatch(/#\s+reward "you" \(learnt from a person's labels\).*left out/);
    expect(readFileSync(path.join(out, 'requirements.txt'), 'utf8')).toMatch(/^trl==1\.9\.0$/m);
    expect(readFileSync(path.join(out, 'accelerate/deepspeed_zero2.yaml'), 'utf8')).toMatch(/zero_stage: 2\ndistributed_type: DEEPSPEED/);
    for (const line of readFileSync(path.join(out, 'prompts.jsonl'), 'utf8').trim().split('\n')) expect(Object.keys(JSON.parse(line))).toEqual(['prompt', 'task_prompt']);
  }, 60_000);

  it('the bridge, from Python\'s standard library, scores 64 texts as npm run train\'s sandbox does, one function per component with the weights', async () => {
    const task = getTask('sentiment');
    const e = validateExperiment({
      ...defaultExperiment('sentiment', 'mlp', 'grpo'),
      rewards: [
        { name: 'mood', weight: 1, source: 'function reward(sample) {\n  return sample.fields.sentiment;\n}\n' },
        { name: 'short', weight: -0.02, source: 'function reward(sample, ctx) {\n  return sample.text.length + helpers.vowels(sample.text) / 7;\n}\n' },
      ],
    });
    const out = exportTo(e, 'bridge');
    const rng = new Rng(9);
    const words = ['love', 'hate', 'sweet', 'death', 'fair', 'foul', 'good', 'night', 'my', 'lord', 'o', 'thou', 'art', 'sad'];
    const texts = Array.from({ length: 64 }, () => Array.from({ length: 1 + rng.int(8) }, () => words[rng.int(words.length)]).join(' ') + ['', '!', '.', '?'][rng.int(4)]);
    const got = python(out, `import json; from reward_bridge import RewardBridge
b = RewardBridge()
fs = b.reward_functions()
texts = json.loads(${JSON.stringify(JSON.stringify(texts))})
out = {"names": [f.__name__ for f in fs], "weights": b.weights(), "values": [f(prompts=[""] * len(texts), completions=texts, task_prompt=[""] * len(texts)) for f in fs]}
b.close(); print(json.dumps(out))`) as { names: string[]; weights: number[]; values: number[][] };
    expect(got.names).toEqual(['mood', 'short']);
    expect(got.weights).toEqual([1, -0.02]);
    await prepareTask(task);
    const reward = await SandboxReward.create(nodeQuickJs, e.rewards, sandboxLimits(e.hyperparameters));
    const tokenizer = taskTokenizer(task);
    const scores = await reward.score(texts.map((t, i) => taskSample(task, t, tokenizer.encode(t), '', i)), { iteration: 1, task: task.id, helpers: allHelpers() });
    reward.dispose();
    scores.components.forEach((c, j) => c.values.forEach((v, i) => expect(Math.abs(got.values[j][i] - v)).toBeLessThanOrEqual(1e-9)));
    expect(new Set(got.values[0]).size).toBeGreaterThan(3); // the classifier's field, computed by the bridge
  }, 120_000);

  it('a reward that fails is reported with its component\'s name; --selftest prints one line per example text', () => {
    const e = validateExperiment({
      ...defaultExperiment('names', 'mlp', 'grpo'),
      rewards: [
        { name: 'fine', weight: 1, source: 'function reward(sample) {\n  return sample.text.length;\n}\n' },
        { name: 'picky', weight: 1, source: "function reward(sample) {\n  if (sample.text.includes('q')) throw new Error('no q please');\n  return 1;\n}\n" },
      ],
    });
    const out = exportTo(e, 'errors');
    const got = python(out, `import json; from reward_bridge import RewardBridge, RewardBridgeError
b = RewardBridge()
try:
    b.score(["", ""], ["anna", "quentin"]); print(json.dumps(None))
except RewardBridgeError as e:
    print(json.dumps({"component": e.component, "message": str(e), "after": b.score([""], ["bo"])["total"]}))
b.close()`) as { component: string; message: string; after: number[] };
    expect(got.component).toBe('picky');
    expect(got.message).toMatch(/picky/);
    expect(got.message).toMatch(/no q please/);
    expect(got.after).toEqual([3]); // the bridge goes on after a failed batch
    const lines = execFileSync(PYTHON, ['reward_bridge.py', '--selftest'], { cwd: out, encoding: 'utf8', env: { ...process.env, RLCF_PLAYGROUND: process.cwd() } }).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const examples = readFileSync(path.join(out, 'examples.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(examples.length);
    for (const l of lines) {
      expect(Object.keys(l)).toEqual(['text', 'total', 'fine', 'picky']);
      expect(l.total).toBe((l.text as string).length + 1);
    }
  }, 120_000);

  it("a run on a person's corpus exports with its lines, and the bridge scores through that task (its symbols, its benchmark text)", async () => {
    const { readCorpus, corpusTask } = await import('../../src/core/tasks/corpus.ts');
    const { registerTask, unregisterTask } = await import('../../src/core/tasks/index.ts');
    const lines = ['kettle, steel, 1.7 l', 'teapot (white)', 'mug, 350 ml', ...Array.from({ length: 40 }, (_, i) => `cup no. ${i}`)].join('\n');
    const corpusFile = path.join(dir, 'products.txt');
    writeFileSync(corpusFile, lines);
    const { stats } = readCorpus('products.txt', new TextEncoder().encode(lines));
    registerTask(corpusTask(stats));
    try {
      const e = defaultExperiment(`corpus-${stats.hash}`, 'mlp', 'grpo');
      const file = path.join(dir, 'corpus.json');
      writeFileSync(file, JSON.stringify(e));
      const out = path.join(dir, 'corpus');
      expect(() => execFileSync('npx', ['tsx', 'scripts/exportTrl.ts', '--experiment', file, '--out', out], { stdio: 'pipe' })).toThrow(/products\.txt" \(43 lines\), a corpus that is not here/);
      execFileSync('npx', ['tsx', 'scripts/exportTrl.ts', '--experiment', file, '--out', out, '--corpus', corpusFile], { stdio: 'pipe' });
      expect(readFileSync(path.join(out, 'corpus.txt'), 'utf8')).toBe(lines + '\n');
      const got = execFileSync(PYTHON, ['reward_bridge.py', '--selftest'], { cwd: out, encoding: 'utf8', env: { ...process.env, RLCF_PLAYGROUND: process.cwd() } }).trim().split('\n').map((l) => JSON.parse(l) as { text: string; total: number });
      // The default reward is the length; the self-test's first text is the corpus's first line.
      expect(got[0]).toMatchObject({ text: 'kettle, steel, 1.7 l', total: 20 });
    } finally {
      unregisterTask(`corpus-${stats.hash}`);
    }
  }, 120_000);
});
