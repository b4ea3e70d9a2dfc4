import type { Experiment } from '../../core/experiment/experiment.ts';
import type { RewardLog } from '../../core/reward/sandbox/types.ts';
import type { IterationMetrics } from '../../core/training/metrics.ts';
import type { ScoredSample } from '../../core/training/runState.ts';
import type { BackendReport, Status, TrainerEvent } from '../../worker/trainerApi.ts';
import type { ChartMarker } from '../metrics/markers.ts';
import type { SavedRuns } from './savedRuns.svelte.ts';
import type { RunHistory } from './history.svelte.ts';
import type { ProbeLog } from './probes.svelte.ts';
import type { Preferences } from './preferences.svelte.ts';

/** The page's run as the trainer's events change it. */
export interface RunTarget {
  status: Status;
  iteration: number;
  runError: string | null;
  requestError: string | null;
  notice: string | null;
  progress: { stage: string; fraction: number };
  backend: BackendReport | null;
  /** The reward panel's state: what the reward code printed goes there. */
  readonly reward: { logs: { source: string; logs: RewardLog[] } | null };
  metrics: IterationMetrics[];
  samples: ScoredSample[];
  readonly history: Pick<RunHistory, 'add' | 'truncate'>;
  readonly probes: Pick<ProbeLog, 'add' | 'truncate'>;
  readonly preferences: Pick<Preferences, 'event'>;
  changes: ChartMarker[];
  experiment: Experiment;
  checkpoint: { state: Blob; experiment: Experiment } | null;
  readonly runs: SavedRuns;
}

/** What one event of the trainer worker changes on the page. */
export function applyEvent(s: RunTarget, e: TrainerEvent): void {
  switch (e.type) {
    case 'progress':
      s.progress = { stage: e.stage, fraction: e.fraction };
      break;
    case 'status':
      s.status = e.status;
      s.iteration = e.iteration;
      s.runError = e.error;
      s.runs.changed(e.status !== 'training');
      break;
    case 'backend':
      s.backend = e.report;
      break;
    case 'notice':
      s.notice = e.message;
      break;
    case 'log':
      s.reward.logs = { source: `iteration ${e.iteration}`, logs: e.logs };
      break;
    case 'checkpoint': {
      // A person's labels as the page holds them: those made since the last fit are in the worker's experiment only once it refits.
      const experiment = { ...e.experiment, labels: s.experiment.labels.filter((l) => e.experiment.rewards.some((r) => r.name === l.reward && r.learn?.from === 'person')).map((l) => ({ ...l })) };
      s.checkpoint = { state: e.state, experiment };
      s.runs.checkpoint(e.iteration, e.state, experiment);
      break;
    }
    case 'probes':
      s.probes.add(e.round);
      break;
    case 'rm':
      s.preferences.event(e);
      break;
    case 'snapshot':
      s.metrics = [...s.metrics, ...e.metrics];
      s.samples = e.samples;
      s.iteration = e.iteration;
      s.history.add(e.batches);
      s.runs.changed();
      break;
  }
}

/** A new worker took over after a crash or a hang: the run goes on from where it resumed, and the page says what was lost. */
export function applyRestart(s: RunTarget, { reason, backend, experiment, resumed }: { reason: string; backend: BackendReport; experiment: Experiment; resumed: number }): void {
  s.backend = backend;
  const lost = s.iteration - resumed;
  s.metrics = s.metrics.filter((m) => m.iteration <= resumed);
  s.changes = s.changes.filter((c) => c.iteration <= resumed);
  if (lost > 0) s.samples = [];
  s.history.truncate(resumed);
  s.probes.truncate(resumed);
  s.iteration = resumed;
  s.experiment.rewards = experiment.rewards;
  s.experiment.hyperparameters = experiment.hyperparameters;
  s.requestError = null; // the calls it answers were cut short by the restart the notice explains
  s.notice =
    `The trainer ${reason}. It was restarted on ${backend.name} and continues from iteration ${resumed}` +
    (lost > 0 ? `; the ${lost} iteration${lost === 1 ? '' : 's'} after its last saved state were lost.` : ', with nothing lost.');
}
