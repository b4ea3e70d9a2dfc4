import * as tf from '../../tf.ts';

// How the kernels of ours (wasmKernels.ts) sit in tfjs's wasm backend: in front
// of its kernels, or beside them under names of their own.

/** What these kernels need of tfjs's wasm backend: its memory, and where each tensor lives in it. */
export interface WasmBackendLike {
  wasm: { asm?: { memory?: WebAssembly.Memory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  incRef(dataId: object): void;
  disposeData(dataId: object): void;
}

export type Inputs = Record<string, tf.TensorInfo>;
export type Run<P> = (wasm: WasmBackendLike, inputs: Inputs, plan: P, attrs: tf.NamedAttrMap) => tf.TensorInfo | tf.TensorInfo[];

/**
 * Puts `run` in front of a wasm kernel of tfjs's (the backend is set up
 * already) for the inputs `plan` accepts (anything but null); tfjs's kernel
 * takes the rest.
 */
export function overrideWhere<P>(config: tf.KernelConfig, plan: (inputs: Inputs, attrs: tf.NamedAttrMap) => P | null, run: Run<P>): void {
  const original = config.kernelFunc;
  tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel({
    ...config,
    setupFunc: undefined,
    kernelFunc: (args) => {
      const inputs = args.inputs as Inputs;
      const p = plan(inputs, args.attrs ?? {});
      return p === null ? original(args) : run(args.backend as unknown as WasmBackendLike, inputs, p, args.attrs ?? {});
    },
  });
}

/** Registers a wasm kernel tfjs does not have. */
export function ours(kernelName: string, run: (wasm: WasmBackendLike, inputs: Inputs, attrs: tf.NamedAttrMap) => tf.TensorInfo | tf.TensorInfo[]): void {
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: (args) => run(args.backend as unknown as WasmBackendLike, args.inputs as Inputs, args.attrs ?? {}) });
}

/** The input x itself under a new tensor: its data, one more reference to it. */
export const shared: Run<true> = (wasm, { x }) => {
  wasm.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

export function size(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

export function decode(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

