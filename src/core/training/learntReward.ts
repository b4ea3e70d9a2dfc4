import { RewardError, type RewardContext, type RewardModel, type RewardScores, type Sample } from '../reward/reward.ts';
import type { LearnSpec, RewardSpec } from '../reward/sandbox/types.ts';
import { fitRewardModel, judgePairs, labelledPairs, pairAccuracy, scoreFeatures, type LabelRecord, type RewardHead, type RewardModelSettings } from '../reward/preferences.ts';
import { Rng } from '../rng.ts';

// Rewards learnt from preferences, as the worker and the command line run them.
// A component with `learn` is scored by a reward model (reward/preferences.ts)
// on the frozen reference policy's features (preferenceFeatures.ts), fitted on
// pairs labelled by a person (the experiment's labels), by its own code as a
// judge, or by the task's other reference policy (its likelihood) as a judge.
// A judge's own score is charted beside it at weight 0: the gold.

/** The gold beside a learnt component: its judge's own score, charted at weight 0 under this name. */
export const goldName = (name: string) => `${name}_judge`;

/** A judge-labelled component's settings when a file or the editor leaves them out. */
export const DEFAULT_LEARN: LearnSpec = { from: 'judge', pairs: 200, noise: 0, every: 0 };
/** A person's labels: the reward model retrains after this many new ones. */
export const PERSON_EVERY = 10;

/**
 * What the sandbox scores: code components as they are, a judge's code as the
 * gold (weight 0, under goldName); a component learnt from a person or a model
 * runs no code.
 */
export function sandboxSpecs(rewards: readonly RewardSpec[]): RewardSpec[] {
  return rewards.flatMap((r) => (!r.learn ? [{ name: r.name, weight: r.weight, source: r.source }] : r.learn.from === 'judge' ? [{ name: goldName(r.name), weight: 0, source: r.source }] : []));
}

/** A judge's error in the person's words: `reward "rm_judge"` is the judge code of the learnt component "rm". */
export function explainJudge(err: unknown, rewards: readonly RewardSpec[]): unknown {
  if (!(err instanceof Error)) return err;
  let text = err.message;
  for (const r of rewards) if (r.learn?.from === 'judge') text = text.split(`reward "${goldName(r.name)}"`).join(`the judge code of "${r.name}"`);
  if (text === err.message) return err;
  return err instanceof RewardError ? new RewardError(text, { ...err.details, component: judgedName(rewards, err.details.component) }) : new Error(text);
}
const judgedName = (rewards: readonly RewardSpec[], component?: string) => rewards.find((r) => component === goldName(r.name))?.name ?? component;

/** Every component a run charts, with its weight: the code components, each learnt one, and each judge's gold at 0. */
export function componentWeights(rewards: readonly RewardSpec[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rewards) {
    out[r.name] = r.weight;
    if (r.learn && r.learn.from !== 'person') out[goldName(r.name)] = 0;
  }
  return out;
}

/**
 * The command line's short form, `{ "kind": "preferences", "name", "weight",
 * "judge": "<code>", "pairs", "noise" }`, as the schema's component (its judge
 * the source); throws naming the field.
 */
export function checkPreferenceSpec(x: Record<string, unknown>, at: string): RewardSpec {
  const where = `${at} (kind "preferences")`;
  if (typeof x.name !== 'string' || !/^[A-Za-z_][\w-]{0,23}$/.test(x.name)) throw new Error(`${where}.name must be 1-24 letters, digits, _ or -, got ${JSON.stringify(x.name)}`);
  if (typeof x.weight !== 'number' || !Number.isFinite(x.weight)) throw new Error(`${where}.weight must be a finite number, got ${JSON.stringify(x.weight)}`);
  if (typeof x.judge !== 'string' || !x.judge.trim()) throw new Error(`${where}.judge must be reward code (function reward(sample, ctx) { ... }) that scores a completion, got ${JSON.stringify(x.judge)}`);
  const pairs = x.pairs ?? DEFAULT_LEARN.pairs;
  if (typeof pairs !== 'number' || !Number.isInteger(pairs) || pairs < 10 || pairs > 2000) throw new Error(`${where}.pairs must be a whole number from 10 to 2000, got ${JSON.stringify(x.pairs)}`);
  const noise = x.noise ?? 0;
  if (typeof noise !== 'number' || !(noise >= 0 && noise <= 0.5)) throw new Error(`${where}.noise must be a share of flipped labels from 0 to 0.5, got ${JSON.stringify(x.noise)}`);
  const known = ['name', 'weight', 'kind', 'judge', 'pairs', 'noise'];
  const extra = Object.keys(x).find((k) => !known.includes(k));
  if (extra) throw new Error(`${where}.${extra} is not a field of a preference component (${known.join(', ')})`);
  return { name: x.name, weight: x.weight, source: x.judge, learn: { ...DEFAULT_LEARN, pairs, noise } };
}

/** What a learnt component needs to score: the features of completions (the frozen reference policy's, pooled). */
export type Featurize = (items: readonly { prompt: string; text: string }[], progress?: (fraction: number) => void) => Promise<Float64Array[]>;

/** What fitting needs from where it runs (the worker or the command line). */
export interface LearnTools {
  featurize: Featurize;
  /** Completions of the reference policy to label, from a stream of their own. */
  references(count: number, seed: number): Promise<Sample[]>;
  /** A judge's scores (higher is better) of samples for a learnt component: its code in the sandbox, or the other reference policy's likelihood. */
  judge(spec: RewardSpec, samples: readonly Sample[]): Promise<number[]>;
  progress?(name: string, stage: string, fraction: number): void;
}

/** One fit of a learnt component, as the page shows it and the command line prints it. */
export interface FitReport {
  name: string;
  from: LearnSpec['from'];
  /** Pairs labelled (all of them, the held-out ones included). */
  pairs: number;
  trainPairs: number;
  heldOutPairs: number;
  heldOutAccuracy: number | null;
  trainAccuracy: number | null;
  /** A person's labels made since the previous fit, on the policy's newer samples: how the previous model ordered them (null: none, or no previous model). */
  freshAccuracy: number | null;
  freshPairs: number;
  /** The training loss, at most 100 points over the fit's steps. */
  losses: number[];
  /** The iteration the fit was made after. */
  at: number;
  ms: number;
}

/** A learnt component's model: null until it has labels to learn from (it scores 0 meanwhile). */
export interface LearntFit {
  head: RewardHead | null;
  report: FitReport;
}

/** Most completions drawn for a judge to pair: each is in about two pairs. */
const MAX_JUDGED = 600;

/**
 * Fits one learnt component. A judge's: `learn.pairs` seeded pairs of
 * reference completions, labelled by the judge (`noise` of them flipped). A
 * person's: `labels` (theirs for this component), needing two that are not
 * ties; `freshFrom` counts those the previous model (`previous`) was fitted on.
 */
export async function fitLearnt(
  spec: RewardSpec,
  o: { seed: number; labels?: readonly LabelRecord[]; at?: number; previous?: RewardHead | null; freshFrom?: number; settings?: Partial<RewardModelSettings> },
  tools: LearnTools,
): Promise<LearntFit> {
  const learn = spec.learn;
  if (!learn) throw new Error(`reward "${spec.name}" is not learnt from preferences`);
  const started = performance.now();
  const say = (stage: string, f: number) => tools.progress?.(spec.name, stage, f);
  let items: { prompt: string; text: string }[];
  let pairs;
  if (learn.from === 'person') {
    ({ items, pairs } = labelledPairs(o.labels ?? []));
    if (pairs.filter((p) => p.label !== 0.5).length < 2) {
      return { head: null, report: emptyReport(spec, pairs.length, o.at ?? 0) };
    }
  } else {
    say('drawing completions to label', 0);
    const completions = await tools.references(Math.min(2 * learn.pairs, MAX_JUDGED), o.seed + 11);
    if (completions.length < 2) throw new Error(`reward "${spec.name}": at least two completions are needed to make pairs`);
    say(learn.from === 'model' ? 'the other policy judges' : 'the judge labels', 0.1);
    const scores = await tools.judge(spec, completions);
    const bad = scores.findIndex((s) => !Number.isFinite(s));
    if (bad >= 0) throw new Error(`reward "${spec.name}": its judge gave ${scores[bad]} for ${JSON.stringify(completions[bad].text)}; a judge's score must be a finite number`);
    const rng = new Rng(o.seed * 31 + 7);
    const raw: [number, number][] = [];
    while (raw.length < learn.pairs) {
      const a = rng.int(completions.length);
      const b = rng.int(completions.length);
      if (a !== b) raw.push([a, b]);
    }
    items = completions;
    pairs = judgePairs(scores, raw, learn.noise, o.seed);
  }
  const features = await tools.featurize(items, (f) => say('reading features', 0.2 + 0.6 * f));
  say('fitting', 0.85);
  const fit = fitRewardModel(features, pairs, { seed: o.seed, ...o.settings });
  const freshFrom = o.freshFrom ?? pairs.length;
  const fresh = pairs.slice(freshFrom);
  const report: FitReport = {
    name: spec.name,
    from: learn.from,
    pairs: pairs.length,
    trainPairs: fit.trainPairs,
    heldOutPairs: fit.heldOutPairs,
    heldOutAccuracy: fit.heldOutAccuracy,
    trainAccuracy: fit.trainAccuracy,
    freshAccuracy: o.previous && fresh.length ? pairAccuracy(o.previous, features, fresh) : null,
    freshPairs: fresh.filter((p) => p.label !== 0.5).length,
    losses: thin(fit.losses, 100),
    at: o.at ?? 0,
    ms: performance.now() - started,
  };
  say('done', 1);
  return { head: fit.head, report };
}

function emptyReport(spec: RewardSpec, pairs: number, at: number): FitReport {
  return { name: spec.name, from: spec.learn!.from, pairs, trainPairs: 0, heldOutPairs: 0, heldOutAccuracy: null, trainAccuracy: null, freshAccuracy: null, freshPairs: 0, losses: [], at, ms: 0 };
}

function thin(xs: readonly number[], n: number): number[] {
  if (xs.length <= n) return [...xs];
  return Array.from({ length: n }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (n - 1))]);
}

/**
 * The reward a run trains on when some components are learnt: the sandbox's
 * components (`code`: the code ones and each judge's gold), each learnt
 * component's reward model on the completions' features (0 until fitted), and
 * each model judge's likelihood at weight 0 (its gold).
 */
export class LearntReward implements RewardModel {
  readonly names: readonly string[];
  readonly #learnt: readonly RewardSpec[];
  readonly #rewards: readonly RewardSpec[];
  readonly #heads = new Map<string, RewardHead | null>();

  constructor(
    private readonly code: RewardModel | null,
    rewards: readonly RewardSpec[],
    private readonly tools: Pick<LearnTools, 'featurize' | 'judge'>,
  ) {
    this.#rewards = rewards;
    this.#learnt = rewards.filter((r) => r.learn);
    // In the experiment's order, each learnt component followed by its gold.
    this.names = Object.keys(componentWeights(rewards));
  }

  /** Installs a component's fitted model (null: it scores 0). */
  setHead(name: string, head: RewardHead | null): void {
    this.#heads.set(name, head);
  }

  head(name: string): RewardHead | null {
    return this.#heads.get(name) ?? null;
  }

  async score(samples: readonly Sample[], ctx: RewardContext): Promise<RewardScores> {
    let base: RewardScores;
    try {
      base = this.code ? await this.code.score(samples, ctx) : { total: new Array<number>(samples.length).fill(0), components: [] };
    } catch (err) {
      throw explainJudge(err, this.#rewards);
    }
    const total = [...base.total];
    const values = new Map(base.components.map((c) => [c.name, c.values]));
    const features = this.#learnt.some((l) => this.#heads.get(l.name)) ? await this.tools.featurize(samples) : null;
    for (const l of this.#learnt) {
      const head = this.#heads.get(l.name);
      const v = head && features ? features.map((x) => scoreFeatures(head, x)) : new Array<number>(samples.length).fill(0);
      v.forEach((x, i) => (total[i] += l.weight * x));
      values.set(l.name, v);
      if (l.learn!.from === 'model') values.set(goldName(l.name), await this.tools.judge(l, samples));
    }
    return { ...base, total, components: this.names.map((name) => ({ name, values: values.get(name)! })) };
  }

  dispose(): void {
    this.code?.dispose?.();
  }
}
