import { expect, test } from './fixtures.ts';
import { applyReward, iteration, openPlayground, typeReward, waitForIteration } from './helpers.ts';

test('Train applies the code on screen first: an example picked and not applied is what trains', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('example-select').selectOption('startsWithZ');
  await expect(page.getByTestId('draft-status')).toContainText('Not applied yet');
  await expect(page.getByTestId('train')).toHaveText('Apply & train');
  await page.getByTestId('train').click();
  await waitForIteration(page, 2);
  await expect(page.getByTestId('draft-status')).toHaveCount(0);
  await expect(page.getByTestId('apply-reward')).toHaveText('Apply');
  // Every sample scores 0 or 1: the "starts with z" reward, not the length reward that was applied before.
  const rewards = (await page.getByTestId('samples').locator('.reward').allTextContents()).map(Number);
  expect(rewards.length).toBeGreaterThan(0);
  expect(rewards.every((r) => r === 0 || r === 1)).toBe(true);

  // Editing while training says plainly that the run still uses the applied reward.
  await typeReward(page, 'function reward(sample) {\n  return 2;\n}\n');
  await expect(page.getByTestId('draft-status')).toContainText('training still uses the previous reward');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused');
});

test('discarding a run asks first: task, policy and Reset; Cancel keeps everything', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');

  await page.getByTestId('task-select').selectOption('shakespeare');
  await expect(page.getByTestId('confirm')).toContainText('Discard the run of 1 iteration?');
  await page.getByTestId('confirm-cancel').click();
  await expect(page.getByTestId('task-select')).toHaveValue('names');
  await expect(page.getByTestId('iteration')).toHaveText('1');

  await page.getByTestId('arch-select').selectOption('transformer');
  await expect(page.getByTestId('confirm')).toBeVisible();
  await page.keyboard.press('Escape'); // counts as Cancel
  await expect(page.getByTestId('arch-select')).toHaveValue('mlp');
  await expect(page.getByTestId('iteration')).toHaveText('1');

  await page.getByTestId('reset').click();
  await page.getByTestId('confirm-cancel').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  await expect(page.getByTestId('samples').locator('li')).not.toHaveCount(0);

  await page.getByTestId('task-select').selectOption('shakespeare');
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await expect(page.getByTestId('task-select')).toHaveValue('shakespeare');
  await expect(page.getByTestId('iteration')).toHaveText('0');
  // Nothing to lose: no question.
  await page.getByTestId('task-select').selectOption('names');
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await expect(page.getByTestId('confirm')).not.toBeVisible();
});

test('a saved run leaves without asking (a reload offers to resume it)', async ({ page }) => {
  await openPlayground(page);
  // The browser asks when a beforeunload listener cancels the event.
  const leaveAsks = () => page.evaluate(() => !dispatchEvent(new Event('beforeunload', { cancelable: true })));
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  await page.getByTestId('runs-panel').locator('summary').click();
  await expect(page.getByTestId('saved-run')).toHaveCount(1);
  expect(await leaveAsks()).toBe(false); // saved: nothing to lose (without storage it asks: experiments.spec.ts)
});

test('each task keeps its settings; a refused setting is marked and the value in force shown', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('hp-toggle').click();
  await page.getByTestId('hp-batchSize').fill('32');
  await page.getByTestId('hp-batchSize').press('Enter');
  await page.getByTestId('task-select').selectOption('shakespeare');
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await expect(page.getByTestId('hp-batchSize')).toHaveValue('64');
  await page.getByTestId('task-select').selectOption('names');
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await expect(page.getByTestId('hp-batchSize')).toHaveValue('32');
  await page.getByTestId('step').click();
  await expect(page.getByTestId('samples-stats')).toContainText('32 samples');

  await page.getByTestId('hp-learningRate').fill('5');
  await page.getByTestId('hp-learningRate').press('Enter');
  await expect(page.getByTestId('hp-problem-learningRate')).toContainText('Not applied: learningRate must be between');
  await expect(page.getByTestId('hp-in-force-learningRate')).toHaveText('0.001');
  await expect(page.getByTestId('hp-learningRate')).toHaveAttribute('aria-invalid', 'true');
  await page.getByTestId('hp-problem-learningRate').getByRole('button', { name: 'Revert' }).click();
  await expect(page.getByTestId('hp-learningRate')).toHaveValue('0.001');
  await expect(page.getByTestId('hp-problem-learningRate')).toHaveCount(0);
});

test('charts: axes fit negative labels, the legend shows the latest values, markers say what changed, Reset empties them', async ({ page }) => {
  await openPlayground(page);
  await expect(page.getByTestId('chart-reward').getByText('No data yet: press Train or Step.')).toBeVisible();
  await applyReward(page, 'function reward(sample) {\n  return -123456.5 * sample.text.length;\n}\n');
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('2');

  // Every y axis is as wide as its widest tick label, measured here in the axis font.
  const axes = await page.locator('figure[data-axes]').evaluateAll((figs) =>
    figs.flatMap((f) =>
      (JSON.parse(f.getAttribute('data-axes')!) as { labels: string[]; size: number; font: string; gap: number; ticks: number }[]).map((a) => {
        const ctx = document.createElement('canvas').getContext('2d')!;
        ctx.font = a.font;
        const widest = Math.max(0, ...a.labels.map((l) => ctx.measureText(l).width));
        return { labels: a.labels, room: a.size - a.gap - a.ticks, widest };
      }),
    ),
  );
  const negative = axes.filter((a) => a.labels.some((l) => l.startsWith('-')));
  expect(negative.length).toBeGreaterThan(0);
  expect(negative.some((a) => a.labels.some((l) => /^-\d{1,3}(,\d{3})+$/.test(l)))).toBe(true); // e.g. -1,000,000
  for (const a of axes) expect(a.widest, `labels ${a.labels.join(' ')}`).toBeLessThanOrEqual(a.room);

  // Legends show the latest values; the KL chart has its target line.
  const kl = page.locator('figure', { hasText: 'KL to reference' });
  const legend = (label: string) => kl.locator('.u-legend .u-series').filter({ has: page.locator('.u-label', { hasText: new RegExp(`^${label}$`) }) }).locator('.u-value');
  await expect(legend('KL target')).toHaveText('6');
  await expect(legend('KL')).toHaveText(/^-?\d/);

  // Two changes between the same two iterations: one marker, both named.
  await page.getByTestId('example-select').selectOption('short');
  await page.getByTestId('apply-reward').click();
  await expect(page.getByTestId('apply-reward')).toHaveText('Apply');
  await page.getByTestId('hp-toggle').click();
  await page.getByTestId('hp-learningRate').fill('0.0005');
  await page.getByTestId('hp-learningRate').press('Enter');
  await expect(page.getByTestId('chart-reward')).toHaveAttribute('data-markers', '2');
  await expect(page.getByTestId('chart-reward')).toHaveAttribute('data-marker-labels', JSON.stringify(['reward: Shorter names (lesson: reward hacking); learningRate = 0.0005']));
  await expect(page.getByTestId('changes')).toContainText('after iteration 2: reward: Shorter names (lesson: reward hacking); learningRate = 0.0005');
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('3');

  await page.getByTestId('reset').click();
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('iteration')).toHaveText('0');
  for (const chart of await page.locator('figure').all()) await expect(chart.getByText('No data yet: press Train or Step.')).toBeVisible();
  await expect(page.getByTestId('changes')).toHaveCount(0);
});

test('samples: the whole batch, ranked with ties, distinct share, and reference samples scored under the applied reward', async ({ page }) => {
  await openPlayground(page);
  // Reference samples are scored under the length reward already applied.
  const refs = page.getByTestId('reference-samples').locator('li');
  await expect(refs).toHaveCount(16);
  const refText = await refs.first().locator('.text').textContent();
  await expect(refs.first().locator('.reward')).toHaveText(String(refText!.length));
  await applyReward(page, 'function reward(sample) {\n  return sample.text.length >= 6 ? 1 : 0;\n}\n');
  await expect(refs.first().locator('.reward')).toHaveText(refText!.length >= 6 ? '1' : '0');
  await expect(page.getByTestId('reference-mean')).toContainText('mean reward');

  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  const items = page.getByTestId('samples').locator('li');
  await expect(items).toHaveCount(64);
  await expect(page.getByTestId('samples-stats')).toContainText(/64 samples, \d+ distinct \(\d+%\)/);
  // Highest first; every sample scoring 1 shares rank 1 and is marked as tied and best.
  const top = items.first();
  await expect(top).toHaveAttribute('data-rank', '1');
  await expect(top).toHaveAttribute('data-tied', 'true');
  const ones = await items.filter({ has: page.locator('.reward', { hasText: /^1$/ }) }).count();
  expect(ones).toBeGreaterThan(1);
  await expect(page.getByTestId('samples').locator('li[data-rank="1"]')).toHaveCount(ones);
  await expect(page.getByTestId('samples').locator('li.best')).toHaveCount(ones);
  await expect(page.getByTestId('samples').locator(`li[data-rank="${ones + 1}"]`)).toHaveCount(64 - ones);
  await page.getByTestId('samples-order').selectOption('reward-asc');
  await expect(items.first().locator('.reward')).toHaveText('0');
});

test('long lines wrap instead of being cut', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('task-select').selectOption('shakespeare');
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  const cut = await page
    .getByTestId('samples')
    .locator('.text')
    .evaluateAll((els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1 || getComputedStyle(e).textOverflow === 'ellipsis').length);
  expect(cut).toBe(0);
  const heights = await page.getByTestId('samples').locator('.text').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().height));
  expect(Math.max(...heights)).toBeGreaterThan(Math.min(...heights) * 1.5); // some line took two rows
});

test('Pause says pausing until the iteration ends, and the test bench answers while an iteration runs', async ({ page }) => {
  await openPlayground(page);
  // Slow only in training batches (the bench and the check before Apply score fewer than 40 texts),
  // within a time limit raised for it.
  await page.getByTestId('hp-toggle').click();
  await page.getByTestId('hp-rewardTimeLimitMs').fill('10000');
  await page.getByTestId('hp-rewardTimeLimitMs').press('Enter');
  await applyReward(page, 'function reward(sample) {\n  if (sample.index === 40) { const t = Date.now(); while (Date.now() - t < 2500) {} }\n  return sample.text.length;\n}\n');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await page.getByTestId('train').click();
  await waitForIteration(page, 1);
  // Right after an iteration ended, the next one has about 2.5 s to go.
  const before = await iteration(page);
  await expect.poll(() => iteration(page), { timeout: 60_000, intervals: [20] }).toBe(before + 1);
  await page.getByTestId('bench-input').fill('abcdefghijklm');
  await expect(page.getByTestId('bench-result')).toHaveText('reward = 13');
  expect(await iteration(page)).toBe(before + 1);

  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('pausing…');
  await expect(page.getByTestId('train')).toHaveText('Pausing…');
  // It says it is busy but keeps the keyboard's focus (a disabled button would drop it to the page).
  await expect(page.getByTestId('train')).toHaveAttribute('aria-disabled', 'true');
  await expect(page.getByTestId('train')).toBeFocused();
  await expect(page.getByTestId('status')).toHaveText('paused', { timeout: 30_000 });
  await expect(page.getByTestId('train')).toBeFocused();
  await expect(page.getByTestId('train')).toHaveText('Train');
});

test('the first screen: what this is in one line, one primary button, the backend reason in its tooltip, no horizontal scroll at 1024 px', async ({ page }) => {
  await page.setViewportSize({ width: 1024, height: 800 });
  await openPlayground(page);
  await expect(page.getByTestId('tagline')).toHaveText('Reinforcement learning from computational feedback: write a reward, press Train, watch a small model change.');
  await expect(page.getByTestId('start-hint')).toContainText('press Train');
  await expect(page.locator('button.primary:visible')).toHaveCount(1);
  await expect(page.getByTestId('train')).toHaveClass(/primary/);
  await expect(page.getByTestId('backend-reason')).toHaveAttribute('title', /^Backend wasm: /);
  await expect(page.getByText(/^Backend wasm:/)).toHaveCount(0);

  await typeReward(page, 'function reward(sample) {\n  return -sample.text.length;\n}\n');
  await expect(page.locator('button.primary:visible')).toHaveCount(1);
  await expect(page.getByTestId('apply-reward')).toHaveClass(/primary/);

  // Every panel open, with a run on the charts and samples.
  await page.getByTestId('hp-toggle').click();
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  await expect(page.locator('button.primary:visible')).toHaveCount(1);
  for (const d of await page.locator('details').all()) await d.evaluate((el) => ((el as HTMLDetailsElement).open = true));
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth }));
  expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
});
