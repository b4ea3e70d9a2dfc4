// Node entry points (scripts, tests) share this: tfjs with the wasm or cpu backend.
import * as tf from '../src/core/tf.ts';
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { useBackend, type BackendName } from '../src/core/backend/backend.ts';
import { hasRelaxedSimd, useHeapThread } from '../src/core/ops/kernels/wasmKernels.ts';
import { serveHeap } from '../src/core/ops/kernels/heapHelper.ts';
import type { HeapHelperInit } from '../src/core/ops/kernels/heapThread.ts';

const require = createRequire(import.meta.url);
const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;

/**
 * tfjs on `name`. On wasm, with two or more cores, the backend's memory is
 * shared and a second thread takes half of the large kernels (heapThread.ts)
 * unless `threads` is false.
 */
export async function initNodeBackend(name: BackendName = 'wasm', { threads = true }: { threads?: boolean } = {}): Promise<void> {
  if (name !== 'wasm' && name !== 'cpu') throw new Error(`--backend ${name} is not available in Node (use wasm or cpu)`);
  // tfjs-core's gradients and chained ops: in Node, the union package registers them (its ESM
  // files cannot be imported one by one here, as the worker does), along with the cpu backend.
  await import('@tensorflow/tfjs');
  if (name === 'wasm') {
    const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
    setWasmPaths(wasmDir);
    // Threads bring nothing on small models and hang in some bundles.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    // Relaxed SIMD (the products' fused multiply-adds) ships on by default in Chrome and Node 22;
    // Node 20 has it behind a flag, which takes effect for modules compiled after it is set.
    if (!hasRelaxedSimd()) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  }
  const twoThreads = name === 'wasm' && threads && os.availableParallelism() >= 2;
  await useBackend(name, { sharedHeap: twoThreads });
  if (twoThreads) useHeapThread(startNodeHelper);
}

/** heapHelper.ts's serveHeap on a worker thread that does not keep the process alive. */
export function startNodeHelper(init: HeapHelperInit): { terminate(): void } {
  const source = `require('node:worker_threads').parentPort.once('message', (init) => (${serveHeap.toString()})(init));`;
  const worker = new Worker(source, { eval: true });
  worker.unref();
  worker.postMessage(init);
  return { terminate: () => void worker.terminate() };
}
