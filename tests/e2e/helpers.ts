import { expect, type Page } from '@playwright/test';

/** Opens the playground and waits until the model is loaded. Worker and page errors go to the test log. */
export async function openPlayground(page: Page, query = ''): Promise<void> {
  page.on('pageerror', (e) => console.log(`page error: ${e.message}${process.env.PAGE_STACKS ? `\n${e.stack}` : ''}`));
  page.on('worker', (w) => w.on('console', (m) => console.log(`worker: ${m.text()}`)));
  await page.goto(`/${query}`);
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
}

/** Replaces the editor's code as a person would (select all, type), without applying it. */
export async function typeReward(page: Page, code: string): Promise<void> {
  await page.getByTestId('reward-editor').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.insertText(code);
}

/** Replaces the editor's code as a person would (select all, type) and presses Apply. */
export async function applyReward(page: Page, code: string): Promise<void> {
  await typeReward(page, code);
  await page.getByTestId('apply-reward').click();
}

export async function iteration(page: Page): Promise<number> {
  return Number(await page.getByTestId('iteration').textContent());
}

export async function waitForIteration(page: Page, atLeast: number): Promise<void> {
  await expect.poll(() => iteration(page), { timeout: 120_000 }).toBeGreaterThanOrEqual(atLeast);
}

/** A saved run as storage holds it (the first one): its summary, metrics, samples and packed checkpoint. */
export interface StoredRun {
  run: Record<string, unknown> & { id: string; name: string; iterations: number };
  metrics: Record<string, unknown>[];
  samples: unknown[];
  checkpoint: { iteration: number; bytes: number[]; experiment: unknown } | null;
}

export function readStoredRun(page: Page): Promise<StoredRun> {
  return page.evaluate(
    () =>
      new Promise<StoredRun>((resolve, reject) => {
        const open = indexedDB.open('rlcf-playground');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction(['runs', 'metrics', 'samples', 'checkpoints']);
          const runs = tx.objectStore('runs').getAll();
          const chunks = tx.objectStore('metrics').getAll();
          const samples = tx.objectStore('samples').getAll();
          const checkpoints = tx.objectStore('checkpoints').getAll();
          tx.oncomplete = async () => {
            const cp = checkpoints.result[0];
            resolve({
              run: runs.result[0],
              metrics: chunks.result.flatMap((c) => c.rows),
              samples: samples.result[0]?.samples ?? [],
              checkpoint: cp ? { iteration: cp.iteration, bytes: Array.from(new Uint8Array(await cp.state.arrayBuffer())), experiment: cp.experiment } : null,
            });
            db.close();
          };
        };
      }),
  );
}

/** Trains past `iterations`, pauses, and waits until the pause's checkpoint is stored; returns the run as stored and the iteration it paused at. */
export async function trainPauseAndStore(page: Page, iterations: number): Promise<{ at: number; stored: StoredRun }> {
  await page.getByTestId('train').click();
  await waitForIteration(page, iterations);
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused');
  const at = Number(await page.getByTestId('iteration').textContent());
  await expect.poll(async () => (await readStoredRun(page)).checkpoint?.iteration, { timeout: 30_000 }).toBe(at);
  return { at, stored: await readStoredRun(page) };
}

/** Records the page's main-thread long tasks (over 50 ms) from its first script on; `longTasks` reads them, `clearLongTasks` starts afresh. */
export async function watchLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __longTasks: number[] };
    w.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__longTasks.push(Math.round(e.duration));
    }).observe({ type: 'longtask' });
  });
}

export function longTasks(page: Page): Promise<number[]> {
  return page.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks);
}

export async function clearLongTasks(page: Page): Promise<void> {
  await page.evaluate(() => ((window as unknown as { __longTasks: number[] }).__longTasks.length = 0));
}
