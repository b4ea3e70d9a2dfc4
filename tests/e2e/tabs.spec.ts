import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { openPlayground, readStoredRun, trainPauseAndStore, waitForIteration } from './helpers.ts';
import { decodeTrainerState } from '../../src/core/training/trainerState.ts';

// A person using the app for weeks: several tabs of one browser profile, a disk that fills up.

/** The saved runs as storage holds them: id, name, iterations, checkpoint iteration. */
function saved(page: Page): Promise<{ id: string; name: string; iterations: number; checkpoint: number | null }[]> {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('rlcf-playground');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction('runs').objectStore('runs').getAll();
          get.onsuccess = () => {
            resolve(get.result.map((r) => ({ id: r.id, name: r.name, iterations: r.iterations, checkpoint: r.checkpointIteration })));
            open.result.close();
          };
        };
      }),
  );
}

test('two tabs: each writes its own run, never offers the other\'s, and after both reload every run is offered once and resumes intact', async ({ context }) => {
  const a = await context.newPage();
  const b = await context.newPage();
  await openPlayground(a);
  await a.getByTestId('train').click();
  await waitForIteration(a, 12); // a checkpoint at 10
  await openPlayground(b);
  // A's run is live, but A has it open: B neither offers it nor lets it be resumed or deleted.
  await expect(b.getByTestId('resume-offer')).toHaveCount(0);
  await b.getByTestId('runs-panel').locator('summary').click();
  await expect(b.getByTestId('other-tab')).toHaveCount(1);
  await expect(b.getByTestId('saved-run').getByTestId('run-resume')).toHaveCount(0);
  await b.getByTestId('train').click();
  await waitForIteration(b, 12);
  await expect.poll(async () => (await saved(b)).filter((r) => (r.checkpoint ?? 0) >= 10).length, { timeout: 30_000 }).toBe(2);
  const before = await saved(a);

  // Both reload while training: each interrupted run is offered in one tab, never both.
  await Promise.all([a.reload(), b.reload()]);
  for (const p of [a, b]) await expect(p.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  const offers = await Promise.all([a, b].map(async (p) => (await p.getByTestId('resume-offer').getAttribute('data-run-id'))!));
  expect(offers.sort()).toEqual(before.map((r) => r.id).sort());

  // Each resumes its own; the checkpoint never went back, and the other tab shows the run as open there.
  for (const p of [a, b]) {
    await p.getByTestId('resume').click();
    await expect(p.getByTestId('origin')).toContainText('Resumed');
  }
  const after = await saved(a);
  for (const r of before) {
    const now = after.find((x) => x.id === r.id)!;
    expect(now.checkpoint!, r.name).toBeGreaterThanOrEqual(r.checkpoint!);
    expect(now.iterations, r.name).toBeGreaterThanOrEqual(now.checkpoint!);
  }
  // Each resumed at its run's last checkpoint (a tab may have saved another between the read above and the reload).
  expect([await a.getByTestId('iteration').textContent(), await b.getByTestId('iteration').textContent()].map(Number).sort()).toEqual(after.map((r) => r.checkpoint).sort());
  await a.getByTestId('runs-panel').locator('summary').click();
  await expect(a.getByTestId('other-tab')).toHaveCount(1);
  // Both train on, each into its own record.
  for (const p of [a, b]) await p.getByTestId('train').click();
  await waitForIteration(a, 25);
  await waitForIteration(b, 25);
  for (const p of [a, b]) await p.getByTestId('train').click();
  await expect.poll(async () => (await saved(a)).map((r) => r.iterations).every((n) => n >= 25), { timeout: 30_000 }).toBe(true);
  expect(await saved(a)).toHaveLength(2);
});

test('a full disk: the banner says so beside the status with Export, the count stays true, and saving resumes once space is freed', async ({ page }) => {
  // The storage refuses every write while window.__full is set, as a full disk does.
  await page.addInitScript(() => {
    const w = window as unknown as { __full: boolean };
    w.__full = true;
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      if (w.__full) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return put.apply(this, args);
    };
  });
  await openPlayground(page);
  await page.getByTestId('train').click();
  await waitForIteration(page, 3);
  const banner = page.getByTestId('storage-banner');
  await expect(banner).toContainText('Runs are not being saved: the browser storage for this site is full');
  await expect(banner.getByTestId('storage-export')).toBeVisible();
  await expect(page.getByTestId('runs-panel').locator('summary')).toHaveText('Saved runs (0)', { timeout: 15_000 });
  const [file] = await Promise.all([page.waitForEvent('download'), banner.getByTestId('storage-export').click()]);
  expect(file.suggestedFilename()).toMatch(/\.experiment\.json$/);
  // Space is freed: the next try saves, and says so.
  await page.evaluate(() => ((window as unknown as { __full: boolean }).__full = false));
  await expect(banner).toContainText('Saving works again', { timeout: 15_000 });
  await expect(page.getByTestId('runs-panel').locator('summary')).toHaveText('Saved runs (1)');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused');
  await expect.poll(async () => (await saved(page)).length).toBe(1);
});

test('a run saved by the previous storage layout (one record, plain arrays) is moved on upgrade: listed, compared and resumed with nothing lost', async ({ page }) => {
  await openPlayground(page);
  const readBack = () => readStoredRun(page);
  const { at, stored: now } = await trainPauseAndStore(page, 12);
  expect(now.metrics).toHaveLength(at);
  const state = decodeTrainerState(Uint8Array.from(now.checkpoint!.bytes));
  const plain = {
    ...state,
    weights: Object.fromEntries(Object.entries(state.weights).map(([k, w]) => [k, { shape: w.shape, values: Array.from(w.values) }])),
    optimizer: state.optimizer.map((o) => ({ name: o.name, shape: o.shape, int: o.values instanceof Int32Array, values: Array.from(o.values) })),
  };
  const { iterations: _i, lastReward: _l, ...rest } = now.run;
  const v1 = { run: { ...rest, metrics: now.metrics, samples: now.samples, live: false }, checkpoint: { runId: rest.id, state: plain, experiment: now.checkpoint!.experiment } };

  // The same origin without the app, so nothing holds the database: it is rebuilt as version 1 wrote it.
  await page.goto('/favicon.svg');
  await page.evaluate(
    (v1) =>
      new Promise<void>((resolve, reject) => {
        const del = indexedDB.deleteDatabase('rlcf-playground');
        del.onerror = () => reject(del.error);
        del.onsuccess = () => {
          const open = indexedDB.open('rlcf-playground', 1);
          open.onupgradeneeded = () => {
            const runs = open.result.createObjectStore('runs', { keyPath: 'id' });
            runs.createIndex('updatedAt', 'updatedAt');
            open.result.createObjectStore('checkpoints', { keyPath: 'runId' });
          };
          open.onsuccess = () => {
            const db = open.result;
            const tx = db.transaction(['runs', 'checkpoints'], 'readwrite');
            const s = v1.checkpoint.state;
            const state = {
              ...s,
              weights: Object.fromEntries(Object.entries(s.weights).map(([k, w]) => [k, { shape: w.shape, values: Float32Array.from(w.values) }])),
              optimizer: s.optimizer.map((o) => ({ name: o.name, shape: o.shape, values: o.int ? Int32Array.from(o.values) : Float32Array.from(o.values) })),
            };
            tx.objectStore('runs').put(v1.run);
            tx.objectStore('checkpoints').put({ ...v1.checkpoint, state });
            tx.oncomplete = () => {
              db.close();
              resolve();
            };
            tx.onerror = () => reject(tx.error);
          };
        };
      }),
    v1,
  );

  await openPlayground(page);
  await page.getByTestId('runs-panel').locator('summary').click();
  await expect(page.getByTestId('run-iterations')).toHaveText(String(at));
  await page.getByTestId('run-compare').check();
  await expect(page.getByTestId('compare-reward')).toBeVisible();
  await expect(page.getByTestId('compare-reward')).not.toHaveClass(/empty/);
  await page.getByTestId('run-resume').click();
  await expect(page.getByTestId('origin')).toContainText(`Resumed "${String(rest.name)}" at iteration ${at}. Press Train to continue.`);
  await expect(page.getByTestId('iteration')).toHaveText(String(at));
  // The moved state trains on: the next iteration runs and is saved in the new layout.
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText(String(at + 1));
  await expect.poll(async () => (await readBack()).metrics.length, { timeout: 30_000 }).toBe(at + 1);
  const moved = await readBack();
  expect(moved.metrics.slice(0, at)).toEqual(now.metrics);
  expect(moved.run.iterations).toBe(at + 1);
});
