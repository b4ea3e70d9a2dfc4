import type * as tf from '../../tf.ts';
import type { HeapThread } from './heapThread.ts';
import type { PendingWork } from './pending.ts';
import type { ProductKernel } from './productThread.ts';
import type { WasmBackendLike } from './registry.ts';
import { productScratchFloats, type ProductShape } from './shapes.ts';

/**
 * A biased product's two gradient products on two threads, one product each:
 * the helper the weight's (x^T dy), this thread the input's (dy w^T, as many
 * multiply-adds). With `overlap`, this thread goes on as soon as its own is
 * done: nothing reads the weight's gradient before the optimizer's step, and
 * `pending` settles it first for whatever does. `again` works the weight's
 * gradient out here, where the helper did not answer. The same numbers as the
 * products one by one on one thread.
 */
export function pairedGradients(
  wasm: WasmBackendLike,
  k: ProductKernel,
  thread: HeapThread,
  pending: PendingWork,
  { dy, x, w }: Record<'dy' | 'x' | 'w', tf.TensorInfo>,
  [dxShape, dwShape]: [ProductShape, ProductShape],
  again: () => tf.TensorInfo,
  overlap: boolean,
): tf.TensorInfo[] {
  const [dx, dw] = [wasm.makeOutput(dxShape.out, 'float32'), wasm.makeOutput(dwShape.out, 'float32')];
  const scratch = [dxShape, dwShape].map((s) => wasm.makeOutput([Math.max(productScratchFloats(s), 1)], 'float32'));
  const [pdy, px, pw, pdx, pdw, s0, s1] = [dy, x, w, dx, dw, ...scratch].map((t) => wasm.dataIdMap.get(t.dataId)!.memoryOffset);
  // The last work settled (its release would clear this one's guard), then this one guarded before it starts.
  thread.settle();
  pending.hold([dw.dataId], [x.dataId, dy.dataId]);
  thread.start([['matMul', [px, pdy, pdw, 1, dwShape.m, dwShape.k, dwShape.n, 1, 0, s1, 0, 0, 0]]], (answered) => {
    pending.release();
    if (answered) wasm.disposeData(scratch[1].dataId);
    else redo(wasm, dw, again);
  });
  k.matMul(pdy, pw, pdx, 1, dxShape.m, dxShape.k, dxShape.n, 0, 1, s0, 0, 0, 0);
  wasm.disposeData(scratch[0].dataId);
  if (!overlap) thread.settle();
  return [dx, dw];
}

/**
 * `t`'s data worked out again here (`compute`, into memory of its own), where
 * a helper that did not answer may still write the old: that memory is left to
 * it, never freed (the fresh tensor's id keeps it). tfjs's own kernels find a
 * tensor's memory by its id in the backend's module, so both ids are
 * registered there again too.
 */
function redo(wasm: WasmBackendLike, t: tf.TensorInfo, compute: () => tf.TensorInfo): void {
  const fresh = compute();
  const [mine, theirs] = [wasm.dataIdMap.get(t.dataId)!, wasm.dataIdMap.get(fresh.dataId)!];
  [mine.memoryOffset, theirs.memoryOffset] = [theirs.memoryOffset, mine.memoryOffset];
  const module = wasm.wasm.tfjs;
  const floats = t.shape.reduce((n, d) => n * d, 1);
  for (const entry of [mine, theirs]) {
    module?.disposeData(entry.id);
    module?.registerTensor(entry.id, floats, entry.memoryOffset);
  }
}
