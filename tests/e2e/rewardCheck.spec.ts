import AxeBuilder from '@axe-core/playwright';
import { expect, test } from './fixtures.ts';
import { applyReward, iteration, openPlayground, typeReward } from './helpers.ts';

// The check before training: on Apply the reward is scored on the reference
// samples and the task's edge cases, and what would not teach is said in words.

test('the reward check: the default reward passes; a reward whose empty completion beats every reference sample is called a loophole on Apply, and nothing trains', async ({ page }) => {
  await openPlayground(page);
  await expect(page.getByTestId('reward-check')).toContainText('Reward checked on 16 reference samples and 4 edge cases: no warning.', { timeout: 60_000 });
  await applyReward(page, '// Longer is better, but empty is best.\nfunction reward(sample) {\n  return sample.text.length === 0 ? 5 : sample.text.length / 10;\n}\n');
  const warning = page.getByTestId('reward-warning');
  await expect(warning).toHaveCount(1, { timeout: 60_000 });
  await expect(warning).toHaveAttribute('data-kind', 'loophole');
  await expect(warning).toContainText(/An empty completion \(the stop token at once\) scores 5, above every reference sample \(best \d/);
  expect(await iteration(page)).toBe(0);
  expect((await new AxeBuilder({ page }).include('[data-testid="reward-check"]').analyze()).violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  // A constant reward: said too, and it does not block Train.
  await applyReward(page, 'function reward() {\n  return 1;\n}\n');
  await expect(page.getByTestId('reward-warning')).toHaveAttribute('data-kind', 'constant', { timeout: 60_000 });
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
});

test('why is it stalling: after a few iterations of RLOO the panel reads the signs in words, with their numbers', async ({ page }) => {
  const { defaultExperiment } = await import('../../src/core/experiment/experiment.ts');
  const { encodeExperiment } = await import('../../src/core/experiment/link.ts');
  await openPlayground(page, `#${await encodeExperiment({ ...defaultExperiment('names', 'mlp', 'rloo'), pace: { speed: 0, stopAt: 4 } })}`);
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused', { timeout: 60_000 });
  const panel = page.getByTestId('stall-panel');
  await panel.locator('summary').click();
  await expect(panel.locator('[data-sign="clip"]')).toContainText(/Clip fraction \d+% per update/);
  await expect(panel.locator('[data-sign="equal-groups"]')).toContainText(/\d+% of the groups scored all alike/);
  await expect(panel.locator('[data-sign="settings"]')).toContainText('learning rate');
  await expect(panel.locator('[data-sign="kl-share"]')).toHaveCount(0); // PPO's
  expect((await new AxeBuilder({ page }).include('[data-testid="stall-panel"]').analyze()).violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
});

test('what-if: edited code is scored on the batch on screen before Apply, with rank changes and the samples that moved most; nothing trains', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  await typeReward(page, 'function reward(sample) {\n  return -sample.text.length;\n}\n');
  const w = page.getByTestId('what-if');
  await expect(w).toContainText('If applied', { timeout: 30_000 });
  expect(Number(await w.getByTestId('what-if-ranks').getAttribute('data-value'))).toBeGreaterThan(10);
  expect(Number(await w.getByTestId('what-if-correlation').getAttribute('data-value'))).toBeLessThan(-0.9); // shorter against longer
  await expect(w.getByTestId('what-if-moved').first()).toContainText('rank');
  expect(await iteration(page)).toBe(1);
  await expect(page.getByTestId('status')).toHaveText('paused');
  expect((await new AxeBuilder({ page }).include('[data-testid="what-if"]').analyze()).violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  await page.getByTestId('apply-reward').click();
  await expect(w).toHaveCount(0);
});
