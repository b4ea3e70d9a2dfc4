/**
 * A reward checked before training: scored on the reference policy's samples
 * and on edge cases the task defines, it is reported for the ways a reward
 * fails to teach (constant, one component drowning the rest, non-finite on an
 * edge case, different on a second call, too slow for its limit) and for an
 * edge case that beats every reference sample (a loophole?). Warnings do not
 * block; each names its numbers. Pure: the caller scores, this reads numbers.
 */

export type RewardWarningKind = 'constant' | 'dominated' | 'nonfinite' | 'nondeterministic' | 'slow' | 'loophole';
export const REWARD_WARNING_KINDS: readonly RewardWarningKind[] = ['constant', 'dominated', 'nonfinite', 'nondeterministic', 'slow', 'loophole'];

export interface RewardWarning {
  kind: RewardWarningKind;
  message: string;
}

/** A text the check scores: what it is ("an empty completion"), its prompt and text. */
export interface EdgeCase {
  label: string;
  prompt: string;
  text: string;
}

export interface RewardCheckInput {
  /** The reference samples' totals and each component's value, scored once. */
  reference: { total: number; components: Record<string, number> }[];
  /** The same reference samples scored a second time (totals). */
  again: number[];
  /** Each edge case's total, or why it could not be scored (a non-finite value, a throw). */
  edges: { label: string; total: number | null; problem?: string }[];
  weights: Record<string, number>;
  /**
   * The reward is per step of an episode (a control task): a constant per-step
   * reward still teaches there (episodes that last longer earn more), so it is
   * not reported as constant; and its fixed states are not loopholes.
   */
  perStep?: boolean;
  /** Milliseconds per sample, measured, and what a batch of `batchSize` may take. */
  msPerSample: number;
  batchSize: number;
  limitMs: number;
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(3));

function spread(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
  return { mean, std: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(xs.length, 1)) };
}

export function diagnoseReward(c: RewardCheckInput): RewardWarning[] {
  const out: RewardWarning[] = [];
  const totals = c.reference.map((r) => r.total);
  const n = totals.length;
  if (n >= 2) {
    const { mean, std } = spread(totals);
    if (std <= 1e-6 * Math.max(1, Math.abs(mean))) {
      if (!c.perStep) {
        out.push({
          kind: 'constant',
          message: `Every one of the ${n} reference samples scores ${fmt(mean)}: a reward that does not vary gives GRPO and RLOO nothing to learn (equal rewards in a group), and PPO only noise. Does it reward what differs between samples?`,
        });
      }
    } else {
      // One weighted component making nearly all of the spread, while others were given weights
      // of the same order (a quarter of its or more): those hardly count, most often because their
      // values live on another scale. A component weighted far lower on purpose (a tie-breaker) is not reported.
      const names = Object.keys(c.weights).filter((k) => c.weights[k] !== 0);
      if (names.length >= 2) {
        const variances = names.map((k) => {
          const { std: s } = spread(c.reference.map((r) => c.weights[k] * (r.components[k] ?? 0)));
          return s * s;
        });
        const sum = variances.reduce((a, b) => a + b, 0);
        const top = variances.indexOf(Math.max(...variances));
        const drowned = names.filter((k, i) => i !== top && Math.abs(c.weights[k]) >= 0.25 * Math.abs(c.weights[names[top]]));
        if (sum > 0 && variances[top] / sum > 0.9 && drowned.length > 0) {
          out.push({
            kind: 'dominated',
            message: `"${names[top]}" makes ${Math.round((100 * variances[top]) / sum)}% of the reward's spread on the reference samples (weighted): ${drowned.map((k) => `"${k}" (× ${c.weights[k]})`).join(', ')} ${drowned.length > 1 ? 'hardly count' : 'hardly counts'}, though weighted alike. Are their values on another scale?`,
          });
        }
      }
    }
  }
  const changed = totals.map((t, i) => ({ i, t, u: c.again[i] })).filter(({ t, u }) => u !== undefined && !Object.is(t, u) && Math.abs(t - u) > 1e-12 * Math.max(1, Math.abs(t)));
  if (changed.length) {
    const { i, t, u } = changed[0];
    out.push({
      kind: 'nondeterministic',
      message: `Scored twice, ${changed.length} of ${n} reference samples changed (sample ${i + 1}: ${fmt(t)}, then ${fmt(u)}). A reward that uses Math.random, the time or state kept between calls trains on noise.`,
    });
  }
  for (const e of c.edges.filter((e) => e.total === null)) {
    out.push({ kind: 'nonfinite', message: `${capital(e.label)} cannot be scored: ${e.problem ?? 'no finite number'}. Training stops with this error the first time the policy writes one.` });
  }
  const projected = c.msPerSample * c.batchSize;
  if (projected > 0.5 * c.limitMs) {
    out.push({
      kind: 'slow',
      message: `About ${fmt(c.msPerSample)} ms a sample: a batch of ${c.batchSize} would take about ${Math.round(projected)} ms, ${projected > c.limitMs ? 'over' : 'over half of'} its limit of ${c.limitMs} ms.`,
    });
  }
  // A control task's edge cases are real states (upright and still is the best a cart can be in):
  // beating random play there is the reward working, not a loophole.
  if (n >= 1 && !c.perStep) {
    const best = Math.max(...totals);
    for (const e of c.edges) {
      if (e.total !== null && e.total > best + 1e-9 * Math.max(1, Math.abs(best))) {
        out.push({ kind: 'loophole', message: `${capital(e.label)} scores ${fmt(e.total)}, above every reference sample (best ${fmt(best)}): a loophole? The policy will find it if it can.` });
      }
    }
  }
  return out;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * A text task's edge cases: an empty completion (the stop token at once), one
 * symbol repeated to the length limit, random symbols, and the longest reference
 * sample; a painter's: a blank and a solid image. Each continues the first
 * reference sample's prompt.
 */
export function textEdgeCases(o: { alphabet: string; maxLength: number; references: readonly { prompt: string; text: string }[]; image?: boolean; random: () => number }): EdgeCase[] {
  const prompt = o.references[0]?.prompt ?? '';
  const symbols = [...o.alphabet].filter((ch) => ch !== '\n');
  const pick = () => symbols[Math.floor(o.random() * symbols.length)];
  if (o.image) {
    return [
      { label: 'a blank image (every pixel the first colour)', prompt, text: symbols[0].repeat(o.maxLength) },
      { label: 'a solid image of the last colour', prompt, text: symbols[symbols.length - 1].repeat(o.maxLength) },
      { label: 'an image of random colours', prompt, text: Array.from({ length: o.maxLength }, pick).join('') },
    ];
  }
  const longest = o.references.reduce<{ prompt: string; text: string } | null>((a, r) => (a === null || r.text.length > a.text.length ? r : a), null);
  // As long as the longest reference sample: compared like for like, a reward that pays for
  // length is not reported for length alone, only for what it pays degenerate text.
  const n = Math.min(o.maxLength, Math.max(1, longest?.text.length ?? o.maxLength));
  const repeated = (symbols.find((ch) => /[a-z]/i.test(ch)) ?? symbols[0]).repeat(n);
  return [
    { label: 'an empty completion (the stop token at once)', prompt, text: '' },
    { label: `one symbol repeated ("${repeated.slice(0, 12)}${repeated.length > 12 ? '…' : ''}", ${n}, as long as the longest reference sample)`, prompt, text: repeated },
    { label: `${n} random symbols`, prompt, text: Array.from({ length: n }, pick).join('') },
    ...(longest ? [{ label: `the longest reference sample ("${longest.text.slice(0, 24)}${longest.text.length > 24 ? '…' : ''}")`, prompt: longest.prompt, text: longest.text }] : []),
  ];
}
