import { describe, expect, it } from 'vitest';
import { batchProfile, collapseSigns, type BatchProfile } from '../../src/core/collapse.ts';

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

  it('reads repeats against the start: groups of completions of one prompt from a reference that writes one answer are not a collapse', () => {
    // GRPO/RLOO on unit tests: 8 prompts x 8 completions, 15-30% distinct at the start.
    expect(kinds({ distinctShare: 0.16 }, { distinctShare: 0.25 })).toEqual([]);
    expect(kinds({ distinctShare: 0.05 }, { distinctShare: 0.25 })).toEqual(['repeated']);
    const [sign] = collapseSigns(profile({ distinctShare: 0.05 }), profile({ distinctShare: 0.25 }));
    expect(sign.message).toBe('only 5% of the samples are distinct (25% at the start)');
  });

  it('profiles a batch: distinct share, and the reference log-probability of the best eighth', () => {
    const p = batchProfile(5, 0.5, ['a', 'a', 'b', 'c', 'd', 'e', 'f', 'g'], [0, 1, 2, 3, 4, 5, 6, 7], [-1, -1, -1, -1, -1, -1, -1, -3]);
    expect(p.distinctShare).toBe(7 / 8);
    expect(p.topRefLogprob).toBe(-3);
  });
});
