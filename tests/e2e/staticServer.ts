import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2' };

/**
 * A plain static file server, as any static host serves a build (no Vite):
 * `root()` is read on every request (a test may swap builds), `base` is the
 * path the build lives under; anything outside it is answered 404 and
 * reported to `outside`.
 */
export async function serveStatic(port: number, root: () => string, base = '/', outside?: (url: string) => void): Promise<Server> {
  const server = createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    const file = url.startsWith(base) ? path.join(root(), url.slice(base.length).replace(/^$|\/$/, 'index.html')) : null;
    if (file === null) outside?.(url);
    try {
      const body = readFileSync(file ?? '');
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file!)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(port, resolve));
  return server;
}
