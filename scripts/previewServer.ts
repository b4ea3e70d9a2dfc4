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
  let failed: Error | null = null;
  child.once('error', (e) => (failed = e));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  // The command's exit, an uncaught error, Ctrl-C or a kill take the server with it.
  const onExit = () => child.kill('SIGKILL');
  const onSignal = (signal: NodeJS.Signals) => {
    child.kill('SIGKILL');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const stop = async () => {
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (failed) return;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000); // a server that ignores SIGTERM is ended, not left behind
    await exited;
    clearTimeout(timer);
  };
  for (let i = 0; i < 150 && child.exitCode === null && !failed; i++) {
    try {
      if ((await fetch(origin)).ok) return { origin, stop };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const code = child.exitCode;
  await stop();
  throw new Error(`vite preview did not answer on ${origin}${failed ? ` (it could not start: ${(failed as Error).message})` : code !== null ? ` (it exited with code ${code}: is the port in use?)` : ''}`);
}
