import { Rng } from '../rng.ts';

// A reward learnt from preferences, as RLHF learns one (Christiano et al. 2017,
// Ouyang et al. 2022): pairs of completions, each labelled "first better",
// "second better" or a tie, and a model r(x) fitted so that
//
//   P(a preferred to b) = sigmoid(r(a) - r(b))          (Bradley-Terry)
//   loss = -[y log sigmoid(d) + (1 - y) log sigmoid(-d)], d = r(a) - r(b)
//
// with y = 1, 0 or 1/2. r is a linear head on a completion's features (the
// frozen reference policy's, pooled: training/preferenceFeatures.ts), the
// features standardised on the labelled completions. Pure and in float64:
// the same labels and seed give the same model on every backend.

/** A label: 1 the first is better, 0 the second, 0.5 a tie. */
export type PreferenceLabel = 1 | 0 | 0.5;

/** Two completions (indices into the feature table) and which is better. */
export interface Pair {
  a: number;
  b: number;
  label: PreferenceLabel;
}

/** The Bradley-Terry loss of one pair whose reward difference is `d` (stable for large |d|). */
export function btLoss(d: number, y: number): number {
  // -log sigmoid(d) = softplus(-d); -log sigmoid(-d) = softplus(d)
  return y * softplus(-d) + (1 - y) * softplus(d);
}

/** Its derivative in d: sigmoid(d) - y. */
export function btGrad(d: number, y: number): number {
  return sigmoid(d) - y;
}

export const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus = (x: number) => (x > 30 ? x : x < -30 ? Math.exp(x) : Math.log1p(Math.exp(x)));

/** The fitted model: r(x) = w . (x - mean) / std. */
export interface RewardHead {
  w: Float64Array;
  mean: Float64Array;
  std: Float64Array;
}

export interface RewardModelSettings {
  /** Seeds the held-out split. */
  seed: number;
  /** Share of the pairs held out to measure accuracy (at least one pair once there are 5). */
  heldOut: number;
  /** Full-batch Adam steps. */
  steps: number;
  learningRate: number;
  /** L2 penalty on w: keeps the head from fitting noise on a few dozen pairs. */
  l2: number;
}

export const REWARD_MODEL_DEFAULTS: RewardModelSettings = { seed: 1, heldOut: 0.2, steps: 300, learningRate: 0.05, l2: 1e-3 };

export interface FittedRewardModel {
  head: RewardHead;
  /** The training loss after each step (mean over the training pairs, the L2 term included). */
  losses: number[];
  /** The share of held-out pairs (ties left out) whose better completion scores higher; null when none is held out. */
  heldOutAccuracy: number | null;
  trainAccuracy: number | null;
  trainPairs: number;
  heldOutPairs: number;
}

/** r(x) under a head. */
export function scoreFeatures(head: RewardHead, x: ArrayLike<number>): number {
  let r = 0;
  for (let k = 0; k < head.w.length; k++) r += (head.w[k] * (x[k] - head.mean[k])) / head.std[k];
  return r;
}

/**
 * Which pairs are held out: a seeded shuffle, then the first `heldOut` share
 * of the decisive pairs and of the ties, each on its own, so that the held-out
 * accuracy (which ties do not count in) has pairs to count whenever five or
 * more labels are decisive.
 */
export function splitPairs(labels: readonly PreferenceLabel[], heldOut: number, seed: number): { train: number[]; test: number[] } {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const share = (ids: number[]) => ids.slice(0, ids.length >= 5 ? Math.max(1, Math.round(ids.length * heldOut)) : 0);
  const test = [...share(order.filter((i) => labels[i] !== 0.5)), ...share(order.filter((i) => labels[i] === 0.5))];
  const held = new Set(test);
  return { test: test.sort((a, b) => a - b), train: order.filter((i) => !held.has(i)).sort((a, b) => a - b) };
}

/** The share of pairs (ties left out) the head orders as labelled; null when there are none. */
export function pairAccuracy(head: RewardHead, features: readonly ArrayLike<number>[], pairs: readonly Pair[]): number | null {
  let right = 0;
  let counted = 0;
  for (const p of pairs) {
    if (p.label === 0.5) continue;
    const d = scoreFeatures(head, features[p.a]) - scoreFeatures(head, features[p.b]);
    counted++;
    if ((d > 0 && p.label === 1) || (d < 0 && p.label === 0)) right++;
  }
  return counted ? right / counted : null;
}

/**
 * Fits the head on the training share of `pairs` by full-batch Adam on the
 * Bradley-Terry loss plus l2/2 |w|^2, and measures it on the held-out share.
 */
export function fitRewardModel(features: readonly ArrayLike<number>[], pairs: readonly Pair[], settings: Partial<RewardModelSettings> = {}): FittedRewardModel {
  const s = { ...REWARD_MODEL_DEFAULTS, ...settings };
  if (features.length === 0) throw new Error('a reward model needs labelled completions, and there are none');
  const F = features[0].length;
  for (const p of pairs) if (!(p.a in features) || !(p.b in features)) throw new Error(`pair (${p.a}, ${p.b}) names a completion beyond the ${features.length} there are`);
  // Standardised on the completions the pairs use: a feature's scale says nothing about its worth.
  const used = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  const mean = new Float64Array(F);
  const std = new Float64Array(F);
  for (const i of used) for (let k = 0; k < F; k++) mean[k] += features[i][k] / used.length;
  for (const i of used) for (let k = 0; k < F; k++) std[k] += (features[i][k] - mean[k]) ** 2 / used.length;
  for (let k = 0; k < F; k++) std[k] = Math.sqrt(std[k]) + 1e-6;
  const z = features.map((x) => Float64Array.from({ length: F }, (_, k) => (x[k] - mean[k]) / std[k]));

  const { train, test } = splitPairs(pairs.map((p) => p.label), s.heldOut, s.seed);
  const trainPairs = train.map((i) => pairs[i]);
  const w = new Float64Array(F);
  const m = new Float64Array(F);
  const v = new Float64Array(F);
  const g = new Float64Array(F);
  const losses: number[] = [];
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  const r = (x: Float64Array) => {
    let y = 0;
    for (let k = 0; k < F; k++) y += w[k] * x[k];
    return y;
  };
  for (let step = 1; step <= s.steps; step++) {
    g.fill(0);
    let loss = 0;
    for (const p of trainPairs) {
      const d = r(z[p.a]) - r(z[p.b]);
      loss += btLoss(d, p.label);
      const dd = btGrad(d, p.label) / trainPairs.length;
      for (let k = 0; k < F; k++) g[k] += dd * (z[p.a][k] - z[p.b][k]);
    }
    loss = trainPairs.length ? loss / trainPairs.length : 0;
    let norm = 0;
    for (let k = 0; k < F; k++) {
      norm += w[k] * w[k];
      g[k] += s.l2 * w[k];
    }
    losses.push(loss + (s.l2 / 2) * norm);
    for (let k = 0; k < F; k++) {
      m[k] = b1 * m[k] + (1 - b1) * g[k];
      v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k];
      w[k] -= (s.learningRate * (m[k] / (1 - b1 ** step))) / (Math.sqrt(v[k] / (1 - b2 ** step)) + eps);
    }
  }
  const head = { w, mean, std };
  return {
    head,
    losses,
    heldOutAccuracy: pairAccuracy(head, features, test.map((i) => pairs[i])),
    trainAccuracy: pairAccuracy(head, features, trainPairs),
    trainPairs: train.length,
    heldOutPairs: test.length,
  };
}

/**
 * Labels pairs by a judge's scores (higher is better; equal scores tie), each
 * label flipped with probability `noise` (a tie stays a tie): an imperfect
 * annotator imitated, from a seeded stream.
 */
export function judgePairs(scores: readonly number[], pairs: readonly [number, number][], noise: number, seed: number): Pair[] {
  const rng = new Rng(seed);
  return pairs.map(([a, b]) => {
    let label: PreferenceLabel = scores[a] > scores[b] ? 1 : scores[a] < scores[b] ? 0 : 0.5;
    if (label !== 0.5 && rng.next() < noise) label = label === 1 ? 0 : 1;
    return { a, b, label };
  });
}

/**
 * A person's label, as an experiment keeps it: two completions (each with its
 * prompt) of the batch shown at iteration `at`, and which is better (y: 1 the
 * first, 0 the second, 0.5 a tie), for the learnt component `reward`.
 */
export interface LabelRecord {
  reward: string;
  pa: string;
  a: string;
  pb: string;
  b: string;
  y: PreferenceLabel;
  at: number;
}

/** Labels as a feature table's rows (each distinct completion once, in first-seen order) and pairs into it. */
export function labelledPairs(labels: readonly LabelRecord[]): { items: { prompt: string; text: string }[]; pairs: Pair[] } {
  const items: { prompt: string; text: string }[] = [];
  const index = new Map<string, number>();
  const at = (prompt: string, text: string) => {
    const key = JSON.stringify([prompt, text]);
    let i = index.get(key);
    if (i === undefined) {
      i = items.push({ prompt, text }) - 1;
      index.set(key, i);
    }
    return i;
  };
  return { items, pairs: labels.map((l) => ({ a: at(l.pa, l.a), b: at(l.pb, l.b), label: l.y })) };
}

/**
 * How often a person agreed with themself: over every pair labelled more than
 * once (in either order), the share of repeat labels that match the first.
 * null when nothing was labelled twice.
 */
export function selfAgreement(labels: readonly LabelRecord[]): { agreed: number; repeats: number } | null {
  const first = new Map<string, PreferenceLabel>();
  let agreed = 0;
  let repeats = 0;
  for (const l of labels) {
    const [key, y] = l.pa + '\u0000' + l.a < l.pb + '\u0000' + l.b ? [JSON.stringify([l.pa, l.a, l.pb, l.b]), l.y] : [JSON.stringify([l.pb, l.b, l.pa, l.a]), (1 - l.y) as PreferenceLabel];
    const seen = first.get(key);
    if (seen === undefined) first.set(key, y);
    else {
      repeats++;
      if (seen === y) agreed++;
    }
  }
  return repeats ? { agreed, repeats } : null;
}
