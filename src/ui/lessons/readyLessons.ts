import { defaultExperiment, validateExperiment, type Experiment } from '../../core/experiment/experiment.ts';
import type { AlgorithmId } from '../../core/algorithms/catalog.ts';
import type { Hyperparameters } from '../../core/hyperparameters.ts';
import { getTask } from '../../core/tasks/index.ts';
import { GOLD_EXAMPLES } from '../../core/tasks/goldExamples.ts';
import { ladderExperiment } from '../gallery/ladder.ts';

/**
 * Ready-made lessons a teacher can run as they are: each a link (?lesson=id),
 * each a few steps. A step sets up an experiment and says what to do, with a
 * question to put to the class before anyone presses Train.
 */

export interface LessonStep {
  /** What the step is, in a few words. */
  title: string;
  /** The question to ask the class first. */
  ask: string;
  /** What to do, and what to look for. */
  say: string;
  experiment: Experiment;
}

export interface ReadyLesson {
  id: string;
  title: string;
  /** Who it is for and what it shows, in a sentence. */
  summary: string;
  minutes: number;
  steps: LessonStep[];
}

/** A task's default experiment with one of its example rewards and some settings. */
function setUp(task: string, o: { example?: string; gold?: boolean; algorithm?: AlgorithmId; h?: Partial<Hyperparameters>; stopAt?: number; speed?: 0 | 4 | 1 | 0.25 }): Experiment {
  const base = defaultExperiment(task, 'mlp', o.algorithm ?? 'ppo');
  const examples = getTask(task).examples;
  if (o.example && !examples[o.example]) throw new Error(`task ${task} has no example reward "${o.example}"`);
  return validateExperiment({
    ...base,
    rewards: o.gold ? GOLD_EXAMPLES[task].rewards.map((r) => ({ ...r })) : o.example ? [{ name: 'reward', weight: 1, source: examples[o.example].source }] : base.rewards,
    hyperparameters: { ...base.hyperparameters, ...o.h },
    pace: { speed: o.speed ?? 0, stopAt: o.stopAt ?? 0 },
  });
}

export const READY_LESSONS: readonly ReadyLesson[] = [
  {
    id: 'reward-hacking',
    title: 'Reward hacking and the KL leash',
    summary: 'Names get longer, then shorter until the policy finds a loophole and the alarm fires; a stronger KL leash keeps it honest.',
    minutes: 10,
    steps: [
      {
        title: 'Longer names',
        ask: 'The reward is the length of the name. What will happen to the names?',
        say: 'Press Train: it stops by itself at iteration 40. Watch the reward curve climb and read the samples: still names?',
        experiment: setUp('names', { example: 'length', stopAt: 40 }),
      },
      {
        title: 'Shorter names, a loose leash',
        ask: 'Now shorter names score higher, and the KL penalty is almost off. What will the policy write?',
        say: 'Press Train (it stops at 60). When the collapse alarm appears beside the charts, read what it saw: names the pretrained policy would almost never write. The reward went up; the names got worse. That is reward hacking.',
        experiment: setUp('names', { example: 'short', h: { klCoef: 0.01, adaptiveKl: false, learningRate: 0.005 }, stopAt: 60 }),
      },
      {
        title: 'Shorter names, a strong leash',
        ask: 'Same reward, but each token now pays 2 nats of reward per nat of KL to the reference. Will it still find the loophole?',
        say: 'Press Train (it stops at 60). Compare the KL chart and the samples with the last step: the leash keeps the names close to real ones, at some cost in reward.',
        experiment: setUp('names', { example: 'short', h: { klCoef: 2, adaptiveKl: false, learningRate: 0.005 }, stopAt: 60 }),
      },
    ],
  },
  {
    id: 'critic-vs-group',
    title: "PPO's critic against GRPO's group",
    summary: 'The same reward trained twice: PPO judges each token against a learnt value, GRPO each name against the others written for the same prompt.',
    minutes: 10,
    steps: [
      {
        title: 'PPO, with a critic',
        ask: 'The reward is the share of vowels in a name. How quickly will it rise, and where will it level off?',
        say: 'Press Train (it stops at 40). Open "Other charts" or the full view for the value loss: the critic learning to predict the reward. The run is saved in Saved runs.',
        experiment: setUp('names', { example: 'vowels', stopAt: 40 }),
      },
      {
        title: 'GRPO, with a group',
        ask: 'GRPO has no critic: it compares 8 names written for the same prompt. Faster or slower than PPO?',
        say: 'Press Train (it stops at 40). Then, in the full view, open Saved runs and tick Compare on both runs to see the two reward curves on one chart.',
        experiment: setUp('names', { example: 'vowels', algorithm: 'grpo', stopAt: 40 }),
      },
      {
        title: 'One GRPO iteration up close',
        ask: 'In a group where every name scores the same, what does GRPO learn?',
        say: 'Press Lesson, then Step: walk through one GRPO iteration stage by stage, and look at the group and its baseline in stage 3.',
        experiment: setUp('names', { example: 'vowels', algorithm: 'grpo' }),
      },
    ],
  },
  {
    id: 'proxy-gold',
    title: 'Proxy against gold: when the reward is not what you want',
    summary: 'A cheap reward trains while a better one is only watched: the proxy keeps rising, the gold peaks and falls, and a KL leash stops earlier.',
    minutes: 10,
    steps: [
      {
        title: 'Vowels, watched by a gold',
        ask: 'The reward is the share of vowels; a second measure, never trained on, asks whether a person could say the name. Will both rise?',
        say: 'Press Train (it stops at 60). Read the "Proxy against gold" chart: the proxy climbs to 1 while the gold rises a little, peaks, then falls. Drag the slider under the samples back to the peak and forward to the end: what changed?',
        experiment: setUp('names', { gold: true, h: { klCoef: 0.01, adaptiveKl: false }, stopAt: 60 }),
      },
      {
        title: 'The same, on a leash',
        ask: 'Now every nat of KL to the reference costs 0.5. Where will the gold end?',
        say: 'Press Train (it stops at 60) and compare the chart with the last step: less proxy, more gold. In Saved runs, tick both runs and compare the component "sayable".',
        experiment: setUp('names', { gold: true, h: { klCoef: 0.5, adaptiveKl: false }, stopAt: 60 }),
      },
      {
        title: 'Shown tests against hidden tests',
        ask: 'The policy is scored on three shown test cases of a function. Will it pass hidden cases of the same function too?',
        say: 'Press Train (it stops at 40): the gold is the hidden cases. When both rise, the expressions are right; when only the shown ones do, they are fitted to what was shown.',
        experiment: setUp('unittests', { gold: true, stopAt: 40 }),
      },
    ],
  },
  {
    id: 'feedback-ladder',
    title: 'Human, AI or computed feedback',
    summary: 'Label 30 pairs and train on a reward model of your taste; let a judge label instead and watch its reward model be over-optimised; then raise the KL coefficient.',
    minutes: 15,
    steps: [
      {
        title: 'You label (RLHF)',
        ask: 'You will choose 30 times which of two names is better. What can a reward model learn from 30 choices, and what will it miss?',
        say: 'In the panel beside the charts, choose with 1 (left), 2 (right) or 0 (a tie) until 30 labels: the reward model retrains every 10 and shows its held-out accuracy. Then press Train (it stops at 30) and read the names: are they what you preferred?',
        experiment: ladderExperiment('person', { stopAt: 30 }),
      },
      {
        title: 'A judge labels, no leash (RLAIF)',
        ask: 'A rule labels 200 pairs and the reward model learns it to about 90%. With no KL penalty, will the rule\'s own score keep rising with the model\'s?',
        say: 'Press Train (it stops at 50). Read "Reward model against its judge": the proxy (the model) climbs, the gold (the rule) peaks early and falls, and the alarm above the charts says so. Drag the samples\' slider to the peak and to the end.',
        experiment: ladderExperiment('judge', { h: { klCoef: 0, adaptiveKl: false }, stopAt: 50 }),
      },
      {
        title: 'The same, on a KL leash',
        ask: 'Every nat of KL to the reference now costs 1. Where will the gold end?',
        say: 'Press Train (it stops at 50): the policy stays within about a nat of the reference; the proxy gains far less and the gold does not fall far. In Saved runs, tick both runs and compare "rm_judge".',
        experiment: ladderExperiment('judge', { h: { klCoef: 1, adaptiveKl: false }, stopAt: 50 }),
      },
      {
        title: 'The rule itself (RLCF)',
        ask: 'Now the rule trains directly: no reward model between it and the policy. What is left to over-optimise?',
        say: 'Press Train (it stops at 50). The reward is the rule, so what rises is what the rule asks for; any loophole left is in the rule itself (look at the names).',
        experiment: ladderExperiment('rule', { h: { klCoef: 0.1, adaptiveKl: false }, stopAt: 50 }),
      },
    ],
  },
  {
    id: 'not-only-language',
    title: 'Not only language',
    summary: 'The same RL loop paints pictures towards a colour, then balances a pole with a reward the class writes.',
    minutes: 12,
    steps: [
      {
        title: 'Pictures towards a colour',
        ask: 'The reward is how close a picture\'s average colour is to a target. What will the pictures look like after training?',
        say: 'Press Train (it stops at 30): the samples are pictures now, and the reward curve is the same kind of curve as for names.',
        experiment: setUp('images', { example: 'target', stopAt: 30 }),
      },
      {
        title: 'CartPole, with the class\'s reward',
        ask: 'The policy pushes a cart left or right. What reward would make it balance the pole? Take a suggestion from the class.',
        say: 'Write the class\'s reward in the editor (the examples are a start), press Apply, then Train. An episode that reaches 500 steps held the pole to the end.',
        experiment: setUp('cartpole', { stopAt: 60 }),
      },
    ],
  },
];

export function readyLesson(id: string): ReadyLesson | null {
  return READY_LESSONS.find((l) => l.id === id) ?? null;
}

/** The link that opens a lesson at its first step. */
export function lessonLink(id: string): string {
  return `${location.origin}${location.pathname}?lesson=${encodeURIComponent(id)}`;
}
