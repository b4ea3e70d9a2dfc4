import { expect, test } from './fixtures.ts';
import { applyReward, iteration, openPlayground, waitForIteration } from './helpers.ts';

const LENGTH = 'function reward(sample, ctx) {\n  return sample.text.length;\n}\n';

test('a typed reward trains: the mean reward rises over the first iterations', async ({ page }) => {
  await openPlayground(page);
  await expect(page.getByTestId('task-select')).toHaveValue('names');
  expect(await page.getByTestId('task-select').evaluate((el) => el.tagName)).toBe('SELECT');
  await applyReward(page, LENGTH);
  await expect(page.getByTestId('error')).toHaveCount(0);
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('training');
  await expect(page.getByTestId('train')).toHaveText('Pause');
  // Record (iteration, mean reward) pairs as the page shows them.
  const seen = new Map<number, number>();
  await expect
    .poll(
      async () => {
        const [it, mean] = await Promise.all([iteration(page), page.getByTestId('mean-reward').textContent()]);
        if (it > 0 && mean) seen.set(it, Number(mean));
        return it;
      },
      { timeout: 120_000, intervals: [50] },
    )
    .toBeGreaterThanOrEqual(20);
  const its = [...seen.keys()].sort((a, b) => a - b);
  const early = seen.get(its[0])!;
  const late = seen.get(its.at(-1)!)!;
  console.log(`mean reward ${early} at iteration ${its[0]}, ${late} at iteration ${its.at(-1)}`);
  expect(its[0]).toBeLessThanOrEqual(3);
  expect(late).toBeGreaterThan(early * 1.15);
  await expect(page.getByTestId('samples').locator('li')).not.toHaveCount(0);

  // A new reward while training, applied with Ctrl+Enter: the run keeps going and the charts mark the change.
  await page.getByTestId('reward-editor').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.insertText('function reward(sample, ctx) {\n  return -sample.text.length;\n}\n');
  const changedAfter = await iteration(page);
  await page.keyboard.press('ControlOrMeta+Enter');
  await expect(page.getByTestId('chart-reward')).toHaveAttribute('data-markers', /^\d+$/);
  const marker = Number(await page.getByTestId('chart-reward').getAttribute('data-markers'));
  expect(marker).toBeGreaterThanOrEqual(changedAfter);
  await waitForIteration(page, marker + 2);
  expect(Number(await page.getByTestId('mean-reward').textContent())).toBeLessThan(0);
  await expect(page.getByTestId('status')).toHaveText('training');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused');

  // The legend shows the latest values; hovering a chart shows that iteration's values instead.
  const chart = page.getByTestId('chart-reward');
  const meanValue = chart.locator('.u-legend .u-series', { hasText: 'mean reward' }).locator('.u-value');
  const iterValue = chart.locator('.u-legend .u-series', { hasText: 'iteration' }).locator('.u-value');
  await expect(meanValue).toHaveText(/^-?\d+(\.\d+)?$/);
  await expect(iterValue).toHaveText(await page.getByTestId('iteration').textContent() as string);
  const box = (await chart.locator('.u-over').boundingBox())!;
  await page.mouse.move(box.x + 2, box.y + box.height / 2);
  await expect(iterValue).toHaveText('1');
  await expect(meanValue).toHaveText(/^-?\d+(\.\d+)?$/);
});

test('Pause stops the counter and Step adds exactly one iteration', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('train').click();
  await waitForIteration(page, 2);
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused');
  const paused = await iteration(page);
  await page.waitForTimeout(1500);
  expect(await iteration(page)).toBe(paused);
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText(String(paused + 1));
  await page.waitForTimeout(1000);
  expect(await iteration(page)).toBe(paused + 1);
  await expect(page.getByTestId('status')).toHaveText('paused');
});

test('a reward that throws pauses with its message and what to do; the fixed reward continues the run on Train', async ({ page }) => {
  await openPlayground(page);
  await applyReward(page, "function reward(sample, ctx) {\n  if (ctx.iteration >= 4) throw new Error('broken on purpose');\n  return sample.text.length;\n}\n");
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('error');
  await expect(page.getByTestId('error')).toContainText('broken on purpose');
  await expect(page.getByTestId('error')).toContainText('sample 0');
  await expect(page.getByTestId('error')).toContainText('Fix the code and press Apply, then Train');
  await expect(page.getByTestId('iteration')).toHaveText('3');
  await page.waitForTimeout(500);
  await expect(page.getByTestId('iteration')).toHaveText('3'); // nothing ran on
  await applyReward(page, LENGTH);
  await expect(page.getByTestId('error')).toHaveCount(0);
  // Apply does not restart the run by itself: the person presses Train.
  await expect(page.getByTestId('status')).toHaveText('paused');
  await page.waitForTimeout(500);
  await expect(page.getByTestId('iteration')).toHaveText('3');
  await page.getByTestId('train').click();
  await waitForIteration(page, 6);
  await expect(page.getByTestId('status')).toHaveText('training');
  // The charts mark where the reward changed: after iteration 3.
  await expect(page.getByTestId('chart-reward')).toHaveAttribute('data-markers', '3');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused');
});

test('Apply refuses a reward that fails on the bench text or the reference samples, and says why', async ({ page }) => {
  await openPlayground(page);
  await applyReward(page, "function reward(sample) {\n  return 'long';\n}\n");
  await expect(page.getByTestId('error')).toContainText('Not applied: reward "reward" returned the string "long" for sample 0 ("annabelle")');
  await expect(page.getByTestId('error')).toContainText("checked on the test bench's text and 8 reference samples");
  await expect(page.getByTestId('bench-result')).toContainText('returned the string "long"');
  await expect(page.getByTestId('apply-reward')).toHaveText('Apply changes'); // still a draft
  await expect(page.getByTestId('draft-status')).toBeVisible();
  // Step would train on it: it refuses too, and nothing runs.
  await page.getByTestId('step').click();
  await expect(page.getByTestId('error')).toContainText("Step did not start: the editor's code was not applied");
  await expect(page.getByTestId('iteration')).toHaveText('0');
  await applyReward(page, 'function reward(sample) {\n  return sample.index === 2 ? NaN : 1;\n}\n');
  await expect(page.getByTestId('error')).toContainText('Not applied: reward "reward" returned NaN for sample 2');
});

test('Apply refuses code that never finishes, and the trainer is untouched', async ({ page }) => {
  await openPlayground(page);
  await applyReward(page, 'function reward(sample) {\n  while (true) {}\n}\n');
  await expect(page.getByTestId('error')).toContainText('did not finish within the time limit of 1000 ms per batch (rewardTimeLimitMs)', { timeout: 10_000 });
  await expect(page.getByTestId('error')).toContainText('the code may loop forever');
  await expect(page.getByTestId('bench-result')).toContainText('the code may loop forever');
  await applyReward(page, LENGTH);
  await expect(page.getByTestId('error')).toHaveCount(0);
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  await expect(page.getByTestId('bench-result')).toHaveText('reward = 9');
});

test('a reward that fails only in training names the sample and the value', async ({ page }) => {
  await openPlayground(page);
  await applyReward(page, 'function reward(sample, ctx) {\n  return ctx.iteration >= 2 && sample.index === 5 ? NaN : 1;\n}\n');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  await page.getByTestId('step').click();
  await expect(page.getByTestId('error')).toContainText('returned NaN for sample 5');
  await expect(page.getByTestId('iteration')).toHaveText('1');
});

test('Reset returns to iteration 0', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('2');
  await page.getByTestId('reset').click();
  await expect(page.getByTestId('confirm')).toContainText('Discard the run of 2 iterations?');
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('iteration')).toHaveText('0');
  await expect(page.getByTestId('status')).toHaveText('idle');
  await expect(page.getByTestId('mean-reward')).toHaveText('');
});

test('the editor marks syntax errors at their line and refuses code without a reward function', async ({ page }) => {
  await openPlayground(page);
  await applyReward(page, 'function reward(sample) {\n  return sample.text.length +;\n}\n');
  await expect(page.getByTestId('error')).toContainText('does not compile');
  // The lint gutter marks line 2.
  const marker = page.locator('.cm-gutter-lint .cm-gutterElement', { has: page.locator('.cm-lint-marker-error') });
  await expect(marker).toHaveCount(1);
  const box = await marker.boundingBox();
  const line2 = await page.locator('.cm-line').nth(1).boundingBox();
  expect(Math.abs(box!.y - line2!.y)).toBeLessThan(4);
  await applyReward(page, 'function score(sample) {\n  return 1;\n}\n');
  await expect(page.getByTestId('error')).toContainText('must declare a function named reward');
  await expect(page.getByTestId('status')).toHaveText('idle');
});

test('an example loads into the editor, and applies like typed code', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('example-select').selectOption('startsWithZ');
  await expect(page.getByTestId('reward-editor')).toContainText("startsWith('z')");
  await page.getByTestId('bench-input').fill('zoe');
  await expect(page.getByTestId('bench-result')).toHaveText('reward = 1');
  await page.getByTestId('apply-reward').click();
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  const mean = Number(await page.getByTestId('mean-reward').textContent());
  expect(mean).toBeGreaterThanOrEqual(0);
  expect(mean).toBeLessThan(0.5); // few names start with z: not the length reward
});

test('the test bench scores a typed output under the editor code', async ({ page }) => {
  await openPlayground(page);
  await applyReward(page, 'function reward(sample) {\n  return sample.text.length * 2;\n}\n');
  await page.getByTestId('bench-input').fill('abcdefg');
  await expect(page.getByTestId('bench-result')).toHaveText('reward = 14');
});

test('the hyperparameter form rejects an out-of-range value, naming the field', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('hp-toggle').click();
  await page.getByTestId('hp-learningRate').fill('5');
  await page.getByTestId('hp-learningRate').press('Enter');
  await expect(page.getByRole('alert').filter({ hasText: 'learningRate must be between' })).toBeVisible();
});

test('the transformer policy loads and steps', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('arch-select').selectOption('transformer');
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  expect(Number(await page.getByTestId('mean-reward').textContent())).toBeGreaterThan(0);
});

test('the task picker switches to another task with its own reward', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('task-select').selectOption('shakespeare');
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await expect(page.getByTestId('reward-editor')).toContainText('love');
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  // Verse has capitals and spaces, which names never do.
  await expect(page.getByTestId('samples')).toContainText(/[A-Z].* /);
});

test('switching task and back keeps the code written for each', async ({ page }) => {
  await openPlayground(page);
  await applyReward(page, 'function reward(sample) {\n  return sample.text.length * 3;\n}\n');
  await page.getByTestId('task-select').selectOption('shakespeare');
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await expect(page.getByTestId('reward-editor')).toContainText('love');
  await page.getByTestId('task-select').selectOption('names');
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await expect(page.getByTestId('reward-editor')).toContainText('sample.text.length * 3');
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  // The restored code is the applied reward, not only the editor's text.
  await expect(page.getByTestId('samples').locator('.reward')).not.toHaveCount(0);
  const rewards = await page.getByTestId('samples').locator('.reward').allTextContents();
  expect(rewards.every((r) => Number(r) % 3 === 0)).toBe(true);
});

test('one full iteration on the WebGPU backend', async ({ page }) => {
  await openPlayground(page, '?backend=webgpu');
  await expect(page.getByTestId('backend')).toHaveText('webgpu');
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1', { timeout: 120_000 });
  expect(Number(await page.getByTestId('mean-reward').textContent())).toBeGreaterThan(0);
  await expect(page.getByTestId('error')).toHaveCount(0);
});

test('a lost WebGPU device costs nothing: the run moves to wasm and carries on', async ({ page }) => {
  await openPlayground(page, '?backend=webgpu');
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1', { timeout: 120_000 });
  const before = await page.getByTestId('mean-reward').textContent();
  // Lose the device the way a driver reset would.
  const worker = page.workers().find((w) => w.url().includes('trainer'))!;
  await worker.evaluate(() => (globalThis as unknown as { _tfengine: { backend: { device: { destroy(): void } } } })._tfengine.backend.device.destroy());
  await page.getByTestId('step').click();
  await expect(page.getByTestId('notice')).toContainText('The webgpu backend failed at iteration 2', { timeout: 120_000 });
  await expect(page.getByTestId('backend')).toHaveText('wasm');
  await expect(page.getByTestId('iteration')).toHaveText('1');
  await expect(page.getByTestId('mean-reward')).toHaveText(before!);
  await expect(page.getByTestId('error')).toHaveCount(0);
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('2');
});

test('an unknown ?backend= is reported, not ignored', async ({ page }) => {
  await page.goto('/?backend=tpu');
  await expect(page.getByTestId('error')).toContainText('unknown backend "tpu"');
  await expect(page.getByTestId('status')).toHaveText('error');
});

test('GRPO and RLOO from the Algorithm select: the form and the charts show only what applies', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('hp-toggle').click();
  await expect(page.getByTestId('hp-gaeLambda')).toBeVisible();
  await expect(page.getByTestId('hp-grpoScale')).toHaveCount(0);
  const losses = page.locator('figure', { hasText: 'Losses' });
  await expect(losses.locator('.u-legend')).toContainText('value loss');

  await page.getByTestId('algorithm-select').selectOption('grpo');
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await expect(page.getByTestId('hp-gaeLambda')).toHaveCount(0);
  await expect(page.getByTestId('hp-groupSize')).toHaveValue('8');
  await page.getByTestId('hp-grpoLossType').selectOption('grpo');
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  await expect(page.getByTestId('samples-stats')).toContainText('64 samples');
  await expect(losses.locator('.u-legend')).not.toContainText('value loss');
  await expect(page.locator('figure', { hasText: 'groups with equal rewards' }).locator('.u-legend')).toContainText('equal groups');
  await expect(page.locator('figure', { hasText: 'KL to reference' }).locator('.u-legend')).not.toContainText('KL target');

  await page.getByTestId('algorithm-select').selectOption('rloo');
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await expect(page.getByTestId('hp-rlooBeta')).toBeVisible();
  await expect(page.getByTestId('hp-grpoLossType')).toHaveCount(0);
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  expect(Number(await page.getByTestId('mean-reward').textContent())).toBeGreaterThan(0);
});

test('a run made to diverge raises the runaway alarm, saying what it saw and what to do', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('hp-toggle').click();
  await page.getByTestId('hp-learningRate').fill('0.05');
  await page.getByTestId('hp-learningRate').press('Enter');
  // KL passes 3x its target at iteration 2; the alarm is up by iteration 4.
  for (let i = 1; i <= 4; i++) {
    await page.getByTestId('step').click();
    await expect(page.getByTestId('iteration')).toHaveText(String(i), { timeout: 60_000 });
  }
  const alarm = page.getByTestId('collapse-alarm');
  await expect(alarm).toHaveAttribute('data-runaway', 'true');
  await expect(alarm).toContainText('Running away from the reference');
  await expect(alarm).toContainText(/runaway: .*\d/);
  await expect(alarm).toContainText('lower the learning rate or raise the KL coefficient, then Reset');
});

test('a reward with a loophole raises the collapse alarm beside the charts, with the samples that earn the most', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('hp-toggle').click();
  for (const [name, value] of [['klCoef', '0.01'], ['learningRate', '0.005']] as const) {
    await page.getByTestId(`hp-${name}`).fill(value);
    await page.getByTestId(`hp-${name}`).press('Enter');
  }
  await page.getByTestId('hp-adaptiveKl').uncheck();
  await applyReward(page, '// Shorter is better, and nothing stops at empty.\nfunction reward(sample) {\n  return -sample.text.length;\n}\n');
  await expect(page.getByTestId('collapse-alarm')).toHaveCount(0);
  await page.getByTestId('train').click();
  await expect(page.getByTestId('collapse-alarm')).toContainText('completions shrank', { timeout: 120_000 });
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused');
  await expect(page.getByTestId('collapse-alarm')).toContainText('The best-rewarded samples now');
  await page.getByTestId('reset').click();
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('collapse-alarm')).toHaveCount(0);
});
