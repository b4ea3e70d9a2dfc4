import * as tf from '../tf.ts';
import { DECODE_STEP, kernelOptions } from './kernels/wasmKernels.ts';
import { BLOCK_WEIGHTS } from './kernels/decodeStep.ts';

/**
 * One layer's keys and values while decoding, made once for the whole context
 * and written in place a column a step: keys [B, H, hd, L] (transposed, so four
 * columns' scores are one vector), values [B, H, L, hd4]; L rounded up to a
 * multiple of 16, hd4 to one of 4.
 */
export interface InPlaceCache extends tf.TensorContainerObject {
  k: tf.Tensor4D;
  v: tf.Tensor4D;
}

/** A transformer's weights as a decoding step reads them; a block's by BLOCK_WEIGHTS' names. */
export interface StepWeights {
  wte: tf.Tensor2D;
  wpe: tf.Tensor2D;
  blocks: Record<(typeof BLOCK_WEIGHTS)[number], tf.Tensor>[];
  lnfg: tf.Tensor1D;
  lnfb: tf.Tensor1D;
  head: tf.Tensor2D;
  wv: tf.Tensor2D;
  bv: tf.Tensor1D;
}

/**
 * Whether a transformer of this width decodes a step in one kernel: the wasm
 * backend with our kernels, on in kernelOptions with the kernels the op-by-op
 * path would run (GELU, biased products, attention's softmax), and a width
 * whose layer norms are ours (a multiple of 4).
 */
export function decodesInOneKernel(width: number): boolean {
  const { decodeStep, gelu, linear, softmax } = kernelOptions;
  return decodeStep && gelu && linear && softmax && width % 4 === 0 && tf.getBackend() === 'wasm' && tf.getKernel(DECODE_STEP, 'wasm') !== undefined;
}

/** Caches for `batch` rows, `heads` heads of `hd` numbers and `length` columns. */
export function inPlaceCache(batch: number, heads: number, hd: number, length: number): InPlaceCache {
  const up = (n: number, to: number) => Math.ceil(n / to) * to;
  // Filled by the backend's own kernel: tf.zeros would build the megabytes in JS first, then copy them in.
  return { k: tf.fill([batch, heads, hd, up(length, 16)], 0), v: tf.fill([batch, heads, up(length, 16), up(hd, 4)], 0) };
}

/**
 * The next token's logits [B, V] after `tokens` (one a row) at column `pos`,
 * and the values there [B], each row blind to its first pad[b] columns, the
 * new keys and values written into `caches`. One kernel (kernels/decodeStep.ts),
 * where the step had taken about 50 ops and a concatenation of every cache:
 * the same logits, bit for bit, and forwardAt's logits and values at the same
 * positions. Only where decodesInOneKernel().
 */
export function decodeStep(tokens: Int32Array, w: StepWeights, caches: InPlaceCache[], heads: number, pos: number, pad: tf.Tensor1D | null): { logits: tf.Tensor2D; values: tf.Tensor1D } {
  return tf.tidy(() => {
    const inputs: tf.NamedTensorMap = { tokens: tf.tensor1d(tokens, 'int32'), wte: w.wte, wpe: w.wpe, lnfg: w.lnfg, lnfb: w.lnfb, head: w.head, wv: w.wv, bv: w.bv };
    if (pad) inputs.pad = pad;
    w.blocks.forEach((block, i) => {
      for (const name of BLOCK_WEIGHTS) inputs[`h${i}.${name}`] = block[name];
      [inputs[`k${i}`], inputs[`v${i}`]] = [caches[i].k, caches[i].v];
    });
    const [logits, values] = tf.engine().runKernel(DECODE_STEP, inputs, { pos, layers: w.blocks.length, heads }) as tf.Tensor[];
    return { logits: logits as tf.Tensor2D, values: values as tf.Tensor1D };
  });
}
