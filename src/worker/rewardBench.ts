import { sourceReward } from '../core/reward.ts';
import { rewardHelpers } from '../core/rewardHelpers.ts';
import { getTask, taskTokenizer } from '../core/tasks.ts';
import type { RewardBenchApi, Result } from './protocol.ts';

/** Scores texts under draft reward code, as training would score them: same samples, same checks. */
export class RewardBench implements RewardBenchApi {
  async score(source: string, taskId: string, texts: string[], iteration: number): Promise<Result<number[]>> {
    try {
      const task = getTask(taskId);
      const tokenizer = taskTokenizer(task);
      const reward = sourceReward(source);
      const samples = texts.map((text, index) => ({ text, tokens: tokenizer.encode(text), prompt: '', index }));
      const scores = await reward.score(samples, { iteration, task: task.id, helpers: rewardHelpers });
      return { ok: true, value: scores.total };
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : String(err) };
    }
  }
}
