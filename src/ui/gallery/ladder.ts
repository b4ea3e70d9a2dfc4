import { defaultExperiment, validateExperiment, type Experiment } from '../../core/experiment/experiment.ts';
import type { Hyperparameters } from '../../core/hyperparameters.ts';
import type { RewardSpec } from '../../core/reward/sandbox/types.ts';
import { reward } from '../../core/tasks/rewardSource.ts';
import { DEFAULT_LEARN, PERSON_EVERY } from '../../core/training/learntReward.ts';

/**
 * The feedback ladder on names: the same wish (names rich in vowels that a
 * person can still say) given as a person's labels (RLHF), as a model's or a
 * judge's labels (RLAIF), or computed by a rule (RLCF).
 */
export type Rung = 'person' | 'model' | 'judge' | 'rule';

/** The rule a judge labels with, and the RLCF rung trains on directly. */
export const NAMES_JUDGE = reward(
  '// Vowel-rich names that can still be said: the share of vowels, less half a',
  '// point for every run of three vowels or three consonants in a row.',
  'const t = sample.text;',
  'if (t.length === 0) return 0;',
  'const runs = (t.match(/[aeiouy]{3,}|[^aeiouy]{3,}/g) ?? []).length;',
  'return helpers.vowels(t) / t.length - 0.5 * runs;',
);

const NOT_RUN = (who: string) => reward(`// Learnt from ${who}: this code is not run.`, '// The reward model in the panel beside the charts scores each name.', 'return 0;');

export const RUNGS: readonly { rung: Exclude<Rung, 'judge'>; title: string; says: string }[] = [
  { rung: 'person', title: 'You label (RLHF)', says: 'You choose the better of two names, 1 or 2; a reward model learns your choices and trains the policy. Human feedback.' },
  { rung: 'model', title: 'A model judges (RLAIF)', says: "The names transformer judges the MLP's names by how likely it finds them; a reward model learns its labels. AI feedback: a model's judgement is just another learned function." },
  { rung: 'rule', title: 'A rule scores (RLCF)', says: 'A function scores every name directly. No reward model is learnt, so there is none to fool: the reward is the rule itself. Computed feedback.' },
];

function rewardOf(rung: Rung): RewardSpec {
  switch (rung) {
    case 'person':
      return { name: 'you', weight: 1, source: NOT_RUN('your labels'), learn: { ...DEFAULT_LEARN, from: 'person', every: PERSON_EVERY } };
    case 'model':
      return { name: 'likely', weight: 1, source: NOT_RUN("the transformer's labels"), learn: { ...DEFAULT_LEARN, from: 'model' } };
    case 'judge':
      return { name: 'rm', weight: 1, source: NAMES_JUDGE, learn: { ...DEFAULT_LEARN, from: 'judge' } };
    case 'rule':
      return { name: 'rule', weight: 1, source: NAMES_JUDGE };
  }
}

/** A rung of the ladder on names (MLP, PPO), with optional settings and a stop. */
export function ladderExperiment(rung: Rung, o: { h?: Partial<Hyperparameters>; stopAt?: number } = {}): Experiment {
  const base = defaultExperiment('names', 'mlp', 'ppo');
  return validateExperiment({ ...base, rewards: [rewardOf(rung)], hyperparameters: { ...base.hyperparameters, ...o.h }, pace: { speed: 0, stopAt: o.stopAt ?? 0 } });
}
