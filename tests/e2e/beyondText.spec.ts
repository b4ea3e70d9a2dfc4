import { deflateSync } from 'node:zlib';
import { expect, test } from './fixtures.ts';
import { openPlayground, waitForIteration } from './helpers.ts';
import { defaultExperiment, type Experiment } from '../../src/core/experiment/experiment.ts';
import { TASKS } from '../../src/core/tasks/index.ts';

// RLCF beyond language: the gallery page, the painting task's images, CartPole's replay,
// and both in links and saved runs like every other task.

function fragment(e: Experiment): string {
  return `#exp=3.${deflateSync(Buffer.from(JSON.stringify(e))).toString('base64url')}`;
}

test('the gallery: a card per task with its picture and its signal; Open starts the task ready to train', async ({ page }) => {
  await openPlayground(page, '#gallery');
  await expect(page.getByTestId('gallery')).toBeVisible();
  for (const task of TASKS) {
    const card = page.getByTestId(`card-${task.id}`);
    await expect(card).toContainText(task.title);
    await expect(card).toContainText(task.description);
    await expect(card.locator('canvas, code').first()).toBeVisible(); // its thumbnail
  }
  await page.getByTestId('open-protocol').click();
  await expect(page.getByTestId('gallery')).toHaveCount(0);
  await expect(page.getByTestId('task-select')).toHaveValue('protocol');
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  // The header leads back to it.
  await page.getByTestId('open-gallery').click();
  await expect(page.getByTestId('card-protocol')).toHaveClass(/current/);
});

test('images: from the gallery, the painter trains an iteration and shows its images beside the reference; the picker rewrites the target', async ({ page }) => {
  await openPlayground(page, '#gallery');
  await page.getByTestId('open-images').click();
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await expect(page.getByTestId('arch-select').locator('option')).toHaveText(['Transformer (small GPT)']);
  await expect(page.getByTestId('pixel-docs')).toContainText('sample.pixels');
  await expect(page.getByTestId('reference-samples').getByTestId('image-sample').first()).toBeVisible();
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1', { timeout: 60_000 });
  await expect(page.getByTestId('samples').getByTestId('image-sample')).toHaveCount(64);
  // A canvas really holds the painted pixels: its first pixel is the palette colour of the sample's first symbol.
  const painted = await page.getByTestId('samples').getByTestId('image-sample').first().evaluate((c: HTMLCanvasElement) => {
    const [r, g, b] = c.getContext('2d')!.getImageData(0, 0, 1, 1).data;
    return { rgb: [r, g, b], text: c.dataset.text ?? '' };
  });
  const palette = TASKS.find((t) => t.id === 'images')!.image!.palette;
  const hex = palette['0123456789abcdef'.indexOf(painted.text[0])];
  expect(painted.rgb).toEqual([1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));
  // The colour picker writes the target into the code; Apply trains towards it.
  await page.getByTestId('colour-picker').fill('#ff0000');
  await expect(page.getByTestId('reward-editor')).toContainText("const TARGET = '#ff0000';");
  await page.getByTestId('apply-reward').click();
  await expect(page.getByTestId('draft-status')).toHaveCount(0);
});

test('cartpole: from the gallery, trains with PPO alone, replays its longest episode, charts episode length and no KL', async ({ page }) => {
  await openPlayground(page, '#gallery');
  await page.getByTestId('open-cartpole').click();
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await expect(page.getByTestId('algorithm-select').locator('option')).toHaveText(['PPO']);
  await expect(page.getByTestId('arch-select').locator('option')).toHaveCount(1);
  await expect(page.getByTestId('transition-docs')).toContainText('step.nextState');
  await expect(page.getByTestId('bench-input')).toHaveCount(0);
  await page.getByTestId('hp-toggle').click();
  await expect(page.getByTestId('hp-environments')).toHaveValue('4');
  await expect(page.getByTestId('hp-klCoef')).toHaveCount(0);
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1', { timeout: 60_000 });
  await expect(page.getByTestId('cartpole-caption')).toContainText('Longest episode');
  // The replay moves: the step it shows advances.
  const canvas = page.getByTestId('cartpole-canvas');
  const first = Number(await canvas.getAttribute('data-step'));
  await expect.poll(async () => Number(await canvas.getAttribute('data-step')), { timeout: 5_000 }).not.toBe(first);
  await expect(page.getByTestId('samples').locator('li').first()).toContainText('steps');
  await expect(page.getByTestId('chart-episode-length')).toBeVisible();
  await expect(page.getByTestId('no-kl')).toBeVisible();
});

test('cartpole and images travel in links, and a CartPole run resumes after a reload', async ({ page, browser }) => {
  const painter = await browser.newContext().then((c) => c.newPage());
  await openPlayground(painter, fragment(defaultExperiment('images', 'transformer', 'ppo')));
  await expect(painter.getByTestId('task-select')).toHaveValue('images');
  await expect(painter.getByTestId('arch-select')).toHaveValue('transformer');
  await painter.context().close();

  const e = defaultExperiment('cartpole', 'mlp', 'ppo');
  e.hyperparameters = { ...e.hyperparameters, checkpointEvery: 3 };
  await openPlayground(page, `?backend=wasm${fragment(e)}`);
  await expect(page.getByTestId('task-select')).toHaveValue('cartpole');
  await page.getByTestId('train').click();
  await waitForIteration(page, 5);
  await page.reload();
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await page.getByTestId('resume').click();
  await expect(page.getByTestId('origin')).toContainText('Resumed');
  const at = Number(await page.getByTestId('iteration').textContent());
  expect(at).toBeGreaterThanOrEqual(3);
  expect(at % 3).toBe(0);
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText(String(at + 1));
  await expect(page.getByTestId('task-select')).toHaveValue('cartpole');
});
