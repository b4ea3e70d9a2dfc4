import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { openPlayground, readStoredRun } from './helpers.ts';

// The feedback ladder on the page: a reward learnt from a person's labels, from
// a judge's, and a link that carries the labels.

/** The stored run's metrics once its checkpoint at `n` is written: each iteration's reward, KL and components. */
async function storedMetrics(page: Page, n: number): Promise<{ rewardMean: number; kl: number; rewardComponents: Record<string, number> }[]> {
  await expect.poll(async () => (await readStoredRun(page)).checkpoint?.iteration, { timeout: 30_000 }).toBe(n);
  return (await readStoredRun(page)).metrics.slice(0, n).map((m) => ({ rewardMean: m.rewardMean as number, kl: m.kl as number, rewardComponents: m.rewardComponents as Record<string, number> }));
}

test('a person labels 10 pairs with the keyboard, trains the reward model, and the policy trains on it', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('learn-from').selectOption('person');
  await page.getByTestId('apply-reward').click();
  await expect(page.getByTestId('draft-status')).toHaveCount(0);
  const panel = page.getByTestId('preference-panel');
  await expect(panel).toBeVisible();
  await expect(page.getByTestId('label-count')).toHaveText('0 labels');
  await expect(page.getByTestId('rm-train')).toBeDisabled();
  // The person prefers the longer completion (the alphabetically first when as long), by key: 1 the left, 2 the right;
  // the fourth pair they call a tie (0).
  const prefersLeft = (a: string, b: string) => a.length > b.length || (a.length === b.length && a < b);
  for (let i = 0; i < 10; i++) {
    const left = (await page.getByTestId('pair-left').locator('.text').textContent()) ?? '';
    const right = (await page.getByTestId('pair-right').locator('.text').textContent()) ?? '';
    await page.locator('body').press(i === 3 || left === right ? '0' : prefersLeft(left, right) ? '1' : '2');
    await expect(page.getByTestId('label-count')).toHaveAttribute('data-count', String(i + 1));
  }
  // Retraining every 10 labels is the default: the tenth label fitted the model (on all ten), holding out one of the nine decisive.
  await expect(page.getByTestId('rm-progress')).toHaveAttribute('data-pairs', '10', { timeout: 60_000 });
  await expect(page.getByTestId('rm-progress')).toHaveAttribute('data-stage', 'done', { timeout: 60_000 });
  const accuracy = Number(await page.getByTestId('rm-accuracy').textContent());
  expect(accuracy).toBeGreaterThanOrEqual(0);
  expect(accuracy).toBeLessThanOrEqual(1);
  // One more label by a click, then Train reward model by hand: it refits on all eleven.
  await page.getByTestId('pair-left').click();
  await expect(page.getByTestId('label-count')).toHaveAttribute('data-count', '11');
  await page.getByTestId('rm-train').click();
  await expect(page.getByTestId('rm-progress')).toHaveAttribute('data-pairs', '11', { timeout: 60_000 });
  await expect(page.getByTestId('rm-progress')).toHaveAttribute('data-stage', 'done', { timeout: 60_000 });
  // The policy trains on the reward model's score: a component like any other.
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1', { timeout: 60_000 });
  const m = (await storedMetrics(page, 1))[0].rewardComponents;
  expect(Object.keys(m)).toEqual(['reward']);
  expect(Number.isFinite(m.reward)).toBe(true);
  expect(m.reward).not.toBe(0);
  expect((await new AxeBuilder({ page }).include('[data-testid="preference-panel"]').analyze()).violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  // Renaming the component takes its labels along.
  await page.getByTestId('reward-add').click();
  await page.getByTestId('reward-tab-0').click();
  await page.getByTestId('reward-name').fill('mine');
  await page.getByTestId('apply-reward').click();
  await expect(page.getByTestId('draft-status')).toHaveCount(0);
  await expect(page.getByTestId('label-count')).toHaveAttribute('data-count', '11');
  await expect(page.getByTestId('rm-model')).toHaveAttribute('data-name', 'mine');
});

test('a judge-labelled run fits its reward model on open and charts the proxy against the gold over KL', async ({ page }) => {
  const { defaultExperiment } = await import('../../src/core/experiment/experiment.ts');
  const { encodeExperiment } = await import('../../src/core/experiment/link.ts');
  const e = defaultExperiment('names', 'mlp', 'ppo');
  const judge = 'function reward(sample) {\n  return sample.text.length;\n}\n';
  const experiment = { ...e, rewards: [{ name: 'rm', weight: 1, source: judge, learn: { from: 'judge' as const, pairs: 100, noise: 0, every: 0 } }], pace: { speed: 0 as const, stopAt: 8 } };
  await openPlayground(page, `#${await encodeExperiment(experiment)}`);
  await expect(page.getByTestId('rm-progress')).toHaveAttribute('data-stage', 'done');
  expect(Number(await page.getByTestId('rm-accuracy').textContent())).toBeGreaterThanOrEqual(0.9);
  const chart = page.getByTestId('gold-proxy-chart');
  await expect(chart).toHaveAttribute('data-gold', 'rm_judge');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused', { timeout: 120_000 });
  await expect(chart).toHaveAttribute('data-points', '8');
  await expect(chart.locator('path.goldline')).toHaveAttribute('d', /^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){7}$/);
});

test('a link with labels opens in a fresh context, retrains the same reward model and gives the same first three iterations', async ({ page, browser }) => {
  const { defaultExperiment } = await import('../../src/core/experiment/experiment.ts');
  const { encodeExperiment } = await import('../../src/core/experiment/link.ts');
  const e = defaultExperiment('names', 'mlp', 'ppo');
  const names = ['anna', 'bo', 'christopher', 'di', 'eleanor', 'fay', 'gwendolyn', 'hal', 'isabella', 'jo', 'maximilian', 'ned'];
  const labels = names.slice(0, 11).map((a, i) => ({ reward: 'rm', pa: '', a, pb: '', b: names[i + 1], y: a.length > names[i + 1].length ? (1 as const) : (0 as const), at: 0 }));
  const experiment = { ...e, rewards: [{ name: 'rm', weight: 1, source: e.rewards[0].source, learn: { from: 'person' as const, pairs: 200, noise: 0, every: 10 } }], labels, pace: { speed: 0 as const, stopAt: 3 } };
  const link = `#${await encodeExperiment(experiment)}`;
  const run = async (p: Page) => {
    await openPlayground(p, link);
    await expect(p.getByTestId('label-count')).toHaveText('11 labels');
    await expect(p.getByTestId('rm-progress')).toHaveAttribute('data-stage', 'done');
    const acc = await p.getByTestId('rm-accuracy').textContent();
    await p.getByTestId('train').click();
    await expect(p.getByTestId('status')).toHaveText('paused', { timeout: 120_000 });
    return { acc, rewards: (await storedMetrics(p, 3)).map((m) => [m.rewardMean, m.kl]) };
  };
  const first = await run(page);
  const other = await browser.newContext();
  const second = await run(await other.newPage());
  await other.close();
  expect(second).toEqual(first);
  expect(first.rewards).toHaveLength(3);
});

test('the ladder lesson\'s judge without a leash: the proxy rises, the gold turns down, and the alarm says the reward model is over-optimised', async ({ page }) => {
  await openPlayground(page, '?lesson=feedback-ladder&step=2');
  await expect(page.getByTestId('rm-progress')).toHaveAttribute('data-stage', 'done');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused', { timeout: 180_000 });
  await expect(page.getByTestId('iteration')).toHaveText('50');
  await expect(page.getByTestId('gold-verdict')).toHaveAttribute('data-turned', 'true');
  await expect(page.getByTestId('overoptimised-alarm')).toContainText('The reward model "rm" is being over-optimised');
  await expect(page.getByTestId('overoptimised-alarm')).toContainText(/Its judge's own score \(rm_judge\) peaked at iteration \d+/);
});
