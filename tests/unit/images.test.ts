import { converter } from 'culori';
import { describe, expect, it } from 'vitest';
import { loadPolicyFromDisk } from '../../scripts/nodeModels.ts';
import { nodeQuickJs } from '../../scripts/nodeSandbox.ts';
import { startingHyperparameters } from '../../src/core/algorithms/catalog.ts';
import { sandboxLimits } from '../../src/core/hyperparameters.ts';
import { Rng } from '../../src/core/rng.ts';
import { SandboxReward } from '../../src/core/reward/sandbox/sandboxReward.ts';
import { defaultRewards, modelId, taskSample, taskTokenizer } from '../../src/core/tasks/index.ts';
import { averageColor, colorDistance, hex, imageFields, images, oklab, paint, PALETTE, pattern, SYMBOLS, TARGET_LINE } from '../../src/core/tasks/images.ts';
import { Trainer } from '../../src/core/training/trainer.ts';

/** A CIELAB (D65) colour as [r, g, b] with 0-255 channels, unrounded. */
function rgb(l: number, a: number, b: number): number[] {
  const c = converter('rgb')({ mode: 'lab65', l, a, b });
  return [c.r * 255, c.g * 255, c.b * 255];
}

describe('colour helpers (culori)', () => {
  it('CIEDE2000 on known pairs', () => {
    expect(colorDistance('#336699', '#336699')).toBe(0);
    expect(colorDistance('#000000', '#ffffff')).toBeCloseTo(100, 6);
    expect(colorDistance([0, 0, 0], '#ffffff')).toBeCloseTo(100, 6); // [r, g, b] and hex read alike
    // Sharma, Wu and Dalal (2005), the CIEDE2000 test data (CIELAB, D65), given here as [r, g, b]: pair 1 is 2.0425.
    expect(colorDistance(rgb(50, 2.6772, -79.7751), rgb(50, 0, -82.7485))).toBeCloseTo(2.0425, 3);
    // Pair 7: 2.3669; pair 17: 27.1492 (a large difference).
    expect(colorDistance(rgb(50, 0, 0), rgb(50, -1, 2))).toBeCloseTo(2.3669, 3);
    expect(colorDistance(rgb(50, 2.5, 0), rgb(73, 25, -18))).toBeCloseTo(27.1492, 3);
  });

  it('OKLab lightness runs from 0 (black) to 1 (white)', () => {
    expect(oklab('#000000')[0]).toBeCloseTo(0, 6);
    expect(oklab([255, 255, 255])[0]).toBeCloseTo(1, 6);
  });

  it('averages as light mixes: black and white make 188, not 128', () => {
    expect(averageColor([[255, 255, 255], [0, 0, 0]])).toEqual([187.5, 187.5, 187.5]);
    expect(averageColor([[21, 101, 192]])).toEqual([21, 101, 192]);
  });

  it('says what is wrong with a bad colour', () => {
    expect(() => colorDistance('teal-ish', '#000000')).toThrow(`the first colour "teal-ish" is not a colour`);
    expect(() => colorDistance([1, 2], '#000000')).toThrow('must be');
    expect(() => averageColor([])).toThrow('pixels must be a non-empty array');
  });
});

describe('painting', () => {
  it('a painted image decodes to the palette pixels expected, row by row; unpainted pixels are black', () => {
    const pixels = paint('0f' + 'a'.repeat(6) + '3');
    expect(pixels).toHaveLength(64);
    expect(pixels[0]).toEqual([0, 0, 0]);
    expect(pixels[1]).toEqual([0xf5, 0xde, 0xb3]);
    for (let i = 2; i < 8; i++) expect(pixels[i]).toEqual([0x15, 0x65, 0xc0]);
    expect(pixels[8]).toEqual([0xc6, 0x28, 0x28]); // the ninth symbol starts row two
    for (let i = 9; i < 64; i++) expect(pixels[i]).toEqual([0, 0, 0]);
    expect(PALETTE).toHaveLength(SYMBOLS.length);
  });

  it("the sample a reward sees carries the pixels and the image's size", () => {
    const text = pattern(new Rng(4));
    const s = taskSample(images, text, taskTokenizer(images).encode(text), '', 0);
    expect(s).toMatchObject({ width: 8, height: 8 });
    expect(s.pixels).toEqual(paint(text));
    expect(s.fields).toMatchObject({ average: hex(averageColor(paint(text))), painted: 64 });
  });

  it('the generator makes 64-pixel patterns from the seed alone', () => {
    const a = Array.from({ length: 50 }, (_, i) => pattern(new Rng(i)));
    expect(a.every((p) => p.length === 64 && [...p].every((c) => SYMBOLS.includes(c)))).toBe(true);
    expect(Array.from({ length: 50 }, (_, i) => pattern(new Rng(i)))).toEqual(a);
    expect(new Set(a).size).toBeGreaterThan(40);
  });

  it('contrast is the lightness between the darkest and the lightest pixel', () => {
    expect(imageFields('1'.repeat(64)).contrast).toBe(0);
    expect(imageFields('01'.repeat(32)).contrast).toBe(1);
  });

  it("the default reward's target sits on the line the colour picker rewrites", () => {
    expect(TARGET_LINE.exec(defaultRewards(images)[0].source)?.[1]).toBe('#2a9d8f');
  });
});

describe('the painter learns a target colour', () => {
  it('with the default reward, the mean CIEDE2000 distance to the target falls by at least 40% within 30 iterations (transformer, seed 1)', async () => {
    const h = startingHyperparameters('ppo', images.hyperparameters);
    const reward = await SandboxReward.create(nodeQuickJs, defaultRewards(images), sandboxLimits(h));
    const trainer = new Trainer({ task: images, reference: loadPolicyFromDisk(modelId(images, 'transformer')), hyperparameters: h, seed: 1, reward });
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // The mean over five iterations, from iterations 1-5 to the latest five; it stops once 40% less (3 s an iteration).
    const distances: number[] = [];
    let after = Infinity;
    while (distances.length < 30 && !(after <= 0.6 * avg(distances.slice(0, 5)))) {
      distances.push(-100 * (await trainer.step()).metrics.rewardMean);
      if (distances.length >= 10) after = avg(distances.slice(-5));
    }
    trainer.dispose();
    reward.dispose();
    const before = avg(distances.slice(0, 5));
    console.log(`images: mean distance to the target ${before.toFixed(1)} at iterations 1-5, ${after.toFixed(1)} at ${distances.length - 4}-${distances.length} (${((1 - after / before) * 100).toFixed(0)}% less)`);
    expect(after).toBeLessThanOrEqual(0.6 * before);
  });
});
