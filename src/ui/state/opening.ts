import * as Comlink from 'comlink';
import type { Experiment } from '../../core/experiment/experiment.ts';
import { decodeExperiment, hasExperiment } from '../../core/experiment/link.ts';
import type { IterationMetrics } from '../../core/training/metrics.ts';
import type { ScoredSample } from '../../core/training/runState.ts';
import type { ReadFile } from '../../worker/filesApi.ts';
import type { Result } from '../../worker/trainerApi.ts';
import { filesWorker } from '../filesClient.ts';
import type { ChartMarker } from '../metrics/markers.ts';
import type { SavedRuns } from './savedRuns.svelte.ts';
import type { RunHistory } from './history.svelte.ts';
import type { ProbeLog } from './probes.svelte.ts';
import type { TrainerConnection } from './trainerConnection.ts';

/** Asks whether an imported file may replace a run of `iterations` iterations; true to go ahead. */
export type MayReplace = (what: { fileName: string; iterations: number }) => Promise<boolean>;

/** The session as opening reads and changes it. */
export interface OpenTarget {
  iteration: number;
  metrics: IterationMetrics[];
  samples: ScoredSample[];
  readonly history: RunHistory;
  readonly probes: ProbeLog;
  changes: ChartMarker[];
  origin: string | null;
  openProblem: string | null;
  requestError: string | null;
  view: Experiment['view'];
  readonly runs: SavedRuns;
  readonly connection: TrainerConnection;
  /** The worker's last checkpoint: what a restart resumes from. */
  checkpoint: { state: Blob; experiment: Experiment } | null;
  /** Puts an experiment on screen (before it is loaded into the worker). */
  show(e: Experiment): void;
  /** Loads the experiment on screen into the worker; false when that failed (the page says why). */
  load(): Promise<boolean>;
  /** Back to iteration 0 with nothing drawn. */
  clearRun(): void;
}

/** Opens the experiment a link carries; a bad link leaves the default open and says why. */
export async function openLink(s: OpenTarget, hash: string): Promise<void> {
  if (!hasExperiment(hash)) return;
  try {
    const e = await decodeExperiment(hash);
    s.show(e);
    s.view = e.view;
    s.origin = 'This experiment came from a link: its settings and reward code are shown as they came, and the code runs in the sandbox. Nothing trains until you press Train.';
  } catch (e) {
    s.openProblem = `This link could not be opened, so the default experiment is open instead. ${(e as Error).message}`;
  }
}

/** Opens a dropped or picked file: a policy's weights (checkpoint format) or an experiment or run file. */
export async function openFile(s: OpenTarget, file: File, mayReplace: MayReplace): Promise<void> {
  const magic = new TextDecoder().decode(new Uint8Array(await file.slice(0, 8).arrayBuffer()));
  if (magic === 'RLCFCKPT' || file.name.endsWith('.bin')) await importPolicy(s, new Uint8Array(await file.arrayBuffer()), file.name, mayReplace);
  else await importFile(s, file, file.name, mayReplace);
}

/**
 * Opens an experiment or run file: its experiment replaces the one on screen.
 * The files worker reads and checks it (a large file never blocks the page) and
 * keeps its history; a file that cannot be read is refused before anything is
 * asked; one that can replaces a run only once `mayReplace` agrees.
 */
export async function importFile(s: OpenTarget, file: Blob, fileName: string, mayReplace: MayReplace): Promise<boolean> {
  let read: ReadFile;
  try {
    read = await filesWorker().read(file);
  } catch (e) {
    read = { ok: false, message: `it could not be read (${(e as Error).message})` };
  }
  if (!read.ok) {
    s.openProblem = `${fileName} could not be imported: ${read.message}`;
    return false;
  }
  if (!(await mayReplaceRun(s, mayReplace, fileName))) {
    void filesWorker().drop(read.token);
    return false;
  }
  s.openProblem = null;
  s.show(read.experiment);
  await s.load();
  if (read.iterations) await s.runs.addImported(read.name ?? fileName, read.experiment, read);
  // Said once it is true: the file's iterations are in Saved runs (stored) before the page says so.
  s.origin = `Imported from ${fileName}${read.iterations ? ` (its ${read.iterations} iterations are in Saved runs, for comparison)` : ''}. Nothing trains until you press Train.`;
  return true;
}

/** Starts the run again from a policy file's weights, which must be finite and fit the task and architecture on screen. */
export async function importPolicy(s: OpenTarget, bytes: Uint8Array, fileName: string, mayReplace: MayReplace): Promise<boolean> {
  // The worker reads the file (format, finite weights, fit) before it touches the run: a refused file loses nothing.
  if (!(await mayReplaceRun(s, mayReplace, fileName))) return false;
  const r = await s.connection.call<Result<null>>('Import', (api) => api.importPolicy(Comlink.transfer(bytes, [bytes.buffer])));
  if (!r) return false;
  if (!r.ok) {
    s.openProblem = `${fileName} could not be imported: ${r.message.replace(/^checkpoint: (?!tensor)/, 'not a policy file: ').replace(/^checkpoint: /, '')}`;
    return false;
  }
  s.openProblem = null;
  s.clearRun();
  s.origin = `The policy now starts from the weights in ${fileName} (the reference for the KL stays the shipped one). Nothing trains until you press Train.`;
  return true;
}

/** Whether an import may replace what is on screen: asked only when there is a run to lose. */
async function mayReplaceRun(s: OpenTarget, mayReplace: MayReplace, fileName: string): Promise<boolean> {
  return s.iteration === 0 || (await mayReplace({ fileName, iterations: s.iteration }));
}

/** Continues a saved run from its last checkpoint (or opens its experiment at iteration 0 when it has none). */
export async function resumeRun(s: OpenTarget, id: string): Promise<void> {
  let saved;
  try {
    saved = await s.runs.load(id);
  } catch (e) {
    s.requestError = `Resume failed: ${(e as Error).message}`;
    return;
  }
  const { run, metrics, samples, probes, history, checkpoint } = saved;
  if (!(await s.runs.claim(id))) {
    s.requestError = `"${run.name}" is open in another tab of this browser: continue it there, or close that tab and resume it here.`;
    return;
  }
  s.show(checkpoint?.experiment ?? run.experiment);
  if (!(await s.load())) return;
  let at = 0;
  if (checkpoint) {
    const r = await s.connection.call<Result<number>>('Resume', (api) => api.restore(checkpoint.state));
    if (!r) return;
    if (!r.ok) {
      s.requestError = `Resume failed: ${r.message}`;
      return;
    }
    at = r.value;
    s.metrics = metrics.filter((m) => m.iteration <= at);
    s.changes = run.changes.filter((c) => c.iteration <= at);
    // The saved samples are the latest batch's: shown when they are the checkpoint's iteration's.
    if (metrics.length === at) s.samples = samples;
    s.history.restore(history.filter((b) => b.iteration <= at), run.historyStride ?? 1);
    s.probes.rounds = probes.filter((r) => r.iteration <= at);
    s.iteration = at;
    s.checkpoint = { state: checkpoint.state, experiment: checkpoint.experiment };
  }
  s.runs.attach({ ...run, iterations: s.metrics.length, lastReward: s.metrics.at(-1)?.rewardMean ?? null, checkpointIteration: checkpoint ? at : null }, s.metrics.length, s.history.kept);
  s.runs.changed(true);
  const lost = metrics.length - at;
  s.origin = `Resumed "${run.name}" at iteration ${at}${lost > 0 ? `: the ${lost} iteration${lost === 1 ? '' : 's'} after its last checkpoint were not saved and will run again` : ''}. Press Train to continue.`;
}
