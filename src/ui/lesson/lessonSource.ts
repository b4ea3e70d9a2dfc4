import rollout from '../../core/training/rollout.ts?raw';
import trainer from '../../core/training/trainer.ts?raw';
import ppo from '../../core/algorithms/ppo.ts?raw';
import grpo from '../../core/algorithms/grpo.ts?raw';
import rloo from '../../core/algorithms/rloo.ts?raw';
import minibatch from '../../core/algorithms/minibatch.ts?raw';
import control from '../../core/training/control.ts?raw';

/** The engine's own source files a lesson quotes, as built: the lines shown are the lines that ran. */
export const SOURCES = {
  'rollout.ts': { path: 'src/core/training/rollout.ts', text: rollout },
  'trainer.ts': { path: 'src/core/training/trainer.ts', text: trainer },
  'ppo.ts': { path: 'src/core/algorithms/ppo.ts', text: ppo },
  'grpo.ts': { path: 'src/core/algorithms/grpo.ts', text: grpo },
  'rloo.ts': { path: 'src/core/algorithms/rloo.ts', text: rloo },
  'minibatch.ts': { path: 'src/core/algorithms/minibatch.ts', text: minibatch },
  'control.ts': { path: 'src/core/training/control.ts', text: control },
} as const;
export type SourceFile = keyof typeof SOURCES;

/** Lines of a source, numbered from 1: from the line holding `from` to the line holding `to`, or to the end of the block that line opens. */
export function excerpt(text: string, from: string, to?: string): { first: number; lines: string[] } {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.includes(from));
  if (start < 0) throw new Error(`the source has no line with "${from}"`);
  let end = start;
  if (to !== undefined) {
    end = lines.findIndex((l, i) => i >= start && l.includes(to));
    if (end < 0) throw new Error(`the source has no line with "${to}" after "${from}"`);
  } else {
    // To the line that closes the block the first line opens (braces outside strings and comments are enough here).
    let depth = 0;
    let opened = false;
    for (end = start; end < lines.length; end++) {
      const code = lines[end].replace(/\/\/.*$/, '').replace(/'(?:\\.|[^'])*'|`(?:\\.|[^`])*`|"(?:\\.|[^"])*"/g, '');
      for (const ch of code) {
        if (ch === '{') (depth++, (opened = true));
        else if (ch === '}') depth--;
      }
      if (opened && depth <= 0) break;
    }
  }
  return { first: start + 1, lines: lines.slice(start, end + 1) };
}

export type Piece = { kind: 'plain' | 'keyword' | 'comment' | 'string' | 'number'; text: string };

const KEYWORDS = new Set(['const', 'let', 'for', 'if', 'else', 'return', 'export', 'function', 'async', 'await', 'new', 'of', 'in', 'typeof', 'while', 'break', 'throw', 'try', 'catch']);

/** A line of TypeScript in pieces to colour: comments, strings, numbers and keywords. */
export function highlight(line: string): Piece[] {
  const out: Piece[] = [];
  const re = /(\/\/.*$|\/\*.*?\*\/)|('(?:\\.|[^'])*'|`(?:\\.|[^`])*`|"(?:\\.|[^"])*")|(\b\d+(?:\.\d+)?(?:e-?\d+)?\b)|(\b[a-zA-Z_]\w*\b)/g;
  let last = 0;
  for (const m of line.matchAll(re)) {
    const at = m.index ?? 0;
    if (at > last) out.push({ kind: 'plain', text: line.slice(last, at) });
    const kind: Piece['kind'] = m[1] ? 'comment' : m[2] ? 'string' : m[3] ? 'number' : KEYWORDS.has(m[4]) ? 'keyword' : 'plain';
    out.push({ kind, text: m[0] });
    last = at + m[0].length;
  }
  if (last < line.length) out.push({ kind: 'plain', text: line.slice(last) });
  return out;
}
