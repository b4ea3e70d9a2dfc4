import type { AlgorithmId } from '../../core/algorithms/catalog.ts';
import type { LessonStageId } from '../../core/algorithms/lesson.ts';
import { SOURCES, type SourceFile } from './lessonSource.ts';

/** Where a stage's code lives: a file of the engine and the lines from `from` (a text on the first line) to `to` (a text on the last), or to the end of the block `from` opens. */
export interface SourceRef {
  file: SourceFile;
  from: string;
  to?: string;
}

export interface StageText {
  title: string;
  /** The formula, in TeX (typeset by KaTeX). */
  tex: string;
  /** What the stage does, in two or three sentences. */
  says: string;
  /** A question to put to the class before Next. */
  ask: string;
  source: SourceRef[];
}

const UPDATE_STEP: SourceRef = { file: 'minibatch.ts', from: 'export function clippedStep' };

const COMMON: Record<'rollout' | 'score' | 'result', StageText> = {
  rollout: {
    title: 'Rollout: the policy writes',
    tex: String.raw`y_t \sim \pi_\theta(\,\cdot \mid x, y_{<t}), \qquad \log \pi_\theta(y \mid x) = \sum_{t} \log \pi_\theta(y_t \mid x, y_{<t})`,
    says: 'The policy samples each completion one token at a time. Each token shows the probability the policy gave it when it was drawn; a forward pass gives the frozen reference policy\'s log-probability, which the KL to the reference is made of.',
    ask: 'Which tokens was the policy sure of, and where did it hesitate?',
    source: [
      { file: 'rollout.ts', from: 'const gen = await sample(', to: 'const N = Math' },
      { file: 'rollout.ts', from: 'const out = tf.tidy(', to: 'return cur ?' },
    ],
  },
  score: {
    title: 'Score: the reward functions judge',
    tex: String.raw`R(y) = \sum_k w_k \, r_k(y)`,
    says: 'Each reward component scores the whole completion (your code, run in the sandbox), and the total is their weighted sum. This number is all the algorithm learns from: it never sees the code.',
    ask: 'Which of these completions should become more likely?',
    source: [
      { file: 'trainer.ts', from: '// 2. Score:', to: 'scores = await this.#reward.score' },
      { file: 'trainer.ts', from: '#shapeScores(raw: readonly number[]' },
    ],
  },
  result: {
    title: 'Result: what the update changed',
    tex: String.raw`\Delta \log \pi(y_t) = \log \pi_{\theta_{\text{new}}}(y_t \mid \cdot) - \log \pi_{\theta_{\text{old}}}(y_t \mid \cdot)`,
    says: 'The same completions, scored again by the updated policy. Completions with a positive advantage should have become more likely and those with a negative one less likely; the clip and the KL term keep every change small.',
    ask: 'Did the completions the reward liked become more likely? By how much?',
    source: [UPDATE_STEP],
  },
};

const BY_ALGORITHM: Record<AlgorithmId, Record<'rewards' | 'advantages' | 'update', StageText>> = {
  ppo: {
    rewards: {
      title: 'Per-token rewards: the score and the KL leash',
      tex: String.raw`r_t = -\beta \left(\log \pi_\theta(y_t) - \log \pi_{\text{ref}}(y_t)\right) + [\,t = T\,]\, R(y)`,
      says: 'PPO turns one score into a reward per token: every token pays beta times how much likelier the policy finds it than the reference does, and the last token also gets the score. The KL penalty is the leash that keeps the policy near what it was pretrained to write.',
      ask: 'What happens to a completion the reference finds unlikely, even if it scores well?',
      source: [{ file: 'ppo.ts', from: 'export function perTokenRewards' }],
    },
    advantages: {
      title: "Advantages: better or worse than the critic expected",
      tex: String.raw`\delta_t = r_t + \gamma V(s_{t+1}) - V(s_t), \qquad \hat A_t = \delta_t + \gamma\lambda \hat A_{t+1}, \qquad \tilde A_t = \frac{\hat A_t - \mu_{\hat A}}{\sigma_{\hat A}}`,
      says: "The value head (the critic) guesses, before each token, the return still to come. GAE sums how much better each step went than that guess; whitening over the batch gives the advantages the update trains on.",
      ask: 'Why subtract what the critic expected instead of using the score itself?',
      source: [
        { file: 'ppo.ts', from: 'export function computeGae' },
        { file: 'ppo.ts', from: 'const b_advantages_all' },
      ],
    },
    update: {
      title: 'Update: the clipped surrogate',
      tex: String.raw`\rho_t = \frac{\pi_\theta(y_t)}{\pi_{\theta_{\text{old}}}(y_t)}, \qquad L = -\frac{1}{n}\sum_{i,t} \min\!\left(\rho_t \tilde A_t,\ \operatorname{clip}(\rho_t, 1-\epsilon, 1+\epsilon)\, \tilde A_t\right), \qquad g \leftarrow g \cdot \min\!\left(1, \frac{c}{\lVert g \rVert}\right)`,
      says: 'Several epochs of minibatch steps (the loss is a mean over the n tokens of the minibatch) push up tokens with a positive advantage and down those with a negative one. Once a token\'s probability ratio has moved past 1 ± epsilon in the direction its advantage pushes, its term is clipped and gives no gradient; each step\'s gradient is scaled down when its norm exceeds the limit.',
      ask: 'Why stop pushing a token once its ratio leaves the clip range?',
      source: [{ file: 'ppo.ts', from: 'export function clippedSurrogate' }, UPDATE_STEP],
    },
  },
  grpo: {
    rewards: {
      title: 'The group and its baseline',
      tex: String.raw`\bar R_g = \frac{1}{G}\sum_{i=1}^{G} R_i, \qquad \sigma_g = \sqrt{\frac{1}{G-1}\sum_{i=1}^{G} (R_i - \bar R_g)^2}`,
      says: 'GRPO samples G completions of the same prompt (a group) and needs no critic: the group\'s mean score is the baseline every member is compared with.',
      ask: 'What does the update learn from a group whose members all score the same?',
      source: [{ file: 'grpo.ts', from: 'export function groupBaselines' }],
    },
    advantages: {
      title: 'Advantages: each completion against its group',
      tex: String.raw`\hat A_i = \frac{R_i - \bar R_g}{\sigma + 10^{-4}}`,
      says: "A completion's advantage is how far its score sits above or below its group's mean, in units of the spread (the group's, the batch's or none, as set). Every token of the completion shares it.",
      ask: 'Which completion of the group will the update favour most?',
      source: [{ file: 'grpo.ts', from: 'export function groupAdvantages' }],
    },
    update: {
      title: 'Update: a clipped surrogate per token, and the KL in the loss',
      tex: String.raw`L = -\frac{1}{n}\sum_{i,t} \left[\min\!\left(\rho_t \hat A_i,\ \operatorname{clip}(\rho_t, 1-\epsilon, 1+\epsilon)\hat A_i\right) - \beta\, \mathrm{KL}_{k3}\!\left(\pi_\theta \Vert \pi_{\text{ref}}\right)_t\right]`,
      says: "As PPO's clipped surrogate, with the completion's advantage on every token; the KL to the reference is not in the reward but in the loss, as the k3 estimate with weight beta. What n counts follows the loss type set (dapo: the batch's tokens per step).",
      ask: 'Where does GRPO keep its leash to the reference, compared with PPO?',
      source: [{ file: 'grpo.ts', from: 'export function grpoLoss' }, UPDATE_STEP],
    },
  },
  rloo: {
    rewards: {
      title: 'Rewards with the KL, and the leave-one-out baseline',
      tex: String.raw`R'_i = R_i - \beta\, \mathrm{KL}_i, \qquad b_i = \frac{1}{G-1}\sum_{j \ne i} R'_j`,
      says: "RLOO subtracts the completion's KL to the reference from its score (per token times the batch's mean length, or summed, as set), then compares each completion with the mean of the other G - 1 of its group: a baseline that does not include itself.",
      ask: 'Why leave the completion itself out of its own baseline?',
      source: [
        { file: 'rloo.ts', from: 'export function penalisedKl' },
        { file: 'rloo.ts', from: 'export function rlooAdvantages', to: 'advantages[b] = rewards[b] - baseline[b]' },
      ],
    },
    advantages: {
      title: 'Advantages: above or below the others',
      tex: String.raw`\hat A_i = R'_i - b_i`,
      says: 'The advantage is the reward minus the leave-one-out baseline (normalised over the batch when that setting is on). It belongs to the whole completion.',
      ask: 'The advantages of a group sum to zero: why?',
      source: [{ file: 'rloo.ts', from: 'export function rlooAdvantages' }],
    },
    update: {
      title: 'Update: the clipped surrogate on whole completions',
      tex: String.raw`\rho_i = \exp\!\left(\sum_t \log \pi_\theta(y_t) - \sum_t \log \pi_{\theta_{\text{old}}}(y_t)\right), \qquad L = -\frac{1}{B}\sum_i \min\!\left(\rho_i \hat A_i,\ \operatorname{clip}(\rho_i, 1-\epsilon, 1+\epsilon)\hat A_i\right)`,
      says: "RLOO's ratio is that of the whole completion, not of each token: the clip stops a completion's push once its probability has moved past 1 ± epsilon in the advantage's direction.",
      ask: 'What does one ratio per completion lose compared with one per token?',
      source: [{ file: 'rloo.ts', from: 'export function rlooLoss' }, UPDATE_STEP],
    },
  },
};

/** PPO on a control task (CartPole): transitions instead of tokens, GAE along each cart's episodes. */
const CONTROL: Record<LessonStageId, StageText> = {
  rollout: {
    title: 'Rollout: the policy acts',
    tex: String.raw`a_t \sim \pi_\theta(\,\cdot \mid s_t), \qquad s_{t+1} = \text{env}(s_t, a_t)`,
    says: 'Several carts run side by side, each for the same number of steps; a cart whose pole falls starts a new episode at once. The table follows one cart: what it saw, the push the policy chose, and the probability it gave that push.',
    ask: 'Early in training the policy pushes almost at random: how long will the pole stay up?',
    source: [{ file: 'control.ts', from: '// 1. Rollout:', to: 'const t1 = performance.now()' }],
  },
  score: {
    title: 'Score: your reward for every step',
    tex: String.raw`r_t = \sum_k w_k \, r_k(s_t, a_t, s_{t+1})`,
    says: 'Your reward code scores every transition (one sandbox batch for all of them): here the reward is per step, not per episode.',
    ask: 'Which steps does this reward like best?',
    source: [{ file: 'control.ts', from: '// 2. Score every transition', to: 'const rewards = Float32Array.from' }],
  },
  rewards: {
    title: 'Rewards add up over an episode',
    tex: String.raw`G_t = \sum_{k \ge 0} \gamma^k \, r_{t+k} \quad \text{until the episode ends}`,
    says: "What the policy should maximise is the return: the rewards still to come, discounted by gamma each step, up to the end of the episode (where “done” is marked). An episode that has not ended yet is continued by the critic's guess.",
    ask: 'Why discount rewards that come later?',
    source: [{ file: 'control.ts', from: '// Episodes: returns summed along each lane', to: 'lanes.forEach((l, e) => (l.return' }],
  },
  advantages: {
    title: "GAE along the episode, with the critic's values",
    tex: String.raw`\delta_t = r_t + \gamma V(s_{t+1})(1 - d_t) - V(s_t), \qquad \hat A_t = \delta_t + \gamma\lambda (1 - d_t)\hat A_{t+1}, \qquad R_t = \hat A_t + V(s_t)`,
    says: "The critic guesses each state's return V(s). A step's advantage sums how much better the following steps went than those guesses; at an episode's end (d = 1) nothing from the next episode leaks back. R is what the critic learns to predict next.",
    ask: 'Which states does the critic think are dangerous?',
    source: [{ file: 'ppo.ts', from: 'export function computeLaneGae' }],
  },
  update: {
    title: 'Update: the clipped surrogate and the critic',
    tex: String.raw`L = -\frac{1}{n}\sum_t \min\!\left(\rho_t \tilde A_t,\ \operatorname{clip}(\rho_t, 1-\epsilon, 1+\epsilon)\tilde A_t\right) + c_V\, L^{V} - c_H\, H, \qquad \rho_t = \frac{\pi_\theta(a_t \mid s_t)}{\pi_{\theta_{\text{old}}}(a_t \mid s_t)}`,
    says: "Epochs of shuffled minibatches: each whitens its advantages (when that setting is on), pushes up pushes that went better than expected and down those that went worse, fits the critic to R, and keeps some randomness (the entropy bonus). A push whose ratio left 1 ± epsilon in its advantage's direction is clipped.",
    ask: 'Why whiten the advantages inside each minibatch?',
    source: [{ file: 'control.ts', from: 'const { value: loss, grads } = tf.variableGrads', to: 'return tf.add(tf.sub(pg' }, UPDATE_STEP],
  },
  result: {
    title: 'Result: the same pushes, after the update',
    tex: String.raw`\pi_{\theta_{\text{new}}}(a_t \mid s_t) \ \text{vs}\ \pi_{\theta_{\text{old}}}(a_t \mid s_t)`,
    says: 'The probability of each push the cart made, before and after the update: pushes with a positive advantage should now be likelier in the same state.',
    ask: 'Did the pushes that kept the pole up become more likely?',
    source: [UPDATE_STEP],
  },
};

export function stageText(algorithm: AlgorithmId, stage: LessonStageId, control = false): StageText {
  if (control) return CONTROL[stage];
  return stage === 'rollout' || stage === 'score' || stage === 'result' ? COMMON[stage] : BY_ALGORITHM[algorithm][stage];
}

/** Every stage text of every algorithm (the tests check each one's source is found). */
export function allStageTexts(): StageText[] {
  return [...Object.values(COMMON), ...Object.values(BY_ALGORITHM).flatMap((a) => Object.values(a)), ...Object.values(CONTROL)];
}

export { SOURCES };
