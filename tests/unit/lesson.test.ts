import * as tf from '../../src/core/tf.ts';
import { describe, expect, it } from 'vitest';
import type { AlgorithmId } from '../../src/core/algorithms/catalog.ts';
import type { TextLesson } from '../../src/core/algorithms/lesson.ts';
import type { Hyperparameters } from '../../src/core/hyperparameters.ts';
import { FunctionReward } from '../../src/core/reward/reward.ts';
import { getTask, modelId, TASKS } from '../../src/core/tasks/index.ts';
import { Trainer } from '../../src/core/training/trainer.ts';
import { loadPolicyFromDisk } from '../../scripts/nodeModels.ts';
import { expectFlatTensorCount } from './helpers.ts';
import { ControlTrainer } from '../../src/core/training/control.ts';

// A lesson shows an iteration's own numbers. Each stage is recomputed here from
// the captured inputs, in float64 and by code of its own (not the algorithm
// files' functions), and compared.

const names = getTask('names');
const VOWELS = /[aeiouy]/g;

function trainer(algorithm: AlgorithmId, arch: 'mlp' | 'transformer', h: Partial<Hyperparameters>, seed = 4) {
  return new Trainer({
    task: names,
    reference: loadPolicyFromDisk(modelId(names, arch)),
    hyperparameters: { batchSize: 16, epochs: 2, minibatches: 2, topK: 0, ...h },
    seed,
    algorithm,
    reward: new FunctionReward([
      { name: 'length', weight: 0.5, fn: (s) => s.text.length },
      { name: 'vowels', weight: 2, fn: (s) => (s.text.match(VOWELS) ?? []).length },
    ]),
  });
}

const close = (a: number, b: number, tol = 1e-4) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol = 1e-4) {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) if (!close(got[i], want[i], tol)) expect.fail(`${what}[${i}]: ${got[i]} != ${want[i]}`);
}
const at = (L: TextLesson, b: number, t: number) => b * L.N + t;

/** Stage 2: the total is the weighted sum of the components. */
function checkScore(L: TextLesson) {
  const w: Record<string, number> = { length: 0.5, vowels: 2 };
  for (let b = 0; b < L.B; b++) {
    expect(L.components.find((c) => c.name === 'length')!.values[b]).toBe(L.texts[b].length);
    expect(close(L.total[b], L.components.reduce((s, c) => s + w[c.name] * c.values[b], 0))).toBe(true);
  }
}

/** Stage 1: one token string per action; they spell the completion (and the stop token where it stopped). */
function checkRollout(L: TextLesson) {
  for (let b = 0; b < L.B; b++) {
    expect(L.tokenText[b].length).toBe(L.lengths[b]);
    expect(L.tokenText[b].join('').replace('</s>', '')).toBe(L.texts[b]);
    for (let t = 0; t < L.lengths[b]; t++) expect(L.logprobs[at(L, b, t)]).toBeLessThanOrEqual(1e-6);
  }
}

function recomputePpo(L: TextLesson) {
  const s = L.settings;
  const rewards = new Float64Array(L.B * L.N);
  const values = L.advantages.values!;
  const adv = new Float64Array(L.B * L.N);
  for (let b = 0; b < L.B; b++) {
    const n = L.lengths[b];
    for (let t = 0; t < n; t++) rewards[at(L, b, t)] = -s.beta * (L.logprobs[at(L, b, t)] - L.refLogprobs[at(L, b, t)]) + (t === n - 1 ? L.trainedScore[b] : 0);
    let running = 0;
    for (let t = n - 1; t >= 0; t--) {
      const next = t === n - 1 ? 0 : values[at(L, b, t + 1)];
      running = rewards[at(L, b, t)] + s.gamma * next - values[at(L, b, t)] + s.gamma * s.lambda * running;
      adv[at(L, b, t)] = running;
    }
  }
  const real: number[] = [];
  for (let b = 0; b < L.B; b++) for (let t = 0; t < L.lengths[b]; t++) real.push(at(L, b, t));
  const mean = real.reduce((a, i) => a + adv[i], 0) / real.length;
  const sd = Math.sqrt(real.reduce((a, i) => a + (adv[i] - mean) ** 2, 0) / (real.length - 1) + 1e-8);
  const trained = Float64Array.from(adv, (x, i) => (real.includes(i) ? (s.whiten ? (x - mean) / sd : x) : 0));
  return { rewards, adv, returns: Float64Array.from(adv, (a, i) => (real.includes(i) ? a + values[i] : 0)), trained, real, mean };
}

function recomputeGroups(L: TextLesson) {
  const s = L.settings;
  const G = s.groupSize;
  const out = { mean: new Float64Array(L.B), divisor: new Float64Array(L.B), adv: new Float64Array(L.B) };
  const sd = (xs: number[]) => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
  };
  const x = L.trainedScore;
  for (let b = 0; b < L.B; b++) {
    const g = Math.floor(b / G);
    const group = x.slice(g * G, g * G + G);
    out.mean[b] = group.reduce((a, c) => a + c, 0) / G;
    out.divisor[b] = s.grpoScale === 'group' ? sd(group) + 1e-4 : s.grpoScale === 'batch' ? sd([...x]) + 1e-4 : 1;
    out.adv[b] = (x[b] - out.mean[b]) / out.divisor[b];
  }
  return out;
}

function recomputeRloo(L: TextLesson) {
  const s = L.settings;
  const G = s.groupSize;
  const kl = Array.from({ length: L.B }, (_, b) => {
    let sum = 0;
    for (let t = 0; t < L.lengths[b]; t++) sum += L.logprobs[at(L, b, t)] - L.refLogprobs[at(L, b, t)];
    return sum;
  });
  const meanLength = Array.from(L.lengths).reduce((a, c) => a + c, 0) / L.B;
  const counted = kl.map((k, b) => (s.rlooKl === 'sum' ? k : (k / L.lengths[b]) * meanLength));
  const rewards = counted.map((k, b) => L.trainedScore[b] - s.beta * k);
  const baseline = rewards.map((_, b) => {
    const g = Math.floor(b / G);
    const others = rewards.slice(g * G, g * G + G).filter((_, i) => g * G + i !== b);
    return others.reduce((a, c) => a + c, 0) / (G - 1);
  });
  let adv = rewards.map((r, b) => r - baseline[b]);
  if (s.rlooNormalize) {
    const m = adv.reduce((a, c) => a + c, 0) / L.B;
    const sd = Math.sqrt(adv.reduce((a, c) => a + (c - m) ** 2, 0) / (L.B - 1));
    adv = adv.map((a) => (a - m) / (sd + 1e-8));
  }
  return { counted, rewards, baseline, adv };
}

/** Stage 5: the last step's surrogate, from the captured log-probabilities before it, the old ones and the trained advantages. */
function lastStepSurrogate(L: TextLesson): { got: number; want: number } {
  const step = L.steps[L.steps.length - 1];
  const eps = L.settings.clipRange;
  const A = (b: number, t: number) => (L.algorithm === 'ppo' ? L.advantages.trained[at(L, b, t)] : L.advantages.trained[b]);
  const term = (r: number, a: number) => Math.max(-a * r, -a * Math.min(Math.max(r, 1 - eps), 1 + eps));
  if (L.algorithm === 'rloo') {
    const per = step.rows.map((b) => {
      let lr = 0;
      for (let t = 0; t < L.lengths[b]; t++) lr += L.lastLogprobs[at(L, b, t)] - L.logprobs[at(L, b, t)];
      return term(Math.exp(lr), A(b, 0));
    });
    return { got: step.diagnostics.loss, want: per.reduce((a, c) => a + c, 0) / per.length };
  }
  const perRow: number[] = [];
  let sum = 0, count = 0;
  for (const b of step.rows) {
    let rowSum = 0;
    for (let t = 0; t < L.lengths[b]; t++) {
      const r = Math.exp(L.lastLogprobs[at(L, b, t)] - L.logprobs[at(L, b, t)]);
      let x = term(r, A(b, t));
      if (L.algorithm === 'grpo' && L.settings.beta !== 0) {
        const d = L.refLogprobs[at(L, b, t)] - L.lastLogprobs[at(L, b, t)];
        x += L.settings.beta * (Math.exp(d) - d - 1);
      }
      rowSum += x;
      sum += x;
      count++;
    }
    perRow.push(rowSum / Math.max(L.lengths[b], 1));
  }
  if (L.algorithm === 'ppo') return { got: step.diagnostics.pg_loss, want: sum / count };
  const s = L.settings;
  const batchTokens = Array.from(L.lengths).reduce((a, c) => a + c, 0);
  const want = { grpo: perRow.reduce((a, c) => a + c, 0) / perRow.length, bnpo: sum / count, dr_grpo: sum / (step.rows.length * s.maxLength), dapo: sum / (batchTokens / s.minibatches) }[s.grpoLossType];
  return { got: step.diagnostics.loss, want };
}

/** Stage 6: the updated policy's log-probabilities, by a whole forward pass of our own (not the real-actions path the trainer takes). */
function afterByForward(t: Trainer, L: TextLesson, tokens: Int32Array, width: number, start: number, pad: Int32Array): Float32Array {
  return tf.tidy(() => {
    const { logits } = t.policy.forward(tf.tensor2d(tokens, [L.B, width], 'int32').slice([0, 0], [L.B, start + L.N - 1]) as tf.Tensor2D, pad);
    const logp = tf.logSoftmax(tf.div(logits, L.settings.temperature)).arraySync() as number[][][];
    const out = new Float32Array(L.B * L.N);
    for (let b = 0; b < L.B; b++) for (let k = 0; k < L.lengths[b]; k++) out[at(L, b, k)] = logp[b][start - 1 + k][tokens[b * width + start + k]];
    return out;
  });
}

describe('lesson capture: every stage equals an independent recomputation from the captured inputs', () => {
  for (const [algorithm, arch, h] of [
    ['ppo', 'mlp', {}],
    ['ppo', 'transformer', { whitenAdvantages: false }],
    ['grpo', 'mlp', { groupSize: 4, grpoBeta: 0.04 }],
    ['grpo', 'transformer', { groupSize: 4, grpoScale: 'batch', grpoLossType: 'grpo' }],
    ['grpo', 'mlp', { groupSize: 8, grpoScale: 'none', grpoLossType: 'bnpo' }],
    ['rloo', 'mlp', { groupSize: 4 }],
    ['rloo', 'transformer', { groupSize: 4, rlooKl: 'sum', rlooNormalizeAdvantages: true }],
  ] as [AlgorithmId, 'mlp' | 'transformer', Partial<Hyperparameters>][]) {
    it(`${algorithm} (${arch}${Object.keys(h).length ? `, ${JSON.stringify(h)}` : ''}), iterations 1 and 2`, async () => {
      const t = trainer(algorithm, arch, h);
      for (let i = 1; i <= 2; i++) {
        const { lesson: L, metrics } = await t.step({ lesson: true });
        expect(L).toBeDefined();
        if (!L) return;
        expect(L.iteration).toBe(i);
        expect(metrics.iteration).toBe(i);
        checkRollout(L);
        checkScore(L);
        if (algorithm === 'ppo') {
          const r = recomputePpo(L);
          expect(L.rewards.kind).toBe('ppo');
          if (L.rewards.kind === 'ppo') expectClose(L.rewards.rewards, r.rewards, 'per-token rewards');
          expectClose(L.advantages.raw, r.adv, 'GAE advantages', 2e-4);
          expectClose(L.advantages.returns!, r.returns, 'returns', 2e-4);
          expectClose(L.advantages.trained, r.trained, 'whitened advantages', 5e-4);
          if (L.settings.whiten) expect(close(L.advantages.whitened!.mean, r.mean, 1e-5)).toBe(true);
        } else if (algorithm === 'grpo') {
          const r = recomputeGroups(L);
          expect(L.rewards.kind).toBe('grpo');
          if (L.rewards.kind === 'grpo') {
            expectClose(L.rewards.groupMean, r.mean, 'group means');
            expectClose(L.rewards.divisor, r.divisor, 'divisors');
          }
          expectClose(L.advantages.trained, r.adv, 'group advantages', 5e-4);
        } else {
          const r = recomputeRloo(L);
          expect(L.rewards.kind).toBe('rloo');
          if (L.rewards.kind === 'rloo') {
            expectClose(L.rewards.penalisedKl, r.counted, 'penalised KL');
            expectClose(L.rewards.rewards, r.rewards, 'rewards');
            expectClose(L.rewards.baseline, r.baseline, 'leave-one-out baselines');
          }
          expectClose(L.advantages.trained, r.adv, 'advantages', 5e-4);
        }
        // Stage 5: every step recorded, each row in one minibatch per epoch, the clip applied as said.
        const s = L.settings;
        expect(L.steps.length).toBe(s.epochs * s.minibatches);
        for (let e = 0; e < s.epochs; e++) expect(L.steps.filter((x) => x.epoch === e).flatMap((x) => x.rows).sort((a, b) => a - b)).toEqual([...Array(L.B).keys()]);
        for (const step of L.steps) expect(close(step.clippedNorm, Math.min(step.gradNorm, s.maxGradNorm), 1e-4)).toBe(true);
        const { got, want } = lastStepSurrogate(L);
        expect(close(got, want, 1e-3), `last step's surrogate ${got} != ${want}`).toBe(true);
        // Stage 6: the log-probabilities after the update, as a whole forward pass of the updated policy computes them.
        const { tokens, width, start, pad } = L.sequences;
        expectClose(L.after, afterByForward(t, L, tokens, width, start, pad), 'log-probabilities after the update', 1e-3);
      }
      t.dispose();
    }, 60_000);
  }

  it('capturing changes nothing: the same seed trains to the same numbers with and without a lesson', async () => {
    for (const algorithm of ['ppo', 'grpo', 'rloo'] as AlgorithmId[]) {
      const a = trainer(algorithm, 'mlp', { groupSize: 4 }, 9);
      const b = trainer(algorithm, 'mlp', { groupSize: 4 }, 9);
      for (let i = 0; i < 3; i++) {
        const [x, y] = [await a.step({ lesson: i === 1 }), await b.step()];
        expect(x.metrics.rewardMean).toBe(y.metrics.rewardMean);
        expect(x.metrics.policyLoss).toBe(y.metrics.policyLoss);
        expect(x.samples.map((s) => s.text)).toEqual(y.samples.map((s) => s.text));
      }
      a.dispose();
      b.dispose();
    }
  }, 60_000);

  it('a captured iteration leaves no tensor behind', async () => {
    const t = trainer('ppo', 'transformer', {});
    await expectFlatTensorCount(() => t.step({ lesson: true }), 1, 3);
    t.dispose();
  }, 60_000);
});

describe('a lesson on every language task (GRPO, a group of 4): one token string per action, finite numbers at every stage', () => {
  for (const task of TASKS.filter((t) => !t.environment)) {
    it(task.id, async () => {
      const arch = task.archs?.[0] ?? 'mlp';
      const t = new Trainer({
        task,
        reference: loadPolicyFromDisk(modelId(task, arch)),
        hyperparameters: { batchSize: 16, groupSize: 4, epochs: 1, minibatches: 2 },
        seed: 2,
        algorithm: 'grpo',
        reward: new FunctionReward([{ name: 'length', weight: 1, fn: (s) => s.text.length }]),
      });
      const { lesson: L } = await t.step({ lesson: true });
      expect(L?.kind).toBe('text');
      if (!L || L.kind !== 'text') return;
      for (let b = 0; b < L.B; b++) {
        expect(L.tokenText[b].length).toBe(L.lengths[b]);
        if (!task.image) expect(L.tokenText[b].join('').replace('</s>', '')).toBe(L.texts[b]);
        for (let i = b * L.N; i < b * L.N + L.lengths[b]; i++) for (const a of [L.logprobs, L.refLogprobs, L.lastLogprobs, L.after]) expect(Number.isFinite(a[i])).toBe(true);
        expect(Number.isFinite(L.advantages.trained[b])).toBe(true);
      }
      t.dispose();
    }, 60_000);
  }
});

describe('a CartPole lesson: every stage recomputed from the captured inputs', () => {
  const cartpole = getTask('cartpole');
  const make = (seed: number) =>
    new ControlTrainer({
      task: cartpole,
      hyperparameters: { batchSize: 128, environments: 4, minibatches: 4, epochs: 2 },
      seed,
      reward: new FunctionReward([
        { name: 'alive', weight: 1, fn: () => 1 },
        { name: 'centre', weight: 0.5, fn: (s) => -Math.abs((s as unknown as { state: number[] }).state[0]) },
      ]),
    });

  it('transitions, rewards, GAE over episodes, the minibatch-whitened advantages, the last step\'s surrogate and the actions\' probabilities after', async () => {
    const t = make(3);
    for (let it = 1; it <= 2; it++) {
      const { lesson: L } = await t.step({ lesson: true });
      expect(L?.kind).toBe('control');
      if (!L) return;
      const N = L.T * L.E;
      const s = L.settings;
      for (let i = 0; i < N; i++) expect(close(L.rewards[i], L.components[0].values[i] + 0.5 * L.components[1].values[i])).toBe(true);
      // GAE along each cart, stopping at episode ends and bootstrapping from the value after the last step.
      const adv = new Float64Array(N);
      for (let e = 0; e < L.E; e++) {
        let running = 0;
        for (let k = L.T - 1; k >= 0; k--) {
          const i = k * L.E + e;
          const next = k === L.T - 1 ? L.lastValues[e] : L.values[i + L.E];
          const live = 1 - L.dones[i];
          running = L.rewards[i] + s.gamma * next * live - L.values[i] + s.gamma * s.lambda * live * running;
          adv[i] = running;
        }
      }
      expectClose(L.advantages, adv, 'GAE', 5e-4);
      expectClose(L.returns, Float64Array.from(adv, (a, i) => a + L.values[i]), 'returns', 5e-4);
      // The last epoch's minibatches: each whitens its own advantages (Bessel-corrected), as cleanrl does.
      const last = L.steps.filter((x) => x.epoch === s.epochs - 1);
      expect(last.flatMap((x) => x.rows).sort((a, b) => a - b)).toEqual([...Array(N).keys()]);
      for (const step of last) {
        const a = step.rows.map((r) => L.advantages[r]);
        const m = a.reduce((x, y) => x + y, 0) / a.length;
        const sd = Math.sqrt(a.reduce((x, y) => x + (y - m) ** 2, 0) / (a.length - 1));
        expectClose(step.rows.map((r) => L.lastAdvantages[r]), a.map((x) => (x - m) / (sd + 1e-8)), 'whitened advantages', 1e-3);
        expect(close(step.clippedNorm, Math.min(step.gradNorm, s.maxGradNorm), 1e-4)).toBe(true);
      }
      const step = L.steps.at(-1)!;
      const eps = s.clipRange;
      const pg = step.rows.map((r) => {
        const ratio = Math.exp(L.lastLogprobs[r] - L.logprobs[r]);
        const A = L.lastAdvantages[r];
        return Math.max(-A * ratio, -A * Math.min(Math.max(ratio, 1 - eps), 1 + eps));
      });
      expect(close(step.diagnostics.pg_loss, pg.reduce((x, y) => x + y, 0) / pg.length, 1e-3)).toBe(true);
      // The actions' log-probabilities after the update, by the actor's forward pass.
      const O = L.observationNames.length;
      const after = tf.tidy(() => tf.logSoftmax(t.policy.forward(tf.tensor2d(L.observations, [N, O])).logits).arraySync() as number[][]);
      expectClose(L.after, after.map((row, i) => row[L.actions[i]]), 'log-probabilities after', 1e-4);
    }
    t.dispose();
  }, 60_000);

  it('capturing changes nothing, and leaves no tensor behind', async () => {
    const [a, b] = [make(5), make(5)];
    for (let i = 0; i < 3; i++) {
      const [x, y] = [await a.step({ lesson: i === 1 }), await b.step()];
      expect(x.metrics.policyLoss).toBe(y.metrics.policyLoss);
      expect(x.metrics.rewardMean).toBe(y.metrics.rewardMean);
    }
    await expectFlatTensorCount(() => a.step({ lesson: true }), 1, 3);
    a.dispose();
    b.dispose();
  }, 60_000);
});

describe('lesson texts', () => {
  it('every stage of every algorithm quotes lines that exist in the engine, short enough to read', async () => {
    const { allStageTexts } = await import('../../src/ui/lesson/lessonText.ts');
    const { excerpt, SOURCES } = await import('../../src/ui/lesson/lessonSource.ts');
    const texts = allStageTexts();
    expect(texts.length).toBe(3 + 3 * 3 + 6);
    for (const t of texts) {
      expect(t.source.length, t.title).toBeGreaterThan(0);
      for (const ref of t.source) {
        const { first, lines } = excerpt(SOURCES[ref.file].text, ref.from, ref.to);
        expect(lines[0], `${ref.file}: ${ref.from}`).toContain(ref.from);
        expect(first).toBeGreaterThan(0);
        expect(lines.length, `${ref.file}: ${ref.from}`).toBeLessThanOrEqual(45);
      }
    }
    // A block runs to its closing brace: perTokenRewards ends with its return.
    const block = excerpt(SOURCES['ppo.ts'].text, 'export function perTokenRewards').lines;
    expect(block.at(-2)).toContain('return { rewards, kl }');
    expect(() => excerpt(SOURCES['ppo.ts'].text, 'no such line')).toThrow(/no line with "no such line"/);
  });

  it('every formula typesets with KaTeX and holds no control character (a lost backslash)', async () => {
    const { allStageTexts } = await import('../../src/ui/lesson/lessonText.ts');
    const katex = (await import('katex')).default;
    for (const t of allStageTexts()) {
      expect(/[\u0000-\u001f]/.test(t.tex), `${t.title}: ${JSON.stringify(t.tex)}`).toBe(false);
      const html = katex.renderToString(t.tex, { displayMode: true, output: 'mathml', throwOnError: true });
      expect(html).toContain(`<annotation encoding="application/x-tex">`);
    }
  });

  it('the colour of a token: white at 0, blue below, orange above, grey where there is no number', async () => {
    const { colourFor } = await import('../../src/ui/lesson/tokenColour.ts');
    expect(colourFor(0, 1)).toBe('rgb(255, 255, 255)');
    expect(colourFor(-1, 1)).toBe('rgb(147, 197, 253)');
    expect(colourFor(2, 1)).toBe('rgb(253, 186, 116)');
    expect(colourFor(NaN, 1)).toBe('rgb(243, 244, 246)');
  });
});
