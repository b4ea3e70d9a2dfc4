import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from './fixtures.ts';
import { serveStatic } from './staticServer.ts';

// Deployed under a sub-path of a plain static server (no Vite): the build made
// with --base, served as any static host would, trains, shares links under its
// path, asks nothing outside it, and works offline after the first visit.

const PORT = 4181;
const BASE = '/labs/rlcf/';

test.describe('a static host under a sub-path', () => {
  test.use({ baseURL: `http://localhost:${PORT}`, serviceWorkers: 'allow' });
  let server: Server;
  const outside: string[] = [];

  test.beforeAll(async () => {
    test.setTimeout(300_000);
    const out = mkdtempSync(path.join(tmpdir(), 'rlcf-sub-'));
    execFileSync('npx', ['vite', 'build', '--base', BASE, '--outDir', out, '--emptyOutDir', '--logLevel', 'error'], { stdio: 'pipe', timeout: 280_000 });
    server = await serveStatic(PORT, () => out, BASE, (url) => outside.push(url));
  });

  test.afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('trains an iteration, shares a link under its path, asks for nothing outside it, and trains offline on the next visit', async ({ page, context }) => {
    await page.goto(BASE);
    await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
    await page.getByTestId('step').click();
    await expect(page.getByTestId('iteration')).toHaveText('1', { timeout: 60_000 });
    await page.getByTestId('share').click();
    await expect(page.getByTestId('share-link')).toHaveValue(new RegExp(`^http://localhost:${PORT}${BASE}#exp=`));
    // The service worker's scope is the sub-path: the next visit is served from its copy.
    expect(await page.evaluate(async () => (await navigator.serviceWorker.ready).scope)).toBe(`http://localhost:${PORT}${BASE}`);
    await page.reload();
    await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
    await context.setOffline(true);
    await page.reload();
    await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
    await expect(page.getByTestId('offline')).toContainText('Offline');
    await page.getByTestId('step').click();
    await expect(page.getByTestId('iteration')).toHaveText('1', { timeout: 60_000 });
    await context.setOffline(false);
    expect(outside).toEqual([]);
  });
});
