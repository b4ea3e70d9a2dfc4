import * as tf from '../tf.ts';
import type { AlgorithmId } from '../algorithms/catalog.ts';
import type { Rollout } from '../algorithms/algorithm.ts';
import { updateRecorder, type AlgorithmRecorder, type TextLesson } from '../algorithms/lesson.ts';
import { evaluateActions } from '../algorithms/masked.ts';
import type { Hyperparameters } from '../hyperparameters.ts';
import type { Policy } from '../policy/policy.ts';
import type { Tokenizer } from '../policy/tokenizer.ts';
import type { RewardScores } from '../reward/reward.ts';
import type { ActorCritic } from '../policy/actorCritic.ts';

/** The recorder an algorithm fills while a lesson captures its iteration. */
export function lessonRecorder(rollout: Rollout): AlgorithmRecorder {
  return { update: updateRecorder(rollout.lengths.length, rollout.N) };
}

/**
 * A lesson from what the iteration recorded: the rollout and scores as the
 * Trainer had them, the algorithm's stages 3 to 5, and (stage 6) each action's
 * log-probability under the updated policy, from one more forward pass.
 */
export async function assembleLesson(o: {
  algorithm: AlgorithmId;
  iteration: number;
  policy: Policy;
  tokenizer: Tokenizer;
  rollout: Rollout;
  scores: RewardScores;
  trainedScore: readonly number[];
  h: Hyperparameters;
  beta: number;
  record: AlgorithmRecorder;
}): Promise<TextLesson> {
  const { rollout, h, record } = o;
  const { N, lengths, width, start } = rollout;
  const B = lengths.length;
  if (!record.rewards || !record.advantages) throw new Error(`${o.algorithm} recorded no advantages for the lesson`);
  const after = tf.tidy(() => evaluateActions(o.policy, tf.tensor2d(rollout.tokens, [B, width], 'int32'), start, N, h.temperature, h.topK, rollout.pad, { tokens: rollout.tokens, lengths }).logprob);
  const afterData = (await after.data()) as Float32Array;
  after.dispose();
  const tokenText = Array.from(lengths, (n, b) => Array.from(rollout.tokens.subarray(b * width + start, b * width + start + n), (id) => o.tokenizer.label(id)));
  return {
    kind: 'text',
    algorithm: o.algorithm,
    iteration: o.iteration,
    B,
    N,
    lengths: Int32Array.from(lengths),
    sequences: { tokens: rollout.tokens, width, start, pad: rollout.pad },
    prompts: rollout.samples.map((s) => s.prompt),
    texts: rollout.samples.map((s) => s.text),
    tokenText,
    logprobs: rollout.logprobs,
    refLogprobs: rollout.refLogprobs,
    components: o.scores.components.map((c) => ({ name: c.name, values: [...c.values] })),
    total: [...o.scores.total],
    trainedScore: [...o.trainedScore],
    settings: {
      beta: o.beta,
      gamma: h.gamma,
      lambda: h.gaeLambda,
      whiten: h.whitenAdvantages,
      clipRange: h.clipRange,
      maxGradNorm: h.maxGradNorm,
      groupSize: o.algorithm === 'ppo' ? 1 : h.groupSize,
      epochs: h.epochs,
      minibatches: h.minibatches,
      grpoScale: h.grpoScale,
      grpoLossType: h.grpoLossType,
      maxLength: h.maxLength,
      rlooKl: h.rlooKl,
      rlooNormalize: h.rlooNormalizeAdvantages,
      temperature: h.temperature,
    },
    rewards: record.rewards,
    advantages: record.advantages,
    steps: record.update.steps,
    lastLogprobs: record.update.lastLogprobs,
    after: afterData,
  };
}

/** Each taken action's log-probability under the (updated) actor, for a control lesson's last stage. */
export async function controlLogprobsAfter(policy: ActorCritic, obs: Float32Array, actions: Int32Array, O: number): Promise<Float32Array> {
  const N = actions.length;
  const t = tf.tidy(() => {
    const logp = tf.logSoftmax(policy.forward(tf.tensor2d(obs, [N, O])).logits);
    return tf.sum(tf.mul(logp, tf.oneHot(tf.tensor1d(actions, 'int32'), logp.shape[1]!)), 1);
  });
  const out = (await t.data()) as Float32Array;
  t.dispose();
  return out;
}
