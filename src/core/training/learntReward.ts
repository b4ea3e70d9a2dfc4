import { allHelpers, type RewardContext, type RewardModel, type RewardScores, type Sample } from '../reward/reward.ts';
import { fitRewardModel, judgePairs, scoreFeatures, type FittedRewardModel, type RewardModelSettings } from '../reward/preferences.ts';
import { Rng } from '../rng.ts';

/**
 * A reward component learnt from preferences labelled by a judge: `judge` is
 * reward code (the editor's contract) whose score orders two completions, with
 * `noise` of the labels flipped, on `pairs` pairs of the reference policy's
 * completions. The CLI reads it from an experiment file's rewards.
 */
export interface PreferenceSpec {
  name: string;
  weight: number;
  kind: 'preferences';
  judge: string;
  pairs: number;
  noise: number;
}

/** The gold beside a learnt component: its judge's own score, charted at weight 0 under this name. */
export const goldName = (name: string) => `${name}_judge`;

/** Checks a preference component read from a file; throws naming the field. */
export function checkPreferenceSpec(x: Record<string, unknown>, at: string): PreferenceSpec {
  const where = `${at} (kind "preferences")`;
  if (typeof x.name !== 'string' || !/^[A-Za-z_][\w-]{0,23}$/.test(x.name)) throw new Error(`${where}.name must be 1-24 letters, digits, _ or -, got ${JSON.stringify(x.name)}`);
  if (typeof x.weight !== 'number' || !Number.isFinite(x.weight)) throw new Error(`${where}.weight must be a finite number, got ${JSON.stringify(x.weight)}`);
  if (typeof x.judge !== 'string' || !x.judge.trim()) throw new Error(`${where}.judge must be reward code (function reward(sample, ctx) { ... }) that scores a completion, got ${JSON.stringify(x.judge)}`);
  const pairs = x.pairs ?? 200;
  if (typeof pairs !== 'number' || !Number.isInteger(pairs) || pairs < 10 || pairs > 5000) throw new Error(`${where}.pairs must be a whole number from 10 to 5000, got ${JSON.stringify(x.pairs)}`);
  const noise = x.noise ?? 0;
  if (typeof noise !== 'number' || !(noise >= 0 && noise <= 0.5)) throw new Error(`${where}.noise must be a share of flipped labels from 0 to 0.5, got ${JSON.stringify(x.noise)}`);
  const known = ['name', 'weight', 'kind', 'judge', 'pairs', 'noise'];
  const extra = Object.keys(x).find((k) => !known.includes(k));
  if (extra) throw new Error(`${where}.${extra} is not a field of a preference component (${known.join(', ')})`);
  return { name: x.name, weight: x.weight, kind: 'preferences', judge: x.judge, pairs, noise };
}

/** What a learnt component needs to score: the features of completions (the frozen reference policy's, pooled). */
export type Featurize = (items: readonly { prompt: string; text: string }[]) => Promise<Float64Array[]>;

export interface LearntComponent {
  spec: PreferenceSpec;
  fit: FittedRewardModel;
}

/**
 * Labels `spec.pairs` pairs of `completions` with the judge's scores (seeded
 * pairing and noise) and fits the reward model on their features.
 */
export async function learnFromJudge(
  spec: PreferenceSpec,
  completions: readonly Sample[],
  judge: RewardModel,
  featurize: Featurize,
  seed: number,
  settings: Partial<RewardModelSettings> = {},
): Promise<LearntComponent> {
  if (completions.length < 2) throw new Error(`reward "${spec.name}": at least two completions are needed to make pairs`);
  const scores = (await judge.score(completions, { iteration: 0, task: 'judge', helpers: allHelpers() })).total;
  const rng = new Rng(seed * 31 + 7);
  const raw: [number, number][] = [];
  while (raw.length < spec.pairs) {
    const a = rng.int(completions.length);
    const b = rng.int(completions.length);
    if (a !== b) raw.push([a, b]);
  }
  const features = await featurize(completions);
  const fit = fitRewardModel(features, judgePairs(scores, raw, spec.noise, seed), { seed, ...settings });
  return { spec, fit };
}

/**
 * The reward training uses when some components are learnt: the code
 * components (scored by `code`, if any), each learnt component's reward model
 * on the completions' features, and each judge's own score at weight 0 (the
 * gold, charted, never trained on).
 */
export class LearntReward implements RewardModel {
  readonly names: readonly string[];

  constructor(
    private readonly code: RewardModel | null,
    private readonly learnt: readonly LearntComponent[],
    private readonly judges: readonly RewardModel[],
    private readonly featurize: Featurize,
  ) {
    this.names = [...(code?.names ?? []), ...learnt.map((l) => l.spec.name), ...learnt.map((l) => goldName(l.spec.name))];
  }

  async score(samples: readonly Sample[], ctx: RewardContext): Promise<RewardScores> {
    const base = this.code ? await this.code.score(samples, ctx) : { total: new Array<number>(samples.length).fill(0), components: [] };
    const total = [...base.total];
    const components = [...base.components];
    const features = await this.featurize(samples);
    for (const l of this.learnt) {
      const values = features.map((x) => scoreFeatures(l.fit.head, x));
      values.forEach((v, i) => (total[i] += l.spec.weight * v));
      components.push({ name: l.spec.name, values });
    }
    for (let j = 0; j < this.judges.length; j++) components.push({ name: goldName(this.learnt[j].spec.name), values: (await this.judges[j].score(samples, ctx)).total });
    return { ...base, total, components };
  }

  dispose(): void {
    this.code?.dispose?.();
    for (const j of this.judges) j.dispose?.();
  }
}
