import { describe, expect, it } from 'vitest';
import { lintReward } from '../../src/ui/editor/rewardLint.ts';
import { smooth } from '../../src/ui/metrics/smoothing.ts';

describe('lintReward', () => {
  it('accepts code declaring reward', () => {
    expect(lintReward('function reward(sample, ctx) {\n  return sample.text.length;\n}\n')).toEqual([]);
    expect(lintReward('const reward = (s) => 1;')).toEqual([]);
  });

  it('marks a syntax error at its line', () => {
    const [p] = lintReward('function reward(sample) {\n  return sample.text.length +;\n}\n');
    expect(p.line).toBe(2);
    expect(p.message).toMatch(/^Syntax error: Unexpected token/);
  });

  it('says when no reward function is declared', () => {
    expect(lintReward('function score(s) { return 1; }')[0].message).toMatch(/declares no reward function/);
  });
});

describe('smooth', () => {
  it('returns the input at weight 0 and a bias-corrected average otherwise', () => {
    expect(smooth([1, 2, 3], 0)).toEqual([1, 2, 3]);
    const s = smooth([2, 4], 0.5);
    expect(s[0]).toBeCloseTo(2, 10); // bias correction: the first value is itself
    expect(s[1]).toBeCloseTo((0.5 * 0.5 * 2 + 0.5 * 4) / (1 - 0.25), 10);
  });
});
