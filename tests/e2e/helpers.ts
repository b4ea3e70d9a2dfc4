import { expect, type Page } from '@playwright/test';

/** Opens the playground and waits until the model is loaded. Worker and page errors go to the test log. */
export async function openPlayground(page: Page, query = ''): Promise<void> {
  page.on('pageerror', (e) => console.log(`page error: ${e.message}${process.env.PAGE_STACKS ? `\n${e.stack}` : ''}`));
  page.on('worker', (w) => w.on('console', (m) => console.log(`worker: ${m.text()}`)));
  await page.goto(`/${query}`);
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
}

/** Replaces the editor's code as a person would (select all, type) and presses Apply. */
export async function applyReward(page: Page, code: string): Promise<void> {
  await page.getByTestId('reward-editor').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.insertText(code);
  await page.getByTestId('apply-reward').click();
}

export async function iteration(page: Page): Promise<number> {
  return Number(await page.getByTestId('iteration').textContent());
}

export async function waitForIteration(page: Page, atLeast: number): Promise<void> {
  await expect.poll(() => iteration(page), { timeout: 120_000 }).toBeGreaterThanOrEqual(atLeast);
}
