/**
 * Signs that a run collapsed or found a loophole in its reward: the policy
 * writes very short outputs, stops exploring, repeats itself, or earns its best
 * rewards with outputs the reference policy would almost never write. Each is
 * judged against the run's first iteration, which samples from the reference.
 */

/** What the detector looks at in one iteration. */
export interface BatchProfile {
  /** Mean completion length in tokens, the stop token included. */
  sampleLength: number;
  /** Mean per-token entropy of the policy, in nats. */
  entropy: number;
  /** Share of distinct completions in the batch. */
  distinctShare: number;
  /** Distinct prompts in the batch (1 for a task with one prompt; older saved states lack it). */
  distinctPrompts?: number;
  /** Completions in the batch. */
  size?: number;
  /** Mean per-token log-probability, under the reference, of the best-rewarded completions. */
  topRefLogprob: number;
}

/** 'runaway' is runaway.ts's: the policy leaving its reference fast. */
export type CollapseKind = 'short' | 'entropy' | 'repeated' | 'unlikely' | 'runaway';

export interface CollapseSign {
  kind: CollapseKind;
  /** One sentence naming the sign with its numbers. */
  message: string;
}

/** Thresholds, relative to the first iteration where that makes sense. */
const SHORT_FRACTION = 0.25;
const SHORT_TOKENS = 2;
/** Nats per token: below this a policy writes one thing. A task the reference already writes almost surely (an answer) starts near it, so the floor is low and the fraction does the work. */
const ENTROPY_FLOOR = 0.02;
const ENTROPY_FRACTION = 0.1;
/**
 * Few distinct samples, and at most half the start's share. Where the batch has
 * several prompts, few distinct samples are a collapse only when the completions stop
 * following the prompts, fewer distinct completions than half the distinct prompts: a
 * policy that learnt the one right answer to each problem (unit tests, under GRPO and
 * RLOO: 8 completions of each of 8 problems) writes as many distinct completions as
 * there are problems, 12-19% of the batch. Judged by the share alone, 11 of the 20 GRPO
 * and RLOO runs on unit tests in the learning benchmark raised the alarm, most of them
 * while their pass rate rose.
 */
const DISTINCT_FLOOR = 0.2;
const DISTINCT_FRACTION = 0.5;
const PROMPT_FRACTION = 0.5;
/** Nats per token: the top samples are e^3 = 20 times less likely per token than what the reference writes. */
const UNLIKELY_NATS = 3;

export function collapseSigns(now: BatchProfile, first: BatchProfile): CollapseSign[] {
  const signs: CollapseSign[] = [];
  if (now.sampleLength <= Math.max(SHORT_TOKENS, SHORT_FRACTION * first.sampleLength)) {
    signs.push({ kind: 'short', message: `completions shrank to ${now.sampleLength.toFixed(1)} tokens on average (${first.sampleLength.toFixed(1)} at the start)` });
  }
  if (now.entropy < Math.max(ENTROPY_FLOOR, ENTROPY_FRACTION * first.entropy)) {
    signs.push({ kind: 'entropy', message: `entropy fell to ${now.entropy.toFixed(2)} nats per token (${first.entropy.toFixed(2)} at the start): the policy stopped exploring` });
  }
  const prompts = now.distinctPrompts ?? 1;
  const followsPrompts = prompts > 1 && now.distinctShare * (now.size ?? 0) >= PROMPT_FRACTION * prompts;
  if (now.distinctShare < Math.min(DISTINCT_FLOOR, DISTINCT_FRACTION * first.distinctShare) && !followsPrompts) {
    signs.push({ kind: 'repeated', message: `only ${Math.round(now.distinctShare * 100)}% of the samples are distinct (${Math.round(first.distinctShare * 100)}% at the start)` });
  }
  if (now.topRefLogprob < first.topRefLogprob - UNLIKELY_NATS) {
    signs.push({
      kind: 'unlikely',
      message: `the best-rewarded samples are ${Math.round(Math.exp(first.topRefLogprob - now.topRefLogprob))} times less likely per token under the reference than at the start: a loophole in the reward?`,
    });
  }
  return signs;
}

/** The profile of one batch: `refLogprobs` is each completion's mean per-token log-probability under the reference. */
export function batchProfile(sampleLength: number, entropy: number, texts: readonly string[], rewards: readonly number[], refLogprobs: readonly number[], prompts: readonly string[] = []): BatchProfile {
  const distinctShare = new Set(texts).size / texts.length;
  const distinctPrompts = Math.max(1, new Set(prompts).size);
  const top = rewards
    .map((r, i) => [r, i] as const)
    .sort((a, b) => b[0] - a[0])
    .slice(0, Math.max(1, Math.ceil(rewards.length / 8)))
    .map(([, i]) => refLogprobs[i]);
  return { sampleLength, entropy, distinctShare, distinctPrompts, size: texts.length, topRefLogprob: top.reduce((a, b) => a + b, 0) / top.length };
}
