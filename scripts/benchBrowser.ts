// The browser benchmark (not a test): builds the app, serves the build, and
// trains in the page's trainer worker in headless Chromium, then prints the
// same phases as `npm run bench` beside Node's (from bench-results/bench.json,
// when `npm run bench` has run) and the ratio, and the time from opening the
// page to the end of the first iteration.
//   npm run bench-browser [-- --iterations N --backend wasm|webgpu|webgl|cpu|auto --no-build --out bench-results/browser.json]
//   npm run bench-browser -- --soak MINUTES [--backend ...]: the soak instead (browserSoak.ts), written to bench-results/soak.json
// (auto: the page measures the backends and picks, as it does for a visitor)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { defaultExperiment, type Experiment } from '../src/core/experiment/experiment.ts';
import { encodeExperiment } from '../src/core/experiment/link.ts';
import { parseArgs, runMain } from './args.ts';
import { median, fmt } from './benchShared.ts';
import { startPreview } from './previewServer.ts';
import { exported, soak } from './browserSoak.ts';

const PORT = 4199;

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), { iterations: 'count', backend: 'string', 'no-build': 'boolean', out: 'string', soak: 'count' });
  const iterations = Number(args.iterations ?? 8);
  const backend = String(args.backend ?? 'wasm');
  const soakMinutes = args.soak === undefined ? null : Number(args.soak);
  const out = String(args.out ?? (soakMinutes ? 'bench-results/soak.json' : 'bench-results/browser.json'));
  if (!args['no-build']) execFileSync('npx', ['vite', 'build'], { stdio: 'ignore' });
  const server = await startPreview(PORT);
  const ORIGIN = server.origin;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined),
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const rows: Record<string, unknown>[] = [];
  if (soakMinutes) {
    try {
      const result = await soak(browser, ORIGIN, backend, soakMinutes);
      console.log(`Soak: the names transformer trained ${soakMinutes} minutes in the page's worker (${backend}); after warm-up:`);
      console.table(result.summary);
      mkdirSync(path.dirname(out), { recursive: true });
      writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), backend, minutes: soakMinutes, ...result }, null, 2) + '\n');
      console.log(`wrote ${out}`);
    } finally {
      await browser.close();
      await server.stop();
    }
    return;
  }
  try {
    const runs: [string, Experiment, number][] = [
      ['mlp', defaultExperiment('names', 'mlp', 'ppo'), iterations],
      ['transformer', defaultExperiment('names', 'transformer', 'ppo'), iterations],
      ['images (transformer)', defaultExperiment('images', 'transformer', 'ppo'), Math.min(iterations, 4)],
      ['cartpole', defaultExperiment('cartpole', 'mlp', 'ppo'), iterations],
    ];
    for (const [label, experiment, n] of runs) {
      // Names under the length reward, as the Node benchmark and the PyTorch peer train them.
      if (experiment.task === 'names') experiment.rewards = [{ name: 'length', weight: 1, source: 'function reward(sample) { return sample.text.length; }' }];
      const page = await (await browser.newContext({ serviceWorkers: 'block' })).newPage();
      await page.addInitScript(PRESS_STEP_WHEN_READY);
      await page.goto(`${ORIGIN}/${backend === 'auto' ? '' : `?backend=${backend}`}#${await encodeExperiment(experiment)}`);
      // Timed inside the page, from the start of navigation: a poll from here would add its own interval.
      await page.waitForFunction(() => (window as unknown as { benchFirstMs?: number }).benchFirstMs !== undefined, null, { timeout: 120_000 });
      const { ready, first } = await page.evaluate(() => {
        const w = window as unknown as { benchReadyMs: number; benchFirstMs: number };
        return { ready: w.benchReadyMs, first: w.benchFirstMs };
      });
      await page.getByTestId('status').filter({ hasText: 'paused' }).waitFor({ timeout: 120_000 });
      await page.getByTestId('train').click();
      await waitForIteration(page, n + 1);
      await page.getByTestId('train').click(); // Train is Pause while training
      await page.getByTestId('status').filter({ hasText: 'paused' }).waitFor({ timeout: 120_000 });
      const metrics = (await exported(page)).slice(1, n + 1); // the first iteration compiles kernels
      rows.push({
        run: label,
        openToReadyMs: ready,
        openToFirstIterationMs: first,
        iterationMs: median(metrics.map((m) => m.totalMs)),
        rolloutMs: median(metrics.map((m) => m.rolloutMs)),
        rewardMs: median(metrics.map((m) => m.rewardMs)),
        updateMs: median(metrics.map((m) => m.updateMs)),
        backend: await page.getByTestId('backend').textContent(),
      });
      await page.context().close();
    }
  } finally {
    await browser.close();
    await server.stop();
  }

  // Node's numbers for the same runs, when the Node benchmark has written them.
  const nodeFile = 'bench-results/bench.json';
  const node = existsSync(nodeFile) ? (JSON.parse(readFileSync(nodeFile, 'utf8')) as { results: { arch: string; iterationMs: number; updateMs: number }[]; gallery?: { task: string; iterationMs: number }[] }) : null;
  const nodeMs = (run: string): number | undefined =>
    run === 'mlp' || run === 'transformer' ? node?.results.find((r) => r.arch === run)?.iterationMs : node?.gallery?.find((g) => run.startsWith(g.task))?.iterationMs;
  console.log(`Training in the page's worker, headless Chromium, ${backend}, median of the iterations after the first${node ? `; Node from ${nodeFile}` : ' (run npm run bench for Node beside it)'}`);
  console.table(
    rows.map((r) => {
      const n = nodeMs(r.run as string);
      return {
        run: r.run,
        'iteration ms': fmt(r.iterationMs),
        'rollout ms': fmt(r.rolloutMs),
        'reward ms': fmt(r.rewardMs),
        'update ms': fmt(r.updateMs),
        'Node iteration ms': n === undefined ? '–' : fmt(n),
        'browser / Node': n === undefined ? '–' : `${((r.iterationMs as number) / n).toFixed(2)}x`,
        'open to ready ms': fmt(r.openToReadyMs),
        'open to 1st iteration ms': fmt(r.openToFirstIterationMs),
      };
    }),
  );
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), backend, rows }, null, 2) + '\n');
  console.log(`wrote ${out}`);
});

/**
 * Runs in the page before its own scripts: notes when it is ready (status idle)
 * and presses Step at that moment, as a person who clicks at once would, then
 * notes when iteration 1 is on screen. Times are from the start of navigation.
 */
const PRESS_STEP_WHEN_READY = `(() => {
  const observer = new MutationObserver(() => {
    const status = document.querySelector('[data-testid="status"]')?.textContent ?? '';
    if (window.benchReadyMs === undefined && /idle/.test(status)) {
      window.benchReadyMs = performance.now();
      document.querySelector('[data-testid="step"]').click();
    }
    if (window.benchReadyMs !== undefined && document.querySelector('[data-testid="iteration"]')?.textContent?.trim() === '1') {
      window.benchFirstMs = performance.now();
      observer.disconnect();
    }
  });
  addEventListener('DOMContentLoaded', () => observer.observe(document.body, { subtree: true, childList: true, characterData: true }));
})();`;

async function waitForIteration(page: Page, atLeast: number): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (Number(await page.getByTestId('iteration').textContent()) >= atLeast) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the run did not reach iteration ${atLeast}`);
}
