import { describe, expect, it } from 'vitest';
import { defaultExperiment } from '../../src/core/experiment/experiment.ts';
import { readExperimentFile, runFile } from '../../src/core/experiment/runFile.ts';

const experiment = defaultExperiment('names', 'mlp', 'ppo');
const row = (iteration: number, extra: Record<string, unknown> = {}) => ({ iteration, rewardMean: 1, kl: 0.1, rewardComponents: { length: 1 }, alarms: [], ...extra });

describe('run files', () => {
  it('read back what was written, and NaN metrics that JSON wrote as null', () => {
    const text = JSON.stringify(runFile('a run', experiment, [row(1), row(2, { rewardMean: NaN, runaway: true })] as never));
    const read = readExperimentFile(text);
    expect(read.name).toBe('a run');
    expect(read.metrics).toEqual([row(1), row(2, { rewardMean: null, runaway: true })]);
  });

  it('drop fields a metric row does not have, however deep: nothing a save could choke on gets in', () => {
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = { x: deep };
    // JSON.stringify would overflow the stack on this: write the text by hand.
    const text = `{"format":"rlcf-run","name":"deep","exportedAt":"now","experiment":${JSON.stringify(experiment)},"metrics":[{"iteration":1,"rewardMean":1,"kl":0,"extra":${'{"x":'.repeat(100_000)}0${'}'.repeat(100_000)}}]}`;
    const read = readExperimentFile(text);
    expect(read.metrics[0]).toEqual({ iteration: 1, rewardMean: 1, kl: 0, rewardComponents: {}, alarms: [] });
    expect(() => structuredClone(read.metrics)).not.toThrow();
  });

  it('refuse fields of the wrong type or size, naming them', () => {
    const bad = (m: Record<string, unknown>) => () => readExperimentFile(JSON.stringify(runFile('r', experiment, [m] as never)));
    expect(bad(row(1, { kl: 'high' }))).toThrow(/run file: metrics\[0\]\.kl must be a number/);
    expect(bad(row(1, { alarms: ['x'.repeat(3000)] }))).toThrow(/run file: metrics\[0\]\.alarms\[0\] must be at most 2000 characters/);
    expect(bad(row(1, { rewardComponents: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`c${i}`, 1])) }))).toThrow(/more than 64 components/);
  });
});
