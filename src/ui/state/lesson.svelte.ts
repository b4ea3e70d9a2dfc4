import { LESSON_STAGES, type IterationLesson, type LessonStageId, type TextLesson } from '../../core/algorithms/lesson.ts';

/** What the per-token view colours tokens by. */
export type TokenQuantity = 'advantage' | 'kl' | 'value' | 'change';
export const TOKEN_QUANTITIES: readonly { id: TokenQuantity; title: string; ppoOnly?: boolean }[] = [
  { id: 'advantage', title: 'advantage (what the update trained on)' },
  { id: 'kl', title: 'KL to the reference (log p - log p_ref)' },
  { id: 'value', title: "value (the critic's guess of the return)", ppoOnly: true },
  { id: 'change', title: 'change in log-probability after the update' },
];

/** How many samples a stage shows: a handful for PPO, the first group for GRPO and RLOO (up to 8). */
export function shownSamples(lesson: TextLesson): number[] {
  const n = lesson.algorithm === 'ppo' ? 4 : Math.min(lesson.settings.groupSize, 8);
  return [...Array(Math.min(n, lesson.B)).keys()];
}

/**
 * Lesson mode: Step captures the iteration it runs (the trainer's own numbers,
 * lesson.ts), and the walk shows it stage by stage. Next past the last stage
 * asks for the next iteration; nothing else moves the run while walking. The
 * last capture also feeds the per-token view of its batch's samples.
 */
export class Lesson {
  on = $state(false);
  capture = $state.raw<IterationLesson | null>(null);
  /** The reward components' weights when the capture was made (its scores were weighted by these). */
  weights = $state.raw<Record<string, number>>({});
  stage = $state(0);
  /** The sample the per-token view shows (its index in the batch), or null when closed. */
  tokenSample = $state<number | null>(null);
  quantity = $state<TokenQuantity>('advantage');

  get stageId(): LessonStageId {
    return LESSON_STAGES[this.stage];
  }

  /** A new capture (after a Step): the walk starts at its first stage. */
  take(capture: IterationLesson | null, weights: Record<string, number> = {}): void {
    this.capture = capture;
    this.weights = weights;
    this.stage = 0;
    if (capture?.kind !== 'text' || (this.tokenSample !== null && this.tokenSample >= capture.B)) this.tokenSample = null;
    if (capture?.kind === 'text' && capture.algorithm !== 'ppo' && this.quantity === 'value') this.quantity = 'advantage';
  }

  /** The next stage; false at the last one (the caller then runs the next iteration). */
  next(): boolean {
    if (this.stage >= LESSON_STAGES.length - 1) return false;
    this.stage++;
    return true;
  }

  back(): void {
    if (this.stage > 0) this.stage--;
  }

  /** The run went back to iteration 0 or to another experiment: nothing captured applies. */
  clear(): void {
    this.take(null);
  }
}

/** A token's numbers in the per-token view, from a capture: every quantity, NaN where it does not apply. */
export function tokenNumbers(L: TextLesson, b: number, t: number): Record<TokenQuantity, number> & { logprob: number; refLogprob: number; after: number } {
  const i = b * L.N + t;
  const ppo = L.algorithm === 'ppo';
  return {
    advantage: ppo ? L.advantages.trained[i] : L.advantages.trained[b],
    kl: L.logprobs[i] - L.refLogprobs[i],
    value: ppo && L.advantages.values ? L.advantages.values[i] : NaN,
    change: L.after[i] - L.logprobs[i],
    logprob: L.logprobs[i],
    refLogprob: L.refLogprobs[i],
    after: L.after[i],
  };
}
