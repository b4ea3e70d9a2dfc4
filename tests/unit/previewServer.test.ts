import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startPreview } from '../../scripts/previewServer.ts';

// The browser benchmark's server: stopping it stops vite's server too, not only
// the npx that started it (which once left a server running after the command).

/** Processes whose command line holds `text` (pgrep -f), this test's own excepted. */
function processes(text: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', text], { encoding: 'utf8' }).trim().split('\n').filter((l) => l && !l.includes('pgrep'));
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('the preview server of the browser benchmark', () => {
  it('answers once started, and after stop nothing it started is left running or listening', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rlcf-preview-'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>preview</title>');
    const port = 4197;
    expect(processes(`preview --port ${port}`)).toEqual([]); // nothing left over from before: the port is this test's
    const server = await startPreview(port, dir);
    try {
      expect((await fetch(server.origin)).ok).toBe(true);
      expect(processes(`preview --port ${port}`).length).toBeGreaterThan(0);
    } finally {
      await server.stop();
    }
    await expect(fetch(server.origin)).rejects.toThrow();
    expect(processes(`preview --port ${port}`)).toEqual([]);
  }, 60_000);
});
