import AxeBuilder from '@axe-core/playwright';
import { expect, test } from './fixtures.ts';
import { openPlayground } from './helpers.ts';

// Runs that compare: any metric (each reward component too) with the live
// charts' smoothing, what differs in code and settings, a note per run, names
// that tell runs apart, every button on screen at 1,024 px.

test('compare: a component of two runs on one chart, what differs between them, a note kept across a reload, and every button on screen at 1,024 px', async ({ page }) => {
  await page.setViewportSize({ width: 1024, height: 800 });
  const { defaultExperiment } = await import('../../src/core/experiment/experiment.ts');
  const { encodeExperiment } = await import('../../src/core/experiment/link.ts');
  const { GOLD_EXAMPLES } = await import('../../src/core/tasks/goldExamples.ts');
  await openPlayground(page, `#${await encodeExperiment({ ...defaultExperiment('names', 'mlp', 'ppo'), rewards: GOLD_EXAMPLES.names.rewards, pace: { speed: 0, stopAt: 4 } })}`);
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused', { timeout: 120_000 });
  // Another run: the same rewards, trained by GRPO.
  await page.getByTestId('algorithm-select').selectOption('grpo');
  await page.getByTestId('confirm-ok').click(); // this run stays in Saved runs
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 60_000 });
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused', { timeout: 120_000 });

  await page.getByTestId('runs-panel').locator('summary').click();
  const runs = page.getByTestId('saved-run');
  await expect(runs).toHaveCount(2);
  // Names that tell them apart: the algorithm and what the reward says of itself.
  await expect(page.getByTestId('run-name').nth(0)).toHaveValue(/^Baby names · GRPO · Proxy: the share of vowels in the name \(\+1 component\) · /);
  await expect(page.getByTestId('run-name').nth(1)).toHaveValue(/^Baby names · PPO · Proxy: the share of vowels in the name \(\+1 component\) · /);
  for (const b of await page.getByTestId('runs-panel').getByRole('button').all()) {
    const box = (await b.boundingBox())!;
    expect(box.x + box.width, `${await b.textContent()} within 1,024 px`).toBeLessThanOrEqual(1024);
  }

  await page.getByTestId('run-compare').nth(0).check();
  await page.getByTestId('run-compare').nth(1).check();
  await page.getByTestId('compare-metric').selectOption('component:sayable');
  const chart = page.getByTestId('compare-chart');
  await expect(chart.locator('figcaption')).toContainText('Component "sayable"');
  await expect(chart.locator('.u-legend .u-series')).toHaveCount(3); // x plus two runs
  await expect(chart).toHaveAttribute('data-points', '4');
  // The smoothing is the live charts' own.
  await page.getByTestId('compare-smoothing').fill('0');
  await expect(page.getByTestId('smoothing')).toHaveValue('0');
  const diff = page.getByTestId('compare-diff');
  await expect(diff.getByTestId('diff-setting').filter({ hasText: 'algorithm' })).toContainText(/algorithm\s*grpo\s*ppo/);
  await expect(diff.getByTestId('diff-reward')).toHaveCount(0); // the same rewards
  expect((await new AxeBuilder({ page }).include('[data-testid="runs-panel"]').analyze()).violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);

  await page.getByTestId('run-note').nth(1).fill('PPO, first try: sayable peaks early');
  await page.getByTestId('run-note').nth(1).blur();
  await expect.poll(() => page.evaluate(() => new Promise<string>((resolve) => {
    const open = indexedDB.open('rlcf-playground');
    open.onsuccess = () => {
      const req = open.result.transaction('runs').objectStore('runs').getAll();
      req.onsuccess = () => {
        resolve(req.result.map((r: { note?: string }) => r.note ?? '').join('|'));
        open.result.close();
      };
    };
  }))).toContain('PPO, first try');
  await page.reload();
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await page.getByTestId('runs-panel').locator('summary').click();
  await expect(page.getByTestId('run-note').nth(1)).toHaveValue('PPO, first try: sayable peaks early');
});

test('compare shows what differs in the reward code, line by line', async ({ page }) => {
  await openPlayground(page, '');
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  await page.getByTestId('reward-editor').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.insertText('// Shorter.\nfunction reward(sample) {\n  return -sample.text.length;\n}\n');
  await page.getByTestId('reset').click();
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('iteration')).toHaveText('0');
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  await page.getByTestId('runs-panel').locator('summary').click();
  await expect(page.getByTestId('saved-run')).toHaveCount(2);
  await page.getByTestId('run-compare').nth(0).check();
  await page.getByTestId('run-compare').nth(1).check();
  const code = page.getByTestId('diff-reward');
  await expect(code).toHaveCount(1);
  await expect(code.locator('[data-kind="added"]').first()).toContainText('// Longer names score higher.');
  await expect(code.locator('[data-kind="removed"]').first()).toContainText('// Shorter.');
});
