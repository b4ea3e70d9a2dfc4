import { getTask, hasTask, type Task } from '../../core/tasks/index.ts';
import type { Experiment } from '../../core/experiment/experiment.ts';

/** Longest label drawn beside a chart marker. */
const MAX_LABEL = 40;

/**
 * A short name for reward code, for the chart marker where it took effect: the
 * example's title when the code is an example, else its first comment line.
 */
export function rewardLabel(task: Pick<Task, 'examples'>, source: string): string {
  const example = Object.values(task.examples).find((e) => e.source === source);
  if (example) return example.title;
  const comment = /^\s*\/\/\s*(.+)$/m.exec(source)?.[1].trim().replace(/\.$/, '');
  if (!comment) return 'edited code';
  return comment.length > MAX_LABEL ? comment.slice(0, MAX_LABEL - 1) + '…' : comment;
}

/** What a run trains on, in a few words: its first weighted component's label (rewardLabel), and how many more components it has. */
export function trainedRewardLabel(task: Pick<Task, 'examples'>, rewards: readonly { name: string; weight: number; source: string }[]): string {
  const trained = rewards.find((r) => r.weight !== 0) ?? rewards[0];
  const more = rewards.length - 1;
  return `${rewardLabel(task, trained.source)}${more > 0 ? ` (+${more} component${more > 1 ? 's' : ''})` : ''}`;
}

/** The chart marker's label for a set of components: the one reward's name, or each with its weight. */
export function rewardsLabel(task: Task, rewards: readonly { name: string; weight: number; source: string }[]): string {
  if (rewards.length === 1) return `reward: ${rewardLabel(task, rewards[0].source)}`;
  return `rewards: ${rewards.map((r) => `${r.name} ×${r.weight}`).join(', ')}`;
}

/** A saved run's task as its list shows it: the task, or a stand-in naming the file for a corpus this browser no longer has (resuming it asks for the file). */
export function listedTask(e: Pick<Experiment, 'task' | 'corpus'>): Pick<Task, 'title' | 'examples'> {
  if (hasTask(e.task)) return getTask(e.task);
  return { title: e.corpus ? `Your corpus: ${e.corpus.name} (not in this browser)` : e.task, examples: {} };
}
