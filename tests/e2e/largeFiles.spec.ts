import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { expect, test } from './fixtures.ts';
import { clearLongTasks, longTasks, openPlayground, trainPauseAndStore, waitForIteration, watchLongTasks } from './helpers.ts';
import { defaultExperiment } from '../../src/core/experiment/experiment.ts';
import { RUN_FILE_FORMAT } from '../../src/core/experiment/runFile.ts';
import { decodeTrainerState, encodeTrainerState } from '../../src/core/training/trainerState.ts';
import { CHUNK } from '../../src/storage/runStore.ts';

// The budget is 50 ms a task; unloaded, the longest tasks measured here are 16-37 ms, and on a
// 2-core machine running the trainer worker and the browser's compositor beside the page, the
// scheduler now and then stretches one of them past the budget (one 52 ms task in one of three
// clean CI runs). A regression shows on every run: one retry tells the two apart.
test.describe.configure({ retries: 1 });

// Files as large as people make them: a run file of a million iterations, and a
// valid one of 50 MB. The page reads neither on its main thread.

/** Writes a run file of `rows` iterations, each row about `pad` bytes of real metric fields; returns its size. */
async function writeRunFile(path: string, rows: number, full: boolean): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  const write = async (s: string) => {
    bytes += s.length;
    if (!out.write(s)) await once(out, 'drain');
  };
  await write(`{"format":"${RUN_FILE_FORMAT}","name":"imported long run","exportedAt":"2026-12-06T00:00:00.000Z","experiment":${JSON.stringify(defaultExperiment('names', 'mlp', 'ppo'))},"metrics":[`);
  for (let i = 1; i <= rows; i++) {
    const r = Math.sin(i / 1000);
    const row = full
      ? { iteration: i, rewardMean: 5 + r, rewardStd: 1.25, rewardMin: 2 + r, rewardMax: 9 + r, kl: 0.5 + r / 4, entropy: 1.1, policyLoss: -0.0123, valueLoss: 0.456, clipFrac: 0.12, approxKl: 0.0034, explainedVariance: 0.31, klCoef: 0.2, klTarget: 6, sampleLength: 6.5, rolloutMs: 12.5, scoringMs: 3.25, rewardMs: 0.75, updateMs: 40.5, totalMs: 57.25, tokensPerSecond: 4321.5, distinctShare: 0.875, rewardComponents: { reward: 5 + r, 'length bonus': 0.25 }, alarms: [] }
      : { iteration: i, rewardMean: r, kl: r };
    await write(`${i > 1 ? ',' : ''}${JSON.stringify(row)}`);
  }
  await write(']}');
  out.end();
  await once(out, 'finish');
  return bytes;
}

test('a million-row run file is refused and a 50 MB one imported with no main-thread task over 50 ms; once saved, the page holds no history it does not show', async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  const huge = testInfo.outputPath('million.run.json');
  const big = testInfo.outputPath('long.run.json');
  await writeRunFile(huge, 1_000_000, false);
  const size = await writeRunFile(big, 100_000, true);
  expect(size).toBeGreaterThan(45e6);

  await watchLongTasks(page);
  await openPlayground(page);
  await clearLongTasks(page);

  await page.getByTestId('import-file').setInputFiles(huge);
  await expect(page.getByTestId('open-problem')).toContainText('million.run.json could not be imported: run file: metrics has 1000000 iterations; at most 100000 are read', { timeout: 120_000 });
  await page.getByTestId('import-file').setInputFiles(big);
  await expect(page.getByTestId('origin')).toContainText('Imported from long.run.json (its 100000 iterations are in Saved runs, for comparison)', { timeout: 120_000 });
  await page.getByTestId('runs-panel').locator('summary').click();
  await expect(page.getByTestId('run-iterations')).toHaveText('100000', { timeout: 60_000 });
  await page.getByTestId('run-compare').check();
  await expect(page.getByTestId('compare-reward')).not.toHaveClass(/empty/, { timeout: 60_000 });
  const seen = await longTasks(page);
  console.log(`importing a 1,000,000-row file (refused) and a ${(size / 1e6).toFixed(1)} MB one (accepted), then comparing it: main-thread long tasks ${JSON.stringify(seen)}`);
  expect(seen).toEqual([]);

  // A fresh page lists the saved run without reading its history.
  await page.reload();
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await page.getByTestId('runs-panel').locator('summary').click();
  await expect(page.getByTestId('run-iterations')).toHaveText('100000');
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  console.log(`page heap with the 100,000-iteration run listed: ${(usedSize / 1e6).toFixed(1)} MB`);
  // The history itself is about 100 MB as objects; the page, its charts and the list take about 10.
  expect(usedSize).toBeLessThan(40e6);
});

test('a run 36,000 iterations long (30 minutes of the fastest task) trains on with no main-thread task over 50 ms', async ({ page }) => {
  test.setTimeout(300_000);
  const N = 36_000;
  await watchLongTasks(page);
  // A real run and checkpoint, made long: its history repeated to N iterations, its state set at N.
  await openPlayground(page);
  const { stored: real } = await trainPauseAndStore(page, 12);
  const state = decodeTrainerState(Uint8Array.from(real.checkpoint!.bytes));
  const bytes = Array.from(encodeTrainerState({ ...state, iteration: N }));
  const rows = Array.from({ length: N }, (_, i) => ({ ...real.metrics[i % real.metrics.length], iteration: i + 1 }));
  const run = { ...real.run, iterations: N, checkpointIteration: N, live: false, name: 'thirty minutes' };
  await page.evaluate(
    ({ run, rows, bytes, experiment, chunk }) =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('rlcf-playground');
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction(['runs', 'metrics', 'checkpoints'], 'readwrite');
          tx.objectStore('runs').put(run);
          for (let c = 0; c * chunk < rows.length; c++) tx.objectStore('metrics').put({ runId: run.id, chunk: c, rows: rows.slice(c * chunk, (c + 1) * chunk) });
          tx.objectStore('checkpoints').put({ runId: run.id, iteration: rows.length, state: new Blob([new Uint8Array(bytes)]), experiment });
          tx.oncomplete = () => {
            db.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
    { run, rows, bytes, experiment: real.checkpoint!.experiment, chunk: CHUNK },
  );

  await page.reload();
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await page.getByTestId('runs-panel').locator('summary').click();
  await expect(page.getByTestId('run-iterations')).toHaveText(String(N));
  await page.getByTestId('run-resume').click();
  await expect(page.getByTestId('iteration')).toHaveText(String(N));
  // The run this tab trains, compared live beside nothing else: its chart follows training too.
  await page.getByTestId('run-compare').check();
  await expect(page.getByTestId('chart-reward')).not.toHaveClass(/empty/);
  await clearLongTasks(page);
  await page.getByTestId('train').click();
  await waitForIteration(page, N + 15);
  const seen = await longTasks(page);
  await page.getByTestId('train').click();
  console.log(`training on at iteration ${N}: main-thread long tasks ${JSON.stringify(seen)}`);
  expect(seen).toEqual([]);
});
