import { MAX_LABEL_TEXT, MAX_LABELS, type Experiment } from '../../core/experiment/experiment.ts';
import { selfAgreement, type LabelRecord, type PreferenceLabel } from '../../core/reward/preferences.ts';
import type { RewardSpec } from '../../core/reward/sandbox/types.ts';
import type { FitReport } from '../../core/training/learntReward.ts';
import type { Result, TrainerEvent } from '../../worker/trainerApi.ts';
import type { ChartMarker } from '../metrics/markers.ts';

/** Two completions shown side by side for a person to compare. */
export interface ShownPair {
  pa: string;
  a: string;
  pb: string;
  b: string;
  /** An earlier pair shown again (sides swapped): how often a person agrees with themself. */
  repeat: boolean;
}

/** Every how many pairs one already labelled comes back, swapped. */
const REPEAT_EVERY = 6;

/** What the preferences need of the page. */
export interface PreferenceHost {
  experiment: Experiment;
  iteration: number;
  changes: ChartMarker[];
  requestError: string | null;
  notice: string | null;
  /** The latest batch's completions. */
  samples: readonly { prompt: string; text: string }[];
  /** The reference policy's: what is compared before the first iteration. */
  readonly reward: { referenceSamples: readonly { prompt: string; text: string }[] };
}

/**
 * Preferences on the page: the pair a person is shown, their labels (kept in
 * the experiment, so links and saved runs carry them), and the reward models'
 * fits as the worker reports them.
 */
export class Preferences {
  /** Every fit since the experiment was loaded, oldest first. */
  reports = $state.raw<FitReport[]>([]);
  /** The fit under way (null: none). */
  progress = $state.raw<{ name: string; stage: string; fraction: number } | null>(null);
  pair = $state.raw<ShownPair | null>(null);
  fitting = $state(false);
  #shown = 0;

  constructor(
    private readonly host: PreferenceHost,
    /** Sends the labels (read when the request's turn comes) to the worker, which fits the person's components again; undefined when the call failed (the page says why). */
    private readonly send: (labels: () => LabelRecord[]) => Promise<Result<FitReport[]> | undefined>,
  ) {}

  /** The components learnt from preferences. */
  get learnt(): RewardSpec[] {
    return this.host.experiment.rewards.filter((r) => r.learn);
  }

  /** The component a person labels for: the first learnt from a person. */
  get target(): RewardSpec | null {
    return this.learnt.find((r) => r.learn!.from === 'person') ?? null;
  }

  get labels(): LabelRecord[] {
    const t = this.target;
    return t ? this.host.experiment.labels.filter((l) => l.reward === t.name) : [];
  }

  get agreement(): { agreed: number; repeats: number } | null {
    return selfAgreement(this.labels);
  }

  /** Labels made since the target's last fit. */
  get unfitted(): number {
    const t = this.target;
    const last = t ? this.latest(t.name) : null;
    return this.labels.length - (last?.pairs ?? 0);
  }

  latest(name: string): FitReport | null {
    return [...this.reports].reverse().find((r) => r.name === name) ?? null;
  }

  event(e: Extract<TrainerEvent, { type: 'rm' }>): void {
    if (e.report) {
      // A fit kept from before (sent again after a load) is shown once.
      const r = e.report;
      if (!this.reports.some((x) => x.name === r.name && x.at === r.at && x.pairs === r.pairs && x.ms === r.ms)) this.reports = [...this.reports, r];
      this.progress = null;
    } else if (e.stage === 'failed') this.progress = null;
    else this.progress = { name: e.name, stage: e.stage, fraction: e.fraction };
  }

  /**
   * The labels as `rewards` will hold them: a person's component renamed (the
   * only one that changed name) takes its labels along; labels of a component
   * no longer learnt from a person are dropped, and the page says so.
   */
  carry(rewards: readonly RewardSpec[]): LabelRecord[] {
    const person = (list: readonly RewardSpec[]) => list.filter((r) => r.learn?.from === 'person').map((r) => r.name);
    const [before, after] = [person(this.host.experiment.rewards), person(rewards)];
    const gone = before.filter((n) => !after.includes(n));
    const added = after.filter((n) => !before.includes(n));
    let labels = this.host.experiment.labels.map((l) => ({ ...l }));
    if (gone.length === 1 && added.length === 1) labels = labels.map((l) => (l.reward === gone[0] ? { ...l, reward: added[0] } : l));
    const dropped = labels.filter((l) => !after.includes(l.reward));
    if (dropped.length) this.host.notice = `${dropped.length} label${dropped.length === 1 ? '' : 's'} of ${[...new Set(dropped.map((l) => `"${l.reward}"`))].join(', ')} went with the component (no longer learnt from your labels). Export › Experiment before applying keeps them.`;
    return labels.filter((l) => after.includes(l.reward));
  }

  clear(): void {
    this.reports = [];
    this.progress = null;
    this.pair = null;
  }

  /** Shows the next pair: two different completions of the latest batch, or now and then an earlier pair again with its sides swapped. */
  next(): void {
    this.#shown++;
    const labels = this.labels;
    if (labels.length >= REPEAT_EVERY && this.#shown % REPEAT_EVERY === 0) {
      const l = labels[Math.floor(Math.random() * labels.length)];
      this.pair = { pa: l.pb, a: l.b, pb: l.pa, b: l.a, repeat: true };
      return;
    }
    const pool = this.host.samples.length >= 2 ? this.host.samples : this.host.reward.referenceSamples;
    if (pool.length < 2) {
      this.pair = null;
      return;
    }
    const i = Math.floor(Math.random() * pool.length);
    const others = pool.map((_, k) => k).filter((k) => k !== i && (pool[k].text !== pool[i].text || pool[k].prompt !== pool[i].prompt));
    const j = others.length ? others[Math.floor(Math.random() * others.length)] : (i + 1) % pool.length;
    const cut = (s: string) => s.slice(0, MAX_LABEL_TEXT);
    this.pair = { pa: cut(pool[i].prompt), a: cut(pool[i].text), pb: cut(pool[j].prompt), b: cut(pool[j].text), repeat: false };
  }

  /** The person's choice on the pair shown (1: the left, 0: the right, 0.5: a tie); the model retrains after every `learn.every` new labels. */
  async label(y: PreferenceLabel): Promise<void> {
    const t = this.target;
    const p = this.pair;
    if (!t || !p) return;
    const all = this.host.experiment.labels;
    if (all.length >= MAX_LABELS) {
      this.host.requestError = `An experiment keeps at most ${MAX_LABELS} labels: this one is full. Train the reward model on them, or start a new run.`;
      return;
    }
    this.host.experiment.labels = [...all, { reward: t.name, pa: p.pa, a: p.a, pb: p.pb, b: p.b, y, at: this.host.iteration }];
    this.next();
    const every = t.learn!.every;
    if (every > 0 && this.unfitted >= every && !this.fitting) await this.train();
  }

  /** Takes back the last label (a slip of the key). */
  undo(): void {
    const t = this.target;
    const all = this.host.experiment.labels;
    const i = t ? all.map((l) => l.reward).lastIndexOf(t.name) : -1;
    if (i >= 0) this.host.experiment.labels = all.filter((_, k) => k !== i);
  }

  /** Fits the reward models learnt from a person on their labels; training goes on with the new model from the next iteration (marked on the charts). */
  async train(): Promise<boolean> {
    const t = this.target;
    if (!t) return false;
    this.fitting = true;
    try {
      let labels: LabelRecord[] = [];
      const r = await this.send(() => (labels = $state.snapshot(this.host.experiment.labels) as LabelRecord[]));
      if (!r) return false;
      if (!r.ok) {
        this.host.requestError = `The reward model was not trained: ${r.message}`;
        return false;
      }
      if (r.value.length && this.host.iteration > 0) this.host.changes = [...this.host.changes, { iteration: this.host.iteration, kind: 'reward', label: `${t.name} retrained on ${labels.filter((l) => l.reward === t.name).length} labels` }];
      return true;
    } finally {
      this.fitting = false;
      this.progress = null;
    }
  }
}
