import { defaultExperiment, type Experiment } from '../../core/experiment/experiment.ts';
import type { Hyperparameters } from '../../core/hyperparameters.ts';
import type { Arch } from '../../core/policy/policy.ts';
import type { RewardSpec } from '../../core/reward/sandbox/types.ts';
import { defaultRewards, getTask } from '../../core/tasks/index.ts';

/**
 * What the person had on the tasks they left (reward code, applied and in the
 * editor, and settings), given back when they return, so trying another task
 * never costs the code written for this one.
 */
export class TaskShelf {
  #shelved = new Map<string, { rewards: RewardSpec[]; drafts: RewardSpec[]; hyperparameters: Hyperparameters }>();

  /**
   * The experiment for `taskId` and `arch` coming from `now` (whose editor holds
   * `drafts`): the same task keeps its rewards and settings; another task shelves
   * them and takes what was shelved for it (or its defaults). `drafts` is what
   * the editor should hold next, or null to leave it.
   */
  switch(now: Experiment, drafts: RewardSpec[], taskId: string, arch: Arch): { next: Experiment; drafts: RewardSpec[] | null } {
    const next = defaultExperiment(taskId, arch, now.algorithm);
    next.seed = now.seed;
    next.pace = { ...now.pace };
    if (taskId === now.task) {
      next.rewards = now.rewards;
      next.hyperparameters = { ...now.hyperparameters };
      return { next, drafts: null };
    }
    this.#shelved.set(now.task, { rewards: now.rewards, drafts, hyperparameters: { ...now.hyperparameters } });
    const back = this.#shelved.get(taskId);
    next.rewards = back?.rewards ?? defaultRewards(getTask(taskId));
    if (back) next.hyperparameters = { ...back.hyperparameters };
    return { next, drafts: back?.drafts ?? next.rewards };
  }
}
