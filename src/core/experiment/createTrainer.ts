import { ControlTrainer } from '../training/control.ts';
import type { Experiment } from './experiment.ts';
import type { Policy } from '../policy/policy.ts';
import type { RewardModel } from '../reward/reward.ts';
import { getTask } from '../tasks/index.ts';
import { Trainer } from '../training/trainer.ts';

/**
 * The trainer an experiment needs: a control task's, from random weights, or a
 * language task's, from its reference policy (loaded by the caller: fetched in
 * the page, read from disk in Node). The worker and the command line both make
 * theirs here.
 */
export function createTrainer(e: Experiment, reward: RewardModel, reference: Policy | null): Trainer | ControlTrainer {
  const task = getTask(e.task);
  if (task.environment) {
    reference?.dispose();
    return new ControlTrainer({ task, hyperparameters: e.hyperparameters, seed: e.seed, reward });
  }
  if (!reference) throw new Error(`task ${task.id} trains from its reference policy, and none was given`);
  return new Trainer({ task, reference, hyperparameters: e.hyperparameters, seed: e.seed, reward, algorithm: e.algorithm });
}
