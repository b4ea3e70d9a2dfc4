import { readContainer, writeContainer } from '../binaryFile.ts';
import type { TrainerState } from './runState.ts';

/**
 * A trainer's whole state (weights, Adam's moments, random streams, settings) as
 * one binary: what the worker sends the page at a checkpoint and what the page
 * stores, as a Blob. A Blob crosses from the worker and into IndexedDB without
 * the page's main thread copying it: sent as plain arrays, a 1.6 MB state (unit
 * tests, MLP) cost the page about 15 ms to receive and 40-55 ms to store, each
 * time, on a 2-core machine.
 *
 *   bytes 0-7   "RLCFSTAT"
 *   u32 LE      format version (1)
 *   u32 LE      header length H in bytes
 *   H bytes     UTF-8 JSON: every field but the arrays, and [{ group, name, shape, dtype }] in storage order
 *   padding     zeros up to a multiple of 4 bytes
 *   4-byte LE   every array's values (float32 or int32), in header order
 */
export const STATE_VERSION = 1;
const MAGIC = 'RLCFSTAT';

interface ArrayEntry {
  group: 'weights' | 'optimizer';
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
}

type Scalars = Omit<TrainerState, 'weights' | 'optimizer'>;

/** JSON has no NaN or Infinity; a statistic may be either (a NaN loss the runaway alarm remembers), and comes back as it was. */
const NON_FINITE = '\u0000number:';

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function encodeTrainerState(state: TrainerState): Uint8Array<ArrayBuffer> {
  const { weights, optimizer, ...scalars } = state;
  const entries: ArrayEntry[] = [];
  const arrays: (Float32Array | Int32Array)[] = [];
  for (const [name, w] of Object.entries(weights)) {
    entries.push({ group: 'weights', name, shape: w.shape, dtype: 'float32' });
    arrays.push(w.values);
  }
  for (const o of optimizer) {
    entries.push({ group: 'optimizer', name: o.name, shape: o.shape, dtype: o.values instanceof Int32Array ? 'int32' : 'float32' });
    arrays.push(o.values);
  }
  const headerJson = JSON.stringify({ scalars, arrays: entries }, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? `${NON_FINITE}${v}` : v));
  const { out, view, dataStart } = writeContainer(MAGIC, STATE_VERSION, headerJson, arrays.reduce((n, a) => n + a.length, 0));
  let off = dataStart;
  for (const a of arrays) {
    if (littleEndian) out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), off);
    else for (let i = 0; i < a.length; i++) a instanceof Int32Array ? view.setInt32(off + 4 * i, a[i], true) : view.setFloat32(off + 4 * i, a[i], true);
    off += 4 * a.length;
  }
  return out;
}

/** Reads a state back; throws an Error naming what is wrong with a malformed one. */
export function decodeTrainerState(bytes: Uint8Array): TrainerState {
  const { headerJson, dataStart } = readContainer(bytes, MAGIC, STATE_VERSION, 'saved state');
  let header: { scalars: Scalars; arrays: ArrayEntry[] };
  try {
    header = JSON.parse(headerJson, (_, v) => (typeof v === 'string' && v.startsWith(NON_FINITE) ? Number(v.slice(NON_FINITE.length)) : v));
  } catch (e) {
    throw new Error(`saved state: the header is not JSON (${(e as Error).message})`);
  }
  if (typeof header?.scalars !== 'object' || header.scalars === null || !Array.isArray(header.arrays)) throw new Error('saved state: the header lacks its fields or arrays');
  const weights: TrainerState['weights'] = {};
  const optimizer: TrainerState['optimizer'] = [];
  let off = dataStart;
  for (const e of header.arrays) {
    if (!Array.isArray(e?.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`saved state: array ${JSON.stringify(e?.name)} has a bad shape`);
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (off + 4 * n > bytes.length) throw new Error(`saved state: array ${JSON.stringify(e.name)} runs past the end (${bytes.length} bytes)`);
    // A copy, aligned and owned: the values outlive the bytes they came from.
    const raw = bytes.slice(off, off + 4 * n);
    let values: Float32Array | Int32Array = e.dtype === 'int32' ? new Int32Array(raw.buffer) : new Float32Array(raw.buffer);
    if (!littleEndian) {
      const v = new DataView(raw.buffer);
      values = e.dtype === 'int32' ? Int32Array.from({ length: n }, (_, i) => v.getInt32(4 * i, true)) : Float32Array.from({ length: n }, (_, i) => v.getFloat32(4 * i, true));
    }
    off += 4 * n;
    if (e.group === 'weights') weights[e.name] = { shape: e.shape, values: values as Float32Array };
    else if (e.group === 'optimizer') optimizer.push({ name: e.name, shape: e.shape, values });
    else throw new Error(`saved state: array ${JSON.stringify(e.name)} belongs to no known group`);
  }
  if (off !== bytes.length) throw new Error(`saved state: ${bytes.length - off} bytes left over after the last array`);
  return { ...header.scalars, weights, optimizer };
}

