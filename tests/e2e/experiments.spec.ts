import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import type { Browser, Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { applyReward, openPlayground, waitForIteration } from './helpers.ts';
import { defaultExperiment, EXPERIMENT_VERSION, type Experiment } from '../../src/core/experiment/experiment.ts';
import { deterministicMetrics, type IterationMetrics } from '../../src/core/training/metrics.ts';

// Links, saved runs, export and import: one experiment, whichever way it travels.

const CODE = '// Names with a z.\nfunction reward(sample, ctx) {\n  return ctx.helpers.count(sample.text, "z") + sample.text.length / 10;\n}\n';

/** The fragment of a link that carries `e`, packed as the app packs it (zlib, base64url). */
function fragment(e: unknown, version = EXPERIMENT_VERSION): string {
  return `#exp=${version}.${deflateSync(Buffer.from(typeof e === 'string' ? e : JSON.stringify(e))).toString('base64url')}`;
}

/** A small, quick experiment: 32 completions per iteration, a save every 3 iterations. */
function quick(over: Partial<Experiment['hyperparameters']> = {}): Experiment {
  const e = defaultExperiment('names', 'mlp', 'ppo');
  e.rewards = [{ name: 'zed', weight: 1, source: CODE }];
  e.hyperparameters = { ...e.hyperparameters, batchSize: 32, checkpointEvery: 3, ...over };
  e.seed = 5;
  return e;
}

async function exported(page: Page): Promise<{ experiment: Experiment; metrics: IterationMetrics[]; file: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-experiment').click()]);
  const file = (await download.path())!;
  return { ...JSON.parse(readFileSync(file, 'utf8')), file };
}

/** The metrics that do not depend on wall-clock time. */
const same = (ms: IterationMetrics[]) => ms.map(deterministicMetrics);
/** What depends only on the sampled completions and their scores. */
const sampled = (m: IterationMetrics) => ({ iteration: m.iteration, rewardMean: m.rewardMean, rewardStd: m.rewardStd, rewardMin: m.rewardMin, rewardMax: m.rewardMax, rewardComponents: m.rewardComponents, sampleLength: m.sampleLength, distinctShare: m.distinctShare, alarms: m.alarms });

async function freshPage(browser: Browser, path: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await openPlayground(page, path);
  return page;
}

test('Share makes a link that opens the same experiment elsewhere, untrained until Train', async ({ page, browser }) => {
  await openPlayground(page);
  await applyReward(page, CODE);
  await expect(page.getByTestId('draft-status')).toHaveCount(0);
  await page.getByTestId('hp-toggle').click();
  await page.getByTestId('hp-batchSize').fill('32');
  await page.getByTestId('hp-batchSize').press('Enter');
  await page.getByTestId('algorithm-select').selectOption('grpo');
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await page.getByTestId('share').click();
  const link = await page.getByTestId('share-link').inputValue();
  expect(link).toMatch(new RegExp(`^http://localhost:4173/#exp=${EXPERIMENT_VERSION}\\.[\\w-]+$`));
  await expect(page.getByTestId('share-status')).toContainText(`${link.length} characters`);

  const other = await freshPage(browser, link.replace('http://localhost:4173/', ''));
  await expect(other.getByTestId('origin')).toContainText('came from a link');
  await expect(other.getByTestId('reward-editor')).toContainText('Names with a z.');
  await expect(other.getByTestId('algorithm-select')).toHaveValue('grpo');
  await other.getByTestId('hp-toggle').click();
  await expect(other.getByTestId('hp-batchSize')).toHaveValue('32');
  await other.waitForTimeout(3000);
  await expect(other.getByTestId('iteration')).toHaveText('0');
  await expect(other.getByTestId('status')).toHaveText('idle');
  await other.getByTestId('step').click();
  await expect(other.getByTestId('iteration')).toHaveText('1');
  await other.context().close();
});

test('one link, two fresh pages: the same first five iterations', async ({ browser }) => {
  const link = `?backend=wasm${fragment(quick())}`;
  const runs: IterationMetrics[][] = [];
  for (let k = 0; k < 2; k++) {
    const page = await freshPage(browser, link);
    for (let i = 1; i <= 5; i++) {
      await page.getByTestId('step').click();
      await expect(page.getByTestId('iteration')).toHaveText(String(i));
    }
    const { metrics } = await exported(page);
    expect(metrics).toHaveLength(5);
    runs.push(metrics);
    await page.context().close();
  }
  expect(same(runs[1])).toEqual(same(runs[0]));
});

test('a bad link opens the default experiment and says what was wrong', async ({ page }) => {
  const good = fragment(quick());
  const big = { ...quick(), rewards: [{ name: 'r', weight: 1, source: `function reward() { return 1; }\n//${'x'.repeat(70_000)}` }] };
  const cases: [string, RegExp][] = [
    [good.slice(0, Math.floor(good.length * 0.6)), /incomplete|damaged/],
    [good.slice(0, 30) + (good[30] === 'A' ? 'B' : 'A') + good.slice(31), /damaged/],
    [fragment(big), /larger than 64 KiB/],
    [fragment(quick(), 9), /newer version of the playground/],
    [fragment({ ...quick(), seed: -4 }), /seed must be a whole number/],
    ['#exp=3.%%%', /not in the expected form/],
  ];
  page.on('pageerror', (e) => {
    throw e;
  });
  for (const [hash, message] of cases) {
    await page.goto(`about:blank`);
    await openPlayground(page, hash);
    await expect(page.getByTestId('open-problem')).toContainText('This link could not be opened, so the default experiment is open instead.');
    await expect(page.getByTestId('open-problem')).toContainText(message);
    await expect(page.getByTestId('reward-editor')).toContainText('Longer names score higher.');
  }
});

test('a reload mid-run offers to resume, and the resumed run continues the same seeded stream', async ({ browser }) => {
  const link = `?backend=wasm${fragment(quick())}`;
  const straight = await freshPage(browser, link);
  for (let i = 1; i <= 8; i++) {
    await straight.getByTestId('step').click();
    await expect(straight.getByTestId('iteration')).toHaveText(String(i));
  }
  const uninterrupted = (await exported(straight)).metrics;
  await straight.context().close();

  const page = await freshPage(browser, link);
  await page.getByTestId('train').click();
  await waitForIteration(page, 5);
  await page.reload();
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await expect(page.getByTestId('resume-offer')).toContainText('still training when this page last closed');
  await page.getByTestId('resume').click();
  await expect(page.getByTestId('origin')).toContainText('Resumed');
  const at = Number(await page.getByTestId('iteration').textContent());
  expect(at % 3).toBe(0);
  expect(at).toBeGreaterThanOrEqual(3);
  for (let i = at + 1; i <= Math.max(8, at + 2); i++) {
    await page.getByTestId('step').click();
    await expect(page.getByTestId('iteration')).toHaveText(String(i));
  }
  const resumed = (await exported(page)).metrics;
  // The same seeded stream: the same samples, so every sampled quantity is equal exactly. Losses
  // and KLs agree to float32 rounding: the page that trained with Train ran no readback after
  // every iteration, as Step does, and wasm's kernels may then sum in another order (seen: 1e-7).
  expect(resumed.slice(0, 8).map(sampled)).toEqual(uninterrupted.map(sampled));
  for (const [i, m] of resumed.slice(0, 8).entries()) {
    for (const key of ['kl', 'entropy', 'policyLoss', 'valueLoss', 'approxKl', 'clipFrac', 'klCoef'] as const) {
      expect(m[key]!, `iteration ${i + 1} ${key}`).toBeCloseTo(uninterrupted[i][key]!, 4);
    }
  }

  // A second run beside it (Reset starts one; the resumed run stays saved).
  await page.getByTestId('reset').click();
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('iteration')).toHaveText('0');
  for (let i = 1; i <= 2; i++) {
    await page.getByTestId('step').click();
    await expect(page.getByTestId('iteration')).toHaveText(String(i));
  }
  // The runs panel lists both runs; two ticked draw one curve each on the comparison charts.
  await page.getByTestId('runs-panel').locator('summary').click();
  await expect(page.getByTestId('saved-run')).toHaveCount(2);
  await expect(page.getByTestId('run-iterations')).toHaveText(['2', String(resumed.length)]);
  await page.getByTestId('run-name').nth(1).fill('resumed run');
  await page.getByTestId('run-name').nth(1).press('Enter');
  await page.getByTestId('run-compare').nth(0).check();
  await page.getByTestId('run-compare').nth(1).check();
  await expect(page.getByTestId('compare-reward').locator('.u-legend .u-series')).toHaveCount(3); // x plus two runs
  await expect(page.getByTestId('compare-reward').locator('.u-legend')).toContainText('resumed run');
  await page.getByTestId('run-delete').nth(0).click();
  await expect(page.getByTestId('saved-run')).toHaveCount(1);
  await page.reload();
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await page.getByTestId('runs-panel').locator('summary').click();
  await expect(page.getByTestId('run-name')).toHaveValue('resumed run');
  await page.context().close();
});

test('export the experiment, metrics and charts; import it in a fresh page and in the CLI', async ({ page, browser }, info) => {
  await openPlayground(page, fragment(quick()));
  for (let i = 1; i <= 2; i++) {
    await page.getByTestId('step').click();
    await expect(page.getByTestId('iteration')).toHaveText(String(i));
  }
  const { experiment, metrics, file } = await exported(page);
  expect(experiment).toEqual(quick());
  expect(metrics.map((m) => m.iteration)).toEqual([1, 2]);

  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  const rows = readFileSync((await csv.path())!, 'utf8').trim().split('\n');
  expect(rows).toHaveLength(3);
  expect(rows[0].split(',')).toEqual(expect.arrayContaining(['iteration', 'rewardMean', 'kl', 'reward.zed']));
  const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('chart-reward').getByTestId('chart-png').click()]);
  expect(png.suggestedFilename()).toBe('Reward.png');
  expect(readFileSync((await png.path())!).subarray(1, 4).toString()).toBe('PNG');

  const [policy] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-policy').click()]);
  const policyBytes = readFileSync((await policy.path())!);
  expect(policyBytes.subarray(0, 8).toString()).toBe('RLCFCKPT');

  const other = await freshPage(browser, '');
  await other.getByTestId('import-file').setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"format": "rlcf-run", "name": 3}') });
  await expect(other.getByTestId('open-problem')).toContainText('broken.json could not be imported: run file: name');
  await other.getByTestId('import-file').setInputFiles(file);
  await expect(other.getByTestId('origin')).toContainText('Imported from');
  await expect(other.getByTestId('open-problem')).toHaveCount(0);
  await expect(other.getByTestId('reward-editor')).toContainText('Names with a z.');
  await other.getByTestId('hp-toggle').click();
  await expect(other.getByTestId('hp-batchSize')).toHaveValue('32');
  await other.getByTestId('runs-panel').locator('summary').click();
  await expect(other.getByTestId('run-iterations')).toHaveText('2');

  // The policy file: the run starts from its weights, exactly; a file of another kind or task is refused.
  await other.getByTestId('import-file').setInputFiles({ name: 'trained.policy.bin', mimeType: 'application/octet-stream', buffer: policyBytes });
  await expect(other.getByTestId('origin')).toContainText('starts from the weights in trained.policy.bin');
  const [again] = await Promise.all([other.waitForEvent('download'), other.getByTestId('export-policy').click()]);
  expect(readFileSync((await again.path())!).equals(policyBytes)).toBe(true);
  await other.getByTestId('import-file').setInputFiles({ name: 'notes.bin', mimeType: 'application/octet-stream', buffer: Buffer.from('not weights at all') });
  await expect(other.getByTestId('open-problem')).toContainText('notes.bin could not be imported: not a policy file');
  // Weights that are not all finite numbers are refused, naming the tensor.
  const nan = Buffer.from(policyBytes);
  for (let o = (16 + nan.readUInt32LE(12) + 3) & ~3; o + 4 <= nan.length; o += 4) nan.writeFloatLE(NaN, o);
  await other.getByTestId('import-file').setInputFiles({ name: 'nan.policy.bin', mimeType: 'application/octet-stream', buffer: nan });
  await expect(other.getByTestId('open-problem')).toContainText(/nan\.policy\.bin could not be imported: tensor \w+ holds NaN at index 0: weights must be finite numbers/);
  // Replacing a run that has iterations asks first, as every other discard does; Cancel keeps it.
  await other.getByTestId('step').click();
  await expect(other.getByTestId('iteration')).toHaveText('1', { timeout: 60_000 });
  await other.getByTestId('import-file').setInputFiles(file);
  await expect(other.getByTestId('confirm')).toContainText('Replace the run of 1 iteration?');
  await other.getByTestId('confirm-cancel').click();
  await expect(other.getByTestId('iteration')).toHaveText('1');
  await other.getByTestId('import-file').setInputFiles({ name: 'trained.policy.bin', mimeType: 'application/octet-stream', buffer: policyBytes });
  await other.getByTestId('confirm-ok').click();
  await expect(other.getByTestId('iteration')).toHaveText('0');
  await expect(other.getByTestId('origin')).toContainText('starts from the weights in trained.policy.bin');
  await other.getByTestId('task-select').selectOption('shakespeare');
  await expect(other.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await other.getByTestId('import-file').setInputFiles({ name: 'trained.policy.bin', mimeType: 'application/octet-stream', buffer: policyBytes });
  await expect(other.getByTestId('open-problem')).toContainText(/trained\.policy\.bin could not be imported: .*needs/);
  await other.context().close();

  // The same file trains in the CLI.
  const copy = info.outputPath('exported.json');
  writeFileSync(copy, readFileSync(file));
  const log = execFileSync('npx', ['tsx', 'scripts/train.ts', '--experiment', copy, '--iterations', '1', '--quiet'], { encoding: 'utf8' });
  expect(log).toMatch(/names, mlp, ppo, seed 5, reward 1 x zed/);
});

test('views for teaching: classroom hides the settings and locks the code until Edit; embed shows just the run', async ({ page }) => {
  await openPlayground(page, fragment({ ...quick(), view: 'classroom' }));
  await expect(page.getByTestId('hp-toggle')).toHaveCount(0);
  await page.getByTestId('reward-editor').click();
  await page.keyboard.insertText('// typed');
  await expect(page.getByTestId('reward-editor')).not.toContainText('// typed');
  await page.getByTestId('edit').click();
  await page.getByTestId('reward-editor').click();
  await page.keyboard.insertText('// typed');
  await expect(page.getByTestId('reward-editor')).toContainText('// typed');

  await openPlayground(page, `?view=embed${fragment(quick())}`);
  await expect(page.getByTestId('reward-editor')).toHaveCount(0);
  await expect(page.getByTestId('hp-toggle')).toHaveCount(0);
  await expect(page.getByTestId('runs-panel')).toHaveCount(0);
  await expect(page.getByTestId('chart-reward')).toBeVisible();
  await expect(page.locator('figure')).toHaveCount(1);
  await page.getByTestId('step').click();
  await expect(page.getByTestId('samples').locator('li')).not.toHaveCount(0);
});

test('without storage the run goes on in memory, says so, and leaving asks first', async ({ page }) => {
  await page.addInitScript(() => {
    Object.defineProperty(window, 'indexedDB', {
      get() {
        throw new DOMException('The user denied permission to access the database.', 'SecurityError');
      },
    });
  });
  await openPlayground(page);
  await page.getByTestId('runs-panel').locator('summary').click();
  await expect(page.getByTestId('runs-panel')).toContainText('Runs are not being saved');
  await expect(page.getByTestId('runs-panel')).toContainText('The run continues in memory');
  await page.getByTestId('step').click();
  await expect(page.getByTestId('iteration')).toHaveText('1');
  expect(await page.evaluate(() => !dispatchEvent(new Event('beforeunload', { cancelable: true })))).toBe(true);
});

test.describe('offline', () => {
  test.use({ serviceWorkers: 'allow' });
  test('after the first visit the playground opens and trains offline, and says it is offline', async ({ page, context }) => {
    await openPlayground(page);
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await page.reload(); // now under the service worker's control
    await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
    expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    await context.setOffline(true);
    await page.reload();
    await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
    await expect(page.getByTestId('offline')).toContainText('Offline');
    await page.getByTestId('step').click();
    await expect(page.getByTestId('iteration')).toHaveText('1');
    await context.setOffline(false);
    await expect(page.getByTestId('offline')).toHaveCount(0);
  });
});
