import * as Comlink from 'comlink';
import type { FilesApi } from '../worker/filesApi.ts';

let remote: Comlink.Remote<FilesApi> | null = null;

/** The files worker (files.worker.ts), started the first time a file is read or a saved history is compared. */
export function filesWorker(): Comlink.Remote<FilesApi> {
  remote ??= Comlink.wrap<FilesApi>(new Worker(new URL('../worker/files.worker.ts', import.meta.url), { type: 'module', name: 'files' }));
  return remote;
}
