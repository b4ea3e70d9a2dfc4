// Pretrains a task's reference policy on the data the repo carries and writes
// public/models/<task>-<arch>.{json,bin}.
//   npm run pretrain -- --task names --arch mlp|transformer [--steps N] [--seed S]
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { encodeWeights, CHECKPOINT_VERSION, type CheckpointManifest } from '../src/core/checkpoint.ts';
import { bigramLoss, evaluateLoss, pretrain, splitLines } from '../src/core/pretrain.ts';
import { createPolicy } from '../src/core/policies.ts';
import { parameterCount, type PolicyConfig } from '../src/core/policy.ts';
import { Rng } from '../src/core/rng.ts';
import { getTask, taskTokenizer } from '../src/core/tasks.ts';
import { sample } from '../src/core/sampler.ts';
import { initNodeBackend } from './nodeBackend.ts';
import { parseArgs, runMain } from './args.ts';

/** Architecture and training recipe per (task, arch): small enough for a laptop, big enough to beat a bigram clearly. */
const RECIPES = {
  mlp: { steps: 4000, batchSize: 128, learningRate: 3e-3 },
  transformer: { steps: 4000, batchSize: 64, learningRate: 2e-3 },
} as const;
const DATA_FILES: Record<string, string> = { names: 'data/names.txt' };

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), { task: 'string', arch: 'string', steps: 'number', seed: 'number', out: 'string' });
  const task = getTask(String(args.task ?? 'names'));
  const arch = String(args.arch ?? 'mlp');
  if (arch !== 'mlp' && arch !== 'transformer') throw new Error(`--arch must be mlp or transformer, got ${JSON.stringify(arch)}`);
  const seed = Number(args.seed ?? 1337);
  const recipe = { ...RECIPES[arch], steps: Number(args.steps ?? RECIPES[arch].steps) };
  const dataFile = DATA_FILES[task.id];
  if (!dataFile) throw new Error(`task ${task.id} has no pretraining data`);
  await initNodeBackend('wasm');

  const text = readFileSync(dataFile, 'utf8');
  const tokenizer = taskTokenizer(task);
  const split = splitLines(text, tokenizer, new Rng(seed));
  const longest = Math.max(...split.train.map((s) => s.length), ...split.validation.map((s) => s.length));
  const width = longest + 1;
  const V = tokenizer.vocabSize;
  const config: PolicyConfig =
    arch === 'mlp'
      ? { arch, vocabSize: V, contextLength: 8, embedDim: 16, hiddenDim: 256 }
      : { arch, vocabSize: V, contextLength: 32, layers: 2, heads: 4, width: 64 };
  const rng = new Rng(seed);
  const policy = createPolicy(config, rng);
  const bigram = bigramLoss(split, V);
  console.log(`${task.id}/${arch}: ${parameterCount(policy)} parameters, ${split.train.length} train / ${split.validation.length} validation names, bigram validation loss ${bigram.toFixed(4)}`);

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

  const gen = await sample(policy, { prompts: Array(12).fill([]), maxNew: 20, temperature: 1, topK: 0, rng: new Rng(seed + 1) });
  const names = Array.from({ length: gen.batch }, (_, b) => tokenizer.decode(Array.from(gen.tokens.subarray(b * gen.width + 1, (b + 1) * gen.width))));
  console.log(`samples: ${names.join(' ')}`);

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
