// `vite preview` for the commands that open the built app in a browser (the
// browser benchmark). The server is spawned directly, as one node process (not
// through npx, whose exit left the server it started running), so stopping it
// stops the server itself; so does the command's own exit.
import { spawn } from 'node:child_process';
import path from 'node:path';

export interface PreviewServer {
  origin: string;
  /** Stops the server; resolves once its process has exited. */
  stop(): Promise<void>;
}

/** Serves the build (`outDir`, default dist) on `port` (strictly: a port in use is an error), resolved once it answers. */
export async function startPreview(port: number, outDir?: string): Promise<PreviewServer> {
  const origin = `http://localhost:${port}`;
  const vite = path.resolve('node_modules', 'vite', 'bin', 'vite.js');
  const child = spawn(process.execPath, [vite, 'preview', '--port', String(port), '--strictPort', ...(outDir ? ['--outDir', outDir] : [])], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Ctrl-C or an uncaught error in the command takes the server with it.
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  const stop = async () => {
    process.off('exit', onExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000); // a server that ignores SIGTERM is ended, not left behind
    await exited;
    clearTimeout(timer);
  };
  for (let i = 0; i < 150 && child.exitCode === null; i++) {
    try {
      if ((await fetch(origin)).ok) return { origin, stop };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const code = child.exitCode;
  await stop();
  throw new Error(`vite preview did not answer on ${origin}${code !== null ? ` (it exited with code ${code}: is the port in use?)` : ''}`);
}
