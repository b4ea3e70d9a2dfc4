import { describe, expect, it } from 'vitest';
import { compileRewardExpression, compileRewardSource, FunctionReward, RewardError, type Sample } from '../../src/core/reward/reward.ts';
import { rewardHelpers } from '../../src/core/reward/helpers.ts';

const samples: Sample[] = ['anna', 'bob', 'xavier'].map((text, index) => ({ text, tokens: [], prompt: '', index }));
const ctx = { iteration: 3, task: 'names', helpers: rewardHelpers };
const score = (fn: (s: Sample) => unknown) => new FunctionReward([{ name: 'r', weight: 1, fn }]).score(samples, ctx);

describe('reward validation', () => {
  it('combines weighted components and reports each', async () => {
    const r = await new FunctionReward([
      { name: 'len', weight: 1, fn: (s) => s.text.length },
      { name: 'isBob', weight: 10, fn: (s) => (s.text === 'bob' ? 1 : 0) },
    ]).score(samples, ctx);
    expect(r.total).toEqual([4, 13, 6]);
    expect(r.components.map((c) => c.name)).toEqual(['len', 'isBob']);
  });

  it('a NaN names the sample and the value', async () => {
    await expect(score((s) => (s.index === 1 ? NaN : 1))).rejects.toThrow('reward "r" returned NaN for sample 1 ("bob"); it must return a finite number');
  });

  it('a string names the sample and the value', async () => {
    await expect(score((s) => (s.index === 2 ? 'long' : 1))).rejects.toThrow('reward "r" returned the string "long" for sample 2 ("xavier")');
  });

  it('a throw names the sample and the error', async () => {
    const err = await score((s) => {
      if (s.text === 'anna') throw new TypeError('no annas');
      return 0;
    }).catch((e) => e);
    expect(err).toBeInstanceOf(RewardError);
    expect(err.message).toBe('reward "r" threw on sample 0 ("anna"): TypeError: no annas');
    expect(err.details).toMatchObject({ sampleIndex: 0, component: 'r' });
  });

  it('undefined and Infinity are rejected too', async () => {
    await expect(score(() => undefined)).rejects.toThrow(/returned undefined for sample 0/);
    await expect(score(() => Infinity)).rejects.toThrow(/returned Infinity for sample 0/);
  });
});

describe('compiling reward code', () => {
  it('takes code declaring function reward', () => {
    const fn = compileRewardSource('function reward(sample, ctx) { return sample.text.length + ctx.iteration; }');
    expect(fn(samples[0], ctx)).toBe(7);
  });

  it('says so when no reward function is declared, or the code does not parse', () => {
    expect(() => compileRewardSource('function score(s) { return 1; }')).toThrow(/must declare a function named reward/);
    expect(() => compileRewardSource('function reward(s) { return 1; ')).toThrow(/does not compile: SyntaxError/);
  });

  it('takes expressions and arrow functions on the command line', () => {
    expect(compileRewardExpression('text.length')(samples[2], ctx)).toBe(6);
    expect(compileRewardExpression('s => s.text.length * 2')(samples[1], ctx)).toBe(6);
    expect(compileRewardExpression('ctx.helpers.vowels(sample.text)')(samples[0], ctx)).toBe(2);
  });
});
