import * as tf from '../tf.ts';
import { adam } from '../ops/adam.ts';
import type { Arch, Policy, PolicyConfig } from './policy.ts';
import type { Rng } from '../rng.ts';
import { BOS, EOS, type Tokenizer } from './tokenizer.ts';

/**
 * Supervised pretraining of a reference policy: next-token cross-entropy over
 * [start, symbols..., end], the makemore set-up. Losses are in nats per
 * character, the end token counted as a character.
 */
export interface Split {
  train: number[][];
  validation: number[][];
}

/** Tokenizes non-empty lines, shuffles them with the Rng and holds out a fraction. */
export function splitLines(text: string, tokenizer: Tokenizer, rng: Rng, validationFraction = 0.1): Split {
  const seqs = text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => tokenizer.encode(l));
  const order = rng.permutation(seqs.length);
  const nVal = Math.round(seqs.length * validationFraction);
  return {
    validation: order.slice(0, nVal).map((i) => seqs[i]),
    train: order.slice(nVal).map((i) => seqs[i]),
  };
}

/** Cross-entropy of an add-one-smoothed bigram model fit on `train`, measured on `validation`. */
export function bigramLoss(split: Split, vocabSize: number): number {
  const V = vocabSize;
  const counts = new Float64Array(V * V).fill(1);
  const each = (seqs: number[][], f: (a: number, b: number) => void) => {
    for (const s of seqs) {
      const full = [BOS, ...s, EOS];
      for (let i = 0; i + 1 < full.length; i++) f(full[i], full[i + 1]);
    }
  };
  each(split.train, (a, b) => counts[a * V + b]++);
  const rowSum = new Float64Array(V);
  for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) rowSum[a] += counts[a * V + b];
  let nll = 0;
  let n = 0;
  each(split.validation, (a, b) => {
    nll -= Math.log(counts[a * V + b] / rowSum[a]);
    n++;
  });
  return nll / n;
}

/** Pads sequences into input [B, T] (start + symbols), target [B, T] (symbols + end) and mask [B, T]. */
export function lmBatch(seqs: readonly number[][], width: number) {
  const B = seqs.length;
  const input = new Int32Array(B * width).fill(EOS);
  const target = new Int32Array(B * width).fill(EOS);
  const mask = new Float32Array(B * width);
  seqs.forEach((s, b) => {
    if (s.length + 1 > width) throw new Error(`lmBatch: sequence of ${s.length} symbols does not fit width ${width}`);
    input[b * width] = BOS;
    input.set(s, b * width + 1);
    target.set(s, b * width);
    target[b * width + s.length] = EOS;
    mask.fill(1, b * width, b * width + s.length + 1);
  });
  return { input, target, mask, shape: [B, width] as [number, number] };
}

/** Summed masked next-token cross-entropy and the token count, as tensors. */
function lmLossSum(policy: Policy, batch: ReturnType<typeof lmBatch>): { sum: tf.Scalar; count: tf.Scalar } {
  const input = tf.tensor2d(batch.input, batch.shape, 'int32');
  const target = tf.tensor2d(batch.target, batch.shape, 'int32');
  const mask = tf.tensor2d(batch.mask, batch.shape);
  const { logits } = policy.forward(input); // [B, T, V]
  const logp = tf.logSoftmax(logits); // [B, T, V]
  const picked = tf.sum(tf.mul(logp, tf.oneHot(target, logits.shape[2])), -1); // [B, T]
  return { sum: tf.neg(tf.sum(tf.mul(picked, mask))), count: tf.sum(mask) };
}

/** Mean loss per character over all sequences, in nats. */
export async function evaluateLoss(policy: Policy, seqs: readonly number[][], width: number, batchSize = 512): Promise<number> {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < seqs.length; i += batchSize) {
    const batch = lmBatch(seqs.slice(i, i + batchSize), width);
    const r = tf.tidy(() => {
      const l = lmLossSum(policy, batch);
      return tf.stack([l.sum, l.count]);
    });
    const [s, c] = await r.data();
    r.dispose();
    sum += s;
    count += c;
  }
  return sum / count;
}

export interface PretrainOptions {
  steps: number;
  batchSize: number;
  learningRate: number;
  width: number;
  rng: Rng;
  /** Called every `logEvery` steps with the mean training loss since the last call. */
  onLog?: (step: number, trainLoss: number) => void | Promise<void>;
  logEvery?: number;
}

/** Adam with a linear warm-up and cosine decay to a tenth of the peak rate. */
export async function pretrain(policy: Policy, train: readonly number[][], opts: PretrainOptions): Promise<void> {
  const { steps, batchSize, learningRate, width, rng } = opts;
  const optimizer = adam(learningRate, 0.9, 0.99, 1e-8);
  const vars = [...policy.weights.values()].filter((v) => v.trainable);
  const warmup = Math.min(100, Math.floor(steps / 10));
  let acc = 0;
  let accN = 0;
  const logEvery = opts.logEvery ?? 100;
  // onLog may throw to stop (a person cancelled): the optimiser's slots are freed either way.
  try {
    for (let step = 1; step <= steps; step++) {
      const progress = step <= warmup ? step / Math.max(1, warmup) : 1;
      const cosine = 0.1 + 0.45 * (1 + Math.cos((Math.PI * Math.max(0, step - warmup)) / Math.max(1, steps - warmup)));
      (optimizer as unknown as { learningRate: number }).learningRate = learningRate * progress * cosine;
      const seqs = Array.from({ length: batchSize }, () => train[rng.int(train.length)]);
      const batch = lmBatch(seqs, width);
      const loss = optimizer.minimize(() => {
        const l = lmLossSum(policy, batch);
        return tf.div(l.sum, l.count) as tf.Scalar;
      }, true, vars);
      acc += (await loss!.data())[0];
      loss!.dispose();
      accN++;
      if (step % logEvery === 0 || step === steps) {
        await opts.onLog?.(step, acc / accN);
        acc = 0;
        accN = 0;
      }
    }
  } finally {
    optimizer.dispose();
  }
}

/**
 * A reference policy's shape for an alphabet of `vocabSize` tokens and
 * completions of up to `width` tokens: the MLP reads a window of the last
 * `window` tokens; the transformer a power of two that fits a whole completion.
 */
export function referenceConfig(arch: Arch, vocabSize: number, width: number, window = 8): PolicyConfig {
  return arch === 'mlp'
    ? { arch, vocabSize, contextLength: window, embedDim: 16, hiddenDim: 256 }
    : { arch, vocabSize, contextLength: Math.max(32, 2 ** Math.ceil(Math.log2(width))), layers: 2, heads: 4, width: 64 };
}
