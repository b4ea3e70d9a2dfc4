import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeServiceWorker } from '../../scripts/offlineCopy.ts';
import { expect, test } from './fixtures.ts';
import { serveStatic } from './staticServer.ts';

// A new version deployed while tabs are open. Build A is the build under test; build B
// is made from it as a deploy would differ: a retrained model of the same size (every
// weight halved) and a lazily loaded module under a new name (the old name is gone from
// the server), with the service worker written again for B's files.

const PORT = 4180;
const MODEL = 'models/names-mlp.bin';

function buildB(a: string): string {
  const b = mkdtempSync(path.join(tmpdir(), 'rlcf-b-'));
  cpSync(a, b, { recursive: true });
  // The model: same size, every weight halved.
  const model = readFileSync(path.join(b, MODEL));
  for (let o = (16 + model.readUInt32LE(12) + 3) & ~3; o + 4 <= model.length; o += 4) model.writeFloatLE(model.readFloatLE(o) / 2, o);
  writeFileSync(path.join(b, MODEL), model);
  // The lazily loaded sentiment module: new content, new name, the old one gone.
  const assets = path.join(b, 'assets');
  const lazy = readdirSync(assets).filter((f) => f.startsWith('vaderSentiment.bundle-'));
  expect(lazy.length).toBeGreaterThan(0);
  for (const f of readdirSync(assets).filter((x) => x.endsWith('.js'))) {
    let text = readFileSync(path.join(assets, f), 'utf8');
    for (const old of lazy) text = text.replaceAll(old, old.replace('.js', '-b.js'));
    writeFileSync(path.join(assets, lazy.includes(f) ? f.replace('.js', '-b.js') : f), lazy.includes(f) ? `${text}\n// build B\n` : text);
    if (lazy.includes(f)) rmSync(path.join(assets, f));
  }
  writeServiceWorker(b);
  return b;
}

test.describe('a new version', () => {
  test.use({ baseURL: `http://localhost:${PORT}`, serviceWorkers: 'allow' });
  let root = '';
  let server: Server;
  let b = '';
  test.beforeAll(async () => {
    const a = mkdtempSync(path.join(tmpdir(), 'rlcf-a-'));
    cpSync('dist', a, { recursive: true });
    root = a;
    b = buildB(a);
    server = await serveStatic(PORT, () => root);
  });
  test.afterAll(() => server.close());

  test('waits for the open tabs: the old tab keeps working, both are told, and after Reload both run the new model', async ({ context }) => {
    const one = await context.newPage();
    await one.goto('/');
    await expect(one.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
    await one.evaluate(async () => void (await navigator.serviceWorker.ready));
    await one.reload(); // under the service worker's control now
    await expect(one.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
    const two = await context.newPage();
    await two.goto('/');
    await expect(two.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
    await two.getByTestId('train').click();
    await expect.poll(async () => Number(await two.getByTestId('iteration').textContent())).toBeGreaterThanOrEqual(3);

    // B is deployed; tab one reloads and finds it.
    root = b;
    await one.reload();
    await expect(one.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
    for (const p of [one, two]) await expect(p.getByTestId('update-banner')).toContainText('A new version is available', { timeout: 30_000 });
    // The old tab still loads its lazily loaded code: the sentiment task opens and scores.
    await two.getByTestId('train').click();
    await two.getByTestId('task-select').selectOption('sentiment');
    await two.getByTestId('confirm-ok').click(); // its run is saved; switching discards it from the page
    await expect(two.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
    await two.getByTestId('step').click();
    await expect(two.getByTestId('iteration')).toHaveText('1', { timeout: 60_000 });

    // Reload in one tab: the run is saved, the new version takes over, and both tabs reload into it.
    await one.getByTestId('update-reload').click();
    for (const p of [one, two]) {
      await expect(p.getByTestId('update-banner')).toHaveCount(0, { timeout: 30_000 });
      await expect(p.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
      const bytes = await p.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer())), `./${MODEL}`);
      expect(Buffer.from(bytes).equals(readFileSync(path.join(b, MODEL))), 'the page reads build B’s model').toBe(true);
    }
  });
});
