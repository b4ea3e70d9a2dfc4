import AxeBuilder from '@axe-core/playwright';
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { iteration, openPlayground } from './helpers.ts';
import { defaultExperiment } from '../../src/core/experiment/experiment.ts';
import { encodeExperiment } from '../../src/core/experiment/link.ts';
import type { AlgorithmId } from '../../src/core/algorithms/catalog.ts';

// Lesson mode: one iteration in six stages with the run's own numbers. Every
// number on the page is recomputed here from the other numbers the page shows
// (each stage's inputs), by this test's own arithmetic.

const STAGES = ['rollout', 'score', 'rewards', 'advantages', 'update', 'result'];
const num = async (l: Locator, attr = 'data-value') => Number(await l.getAttribute(attr));
const nums = async (l: Locator, attr = 'data-value') => Promise.all((await l.all()).map((x) => num(x, attr)));
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
function close(got: number, want: number, what: string, tol = 1e-4) {
  expect(Math.abs(got - want), `${what}: ${got} vs ${want}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want)));
}

async function stage(page: Page, id: string): Promise<Locator> {
  const s = page.getByTestId('lesson-stage');
  await expect(s).toHaveAttribute('data-stage', id);
  return s;
}

async function checkStage(page: Page, algorithm: AlgorithmId, id: string): Promise<void> {
  const s = await stage(page, id);
  await expect(s.getByTestId('lesson-formula').locator('.katex')).toBeVisible(); // typeset
  await expect(s.getByTestId('lesson-source').locator('pre').first()).toContainText(/\S/);
  const samples = await s.getByTestId('lesson-sample').all();
  expect(samples.length).toBeGreaterThan(1);
  const beta = async () => num(s.getByTestId('lesson-beta'));
  if (id === 'rollout') {
    for (const row of samples) {
      const p = await nums(row.getByTestId('lesson-token'));
      const logp = await nums(row.getByTestId('lesson-token'), 'data-logprob');
      p.forEach((x, t) => close(x, Math.exp(logp[t]), 'probability = exp(log p)'));
      close(await num(row.getByTestId('lesson-logprob')), sum(logp), 'log π(y) = Σ log p');
      close(await num(row.getByTestId('lesson-ref-logprob')), sum(await nums(row.getByTestId('lesson-token'), 'data-ref')), 'log π_ref(y)');
    }
  } else if (id === 'score') {
    for (const row of samples) {
      const parts = await row.getByTestId('lesson-component').all();
      let total = 0;
      for (const c of parts) total += (await num(c, 'data-weight')) * (await num(c));
      close(await num(row.getByTestId('lesson-total')), total, 'R = Σ w r');
    }
  } else if (id === 'rewards' && algorithm === 'ppo') {
    const b = await beta();
    for (const row of samples) {
      const kl = await nums(row.getByTestId('lesson-kl'));
      const r = await nums(row.getByTestId('lesson-reward'));
      const score = await num(row.getByTestId('lesson-score'));
      r.forEach((x, t) => close(x, -b * kl[t] + (t === r.length - 1 ? score : 0), `r_${t}`));
    }
  } else if ((id === 'rewards' || id === 'advantages') && algorithm === 'grpo') {
    const scores = await Promise.all(samples.map((r) => num(r.getByTestId('lesson-score'))));
    const mean = sum(scores) / scores.length; // the whole group is shown (G = 8)
    const sd = Math.sqrt(sum(scores.map((x) => (x - mean) ** 2)) / (scores.length - 1));
    for (const [i, row] of samples.entries()) {
      close(await num(row.getByTestId('lesson-group-mean')), mean, 'group mean');
      close(await num(row.getByTestId('lesson-divisor')), sd + 1e-4, 'group std + 1e-4');
      if (id === 'advantages') close(await num(row.getByTestId('lesson-advantage')), (scores[i] - mean) / (sd + 1e-4), 'Â = (R - mean) / std', 1e-3);
    }
  } else if ((id === 'rewards' || id === 'advantages') && algorithm === 'rloo') {
    const b = await beta();
    const meanLength = await num(s.getByTestId('lesson-mean-length'));
    const rewards: number[] = [];
    for (const row of samples) {
      const kl = row.getByTestId('lesson-kl');
      const counted = ((await num(kl)) / (await num(kl, 'data-length'))) * meanLength;
      close(await num(row.getByTestId('lesson-penalised-kl')), counted, 'KL per token × mean length');
      const r = (await num(row.getByTestId('lesson-score'))) - b * counted;
      close(await num(row.getByTestId('lesson-reward')), r, "R' = R - β KL");
      rewards.push(r);
    }
    for (const [i, row] of samples.entries()) {
      const baseline = (sum(rewards) - rewards[i]) / (rewards.length - 1);
      close(await num(row.getByTestId('lesson-baseline')), baseline, 'leave-one-out baseline');
      if (id === 'advantages') close(await num(row.getByTestId('lesson-advantage')), rewards[i] - baseline, 'Â = R\' - b', 1e-3);
    }
  } else if (id === 'advantages') {
    const [gamma, lambda] = [await num(s.getByTestId('lesson-gamma')), await num(s.getByTestId('lesson-lambda'))];
    const [mean, std] = [await num(s.getByTestId('lesson-whiten-mean')), await num(s.getByTestId('lesson-whiten-std'))];
    for (const row of samples) {
      const r = await nums(row.getByTestId('lesson-reward'));
      const v = await nums(row.getByTestId('lesson-value'));
      const gae = await nums(row.getByTestId('lesson-gae'));
      const trained = await nums(row.getByTestId('lesson-advantage'));
      let running = 0;
      for (let t = r.length - 1; t >= 0; t--) {
        running = r[t] + gamma * (t + 1 < r.length ? v[t + 1] : 0) - v[t] + gamma * lambda * running;
        close(gae[t], running, `GAE Â_${t}`, 1e-3);
        close(trained[t], (gae[t] - mean) / std, `whitened Ã_${t}`, 1e-3);
      }
    }
  } else if (id === 'update') {
    const eps = await num(s.getByTestId('lesson-clip'));
    for (const row of samples) {
      if (algorithm === 'rloo') {
        const ratio = row.getByTestId('lesson-ratio');
        const [r, a] = [await num(ratio), await num(row, 'data-advantage')];
        expect(await ratio.getAttribute('data-marked')).toBe(String((a > 0 && r > 1 + eps) || (a < 0 && r < 1 - eps)));
        continue;
      }
      for (const token of await row.getByTestId('lesson-ratio').all()) {
        const [r, old, last, a] = [await num(token), await num(token, 'data-old'), await num(token, 'data-last'), await num(token, 'data-advantage')];
        close(r, Math.exp(last - old), 'ρ = exp(log p_last - log p_old)');
        expect(await token.getAttribute('data-marked')).toBe(String((a > 0 && r > 1 + eps) || (a < 0 && r < 1 - eps)));
      }
    }
    const max = await num(s.getByTestId('lesson-max-grad-norm'));
    const steps = await s.getByTestId('lesson-step').all();
    expect(steps.length).toBeGreaterThan(0);
    for (const step of steps) close(await num(step, 'data-clipped-norm'), Math.min(await num(step, 'data-norm'), max), '‖g‖ after the clip', 1e-3);
  } else if (id === 'result') {
    for (const row of samples) {
      const tokens = await row.getByTestId('lesson-change').all();
      const changes: number[] = [];
      for (const t of tokens) {
        const c = await num(t);
        close(c, (await num(t, 'data-after')) - (await num(t, 'data-before')), 'Δ log p');
        changes.push(c);
      }
      close(await num(row.getByTestId('lesson-seq-change')), sum(changes), 'Δ log π(y)');
    }
  }
}

for (const algorithm of ['ppo', 'grpo', 'rloo'] as AlgorithmId[]) {
  test(`lesson mode walks every stage of a ${algorithm.toUpperCase()} iteration, and every number shown equals a recomputation from the others`, async ({ page }) => {
    await openPlayground(page, `#${await encodeExperiment(defaultExperiment('names', 'mlp', algorithm))}`);
    await page.getByTestId('lesson-toggle').click();
    await page.getByTestId('lesson-next').click(); // "Run an iteration"
    await expect(page.getByTestId('lesson-stage')).toHaveAttribute('data-iteration', '1');
    await expect(page.getByTestId('lesson-stage')).toHaveAttribute('data-algorithm', algorithm);
    for (const [i, id] of STAGES.entries()) {
      await checkStage(page, algorithm, id);
      if (i === 2) {
        // Back returns to the stage before; the run has not moved.
        await page.getByTestId('lesson-back').click();
        await stage(page, STAGES[1]);
        await page.keyboard.press('n');
        await stage(page, id);
      }
      if (i < STAGES.length - 1) await page.getByTestId('lesson-next').click();
    }
    expect(await iteration(page)).toBe(1);
    // Past the last stage, the run advances: the next iteration, from its first stage.
    await page.getByTestId('lesson-next').click();
    await expect(page.getByTestId('lesson-stage')).toHaveAttribute('data-iteration', '2');
    await stage(page, 'rollout');
    expect(await iteration(page)).toBe(2);
  });
}

test('lesson mode on CartPole: each cart step, the reward, GAE along the episode with the value of each state, the update and the result, recomputed', async ({ page }) => {
  await openPlayground(page, `#${await encodeExperiment(defaultExperiment('cartpole'))}`);
  await page.getByTestId('lesson-toggle').click();
  await page.getByTestId('lesson-next').click();
  await expect(page.getByTestId('lesson-stage')).toHaveAttribute('data-iteration', '1');
  for (const id of STAGES) {
    const s = await stage(page, id);
    await expect(s.getByTestId('lesson-formula').locator('.katex')).toBeVisible();
    const rows = await s.getByTestId('lesson-sample').all();
    expect(rows.length).toBeGreaterThan(10);
    if (id === 'rollout') for (const r of rows) close(await num(r.getByTestId('lesson-prob')), Math.exp(await num(r.getByTestId('lesson-prob'), 'data-logprob')), 'π(a|s)');
    if (id === 'score') {
      for (const r of rows) {
        let total = 0;
        for (const c of await r.getByTestId('lesson-component').all()) total += (await num(c, 'data-weight')) * (await num(c));
        close(await num(r.getByTestId('lesson-reward')), total, 'r = Σ w r_k');
      }
    }
    if (id === 'advantages') {
      const numbers = s.getByTestId('control-numbers');
      const [gamma, lambda] = [await num(numbers, 'data-gamma'), await num(numbers, 'data-lambda')];
      const read = async (r: Locator) => ({ r: await num(r.getByTestId('lesson-reward')), v: await num(r.getByTestId('lesson-value')), a: await num(r.getByTestId('lesson-advantage')), R: await num(r.getByTestId('lesson-return')), d: await num(r, 'data-done') });
      const all = await Promise.all(rows.map(read));
      for (let t = 0; t + 1 < all.length; t++) {
        const [x, next] = [all[t], all[t + 1]];
        const live = 1 - x.d;
        close(x.a, x.r + gamma * next.v * live - x.v + gamma * lambda * live * next.a, `Â_${t}`, 1e-3);
        close(x.R, x.a + x.v, `R_${t} = Â + V`, 1e-3);
      }
    }
    if (id === 'update') {
      const eps = await num(s.getByTestId('lesson-clip'));
      for (const r of await s.getByTestId('lesson-ratio').all()) {
        const [ratio, old, last, a] = [await num(r), await num(r, 'data-old'), await num(r, 'data-last'), await num(r, 'data-advantage')];
        close(ratio, Math.exp(last - old), 'ρ');
        expect(await r.getAttribute('data-marked')).toBe(String((a > 0 && ratio > 1 + eps) || (a < 0 && ratio < 1 - eps)));
      }
      const max = await num(s.getByTestId('lesson-max-grad-norm'));
      for (const st of await s.getByTestId('lesson-step').all()) close(await num(st, 'data-clipped-norm'), Math.min(await num(st, 'data-norm'), max), '‖g‖ after the clip', 1e-3);
    }
    if (id === 'result') for (const r of rows) close(Math.log(await num(r.getByTestId('lesson-after'))) - Math.log(await num(r.getByTestId('lesson-before'))), await num(r.getByTestId('lesson-after'), 'data-change'), 'Δ log π', 1e-3);
    if (id !== 'result') await page.getByTestId('lesson-next').click();
  }
  expect((await new AxeBuilder({ page }).analyze()).violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
});

test('the per-token view: any sample of a stepped iteration, every token with a finite value for each quantity, and a legend', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('step').click();
  await expect(page.getByTestId('status')).toHaveText('paused');
  const opener = page.getByTestId('sample-tokens').nth(3);
  await opener.click();
  const view = page.getByTestId('token-view');
  await expect(view).toBeVisible();
  const options = await page.getByTestId('token-quantity').locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  expect(options).toEqual(['advantage', 'kl', 'value', 'change']);
  for (const q of options) {
    await page.getByTestId('token-quantity').selectOption(q);
    const values = await nums(view.getByTestId('token'));
    expect(values.length).toBeGreaterThan(0);
    for (const v of values) expect(Number.isFinite(v), `${q}: ${v}`).toBe(true);
  }
  await expect(view.getByTestId('token-legend')).toBeVisible();
  await view.getByTestId('token').first().focus();
  await expect(view.locator('.details')).toContainText('advantage');
  expect((await new AxeBuilder({ page }).analyze()).violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  // Training on: the batch shown is no longer the stepped one, so its tokens are not offered.
  await page.getByTestId('train').click();
  await expect(page.getByTestId('sample-tokens')).toHaveCount(0);
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveText('paused');
});

test('lesson mode has no accessibility violation at any stage', async ({ page }) => {
  await openPlayground(page, `#${await encodeExperiment(defaultExperiment('names', 'mlp', 'grpo'))}`);
  await page.getByTestId('lesson-toggle').click();
  await page.getByTestId('lesson-next').click();
  for (const id of STAGES) {
    await stage(page, id);
    await page.getByTestId('lesson-source').locator('summary').click();
    expect((await new AxeBuilder({ page }).analyze()).violations.map((v) => `${id}: ${v.id}: ${v.help} (${v.nodes.length})`)).toEqual([]);
    if (id !== 'result') await page.getByTestId('lesson-next').click();
  }
});
