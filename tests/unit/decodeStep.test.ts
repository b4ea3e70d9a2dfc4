import * as tf from '../../src/core/tf.ts';
import { describe, expect, it } from 'vitest';
import os from 'node:os';
import { DECODE_STEP, heapThreadServed, kernelOptions } from '../../src/core/ops/kernels/wasmKernels.ts';
import { decodeStep, decodesInOneKernel, inPlaceCache, type StepWeights } from '../../src/core/ops/decodeStep.ts';
import { BLOCK_WEIGHTS } from '../../src/core/ops/kernels/decodeStep.ts';
import { TransformerPolicy } from '../../src/core/policy/transformer.ts';
import type { TransformerConfig } from '../../src/core/policy/policy.ts';
import { Rng } from '../../src/core/rng.ts';

/** Every element the same float32, bit for bit. */
function sameBits(x: Float32Array, y: Float32Array): boolean {
  const [a, b] = [new Uint32Array(x.buffer, x.byteOffset, x.length), new Uint32Array(y.buffer, y.byteOffset, y.length)];
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** A policy whose weights are all random (biases, gains and the head included), so no term is trivially zero. */
function policy(config: Omit<TransformerConfig, 'arch'>, seed: number): TransformerPolicy {
  const p = new TransformerPolicy({ arch: 'transformer', ...config }, new Rng(seed));
  const rng = new Rng(seed + 1);
  for (const w of p.weights.values()) w.assign(tf.tensor(Float32Array.from({ length: w.size }, () => rng.normal() * 0.3), w.shape));
  return p;
}

/** Every step's logits from a decoder fed `steps` columns of tokens, with or without the one-kernel step. */
function decode(p: TransformerPolicy, batch: number, steps: number, pad: Int32Array | undefined, oneKernel: boolean, threads: boolean): Float32Array[] {
  [kernelOptions.decodeStep, kernelOptions.threads] = [oneKernel, threads];
  try {
    expect(decodesInOneKernel(p.config.width)).toBe(oneKernel);
    const d = p.decoder(batch, pad);
    const rng = new Rng(9);
    const out: Float32Array[] = [];
    for (let s = 0; s < steps; s++) {
      const logits = d.step(Int32Array.from({ length: batch }, () => Math.floor(rng.next() * p.config.vocabSize)));
      expect(logits.shape).toEqual([batch, p.config.vocabSize]);
      out.push(logits.dataSync() as Float32Array);
      logits.dispose();
    }
    d.dispose();
    return out;
  } finally {
    [kernelOptions.decodeStep, kernelOptions.threads] = [true, true];
  }
}

// [config, batch, steps, padding]: the painter's shape; heads of 6 numbers (the values' rows padded to 8) and a
// context that is no multiple of 16, an odd batch (halves of 4 and 3), padded rows; one row.
const CASES: [Omit<TransformerConfig, 'arch'>, number, number, number[] | undefined][] = [
  [{ vocabSize: 18, contextLength: 40, layers: 2, heads: 4, width: 64 }, 64, 40, undefined],
  [{ vocabSize: 11, contextLength: 21, layers: 3, heads: 4, width: 24 }, 7, 21, [0, 3, 1, 0, 5, 2, 21]],
  [{ vocabSize: 30, contextLength: 33, layers: 1, heads: 2, width: 40 }, 1, 33, [2]],
];

describe('decoding a step in one kernel (wasm)', () => {
  it('gives the logits of the op-by-op path bit for bit, on one thread and on two, and leaves no tensor behind', () => {
    for (const [config, batch, steps, padding] of CASES) {
      const p = policy(config, batch);
      const pad = padding && Int32Array.from(padding);
      const before = tf.memory().numTensors;
      const ops = decode(p, batch, steps, pad, false, false);
      const one = decode(p, batch, steps, pad, true, false);
      const served = heapThreadServed();
      const two = decode(p, batch, steps, pad, true, true);
      expect(tf.memory().numTensors).toBe(before);
      for (let s = 0; s < steps; s++) {
        expect(sameBits(one[s], ops[s]), `${JSON.stringify(config)}: step ${s}, one thread`).toBe(true);
        expect(sameBits(two[s], ops[s]), `${JSON.stringify(config)}: step ${s}, two threads`).toBe(true);
      }
      // The second thread takes half the rows of a step large enough (the painter's: 64 rows of width 64).
      if (served !== null && os.availableParallelism() >= 2) expect(heapThreadServed()! - served).toBe(batch === 64 ? steps : 0);
      p.dispose();
    }
  });

  it("gives forwardAt's logits and values at the same positions, bit for bit, padded rows included", () => {
    for (const [config, batch, steps, padding] of CASES) {
      const p = policy(config, batch + 1);
      const pad = Int32Array.from(padding ?? Array(batch).fill(0));
      const rng = new Rng(12);
      const tokens = Int32Array.from({ length: batch * steps }, () => Math.floor(rng.next() * config.vocabSize));
      const d = p.decoder(batch, pad);
      const [logits, values] = [[] as Float32Array[], [] as Float32Array[]];
      for (let c = 0; c < steps; c++) {
        const l = d.step(Int32Array.from({ length: batch }, (_, b) => tokens[b * steps + c]));
        logits.push(l.dataSync() as Float32Array);
        values.push(d.stepValues!().slice());
        l.dispose();
      }
      d.dispose();
      const positions: number[] = [];
      for (let b = 0; b < batch; b++) for (let c = Math.min(pad[b], steps); c < steps; c++) positions.push(b * steps + c);
      if (positions.length === 0) continue;
      const at = p.forwardAt(tokens, steps, Int32Array.from(positions), pad);
      const [L, V] = [at.logits.dataSync() as Float32Array, at.values.dataSync() as Float32Array];
      const K = config.vocabSize;
      positions.forEach((q, i) => {
        const [b, c] = [Math.floor(q / steps), q % steps];
        expect(sameBits(L.subarray(i * K, (i + 1) * K), logits[c].subarray(b * K, (b + 1) * K)), `${JSON.stringify(config)}: row ${b}, column ${c}, logits`).toBe(true);
        expect(sameBits(V.subarray(i, i + 1), values[c].subarray(b, b + 1)), `${JSON.stringify(config)}: row ${b}, column ${c}, value`).toBe(true);
      });
      tf.dispose([at.logits, at.values]);
      p.dispose();
    }
  });

  it('names a bad token and a step past the context, and loses no tensor', () => {
    const p = policy({ vocabSize: 18, contextLength: 3, layers: 1, heads: 4, width: 16 }, 4);
    const before = tf.memory().numTensors;
    const d = p.decoder(2);
    expect(() => d.step(Int32Array.from([1, 18]))).toThrow(`${DECODE_STEP}: the token 18 of row 1 is not in [0, 17]`);
    for (let s = 0; s < 3; s++) d.step(Int32Array.from([1, 2])).dispose();
    expect(() => d.step(Int32Array.from([1, 2]))).toThrow('decoding past the context length 3');
    d.dispose();
    // Weights of the wrong shape, a negative padding: named, before any kernel reads past a tensor.
    const w = (name: string) => p.weights.get(name)!;
    const block = Object.fromEntries(BLOCK_WEIGHTS.map((n) => [n, w(`h0.${{ ln1g: 'ln1.g', ln1b: 'ln1.b', wqkv: 'attn.wqkv', bqkv: 'attn.bqkv', wo: 'attn.wo', bo: 'attn.bo', ln2g: 'ln2.g', ln2b: 'ln2.b', w1: 'mlp.w1', b1: 'mlp.b1', w2: 'mlp.w2', b2: 'mlp.b2' }[n]}`)])) as unknown as StepWeights['blocks'][number];
    const weights = { wte: w('wte'), wpe: w('wpe'), blocks: [block], lnfg: w('lnf.g'), lnfb: w('lnf.b'), head: w('head'), wv: w('wv'), bv: w('bv') } as unknown as StepWeights;
    const caches = [inPlaceCache(2, 4, 4, 3)];
    tf.dispose(decodeStep(Int32Array.from([1, 2]), weights, caches, 4, 0, null));
    expect(() => decodeStep(Int32Array.from([1, 2]), { ...weights, blocks: [{ ...block, w1: block.w2 }] }, caches, 4, 0, null)).toThrow(`${DECODE_STEP}: needs h0.w1 float32 [16,64]; got float32 [64,16]`);
    const negative = tf.tensor1d([0, -1], 'int32');
    expect(() => decodeStep(Int32Array.from([1, 2]), weights, caches, 4, 1, negative)).toThrow(`${DECODE_STEP}: a row's padding is negative: [0,-1]`);
    tf.dispose([negative, caches]);
    expect(tf.memory().numTensors).toBe(before);
    p.dispose();
  });
});
