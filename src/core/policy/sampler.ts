import * as tf from '../tf.ts';
import type { Policy } from './policy.ts';
import type { Rng } from '../rng.ts';
import { BOS, EOS } from './tokenizer.ts';

export interface SampleOptions {
  /** One prompt per row: symbol ids, without the start token. Shorter prompts are left-padded with the start token. */
  prompts: readonly (readonly number[])[];
  /** Most tokens to generate per row, the stop token included. */
  maxNew: number;
  temperature: number;
  /** 0 samples from the whole vocabulary. */
  topK: number;
  rng: Rng;
  stopToken?: number;
  /** Decode incrementally (KV cache for the transformer); false reruns the whole prefix each step. */
  cache?: boolean;
  /** Keep each step's logits and values where the decoder gives forwardAt's (Generation.scores). */
  keepScores?: boolean;
}

/** A batch of generated sequences, laid out as [BOS-padding, prompt, completion, stop-padding]. */
export interface Generation {
  /** [B, T] row-major, T = 1 + promptWidth + maxNew. */
  tokens: Int32Array;
  batch: number;
  /** Sequence width T. */
  width: number;
  /** The longest prompt; completions start at column 1 + promptWidth. */
  promptWidth: number;
  /** Completion length per row, the stop token included when it was sampled. */
  lengths: Int32Array;
  /** Extra start tokens left-padding each row's prompt to the longest: [B]. */
  pad: Int32Array;
  /**
   * With keepScores, where the decoder has stepValues: per completion step s,
   * the logits [B, V] that drew column 1 + promptWidth + s and the values [B]
   * at the column before, forwardAt's numbers bit for bit.
   */
  scores?: { logits: Float32Array[]; values: Float32Array[] };
}

/**
 * Samples a completion per prompt. Each step reads the next-token logits back
 * (one small [B, V] read) and draws in JavaScript from the seeded Rng, so the
 * same seed gives the same tokens whatever the backend's own random state.
 */
export async function sample(policy: Policy, opts: SampleOptions): Promise<Generation> {
  const { prompts, maxNew, temperature, topK, rng } = opts;
  const stop = opts.stopToken ?? EOS;
  const B = prompts.length;
  const P = Math.max(0, ...prompts.map((p) => p.length));
  const T = 1 + P + maxNew;
  if (policy.config.arch === 'transformer' && P + maxNew > policy.config.contextLength) {
    throw new Error(`sample: prompt (${P}) plus maxLength (${maxNew}) exceed the transformer's context length ${policy.config.contextLength}`);
  }
  const tokens = new Int32Array(B * T).fill(BOS);
  prompts.forEach((p, b) => tokens.set(p, b * T + 1 + P - p.length));
  const pad = Int32Array.from(prompts, (p) => P - p.length);
  const lengths = new Int32Array(B);
  const done = new Uint8Array(B);
  const useCache = opts.cache ?? true;
  const decoder = useCache ? policy.decoder(B, pad) : null;
  const column = new Int32Array(B);
  const scores = opts.keepScores && decoder?.stepValues ? { logits: [] as Float32Array[], values: [] as Float32Array[] } : undefined;
  try {
    // Prefill: feed the start token and the prompt; the last step's logits pick the first completion token.
    let logits: tf.Tensor2D | null = null;
    if (decoder) {
      for (let t = 0; t <= P; t++) {
        logits?.dispose();
        for (let b = 0; b < B; b++) column[b] = tokens[b * T + t];
        logits = decoder.step(column);
      }
    }
    for (let s = 0; s < maxNew; s++) {
      const pos = 1 + P + s; // the column this step fills
      if (!decoder) logits = lastLogits(policy, tokens, B, T, pos, pad);
      const data = (await logits!.data()) as Float32Array;
      logits!.dispose();
      logits = null;
      if (scores) {
        scores.logits.push(data);
        scores.values.push(decoder!.stepValues!().slice());
      }
      const V = data.length / B;
      let open = 0;
      for (let b = 0; b < B; b++) {
        let tok = stop;
        if (!done[b]) {
          tok = drawToken(data.subarray(b * V, (b + 1) * V), temperature, topK, rng);
          lengths[b] += 1;
          if (tok === stop) done[b] = 1;
          else open++;
        }
        tokens[b * T + pos] = tok;
        column[b] = tok;
      }
      if (open === 0) break;
      if (decoder && s + 1 < maxNew) logits = decoder.step(column);
    }
    logits?.dispose();
  } finally {
    decoder?.dispose();
  }
  return { tokens, batch: B, width: T, promptWidth: P, lengths, pad, ...(scores && { scores }) };
}

/** Row b's completion tokens, the stop token left off. */
export function completion(gen: Generation, b: number, stopToken = EOS): number[] {
  const from = b * gen.width + 1 + gen.promptWidth;
  const row = Array.from(gen.tokens.subarray(from, from + gen.lengths[b]));
  if (row[row.length - 1] === stopToken) row.pop();
  return row;
}

/** Uncached step: run the whole prefix [B, pos] and keep the last position's logits. */
function lastLogits(policy: Policy, tokens: Int32Array, B: number, T: number, pos: number, pad: Int32Array): tf.Tensor2D {
  return tf.tidy(() => {
    const prefix = tf.tensor2d(tokens, [B, T], 'int32').slice([0, 0], [B, pos]);
    const { logits } = policy.forward(prefix, pad);
    return logits.slice([0, pos - 1, 0], [B, 1, -1]).reshape([B, -1]) as tf.Tensor2D;
  });
}

/** Draws one token from logits with temperature and top-k; temperature 0 is greedy (the first most likely token, no draw). */
export function drawToken(logits: Float32Array, temperature: number, topK: number, rng: Rng): number {
  const V = logits.length;
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  let threshold = -Infinity;
  if (topK > 0 && topK < V) threshold = Array.from(logits).sort((a, b) => b - a)[topK - 1];
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (logits[i] >= threshold && logits[i] > max) max = logits[i];
  const p = new Float64Array(V);
  let sum = 0;
  for (let i = 0; i < V; i++) {
    if (logits[i] < threshold) continue;
    p[i] = Math.exp((logits[i] - max) / temperature);
    sum += p[i];
  }
  let u = rng.next() * sum;
  for (let i = 0; i < V; i++) {
    if (p[i] === 0) continue;
    u -= p[i];
    if (u < 0) return i;
  }
  // Rounding left u a hair above zero: take the last token with mass.
  for (let i = V - 1; i >= 0; i--) if (p[i] > 0) return i;
  return 0;
}
