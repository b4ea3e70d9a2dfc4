import { describe, expect, it } from 'vitest';
import { parseArgs, printable } from '../../scripts/args.ts';

const known = { iterations: 'count', seed: 'int', lr: 'number', experiment: 'string', quiet: 'boolean' } as const;

describe('command-line options', () => {
  it('reads values in both spellings, and flags', () => {
    expect(parseArgs(['--iterations', '3', '--seed=0', '--lr', '-0.5', '--experiment', 'a.json', '--quiet'], known)).toEqual({ iterations: 3, seed: 0, lr: -0.5, experiment: 'a.json', quiet: true });
  });

  it('refuses what the option cannot take, naming the option and the value', () => {
    const bad: [string[], RegExp][] = [
      [['--iterations', '-5'], /--iterations must be 1 or more, got -5/],
      [['--iterations', '0'], /--iterations must be 1 or more, got 0/],
      [['--iterations', '1.5'], /--iterations must be a whole number, got "1.5"/],
      [['--seed', '-1'], /--seed must be 0 or more, got -1/],
      [['--lr='], /--lr needs a value/],
      [['--lr', 'abc'], /--lr must be a number, got "abc"/],
      [['--experiment', '--quiet'], /--experiment needs a value, got the option --quiet/],
      [['--experiment'], /--experiment needs a value$/],
      [['--quiet=yes'], /--quiet takes no value, got "yes"/],
      [['--colour', 'red'], /unknown option --colour/],
      [['stray'], /unexpected argument "stray"/],
    ];
    for (const [argv, message] of bad) expect(() => parseArgs(argv, known), argv.join(' ')).toThrow(message);
  });

  it('prints control characters escaped and long text cut', () => {
    expect(printable('a\u0000b\u001b[31m')).toBe('"a\\u0000b\\u001b[31m"');
    expect(printable('x'.repeat(100), false)).toBe(`${'x'.repeat(80)}…`);
  });
});
