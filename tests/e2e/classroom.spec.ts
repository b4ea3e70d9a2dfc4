import AxeBuilder from '@axe-core/playwright';
import { expect, test } from './fixtures.ts';
import { iteration, openPlayground } from './helpers.ts';
import { defaultExperiment } from '../../src/core/experiment/experiment.ts';
import { encodeExperiment } from '../../src/core/experiment/link.ts';
import { READY_LESSONS } from '../../src/ui/lessons/readyLessons.ts';

// Presenting: the classroom view, the embed, a first-visit tour, ready-made
// lessons, and a phone.

test('the classroom view at 1280x720 and 150% zoom keeps Train and the status on screen while the class scrolls; other charts are one click away', async ({ page }) => {
  // 150% zoom of a 1280x720 window lays the page out in 853x480 CSS pixels.
  await page.setViewportSize({ width: 853, height: 480 });
  await openPlayground(page, `?view=classroom#${await encodeExperiment(defaultExperiment('names'))}`);
  const fontSize = await page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));
  expect(fontSize).toBeGreaterThan(16); // large type
  await expect(page.getByTestId('chart-reward')).toBeVisible();
  await expect(page.getByTestId('chart-kl')).toHaveCount(0);
  await expect(page.getByTestId('hp-toggle')).toHaveCount(0); // settings hidden
  await expect(page.getByTestId('export-experiment')).toHaveCount(0);
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('training');
  for (const y of [600, 1500, 100_000]) {
    await page.evaluate((to) => window.scrollTo(0, to), y);
    await page.waitForTimeout(150);
    await expect(page.getByTestId('train')).toBeInViewport();
    await expect(page.getByTestId('status')).toBeInViewport();
  }
  expect(await page.evaluate(() => window.scrollY)).toBeGreaterThan(500); // the page did scroll
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused');
  await page.getByTestId('more-charts').locator('summary').click();
  await expect(page.getByTestId('chart-kl')).toBeVisible();
  expect((await new AxeBuilder({ page }).analyze()).violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
});

test('choosing a view applies on this page too: a teacher sees what the class will see, and goes back', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('view-select').selectOption('classroom');
  await expect(page.getByTestId('pinned')).toBeVisible();
  await expect(page.getByTestId('edit')).toBeVisible(); // the code is read-only until Edit
  expect(new URL(page.url()).searchParams.get('view')).toBe('classroom');
  await page.reload();
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await expect(page.getByTestId('pinned')).toBeVisible();
  await page.getByTestId('view-select').selectOption('full');
  await expect(page.getByTestId('pinned')).toHaveCount(0);
  await expect(page.getByTestId('hp-toggle')).toBeVisible();
  // The embed, previewed here and left again.
  await page.getByTestId('view-select').selectOption('embed');
  await expect(page.getByTestId('embed-code')).toBeVisible();
  await page.getByTestId('leave-embed').click();
  await expect(page.getByTestId('view-select')).toHaveValue('full');
  expect(new URL(page.url()).searchParams.get('view')).toBeNull();
});

test('the embed shows the reward code that trains, read-only and collapsible, beside its chart', async ({ page }) => {
  const e = defaultExperiment('names');
  await openPlayground(page, `?view=embed#${await encodeExperiment(e)}`);
  const code = page.getByTestId('embed-code');
  await expect(code).toBeVisible();
  await expect(code.locator('pre')).toHaveText(e.rewards[0].source);
  await expect(page.getByTestId('chart-reward')).toBeVisible();
  await code.locator('summary').click();
  await expect(code.locator('pre')).not.toBeVisible();
});

test('the tour: offered once on a first visit, never again after, and again from Help; it ends by training ten iterations', async ({ page }) => {
  await openPlayground(page);
  const tour = page.getByTestId('tour');
  await expect(tour).toBeVisible();
  await expect(tour).toContainText('computational feedback');
  // The first card covers nothing: the page works around it.
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  await page.getByTestId('tour-next').click();
  await expect(page.getByTestId('reward-editor')).toHaveClass(/tour-lit/);
  for (const target of ['train', 'chart-reward', 'chart-kl', 'samples']) {
    await page.getByTestId('tour-next').click();
    await expect(page.getByTestId(target)).toHaveClass(/tour-lit/);
  }
  await page.getByTestId('tour-train').click();
  await expect(tour).toHaveCount(0);
  await expect(page.getByTestId('status')).toHaveText('paused', { timeout: 60_000 });
  expect(await iteration(page)).toBe(11);
  await page.reload();
  await expect(page.getByTestId('status')).not.toHaveText('loading', { timeout: 90_000 });
  await page.waitForTimeout(500);
  await expect(tour).toHaveCount(0);
  await page.getByTestId('help-menu').locator('summary').click();
  await page.getByTestId('tour-open').click();
  await expect(tour).toBeVisible();
  await expect(tour).toBeFocused();
  await page.getByTestId('tour-skip').click();
  await expect(tour).toHaveCount(0);
});

test('ready-made lessons: each is a link; a lesson shows its step and the question to ask, and Next sets up the next experiment', async ({ page }) => {
  expect(READY_LESSONS.length).toBeGreaterThanOrEqual(3);
  await openPlayground(page);
  await page.getByTestId('help-menu').locator('summary').click();
  await page.getByTestId('lessons-open').click();
  const list = page.getByTestId('lesson-list');
  await expect(list.locator('li[data-lesson]')).toHaveCount(READY_LESSONS.length);
  for (const l of READY_LESSONS) await expect(list.locator(`li[data-lesson="${l.id}"]`)).toContainText(l.title);
  expect(await list.getByTestId('lesson-link').first().getAttribute('href')).toContain('?lesson=reward-hacking');
  await page.getByTestId('lessons-close').click();

  // Opened from its link: step 1, its question, its experiment.
  const lesson = READY_LESSONS[0];
  await openPlayground(page, `?lesson=${lesson.id}`);
  const guide = page.getByTestId('lesson-guide');
  await expect(guide).toHaveAttribute('data-step', '1');
  await expect(page.getByTestId('guide-ask')).toContainText(lesson.steps[0].ask);
  await expect(page.getByTestId('stop-at')).toHaveValue(String(lesson.steps[0].experiment.pace.stopAt));
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  // Next: the next step's experiment at iteration 0 (the run before stays in Saved runs).
  await page.getByTestId('guide-next').click();
  await expect(guide).toHaveAttribute('data-step', '2');
  await expect(page.getByTestId('guide-ask')).toContainText(lesson.steps[1].ask);
  await expect(page.getByTestId('iteration')).toHaveText('0');
  await page.getByTestId('hp-toggle').click();
  await expect(page.getByTestId('hp-klCoef')).toHaveValue(String(lesson.steps[1].experiment.hyperparameters.klCoef));
  await expect(page.getByTestId('reward-editor')).toContainText('-sample.text.length');
  // The last lesson crosses tasks: the painter, then CartPole.
  const last = READY_LESSONS.at(-1)!;
  await openPlayground(page, `?lesson=${last.id}&step=2`);
  await expect(page.getByTestId('task-select')).toHaveValue('cartpole');
  await page.getByTestId('guide-back').click();
  await expect(page.getByTestId('task-select')).toHaveValue('images', { timeout: 60_000 });
  // A lesson that does not exist is named, and the default opens.
  await openPlayground(page, '?lesson=no-such-lesson');
  await expect(page.getByTestId('open-problem')).toContainText('There is no lesson "no-such-lesson"');
});

test('a 390 px phone: nothing is wider than the screen, and Train is within reach', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openPlayground(page);
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(await overflow()).toBe(0);
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  await page.getByTestId('runs-panel').locator('summary').click();
  expect(await overflow()).toBe(0);
  await page.getByTestId('lesson-toggle').click();
  await page.getByTestId('lesson-next').click();
  await expect(page.getByTestId('lesson-stage')).toBeVisible();
  for (let i = 0; i < 5; i++) {
    expect(await overflow(), `lesson stage ${i + 1}`).toBe(0);
    await page.getByTestId('lesson-next').click();
  }
  const trainTop = await page.getByTestId('train').evaluate((b) => b.getBoundingClientRect().top + window.scrollY);
  console.log(`390 px: Train is ${Math.round(trainTop)} px down the page`);
  expect(trainTop).toBeLessThan(844); // on the first screen
});
