// Pretrains a task's reference policy on the data the repo carries and writes
// public/models/<task>-<arch>.{json,bin}.
//   npm run train-reference -- --task names --arch mlp|transformer [--steps N] [--seed S]
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { encodeWeights, CHECKPOINT_VERSION, type CheckpointManifest } from '../src/core/checkpoint.ts';
import { bigramLoss, evaluateLoss, pretrain, splitLines } from '../src/core/pretrain.ts';
import { createPolicy } from '../src/core/policies.ts';
import { parameterCount, type PolicyConfig } from '../src/core/policy.ts';
import { Rng } from '../src/core/rng.ts';
import { getTask, taskTokenizer } from '../src/core/tasks.ts';
import { completion, sample } from '../src/core/sampler.ts';
import { initNodeBackend } from './nodeBackend.ts';
import { parseArgs, runMain } from './args.ts';

/** Training recipe per task and architecture: small enough for a laptop, big enough to beat a bigram clearly. */
const RECIPES: Record<string, Record<'mlp' | 'transformer', { steps: number; batchSize: number; learningRate: number }>> = {
  names: {
    mlp: { steps: 4000, batchSize: 128, learningRate: 3e-3 },
    transformer: { steps: 4000, batchSize: 64, learningRate: 2e-3 },
  },
  // Lines are three times longer than names: fewer lines per batch keep a step as cheap.
  shakespeare: {
    mlp: { steps: 3000, batchSize: 48, learningRate: 3e-3 },
    transformer: { steps: 3000, batchSize: 24, learningRate: 2e-3 },
  },
};

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), { task: 'string', arch: 'string', steps: 'number', seed: 'number', out: 'string' });
  const task = getTask(String(args.task ?? 'names'));
  const arch = String(args.arch ?? 'mlp');
  if (arch !== 'mlp' && arch !== 'transformer') throw new Error(`--arch must be mlp or transformer, got ${JSON.stringify(arch)}`);
  const seed = Number(args.seed ?? 1337);
  const base = RECIPES[task.id]?.[arch];
  if (!base) throw new Error(`no pretraining recipe for task ${task.id}`);
  const recipe = { ...base, steps: Number(args.steps ?? base.steps) };
  const dataFile = path.join('data', task.corpus.file);
  await initNodeBackend('wasm');

  const text = readFileSync(dataFile, 'utf8');
  const drop = task.corpus.drop ? new RegExp(task.corpus.drop) : null;
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && l.length <= task.corpus.maxLength && !drop?.test(l));
  const tokenizer = taskTokenizer(task);
  const split = splitLines(lines.join('\n'), tokenizer, new Rng(seed));
  const longest = Math.max(...split.train.map((s) => s.length), ...split.validation.map((s) => s.length));
  const width = longest + 1;
  const V = tokenizer.vocabSize;
  // The transformer reads the start token and a whole completion: a power of two that fits.
  const contextLength = Math.max(32, 2 ** Math.ceil(Math.log2(width)));
  const config: PolicyConfig =
    arch === 'mlp'
      ? { arch, vocabSize: V, contextLength: 8, embedDim: 16, hiddenDim: 256 }
      : { arch, vocabSize: V, contextLength, layers: 2, heads: 4, width: 64 };
  const rng = new Rng(seed);
  const policy = createPolicy(config, rng);
  const bigram = bigramLoss(split, V);
  console.log(`${task.id}/${arch}: ${parameterCount(policy)} parameters, ${split.train.length} train / ${split.validation.length} validation lines, bigram validation loss ${bigram.toFixed(4)}`);

  const t0 = performance.now();
  await pretrain(policy, split.train, {
    ...recipe,
    width,
    rng,
    logEvery: 250,
    onLog: async (step, loss) => {
      const val = step % 1000 === 0 || step === recipe.steps ? ` val ${(await evaluateLoss(policy, split.validation, width)).toFixed(4)}` : '';
      console.log(`step ${step}/${recipe.steps} train ${loss.toFixed(4)}${val} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const validationLoss = await evaluateLoss(policy, split.validation, width);
  console.log(`validation loss ${validationLoss.toFixed(4)} nats/char vs bigram ${bigram.toFixed(4)} (${(bigram - validationLoss).toFixed(4)} better)`);

  const gen = await sample(policy, { prompts: Array(12).fill([]), maxNew: width, temperature: 1, topK: 0, rng: new Rng(seed + 1) });
  const samples = Array.from({ length: gen.batch }, (_, b) => tokenizer.decode(completion(gen, b)));
  console.log(`samples:\n  ${samples.join('\n  ')}`);

  const id = `${task.id}-${arch}`;
  const outDir = String(args.out ?? 'public/models');
  mkdirSync(outDir, { recursive: true });
  const bytes = await encodeWeights(policy);
  const manifest: CheckpointManifest = {
    format: 'rlcf-checkpoint',
    version: CHECKPOINT_VERSION,
    id,
    task: task.id,
    config,
    vocabulary: [...tokenizer.symbols],
    weightsFile: `${id}.bin`,
    weightsBytes: bytes.length,
    parameters: parameterCount(policy),
    data: {
      file: path.basename(dataFile),
      sha256: createHash('sha256').update(text).digest('hex'),
      trainExamples: split.train.length,
      validationExamples: split.validation.length,
    },
    validationLoss: round(validationLoss),
    bigramValidationLoss: round(bigram),
    training: { steps: recipe.steps, batchSize: recipe.batchSize, learningRate: recipe.learningRate, seed, seconds: Math.round(seconds) },
  };
  writeFileSync(path.join(outDir, `${id}.bin`), bytes);
  writeFileSync(path.join(outDir, `${id}.json`), JSON.stringify(manifest, null, 2) + '\n');
  console.log(`wrote ${path.join(outDir, id)}.{json,bin} (${(bytes.length / 1024).toFixed(0)} KiB)`);
  policy.dispose();
});

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
