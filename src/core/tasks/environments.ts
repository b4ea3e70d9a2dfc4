import type { Rng } from '../rng.ts';
import type { Sample, Transition } from '../reward/reward.ts';

export type { Transition };

/**
 * An environment for the control tasks: what a policy observes, the actions it
 * may take, and the dynamics. States are plain arrays of numbers, so the reward
 * code in the sandbox sees them as they are. Pure and seeded: the same random
 * stream gives the same episodes.
 */
export interface Environment {
  /** What each entry of a state is, e.g. ['x', 'x_dot', 'theta', 'theta_dot']. */
  readonly observation: readonly string[];
  /** One name per action, e.g. ['push left', 'push right']. */
  readonly actions: readonly string[];
  /** Episodes end (truncated) after this many steps. */
  readonly maxSteps: number;
  /** A fresh episode's first state. */
  reset(rng: Rng): number[];
  /** One step: the next state, and whether the episode failed there (terminated). */
  step(state: readonly number[], action: number): { state: number[]; terminated: boolean };
}


/**
 * A few transitions of random play from fresh episodes (seeded): what a
 * control task's reward is checked on before it is applied, as a language
 * task's is checked on reference samples.
 */
export function exampleTransitions(env: Environment, count: number, rng: Rng): Transition[] {
  const out: Transition[] = [];
  let state = env.reset(rng);
  let t = 0;
  while (out.length < count) {
    const action = rng.int(env.actions.length);
    const { state: nextState, terminated } = env.step(state, action);
    const done = terminated || t + 1 >= env.maxSteps;
    out.push({ state, action, nextState, done, terminated, t });
    if (done) {
      state = env.reset(rng);
      t = 0;
    } else {
      state = nextState;
      t++;
    }
  }
  return out;
}

/**
 * What a control task's reward sees of one transition: the same in training
 * (training/control.ts) and in the check before Apply. `alphabet` holds one
 * symbol per action: the sample's text is the action's symbol.
 */
export function transitionSample(alphabet: string, transition: Transition, index: number): Sample & { transition: Transition } {
  return { text: alphabet[transition.action] ?? String(transition.action), tokens: [transition.action], prompt: '', index, transition };
}
