/**
 * The runaway alarm: a policy leaving its reference fast, before the reward
 * shows it. The collapse alarm (collapse.ts) sees a policy that narrowed; this
 * one sees a policy turning to noise: KL to the reference far past where it
 * should be and still rising (or far past it), the value loss grown by orders of magnitude, or
 * entropy far above the reference's. Measured on PPO runs of the privacy
 * transformer that ran away: the value loss passed 100x its first
 * value 10-15 iterations before KL did, and KL climbed from 3x its target to
 * 400-550 nats in 6-10 iterations, while entropy rose from 0.3 to 2.6 nats per
 * token. Healthy runs of the learning benchmark (every task, algorithm and seed)
 * stay below every threshold here.
 */
import type { CollapseSign } from './collapse.ts';

/** What the alarm reads of one iteration. */
export interface RunawayPoint {
  /** Mean KL to the reference per completion, in nats. */
  kl: number;
  /** Mean per-token entropy of the policy, in nats. */
  entropy: number;
  /** PPO: the value head's loss; absent for critic-free algorithms. */
  valueLoss?: number;
}

/** What the alarm remembers between iterations: the first (the reference's own batch) and the last few. */
export interface RunawayHistory {
  first: RunawayPoint;
  recent: RunawayPoint[];
  /** Whether the KL sign is up: once up, it stays while KL stays past its limit, rising or not. */
  klUp?: boolean;
}

/** KL past this many times the adaptive controller's target is far past it (the learning benchmark's bound). */
const KL_TARGET_TIMES = 3;
/** Without a target (GRPO, RLOO, a fixed beta): nats per completion. */
const KL_NATS = 20;
/** Iterations in a row KL must stay past its limit, rising, before the alarm believes it: one long odd completion is not a runaway. */
const KL_RUN = 3;
/** ... unless it is this many times past it: then rising or not. */
const KL_FAR = 2;
/** The value loss this many times its first iteration's (after the head's warm start), and rising. */
const VALUE_TIMES = 100;
/** ... and at least this: a first value loss near 0 (a constant reward) makes any later one look huge. */
const VALUE_FLOOR = 20;
/** Entropy this many times the reference's, and this many nats more, on two iterations in a row. */
const ENTROPY_TIMES = 3;
const ENTROPY_NATS = 0.5;

const ADVICE = 'Lower the learning rate or raise the KL coefficient, then Reset.';

/** Adds this iteration to the history (kept to the last few) and returns the signs of a runaway it shows. */
export function runawaySigns(history: RunawayHistory | null, now: RunawayPoint, klTarget: number | null): { history: RunawayHistory; signs: CollapseSign[] } {
  const recent = history ? [...history.recent, now].slice(-KL_RUN) : [now];
  const first = history?.first ?? now;
  const signs: CollapseSign[] = [];

  const limit = klTarget === null ? KL_NATS : KL_TARGET_TIMES * klTarget;
  const limitText = klTarget === null ? `${KL_NATS} nats` : `${KL_TARGET_TIMES}x its target (${limit.toFixed(0)} nats)`;
  // Past the limit 3 iterations in a row, and rising or far past it (a policy that jumped there at once and stays).
  const klUp = now.kl > limit && (history?.klUp || (recent.length === KL_RUN && recent.every((p) => p.kl > limit) && (now.kl > recent[0].kl || now.kl > KL_FAR * limit)));
  if (klUp) {
    signs.push({
      kind: 'runaway',
      message: `runaway: KL to the reference is ${now.kl.toFixed(1)} nats per completion (${recent[0].kl.toFixed(1)} ${recent.length - 1} iterations ago), above ${limitText}.`,
    });
  }

  const prev = recent.length >= 2 ? recent[recent.length - 2] : null;
  if (now.valueLoss !== undefined && first.valueLoss !== undefined && prev?.valueLoss !== undefined) {
    const bar = Math.max(VALUE_TIMES * first.valueLoss, VALUE_FLOOR);
    if (now.valueLoss > bar && now.valueLoss > (recent[0].valueLoss ?? Infinity)) {
      signs.push({
        kind: 'runaway',
        message: `runaway: the value loss grew to ${compact(now.valueLoss)} from ${compact(first.valueLoss)} at the start (${Math.round(now.valueLoss / Math.max(first.valueLoss, 1e-9))}x): the value head cannot follow the returns, and the policy is drifting.`,
      });
    }
  }

  const high = (p: RunawayPoint) => p.entropy > Math.max(ENTROPY_TIMES * first.entropy, first.entropy + ENTROPY_NATS);
  if (prev && high(prev) && high(now)) {
    signs.push({
      kind: 'runaway',
      message: `runaway: entropy rose to ${now.entropy.toFixed(2)} nats per token from the reference's ${first.entropy.toFixed(2)}: the policy is turning to noise.`,
    });
  }
  // What to do, once, after what was seen.
  if (signs.length) signs[signs.length - 1].message += ` ${ADVICE}`;
  return { history: { first, recent, klUp }, signs };
}

function compact(x: number): string {
  return x >= 1000 ? x.toExponential(1) : x.toPrecision(2);
}
