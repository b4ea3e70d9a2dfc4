import * as tf from './tf.ts';
import { addWeight, embed, normalInit, type Decoder, type Policy, type TransformerConfig } from './policy.ts';
import type { Rng } from './rng.ts';
import { matMulT } from './matmul.ts';

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
  #blocks: Block[] = [];
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
      this.#blocks.push({
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
    let caches: KvCache[] | null = null;
    let pos = 0;
    return {
      step: (tokens: Int32Array) => {
        if (pos >= this.config.contextLength) {
          throw new Error(`TransformerPolicy: decoding past the context length ${this.config.contextLength}`);
        }
        const out = tf.tidy(() => {
          const r = this.#run(tf.tensor2d(tokens, [batch, 1], 'int32'), pos, caches, rows);
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
      },
    };
  }

  /** Refuses more tokens than the context holds. */
  #fits(T: number): void {
    if (T > this.config.contextLength) throw new Error(`TransformerPolicy: ${T} tokens exceed the context length ${this.config.contextLength}`);
  }

  /**
   * tokens [B, T] at columns past..past+T-1, with the cache of columns 0..past-1.
   * A row left-padded by p extra start tokens reads position t - p at column t,
   * and no column attends to its padding.
   */
  #run(tokens: tf.Tensor2D, past: number, caches: KvCache[] | null, pad: Int32Array | null) {
    const [B, T] = tokens.shape;
    const { heads: H, width: C } = this.config;
    const hd = C / H;
    const tok = embed(this.#wte, tokens); // [B, T, C]
    let x: tf.Tensor3D;
    let mask: tf.Tensor | null;
    if (!pad) {
      x = tf.add(tok, this.#wpe.slice([past, 0], [T, C])) as tf.Tensor3D; // [B, T, C]
      // A single new token may attend to every earlier position: no mask needed.
      mask = T === 1 ? null : this.#mask.slice([past, 0], [T, past + T]); // [T, past+T]
    } else {
      const positions = new Int32Array(B * T);
      const hidden = new Float32Array(B * (past + T));
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) positions[b * T + t] = Math.max(0, past + t - pad[b]);
        hidden.fill(-1e9, b * (past + T), b * (past + T) + Math.min(pad[b], past + T));
      }
      x = tf.add(tok, embed(this.#wpe, tf.tensor2d(positions, [B, T], 'int32'))) as tf.Tensor3D; // [B, T, C] (one-hot: wasm has no gather gradient)
      // Causal, and blind to the padding columns: [B, 1, T, past+T] (a padding column's own output is never used).
      const padMask = tf.tensor4d(hidden, [B, 1, 1, past + T]);
      mask = T === 1 ? padMask : tf.add(this.#mask.slice([past, 0], [T, past + T]), padMask);
    }
    const newCaches: KvCache[] = [];
    this.#blocks.forEach((blk, i) => {
      const h = layerNorm(x, blk.ln1g, blk.ln1b).reshape([B * T, C]);
      // Three products with the weight's thirds, not one product split three ways: slicing the [C, 3C]
      // weight is cheap, splitting (and, backwards, concatenating) [B*T, 3C] activations is not. (Nor a
      // rank-5 [B, T, 3, H, hd] view: WebGL cannot hold it.)
      const qkv = [0, 1, 2].map((j) => tf.add(tf.matMul(h, blk.wqkv.slice([0, j * C], [C, C])), blk.bqkv.slice([j * C], [C]))); // 3 x [B*T, C]
      const heads = (t: tf.Tensor) => t.reshape([B, T, H, hd]).transpose([0, 2, 1, 3]) as tf.Tensor4D; // [B, H, T, hd]
      const q = heads(qkv[0]);
      let k = heads(qkv[1]);
      let v = heads(qkv[2]);
      if (caches) {
        k = tf.concat([caches[i].k, k], 2); // [B, H, past+T, hd]
        v = tf.concat([caches[i].v, v], 2);
      }
      newCaches.push({ k, v });
      let att = matMulT(q, k, false, true).mul(1 / Math.sqrt(hd)) as tf.Tensor4D; // [B, H, T, past+T]
      if (mask) att = att.add(mask);
      const y = tf.matMul(tf.softmax(att), v) // [B, H, T, hd]
        .transpose([0, 2, 1, 3])
        .reshape([B * T, C]);
      x = x.add(tf.add(tf.matMul(y, blk.wo), blk.bo).reshape([B, T, C]));
      const h2 = layerNorm(x, blk.ln2g, blk.ln2b).reshape([B * T, C]);
      const m = tf.add(tf.matMul(h2, blk.w1), blk.b1); // [B*T, 4C]
      const g = m.mul(tf.sigmoid(m.mul(1.702))); // GELU, sigmoid approximation: 3 ops instead of 8
      x = x.add(tf.add(tf.matMul(g, blk.w2), blk.b2).reshape([B, T, C]));
    });
    const hf = layerNorm(x, this.#lnfg, this.#lnfb).reshape([B * T, C]);
    const logits = tf.matMul(hf, this.#head).reshape([B, T, -1]) as tf.Tensor3D; // [B, T, V]
    const values = tf.add(tf.matMul(hf, this.#wv), this.#bv).reshape([B, T]) as tf.Tensor2D; // [B, T]
    return { logits, values, features: hf.reshape([B, T, C]) as tf.Tensor3D, caches: newCaches };
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

function layerNorm(x: tf.Tensor3D, g: tf.Tensor, b: tf.Tensor): tf.Tensor3D {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).mul(tf.rsqrt(variance.add(1e-5))).mul(g).add(b);
}
