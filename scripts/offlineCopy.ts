// The service worker of a build: src/offline/serviceWorker.js with the list of every
// file in the build directory and a cache name that is a hash of every file's content.
// The build writes it (vite.config.ts); a test that makes a second deploy from a first
// writes it again after changing files, as a new build would.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const SERVICE_WORKER = 'sw.js';

/** Writes `dir`/sw.js from the template for the files `dir` holds now; returns the cache name. */
export function writeServiceWorker(dir: string, template = readFileSync(path.join(import.meta.dirname, '../src/offline/serviceWorker.js'), 'utf8')): string {
  const files: string[] = [];
  const walk = (sub: string) => {
    for (const entry of readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const name = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(name);
      else if (name !== SERVICE_WORKER) files.push(name);
    }
  };
  walk('');
  files.sort();
  // Content, not names or sizes: a retrained model of the same size is a new version.
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${f}\0`).update(createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex')).update('\n');
  const cache = `rlcf-${hash.digest('hex').slice(0, 16)}`;
  const list = ['./', ...files.map((f) => `./${f}`)];
  writeFileSync(path.join(dir, SERVICE_WORKER), template.replace('__CACHE_NAME__', cache).replace('__PRECACHE_FILES__', JSON.stringify(list, null, 2)));
  return cache;
}
