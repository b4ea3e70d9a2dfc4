import { expect, test } from './fixtures.ts';
import { openPlayground } from './helpers.ts';
import { startingHyperparameters } from '../../src/core/algorithms/catalog.ts';
import { defaultRewards, prepareTask, TASKS } from '../../src/core/tasks/index.ts';

// Every text task opens from the gallery, explains itself, trains an iteration and shows its view of the
// samples. The tasks with views of their own (images, CartPole) are walked in beyondText.spec.ts.
for (const task of TASKS.filter((t) => !t.image && !t.environment)) {
  test(`task ${task.id}: opens, explains itself, trains an iteration, shows its samples`, async ({ page }) => {
    // From the gallery page's card, as a visitor starts.
    await openPlayground(page, '#gallery');
    await page.getByTestId(`open-${task.id}`).click();
    await expect(page.getByTestId('task-select')).toHaveValue(task.id);
    await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
    await expect(page.getByTestId('task-about')).toContainText(task.explanation.why);
    if (task.fields) {
      for (const name of Object.keys(task.fields.docs)) await expect(page.getByTestId('field-docs')).toContainText(`sample.fields.${name}`);
    } else {
      await expect(page.getByTestId('field-docs')).toHaveCount(0);
    }
    if (task.helpers) {
      for (const h of Object.values(task.helpers)) await expect(page.getByTestId('helper-docs')).toContainText(`helpers.${h.signature}`);
    } else {
      await expect(page.getByTestId('helper-docs')).toHaveCount(0);
    }
    await page.getByTestId('step').click();
    await expect(page.getByTestId('iteration')).toHaveText('1');
    await expect(page.getByTestId('samples').locator('li')).not.toHaveCount(0);
    if (task.fields) {
      await prepareTask(task); // here, in the test's own process
      const first = Object.entries(task.fields.compute('', task.prompts[0])).find(([, v]) => typeof v === 'number')![0];
      await expect(page.getByTestId('sample-fields').first()).toContainText(first);
    }
    // The batch's length distribution: one bar per length, the counts adding up to the batch.
    const titles = await page.getByTestId('length-histogram').locator('.bar').evaluateAll((bars) => bars.map((b) => b.getAttribute('title') ?? ''));
    expect(titles.reduce((n, t) => n + Number(/^(\d+) sample/.exec(t)![1]), 0)).toBe(startingHyperparameters('ppo', task.hyperparameters).batchSize);
    // Several components: each sample shows each one's value (a weight-0 probe included).
    const components = defaultRewards(task);
    if (components.length > 1) for (const c of components) await expect(page.getByTestId('sample-components').first()).toContainText(c.name);
    // The task's own view: each test case as a mark, each find highlighted in the text.
    const fields = task.fields?.docs ?? {};
    if ('cases' in fields) await expect(page.getByTestId('test-case').first()).toHaveAttribute('title', /case: f\(\d+\) should be -?\d+, got/);
    if ('detections' in fields) await expect(page.getByTestId('detection').first()).toHaveAttribute('data-kind', /name|place|email|phone|card|address/);
  });
}
