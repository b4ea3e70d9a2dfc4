import { describe, expect, it } from 'vitest';
import { keepBatch, RECENT, SampleHistory, type KeptBatch } from '../../src/core/training/sampleHistory.ts';
import { search, toJsonl } from '../../src/core/training/sampleSearch.ts';
import type { ScoredSample } from '../../src/core/training/runState.ts';

function sample(i: number, text: string, reward: number, components: Record<string, number> = { main: reward }): ScoredSample {
  return { text, tokens: [...text].map((c) => c.charCodeAt(0)), prompt: '', index: i, reward, refLogprob: -1.5, components, advantage: reward - 1 };
}

/** A batch of 4 samples whose texts name the iteration. */
function batch(iteration: number): KeptBatch {
  return keepBatch(iteration, [0, 1, 2, 3].map((i) => sample(i, `it${iteration}-${i}`, iteration + i / 10)));
}

describe('SampleHistory', () => {
  it('keeps every batch as it was, without token ids, with its length and size', () => {
    const h = new SampleHistory();
    for (let it = 1; it <= 20; it++) h.add(batch(it));
    const b = h.at(3)!;
    expect(b.iteration).toBe(3);
    expect(b.samples.map((s) => s.text)).toEqual(['it3-0', 'it3-1', 'it3-2', 'it3-3']);
    expect(b.samples.map((s) => s.reward)).toEqual([3, 3.1, 3.2, 3.3]);
    expect(b.samples[0]).not.toHaveProperty('tokens');
    // A picture is kept as its text (the painter's view paints from it), not its pixels.
    const painted = keepBatch(1, [{ ...sample(0, 'ab', 1), pixels: [[1, 2, 3]], width: 1, height: 1 }]);
    expect(painted.samples[0]).not.toHaveProperty('pixels');
    expect(painted.samples[0].text).toBe('ab');
    expect(b.samples[0].length).toBe(5);
    expect(b.samples[0].advantage).toBe(2);
    expect(b.bytes).toBe(JSON.stringify(b.samples).length);
    expect(h.bytes).toBe([...h.batches()].reduce((a, x) => a + x.bytes, 0));
    expect(h.describe()).toMatch(/^20 iterations kept \(0\.0 of 20 MB\)$/);
  });

  it('thins old iterations evenly past its budget, keeps the recent ones whole, and says so', () => {
    const one = batch(1).bytes;
    const h = new SampleHistory(one * 60);
    for (let it = 1; it <= 200; it++) h.add(batch(it));
    expect(h.bytes).toBeLessThanOrEqual(h.budget);
    expect(h.stride).toBeGreaterThan(1);
    const kept = h.iterations;
    // The last RECENT iterations are all there; before them, every stride-th from iteration 1.
    expect(kept.slice(-RECENT)).toEqual(Array.from({ length: RECENT }, (_, i) => 181 + i));
    for (const it of kept.slice(0, -RECENT)) expect((it - 1) % h.stride).toBe(0);
    expect(kept[0]).toBe(1);
    // Evenly: the gaps between old iterations are all the stride.
    const old = kept.slice(0, -RECENT);
    for (let i = 1; i < old.length; i++) expect(old[i] - old[i - 1]).toBe(h.stride);
    expect(h.describe()).toMatch(new RegExp(`every ${h.stride}th iteration is kept before the last ${RECENT}`));
    // A thinned iteration shows the nearest kept one before it.
    expect(h.at(2)!.iteration).toBe(1);
  });

  it('drops what came after an earlier iteration run again (a restart), and restores a saved history', () => {
    const h = new SampleHistory();
    for (let it = 1; it <= 10; it++) h.add(batch(it));
    h.add(batch(7));
    expect(h.iterations).toEqual([1, 2, 3, 4, 5, 6, 7]);
    h.truncate(4);
    expect(h.latest).toBe(4);
    const copy = new SampleHistory();
    copy.restore(JSON.parse(JSON.stringify([...h.batches()].reverse())), 1);
    expect([...copy.batches()]).toEqual([...h.batches()]);
  });
});

describe('searching and exporting samples', () => {
  const batches = [1, 2, 3].map((it) => keepBatch(it, [sample(0, 'anna', it, { vowels: 2, len: 4 }), sample(1, 'bob', it / 10, { vowels: 1, len: 3 })]));

  it('filters by text and by the reward or a component, newest first, and counts all it found', () => {
    expect(search(batches, { text: 'ANN', field: null, min: null, max: null }).found.map((f) => f.iteration)).toEqual([3, 2, 1]);
    expect(search(batches, { text: '', field: null, min: 2, max: null }).total).toBe(2);
    expect(search(batches, { text: '', field: 'vowels', min: null, max: 1 }).found.map((f) => f.sample.text)).toEqual(['bob', 'bob', 'bob']);
    const limited = search(batches, { text: '', field: null, min: null, max: null }, 2);
    expect(limited.found).toHaveLength(2);
    expect(limited.total).toBe(6);
    expect(limited.iterations).toBe(3);
  });

  it('writes one JSON object a line with the iteration, the text, the reward and each component', () => {
    const lines = toJsonl(batches).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(6);
    expect(lines[0]).toEqual({ iteration: 1, index: 0, prompt: '', text: 'anna', reward: 1, components: { vowels: 2, len: 4 }, length: 4, refLogprob: -1.5, advantage: 0 });
    expect(toJsonl(batches, { text: 'zzz', field: null, min: null, max: null })).toBe('');
  });
});
