import { Rng } from '../rng.ts';
import type { FieldValue, Task } from './task.ts';
import { parseExpression } from './expression.ts';
import { reward } from './rewardSource.ts';

/**
 * Unit tests (programs that pass their tests): a prompt shows three cases of a
 * small integer function, "f(1)=3 f(2)=5 f(5)=11 ->", and the policy writes an
 * expression in x ("2*x+1"). The task runs the expression on the shown cases
 * and on three hidden ones; the reward reads how many passed. Hidden cases the
 * reward never sees reveal a policy that fits the shown ones only.
 */

/** A function of the family the policy learns to write, as canonical source and as a function. */
interface Target {
  source: string;
  f: (x: number) => number;
}

export interface Problem {
  prompt: string;
  shown: readonly [number, number][];
  hidden: readonly [number, number][];
}

const SHOWN = 3;
const HIDDEN = 3;

/** A random function of the family: linear, quadratic and factored forms with small whole numbers. */
function target(rng: Rng): Target {
  const a = 1 + rng.int(5);
  const b = 1 + rng.int(9);
  const times = (k: number) => (k === 1 ? 'x' : `${k}*x`);
  switch (rng.int(5)) {
    case 0:
      return { source: `${times(a)}+${b}`, f: (x) => a * x + b };
    case 1:
      return { source: `${times(a)}-${b}`, f: (x) => a * x - b };
    case 2:
      return { source: `x*x+${b}`, f: (x) => x * x + b };
    case 3:
      return { source: `${a}*(x+${b})`, f: (x) => a * (x + b) };
    default:
      return { source: `x*x+${times(a)}`, f: (x) => x * x + a * x };
  }
}

/** A problem: shown and hidden cases at distinct x from 0 to 9, in the order drawn. */
export function problem(rng: Rng): Problem & { answer: string } {
  const t = target(rng);
  const xs = rng.permutation(10).slice(0, SHOWN + HIDDEN);
  const cases = xs.map((x): [number, number] => [x, t.f(x)]);
  const shown = cases.slice(0, SHOWN);
  return { prompt: `${shown.map(([x, y]) => `f(${x})=${y}`).join(' ')} ->`, shown, hidden: cases.slice(SHOWN), answer: t.source };
}

/** The problems RL trains on: fixed by one seed, so every run and every page draws from the same set. */
export const PROBLEMS: readonly Problem[] = (() => {
  const rng = new Rng(2024);
  const seen = new Set<string>();
  const out: Problem[] = [];
  while (out.length < 64) {
    const p = problem(rng);
    if (seen.has(p.prompt)) continue;
    seen.add(p.prompt);
    out.push({ prompt: p.prompt, shown: p.shown, hidden: p.hidden });
  }
  return out;
})();
const BY_PROMPT = new Map(PROBLEMS.map((p) => [p.prompt, p]));

/** Reads the shown cases back out of a prompt (the test bench may hold any prompt of this form). */
function shownCases(prompt: string): [number, number][] {
  return [...prompt.matchAll(/f\((-?\d+)\)=(-?\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

/** What the reward sees: whether the expression parses, and each case it passes or fails. */
export function testFields(text: string, prompt: string): Record<string, FieldValue> {
  const known = BY_PROMPT.get(prompt);
  const shown = known?.shown ?? shownCases(prompt);
  const hidden = known?.hidden ?? [];
  let f: ((x: number) => number) | null = null;
  let error: string | null = null;
  try {
    f = parseExpression(text);
  } catch (e) {
    error = (e as Error).message;
  }
  const run = ([x, want]: readonly [number, number], isHidden: boolean) => {
    let got: number | null = null;
    try {
      got = f ? f(x) : null;
    } catch {
      got = null;
    }
    return { x, want, got, ok: got === want, hidden: isHidden };
  };
  const cases = [...shown.map((c) => run(c, false)), ...hidden.map((c) => run(c, true))];
  const passed = cases.filter((c) => !c.hidden && c.ok).length;
  const hiddenPassed = cases.filter((c) => c.hidden && c.ok).length;
  return { valid: f !== null, error, passed, total: shown.length, hiddenPassed, hiddenTotal: hidden.length, cases };
}

export const unitTests: Task = {
  id: 'unittests',
  title: 'Unit tests (tiny programs)',
  description: 'A policy writes an expression in x for three shown cases of a function; the tests it passes are the reward.',
  alphabet: '0123456789x+-*() f=>',
  prompts: PROBLEMS.map((p) => p.prompt),
  models: { mlp: 'unittests-mlp', transformer: 'unittests-transformer' },
  examples: {
    passRate: {
      title: 'Share of shown tests passed',
      source: reward(
        '// The share of the three shown cases the expression gets right: 0, 1/3, 2/3 or 1.',
        "// An expression that does not parse passes none. sample.fields.cases has every case",
        '// (hidden ones too, marked hidden: true); the reward here never looks at those.',
        'return sample.fields.passed / sample.fields.total;',
      ),
    },
    allOrNothing: {
      title: 'All shown tests, or nothing',
      source: reward('// 1 only when every shown case passes: a sparser signal, closer to "the tests are green".', 'return sample.fields.passed === sample.fields.total ? 1 : 0;'),
    },
    shortAndRight: {
      title: 'Right and short',
      source: reward(
        '// Tests passed, minus a little for every character: among expressions that pass,',
        '// the shortest wins (and "x*x+2" beats "x*x+1+1").',
        'return sample.fields.passed / sample.fields.total - 0.02 * sample.text.length;',
      ),
    },
  },
  // The reference already writes an answer almost surely (0.16 nats per token): at 1e-3 the first update
  // moved it 0.76 nats (approx. KL) and the pass rate fell from 0.64 to 0.25; at 1e-4 it rises.
  // Measured, as for the protocol: GRPO and RLOO see 8 problems in a batch of 64, and there
  // the pass rate fell on 3 of 10 seeds (0.68 -> 0.62, 0.70 -> 0.68, 0.69 -> 0.66); at 128 the
  // same seeds rose (GRPO 0.67 -> 0.79, RLOO 0.69 -> 0.89 and 0.73 -> 0.87).
  hyperparameters: { maxLength: 12, learningRate: 1e-4, batchSize: 128 },
  benchText: '2*x+1',
  explanation: {
    writes: 'An expression in x (digits, x, + - * and parentheses) after a prompt that shows three cases of a small integer function, e.g. "f(1)=3 f(2)=5 f(5)=11 ->2*x+1".',
    reward: 'Each expression is parsed (jsep) and run on the shown cases and three hidden ones by an evaluator that knows only numbers, x and + - *; the reward reads how many passed.',
    why: 'Code that passes unit tests is the classic computed reward: no one grades the program, the tests do. Hidden tests show whether the policy learnt the function or only the shown cases.',
    try: 'Train "Share of shown tests passed" and watch hidden tests in the samples: do they pass as often as the shown ones? Then try "All shown tests, or nothing" and compare how fast it learns.',
  },
  fields: {
    docs: {
      valid: 'whether the expression parses in the tiny language',
      error: 'why it does not (null when it does)',
      passed: 'shown cases it gets right',
      total: 'shown cases (3)',
      hiddenPassed: 'hidden cases it gets right (not in the prompt)',
      hiddenTotal: 'hidden cases (3 for the training problems, 0 for a prompt typed on the test bench)',
      cases: 'every case as { x, want, got, ok, hidden }',
    },
    compute: testFields,
  },
  pretraining: {
    // Generated problems with their answers, one line each: the prompt, then the expression.
    data: {
      kind: 'generated',
      count: 20_000,
      generate: (rng) => {
        const p = problem(rng);
        return `${p.prompt}${p.answer}`;
      },
    },
    recipes: {
      // The whole prompt is 20-30 symbols: a window of 8 would see only the last case.
      mlp: { steps: 3000, batchSize: 64, learningRate: 3e-3, window: 32 },
      transformer: { steps: 3000, batchSize: 32, learningRate: 2e-3 },
    },
  },
};
