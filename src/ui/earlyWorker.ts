// Imported first by the page's entry: the trainer worker starts loading (its
// script, tfjs, the backend it will use) while the page's own modules are still
// evaluating, instead of after the page has mounted.

interface Started {
  worker: Worker;
  /** Why it failed, when it did before anyone listened. */
  failed: string | null;
}

let early: Started | null = typeof Worker === 'undefined' ? null : start();

function start(): Started {
  const worker = new Worker(new URL('../worker/trainer.worker.ts', import.meta.url), { type: 'module', name: 'trainer' });
  const started: Started = { worker, failed: null };
  worker.addEventListener('error', (e) => (started.failed ??= e.message || 'it could not start'), { once: true });
  return started;
}

/** The worker started at load the first time (a later call, after a restart, starts a fresh one). */
export function trainerWorker(): Started {
  const w = early ?? start();
  early = null;
  return w;
}
