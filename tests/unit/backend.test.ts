import * as tf from '../../src/core/tf.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendChoice, LARGEST_SHIPPED_PARAMETERS } from '../../src/worker/backendChoice.ts';
import type { Experiment } from '../../src/core/experiment/experiment.ts';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BackendName } from '../../src/core/backend/names.ts';
import { useBackend } from '../../src/core/backend/backend.ts';
import { TRANSPOSE_FREE_MATMUL_GRADIENT } from '../../src/core/ops/matmul.ts';
import { pickBackend } from '../../src/core/backend/pick.ts';
import { createPolicy } from '../../src/core/policy/create.ts';
import type { PolicyConfig } from '../../src/core/policy/policy.ts';
import { timeDenseStep, timeTrainingStep } from '../../src/core/training/stepTimer.ts';
// Backends are loaded apart from tfjs-core; these two are registered here as the worker would load them.
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-cpu';

describe('useBackend', () => {
  afterAll(() => useBackend('wasm'));

  it('reports a backend that fails to start instead of silently keeping another', async () => {
    // Node has no WebGL: tf.setBackend('webgl') returns false and tfjs stays where it was.
    expect(tf.findBackendFactory('webgl')).toBeDefined();
    await expect(useBackend('webgl')).rejects.toThrow(/backend webgl failed to initialise/);
  });

  it('names a backend whose code was never loaded', async () => {
    expect(tf.findBackendFactory('webgpu')).toBeNull();
    await expect(useBackend('webgpu')).rejects.toThrow(/backend webgpu failed to initialise/);
  });

  it("once a backend is set, BatchMatMul's gradient is the transpose-free one, whatever loaded first", () => {
    expect(tf.getGradient(tf.BatchMatMul)).toBe(TRANSPOSE_FREE_MATMUL_GRADIENT);
  });

  it('switches to a backend that works', async () => {
    await useBackend('cpu');
    expect(tf.getBackend()).toBe('cpu');
    await useBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });
});

describe('choosing a backend', () => {
  const wasm = { name: 'wasm' as const, usable: true, detail: '' };
  it('takes the one usable backend without measuring, and says why the others are out', async () => {
    const measured: string[] = [];
    const pick = await pickBackend([{ name: 'webgpu', usable: false, detail: 'only a software fallback adapter' }, wasm, { name: 'webgl', usable: false, detail: 'software renderer' }], async (n) => {
      measured.push(n);
      return 1;
    });
    expect(pick).toEqual({ name: 'wasm', reason: 'the only one usable here; webgpu: only a software fallback adapter; webgl: software renderer' });
    expect(measured).toEqual([]);
  });

  it('measures every usable one and picks the fastest, naming the times; one that fails is left out with its error', async () => {
    const times: Record<string, number> = { webgpu: 12, wasm: 4, webgl: 9 };
    const pick = await pickBackend([{ name: 'webgpu', usable: true, detail: 'a GPU' }, wasm, { name: 'webgl', usable: true, detail: 'a GPU' }], async (n) => times[n]);
    expect(pick.name).toBe('wasm');
    expect(pick.reason).toBe('fastest measured training step of this policy (wasm 4.0 ms, webgl 9.0 ms, webgpu 12.0 ms)');
    const failing = await pickBackend([{ name: 'webgpu', usable: true, detail: 'a GPU' }, wasm], async (n) => {
      if (n === 'webgpu') throw new Error('device lost');
      return 5;
    });
    expect(failing).toEqual({ name: 'wasm', reason: 'fastest measured training step of this policy (wasm 5.0 ms); webgpu: device lost' });
    const gpuWins = await pickBackend([{ name: 'webgpu', usable: true, detail: 'a GPU' }, wasm], async (n) => (n === 'webgpu' ? 2 : 30));
    expect(gpuWins.name).toBe('webgpu');
  });

  it('falls to cpu when nothing measured works', async () => {
    const pick = await pickBackend([{ name: 'webgpu', usable: true, detail: '' }, wasm], async () => Number.NaN);
    expect(pick.name).toBe('cpu');
    expect(pick.reason).toMatch(/^no faster backend worked; webgpu: its training step took NaN ms; wasm: its training step took NaN ms$/);
  });

  for (const config of [
    { arch: 'mlp', vocabSize: 28, contextLength: 8, embedDim: 16, hiddenDim: 256 },
    { arch: 'transformer', vocabSize: 17, contextLength: 12, width: 32, layers: 2, heads: 4 },
  ] as PolicyConfig[]) {
    it(`times a training step of the ${config.arch} about to be trained, leaving no tensor behind`, async () => {
      const policy = createPolicy(config);
      const before = tf.memory().numTensors;
      const ms = await timeTrainingStep(policy, 8, 64, 1); // a completion longer than the context is cut to fit
      expect(ms).toBeGreaterThan(0);
      expect(Number.isFinite(ms)).toBe(true);
      expect(tf.memory().numTensors).toBe(before);
      policy.dispose();
    });
  }

  it('times the dense stand-in (a task with no checkpoint), leaving no tensor behind', async () => {
    const before = tf.memory().numTensors;
    const ms = await timeDenseStep(1);
    expect(ms).toBeGreaterThan(0);
    expect(Number.isFinite(ms)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the backend choice as the policy changes', () => {
  const experiment = (task: string) => ({ task }) as unknown as Experiment;
  /** A choice whose policies, measurements and picks are stand-ins: each pick is recorded with what was left out. */
  const choiceOver = (sizes: Record<string, number>) => {
    const picks: { measured: boolean; failed: BackendName[] }[] = [];
    const choice = new BackendChoice(
      async (e) => ({ key: e.task, parameters: sizes[e.task] }),
      async (requested, step, failed = new Set()) => {
        picks.push({ measured: step !== undefined, failed: [...failed] });
        return { name: requested ?? (picks.length > 1 ? 'webgpu' : 'wasm'), reason: 'stand-in' };
      },
      () => async () => 1,
    );
    return { choice, picks };
  };

  it('the largest shipped policy is what public/models holds', () => {
    const dir = path.join('public', 'models');
    const sizes = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => (JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { parameters: number }).parameters);
    expect(Math.max(...sizes)).toBe(LARGEST_SHIPPED_PARAMETERS);
  });

  it('measures the page’s policy at start, and again only for a changed policy larger than any shipped', async () => {
    const { choice, picks } = choiceOver({ names: 105_793, images: 110_657, big: 800_000, bigger: 3_000_000 });
    expect((await choice.start(null, experiment('names'))).name).toBe('wasm');
    expect(picks).toEqual([{ measured: true, failed: [] }]);
    expect(await choice.policyChanged(experiment('images'))).toBeNull(); // shipped sizes: the first measurement holds
    const moved = await choice.policyChanged(experiment('big'));
    expect(moved?.name).toBe('webgpu');
    expect(moved?.reason).toMatch(/measured again for this policy of 800,000 parameters, larger than any shipped: stand-in/);
    expect(choice.current).toBe('webgpu');
    expect(await choice.policyChanged(experiment('big'))).toBeNull(); // the same policy: measured already
    expect(picks).toHaveLength(2);
    // A backend that failed mid-run is left out of the next measurement.
    choice.failedOver('webgpu');
    expect(choice.current).toBe('wasm');
    await choice.policyChanged(experiment('bigger'));
    expect(picks.at(-1)).toEqual({ measured: true, failed: ['webgpu'] });
  });

  it('keeps a backend asked for with ?backend=, whatever the policy', async () => {
    const { choice, picks } = choiceOver({ names: 105_793, big: 800_000 });
    expect((await choice.start('wasm', experiment('names'))).name).toBe('wasm');
    expect(await choice.policyChanged(experiment('big'))).toBeNull();
    expect(picks).toHaveLength(1);
  });
});
