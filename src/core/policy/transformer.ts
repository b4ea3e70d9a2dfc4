import * as tf from '../tf.ts';
import { addWeight, embed, normalInit, type Decoder, type Policy, type TransformerConfig } from './policy.ts';
import type { Rng } from '../rng.ts';
import { linear, matMulT } from '../ops/matmul.ts';
import { rowMover } from '../ops/rows.ts';
import { oneKernelAttention, packedAttention } from '../ops/attention.ts';
import { layerNorm } from '../ops/layerNorm.ts';
import { gelu } from '../ops/activations.ts';
import { attentionSoftmax, causalSoftmax } from '../ops/softmax.ts';
import { CAUSAL, kernelOptions } from '../ops/kernels/wasmKernels.ts';
import { decodeStep, decodesInOneKernel, inPlaceCache, type InPlaceCache, type StepWeights } from '../ops/decodeStep.ts';

interface Block {
  ln1g: tf.Variable; ln1b: tf.Variable;
  wqkv: tf.Variable; bqkv: tf.Variable;
  wo: tf.Variable; bo: tf.Variable;
  ln2g: tf.Variable; ln2b: tf.Variable;
  w1: tf.Variable; b1: tf.Variable;
  w2: tf.Variable; b2: tf.Variable;
}

/** Keys and values of the positions seen so far, per layer: [B, H, t, hd] each. */
interface KvCache extends tf.TensorContainerObject {
  k: tf.Tensor4D;
  v: tf.Tensor4D;
}

/**
 * A small GPT (as in nanoGPT) written with raw tfjs ops, with a value head on
 * the final hidden state. `run` reads new tokens given an optional KV cache of
 * earlier positions, so full forward passes and cached decoding share one path.
 */
export class TransformerPolicy implements Policy {
  readonly weights = new Map<string, tf.Variable>();
  #wte: tf.Variable;
  #wpe: tf.Variable;
  #layers: Block[] = [];
  #lnfg: tf.Variable;
  #lnfb: tf.Variable;
  #head: tf.Variable;
  #wv: tf.Variable;
  #bv: tf.Variable;
  /** [L, L] additive causal mask: 0 on and below the diagonal, -1e9 above. */
  #mask: tf.Tensor2D;

  constructor(
    readonly config: TransformerConfig,
    rng: Rng,
  ) {
    const { vocabSize: V, contextLength: L, layers, heads, width: C } = config;
    if (C % heads !== 0) throw new Error(`TransformerPolicy: width ${C} is not divisible by heads ${heads}`);
    const w = this.weights;
    const std = 0.02;
    // GPT-2's scaled init of the residual projections keeps the residual stream's variance steady with depth.
    const projStd = std / Math.sqrt(2 * layers);
    this.#wte = addWeight(w, 'wte', normalInit(rng, [V, C], std));
    this.#wpe = addWeight(w, 'wpe', normalInit(rng, [L, C], std));
    for (let i = 0; i < layers; i++) {
      const p = `h${i}.`;
      this.#layers.push({
        ln1g: addWeight(w, p + 'ln1.g', tf.ones([C])),
        ln1b: addWeight(w, p + 'ln1.b', tf.zeros([C])),
        wqkv: addWeight(w, p + 'attn.wqkv', normalInit(rng, [C, 3 * C], std)),
        bqkv: addWeight(w, p + 'attn.bqkv', tf.zeros([3 * C])),
        wo: addWeight(w, p + 'attn.wo', normalInit(rng, [C, C], projStd)),
        bo: addWeight(w, p + 'attn.bo', tf.zeros([C])),
        ln2g: addWeight(w, p + 'ln2.g', tf.ones([C])),
        ln2b: addWeight(w, p + 'ln2.b', tf.zeros([C])),
        w1: addWeight(w, p + 'mlp.w1', normalInit(rng, [C, 4 * C], std)),
        b1: addWeight(w, p + 'mlp.b1', tf.zeros([4 * C])),
        w2: addWeight(w, p + 'mlp.w2', normalInit(rng, [4 * C, C], projStd)),
        b2: addWeight(w, p + 'mlp.b2', tf.zeros([C])),
      });
    }
    this.#lnfg = addWeight(w, 'lnf.g', tf.ones([C]));
    this.#lnfb = addWeight(w, 'lnf.b', tf.zeros([C]));
    this.#head = addWeight(w, 'head', normalInit(rng, [C, V], std));
    this.#wv = addWeight(w, 'wv', tf.zeros([C, 1]));
    this.#bv = addWeight(w, 'bv', tf.zeros([1]));
    this.#mask = tf.tidy(() => tf.linalg.bandPart(tf.ones([L, L]), -1, 0).sub(1).mul(1e9)) as tf.Tensor2D;
  }

  forward(tokens: tf.Tensor2D, pad?: Int32Array): { logits: tf.Tensor3D; values: tf.Tensor2D } {
    this.#fits(tokens.shape[1]);
    return tf.tidy(() => {
      const { logits, values } = this.#run(tokens, 0, null, padded(pad));
      return { logits, values };
    });
  }

  valueFeatures(tokens: tf.Tensor2D, pad?: Int32Array): tf.Tensor3D {
    this.#fits(tokens.shape[1]);
    return tf.tidy(() => this.#run(tokens, 0, null, padded(pad)).features);
  }

  decoder(batch: number, pad?: Int32Array): Decoder {
    const rows = padded(pad);
    if (decodesInOneKernel(this.config.width)) return this.#inPlaceDecoder(batch, rows);
    let caches: KvCache[] | null = null;
    let qkv: Qkv[] | null = null; // the weights hold still while a decoder samples: their thirds are cut once
    let pos = 0;
    return {
      step: (tokens: Int32Array) => {
        if (pos >= this.config.contextLength) {
          throw new Error(`TransformerPolicy: decoding past the context length ${this.config.contextLength}`);
        }
        qkv ??= tf.tidy(() => this.#layers.map((blk) => this.#qkv(blk)));
        const cut = qkv;
        const out = tf.tidy(() => {
          const r = this.#run(tf.tensor2d(tokens, [batch, 1], 'int32'), pos, caches, rows, cut);
          return { logits: r.logits.reshape([batch, -1]) as tf.Tensor2D, caches: r.caches };
        });
        if (caches) for (const c of caches) tf.dispose([c.k, c.v]);
        caches = out.caches;
        pos += 1;
        return out.logits;
      },
      dispose: () => {
        if (caches) for (const c of caches) tf.dispose([c.k, c.v]);
        caches = null;
        if (qkv) tf.dispose(qkv.flatMap((q) => [...q.w, ...q.b]));
        qkv = null;
      },
    };
  }

  /**
   * decoder's path on the wasm backend: each step one kernel
   * (ops/decodeStep.ts), the caches made once and written in place. The same
   * logits, bit for bit, as the path above, and forwardAt's logits and values
   * at the same positions (stepValues).
   */
  #inPlaceDecoder(batch: number, rows: Int32Array | null): Decoder {
    const { heads: H, width: C, contextLength: L } = this.config;
    const weights = { wte: this.#wte, wpe: this.#wpe, blocks: this.#layers, lnfg: this.#lnfg, lnfb: this.#lnfb, head: this.#head, wv: this.#wv, bv: this.#bv } as unknown as StepWeights;
    let caches: InPlaceCache[] | null = null;
    let pad: tf.Tensor1D | null = null;
    let values: tf.Tensor1D | null = null;
    let pos = 0;
    return {
      step: (tokens: Int32Array) => {
        if (pos >= L) throw new Error(`TransformerPolicy: decoding past the context length ${L}`);
        caches ??= this.#layers.map(() => inPlaceCache(batch, H, C / H, L));
        if (rows) pad ??= tf.tensor1d(rows, 'int32');
        const out = decodeStep(tokens, weights, caches, H, pos, pad);
        values?.dispose();
        values = out.values;
        pos += 1;
        return out.logits;
      },
      stepValues: () => {
        if (!values) throw new Error('TransformerPolicy: no step decoded yet');
        return values.dataSync() as Float32Array;
      },
      dispose: () => {
        if (caches) tf.dispose(caches);
        tf.dispose([pad ?? [], values ?? []]);
        [caches, pad, values] = [null, null, null];
      },
    };
  }

  /** A layer's query, key and value weights and biases: the thirds of wqkv and bqkv. */
  #qkv(blk: Block): Qkv {
    const C = this.config.width;
    return { w: [0, 1, 2].map((j) => blk.wqkv.slice([0, j * C], [C, C]) as tf.Tensor2D), b: [0, 1, 2].map((j) => blk.bqkv.slice([j * C], [C]) as tf.Tensor1D) };
  }

  /** Refuses more tokens than the context holds. */
  #fits(T: number): void {
    if (T > this.config.contextLength) throw new Error(`TransformerPolicy: ${T} tokens exceed the context length ${this.config.contextLength}`);
  }

  /**
   * The positions a row's last asked position reads, and only those: row b's
   * columns from its first real one (after `pad[b]`) to its last in `positions`,
   * packed into [n, C] for every per-position layer (embeddings, layer norms,
   * products, GELU); laid out [B, H, T, hd] only for attention, where columns
   * left out hold zeros that no kept column attends to (the causal mask hides
   * later ones, the padding mask earlier ones). `forward`'s numbers, to float32 rounding.
   */
  forwardAt(tokens: Int32Array, width: number, positions: Int32Array, pad?: Int32Array): { logits: tf.Tensor2D; values: tf.Tensor1D } {
    const B = tokens.length / width;
    const rows = padded(pad);
    const first = rows ?? new Int32Array(B);
    const last = new Int32Array(B).fill(-1);
    for (const p of positions) {
      const b = Math.floor(p / width);
      last[b] = Math.max(last[b], p - b * width);
    }
    const T = Math.max(0, ...last) + 1;
    this.#fits(T);
    let n = 0;
    for (let b = 0; b < B; b++) n += Math.max(0, last[b] - first[b] + 1);
    const ids = new Int32Array(n);
    const pos = new Int32Array(n);
    const cell = new Int32Array(n); // packed row -> b * T + column
    const packedAt = new Int32Array(B * T).fill(n); // b * T + column -> packed row (n: left out)
    for (let b = 0, i = 0; b < B; b++) {
      for (let c = first[b]; c <= last[b]; c++, i++) {
        ids[i] = tokens[b * width + c];
        pos[i] = c - first[b];
        cell[i] = b * T + c;
        packedAt[b * T + c] = i;
      }
    }
    const asked = Int32Array.from(positions, (p) => {
      const b = Math.floor(p / width);
      const i = packedAt[b * T + p - b * width];
      if (i === n) throw new Error(`TransformerPolicy: position ${p} is in row ${b}'s padding`);
      return i;
    });
    return tf.tidy(() => {
      const x = tf.add(embed(this.#wte, tf.tensor1d(ids, 'int32')), embed(this.#wpe, tf.tensor1d(pos, 'int32'))) as tf.Tensor2D; // [n, C]
      const C = this.config.width;
      const H = this.config.heads;
      const hd = C / H;
      const causal = causalSoftmax();
      const layout: Layout = kernelOptions.headMoves ? headMoves(packedAt, cell, B, T, H, hd, causal) : gridMoves(packedAt, cell, B, T, H, hd);
      const hidden = this.#blocks(x, layout, this.#attentionMask(B, T, 0, rows, causal), null, undefined, causal).x;
      const hf = layerNorm(rowMover(asked, n)(hidden) as tf.Tensor2D, this.#lnfg, this.#lnfb); // [P, C]
      const logits = tf.matMul(hf, this.#head) as tf.Tensor2D;
      const values = linear(hf, this.#wv as tf.Tensor2D, this.#bv as tf.Tensor1D).reshape([positions.length]) as tf.Tensor1D;
      return { logits, values };
    });
  }

  /**
   * tokens [B, T] at columns past..past+T-1, with the cache of columns 0..past-1.
   * A row left-padded by p extra start tokens reads position t - p at column t,
   * and no column attends to its padding.
   */
  #run(tokens: tf.Tensor2D, past: number, caches: KvCache[] | null, pad: Int32Array | null, qkv?: Qkv[]) {
    const [B, T] = tokens.shape;
    const { heads: H, width: C } = this.config;
    const tok = embed(this.#wte, tokens); // [B, T, C]
    let x: tf.Tensor2D; // [B*T, C]
    if (!pad) {
      x = tf.add(tok, this.#wpe.slice([past, 0], [T, C])).reshape([B * T, C]);
    } else {
      const positions = new Int32Array(B * T);
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) positions[b * T + t] = Math.max(0, past + t - pad[b]);
      x = tf.add(tok.reshape([B * T, C]), embed(this.#wpe, tf.tensor1d(positions, 'int32'))) as tf.Tensor2D;
    }
    // One new token a row (decoding): [B, 1, H, hd] and [B, H, 1, hd] are the same memory, no transpose needed.
    const layout: Layout =
      T === 1
        ? { toHeads: (t) => t.reshape([B, H, 1, C / H]) as tf.Tensor4D, fromHeads: (y) => y.reshape([B, C]) as tf.Tensor2D }
        : {
            toHeads: (t) => t.reshape([B, T, H, C / H]).transpose([0, 2, 1, 3]) as tf.Tensor4D,
            fromHeads: (y) => y.transpose([0, 2, 1, 3]).reshape([B * T, C]) as tf.Tensor2D,
          };
    const causal = !caches && T > 1 && causalSoftmax();
    const out = this.#blocks(x, layout, this.#attentionMask(B, T, past, pad, causal), caches, qkv, causal);
    const hf = layerNorm(out.x, this.#lnfg, this.#lnfb); // [B*T, C]
    const logits = tf.matMul(hf, this.#head).reshape([B, T, -1]) as tf.Tensor3D; // [B, T, V]
    const values = linear(hf, this.#wv as tf.Tensor2D, this.#bv as tf.Tensor1D).reshape([B, T]) as tf.Tensor2D; // [B, T]
    return { logits, values, features: hf.reshape([B, T, C]) as tf.Tensor3D, caches: out.caches };
  }

  /**
   * What attention adds to its scores for T new columns after `past` cached
   * ones: causal, and blind to each row's padding columns, [B, 1, T, past+T]
   * (a padding column's own output is never used); [T, past+T] without padding;
   * none for a single new token without padding (it may read every column).
   * `causal`: the softmax applies the causal part itself; only the padding's.
   */
  #attentionMask(B: number, T: number, past: number, pad: Int32Array | null, causalSoftmax = false): tf.Tensor | null {
    const causal = T === 1 || causalSoftmax ? null : this.#mask.slice([past, 0], [T, past + T]);
    if (!pad) return causal;
    const hidden = new Float32Array(B * (past + T));
    for (let b = 0; b < B; b++) hidden.fill(-1e9, b * (past + T), b * (past + T) + Math.min(pad[b], past + T));
    const padMask = tf.tensor4d(hidden, [B, 1, 1, past + T]);
    return causal ? tf.add(causal, padMask) : padMask;
  }

  /**
   * The residual stream x [R, C] (R positions, in `layout`) through every block,
   * with or without a KV cache. `causal`: attention's softmax applies the causal
   * mask itself (`mask` is the padding's only), and its products leave out what
   * that mask zeroes (ops/matmul.ts's matMulT): the same numbers, half the work.
   */
  #blocks(x: tf.Tensor2D, layout: Layout, mask: tf.Tensor | null, caches: KvCache[] | null, qkv?: Qkv[], causal = false): { x: tf.Tensor2D; caches: KvCache[] } {
    const hd = this.config.width / this.config.heads;
    const newCaches: KvCache[] = [];
    this.#layers.forEach((blk, i) => {
      const h = layerNorm(x, blk.ln1g, blk.ln1b);
      // forwardAt's layout takes one product with the whole [C, 3C] weight and moves its heads by rows.
      // Elsewhere, three products with the weight's thirds: splitting (and, backwards, concatenating)
      // [R, 3C] activations costs more than slicing the weight, and WebGL cannot hold a rank-5 view.
      // forwardAt's causal attention as one op (ops/attention.ts): the same numbers.
      if (layout.attention) {
        const y = layout.attention(linear(h, blk.wqkv as tf.Tensor2D, blk.bqkv as tf.Tensor1D), mask);
        x = this.#mlp(blk, linear(y, blk.wo as tf.Tensor2D, blk.bo as tf.Tensor1D, x));
        return;
      }
      let q: tf.Tensor4D, k0: tf.Tensor4D, v0: tf.Tensor4D; // [B, H, T, hd]
      if (layout.qkv) [q, k0, v0] = layout.qkv(linear(h, blk.wqkv as tf.Tensor2D, blk.bqkv as tf.Tensor1D));
      else {
        const cut = qkv?.[i] ?? this.#qkv(blk);
        [q, k0, v0] = [0, 1, 2].map((j) => layout.toHeads(linear(h, cut.w[j] as tf.Tensor2D, cut.b[j] as tf.Tensor1D)));
      }
      const k = caches ? (tf.concat([caches[i].k, k0], 2) as tf.Tensor4D) : k0; // [B, H, past+T, hd]
      const v = caches ? (tf.concat([caches[i].v, v0], 2) as tf.Tensor4D) : v0;
      newCaches.push({ k, v });
      // The scale on q, not on the scores: a quarter of the elements (or fewer) to multiply, forwards
      // and backwards; where 1/sqrt(hd) is a power of two (hd 4, 16, 64, ...) the very same numbers.
      const att = matMulT(q.mul(1 / Math.sqrt(hd)), k, false, true, causal ? CAUSAL.lowerOut : 0) as tf.Tensor4D; // [B, H, T, past+T]
      const y = layout.fromHeads(matMulT(attentionSoftmax(att, mask, causal), v, false, false, causal ? CAUSAL.zeroAboveA : 0) as tf.Tensor4D); // [R, C]
      x = this.#mlp(blk, linear(y, blk.wo as tf.Tensor2D, blk.bo as tf.Tensor1D, x));
    });
    return { x, caches: newCaches };
  }

  /** A block's second half: x plus its MLP of x's layer norm. */
  #mlp(blk: Block, x: tf.Tensor2D): tf.Tensor2D {
    const h2 = layerNorm(x, blk.ln2g, blk.ln2b);
    const m = linear(h2, blk.w1 as tf.Tensor2D, blk.b1 as tf.Tensor1D); // [R, 4C]
    const g = gelu(m); // GELU, sigmoid approximation
    return linear(g, blk.w2 as tf.Tensor2D, blk.b2 as tf.Tensor1D, x);
  }

  dispose(): void {
    for (const v of this.weights.values()) v.dispose();
    this.#mask.dispose();
  }
}

/** The padding, or null when no row has any (the plain path). */
function padded(pad: Int32Array | undefined): Int32Array | null {
  return pad && pad.some((p) => p > 0) ? pad : null;
}

/**
 * forwardAt's layout, packed rows [n, C] <-> [B, H, T, hd], by rows of hd
 * numbers, one move each way (the transposes included): the heads of q, k and v
 * from a packed row's [q | k | v] (one product's [n, 3C]) to their places, zeros
 * where a column is left out (`packedAt` n), and each head's output back to its
 * packed row (`cell`: packed row -> b * T + column). With `causal` and our
 * kernels, the whole of attention between them is one op (`attention`).
 */
function headMoves(packedAt: Int32Array, cell: Int32Array, B: number, T: number, H: number, hd: number, causal: boolean): Layout {
  const n = cell.length;
  const cells = B * H * T;
  const toHeads = new Int32Array(3 * cells); // q's cells, then k's, then v's
  for (let j = 0, o = 0; j < 3; j++) for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++, o++) {
    const i = packedAt[b * T + t];
    toHeads[o] = i === n ? n * 3 * H : (i * 3 + j) * H + h;
  }
  const fromHeads = new Int32Array(n * H);
  for (let i = 0, o = 0; i < n; i++) for (let h = 0; h < H; h++, o++) fromHeads[o] = (Math.floor(cell[i] / T) * H + h) * T + (cell[i] % T);
  if (causal && oneKernelAttention()) return { attention: packedAttention(toHeads, fromHeads, [B, H, T, hd]) };
  const moves = [0, 1, 2].map((j) => rowMover(toHeads.subarray(j * cells, (j + 1) * cells), n * 3 * H));
  const back = rowMover(fromHeads, cells);
  return {
    qkv: (x) => {
      const rowsOfHd = x.reshape([n * 3 * H, hd]);
      return moves.map((move) => move(rowsOfHd).reshape([B, H, T, hd]) as tf.Tensor4D);
    },
    fromHeads: (y) => back(y.reshape([cells, hd])).reshape([n, H * hd]) as tf.Tensor2D,
  };
}

/** forwardAt's layout as before the head moves (kernelOptions.headMoves off): rows to the grid, then a transpose, for each of q, k and v. */
function gridMoves(packedAt: Int32Array, cell: Int32Array, B: number, T: number, H: number, hd: number): Layout {
  const [toGrid, fromGrid] = [rowMover(packedAt, cell.length), rowMover(cell, B * T)]; // [n, C] <-> [B * T, C]
  return {
    toHeads: (t) => toGrid(t).reshape([B, T, H, hd]).transpose([0, 2, 1, 3]) as tf.Tensor4D,
    fromHeads: (y) => fromGrid(y.transpose([0, 2, 1, 3]).reshape([B * T, H * hd])) as tf.Tensor2D,
  };
}

/** A layer's query, key and value weights [C, C] and biases [C], in that order. */
interface Qkv extends tf.TensorContainerObject {
  w: tf.Tensor2D[];
  b: tf.Tensor1D[];
}

/**
 * How the residual stream's rows [R, C] map to attention's [B, H, T, hd] and
 * back: each of q, k and v on its own (`toHeads`), or all three from one
 * product's [R, 3C] (`qkv`); or none of it, attention whole as one op from that
 * product's rows (`attention`).
 */
type Layout =
  | ({ fromHeads(y: tf.Tensor4D): tf.Tensor2D; attention?: undefined } & ({ toHeads(t: tf.Tensor2D): tf.Tensor4D; qkv?: undefined } | { qkv(x: tf.Tensor2D): tf.Tensor4D[]; toHeads?: undefined }))
  | { attention(qkv: tf.Tensor2D, mask: tf.Tensor | null): tf.Tensor2D; fromHeads?: undefined; qkv?: undefined; toHeads?: undefined };
