import { describe, expect, it } from 'vitest';
import { batchProfile, collapseSigns, type BatchProfile } from '../../src/core/training/collapse.ts';

const profile = (p: Partial<BatchProfile>): BatchProfile => ({ sampleLength: 8, entropy: 1, distinctShare: 0.9, topRefLogprob: -1, ...p });
const kinds = (now: Partial<BatchProfile>, first: Partial<BatchProfile> = {}) => collapseSigns(profile(now), profile(first)).map((s) => s.kind);

describe('the collapse alarm', () => {
  it('is quiet on a batch like the first', () => {
    expect(kinds({})).toEqual([]);
  });

  it('sees short completions, no entropy, repeats and unlikely best samples, against the start', () => {
    expect(kinds({ sampleLength: 1.5 })).toEqual(['short']);
    expect(kinds({ entropy: 0.05 })).toEqual(['entropy']);
    expect(kinds({ distinctShare: 0.1 })).toEqual(['repeated']);
    expect(kinds({ topRefLogprob: -4.5 })).toEqual(['unlikely']);
  });

  it('reads repeats against the start, and against the prompts: one right answer to each problem is not a collapse', () => {
    expect(kinds({ distinctShare: 0.16 }, { distinctShare: 0.25 })).toEqual([]);
    expect(kinds({ distinctShare: 0.05 }, { distinctShare: 0.25 })).toEqual(['repeated']);
    const [sign] = collapseSigns(profile({ distinctShare: 0.05 }), profile({ distinctShare: 0.25 }));
    expect(sign.message).toBe('only 5% of the samples are distinct (25% at the start)');
    // GRPO/RLOO on unit tests: 8 completions of each of 8 problems, converged on one answer each: 8 of 64 distinct.
    const group = { distinctPrompts: 8, size: 64 };
    expect(kinds({ distinctShare: 8 / 64, ...group }, { distinctShare: 0.4, ...group })).toEqual([]);
    // The same answer whatever the problem: the completions stopped following the prompts.
    expect(kinds({ distinctShare: 2 / 64, ...group }, { distinctShare: 0.4, ...group })).toEqual(['repeated']);
  });

  it('profiles a batch: distinct share, and the reference log-probability of the best eighth', () => {
    const p = batchProfile(5, 0.5, ['a', 'a', 'b', 'c', 'd', 'e', 'f', 'g'], [0, 1, 2, 3, 4, 5, 6, 7], [-1, -1, -1, -1, -1, -1, -1, -3], ['p', 'p', 'p', 'p', 'q', 'q', 'q', 'q']);
    expect(p.distinctShare).toBe(7 / 8);
    expect(p.distinctPrompts).toBe(2);
    expect(p.size).toBe(8);
    expect(p.topRefLogprob).toBe(-3);
  });
});
