import type { Probes } from '../../core/experiment/experiment.ts';
import type { ProbeRound } from '../../core/training/probes.ts';
import type { Result } from '../../worker/trainerApi.ts';

/** The probe table's rounds (probes.ts), as the worker sends them, and changing the probes. */
export class ProbeLog {
  rounds = $state.raw<ProbeRound[]>([]);

  constructor(
    /** Sends new probes to the worker (in the page's request order); null when the call failed (the page says why). */
    private readonly send: (probes: Probes) => Promise<Result<null> | undefined>,
    /** Takes them into the experiment on screen once the worker has them. */
    private readonly take: (probes: Probes) => void,
  ) {}

  /** A round of the run: a round at an iteration already held starts the table again from it (new prompts, a reset). */
  add(round: ProbeRound): void {
    this.rounds = [...this.rounds.filter((r) => r.iteration < round.iteration), round];
  }

  truncate(last: number): void {
    this.rounds = this.rounds.filter((r) => r.iteration <= last);
  }

  clear(): void {
    this.rounds = [];
  }

  /** New prompts or interval: checked in the worker like a link's; the table starts again with a round at once. Returns what was wrong, or null. */
  async set(probes: Probes): Promise<string | null> {
    const kept = this.rounds;
    this.rounds = [];
    const r = await this.send(probes);
    if (!r || !r.ok) {
      this.rounds = kept;
      return r ? r.message : 'the trainer did not answer';
    }
    this.take(probes);
    return null;
  }
}
