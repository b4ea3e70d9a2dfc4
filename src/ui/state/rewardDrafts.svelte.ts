import { MAX_REWARDS, validateRewards } from '../../core/experiment/experiment.ts';
import type { LearnSpec, RewardSpec } from '../../core/reward/sandbox/types.ts';

const NEW_REWARD = '// A new component: its value times its weight adds to the total.\nfunction reward(sample, ctx) {\n  return 0;\n}\n';

/**
 * The reward components as the editor holds them: names, weights and code,
 * one of them selected for the editor. Applied or not; the session compares
 * them with the rewards in force.
 */
export class RewardDrafts {
  #list = $state.raw<RewardSpec[]>([]);
  selected = $state(0);

  constructor(initial: readonly RewardSpec[]) {
    this.reset(initial);
  }

  /** A copy of the components, safe to send or keep. */
  get list(): RewardSpec[] {
    return this.#list.map((s) => ({ ...s }));
  }

  get items(): readonly RewardSpec[] {
    return this.#list;
  }

  get current(): RewardSpec {
    return this.#list[this.selected] ?? this.#list[0];
  }

  reset(list: readonly RewardSpec[]): void {
    this.#list = list.map((s) => ({ ...s }));
    this.selected = 0;
  }

  /** Whether two lists hold the same components in the same order. */
  same(a: readonly RewardSpec[], b: readonly RewardSpec[] = this.#list): boolean {
    return a.length === b.length && a.every((s, i) => s.name === b[i].name && s.weight === b[i].weight && s.source === b[i].source && JSON.stringify(s.learn) === JSON.stringify(b[i].learn));
  }

  /** Makes component `i` learnt from preferences (its code, if a judge's, labels the pairs), or code again (undefined). */
  setLearn(i: number, learn: LearnSpec | undefined): void {
    this.#list = this.#list.map((s, j) => (j !== i ? s : learn ? { ...s, learn: { ...learn } } : { name: s.name, weight: s.weight, source: s.source }));
  }

  setSource(source: string): void {
    this.#update(this.selected, { source });
  }

  add(): void {
    if (this.#list.length >= MAX_REWARDS) return;
    let n = this.#list.length + 1;
    while (this.#list.some((s) => s.name === `reward${n}`)) n++;
    this.#list = [...this.#list, { name: `reward${n}`, weight: 1, source: NEW_REWARD }];
    this.selected = this.#list.length - 1;
  }

  remove(i: number): void {
    if (this.#list.length <= 1) return;
    this.#list = this.#list.filter((_, j) => j !== i);
    this.selected = Math.min(this.selected > i ? this.selected - 1 : this.selected, this.#list.length - 1);
  }

  move(i: number, delta: -1 | 1): void {
    const j = i + delta;
    if (j < 0 || j >= this.#list.length) return;
    const next = [...this.#list];
    [next[i], next[j]] = [next[j], next[i]];
    this.#list = next;
    if (this.selected === i) this.selected = j;
    else if (this.selected === j) this.selected = i;
  }

  select(i: number): void {
    if (i >= 0 && i < this.#list.length) this.selected = i;
  }

  rename(i: number, name: string): void {
    this.#update(i, { name });
  }

  setWeight(i: number, weight: number): void {
    this.#update(i, { weight });
  }

  /** What is wrong with the names or weights (duplicate, empty, out of range), or null. */
  problem(): string | null {
    try {
      validateRewards(this.#list);
      return null;
    } catch (e) {
      return (e as Error).message.replace(/^experiment: /, '');
    }
  }

  #update(i: number, change: Partial<RewardSpec>): void {
    this.#list = this.#list.map((s, j) => (j === i ? { ...s, ...change } : s));
  }
}
