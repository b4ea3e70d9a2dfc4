import type { Page } from '@playwright/test';
import { CSP_PROBE, expect, test } from './fixtures.ts';
import { applyReward, iteration, openPlayground } from './helpers.ts';

/**
 * A checksum of every variable in the trainer worker (policy weights and Adam's
 * moments), read there: each number's float32 bits, weighted by position, summed
 * modulo 2^32. Exact, and blind to the order the variables were made in (a
 * restored optimiser makes its moments in another order than training did).
 */
async function trainerChecksum(page: Page): Promise<number> {
  const worker = page.workers().filter((w) => w.url().includes('trainer')).at(-1)!;
  return worker.evaluate(() => {
    const vars = (globalThis as unknown as { _tfengine: { state: { registeredVariables: Record<string, { dataSync(): Float32Array }> } } })._tfengine.state.registeredVariables;
    let sum = 0;
    for (const v of Object.values(vars)) {
      const bits = new Uint32Array(Float32Array.from(v.dataSync()).buffer);
      for (let i = 0; i < bits.length; i++) sum = (sum + Math.imul(bits[i], (i % 7) + 1)) >>> 0;
    }
    return sum;
  });
}

async function step(page: Page, to: number): Promise<void> {
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText(String(to));
}

for (const [what, failing] of [
  ['an infinite loop', 'while (true) {}'],
  ['a memory bomb that outruns the interrupt (ended from outside)', 'const a = []; while (true) a.push(new Array(1e6).fill(1));'],
] as const) {
  test(`${what} in training stops at the time limit; the page stays responsive; after the fix the run resumes with the same weights`, async ({ page }) => {
    await openPlayground(page);
    await applyReward(page, `function reward(sample, ctx) {\n  if (ctx.iteration === 3) { ${failing} }\n  return sample.text.length;\n}\n`);
    await expect(page.getByTestId('error')).toHaveCount(0);
    await step(page, 1);
    await step(page, 2);
    const before = await trainerChecksum(page);

    await page.getByTestId('step').click();
    const started = Date.now();
    await expect(page.getByTestId('error')).toContainText('did not finish within the time limit of 1000 ms per batch (rewardTimeLimitMs)', { timeout: 10_000 });
    const took = Date.now() - started;
    console.log(`${what}: stopped after ${took} ms`);
    expect(took).toBeLessThan(1000 + 1000);
    await expect(page.getByTestId('error')).toContainText('may loop forever');
    // The page answered all along; its own sandbox (the bench, scoring as iteration 3 would) stops the same code too.
    await page.getByTestId('bench-input').fill('abc');
    await expect(page.getByTestId('bench-result')).toContainText('may loop forever', { timeout: 10_000 });
    await expect(page.getByTestId('iteration')).toHaveText('2');
    expect(await trainerChecksum(page)).toBe(before);

    await applyReward(page, 'function reward(sample) {\n  return sample.text.length;\n}\n');
    await expect(page.getByTestId('error')).toHaveCount(0);
    await expect(page.getByTestId('status')).toHaveText('paused');
    expect(await trainerChecksum(page)).toBe(before);
    await step(page, 3);
    expect(await trainerChecksum(page)).not.toBe(before);
  });
}

test('the page runs under a Content-Security-Policy: no eval, no other origin; reward code reaches neither', { annotation: { type: CSP_PROBE } }, async ({ page }) => {
  await openPlayground(page);
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(csp).toContain("connect-src 'self'");
  expect(csp).not.toContain("'unsafe-eval'");
  // Code from a string, run by the page itself (a test's own evaluate is exempt from the policy).
  const attempts = await page.evaluate(async () => {
    (setTimeout as (code: string, ms: number) => number)('window.__evalRan = true', 0);
    await new Promise((r) => setTimeout(r, 100));
    const fetched = await fetch('http://127.0.0.1:9/x').then(() => 'fetched', () => 'blocked');
    return [(window as unknown as { __evalRan?: boolean }).__evalRan ? 'eval ran' : 'no eval', fetched];
  });
  expect(attempts).toEqual(['no eval', 'blocked']);
  await applyReward(page, "function reward(sample) {\n  fetch('http://127.0.0.1:9/x');\n  return 1;\n}\n");
  await expect(page.getByTestId('error')).toContainText("ReferenceError: 'fetch' is not defined");
  await applyReward(page, "function reward(sample) {\n  const g = (function () {}).constructor('return this')();\n  return typeof g.postMessage + typeof g.importScripts + typeof g.indexedDB === 'undefinedundefinedundefined' ? 1 : 0;\n}\n");
  await expect(page.getByTestId('error')).toHaveCount(0);
  await page.getByTestId('bench-input').fill('abc');
  await expect(page.getByTestId('bench-result')).toHaveText('reward = 1');
});

test('two weighted rewards train; each is charted and the total is their weighted sum', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('smoothing').fill('0');
  await page.getByTestId('reward-add').click();
  await expect(page.getByTestId('reward-tab-1')).toHaveAttribute('aria-selected', 'true');
  await page.getByTestId('reward-name').fill('vowels');
  await page.getByTestId('reward-weight').fill('-0.5');
  await applyReward(page, 'function reward(sample, ctx) {\n  return ctx.helpers.vowels(sample.text);\n}\n');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect(page.getByTestId('reward-tab-1')).toContainText('vowels ×-0.5');
  await page.getByTestId('bench-input').fill('anna');
  await expect(page.getByTestId('bench-result')).toHaveText('total = 3 (reward 4 ×1 + vowels 2 ×-0.5)');

  await page.getByTestId('train').click();
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThanOrEqual(4);
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused');

  const chart = page.getByTestId('chart-components');
  await expect(chart).toBeVisible();
  const legend = async (label: string, within = chart) =>
    Number(await within.locator('.u-legend .u-series').filter({ has: page.locator('.u-label', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) }).locator('.u-value').textContent());
  const length = await legend('reward ×1');
  const vowels = await legend('vowels ×-0.5');
  const total = Number(await page.getByTestId('mean-reward').textContent());
  console.log(`components: reward ${length}, vowels ${vowels}; total ${total}`);
  expect(length).toBeGreaterThan(vowels);
  expect(total).toBeCloseTo(length - 0.5 * vowels, 1);
  // The samples' rewards are totals too: each is length - vowels / 2.
  const first = page.getByTestId('samples').locator('li').first();
  const text = (await first.locator('.text').textContent())!;
  const vowelCount = (text.match(/[aeiouy]/gi) ?? []).length;
  expect(Number(await first.locator('.reward').textContent())).toBeCloseTo(text.length - 0.5 * vowelCount, 3);
});

test('console.log in a reward shows in the log panel, capped, with a count of what was dropped', async ({ page }) => {
  await openPlayground(page);
  await applyReward(page, "function reward(sample) {\n  for (let i = 0; i < 5; i++) console.log('sample', sample.index, 'line', i);\n  return 1;\n}\n");
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  await expect(page.getByTestId('log-panel')).toContainText('from iteration 1');
  const lines = (await page.getByTestId('log-lines').textContent())!.trim().split('\n');
  expect(lines).toHaveLength(200);
  expect(lines.at(-1)).toBe('sample 63 line 4');
  await expect(page.getByTestId('log-dropped')).toHaveText('120 earlier lines dropped');
});

test('a trainer worker that stops answering is restarted from its last checkpoint, and no request waits forever', async ({ page }) => {
  await openPlayground(page, '?watchdog=3');
  await step(page, 1);
  await step(page, 2);
  const before = await trainerChecksum(page);
  const hung = page.workers().find((w) => w.url().includes('trainer'))!;
  await hung.evaluate(() => void setTimeout(() => {
    for (;;);
  }, 0));
  await page.getByTestId('step').click(); // waits on the hung worker until the watchdog ends it
  await expect(page.getByTestId('notice')).toContainText('The trainer stopped answering for 3 s. It was restarted on wasm and continues from iteration 2, with nothing lost.', { timeout: 30_000 });
  await expect(page.getByTestId('status')).toHaveText('paused');
  await expect(page.getByTestId('iteration')).toHaveText('2');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect.poll(() => page.workers().includes(hung), { timeout: 10_000 }).toBe(false); // ended, not left spinning
  expect(await trainerChecksum(page)).toBe(before);
  await step(page, 3);
  await page.getByTestId('train').click();
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThanOrEqual(5);
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused');
});
