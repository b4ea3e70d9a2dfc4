import { readFile } from 'node:fs/promises';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { openPlayground } from './helpers.ts';

// Samples across the whole run: every iteration's batch is kept (and saved with
// the run); the slider and a click on a chart show any of them; search looks
// through all of them.

/** The batch on screen, in batch order: each sample's text and reward as shown. */
async function shownBatch(page: Page): Promise<string[]> {
  return page.getByTestId('samples').locator('li').evaluateAll((rows) => rows.map((r) => `${r.querySelector('.text')?.textContent} = ${r.querySelector('.reward')?.textContent}`));
}

test('after 20 iterations the slider shows iteration 3 exactly as it was, a chart click shows its iteration, search finds samples across the run, and the resumed saved run keeps it all', async ({ page }) => {
  const { defaultExperiment } = await import('../../src/core/experiment/experiment.ts');
  const { encodeExperiment } = await import('../../src/core/experiment/link.ts');
  await openPlayground(page, `#${await encodeExperiment({ ...defaultExperiment('names', 'mlp', 'ppo'), pace: { speed: 0, stopAt: 20 } })}`);
  for (let i = 1; i <= 3; i++) {
    await page.getByTestId('step').click();
    await expect(page.getByTestId('iteration')).toHaveText(String(i));
  }
  await page.getByTestId('samples-order').selectOption('batch');
  await expect(page.getByTestId('samples-iteration')).toHaveText('of iteration 3');
  const third = await shownBatch(page);
  expect(third.length).toBeGreaterThan(8);

  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused', { timeout: 120_000 });
  await expect(page.getByTestId('iteration')).toHaveText('20');
  const slider = page.getByTestId('history-slider');
  await expect(slider).toHaveValue('20');
  await expect(page.getByTestId('history-shown')).toHaveText('20 (latest)');
  await slider.fill('3');
  await expect(slider).toHaveValue('3');
  await expect(page.getByTestId('samples-iteration')).toHaveText('of iteration 3');
  expect(await shownBatch(page)).toEqual(third);
  expect((await new AxeBuilder({ page }).include('[data-testid="history"]').analyze()).violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);

  // A click on the reward chart, a third of the way along, shows that iteration's batch and marks it on every chart.
  const over = page.getByTestId('chart-reward').locator('.u-over');
  const box = (await over.boundingBox())!;
  await over.click({ position: { x: box.width / 3, y: box.height / 2 } });
  const picked = Number(await slider.inputValue());
  expect(picked).toBeGreaterThan(3);
  expect(picked).toBeLessThan(20);
  await expect(page.getByTestId('samples-iteration')).toHaveText(`of iteration ${picked}`);
  await expect(page.getByTestId('chart-kl')).toHaveAttribute('data-picked', String(picked));
  await page.getByTestId('history-latest').click();
  await expect(page.getByTestId('samples-iteration')).toHaveText('of iteration 20');

  // Search across the run: the third iteration's first text is found there, and its iteration opens from the result.
  const text = third[0].split(' = ')[0];
  const search = page.getByTestId('sample-search');
  await page.getByText('Search samples across the run').click();
  await search.getByTestId('search-text').fill(text);
  await search.getByTestId('search-run').click();
  await expect(page.getByTestId('search-summary')).toContainText(/^\d+ samples? in \d+ iterations? \(up to iteration 20\)/);
  const results = page.getByTestId('search-results').locator('li');
  await expect(results.filter({ hasText: 'it. 3' }).first()).toBeVisible();
  await results.filter({ hasText: 'it. 3' }).first().getByRole('button').click();
  await expect(slider).toHaveValue('3');
  const download = page.waitForEvent('download');
  await page.getByTestId('export-samples').click();
  const lines = (await readFile((await (await download).path())!, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  expect(lines).toHaveLength(20 * third.length);
  expect(lines.filter((l) => l.iteration === 3).map((l) => `${l.text} = ${Number.isInteger(l.reward) ? l.reward : l.reward.toFixed(3)}`)).toEqual(third);
  expect((await new AxeBuilder({ page }).include('[data-testid="sample-search"]').analyze()).violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);

  // The saved run, resumed after a reload, keeps its history.
  await expect.poll(() => page.evaluate(() => new Promise<number>((resolve) => {
    const open = indexedDB.open('rlcf-playground');
    open.onsuccess = () => {
      const req = open.result.transaction('history').objectStore('history').getAll();
      req.onsuccess = () => {
        resolve(req.result.length);
        open.result.close();
      };
    };
  })), { timeout: 30_000 }).toBe(20);
  await page.reload();
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await page.getByTestId('runs-panel').locator('summary').click();
  await page.getByTestId('run-resume').first().click();
  await expect(page.getByTestId('iteration')).toHaveText('20', { timeout: 60_000 });
  await page.getByTestId('history-slider').fill('3');
  await page.getByTestId('samples-order').selectOption('batch');
  await expect(page.getByTestId('samples-iteration')).toHaveText('of iteration 3');
  expect(await shownBatch(page)).toEqual(third);
});

test('probe prompts: a row per probe, a column every 5 iterations from the start, changes marked; new prompts start the table again', async ({ page }) => {
  const { defaultExperiment } = await import('../../src/core/experiment/experiment.ts');
  const { encodeExperiment } = await import('../../src/core/experiment/link.ts');
  await openPlayground(page, `#${await encodeExperiment({ ...defaultExperiment('names', 'mlp', 'ppo'), pace: { speed: 0, stopAt: 20 }, probes: { prompts: ['', 'ma', 'jo'], every: 5 } })}`);
  const table = page.getByTestId('probe-table');
  await expect(table.getByTestId('probe-row')).toHaveCount(3);
  await expect(table.locator('thead th')).toHaveText(['prompt', 'start']);
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused', { timeout: 120_000 });
  await expect(table.locator('thead th')).toHaveText(['prompt', 'start', 'it. 5', 'it. 10', 'it. 15', 'it. 20']);
  await expect(table.getByTestId('probe-row').first().locator('th')).toHaveText('(no prompt)');
  await expect(table.getByTestId('probe-row').nth(1).locator('td').first()).toContainText(/./);
  // Twenty iterations move the policy: some completion changed, and is marked; the start never is.
  expect(await table.locator('[data-changed="true"]').count()).toBeGreaterThan(0);
  expect(await table.locator('tbody tr td:nth-child(2) [data-changed="true"]').count()).toBe(0);
  expect((await new AxeBuilder({ page }).include('.probes').analyze()).violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);

  // New prompts: checked (a symbol names never write is refused, saying which), then a fresh table at this iteration.
  await page.getByTestId('probe-change').click();
  await page.getByTestId('probe-prompt').nth(1).fill('m9');
  await page.getByTestId('probe-save').click();
  await expect(page.getByRole('alert')).toContainText('probes.prompts[1] has "9"');
  await page.getByTestId('probe-prompt').nth(1).fill('li');
  await page.getByTestId('probe-save').click();
  await expect(table.locator('thead th')).toHaveText(['prompt', 'it. 20']);
  await expect(table.getByTestId('probe-row').nth(1).locator('th')).toHaveText('li');
  // Reset: the table starts again from the reference, with the prompts in force.
  await page.getByTestId('reset').click();
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('iteration')).toHaveText('0');
  await expect(table.locator('thead th')).toHaveText(['prompt', 'start']);
  await expect(table.getByTestId('probe-row').nth(1).locator('th')).toHaveText('li');
});

test('proxy against gold: the example pair puts a held-out component at weight 0, and the gold chart draws it against the trained total over KL', async ({ page }) => {
  const { defaultExperiment } = await import('../../src/core/experiment/experiment.ts');
  const { encodeExperiment } = await import('../../src/core/experiment/link.ts');
  await openPlayground(page, `#${await encodeExperiment({ ...defaultExperiment('names', 'mlp', 'ppo'), pace: { speed: 0, stopAt: 8 } })}`);
  await expect(page.getByTestId('gold-chart')).toHaveCount(0);
  await page.getByTestId('example-select').selectOption({ label: 'Vowels (trained) against a name a person could say (gold)' });
  await expect(page.getByTestId('reward-name')).toHaveValue('vowels');
  await page.getByTestId('apply-reward').click();
  await expect(page.getByTestId('draft-status')).toHaveCount(0);
  const chart = page.getByTestId('gold-chart');
  await expect(chart).toHaveAttribute('data-gold', 'sayable');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused', { timeout: 120_000 });
  await expect(chart).toHaveAttribute('data-points', '8');
  await expect(chart.locator('path.goldline')).toHaveAttribute('d', /^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){7}$/);
  await expect(page.getByTestId('gold-verdict')).toContainText(/Since the start the proxy moved [+-][\d.]+ and the gold [+-][\d.]+\./);
  expect((await new AxeBuilder({ page }).include('[data-testid="gold-chart"]').analyze()).violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
});
