import * as Comlink from 'comlink';
import type { TrainerApi, TrainerEvent } from '../worker/trainerApi.ts';
import { trainerWorker } from './earlyWorker.ts';

/** The page's one way to the trainer worker. */
export interface TrainerClient {
  api: Comlink.Remote<TrainerApi>;
  /** Wraps an event handler so the worker can call it across the boundary. */
  listener(fn: (e: TrainerEvent) => void): (e: TrainerEvent) => void;
  /** Rejects once the worker is ended: every call races it, so none waits on a dead worker. */
  dead: Promise<never>;
  /** Ends the worker; calls in flight reject with `reason`. */
  terminate(reason: string): void;
}

export function createTrainerClient(onCrash: (message: string) => void): TrainerClient {
  const { worker, failed } = trainerWorker();
  worker.addEventListener('error', (e) => onCrash(`the trainer worker crashed: ${e.message || 'it could not start'}`));
  if (failed !== null) queueMicrotask(() => onCrash(`the trainer worker crashed: ${failed}`));
  worker.addEventListener('messageerror', () => onCrash('a message from the trainer worker could not be read'));
  let kill: (reason: Error) => void = () => {};
  const dead = new Promise<never>((_, reject) => (kill = reject));
  dead.catch(() => undefined); // only the races observe it
  return {
    api: Comlink.wrap<TrainerApi>(worker),
    listener: (fn) => Comlink.proxy(fn),
    dead,
    terminate: (reason) => {
      worker.terminate();
      kill(new Error(reason));
    },
  };
}
