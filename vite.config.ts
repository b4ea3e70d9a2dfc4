import { defineConfig, type Plugin } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import path from 'node:path';
import { writeServiceWorker } from './scripts/offlineCopy.ts';

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
 * The service worker as /sw.js, written once the build is on disk: the list of
 * every file the build wrote (public files included) to save on first visit, and
 * a cache name that is a hash of their content (scripts/offlineCopy.ts).
 */
function offlineCopy(): Plugin {
  let outDir = '';
  return {
    name: 'offline-copy',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      writeServiceWorker(outDir);
    },
  };
}

/**
 * KaTeX's fonts as woff2 only (every browser that runs this page reads it): its
 * stylesheet also lists woff and ttf copies, which would double what the build
 * writes and the offline copy saves. Fonts stay files, never data: URLs (the
 * policy allows fonts from our origin only).
 */
function katexFonts(): Plugin {
  return {
    name: 'katex-woff2-only',
    enforce: 'pre',
    transform(code, id) {
      if (!/katex(\.min)?\.css$/.test(id.split('?')[0])) return null;
      return { code: code.replace(/,\s*url\([^)]*\.woff\) format\("woff"\)|,\s*url\([^)]*\.ttf\) format\("truetype"\)/g, ''), map: null };
    },
  };
}

export default defineConfig({
  plugins: [svelte(), contentSecurityPolicy(), offlineCopy(), katexFonts()],
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000, assetsInlineLimit: (file) => (/\.(woff2?|ttf)$/.test(file) ? false : undefined) },
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
