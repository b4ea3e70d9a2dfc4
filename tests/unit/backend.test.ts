import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/core/backend.ts';

describe('useBackend', () => {
  afterAll(() => useBackend('wasm'));

  it('reports a backend that fails to start instead of silently keeping another', async () => {
    // Node has no WebGL: tf.setBackend('webgl') returns false and tfjs stays where it was.
    await expect(useBackend('webgl')).rejects.toThrow(/backend webgl failed to initialise/);
  });

  it('switches to a backend that works', async () => {
    await useBackend('cpu');
    expect(tf.getBackend()).toBe('cpu');
    await useBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });
});
