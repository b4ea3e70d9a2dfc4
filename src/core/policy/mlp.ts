import * as tf from '../tf.ts';
import { BOS } from './tokenizer.ts';
import { tanh } from '../ops/activations.ts';
import { addWeight, normalInit, type Decoder, type MlpConfig, type Policy } from './policy.ts';
import type { Rng } from '../rng.ts';
import { summedRows } from '../ops/rows.ts';

/**
 * makemore's MLP (Bengio et al. 2003) with a value head on the hidden layer.
 * The context is the last `contextLength` tokens, padded on the left with the
 * start token, so it needs no cache: decoding keeps the window in plain arrays.
 */
export class MlpPolicy implements Policy {
  readonly weights = new Map<string, tf.Variable>();
  #wte: tf.Variable;
  #w1: tf.Variable;
  #b1: tf.Variable;
  #w2: tf.Variable;
  #b2: tf.Variable;
  #wv: tf.Variable;
  #bv: tf.Variable;

  constructor(
    readonly config: MlpConfig,
    rng: Rng,
  ) {
    const { vocabSize: V, contextLength: K, embedDim: C, hiddenDim: H } = config;
    const w = this.weights;
    this.#wte = addWeight(w, 'wte', normalInit(rng, [V, C], 1));
    // Kaiming-style scale for tanh, small output layer so the first logits are near uniform.
    this.#w1 = addWeight(w, 'w1', normalInit(rng, [K * C, H], (5 / 3) / Math.sqrt(K * C)));
    this.#b1 = addWeight(w, 'b1', tf.zeros([H]));
    this.#w2 = addWeight(w, 'w2', normalInit(rng, [H, V], 0.01));
    this.#b2 = addWeight(w, 'b2', tf.zeros([V]));
    // The value head starts at zero: the reference checkpoint never trained it.
    this.#wv = addWeight(w, 'wv', tf.zeros([H, 1]));
    this.#bv = addWeight(w, 'bv', tf.zeros([1]));
  }

  /** Left padding needs no care here: extra start tokens are what the window sees before any sequence anyway. */
  forward(tokens: tf.Tensor2D): { logits: tf.Tensor3D; values: tf.Tensor2D } {
    const [B, T] = tokens.shape;
    return tf.tidy(() => {
      const { logits, values } = this.#head(this.#hidden(this.#windows(tokens), this.#folded()));
      return { logits: logits.reshape([B, T, -1]), values: values.reshape([B, T]) };
    });
  }

  valueFeatures(tokens: tf.Tensor2D): tf.Tensor3D {
    const [B, T] = tokens.shape;
    return tf.tidy(() => this.#hidden(this.#windows(tokens), this.#folded()).reshape([B, T, -1]) as tf.Tensor3D);
  }

  /** tokens [B, T] -> each position's window as rows of the folded table, [K, B * T] (start tokens before the sequence). */
  #windows(tokens: tf.Tensor2D): tf.Tensor2D {
    const [B, T] = tokens.shape;
    const { contextLength: K, vocabSize: V } = this.config;
    const padded = tf.concat([tf.fill([B, K], BOS, 'int32'), tokens.toInt()], 1); // [B, K+T]
    const windows = tf.gather(padded, this.#windowIndex(T), 1).reshape([B * T, K]); // [B*T, K] tokens
    return tf.add(tf.transpose(windows), tf.range(0, K * V, V, 'int32').reshape([K, 1])) as tf.Tensor2D;
  }

  /** Windows [n, K] of tokens (plain arrays) -> rows of the folded table, [K, n]. */
  #rows(windows: Int32Array, n: number): tf.Tensor2D {
    const { contextLength: K, vocabSize: V } = this.config;
    const rows = new Int32Array(K * n);
    for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) rows[k * n + i] = k * V + windows[i * K + k];
    return tf.tensor2d(rows, [K, n], 'int32');
  }

  forwardAt(tokens: Int32Array, width: number, positions: Int32Array): { logits: tf.Tensor2D; values: tf.Tensor1D } {
    const K = this.config.contextLength;
    const windows = new Int32Array(positions.length * K).fill(BOS);
    positions.forEach((p, i) => {
      const rowStart = p - (p % width);
      for (let k = 0; k < K; k++) {
        const q = p - K + 1 + k;
        if (q >= rowStart) windows[i * K + k] = tokens[q];
      }
    });
    return tf.tidy(() => this.#head(this.#hidden(this.#rows(windows, positions.length), this.#folded())));
  }

  decoder(batch: number): Decoder {
    const K = this.config.contextLength;
    const window = new Int32Array(batch * K).fill(BOS);
    let folded: tf.Tensor2D | null = null; // the weights hold still while a decoder samples
    return {
      step: (tokens: Int32Array) => {
        for (let b = 0; b < batch; b++) {
          window.copyWithin(b * K, b * K + 1, (b + 1) * K);
          window[(b + 1) * K - 1] = tokens[b];
        }
        folded ??= tf.keep(tf.tidy(() => this.#folded()));
        const table = folded;
        return tf.tidy(() => this.#head(this.#hidden(this.#rows(window, batch), table)).logits);
      },
      dispose: () => {
        folded?.dispose();
        folded = null;
      },
    };
  }

  /** The hidden layer [N, H] -> logits [N, V], values [N]. */
  #head(h: tf.Tensor2D): { logits: tf.Tensor2D; values: tf.Tensor1D } {
    const N = h.shape[0];
    const logits = tf.add(tf.matMul(h, this.#w2), this.#b2) as tf.Tensor2D; // [N, V]
    const values = tf.add(tf.matMul(h, this.#wv), this.#bv).reshape([N]) as tf.Tensor1D; // [N]
    return { logits, values };
  }

  /**
   * The embedding and the first layer folded into one table [K * V, H]: row
   * k * V + v is token v's embedding times W1's rows for window slot k. A
   * window's pre-activation is then the sum of K rows of it, the same sum as
   * concat(embeddings) x W1 in another order, without the [N, K*C] x [K*C, H]
   * product or its two gradient products: the table costs V x C x K*H.
   */
  #folded(): tf.Tensor2D {
    const { vocabSize: V, contextLength: K, embedDim: C, hiddenDim: H } = this.config;
    const w1 = this.#w1.reshape([K, C, H]).transpose([1, 0, 2]).reshape([C, K * H]);
    return tf.matMul(this.#wte, w1).reshape([V, K, H]).transpose([1, 0, 2]).reshape([K * V, H]) as tf.Tensor2D;
  }

  /** Rows of the folded table [K, N] -> the hidden layer [N, H], which both heads read. */
  #hidden(rows: tf.Tensor2D, folded: tf.Tensor2D): tf.Tensor2D {
    return tanh(tf.add(summedRows(folded, rows), this.#b1)) as tf.Tensor2D;
  }

  /** [T, K] gather indices: position t sees padded[t+1 .. t+K], the K tokens up to and including token t. */
  #windowIndex(T: number): tf.Tensor2D {
    const K = this.config.contextLength;
    const data = new Int32Array(T * K);
    for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) data[t * K + k] = t + 1 + k;
    return tf.tensor2d(data, [T, K], 'int32');
  }

  dispose(): void {
    for (const v of this.weights.values()) v.dispose();
  }
}
