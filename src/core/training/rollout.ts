import * as tf from '../tf.ts';
import type { Hyperparameters } from '../hyperparameters.ts';
import type { Policy } from '../policy/policy.ts';
import { evaluateActions, realPositions, type RealActions } from '../algorithms/masked.ts';
import { hostMaths, softmaxStats } from '../ops/hostMaths.ts';
import { kernelOptions } from '../ops/kernels/wasmKernels.ts';
import type { Rollout } from '../algorithms/algorithm.ts';

export type { Rollout };
import type { Sample } from '../reward/reward.ts';
import type { Rng } from '../rng.ts';
import { completion, sample, type Generation } from '../policy/sampler.ts';
import type { Tokenizer } from '../policy/tokenizer.ts';

/** A sampled batch with everything the algorithms need from it, as plain arrays (no tensors outlive the call). */

/** Stage 1 of an iteration (training/trainer.ts): sample completions, then score them under the policy and the frozen reference. */
export async function collectRollout(
  policy: Policy,
  reference: Policy,
  tokenizer: Tokenizer,
  prompts: readonly string[],
  h: Hyperparameters,
  rng: Rng,
  /** What the reward sees of a completion (the task adds its fields). */
  describe: (text: string, tokens: number[], prompt: string, index: number) => Sample = (text, tokens, prompt, index) => ({ text, tokens, prompt, index }),
): Promise<Rollout> {
  const promptTokens = prompts.map((p) => tokenizer.encode(p));
  // Where the decoder's logits and values are forwardAt's, bit for bit, the policy's scores are read from sampling.
  const V = policy.config.vocabSize;
  const fromSampling = hostMaths() && policy.forwardAt !== undefined && (h.topK === 0 || h.topK >= V) && kernelOptions.scoresFromSampling;
  const gen = await sample(policy, { prompts: promptTokens, maxNew: h.maxLength, temperature: h.temperature, topK: h.topK, rng, keepScores: fromSampling });
  const B = gen.batch;
  const start = 1 + gen.promptWidth;
  const N = Math.max(...gen.lengths);
  const width = start + N;
  const tokens = new Int32Array(B * width);
  for (let b = 0; b < B; b++) tokens.set(gen.tokens.subarray(b * gen.width, b * gen.width + width), b * width);

  // Old log-probs and values are exactly what the update's forward pass computes, so the first
  // minibatch starts at ratio 1: a forward pass, or sampling's own numbers where they are the same.
  const scoringStart = performance.now();
  const real = { tokens, lengths: gen.lengths };
  const out = tf.tidy(() => {
    const t = tf.tensor2d(tokens, [B, width], 'int32');
    const cur = gen.scores ? null : evaluateActions(policy, t, start, N, h.temperature, h.topK, gen.pad, real);
    // The reference judges with its whole distribution: a token outside its k likeliest is
    // unlikely, not impossible (top-k masked, one such token would make the KL infinite).
    const ref = evaluateActions(reference, t, start, N, h.temperature, 0, gen.pad, real);
    return cur ? [ref.logprob, cur.logprob, cur.value, cur.entropy] : [ref.logprob];
  });
  const [refLogprobs, ...scored] = (await Promise.all(out.map((t) => t.data()))) as Float32Array[];
  tf.dispose(out);
  const [logprobs, values, entropy] = gen.scores ? sampledScores(gen.scores, real, width, start, N, V, h.temperature) : scored;
  const scoringMs = performance.now() - scoringStart;

  const samples: Sample[] = [];
  for (let b = 0; b < B; b++) {
    const row = completion(gen, b);
    samples.push(describe(tokenizer.decode(row), row, prompts[b], b));
  }
  return { tokens, width, start, N, lengths: gen.lengths, pad: gen.pad, logprobs, values, refLogprobs, entropy, samples, scoringMs };
}

/**
 * The taken actions' log-probabilities, the values and the entropies [B * N]
 * (zeros past each row's actions), from the logits and values sampling kept
 * (Generation.scores): as evaluateActions computes them from forwardAt's, whose
 * numbers these are.
 */
function sampledScores(scores: NonNullable<Generation['scores']>, real: RealActions, width: number, start: number, N: number, V: number, temperature: number): Float32Array[] {
  const B = real.lengths.length;
  const { n, actions } = realPositions(real, width, start);
  const logits = new Float32Array(n * V);
  const values = new Float32Array(B * N);
  for (let b = 0, i = 0; b < B; b++) {
    for (let t = 0; t < real.lengths[b]; t++, i++) {
      logits.set(scores.logits[t].subarray(b * V, (b + 1) * V), i * V);
      values[b * N + t] = scores.values[t][b];
    }
  }
  const stats = softmaxStats(logits, V, actions, temperature);
  const [logprob, entropy] = [new Float32Array(B * N), new Float32Array(B * N)];
  for (let b = 0, i = 0; b < B; b++) {
    for (let t = 0; t < real.lengths[b]; t++, i++) [logprob[b * N + t], entropy[b * N + t]] = [stats.logprob[i], stats.entropy[i]];
  }
  return [logprob, values, entropy];
}
