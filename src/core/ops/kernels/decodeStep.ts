/**
 * One step of a transformer's decoding, whole, as one kernel (wasmKernels.ts's
 * DECODE_STEP): the embedding, every block and the head for one new token a
 * row, by direct calls to our kernels' functions on the heap, with no tfjs op
 * between them. The keys and values are cached in place (softmax.wat's
 * attendStep). Rows never meet in a step, so where a second thread helps, it
 * runs the whole step for the second half of the rows while this thread runs
 * the first: one handshake a step, and each thread's rows of the cache stay in
 * its own core's cache from step to step. Every kernel is the one tfjs's ops
 * run on the same path (products, layer norms, GELU, the softmax), and a
 * row's numbers do not depend on which rows share its call: the same logits,
 * bit for bit, on one thread or two, as op by op, and as forwardAt's at the
 * same position (the softmax sums a row's columns in the lanes a longer,
 * causal row puts them in).
 */
import type { Call } from './heapThread.ts';
import type { Inputs, WasmBackendLike } from './registry.ts';
import { LAYER_NORM_EPS as EPS, productScratchFloats } from './shapes.ts';
import type * as tf from '../../tf.ts';

/** A block's weights as DECODE_STEP takes them: input `h{i}.{name}` for layer i. */
export const BLOCK_WEIGHTS = ['ln1g', 'ln1b', 'wqkv', 'bqkv', 'wo', 'bo', 'ln2g', 'ln2b', 'w1', 'b1', 'w2', 'b2'] as const;

/** The kernels' functions a step calls. */
export type StepKernels = Record<'matMul' | 'layerNorm' | 'gelu' | 'attendStep' | 'gatherRows' | 'addRows', (...args: number[]) => number | void>;

/**
 * Runs `calls` for the second half of the rows beside `mine`; false where the
 * helper did not answer (its calls are then not run here: the caller runs them
 * again on memory of their own, and leaves what the helper was given to it).
 * Null: one thread.
 */
export type Together = ((calls: Call[], mine: () => void) => boolean) | null;

/** The most layers whose step fits one request to the second thread (heapThread.ts: 256 calls). */
export const SHARED_STEP_LAYERS = 31;

/**
 * Inputs: tokens int32 [B]; wte [V, C]; wpe [P, C]; for each layer i the
 * block's weights `h{i}.ln1g` ... (BLOCK_WEIGHTS) and its caches `k{i}` [B, H,
 * hd, L] and `v{i}` [B, H, L, hd4] (ops/decodeStep.ts's inPlaceCache); lnfg,
 * lnfb [C]; head [C, V]; the value head wv [C, 1] and bv [1]; an optional
 * int32 pad [B]. Attributes: pos (the column), layers, heads. Outputs: the
 * next token's logits [B, V] and the values [B] at the step's column.
 */
export function runDecodeStep(wasm: WasmBackendLike, heap: WebAssembly.Memory, k: StepKernels, together: Together, inputs: Inputs, attrs: tf.NamedAttrMap): tf.TensorInfo[] {
  const { pos, layers, heads: H } = attrs as Record<'pos' | 'layers' | 'heads', number>;
  const { tokens, wte, wpe, lnfg, lnfb, head, wv, bv, pad } = inputs;
  const B = tokens.shape[0];
  const [V, C] = wte.shape;
  const hd = C / H;
  const F = inputs['h0.b1']?.shape[0] ?? 0; // the MLP's width
  const [L, hd4] = [inputs.k0?.shape[3] ?? 0, inputs.v0?.shape[3] ?? 0];
  const fail = (what: string) => {
    throw new Error(`RlcfDecodeStep: ${what}`);
  };
  if (tokens.dtype !== 'int32' || tokens.shape.length !== 1 || (pad && (pad.dtype !== 'int32' || pad.shape.length !== 1 || pad.shape[0] !== B))) fail(`needs int32 tokens [B] and pad [B] or none; got ${tokens.dtype} [${tokens.shape}]${pad ? `, ${pad.dtype} [${pad.shape}]` : ''}`);
  // Every weight's shape, so no kernel reads or writes past a tensor.
  const shaped = (name: string, shape: number[]) => {
    const t = inputs[name];
    if (!t || t.dtype !== 'float32' || t.shape.join() !== shape.join()) fail(`needs ${name} float32 [${shape}]; got ${t ? `${t.dtype} [${t.shape}]` : 'none'}`);
  };
  if (!Number.isInteger(hd) || C % 4 !== 0 || wte.dtype !== 'float32') fail(`needs float32 wte [V, C] with C a multiple of 4 and of heads ${H}; got ${wte.dtype} [${wte.shape}]`);
  shaped('wpe', [wpe.shape[0], C]);
  for (const [name, shape] of [['lnfg', [C]], ['lnfb', [C]], ['head', [C, V]], ['wv', [C, 1]], ['bv', [1]]] as [string, number[]][]) shaped(name, shape);
  for (let i = 0; i < layers; i++) {
    const sizes: Record<(typeof BLOCK_WEIGHTS)[number], number[]> = { ln1g: [C], ln1b: [C], wqkv: [C, 3 * C], bqkv: [3 * C], wo: [C, C], bo: [C], ln2g: [C], ln2b: [C], w1: [C, F], b1: [F], w2: [F, C], b2: [C] };
    for (const w of BLOCK_WEIGHTS) shaped(`h${i}.${w}`, sizes[w]);
    const [kc, vc] = [inputs[`k${i}`], inputs[`v${i}`]];
    if (!kc || !vc || kc.dtype !== 'float32' || vc.dtype !== 'float32' || kc.shape.join() !== [B, H, hd, L].join() || vc.shape.join() !== [B, H, L, hd4].join() || L % 16 !== 0 || hd4 % 4 !== 0 || hd4 < hd) {
      fail(`layer ${i}'s caches must be float32 [${B}, ${H}, ${hd}, L] and [${B}, ${H}, L, hd4] (L a multiple of 16, hd4 one of 4 and at least ${hd}); got [${kc?.shape}] and [${vc?.shape}]`);
    }
  }
  if (!(pos >= 0 && pos < L && pos < wpe.shape[0])) fail(`column ${pos} is past the context (${Math.min(L, wpe.shape[0])})`);

  const at = (t: tf.TensorInfo) => wasm.dataIdMap.get(t.dataId)!.memoryOffset;
  // Each row's token and padding, checked before anything is made.
  const ids = new Int32Array(heap.buffer, at(tokens), B);
  for (let b = 0; b < B; b++) if (!(ids[b] >= 0 && ids[b] < V)) fail(`the token ${ids[b]} of row ${b} is not in [0, ${V - 1}]`);
  const pads = pad ? new Int32Array(heap.buffer, at(pad), B) : null;
  if (pads?.some((p) => p < 0)) fail(`a row's padding is negative: [${Array.from(pads)}]`);
  const made: tf.TensorInfo[] = [];
  const make = (shape: number[], dtype: tf.DataType = 'float32') => {
    const t = wasm.makeOutput(shape, dtype);
    made.push(t);
    return at(t);
  };
  const [logits, values] = [wasm.makeOutput([B, V], 'float32'), wasm.makeOutput([B], 'float32')];
  const where = make([B], 'int32');
  const half = together && B >= 2 ? Math.ceil(B / 2) : B;
  // The step's working memory (activations, and scratch: the products' packed panels at up to `half` rows, or attention's scores).
  const scratchFloats = Math.max(L + hd4, ...[[C, 3 * C], [C, C], [C, F], [F, C], [C, V]].map(([kk, n]) => productScratchFloats({ m: half, k: kk, n, ta: false, tb: false })));
  const working = () => ({ x0: make([B, C]), x1: make([B, C]), h: make([B, C]), y: make([B, C]), qkv: make([B, 3 * C]), m: make([B, F]), g: make([B, F]), mean: make([B]), rstd: make([B]), s: make([scratchFloats]) });
  const mine = working();

  // Each row's position: its column less its padding (views made after the last allocation, which may grow the heap).
  const padding = pad ? new Int32Array(heap.buffer, at(pad), B) : null;
  const positions = new Int32Array(heap.buffer, where, B);
  for (let b = 0; b < B; b++) positions[b] = Math.max(0, pos - (padding ? padding[b] : 0));
  const p = (name: string) => at(inputs[name]);
  const scale = Math.fround(1 / Math.sqrt(hd));
  /** The step's calls for rows r0 .. r1-1, on working memory `on` (each thread its own scratch; rows are never shared). */
  const calls = (r0: number, r1: number, on: ReturnType<typeof working>, s: number): Call[] => {
    const { x0, x1, h, y, qkv, m, g, mean, rstd } = on;
    const n = r1 - r0;
    const row = (ptr: number, width: number) => ptr + 4 * r0 * width;
    const product = (a: number, w: string, out: number, kk: number, nn: number, bias: string | null, res: number): Call => ['matMul', [a, p(w), out, 1, n, kk, nn, 0, 0, s, bias ? p(bias) : 0, res, 0]];
    const list: Call[] = [
      ['gatherRows', [at(wte), row(at(tokens), 1), row(x0, C), n, V, 4 * C, 0]],
      ['gatherRows', [at(wpe), row(where, 1), row(h, C), n, wpe.shape[0], 4 * C, 0]],
      ['addRows', [row(x0, C), row(h, C), row(x0, C), 1, n * C]],
    ];
    for (let i = 0; i < layers; i++) {
      const w = (name: string) => `h${i}.${name}`;
      const cache = (t: tf.TensorInfo) => at(t) + 4 * r0 * (t.shape[1] * t.shape[2] * t.shape[3]);
      list.push(
        ['layerNorm', [row(x0, C), p(w('ln1g')), p(w('ln1b')), row(h, C), row(mean, 1), row(rstd, 1), n, C, EPS]],
        product(row(h, C), w('wqkv'), row(qkv, 3 * C), C, 3 * C, w('bqkv'), 0),
        ['attendStep', [row(qkv, 3 * C), cache(inputs[`k${i}`]), cache(inputs[`v${i}`]), row(y, C), pad ? row(at(pad), 1) : 0, n, H, hd, L, hd4, pos, scale, s]],
        product(row(y, C), w('wo'), row(x1, C), C, C, w('bo'), row(x0, C)),
        ['layerNorm', [row(x1, C), p(w('ln2g')), p(w('ln2b')), row(h, C), row(mean, 1), row(rstd, 1), n, C, EPS]],
        product(row(h, C), w('w1'), row(m, F), C, F, w('b1'), 0),
        ['gelu', [row(m, F), row(g, F), n * F]],
        product(row(g, F), w('w2'), row(x0, C), F, C, w('b2'), row(x1, C)),
      );
    }
    list.push(
      ['layerNorm', [row(x0, C), at(lnfg), at(lnfb), row(h, C), row(mean, 1), row(rstd, 1), n, C, EPS]],
      ['matMul', [row(h, C), at(head), row(at(logits), V), 1, n, C, V, 0, 0, s, 0, 0, 0]],
      ['matMul', [row(h, C), at(wv), row(at(values), 1), 1, n, C, 1, 0, 0, s, at(bv), 0, 0]],
    );
    return list;
  };
  const run = (list: Call[]) => {
    for (const [name, args] of list) k[name as keyof StepKernels](...args);
  };
  if (half === B) run(calls(0, B, mine, mine.s));
  else {
    // The helper's own scratch: activations are per row, shared; a step's packed panels and scores are not.
    const theirs = { ...mine, s: make([scratchFloats]) };
    if (!together!(calls(half, B, theirs, theirs.s), () => run(calls(0, half, mine, mine.s)))) {
      // The helper did not answer and may still be writing what it was given: its rows again, here, on memory of
      // their own (the caches and outputs it may still write get the same numbers), and that memory left to it.
      made.length = 0;
      const fresh = working();
      run(calls(half, B, fresh, fresh.s));
    }
  }
  for (const t of made) wasm.disposeData(t.dataId);
  return [logits, values];
}
