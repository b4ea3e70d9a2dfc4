import type * as tf from '../../tf.ts';
import { ours, size, type WasmBackendLike } from './registry.ts';
import { batchedShape, CAUSAL, causalMode, type ProductShape } from './shapes.ts';

/**
 * Attention's softmax over the last axis (see ops/softmax.ts): scores x [B, H,
 * T, n] and an optional mask [B or 1, 1, T or 1, n] added first -> y; its
 * gradient: dy, y -> dx.
 */
export const SOFTMAX = 'RlcfSoftmax';
export const SOFTMAX_GRAD = 'RlcfSoftmaxGrad';
/**
 * Causal attention's core as one kernel each way (see ops/attention.ts), on
 * forwardAt's layout: a product's packed rows qkv [n, 3C] -> y [n, C], with
 * q (scaled), k, v [B, H, T, hd] and the weights p [B, H, T, T] kept for the
 * gradient: dy -> dqkv.
 */
export const ATTENTION = 'RlcfAttention';
export const ATTENTION_GRAD = 'RlcfAttentionGrad';

/** What the attention kernels need of wasmKernels.ts: the kernels' functions, the product, and rows shared with the second thread. */
export interface AttentionContext {
  k: Record<'softmax' | 'softmaxGrad' | 'scale', (...args: number[]) => void> & Record<'gatherRows', (...args: number[]) => number>;
  /** A x B as the BatchMatMul kernel computes it (on two threads where that pays); productAt writes it at heap address `pc`. */
  product(wasm: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo, shape: ProductShape, causal: number): tf.TensorInfo;
  productAt(wasm: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo, shape: ProductShape, causal: number, pc: number): void;
  splitRows(name: string, count: number, work: number, args: (r0: number, r1: number) => number[]): void;
  /** Whether the products leave out what the causal mask zeroes (kernelOptions.causal). */
  causal(): boolean;
  /** The backend's memory (its buffer changes as it grows). */
  memory(): WebAssembly.Memory;
}

/** Registers the softmax and the attention kernels. */
export function attentionKernels(c: AttentionContext): void {
  const at = (wasm: WasmBackendLike, ...ts: tf.TensorInfo[]) => ts.map((t) => wasm.dataIdMap.get(t.dataId)!.memoryOffset);
  const floats = (name: string, ...ts: tf.TensorInfo[]) => {
    if (ts.some((t) => t.dtype !== 'float32' || size(t.shape) !== size(ts[0].shape))) throw new Error(`${name}: needs float32 tensors of one size; got ${ts.map((t) => `${t.dtype} [${t.shape}]`).join(', ')}`);
    return size(ts[0].shape);
  };
  /** x's softmax into y, x [B, H, T, n] plus the mask (or none). */
  const softmax = (wasm: WasmBackendLike, x: tf.TensorInfo, mask: tf.TensorInfo | undefined, causal: boolean, y: tf.TensorInfo) => {
    const [B, H, T, n] = x.shape;
    const { mb, mt } = { mb: mask?.shape[0] ?? 1, mt: mask?.shape[2] ?? 1 };
    if (x.dtype !== 'float32' || x.shape.length !== 4 || (mask && (mask.dtype !== 'float32' || mask.shape.length !== 4 || (mb !== 1 && mb !== B) || mask.shape[1] !== 1 || (mt !== 1 && mt !== T) || mask.shape[3] !== n))) {
      throw new Error(`${SOFTMAX}: needs float32 scores [B, H, T, n] and a mask [B or 1, 1, T or 1, n]; got [${x.shape}]${mask ? ` and [${mask.shape}]` : ''}`);
    }
    if (causal && n < T) throw new Error(`${SOFTMAX}: a causal softmax needs a row per column at most (T <= n); got [${x.shape}]`);
    const [px, py] = at(wasm, x, y);
    const pm = mask ? at(wasm, mask)[0] : 0;
    const rows = B * H * T;
    const [bstride, ton] = [mb > 1 ? mt : 0, mt > 1 ? 1 : 0];
    // Its rows by number (r0 .. r1-1), the tensors' addresses the same: row r's mask row depends on r.
    c.splitRows('softmax', rows, rows * n, (r0, r1) => [px, pm, py, r0, r1, n, H * T, T, bstride, ton, causal ? 1 : 0]);
  };
  /** dy and y's softmax gradient into dx. */
  const softmaxGrad = (wasm: WasmBackendLike, dy: tf.TensorInfo, y: tf.TensorInfo, causal: boolean, dx: tf.TensorInfo) => {
    const n = y.shape.at(-1) ?? 0;
    const rows = n === 0 ? 0 : floats(SOFTMAX_GRAD, dy, y) / n;
    const T = y.shape.at(-2) ?? 1;
    if (causal && n < T) throw new Error(`${SOFTMAX_GRAD}: a causal softmax needs a row per column at most (T <= n); got [${y.shape}]`);
    const [pd, py, po] = at(wasm, dy, y, dx);
    // In whole grids of T rows (a causal row's limit counts from its grid's first).
    c.splitRows('softmaxGrad', rows / T, rows * n, (g0, g1) => [pd + 4 * g0 * T * n, py + 4 * g0 * T * n, po + 4 * g0 * T * n, (g1 - g0) * T, n, T, causal ? 1 : 0]);
  };
  ours(SOFTMAX, (wasm, { x, mask }, { causal }) => {
    const y = wasm.makeOutput(x.shape, 'float32');
    softmax(wasm, x, mask, causal as boolean, y);
    return y;
  });
  ours(SOFTMAX_GRAD, (wasm, { dy, y }, { causal }) => {
    const dx = wasm.makeOutput(y.shape, 'float32');
    softmaxGrad(wasm, dy, y, causal as boolean, dx);
    return dx;
  });

  /** Rows of x ([inRows, width] floats) at the `count` int32 indices from `index` (addresses) into `out`, index inRows reading zeros (ROW_MOVE's kernel). */
  const move = (x: number, index: number, count: number, out: number, inRows: number, width: number, what: string) => {
    const bad = c.k.gatherRows(x, index, out, count, inRows, 4 * width, 1);
    if (bad >= 0) throw new Error(`${what}: the row index ${new Int32Array(c.memory().buffer, index + 4 * bad, 1)[0]} is not in [0, ${inRows}]`);
  };
  /** x times s, each product rounded to float32 (tfjs's Multiply by a scalar), into `out`. */
  const scaled = (x: number, n: number, s: number, out: number) => c.k.scale(x, out, n, s);
  const dims = (attrs: tf.NamedAttrMap) => {
    const { B, H, T, hd } = attrs as Record<'B' | 'H' | 'T' | 'hd', number>;
    return { B, H, T, hd, cells: B * H * T, scale: Math.fround(1 / Math.sqrt(hd)) };
  };
  const mode = (shape: ProductShape, m: number) => causalMode(shape, c.causal() ? m : 0);
  /** `body`'s tensors, each made through `mine`: all of them freed where it throws (a bad index or mask), so nothing leaks. */
  const freedOnError = <R>(wasm: WasmBackendLike, body: (mine: (t: tf.TensorInfo | number[]) => tf.TensorInfo) => R): R => {
    const made: tf.TensorInfo[] = [];
    try {
      return body((t) => {
        const made1 = Array.isArray(t) ? wasm.makeOutput(t, 'float32') : t;
        made.push(made1);
        return made1;
      });
    } catch (e) {
      for (const t of made) wasm.disposeData(t.dataId);
      throw e;
    }
  };

  // The op-by-op path's kernels, in its order, on the same numbers: the same outputs bit for bit (ops/attention.ts).
  ours(ATTENTION, (wasm, { qkv, toHeads, fromHeads, mask }, attrs) => {
    const { B, H, T, hd, cells, scale } = dims(attrs);
    const n = qkv.shape[0];
    if (qkv.dtype !== 'float32' || qkv.shape.length !== 2 || qkv.shape[1] !== 3 * H * hd || toHeads.dtype !== 'int32' || fromHeads.dtype !== 'int32' || size(toHeads.shape) !== 3 * cells || size(fromHeads.shape) !== n * H) {
      throw new Error(`${ATTENTION}: needs float32 qkv [n, ${3 * H * hd}], int32 toHeads [${3 * cells}] and fromHeads [n * ${H}]; got [${qkv.shape}], [${toHeads.shape}] and [${fromHeads.shape}]`);
    }
    const grid = [B, H, T, hd];
    return freedOnError(wasm, (mine) => {
      const [q, qs, k, v, y] = [grid, grid, grid, grid, [n, H * hd]].map(mine);
      const [pqkv, pq, pqs, pk, pv, py] = at(wasm, qkv, q, qs, k, v, y);
      // toHeads' thirds: where q's, k's and v's rows come from.
      const [ti, fi] = at(wasm, toHeads, fromHeads);
      [pq, pk, pv].forEach((to, j) => move(pqkv, ti + 4 * j * cells, cells, to, n * 3 * H, hd, ATTENTION));
      scaled(pq, cells * hd, scale, pqs);
      const scoresShape = batchedShape(qs, k, false, true)!;
      const scores = mine(c.product(wasm, qs, k, scoresShape, mode(scoresShape, CAUSAL.lowerOut)));
      const p = mine([B, H, T, T]);
      softmax(wasm, scores, mask, true, p);
      const outShape = batchedShape(p, v, false, false)!;
      const yh = mine(c.product(wasm, p, v, outShape, mode(outShape, CAUSAL.zeroAboveA)));
      move(at(wasm, yh)[0], fi, n * H, py, cells, hd, ATTENTION);
      for (const t of [q, scores, yh]) wasm.disposeData(t.dataId);
      return [y, qs, k, v, p];
    });
  });
  ours(ATTENTION_GRAD, (wasm, { dy, qs, k, v, p, fromInverse, toInverse }, attrs) => {
    const { B, H, T, hd, cells, scale } = dims(attrs);
    const n = dy.shape[0];
    const grid = [B, H, T, hd];
    const shaped = (t: tf.TensorInfo, shape: number[], dtype = 'float32') => t.dtype === dtype && t.shape.join() === shape.join();
    if (!(shaped(dy, [n, H * hd]) && [qs, k, v].every((t) => shaped(t, grid)) && shaped(p, [B, H, T, T]) && shaped(fromInverse, [cells], 'int32') && shaped(toInverse, [n * 3 * H], 'int32'))) {
      throw new Error(`${ATTENTION_GRAD}: needs float32 dy [n, ${H * hd}], q, k, v [${grid}] and p [${[B, H, T, T]}], int32 indices [${cells}] and [n * ${3 * H}]; got [${dy.shape}], [${qs.shape}], [${k.shape}], [${v.shape}], [${p.shape}], [${fromInverse.shape}] and [${toInverse.shape}]`);
    }
    return freedOnError(wasm, (mine) => {
      const dyh = mine(grid);
      move(at(wasm, dy)[0], at(wasm, fromInverse)[0], cells, at(wasm, dyh)[0], n * H, hd, ATTENTION_GRAD);
      // q's, k's and v's gradients side by side, each row then moved back to its packed row at once.
      const joined = mine([3 * cells, hd]);
      const third = (j: number) => at(wasm, joined)[0] + 4 * j * cells * hd;
      const dpShape = batchedShape(dyh, v, false, true)!;
      const dp = mine(c.product(wasm, dyh, v, dpShape, mode(dpShape, CAUSAL.lowerOut)));
      const dvShape = batchedShape(p, dyh, true, false)!;
      c.productAt(wasm, p, dyh, dvShape, mode(dvShape, CAUSAL.zeroBelowA), third(2));
      const dscores = mine([B, H, T, T]);
      softmaxGrad(wasm, dp, p, true, dscores);
      const dqShape = batchedShape(dscores, k, false, false)!;
      const dqs = mine(c.product(wasm, dscores, k, dqShape, mode(dqShape, CAUSAL.zeroAboveA)));
      const dkShape = batchedShape(dscores, qs, true, false)!;
      c.productAt(wasm, dscores, qs, dkShape, mode(dkShape, CAUSAL.zeroBelowA), third(1));
      scaled(at(wasm, dqs)[0], cells * hd, scale, third(0));
      const dqkv = mine([n, 3 * H * hd]);
      move(third(0), at(wasm, toInverse)[0], n * 3 * H, at(wasm, dqkv)[0], 3 * cells, hd, ATTENTION_GRAD);
      for (const t of [dyh, joined, dp, dscores, dqs]) wasm.disposeData(t.dataId);
      return dqkv;
    });
  });
}
