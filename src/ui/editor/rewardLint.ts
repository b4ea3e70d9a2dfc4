import { parse, type Node } from 'acorn';

/** A problem in reward code, with its 1-based line and 0-based column and its character offset. */
export interface RewardProblem {
  message: string;
  line: number;
  column: number;
  offset: number;
}

/**
 * Checks reward code before it is sent anywhere: it must parse, and it must
 * declare `reward` at the top level. Returns the problems found (none: fine).
 */
export function lintReward(source: string): RewardProblem[] {
  let program: Node & { body: Node[] };
  try {
    program = parse(source, { ecmaVersion: 'latest', sourceType: 'script', locations: true }) as typeof program;
  } catch (e) {
    const err = e as SyntaxError & { loc?: { line: number; column: number }; pos?: number };
    const message = err.message.replace(/\s*\(\d+:\d+\)$/, '');
    return [{ message: `Syntax error: ${message}`, line: err.loc?.line ?? 1, column: err.loc?.column ?? 0, offset: err.pos ?? 0 }];
  }
  const declaresReward = program.body.some((n) => {
    const node = n as Node & { id?: { name?: string }; declarations?: { id: { name?: string } }[] };
    if (node.type === 'FunctionDeclaration') return node.id?.name === 'reward';
    if (node.type === 'VariableDeclaration') return node.declarations!.some((d) => d.id.name === 'reward');
    return false;
  });
  if (!declaresReward) {
    return [{ message: 'The code declares no reward function: write function reward(sample, ctx) { ... } returning a number.', line: 1, column: 0, offset: 0 }];
  }
  return [];
}
