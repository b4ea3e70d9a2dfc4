import { checkpointHead, encodeWeights, type CheckpointManifest } from '../policy/checkpoint.ts';
import { createPolicy } from '../policy/create.ts';
import type { Policy } from '../policy/policy.ts';
import { bigramLoss, evaluateLoss, pretrain, referenceConfig, splitLines } from '../policy/pretrain.ts';
import { Rng } from '../rng.ts';
import { CORPUS_RECIPE, corpusTask, type CorpusStats } from '../tasks/corpus.ts';
import { modelId, taskTokenizer } from '../tasks/index.ts';

/**
 * Pretrains the reference policy of a person's corpus (the page's worker and
 * `npm run train -- --corpus` run this one routine): the kept lines split
 * 90/10, the bigram baseline measured on the held-out tenth, then next-token
 * training with the loss on the held-out lines measured as it goes.
 */

/** Where pretraining stands: losses in nats per character (the stop token counted). */
export interface CorpusProgress {
  step: number;
  steps: number;
  /** Mean training loss over the last logged steps. */
  trainLoss: number;
  /** On the held-out lines, measured every few hundred steps (the latest). */
  validationLoss: number | null;
  /** A bigram model's loss on the same held-out lines: what pretraining must beat. */
  bigramLoss: number;
  seconds: number;
  /** Seconds left, from the pace so far. */
  etaSeconds: number;
}

export interface PretrainedCorpus {
  policy: Policy;
  manifest: CheckpointManifest;
  weights: Uint8Array;
}

/** Held-out lines measured while training: enough for a steady number, few enough to cost a fraction of a step's time. */
const VALIDATION_LINES = 2000;

/** A person stopped pretraining (thrown from `onProgress`, or raised by `stopped`). */
export class PretrainingStopped extends Error {
  constructor() {
    super('pretraining was stopped');
    this.name = 'PretrainingStopped';
  }
}

export async function pretrainCorpus(
  text: string,
  stats: CorpusStats,
  o: { seed?: number; steps?: number; onProgress?: (p: CorpusProgress) => void | Promise<void>; stopped?: () => boolean } = {},
): Promise<PretrainedCorpus> {
  const task = corpusTask(stats);
  const seed = o.seed ?? 1;
  const steps = o.steps ?? CORPUS_RECIPE.steps;
  const tokenizer = taskTokenizer(task);
  const split = splitLines(text, tokenizer, new Rng(seed));
  if (split.train.length === 0 || split.validation.length === 0) throw new Error(`"${stats.name}": too few lines to hold some out`);
  const validation = split.validation.slice(0, VALIDATION_LINES);
  const width = stats.longest + 1;
  const config = referenceConfig('mlp', tokenizer.vocabSize, width);
  const rng = new Rng(seed);
  const policy = createPolicy(config, rng);
  try {
    const bigram = bigramLoss(split, tokenizer.vocabSize);
    const started = performance.now();
    const logEvery = Math.max(10, Math.round(steps / 100));
    const evalEvery = logEvery * 10;
    let validationLoss: number | null = null;
    await pretrain(policy, split.train, {
      ...CORPUS_RECIPE,
      steps,
      width,
      rng,
      logEvery,
      onLog: async (step, trainLoss) => {
        if (o.stopped?.()) throw new PretrainingStopped();
        if (step % evalEvery === 0 || step === steps) validationLoss = await evaluateLoss(policy, validation, width);
        const seconds = (performance.now() - started) / 1000;
        await o.onProgress?.({ step, steps, trainLoss, validationLoss, bigramLoss: bigram, seconds, etaSeconds: (seconds / step) * (steps - step) });
      },
    });
    const seconds = (performance.now() - started) / 1000;
    const weights = await encodeWeights(policy);
    const id = modelId(task, 'mlp');
    const manifest: CheckpointManifest = {
      ...checkpointHead(id, task.id, policy, tokenizer.symbols, weights),
      data: { file: stats.name, sha256: await sha256(text), trainExamples: split.train.length, validationExamples: split.validation.length },
      validationLoss: round(await evaluateLoss(policy, split.validation, width)),
      bigramValidationLoss: round(bigram),
      training: { steps, batchSize: CORPUS_RECIPE.batchSize, learningRate: CORPUS_RECIPE.learningRate, seed, seconds: Math.round(seconds) },
    };
    return { policy, manifest, weights };
  } catch (e) {
    policy.dispose();
    throw e;
  }
}

async function sha256(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
