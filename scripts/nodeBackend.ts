// Node entry points (scripts, tests) share this: tfjs with the wasm or cpu backend.
import * as tf from '../src/core/tf.ts';
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import path from 'node:path';
import { useBackend, type BackendName } from '../src/core/backend/backend.ts';
import { hasRelaxedSimd } from '../src/core/ops/kernels/wasmKernels.ts';

const require = createRequire(import.meta.url);
const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;

export async function initNodeBackend(name: BackendName = 'wasm'): Promise<void> {
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
  await useBackend(name);
}
