// What the benchmarks share: the PyTorch peer's python, medians, and numbers as their tables print them.
import { execFileSync } from 'node:child_process';

/** A python3 that imports torch: the one on the path, else Debian's. */
export function findTorch(): string | null {
  for (const python of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
      return python;
    } catch {
      // not this one
    }
  }
  return null;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Milliseconds as a table shows them: one decimal below 10, none above. */
export function fmt(x: unknown): string {
  return (x as number).toFixed((x as number) < 10 ? 1 : 0);
}
