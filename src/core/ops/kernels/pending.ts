import * as tf from '../../tf.ts';

/**
 * Work the second thread goes on with while this one moves on (heapThread.ts's
 * `start`): a weight's gradient product, which nothing reads until the
 * optimizer's step. Until it settles, the tensors it reads must not be freed
 * (their memory could be handed to a new tensor) and the one it writes must
 * not be read, by any kernel, tfjs's included, or by a read-back. The wasm
 * backend and tfjs's engine are wrapped once (`watch`): whatever touches a
 * guarded tensor's data first settles the work.
 */

interface Watched {
  disposeData(dataId: object, force?: boolean): boolean;
  readSync(dataId: object, ...rest: unknown[]): unknown;
  read(dataId: object, ...rest: unknown[]): Promise<unknown>;
}

interface EngineLike {
  runKernelFunc(params: { inputs?: Record<string, { dataId?: object } | undefined> }): unknown;
}

export class PendingWork {
  /** The data the work writes (not to be read) and all it touches (not to be freed). */
  private readonly written = new Set<object>();
  private readonly touched = new Set<object>();
  private watching = false;

  /** `settle` waits for the work and releases its tensors (its `after` calls `release`). */
  constructor(private readonly settle: () => void) {}

  /** Guards `written` (read by nothing) and `read` (freed by nothing) until `release`. */
  hold(written: readonly object[], read: readonly object[]): void {
    for (const d of written) this.written.add(d);
    for (const d of [...written, ...read]) this.touched.add(d);
  }

  release(): void {
    this.written.clear();
    this.touched.clear();
  }

  /** Wraps the backend's frees and read-backs and the engine's kernel calls (once). */
  watch(backend: Watched, engine: EngineLike = tf.engine() as unknown as EngineLike): void {
    if (this.watching) return;
    this.watching = true;
    const { disposeData, readSync, read } = backend;
    backend.disposeData = (dataId, force) => {
      if (this.touched.has(dataId)) this.settle();
      return disposeData.call(backend, dataId, force);
    };
    backend.readSync = (dataId, ...rest) => {
      if (this.written.has(dataId)) this.settle();
      return readSync.call(backend, dataId, ...rest);
    };
    backend.read = (dataId, ...rest) => {
      if (this.written.has(dataId)) this.settle();
      return read.call(backend, dataId, ...rest);
    };
    const run = engine.runKernelFunc;
    engine.runKernelFunc = (params) => {
      if (this.written.size > 0 && params.inputs) {
        for (const t of Object.values(params.inputs)) {
          if (t?.dataId && this.written.has(t.dataId)) {
            this.settle();
            break;
          }
        }
      }
      return run.call(engine, params);
    };
  }
}
