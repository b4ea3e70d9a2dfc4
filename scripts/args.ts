import { readFileSync } from 'node:fs';
import { HYPERPARAMETER_NAMES, HYPERPARAMETERS, type HyperparameterName, type Hyperparameters } from '../src/core/hyperparameters.ts';

/**
 * What an option takes: text, any finite number, a whole number (0 or more), a
 * count (a whole number, 1 or more), or nothing (a flag).
 */
export type OptionKind = 'string' | 'number' | 'int' | 'count' | 'boolean';

/**
 * `--name value`, `--name=value` and `--flag` parsing for the Node entry points.
 * Unknown options, a missing value, a flag where a value belongs (`--experiment
 * --quiet`) and values of the wrong kind are errors naming the option and the value.
 */
export function parseArgs(argv: readonly string[], known: Record<string, OptionKind>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${printable(a)}`);
    const [name, inline] = a.slice(2).split(/=(.*)/s, 2);
    const kind = known[name];
    if (!kind) throw new Error(`unknown option --${printable(name, false)} (known: ${Object.keys(known).map((k) => '--' + k).join(' ')})`);
    if (kind === 'boolean') {
      if (inline !== undefined) throw new Error(`--${name} takes no value, got ${printable(inline)}`);
      out[name] = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined || (value.startsWith('--') && value.length > 2)) throw new Error(`--${name} needs a value${value === undefined ? '' : `, got the option ${printable(value, false)}`}`);
      i++;
    }
    out[name] = kind === 'string' ? value : optionNumber(`--${name}`, value, kind);
  }
  return out;
}

/** A number option's value, checked for its kind. */
export function optionNumber(what: string, value: string, kind: Exclude<OptionKind, 'string' | 'boolean'>): number {
  if (value.trim() === '') throw new Error(`${what} needs a value`);
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`${what} must be a number, got ${printable(value)}`);
  if (kind === 'number') return n;
  if (!Number.isInteger(n)) throw new Error(`${what} must be a whole number, got ${printable(value)}`);
  if (kind === 'count' && n < 1) throw new Error(`${what} must be 1 or more, got ${n}`);
  if (kind === 'int' && n < 0) throw new Error(`${what} must be 0 or more, got ${n}`);
  return n;
}

/** Text fit for a terminal: quoted (unless told not to), control characters escaped, long text cut. */
export function printable(text: string, quote = true, max = 80): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  const safe = cut.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return quote ? `"${safe.replace(/"/g, '\\"')}"` : safe;
}

/** Runs an async main, printing only the message of an expected error (control characters escaped). */
export function runMain(main: () => Promise<void>): void {
  main().catch((e: unknown) => {
    // The whole reason (a value quoted inside it was cut where it was quoted), control characters escaped.
    console.error(`error: ${printable(e instanceof Error ? e.message : String(e), false, 2000)}`);
    process.exit(1);
  });
}

/** Pulls `--set name=value` pairs out of argv (in place). */
export function extractSets(argv: string[]): Partial<Hyperparameters> {
  const out: Record<string, number | boolean | string> = {};
  for (let i = argv.indexOf('--set'); i !== -1; i = argv.indexOf('--set')) {
    const pair = argv[i + 1] ?? '';
    const [name, value] = pair.split('=');
    if (!HYPERPARAMETER_NAMES.includes(name as keyof Hyperparameters) || value === undefined) {
      throw new Error(`--set needs name=value with a known hyperparameter, got ${printable(pair)}`);
    }
    // The table says what a value is: an enum's option stays a string, a flag is true or false, a number is read as one.
    const kind = HYPERPARAMETERS[name as HyperparameterName].kind;
    if (kind === 'bool' && value !== 'true' && value !== 'false') throw new Error(`--set ${name} must be true or false, got ${printable(value)}`);
    out[name] = kind === 'enum' ? value : kind === 'bool' ? value === 'true' : optionNumber(`--set ${name}`, value, 'number');
    argv.splice(i, 2);
  }
  return out;
}

/** A file an option names, as text; a file that cannot be read is an error naming the option, the file and why. */
export function readOptionFile(option: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${option}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
