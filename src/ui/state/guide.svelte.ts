import type { Experiment } from '../../core/experiment/experiment.ts';
import { readyLesson, type ReadyLesson } from '../lessons/readyLessons.ts';

/**
 * A ready-made lesson being followed (readyLessons.ts): which one and which
 * step. The page shows the step's question and what to do; moving to a step
 * opens its experiment (the run before stays in Saved runs).
 */
export class Guide {
  lesson = $state.raw<ReadyLesson | null>(null);
  step = $state(0);

  /** Starts a lesson by id at a step (1-based in links); the step's experiment, or why not. */
  begin(id: string, step = 1): { experiment: Experiment } | { problem: string } {
    const lesson = readyLesson(id);
    if (!lesson) return { problem: `There is no lesson "${id}" (?lesson=); the lessons are in Help, Lessons.` };
    if (!Number.isInteger(step) || step < 1 || step > lesson.steps.length) return { problem: `The lesson "${lesson.title}" has steps 1 to ${lesson.steps.length}, not ${step}.` };
    this.lesson = lesson;
    this.step = step - 1;
    return { experiment: lesson.steps[this.step].experiment };
  }

  /** The experiment of another step of the lesson, made current. */
  go(step: number): Experiment | null {
    if (!this.lesson || step < 0 || step >= this.lesson.steps.length) return null;
    this.step = step;
    return this.lesson.steps[step].experiment;
  }

  end(): void {
    this.lesson = null;
    this.step = 0;
  }
}
