// Large files and long histories, off the page's main thread: a run file is read,
// parsed and checked here, its history written to storage from here, and a saved
// history read back here for a comparison chart. A 1,000,000-row file parsed on
// the page blocked it for 0.85-0.93 s before it was refused; a valid 50 MB one
// for 0.33-0.55 s.
import * as Comlink from 'comlink';
import type { FilesApi, ReadFile } from './filesApi.ts';
import { readExperimentFile } from '../core/experiment/runFile.ts';
import type { IterationMetrics } from '../core/training/metrics.ts';
import { RunStore, type SavedRun } from '../storage/runStore.ts';
import { stretchEnds } from '../core/training/thinning.ts';
import { SmoothedColumn } from '../core/training/smoothing.ts';
import { compareMetric } from '../core/training/compareMetrics.ts';
import { ensureCorpusTask } from './corpora.ts';

/** Histories read and checked, kept until the page stores or drops them. */
const held = new Map<number, IterationMetrics[]>();
let nextToken = 1;
let store: Promise<RunStore> | null = null;

const api: FilesApi = {
  async read(file: Blob): Promise<ReadFile> {
    try {
      const text = await file.text();
      await ensureCorpusTask(/"task"\s*:\s*"(corpus-[0-9a-f]{14})"/.exec(text.slice(0, 4096))?.[1] ?? ''); // a run on a stored corpus is checked against it
      const read = readExperimentFile(text);
      const token = nextToken++;
      if (read.metrics.length) held.set(token, read.metrics);
      return { ok: true, token, experiment: read.experiment, name: read.name, iterations: read.metrics.length, lastReward: read.metrics.at(-1)?.rewardMean ?? null };
    } catch (e) {
      return { ok: false, message: (e as Error).message };
    }
  },

  async store(token: number, run: SavedRun): Promise<string | null> {
    const rows = held.get(token);
    held.delete(token);
    if (!rows) return 'the file was dropped before it could be saved';
    try {
      await (await open()).put(run, { metrics: { rows, from: 0 }, samples: [] });
      return null;
    } catch (e) {
      store = null;
      return (e as Error).message;
    }
  },

  drop(token: number): void {
    held.delete(token);
  },

  async columns(id: string, keys: string[], smoothing: number, restartAfter: number[]): Promise<{ iterations: Float64Array; values: Record<string, Float64Array> }> {
    const rows = await (await open()).metrics(id);
    // Smoothed over the whole history as the live charts are (smoothing.ts), then thinned as a chart would (thinning.ts): the last iteration of each stretch.
    const ends = stretchEnds(rows.length);
    const values: Record<string, Float64Array> = {};
    for (const key of keys) {
      const { pick } = compareMetric(key);
      const column = new SmoothedColumn<IterationMetrics>((m) => pick(m) ?? NaN, (m) => m.iteration).get(rows, smoothing, restartAfter);
      values[key] = Float64Array.from(ends, (i) => column[i]);
    }
    const iterations = Float64Array.from(ends, (i) => rows[i].iteration);
    return Comlink.transfer({ iterations, values }, [iterations.buffer, ...Object.values(values).map((v) => v.buffer)]);
  },
};

function open(): Promise<RunStore> {
  store ??= RunStore.open();
  return store;
}

Comlink.expose(api);
