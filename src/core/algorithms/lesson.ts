import type { AlgorithmId } from './catalog.ts';

/**
 * One iteration's intermediate numbers, captured where the trainer computes
 * them (the Trainer, the algorithm's file and the minibatch update write into
 * it when asked): what lesson mode and the per-token view show. Nothing here is
 * recomputed for display. Plain data (typed arrays and numbers): it crosses
 * from the worker to the page by structured clone.
 *
 * Layout as in masked.ts: per-action arrays are [B * N], row-major, with
 * `lengths[b]` real actions in row b.
 */

export type LessonStageId = 'rollout' | 'score' | 'rewards' | 'advantages' | 'update' | 'result';
export const LESSON_STAGES: readonly LessonStageId[] = ['rollout', 'score', 'rewards', 'advantages', 'update', 'result'];

/** One minibatch step of the update: its rows, its loss and the gradient's global norm before and after the clip. */
export interface LessonStep {
  epoch: number;
  minibatch: number;
  rows: number[];
  loss: number;
  /** The algorithm's named parts of the loss at this step (pg_loss, v_loss, ...; GRPO and RLOO: loss, the surrogate without the entropy bonus). */
  diagnostics: Record<string, number>;
  gradNorm: number;
  clippedNorm: number;
}

/** The settings an iteration's maths used (the coefficient in force where it adapts). */
export interface LessonSettings {
  beta: number;
  gamma: number;
  lambda: number;
  whiten: boolean;
  clipRange: number;
  maxGradNorm: number;
  groupSize: number;
  epochs: number;
  minibatches: number;
  grpoScale: 'group' | 'batch' | 'none';
  grpoLossType: 'grpo' | 'bnpo' | 'dr_grpo' | 'dapo';
  maxLength: number;
  rlooKl: 'sum' | 'mean';
  rlooNormalize: boolean;
  temperature: number;
}

/** Stage 3 for PPO: the per-token rewards (-beta * KL on every token, the score added on the last). */
export interface PpoRewards {
  kind: 'ppo';
  rewards: Float32Array;
}

/** Stage 3 for GRPO: each completion's group statistics (its group's mean and the divisor its advantage used). */
export interface GrpoRewards {
  kind: 'grpo';
  groupMean: Float64Array;
  divisor: Float64Array;
}

/** Stage 3 for RLOO: the KL the penalty counted, the reward (score - beta * KL) and the leave-one-out baseline. */
export interface RlooRewards {
  kind: 'rloo';
  penalisedKl: Float64Array;
  rewards: Float64Array;
  baseline: Float64Array;
}

/** Stage 4: advantages per token (PPO: GAE, then whitened) or per completion (GRPO, RLOO), with what they came from. */
export interface LessonAdvantages {
  /** PPO: the values the GAE used (after the value head's warm-up on iteration 1), [B * N]. */
  values?: Float32Array;
  /** PPO: GAE advantages [B * N] and returns; GRPO, RLOO: one per completion [B] (RLOO's after its optional normalisation). */
  raw: Float32Array;
  returns?: Float32Array;
  /** What the update trained on: PPO's whitened advantages (or `raw` when not whitened); GRPO, RLOO: `raw`. */
  trained: Float32Array;
  /** PPO, when whitened: the batch's mean and 1 / std that whitening applied. */
  whitened?: { mean: number; inv: number };
}

export interface TextLesson {
  kind: 'text';
  algorithm: AlgorithmId;
  /** The iteration this capture is (the run's count after it). */
  iteration: number;
  B: number;
  N: number;
  lengths: Int32Array;
  prompts: string[];
  texts: string[];
  /** The sampled sequences as the policy read them: token ids [B, width], the first action's column, each row's left padding. */
  sequences: { tokens: Int32Array; width: number; start: number; pad: Int32Array };
  /** Each completion's tokens as text, one string per action. */
  tokenText: string[][];
  /** Stage 1: log-probabilities of the sampled tokens under the policy that sampled and under the reference, [B * N]. */
  logprobs: Float32Array;
  refLogprobs: Float32Array;
  /** Stage 2: each component's value and the weighted total (raw), and the score the algorithm trained on (normalised and clipped when asked). */
  components: { name: string; values: number[] }[];
  total: number[];
  trainedScore: number[];
  settings: LessonSettings;
  /** Stage 3. */
  rewards: PpoRewards | GrpoRewards | RlooRewards;
  /** Stage 4. */
  advantages: LessonAdvantages;
  /** Stage 5: every minibatch step, and each action's log-probability at its row's last step (before that step's update), [B * N]. */
  steps: LessonStep[];
  lastLogprobs: Float32Array;
  /** Stage 6: each action's log-probability under the updated policy, [B * N]. */
  after: Float32Array;
}

/** What the update stage fills in while it runs (minibatch.ts). */
export interface UpdateRecorder {
  N: number;
  steps: LessonStep[];
  lastLogprobs: Float32Array;
}

/** The parts of a lesson an algorithm writes (stages 3 and 4) and the update's recorder. */
export interface AlgorithmRecorder {
  rewards?: TextLesson['rewards'];
  advantages?: LessonAdvantages;
  settingsBeta?: number;
  update: UpdateRecorder;
}

export function updateRecorder(B: number, N: number): UpdateRecorder {
  return { N, steps: [], lastLogprobs: new Float32Array(B * N) };
}

/**
 * Which actions' clipped term is the one in force at the last step: where the
 * ratio left [1 - eps, 1 + eps] in the direction the advantage pushes, the
 * gradient of min(r A, clip(r) A) is zero: the update stopped pushing there.
 */
export function clippedAction(ratio: number, advantage: number, eps: number): boolean {
  return (advantage > 0 && ratio > 1 + eps) || (advantage < 0 && ratio < 1 - eps);
}

/**
 * One iteration of PPO on a control task (training/control.ts): E environments
 * run side by side for T steps, index i = t * E + e. Every array is [N = T * E]
 * unless said; observations are [N * O].
 */
export interface ControlLesson {
  kind: 'control';
  algorithm: 'ppo';
  iteration: number;
  T: number;
  E: number;
  observationNames: string[];
  actionNames: string[];
  /** Stage 1: each transition's state, the action taken and its log-probability under the policy that acted. */
  observations: Float32Array;
  actions: Int32Array;
  logprobs: Float32Array;
  /** 1 where the step ended its episode. */
  dones: Float32Array;
  /** Stage 2: each component's value and the weighted total. */
  components: { name: string; values: number[] }[];
  rewards: Float32Array;
  /** Stage 4: the critic's values, the value of each lane's state after its last step (the bootstrap), GAE and returns. */
  values: Float32Array;
  lastValues: number[];
  advantages: Float32Array;
  returns: Float32Array;
  settings: Pick<LessonSettings, 'gamma' | 'lambda' | 'whiten' | 'clipRange' | 'maxGradNorm' | 'epochs' | 'minibatches'>;
  /** Stage 5: the steps, and each transition's log-probability and (minibatch-whitened) advantage at its last step. */
  steps: LessonStep[];
  lastLogprobs: Float32Array;
  lastAdvantages: Float32Array;
  /** Stage 6: each taken action's log-probability under the updated policy. */
  after: Float32Array;
}

export type IterationLesson = TextLesson | ControlLesson;
