import type { Arch } from './archs.ts';
import * as tf from '../tf.ts';
import type { Rng } from '../rng.ts';

/** makemore-style MLP: the previous `contextLength` tokens, embedded, concatenated, one hidden layer. */
export interface MlpConfig {
  arch: 'mlp';
  vocabSize: number;
  /** How many previous tokens the policy sees. */
  contextLength: number;
  embedDim: number;
  hiddenDim: number;
}

/** A small GPT: pre-norm blocks of causal self-attention and an MLP. */
export interface TransformerConfig {
  arch: 'transformer';
  vocabSize: number;
  /** Longest sequence (start token, prompt and completion) the model can read. */
  contextLength: number;
  layers: number;
  heads: number;
  width: number;
}

export type PolicyConfig = MlpConfig | TransformerConfig;
export { ARCHS, type Arch } from './archs.ts';
// Each config is of a listed architecture, and each listed architecture has a config: otherwise this fails to compile.
const _configArchs: Record<PolicyConfig['arch'], true> & Record<Arch, true> = { mlp: true, transformer: true };
void _configArchs;

/**
 * Incremental decoding over a batch: feed one token per row, get the logits for
 * the next one. The transformer keeps a KV cache; the MLP only a token window.
 */
export interface Decoder {
  /** tokens: one new token per row ([B]); returns logits for the next token [B, V]. */
  step(tokens: Int32Array): tf.Tensor2D;
  /**
   * Where a decoder has it: the value head's [B] at the last step's positions,
   * and a promise that step's logits and these values are forwardAt's at the
   * same positions, bit for bit (so a rollout may score its actions from them).
   */
  stepValues?(): Float32Array;
  dispose(): void;
}

/**
 * A language policy with a value head. Both architectures implement this, and
 * everything else (sampler, PPO, checkpoints) sees only this interface.
 */
export interface Policy {
  readonly config: PolicyConfig;
  /** Every weight, by a stable name (the checkpoint keys), in a fixed order. */
  readonly weights: ReadonlyMap<string, tf.Variable>;
  /**
   * tokens [B, T] int32 -> logits [B, T, V] and values [B, T]. Position t reads
   * tokens 0..t and predicts token t+1; its value estimates the return from there.
   * `pad[b]` counts the extra start tokens that left-pad row b's prompt to the
   * batch's longest: a policy that reads positions must neither attend to them nor
   * count them, so a prompt means the same whatever it is padded with.
   */
  forward(tokens: tf.Tensor2D, pad?: Int32Array): { logits: tf.Tensor3D; values: tf.Tensor2D };
  /**
   * What the value head reads at each position, [B, T, F]: `forward`'s values
   * are features x wv + bv. Fitting the head alone needs the rest run once.
   */
  valueFeatures(tokens: tf.Tensor2D, pad?: Int32Array): tf.Tensor3D;
  /**
   * `forward`'s logits [n, V] and values [n] at the given positions only, each a
   * flat index b * width + t into row-major `tokens` [B, width] (left-padded by
   * `pad`, as in `forward`). Training evaluates the real actions this way and
   * spends no arithmetic it can skip on the padding: the MLP computes just those
   * positions, the transformer every position a row's last one reads, none after.
   */
  forwardAt?(tokens: Int32Array, width: number, positions: Int32Array, pad?: Int32Array): { logits: tf.Tensor2D; values: tf.Tensor1D };
  /** A fresh incremental decoder for `batch` rows (left-padded by `pad`), starting at position 0. */
  decoder(batch: number, pad?: Int32Array): Decoder;
  dispose(): void;
}

/** Gaussian init from the seeded Rng, so a seed fixes the initial weights too. */
export function normalInit(rng: Rng, shape: number[], std: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = rng.normal() * std;
  return tf.tensor(data, shape);
}

/** Makes one named variable from a tensor (the tensor is consumed). */
export function addWeight(map: Map<string, tf.Variable>, name: string, init: tf.Tensor, trainable = true): tf.Variable {
  const v = tf.variable(init, trainable, `${name}_${nextId++}`);
  init.dispose();
  map.set(name, v);
  return v;
}
let nextId = 0;

/** Copies every weight of `from` into `to` (same architecture). */
export function copyWeights(from: Policy, to: Policy): void {
  for (const [name, v] of to.weights) {
    const src = from.weights.get(name);
    if (!src) throw new Error(`copyWeights: source policy has no weight ${name}`);
    v.assign(src);
  }
}

export function parameterCount(p: Policy): number {
  let n = 0;
  for (const v of p.weights.values()) n += v.size;
  return n;
}

/**
 * Embedding lookup: ids [...S] -> [...S, C]. A gather where the backend has a
 * gather's gradient (UnsortedSegmentSum: every backend here, wasm through our
 * kernel); else one-hot times table, the same numbers.
 */
export function embed(table: tf.Tensor2D | tf.Variable, ids: tf.Tensor): tf.Tensor {
  if (tf.getKernel(tf.UnsortedSegmentSum, tf.getBackend())) return tf.gather(table, ids.toInt());
  const [V, C] = table.shape;
  const flat = tf.oneHot(ids.reshape([-1]).toInt(), V); // [N, V]
  return tf.matMul(flat, table as tf.Tensor2D).reshape([...ids.shape, C]);
}
