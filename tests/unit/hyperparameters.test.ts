import { describe, expect, it } from 'vitest';
import { defaultHyperparameters, HYPERPARAMETERS, HYPERPARAMETER_NAMES, validateHyperparameters } from '../../src/core/hyperparameters.ts';
import { ALGORITHMS, startingHyperparameters, switchAlgorithmSettings } from '../../src/core/algorithms/catalog.ts';

describe('Hyperparameters', () => {
  it('every field has a doc line and a default inside its range', () => {
    const d = defaultHyperparameters();
    for (const name of HYPERPARAMETER_NAMES) {
      const spec = HYPERPARAMETERS[name];
      expect(spec.doc.length).toBeGreaterThan(10);
      if (spec.kind === 'int' || spec.kind === 'float') {
        expect(d[name]).toBeGreaterThanOrEqual(spec.min);
        expect(d[name]).toBeLessThanOrEqual(spec.max);
      }
      if (spec.kind === 'enum') expect(spec.options).toContain(d[name]);
    }
    expect(validateHyperparameters({})).toEqual(d);
  });

  it('rejects bad values with a message naming the field', () => {
    expect(() => validateHyperparameters({ grpoScale: 'rows' })).toThrow(/grpoScale must be one of group, batch, none, got "rows"/);
    expect(() => validateHyperparameters({ learningRate: 5 })).toThrow(/learningRate must be between 1e-7 and 0.1, got 5/);
    expect(() => validateHyperparameters({ epochs: 2.5 })).toThrow(/epochs must be a whole number, got 2.5/);
    expect(() => validateHyperparameters({ clipRange: NaN })).toThrow(/clipRange must be a finite number, got NaN/);
    expect(() => validateHyperparameters({ adaptiveKl: 'yes' })).toThrow(/adaptiveKl must be true or false, got "yes"/);
    expect(() => validateHyperparameters({ batchSize: 64, minibatches: 3 })).toThrow(/minibatches \(3\) must divide batchSize \(64\)/);
    expect(() => validateHyperparameters({ lr: 0.1 })).toThrow(/unknown hyperparameter "lr"/);
    try {
      validateHyperparameters({ gamma: 2 });
    } catch (e) {
      expect((e as { field: string }).field).toBe('gamma');
    }
  });
});

describe('Starting settings per algorithm', () => {
  it('layers the table, the algorithm, the task and the overrides, in that order', () => {
    expect(startingHyperparameters('ppo', {}).learningRate).toBe(HYPERPARAMETERS.learningRate.default);
    expect(startingHyperparameters('rloo', {}).learningRate).toBe(ALGORITHMS.rloo.defaults.learningRate);
    expect(ALGORITHMS.rloo.defaults.learningRate).not.toBe(HYPERPARAMETERS.learningRate.default);
    expect(startingHyperparameters('rloo', { learningRate: 2e-3 }).learningRate).toBe(2e-3);
    expect(startingHyperparameters('rloo', { learningRate: 2e-3 }, { learningRate: 5e-5 }).learningRate).toBe(5e-5);
    expect(() => startingHyperparameters('ppo', {}, { learningRate: -1 })).toThrow(/learningRate must be between/);
  });

  it('a switch of algorithm moves only the settings still at the old starting value', () => {
    const ppo = startingHyperparameters('ppo', {});
    const moved = switchAlgorithmSettings({ ...ppo, batchSize: 32 }, {}, 'ppo', 'rloo');
    expect(moved.learningRate).toBe(ALGORITHMS.rloo.defaults.learningRate);
    expect(moved.batchSize).toBe(32);
    const chosen = switchAlgorithmSettings({ ...ppo, learningRate: 7e-4 }, {}, 'ppo', 'rloo');
    expect(chosen.learningRate).toBe(7e-4);
    expect(switchAlgorithmSettings(moved, {}, 'rloo', 'ppo')).toEqual({ ...ppo, batchSize: 32 });
  });
});
