// Node entry points (scripts, tests) share this: tfjs with the wasm or cpu backend.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { useBackend, type BackendName } from '../src/core/backend.ts';

const require = createRequire(import.meta.url);
const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;

export async function initNodeBackend(name: BackendName = 'wasm'): Promise<void> {
  if (name !== 'wasm' && name !== 'cpu') throw new Error(`--backend ${name} is not available in Node (use wasm or cpu)`);
  if (name === 'wasm') {
    setWasmPaths(wasmDir);
    // Threads bring nothing on small models and hang in some bundles.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  }
  await useBackend(name);
}
