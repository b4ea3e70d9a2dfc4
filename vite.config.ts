import { defineConfig, type Plugin } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * What the page and its workers may do. Only our own origin, for scripts,
 * workers, fetches (models, wasm) and images; no eval anywhere. WebAssembly
 * (the tfjs wasm backend, the QuickJS reward sandbox) needs 'wasm-unsafe-eval'.
 * Inline styles stay allowed: CodeMirror and uPlot set them, and a style runs no code.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

/** The policy as a meta tag in the built page (any static host serves it), and as a header from vite preview (which also covers the workers). */
function contentSecurityPolicy(): Plugin {
  return {
    name: 'content-security-policy',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CSP }, injectTo: 'head-prepend' }],
  };
}

/**
 * The service worker (src/offline/serviceWorker.js) as /sw.js, with the list of
 * every file the build wrote (public files included) to save on first visit,
 * and a cache name that is a hash of that list and the files' sizes.
 */
function offlineCopy(): Plugin {
  let publicDir = '';
  return {
    name: 'offline-copy',
    apply: 'build',
    configResolved(config) {
      publicDir = config.publicDir;
    },
    generateBundle(_options, bundle) {
      const files = ['./', './index.html'];
      const sizes: string[] = [];
      const walk = (dir: string, prefix: string) => {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          if (entry.isDirectory()) walk(path.join(dir, entry.name), `${prefix}${entry.name}/`);
          else {
            files.push(`./${prefix}${entry.name}`);
            sizes.push(`${prefix}${entry.name}:${statSync(path.join(dir, entry.name)).size}`);
          }
        }
      };
      if (publicDir && existsSync(publicDir)) walk(publicDir, '');
      for (const [name, item] of Object.entries(bundle)) {
        if (name === 'index.html') continue;
        files.push(`./${name}`);
        sizes.push(`${name}:${item.type === 'chunk' ? item.code.length : item.source.length}`);
      }
      const hash = createHash('sha256').update(sizes.sort().join('\n')).digest('hex').slice(0, 12);
      const source = readFileSync('src/offline/serviceWorker.js', 'utf8').replace('__CACHE_NAME__', `rlcf-${hash}`).replace('__PRECACHE_FILES__', JSON.stringify(files, null, 2));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

export default defineConfig({
  plugins: [svelte(), contentSecurityPolicy(), offlineCopy()],
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
  preview: { port: 4173, strictPort: true, headers: { 'Content-Security-Policy': CSP } },
  test: {
    include: ['tests/unit/**/*.test.ts'],
    setupFiles: ['tests/unit/setup.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // tfjs keeps one global engine: run test files one at a time in one process per file.
    fileParallelism: false,
  },
});
