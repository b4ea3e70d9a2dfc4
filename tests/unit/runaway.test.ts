import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runawaySigns, type RunawayHistory, type RunawayPoint } from '../../src/core/training/runaway.ts';

// Recorded PPO runs of the privacy transformer (see the file's `about`).
const profiles: {
  klTarget: number;
  diverging: { name: string; runawayStart: number; points: RunawayPoint[] }[];
  healthy: { name: string; points: RunawayPoint[] }[];
} = JSON.parse(readFileSync('tests/fixtures/runaway-profiles.json', 'utf8'));

/** Feeds a run to the alarm as the trainer does; returns each iteration's signs (iterations count from 1). */
function replay(points: RunawayPoint[], klTarget: number | null): string[][] {
  let history: RunawayHistory | null = null;
  return points.map((p) => {
    const r = runawaySigns(history, p, klTarget);
    history = r.history;
    return r.signs.map((s) => s.message);
  });
}

describe('the runaway alarm', () => {
  for (const run of profiles.diverging) {
    it(`fires within 3 iterations of the start of a runaway: ${run.name}`, () => {
      const signs = replay(run.points, profiles.klTarget);
      const first = signs.findIndex((s) => s.length > 0) + 1;
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThanOrEqual(run.runawayStart + 3);
      // It says what it saw, with numbers, and what to do.
      expect(signs[first - 1].join(' ')).toMatch(/runaway: .*\d.*Lower the learning rate or raise the KL coefficient, then Reset\./);
      // And it keeps saying so while KL stays far past its limit.
      expect(signs.slice(run.runawayStart + 3).every((s) => s.length > 0)).toBe(true);
    });
  }

  for (const run of profiles.healthy) {
    it(`stays quiet on a healthy run: ${run.name}`, () => {
      expect(replay(run.points, profiles.klTarget).flat()).toEqual([]);
    });
  }

  it('takes one long odd batch for what it is: KL past its limit once, or falling, is no runaway', () => {
    const at = (kl: number): RunawayPoint => ({ kl, entropy: 0.3, valueLoss: 0.5 });
    expect(replay([at(0), at(2), at(40), at(3), at(4)], 6).flat()).toEqual([]);
    expect(replay([at(0), at(30), at(25), at(20)], 6).flat()).toEqual([]); // past 18, but falling
    expect(replay([at(0), at(53), at(46), at(46)], 6)[3]).toHaveLength(1); // far past it at once, and staying
    expect(replay([at(0), at(19), at(22), at(30)], 6)[3]).toHaveLength(1);
  });

  it('reads KL against 20 nats without a target (GRPO, RLOO, a fixed beta)', () => {
    const at = (kl: number): RunawayPoint => ({ kl, entropy: 0.3 });
    expect(replay([at(0), at(15), at(17), at(19)], null).flat()).toEqual([]);
    const signs = replay([at(0), at(21), at(24), at(30)], null);
    expect(signs[3][0]).toContain('above 20 nats');
  });

  it('does not take a value loss that starts near 0 (a constant reward) for one grown by orders of magnitude', () => {
    const at = (valueLoss: number): RunawayPoint => ({ kl: 1, entropy: 0.3, valueLoss });
    expect(replay([at(1e-6), at(0.01), at(0.5), at(2)], 6).flat()).toEqual([]);
    expect(replay([at(0.1), at(5), at(30), at(60)], 6)[3].join(' ')).toContain('the value loss grew to 60');
  });

  it('sees entropy far above the reference\'s on two iterations in a row', () => {
    const at = (entropy: number): RunawayPoint => ({ kl: 1, entropy });
    expect(replay([at(0.3), at(1.2), at(0.4), at(1.3)], 6).flat()).toEqual([]);
    expect(replay([at(0.3), at(1.2), at(1.4)], 6)[2].join(' ')).toContain('entropy rose to 1.40');
  });
});
