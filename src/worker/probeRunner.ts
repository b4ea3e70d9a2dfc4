import type { Experiment } from '../core/experiment/experiment.ts';
import { probeDue, probePrompts, type ProbeRound } from '../core/training/probes.ts';
import type { ControlTrainer } from '../core/training/control.ts';
import { Trainer } from '../core/training/trainer.ts';
import { getTask } from '../core/tasks/index.ts';

/**
 * A round of the experiment's probe prompts at the trainer's iteration, when
 * due (or `now`): null for a task with nothing to probe (a control task; the
 * painter, whose text is a picture). A reward that fails on a probe gives a
 * round that says so; training is not stopped by a probe.
 */
export async function probeRound(trainer: Trainer | ControlTrainer, e: Experiment, now = false): Promise<ProbeRound | null> {
  const task = getTask(e.task);
  if (!(trainer instanceof Trainer) || task.image || !(now || probeDue(e.probes, trainer.iteration))) return null;
  try {
    return { iteration: trainer.iteration, rows: await trainer.probe(probePrompts(task, e.probes), e.seed) };
  } catch (err) {
    return { iteration: trainer.iteration, rows: [], error: `the probes could not be scored: ${err instanceof Error ? err.message : String(err)}` };
  }
}

