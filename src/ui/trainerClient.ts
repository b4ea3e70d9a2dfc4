import * as Comlink from 'comlink';
import type { TrainerApi, TrainerEvent } from '../worker/protocol.ts';

/** The page's one way to the trainer worker. */
export interface TrainerClient {
  api: Comlink.Remote<TrainerApi>;
  /** Wraps an event handler so the worker can call it across the boundary. */
  listener(fn: (e: TrainerEvent) => void): (e: TrainerEvent) => void;
  terminate(): void;
}

export function createTrainerClient(onCrash: (message: string) => void): TrainerClient {
  const worker = new Worker(new URL('../worker/trainer.worker.ts', import.meta.url), { type: 'module', name: 'trainer' });
  worker.addEventListener('error', (e) => onCrash(`the trainer worker crashed: ${e.message || 'it could not start'}`));
  worker.addEventListener('messageerror', () => onCrash('a message from the trainer worker could not be read'));
  return {
    api: Comlink.wrap<TrainerApi>(worker),
    listener: (fn) => Comlink.proxy(fn),
    terminate: () => worker.terminate(),
  };
}
