import * as tf from '../tf.ts';

import type { BackendName } from './names.ts';
import { useTransposeFreeMatMulGradient } from '../ops/matmul.ts';
import { useWasmKernels } from '../ops/kernels/wasmKernels.ts';

export type { BackendName } from './names.ts';

/**
 * Switches tfjs to `name` and checks that it took: tf.setBackend returns false
 * (and tfjs quietly keeps another backend) when initialisation fails. The
 * backend's code must be loaded already (the worker's switchBackend, Node's
 * initNodeBackend do that).
 */
export async function useBackend(name: BackendName): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
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
