import { deflateSync } from 'node:zlib';
import { expect, test } from './fixtures.ts';
import { iteration, openPlayground, waitForIteration } from './helpers.ts';
import { defaultExperiment, EXPERIMENT_VERSION } from '../../src/core/experiment/experiment.ts';
import { CHART_HELP } from '../../src/ui/metrics/chartHelp.ts';

// Teaching with it: a pace a class can follow, a stop at a chosen iteration, and
// charts that explain themselves.

test('"stop at 5" pauses at iteration 5 by itself, and Train goes on past it', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('stop-at').fill('5');
  await page.getByTestId('stop-at').press('Enter');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused', { timeout: 60_000 });
  expect(await iteration(page)).toBe(5);
  await page.waitForTimeout(1000);
  expect(await iteration(page)).toBe(5);
  await expect(page.getByTestId('chart-reward')).toHaveAttribute('data-points', '5');
  // Train again: the stop is behind, and training goes on until paused.
  await page.getByTestId('train').click();
  await waitForIteration(page, 7);
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused');
});

test('a slow pace: one iteration every 4 s at 0.25 a second, every one drawn, and Pause answers at once', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('speed').selectOption('0.25');
  await page.getByTestId('train').click();
  await waitForIteration(page, 1);
  // The next iteration waits out the pace: the counter holds at 1 (a names iteration takes well under a second).
  await page.waitForTimeout(2000);
  expect(await iteration(page)).toBe(1);
  await expect(page.getByTestId('chart-reward')).toHaveAttribute('data-points', '1');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused', { timeout: 1500 });
  expect(await iteration(page)).toBe(1);
  // As fast as it goes again.
  await page.getByTestId('speed').selectOption('0');
  await page.getByTestId('train').click();
  await waitForIteration(page, 4);
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused');
});

test('a link carries the pace: the controls show it and training keeps it', async ({ page }) => {
  const e = { ...defaultExperiment('names'), pace: { speed: 4, stopAt: 3 } };
  await openPlayground(page, `#exp=${EXPERIMENT_VERSION}.${deflateSync(Buffer.from(JSON.stringify(e))).toString('base64url')}`);
  await expect(page.getByTestId('speed')).toHaveValue('4');
  await expect(page.getByTestId('stop-at')).toHaveValue('3');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused', { timeout: 60_000 });
  expect(await iteration(page)).toBe(3);
  await page.getByTestId('share').click();
  const link = await page.getByTestId('share-link').inputValue();
  const other = await page.context().newPage();
  await openPlayground(other, link.replace('http://localhost:4173/', ''));
  await expect(other.getByTestId('speed')).toHaveValue('4');
  await expect(other.getByTestId('stop-at')).toHaveValue('3');
});

test('every chart has a "?" saying what it measures, what healthy looks like and what trouble looks like', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  const charts = page.getByTestId('charts').locator('figure');
  const count = await charts.count();
  expect(count).toBeGreaterThanOrEqual(6);
  await expect(page.getByTestId('chart-help')).toHaveCount(count);
  const kl = page.locator('figure', { hasText: 'KL to reference' });
  await kl.getByTestId('chart-help').click();
  await expect(kl.getByTestId('chart-help')).toHaveAttribute('aria-expanded', 'true');
  await expect(kl.getByTestId('chart-help-text')).toContainText(CHART_HELP.kl.measures);
  await expect(kl.getByTestId('chart-help-text')).toContainText('Healthy:');
  await expect(kl.getByTestId('chart-help-text')).toContainText('Trouble:');
  for (let i = 0; i < count; i++) {
    const figure = charts.nth(i);
    if ((await figure.getByTestId('chart-help').getAttribute('aria-expanded')) !== 'true') await figure.getByTestId('chart-help').click();
    await expect(figure.getByTestId('chart-help-text')).toContainText('Trouble:');
  }
  // The same on a control task, whose charts differ.
  await page.getByTestId('task-select').selectOption('cartpole');
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 60_000 });
  await expect(page.getByTestId('chart-help')).toHaveCount(await charts.count());
  await page.getByTestId('chart-reward').getByTestId('chart-help').click();
  await expect(page.getByTestId('chart-reward').getByTestId('chart-help-text')).toContainText(CHART_HELP.episodeReturn.measures);
});

test('keys for presenting: Space trains and pauses, S steps, R resets (asking), ? lists them; focus returns after a dialog', async ({ page }) => {
  await openPlayground(page);
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('s');
  await expect(page.getByTestId('iteration')).toHaveText('1');
  await page.keyboard.press(' ');
  await expect(page.getByTestId('status')).toHaveText('training');
  await waitForIteration(page, 3);
  await page.keyboard.press(' ');
  await expect(page.getByTestId('status')).toHaveText('paused');
  // Keys typed into a field are the field's.
  await page.getByTestId('bench-input').fill('');
  await page.getByTestId('bench-input').press('s');
  await expect(page.getByTestId('bench-input')).toHaveValue('s');
  const at = await iteration(page);
  expect(at).toBeGreaterThanOrEqual(3);
  // R asks, as the button does; Cancel keeps the run and gives the focus back.
  await page.getByTestId('reset').focus();
  await page.keyboard.press('r');
  await expect(page.getByTestId('confirm')).toContainText(`Discard the run of ${at} iterations?`);
  await expect(page.getByTestId('confirm')).toContainText('This run stays in Saved runs');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('confirm')).not.toBeVisible();
  expect(await iteration(page)).toBe(at);
  await expect(page.getByTestId('reset')).toBeFocused();
  // ? lists the keys, and so does the Help menu.
  await page.keyboard.press('?');
  await expect(page.getByTestId('shortcuts')).toBeVisible();
  await expect(page.getByTestId('shortcuts')).toContainText('Space');
  await page.getByTestId('shortcuts-close').click();
  await expect(page.getByTestId('shortcuts')).not.toBeVisible();
  await page.getByTestId('help-menu').locator('summary').click();
  await page.getByTestId('shortcuts-open').click();
  await expect(page.getByTestId('shortcuts')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('help-menu').locator('summary')).toBeFocused();
});

test('accessibility: axe finds no violation on the page after training, with a chart help open, and in the classroom view', async ({ page }) => {
  const { default: AxeBuilder } = await import('@axe-core/playwright');
  const check = async (where: string) => {
    const result = await new AxeBuilder({ page }).analyze();
    const found = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}, ${v.nodes.length} node(s): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
    expect(found, `${where}:\n${found.join('\n')}`).toEqual([]);
  };
  await openPlayground(page);
  await page.getByTestId('step').click();
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('2');
  await check('the main page after 2 iterations');
  await page.locator('figure', { hasText: 'KL to reference' }).getByTestId('chart-help').click();
  await check('a chart help open');
  await openPlayground(page, '?view=classroom');
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  await check('the classroom view');
});
