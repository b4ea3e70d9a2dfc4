import * as v from 'valibot';
import { ExperimentError, pathOf, validateExperiment, type Experiment } from './experiment.ts';
import type { IterationMetrics } from '../training/metrics.ts';

/**
 * The exported experiment file: the experiment (through its one schema) and the
 * metric history of the run that used it. A bare experiment is read as well, so
 * a hand-written file works in the CLI and in Import.
 */
export const RUN_FILE_FORMAT = 'rlcf-run';
/** Most iterations of history a file may carry. */
export const MAX_HISTORY = 100_000;

export interface RunFile {
  format: typeof RUN_FILE_FORMAT;
  name: string;
  exportedAt: string;
  experiment: Experiment;
  metrics: IterationMetrics[];
}

/** A metric: a number, or null where JSON wrote a NaN (a CartPole iteration in which no episode ended). */
const metricNumber = v.nullable(v.number('must be a number'));
/**
 * One iteration's metrics. Every field has a type and a size; fields a metric row
 * does not have are dropped, so nothing from a file (a field nested 100,000 deep,
 * say) reaches a saved run, where storing it would fail.
 */
const MetricSchema = v.object(
  {
    iteration: v.pipe(v.number(), v.integer(), v.minValue(1)),
    rewardMean: metricNumber,
    kl: metricNumber,
    ...Object.fromEntries(
      (['rewardStd', 'rewardMin', 'rewardMax', 'entropy', 'policyLoss', 'valueLoss', 'clipFrac', 'approxKl', 'valueClipFrac', 'explainedVariance', 'equalGroupFrac', 'klCoef', 'klTarget', 'sampleLength', 'episodes', 'rolloutMs', 'scoringMs', 'rewardMs', 'updateMs', 'totalMs', 'tokensPerSecond', 'distinctShare'] as const).map((k) => [k, v.optional(metricNumber)]),
    ),
    rewardComponents: v.optional(v.pipe(v.record(v.pipe(v.string(), v.maxLength(100)), metricNumber), v.check((r) => Object.keys(r).length <= 64, 'has more than 64 components')), {}),
    alarms: v.optional(v.pipe(v.array(v.pipe(v.string('must be text'), v.maxLength(2000, 'must be at most 2000 characters'))), v.maxLength(20, 'must have at most 20 alarms')), []),
    runaway: v.optional(v.boolean()),
  },
  'must be an object with iteration, rewardMean and kl',
);
const RunFileSchema = v.strictObject(
  {
    format: v.literal(RUN_FILE_FORMAT),
    name: v.pipe(v.string(), v.maxLength(200)),
    exportedAt: v.pipe(v.string(), v.maxLength(100)),
    experiment: v.unknown(),
    metrics: v.pipe(v.array(MetricSchema, 'must be a list of iterations'), v.maxLength(MAX_HISTORY)),
  },
  (i) => (i.expected === 'never' ? 'is not a field of a run file' : 'a run file must be an object'),
);

export function runFile(name: string, experiment: Experiment, metrics: IterationMetrics[]): RunFile {
  return { format: RUN_FILE_FORMAT, name, exportedAt: new Date().toISOString(), experiment, metrics };
}

/**
 * Reads an exported run file or a bare experiment (any version). Throws an Error
 * that names the file's problem: not JSON, a field of the run file, or the
 * experiment's field (from the schema).
 */
export function readExperimentFile(text: string): { experiment: Experiment; metrics: IterationMetrics[]; name: string | null } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`not a JSON file (${(e as Error).message})`);
  }
  if (typeof json === 'object' && json !== null && (json as { format?: unknown }).format !== undefined) {
    // A history past the limit is refused before a million rows are checked one by one.
    const rows = (json as { metrics?: unknown }).metrics;
    if (Array.isArray(rows) && rows.length > MAX_HISTORY) throw new Error(`run file: metrics has ${rows.length} iterations; at most ${MAX_HISTORY} are read`);
    const r = v.safeParse(RunFileSchema, json);
    if (!r.success) {
      const issue = r.issues[0];
      const path = pathOf(issue);
      throw new Error(`run file: ${path ? `${path} ` : ''}${issue.message}`);
    }
    const metrics = r.output.metrics as unknown as IterationMetrics[];
    metrics.forEach((m, i) => {
      if (m.iteration !== i + 1) throw new Error(`run file: metrics[${i}] is iteration ${m.iteration}, expected ${i + 1}`);
    });
    return { experiment: validateExperiment(r.output.experiment), metrics, name: r.output.name };
  }
  if (typeof json === 'object' && json !== null && 'iterations' in json && !('rewards' in json)) {
    throw new ExperimentError('', 'this file is a CLI result (--json), not an experiment: export the experiment from the app, or write one');
  }
  return { experiment: validateExperiment(json), metrics: [], name: null };
}
