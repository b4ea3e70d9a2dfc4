/**
 * The coefficient beta of the per-token KL penalty to the reference policy.
 * Fixed, or adaptive as in Ziegler et al. 2019 ("Fine-Tuning Language Models
 * from Human Preferences"): beta grows when KL overshoots the target, shrinks
 * when it undershoots, by at most 20% of the error per horizon of samples.
 */
export interface KlController {
  readonly value: number;
  /** kl: mean KL per completion this iteration; nSteps: completions it covered. */
  update(kl: number, nSteps: number): void;
}

export class FixedKlController implements KlController {
  constructor(readonly value: number) {}
  update(): void {}
}

export class AdaptiveKlController implements KlController {
  value: number;
  constructor(
    initial: number,
    readonly target: number,
    readonly horizon: number,
    /** A cap: a KL that cannot reach its target (a policy that collapsed) would otherwise drive beta up without bound. */
    readonly max = Infinity,
  ) {
    this.value = Math.min(initial, max);
  }

  update(kl: number, nSteps: number): void {
    const proportionalError = Math.min(Math.max(kl / this.target - 1, -0.2), 0.2);
    const mult = 1 + (proportionalError * nSteps) / this.horizon;
    this.value = Math.min(this.value * mult, this.max);
  }
}

export function klController(h: { klCoef: number; adaptiveKl: boolean; klTarget: number; klHorizon: number; klCoefMax: number }, value = h.klCoef): KlController {
  return h.adaptiveKl ? new AdaptiveKlController(value, h.klTarget, h.klHorizon, h.klCoefMax) : new FixedKlController(value);
}
