import { expect, test } from './fixtures.ts';
import { openPlayground, waitForIteration } from './helpers.ts';
import { defaultExperiment } from '../../src/core/experiment/experiment.ts';
import { encodeExperiment } from '../../src/core/experiment/link.ts';
import { TASKS } from '../../src/core/tasks/index.ts';

// The budget is 50 ms a task; unloaded, the longest tasks measured here are 16-37 ms, and on a
// 2-core machine running the trainer worker and the browser's compositor beside the page, the
// scheduler now and then stretches one of them past the budget (one 52 ms task in one of three
// clean CI runs). A regression shows on every run: one retry tells the two apart.
test.describe.configure({ retries: 1 });

interface Probe {
  measuring: boolean;
  longTasks: number[];
  longFrames: number[];
  maxGap: number;
}

// At every task's defaults: the text tasks with fields and several components render the most per batch.
for (const task of TASKS) {
  test(`the page stays responsive while training ${task.id}: no main-thread task over 50 ms`, async ({ page }) => {
    // Three views of the main thread: the browser's long tasks (a task over 50 ms: the
    // figure asserted), its long animation frames (the tasks of one frame plus rendering
    // and the idle time between them, over 50 ms: reported), and the longest gap a 0 ms
    // timer chain sees (reported; an upper bound that also counts time the OS gave to
    // other threads on this 2-core machine).
    await page.addInitScript(() => {
      const probe: Probe = { measuring: false, longTasks: [], longFrames: [], maxGap: 0 };
      (window as unknown as { __probe: Probe }).__probe = probe;
      new PerformanceObserver((list) => {
        if (probe.measuring) for (const e of list.getEntries()) probe.longTasks.push(Math.round(e.duration));
      }).observe({ type: 'longtask' });
      new PerformanceObserver((list) => {
        if (probe.measuring) for (const e of list.getEntries()) probe.longFrames.push(Math.round(e.duration));
      }).observe({ type: 'long-animation-frame' });
      let last = performance.now();
      const tick = () => {
        const now = performance.now();
        if (probe.measuring) probe.maxGap = Math.max(probe.maxGap, now - last);
        last = now;
        setTimeout(tick, 0);
      };
      tick();
    });
    await openPlayground(page, `#${await encodeExperiment(defaultExperiment(task.id, task.archs?.[0] ?? 'mlp', 'ppo'))}`);
    await page.getByTestId('train').click();
    await waitForIteration(page, 2);
    await page.evaluate(() => ((window as unknown as { __probe: Probe }).__probe.measuring = true));
    const start = Number(await page.getByTestId('iteration').textContent());
    await waitForIteration(page, start + (task.image ? 3 : 10));
    const probe = await page.evaluate(() => {
      const p = (window as unknown as { __probe: Probe }).__probe;
      p.measuring = false;
      return p;
    });
    console.log(
      `${task.id}: main thread over ${task.image ? 3 : 10} training iterations: long tasks ${JSON.stringify(probe.longTasks)}, long animation frames ${JSON.stringify(probe.longFrames)}, longest timer gap ${probe.maxGap.toFixed(1)} ms`,
    );
    expect(probe.longTasks).toEqual([]);
    await page.getByTestId('train').click();
    await expect(page.getByTestId('status')).toHaveText('paused');
  });
}
