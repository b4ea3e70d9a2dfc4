import * as tf from '../tf.ts';
import type { Hyperparameters } from '../hyperparameters.ts';
import type { Policy } from '../policy/policy.ts';
import { evaluateActions } from '../algorithms/masked.ts';
import type { Rollout } from '../algorithms/algorithm.ts';

export type { Rollout };
import type { Sample } from '../reward/reward.ts';
import type { Rng } from '../rng.ts';
import { completion, sample } from '../policy/sampler.ts';
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
  const gen = await sample(policy, { prompts: promptTokens, maxNew: h.maxLength, temperature: h.temperature, topK: h.topK, rng });
  const B = gen.batch;
  const start = 1 + gen.promptWidth;
  const N = Math.max(...gen.lengths);
  const width = start + N;
  const tokens = new Int32Array(B * width);
  for (let b = 0; b < B; b++) tokens.set(gen.tokens.subarray(b * gen.width, b * gen.width + width), b * width);

  // Old log-probs and values come from a forward pass, exactly as the update will compute them,
  // so the first minibatch starts at ratio 1.
  const scoringStart = performance.now();
  const out = tf.tidy(() => {
    const t = tf.tensor2d(tokens, [B, width], 'int32');
    const real = { tokens, lengths: gen.lengths };
    const cur = evaluateActions(policy, t, start, N, h.temperature, h.topK, gen.pad, real);
    // The reference judges with its whole distribution: a token outside its k likeliest is
    // unlikely, not impossible (top-k masked, one such token would make the KL infinite).
    const ref = evaluateActions(reference, t, start, N, h.temperature, 0, gen.pad, real);
    return [cur.logprob, cur.value, cur.entropy, ref.logprob];
  });
  const [logprobs, values, entropy, refLogprobs] = (await Promise.all(out.map((t) => t.data()))) as Float32Array[];
  tf.dispose(out);
  const scoringMs = performance.now() - scoringStart;

  const samples: Sample[] = [];
  for (let b = 0; b < B; b++) {
    const row = completion(gen, b);
    samples.push(describe(tokenizer.decode(row), row, prompts[b], b));
  }
  return { tokens, width, start, N, lengths: gen.lengths, pad: gen.pad, logprobs, values, refLogprobs, entropy, samples, scoringMs };
}
