import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The shape of the source tree, checked: no import cycle anywhere under src/
// (type-only imports count), folders import downward only, and no source file
// grows past MAX_LINES (one that does holds several jobs: split it by job).

const SRC = resolve('src');
const MAX_LINES = 400;

/**
 * The layers, bottom first: a file may import its own folder and any folder
 * below. The top-level files of src/core (tf.ts, rng.ts, hyperparameters.ts) are
 * the base every folder may use. ops/kernels counts apart from ops.
 */
const LAYERS = [
  'core',
  'core/ops/kernels',
  'core/ops',
  'core/backend',
  'core/policy',
  'core/reward',
  'core/algorithms',
  'core/tasks',
  'core/training',
  'core/experiment',
  'storage',
  'worker',
  'ui',
  '',
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.(ts|svelte)$/.test(f) ? [p] : [];
  });
}

const IMPORT = /(?:^|[;\s])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every source file and the source files it imports (relative imports; type-only and dynamic ones included). */
export function importGraph(): Map<string, string[]> {
  const files = sourceFiles(SRC);
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const deps = new Set<string>();
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(f), spec.replace(/\?.*$/, ''));
      if (known.has(target)) deps.add(target);
    }
    graph.set(f, [...deps]);
  }
  return graph;
}

/** Every cycle, as the files around it (Tarjan's strongly connected components, then one path around each). */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)!.includes(v)) found.push(pathAround(graph, new Set(component)));
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** A path from a file of a strongly connected component back to itself, staying inside it. */
function pathAround(graph: Map<string, string[]>, component: Set<string>): string[] {
  const start = [...component].sort()[0];
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!component.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(previous.get(path[0])!);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...component];
}

function layerOf(file: string): number {
  const rel = relative(SRC, file).split('/').slice(0, -1).join('/');
  // The deepest listed folder that holds the file.
  let best = -1;
  for (const [i, layer] of LAYERS.entries()) if ((rel === layer || rel.startsWith(`${layer}/`) || layer === '') && (best < 0 || layer.length > LAYERS[best].length)) best = i;
  return best;
}

const name = (f: string) => relative(SRC, f);

describe('the source tree', () => {
  const graph = importGraph();

  it('reads the imports it checks', () => {
    expect(graph.size).toBeGreaterThan(100);
    const trainer = [...graph.keys()].find((f) => f.endsWith('core/training/trainer.ts'))!;
    expect(graph.get(trainer)!.map(name)).toContain('core/policy/sampler.ts');
  });

  it('has no import cycle', () => {
    const found = cycles(graph).map((c) => c.map(name).join(' -> '));
    expect(found, `import cycles:\n${found.join('\n')}`).toEqual([]);
  });

  it('imports downward only: each folder from itself and the folders below it', () => {
    const upward: string[] = [];
    for (const [file, deps] of graph) {
      const from = layerOf(file);
      for (const dep of deps) {
        const to = layerOf(dep);
        if (to > from) upward.push(`${name(file)} -> ${name(dep)} (${LAYERS[from] || 'src'} imports ${LAYERS[to] || 'src'})`);
      }
    }
    expect(upward, `upward imports:\n${upward.join('\n')}`).toEqual([]);
  });

  it(`keeps every source file under ${MAX_LINES} lines`, () => {
    const long = [...graph.keys()].map((f) => ({ file: name(f), lines: readFileSync(f, 'utf8').split('\n').length })).filter((f) => f.lines > MAX_LINES);
    expect(long, long.map((f) => `${f.file}: ${f.lines} lines`).join('\n')).toEqual([]);
  });

  it('finds a cycle and an upward import when there is one', () => {
    const a = resolve(SRC, 'core/policy/a.ts');
    const b = resolve(SRC, 'core/policy/b.ts');
    const c = resolve(SRC, 'core/training/c.ts');
    const toy = new Map([
      [a, [b]],
      [b, [c]],
      [c, [a]],
    ]);
    expect(cycles(toy).map((x) => x.map(name))).toEqual([['core/policy/a.ts', 'core/policy/b.ts', 'core/training/c.ts', 'core/policy/a.ts']]);
    expect(layerOf(b) < layerOf(c)).toBe(true);
    expect(layerOf(resolve(SRC, 'core/ops/kernels/x.ts'))).toBe(LAYERS.indexOf('core/ops/kernels'));
    expect(layerOf(resolve(SRC, 'core/rng.ts'))).toBe(0);
  });
});
