// The browser soak (not a test): trains the names transformer in the page's
// trainer worker for N minutes and logs, every minute, the worker's live
// tensors, its JavaScript heap and wasm memory, the iteration time, the page's
// heap and what IndexedDB holds. Run by `npm run bench-browser -- --soak N`.
import { readFileSync } from 'node:fs';
import type { Browser, Page, Worker } from '@playwright/test';
import { defaultExperiment } from '../src/core/experiment/experiment.ts';
import { encodeExperiment } from '../src/core/experiment/link.ts';
import type { IterationMetrics } from '../src/core/training/metrics.ts';
import type { MemoryReport } from '../src/worker/memoryReport.ts';
import { median, fmt } from './benchShared.ts';

export interface SoakRow {
  minute: number;
  iteration: number;
  /** Iterations finished in the minute before, and the worker's own median iteration time over them (from the exported metrics). */
  iterations: number;
  iterationMs: number | null;
  /** The median completion length over the minute's iterations (an iteration's time grows with it). */
  length: number | null;
  tensors: number;
  tensorMB: number;
  wasmMB: number | null;
  /** JavaScript heaps after a garbage collection. */
  workerHeapMB: number;
  pageHeapMB: number;
  indexedDbMB: number | null;
}

const MB = 1024 * 1024;
const f = (x: number | null): string => (x === null ? '–' : fmt(x));

export async function soak(browser: Browser, origin: string, backend: string, minutes: number): Promise<{ rows: SoakRow[]; summary: Record<string, string> }> {
  const page = await (await browser.newContext({ serviceWorkers: 'block' })).newPage();
  const experiment = defaultExperiment('names', 'transformer', 'ppo');
  await page.goto(`${origin}/${backend === 'auto' ? '' : `?backend=${backend}`}#${await encodeExperiment(experiment)}`);
  await page.getByTestId('status').filter({ hasText: 'idle' }).waitFor({ timeout: 120_000 });
  const worker = await trainerWorker(page);
  const workerHeap = await heapReader(browser);
  const pageCdp = await page.context().newCDPSession(page);
  const pageHeap = async () => {
    await pageCdp.send('HeapProfiler.collectGarbage');
    return (await pageCdp.send('Runtime.getHeapUsage')).usedSize;
  };
  await page.getByTestId('train').click();
  const start = Date.now();
  const marks: { minute: number; iteration: number }[] = [];
  const rows: Omit<SoakRow, 'iterationMs' | 'length'>[] = [];
  let last = 0;
  for (let minute = 1; minute <= minutes; minute++) {
    await new Promise((r) => setTimeout(r, Math.max(0, start + minute * 60_000 - Date.now())));
    const iteration = Number(await page.getByTestId('iteration').textContent());
    const memory = await worker.evaluate(() => (self as unknown as { rlcfMemory: () => MemoryReport }).rlcfMemory());
    const heap = await workerHeap();
    const storage = await page.evaluate(async () => ((await navigator.storage.estimate()) as StorageEstimate & { usageDetails?: { indexedDB?: number } }).usageDetails?.indexedDB ?? null);
    const page_ = { heap: await pageHeap(), storage };
    const row = {
      minute,
      iteration,
      iterations: iteration - last,
      tensors: memory.tensors,
      tensorMB: memory.tensorBytes / MB,
      wasmMB: memory.wasmBytes === null ? null : memory.wasmBytes / MB,
      workerHeapMB: heap / MB,
      pageHeapMB: page_.heap / MB,
      indexedDbMB: page_.storage === null ? null : page_.storage / MB,
    };
    last = iteration;
    marks.push({ minute, iteration });
    rows.push(row);
    console.log(
      `minute ${minute}: iteration ${iteration} (+${row.iterations}), tensors ${row.tensors} (${f(row.tensorMB)} MB), wasm ${f(row.wasmMB)} MB, worker heap ${f(row.workerHeapMB)} MB, page heap ${f(row.pageHeapMB)} MB, IndexedDB ${f(row.indexedDbMB)} MB`,
    );
  }
  await page.getByTestId('train').click(); // Train is Pause while training
  await page.getByTestId('status').filter({ hasText: 'paused' }).waitFor({ timeout: 120_000 });
  // The iteration time the worker measured, per minute: the exported run's metrics, split where each minute ended.
  const metrics = await exported(page);
  await page.context().close();
  const timed: SoakRow[] = rows.map((row, i) => {
    const from = i === 0 ? 1 : marks[i - 1].iteration + 1;
    const inMinute = metrics.filter((m) => m.iteration >= from && m.iteration <= row.iteration);
    return { ...row, iterationMs: inMinute.length ? median(inMinute.map((m) => m.totalMs)) : null, length: inMinute.length ? median(inMinute.map((m) => m.sampleLength)) : null };
  });
  return { rows: timed, summary: summarise(timed) };
}

/** After a warm-up (the first fifth, at least two minutes), each column's first and last value and its change per ten minutes (least squares). */
function summarise(rows: SoakRow[]): Record<string, string> {
  const warm = rows.slice(Math.min(rows.length - 1, Math.max(2, Math.floor(rows.length / 5))));
  const out: Record<string, string> = {};
  for (const key of ['tensors', 'tensorMB', 'wasmMB', 'workerHeapMB', 'iterationMs', 'length', 'pageHeapMB', 'indexedDbMB'] as const) {
    const points = warm.filter((r) => r[key] !== null).map((r) => [r.minute, r[key] as number] as const);
    if (points.length < 2) {
      out[key] = 'not measured';
      continue;
    }
    const mx = points.reduce((s, p) => s + p[0], 0) / points.length;
    const my = points.reduce((s, p) => s + p[1], 0) / points.length;
    const slope = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0) / points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
    out[key] = `${fmt(points[0][1])} at minute ${points[0][0]}, ${fmt(points.at(-1)![1])} at minute ${points.at(-1)![0]}, ${slope >= 0 ? '+' : ''}${fmt(slope * 10)} per 10 minutes`;
  }
  return out;
}

/**
 * The trainer worker's JavaScript heap after a garbage collection (what it holds on
 * to, not what it has yet to collect), through the browser's DevTools protocol:
 * a worker has no performance.memory.
 */
async function heapReader(browser: Browser): Promise<() => Promise<number>> {
  const cdp = await browser.newBrowserCDPSession();
  const { targetInfos } = await cdp.send('Target.getTargets');
  const target = targetInfos.find((t) => t.type === 'worker' && /trainer/.test(t.url));
  if (!target) throw new Error('the DevTools protocol lists no trainer worker');
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: target.targetId, flatten: false });
  const waiting = new Map<number, (result: { usedSize?: number }) => void>();
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const reply = JSON.parse(e.message) as { id?: number; result?: { usedSize?: number } };
    if (reply.id !== undefined) waiting.get(reply.id)?.(reply.result ?? {});
  });
  let id = 0;
  const call = (method: string) => {
    const mine = ++id;
    const answered = new Promise<{ usedSize?: number }>((resolve) => waiting.set(mine, resolve));
    void cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: mine, method }) });
    return answered.finally(() => waiting.delete(mine));
  };
  return async () => {
    await call('HeapProfiler.collectGarbage');
    return (await call('Runtime.getHeapUsage')).usedSize ?? NaN;
  };
}

async function trainerWorker(page: Page): Promise<Worker> {
  for (let i = 0; i < 100; i++) {
    const worker = page.workers().find((w) => /trainer/.test(w.url()));
    if (worker) return worker;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the page has no trainer worker');
}

export async function exported(page: Page): Promise<IterationMetrics[]> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-experiment').click()]);
  return (JSON.parse(readFileSync((await download.path())!, 'utf8')) as { metrics: IterationMetrics[] }).metrics;
}
