import jsep from 'jsep';

/**
 * The unit-test task's tiny language: integers, x, + - * (and unary -), and
 * parentheses. Expressions are parsed with jsep and evaluated by walking only
 * those node types; anything else (calls, members, other names or operators)
 * is refused. Nothing is ever handed to eval.
 */
export type Expression = (x: number) => number;

/** Results past this size are treated as a failure: no test here needs them, and they would lose precision. */
const LIMIT = 1e9;

/** Parses an expression; throws an Error saying what is not allowed. */
export function parseExpression(source: string): Expression {
  if (source.trim() === '') throw new Error('empty expression');
  let tree: jsep.Expression;
  try {
    tree = jsep(source);
  } catch (e) {
    throw new Error(`does not parse: ${(e as Error).message}`);
  }
  check(tree);
  return (x) => evaluate(tree, x);
}

function check(node: jsep.Expression): void {
  switch (node.type) {
    case 'Literal':
      if (typeof node.value !== 'number' || !Number.isInteger(node.value)) throw new Error(`only whole numbers are allowed, not ${String(node.raw)}`);
      return;
    case 'Identifier':
      if (node.name !== 'x') throw new Error(`the only name is x, not ${String(node.name)}`);
      return;
    case 'UnaryExpression':
      if (node.operator !== '-' && node.operator !== '+') throw new Error(`operator ${String(node.operator)} is not allowed`);
      return check(node.argument as jsep.Expression);
    case 'BinaryExpression':
      if (!['+', '-', '*'].includes(node.operator as string)) throw new Error(`operator ${String(node.operator)} is not allowed (only + - *)`);
      check(node.left as jsep.Expression);
      return check(node.right as jsep.Expression);
    default:
      throw new Error(`${node.type} is not allowed (only numbers, x, + - * and parentheses)`);
  }
}

function evaluate(node: jsep.Expression, x: number): number {
  let v: number;
  switch (node.type) {
    case 'Literal':
      return node.value as number;
    case 'Identifier':
      return x;
    case 'UnaryExpression':
      v = evaluate(node.argument as jsep.Expression, x);
      return node.operator === '-' ? -v : v;
    default: {
      const a = evaluate(node.left as jsep.Expression, x);
      const b = evaluate(node.right as jsep.Expression, x);
      v = node.operator === '+' ? a + b : node.operator === '-' ? a - b : a * b;
      if (Math.abs(v) > LIMIT) throw new Error(`a value grew past ${LIMIT}`);
      return v;
    }
  }
}
