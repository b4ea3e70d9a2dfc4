import * as tf from '../tf.ts';

import type { BackendName } from './names.ts';
import { useTransposeFreeMatMulGradient } from '../ops/matmul.ts';
import { useWasmKernels } from '../ops/kernels/wasmKernels.ts';
import { withSharedHeap } from '../ops/kernels/sharedHeap.ts';

export type { BackendName } from './names.ts';

/**
 * Switches tfjs to `name` and checks that it took: tf.setBackend returns false
 * (and tfjs quietly keeps another backend) when initialisation fails. The
 * backend's code must be loaded already (the worker's switchBackend, Node's
 * initNodeBackend do that). `sharedHeap`: the wasm backend starts on a shared
 * memory where shared memory exists (sharedHeap.ts), so a second thread can
 * share its products (useProductThread); it takes effect the first time the
 * backend starts.
 */
export async function useBackend(name: BackendName, { sharedHeap = false }: { sharedHeap?: boolean } = {}): Promise<void> {
  let ok = false;
  try {
    if (name === 'wasm' && sharedHeap) {
      await withSharedHeap(async () => {
        ok = await tf.setBackend(name);
      });
    } else ok = await tf.setBackend(name);
  } catch (e) {
    throw new Error(`backend ${name} failed to initialise: ${(e as Error).message}`);
  }
  await tf.ready();
  if (!ok || tf.getBackend() !== name) {
    throw new Error(`backend ${name} failed to initialise (tfjs is on ${tf.getBackend() ?? 'no backend'})`);
  }
  useTransposeFreeMatMulGradient();
  if (name === 'wasm') useWasmKernels();
}
