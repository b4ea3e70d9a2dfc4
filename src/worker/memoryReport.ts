import * as tf from '../core/tf.ts';

/** What the trainer worker holds in memory, for a soak run and for a look from the browser's console. */
export interface MemoryReport {
  backend: string;
  /** Live tensors and their bytes, as tfjs counts them. */
  tensors: number;
  tensorBytes: number;
  /** The wasm backend's memory (it grows, never shrinks); null on another backend. */
  wasmBytes: number | null;
  /** The worker's JavaScript heap where the engine tells it (Chromium); null elsewhere. */
  heapBytes: number | null;
}

export function memoryReport(): MemoryReport {
  const m = tf.memory();
  const backend = tf.getBackend() ?? 'none';
  const wasm = (tf.findBackend('wasm') as unknown as { wasm?: { asm?: { memory?: WebAssembly.Memory } } } | null)?.wasm?.asm?.memory;
  const heap = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize;
  return { backend, tensors: m.numTensors, tensorBytes: m.numBytes, wasmBytes: backend === 'wasm' && wasm ? wasm.buffer.byteLength : null, heapBytes: heap ?? null };
}
