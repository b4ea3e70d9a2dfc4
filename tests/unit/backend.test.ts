import * as tf from '../../src/core/tf.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/core/backend.ts';
import { TRANSPOSE_FREE_MATMUL_GRADIENT } from '../../src/core/matmul.ts';
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
