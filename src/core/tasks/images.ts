import { converter, differenceCiede2000, parse } from 'culori';
import type { Rng } from '../rng.ts';
import type { FieldValue, Task } from './task.ts';

/**
 * Images with a target average colour: RLCF beyond language. The policy paints
 * an 8x8 image pixel by pixel, left to right and top to bottom, one of sixteen
 * palette colours per token. Its reference learnt from generated patterns
 * (stripes, checkerboards, gradients, blobs); the reward sees the pixels and
 * pays for an image whose average colour is close to a target, measured as a
 * person sees colour (CIEDE2000, from the `culori` package).
 */
export const WIDTH = 8;
export const HEIGHT = 8;

/** The palette, one symbol per colour: the symbol's position in SYMBOLS is its index here. */
export const PALETTE = [
  '#000000', '#ffffff', '#808080', '#c62828', '#ef6c00', '#fdd835', '#2e7d32', '#8bc34a',
  '#00897b', '#4fc3f7', '#1565c0', '#283593', '#8e24aa', '#ec407a', '#6d4c41', '#f5deb3',
] as const;
export const SYMBOLS = '0123456789abcdef';
/** A pixel the policy never painted (it stopped early) reads as this: black. */
const UNPAINTED: readonly [number, number, number] = [0, 0, 0];

const RGB = PALETTE.map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number]);

/** The image a completion paints: WIDTH x HEIGHT RGB triples (0-255), row by row; pixels past the completion's end are black. */
export function paint(text: string): number[][] {
  return Array.from({ length: WIDTH * HEIGHT }, (_, i) => {
    const k = i < text.length ? SYMBOLS.indexOf(text[i]) : -1;
    return [...(k >= 0 ? RGB[k] : UNPAINTED)];
  });
}

// --- Colour arithmetic (the helpers reward code calls) -----------------------------

type Colour = string | readonly number[];
const toOklab = converter('oklab');
const ciede2000 = differenceCiede2000();

/** A colour as culori reads it: '#rrggbb' (or any CSS colour), or [r, g, b] with 0-255 channels. */
function colour(c: unknown, what = 'colour') {
  if (typeof c === 'string') {
    const parsed = parse(c);
    if (!parsed) throw new TypeError(`${what} ${JSON.stringify(c)} is not a colour: write '#rrggbb' or [r, g, b]`);
    return parsed;
  }
  if (Array.isArray(c) && c.length === 3 && c.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    return { mode: 'rgb' as const, r: c[0] / 255, g: c[1] / 255, b: c[2] / 255 };
  }
  throw new TypeError(`${what} must be '#rrggbb' or [r, g, b] with channels 0-255, got ${JSON.stringify(c)?.slice(0, 60)}`);
}

/** CIEDE2000 difference between two colours: 0 for the same colour, about 1 for a just-noticeable step, 100 from black to white. */
export function colorDistance(a: Colour, b: Colour): number {
  return ciede2000(colour(a, 'the first colour'), colour(b, 'the second colour'));
}

/** A colour in OKLab, [L, a, b]: L is perceived lightness from 0 (black) to 1 (white). */
export function oklab(c: Colour): [number, number, number] {
  const { l, a, b } = toOklab(colour(c));
  return [l, a, b];
}

const toLinear = (v: number) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
const toSrgb = (v: number) => (v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055);

/** The average colour of some pixels, as light mixes (in linear RGB), as [r, g, b] with 0-255 channels. */
export function averageColor(pixels: unknown): [number, number, number] {
  if (!Array.isArray(pixels) || pixels.length === 0) throw new TypeError('pixels must be a non-empty array of [r, g, b] triples (sample.pixels)');
  const sum = [0, 0, 0];
  for (const p of pixels) {
    if (!Array.isArray(p) || p.length !== 3) throw new TypeError(`each pixel must be [r, g, b], got ${JSON.stringify(p)?.slice(0, 40)}`);
    for (let c = 0; c < 3; c++) sum[c] += toLinear(Number(p[c]) / 255);
  }
  return sum.map((s) => Math.round(toSrgb(s / pixels.length) * 2550) / 10) as [number, number, number];
}

/** '#rrggbb' for [r, g, b]. */
export function hex([r, g, b]: readonly number[]): string {
  return '#' + [r, g, b].map((v) => Math.round(Math.min(255, Math.max(0, v))).toString(16).padStart(2, '0')).join('');
}

// --- The reference's training data: seeded patterns ---------------------------------

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];
/** Colour runs that read as gradients, dark to light. */
const RAMPS = ['0ba91', '0e45f', '3451', '06871', '0cd1', '021', '3dcb', '8971'];

/** One 8x8 pattern, as 64 palette symbols: stripes, a checkerboard, a gradient, or blobs on a ground. */
export function pattern(rng: Rng): string {
  const colours = () => {
    const a = rng.int(16);
    let b = rng.int(15);
    if (b >= a) b++;
    return [a, b];
  };
  const px: number[] = new Array(WIDTH * HEIGHT);
  const set = (f: (x: number, y: number) => number) => {
    for (let y = 0; y < HEIGHT; y++) for (let x = 0; x < WIDTH; x++) px[y * WIDTH + x] = f(x, y);
  };
  const kind = rng.int(6);
  if (kind === 0 || kind === 1) {
    // Stripes, across or down, two or three colours, 1-3 pixels wide.
    const cs = rng.int(3) === 0 ? [...colours(), rng.int(16)] : colours();
    const w = 1 + rng.int(3);
    set((x, y) => cs[Math.floor((kind === 0 ? y : x) / w) % cs.length]);
  } else if (kind === 2) {
    // Diagonal stripes.
    const cs = colours();
    const w = 1 + rng.int(2);
    const dir = rng.int(2) ? 1 : -1;
    set((x, y) => cs[Math.floor((x + dir * y + 16) / w) % 2]);
  } else if (kind === 3) {
    // A checkerboard of 1, 2 or 4 pixel squares.
    const [a, b] = colours();
    const s = pick(rng, [1, 2, 4]);
    set((x, y) => ((Math.floor(x / s) + Math.floor(y / s)) % 2 ? b : a));
  } else if (kind === 4) {
    // A gradient along a ramp of related colours, across, down or diagonal.
    const ramp = [...pick(rng, RAMPS)].map((c) => SYMBOLS.indexOf(c));
    if (rng.int(2)) ramp.reverse();
    const axis = rng.int(3);
    set((x, y) => {
      const t = axis === 0 ? x / WIDTH : axis === 1 ? y / HEIGHT : (x + y) / (WIDTH + HEIGHT - 1);
      return ramp[Math.min(ramp.length - 1, Math.floor(t * ramp.length))];
    });
  } else {
    // One to three round blobs on a ground.
    const ground = rng.int(16);
    set(() => ground);
    for (let k = 1 + rng.int(3); k > 0; k--) {
      let c = rng.int(15);
      if (c >= ground) c++;
      const cx = rng.int(WIDTH), cy = rng.int(HEIGHT), r = 1.5 + rng.next() * 2;
      set((x, y) => ((x - cx) ** 2 + (y - cy) ** 2 <= r * r ? c : px[y * WIDTH + x]));
    }
  }
  return px.map((k) => SYMBOLS[k]).join('');
}

// --- The task -----------------------------------------------------------------------

/** The line a target colour is set on, which the colour picker beside the editor rewrites. */
export const TARGET_LINE = /^const TARGET = '(#[0-9a-fA-F]{6})';/m;

const source = (...lines: string[]) => lines.join('\n') + '\n';

/** The fields: the image's average colour, and how far apart its lightest and darkest pixels are. */
export function imageFields(text: string): Record<string, FieldValue> {
  const pixels = paint(text);
  const lightness = pixels.map((p) => oklab(p)[0]);
  return {
    average: hex(averageColor(pixels)),
    painted: Math.min(text.length, WIDTH * HEIGHT),
    contrast: Math.round((Math.max(...lightness) - Math.min(...lightness)) * 1000) / 1000,
  };
}

export const images: Task = {
  id: 'images',
  title: 'Images (target colour)',
  description: 'A policy paints 8x8 images from a 16-colour palette; the reward is how close the average colour comes to a target you pick.',
  alphabet: SYMBOLS,
  prompts: [''],
  models: { transformer: 'images-transformer' },
  // A painter must know where it is: the transformer reads positions and stops after
  // exactly 64 pixels; an MLP over a window of pixels cannot count to 64.
  archs: ['transformer'],
  image: { width: WIDTH, height: HEIGHT, palette: PALETTE, paint },
  examples: {
    target: {
      title: 'A target average colour',
      source: source(
        '// The colour the images should average to: pick it beside the editor, or type a hex code.',
        "const TARGET = '#2a9d8f';",
        '',
        '// sample.pixels holds the 64 pixels as [r, g, b] triples (0-255), row by row.',
        '// helpers.averageColor mixes them as light mixes; helpers.colorDistance is CIEDE2000,',
        '// the difference a person sees (about 1 is just noticeable, black to white is 100).',
        'function reward(sample, ctx) {',
        '  return -helpers.colorDistance(helpers.averageColor(sample.pixels), TARGET) / 100;',
        '}',
      ),
    },
    contrast: {
      title: 'More contrast',
      source: source(
        '// Lightness (OKLab L, 0 for black to 1 for white) of every pixel: the wider the',
        '// spread between the darkest and the lightest, the higher the reward.',
        'function reward(sample, ctx) {',
        '  const L = sample.pixels.map((p) => helpers.oklab(p)[0]);',
        '  return Math.max(...L) - Math.min(...L);',
        '}',
      ),
    },
    symmetric: {
      title: 'Symmetric left-right',
      source: source(
        '// The share of pixels that equal their mirror image across the vertical middle.',
        'function reward(sample, ctx) {',
        '  const { pixels, width, height } = sample;',
        '  let same = 0;',
        '  for (let y = 0; y < height; y++) {',
        '    for (let x = 0; x < width; x++) {',
        '      const a = pixels[y * width + x], b = pixels[y * width + width - 1 - x];',
        '      if (a[0] === b[0] && a[1] === b[1] && a[2] === b[2]) same++;',
        '    }',
        '  }',
        '  return same / pixels.length;',
        '}',
      ),
    },
  },
  // 64 pixels and the stop token. RLOO's KL weight is 1, not 0.3: at 0.3 its entropy fell from
  // 0.3 to 0.01 nats per token and its batches to 9-16% distinct images on 5 of 5 seeds (one
  // image, painted over and over); at 1 its entropy stays near 0.1, KL near 3 nats, and the
  // reward still rises by a quarter. An entropy bonus of 0.01: without it PPO's entropy fell to
  // 0.05-0.1 nats per token and one seed of five painted 19% distinct images at iteration 29
  // (the collapse alarm); with it PPO held on seeds 1-10 (+63% to +73%, as without), GRPO and
  // RLOO on seeds 1-5 (+43% to +54%, +18% to +22%).
  hyperparameters: { maxLength: WIDTH * HEIGHT + 1, learningRate: 3e-4, rlooBeta: 1, entropyCoef: 0.01 },
  benchText: '99999999988888889aaaaaaa8888888899999999888888889999999988888888',
  explanation: {
    writes: 'An 8x8 image, one pixel per token, left to right and top to bottom, in sixteen colours: stripes, checkerboards, gradients and blobs, as its generated training patterns were.',
    reward: 'Your code sees the pixels (sample.pixels, [r, g, b] each) and scores the image. The default mixes them into one average colour and measures, in CIEDE2000, how far a person would see it from the target.',
    why: 'Nothing about the reward is language: a colour computation steers a generative model, exactly as a classifier steers text. The essay behind this project rewards images with a given average colour.',
    try: 'Train towards the default teal and watch the images turn; then pick a colour the palette cannot mix easily (a muted purple) and see what the policy settles for. Try "More contrast" or "Symmetric left-right".',
  },
  fields: {
    docs: {
      average: "the image's average colour, '#rrggbb' (as helpers.averageColor mixes it)",
      painted: 'how many of the 64 pixels the policy painted before it stopped (the rest are black)',
      contrast: 'OKLab lightness of the lightest pixel minus that of the darkest (0 to 1)',
    },
    compute: (text) => imageFields(text),
  },
  helpers: {
    averageColor: {
      signature: 'averageColor(pixels)',
      doc: 'the average of [r, g, b] pixels, mixed as light mixes (linear RGB), as [r, g, b]',
      fn: (pixels) => averageColor(pixels),
    },
    colorDistance: {
      signature: 'colorDistance(a, b)',
      doc: "CIEDE2000 difference between two colours ('#rrggbb' or [r, g, b]): 0 the same, about 1 just noticeable, 100 black to white",
      fn: (a, b) => colorDistance(a as Colour, b as Colour),
    },
    oklab: {
      signature: 'oklab(colour)',
      doc: 'a colour in OKLab, [L, a, b]; L is lightness from 0 (black) to 1 (white)',
      fn: (c) => oklab(c as Colour),
    },
  },
  pretraining: {
    data: { kind: 'generated', count: 12_000, generate: pattern },
    recipes: { transformer: { steps: 2500, batchSize: 32, learningRate: 2e-3 } },
  },
};
