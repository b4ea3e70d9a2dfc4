import * as tf from '../../tf.ts';

// How the kernels of ours (wasmKernels.ts) sit in tfjs's wasm backend: in front
// of its kernels, or beside them under names of their own.

/** What these kernels need of tfjs's wasm backend: its memory, and where each tensor lives in it. */
export interface WasmBackendLike {
  /** The backend's module: its memory, and its own record of where each tensor's data is (by id). */
  wasm: { asm?: { memory?: WebAssembly.Memory }; tfjs?: { registerTensor(id: number, size: number, memoryOffset: number): void; disposeData(id: number): void } };
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } | undefined };
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

/**
 * tfjs's tape keeps a clone of every tensor a gradient needs: an Identity
 * kernel and a tape node of its own each (about a third of a transformer's
 * kernels in training). On this backend a clone shares its data (`shared`), so
 * where `enabled`, the kept tensor is made straight away: the same data, one
 * more reference, none of that bookkeeping. The clone's node would only carry
 * a gradient of a gradient, which nothing here takes.
 */
export function shareSavedTensors(backend: WasmBackendLike, enabled: () => boolean): void {
  const engine = tf.engine() as unknown as {
    saveTensorsForBackwardMode(tensors: tf.Tensor[]): tf.Tensor[];
    makeTensorFromTensorInfo(info: tf.TensorInfo, backend: unknown): tf.Tensor;
    keep<T extends tf.Tensor>(t: T): T;
    state: { tensorInfo: Map<object, { backend: unknown }> };
  };
  const save = engine.saveTensorsForBackwardMode.bind(engine);
  engine.saveTensorsForBackwardMode = (tensors) => {
    if (!enabled() || tensors.some((t) => t.dtype === 'string' || engine.state.tensorInfo.get(t.dataId)?.backend !== backend)) return save(tensors);
    return tensors.map((t) => {
      backend.incRef(t.dataId);
      return engine.keep(engine.makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }, backend));
    });
  };
}

export function size(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

export function decode(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

