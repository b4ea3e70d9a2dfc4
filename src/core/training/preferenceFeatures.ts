import * as tf from '../tf.ts';
import type { Policy } from '../policy/policy.ts';
import { BOS, EOS, type Tokenizer } from '../policy/tokenizer.ts';

/**
 * What the reward model reads of a completion: the frozen reference policy's
 * features (what its value head reads) at each completion position, pooled
 * three ways, as a reward model in RLHF starts from the policy's own
 * representation: the mean (what the completion is like), the sum divided by
 * the longest completion (how much of it there is: a length the mean alone
 * hides) and the features after the stop token (the whole, as the policy reads
 * it at the end). [3F] per completion, in float64.
 */
export async function completionFeatures(policy: Policy, tokenizer: Tokenizer, items: readonly { prompt: string; text: string }[], maxLength: number, progress?: (fraction: number) => void, batch = 64): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (let from = 0; from < items.length; from += batch) {
    progress?.(from / items.length);
    const part = items.slice(from, from + batch);
    const prompts = part.map((x) => tokenizer.encode(x.prompt));
    const texts = part.map((x) => tokenizer.encode(x.text));
    const { tokens, pad, P, T, B } = packed(policy, prompts, texts);
    const f = tf.tidy(() => policy.valueFeatures(tf.tensor2d(tokens, [B, T], 'int32'), pad));
    const [, , F] = f.shape;
    const data = (await f.data()) as Float32Array; // [B, T, F]
    f.dispose();
    for (let b = 0; b < B; b++) {
      const n = texts[b].length;
      const x = new Float64Array(3 * F);
      // Positions that have read a completion token or the stop: 1+P .. 1+P+n.
      const first = 1 + P;
      const last = Math.min(1 + P + n, T - 1);
      for (let t = first; t <= last; t++) {
        for (let k = 0; k < F; k++) {
          const v = data[(b * T + t) * F + k];
          x[k] += v / (last - first + 1);
          x[F + k] += v / (maxLength + 1);
          if (t === last) x[2 * F + k] = v;
        }
      }
      out.push(x);
    }
  }
  return out;
}

/**
 * How likely a policy finds each completion: the mean log-probability of its
 * tokens and the stop after the prompt (nats a token). The task's other
 * reference policy read this way is a model as judge: AI feedback in miniature.
 */
export async function completionLikelihood(policy: Policy, tokenizer: Tokenizer, items: readonly { prompt: string; text: string }[], batch = 64): Promise<number[]> {
  const out: number[] = [];
  for (let from = 0; from < items.length; from += batch) {
    const part = items.slice(from, from + batch);
    const prompts = part.map((x) => tokenizer.encode(x.prompt));
    const texts = part.map((x) => tokenizer.encode(x.text));
    const { tokens, pad, P, T, B } = packed(policy, prompts, texts);
    const logp = tf.tidy(() => tf.logSoftmax(policy.forward(tf.tensor2d(tokens, [B, T], 'int32'), pad).logits));
    const [, , V] = logp.shape;
    const data = (await logp.data()) as Float32Array; // [B, T, V]: position t predicts token t + 1
    logp.dispose();
    for (let b = 0; b < B; b++) {
      let sum = 0;
      let n = 0;
      for (let t = P; t < T - 1 && t - P <= texts[b].length; t++) { // each token and the stop
        sum += data[(b * T + t) * V + tokens[b * T + t + 1]];
        n++;
      }
      out.push(n ? sum / n : 0);
    }
  }
  return out;
}

/**
 * Prompts and completions as a policy reads them, [B, T] row by row: start,
 * the prompt left-padded with start tokens, the completion, then stop tokens
 * (the first is the completion's stop); a transformer reads at most what it
 * samples (1 + its context).
 */
function packed(policy: Policy, prompts: readonly number[][], texts: readonly number[][]): { tokens: Int32Array; pad: Int32Array; P: number; T: number; B: number } {
  const P = Math.max(0, ...prompts.map((p) => p.length));
  const L = Math.max(0, ...texts.map((t) => t.length));
  const T = Math.min(1 + P + L + 1, policy.config.arch === 'transformer' ? 1 + policy.config.contextLength : Infinity);
  const B = prompts.length;
  const tokens = new Int32Array(B * T).fill(EOS);
  const pad = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    pad[b] = P - prompts[b].length;
    for (let t = 0; t <= pad[b]; t++) tokens[b * T + t] = BOS;
    tokens.set(prompts[b], b * T + 1 + pad[b]);
    tokens.set(texts[b].slice(0, T - 1 - P), b * T + 1 + P);
  }
  return { tokens, pad, P, T, B };
}
