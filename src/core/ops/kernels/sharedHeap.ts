/**
 * tfjs's wasm backend on a shared memory, so a second thread can read and
 * write its tensors where they lie (heapThread.ts): no copies in or out.
 *
 * The backend's module defines its own memory. `importSharedMemory` rewrites
 * the module's bytes so that memory is an import instead (the same index, the
 * same initial size, shared, with a maximum), and `withSharedHeap` hands the
 * backend a shared memory while it starts: during `start`, WebAssembly's
 * instantiate and instantiateStreaming patch the one module that defines a
 * memory and imports from "env", and give it the memory as env.memory. The
 * module's code is unchanged: a plain load or store works on a shared memory
 * alike. Only where shared memory exists (Node; a cross-origin isolated page).
 */

/** The most the shared heap may grow to, in 64 KiB pages: 2 GiB. */
export const SHARED_HEAP_MAX_PAGES = 32768;

const MEMORY_SECTION = 5;
const IMPORT_SECTION = 2;

/**
 * `binary` with its one defined memory turned into an import, env.memory,
 * shared, of the same initial size and `maxPages` at most; null if the module
 * does not define exactly one memory or already imports one.
 */
export function importSharedMemory(binary: Uint8Array, maxPages = SHARED_HEAP_MAX_PAGES): { bytes: Uint8Array<ArrayBuffer>; initialPages: number } | null {
  if (binary.length < 8 || binary[0] !== 0 || binary[1] !== 0x61 || binary[2] !== 0x73 || binary[3] !== 0x6d) return null;
  const sections: { id: number; start: number; end: number }[] = [];
  for (let at = 8; at < binary.length; ) {
    const id = binary[at];
    const [size, next] = readU32(binary, at + 1);
    sections.push({ id, start: next, end: next + size });
    at = next + size;
  }
  const memory = sections.filter((s) => s.id === MEMORY_SECTION);
  if (memory.length !== 1) return null;
  const [count, at] = readU32(binary, memory[0].start);
  const flags = binary[at];
  const [initialPages] = readU32(binary, at + 1);
  if (count !== 1 || flags > 1 || initialPages > maxPages) return null;
  const imports = sections.find((s) => s.id === IMPORT_SECTION);
  if (!imports) return null;
  const [n, first] = readU32(binary, imports.start);
  if (hasMemoryImport(binary, first, n)) return null;
  const entry = [...name('env'), ...name('memory'), 0x02, 0x03, ...u32(initialPages), ...u32(maxPages)];
  const out: number[] = [...binary.subarray(0, 8)];
  let previous = 8;
  for (const s of sections) {
    const header = binary.subarray(previous, s.start); // the section's id and size
    previous = s.end;
    if (s.id === MEMORY_SECTION) continue;
    if (s === imports) {
      const body = [...u32(n + 1), ...binary.subarray(first, s.end), ...entry];
      out.push(IMPORT_SECTION, ...u32(body.length), ...body);
    } else {
      for (const b of header) out.push(b);
      for (const b of binary.subarray(s.start, s.end)) out.push(b);
    }
  }
  return { bytes: Uint8Array.from(out), initialPages };
}

/**
 * Runs `start` (which instantiates tfjs's wasm backend) with the backend given
 * a shared memory. The memory, or null where there was none to give (no
 * shared memory here, or no module patched; the backend then starts as it
 * would have).
 */
export async function withSharedHeap(start: () => Promise<void>): Promise<WebAssembly.Memory | null> {
  if (typeof SharedArrayBuffer === 'undefined') return null;
  const wa = WebAssembly as unknown as { instantiate: (...args: unknown[]) => Promise<unknown>; instantiateStreaming?: (...args: unknown[]) => Promise<unknown> };
  const { instantiate, instantiateStreaming } = wa;
  let memory: WebAssembly.Memory | null = null;
  const patched = (bytes: ArrayBuffer | ArrayBufferView, imports: Record<string, Record<string, unknown>> | undefined) => {
    if (memory || !imports?.env) return null;
    const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const shared = importSharedMemory(view);
    if (!shared) return null;
    memory = new WebAssembly.Memory({ initial: shared.initialPages, maximum: SHARED_HEAP_MAX_PAGES, shared: true });
    return [shared.bytes, { ...imports, env: { ...imports.env, memory } }] as const;
  };
  wa.instantiate = (source: unknown, imports?: unknown) => {
    const p = source instanceof WebAssembly.Module ? null : patched(source as ArrayBuffer, imports as Record<string, Record<string, unknown>>);
    return p ? instantiate.call(WebAssembly, ...p) : instantiate.call(WebAssembly, source, imports);
  };
  if (instantiateStreaming) {
    wa.instantiateStreaming = async (source: unknown, imports?: unknown) => {
      const bytes = await (await (source as Promise<Response> | Response)).arrayBuffer();
      return wa.instantiate(bytes, imports);
    };
  }
  try {
    await start();
  } finally {
    wa.instantiate = instantiate;
    if (instantiateStreaming) wa.instantiateStreaming = instantiateStreaming;
  }
  return memory;
}

function hasMemoryImport(binary: Uint8Array, at: number, count: number): boolean {
  for (let i = 0; i < count; i++) {
    for (let s = 0; s < 2; s++) {
      const [len, next] = readU32(binary, at);
      at = next + len;
    }
    const kind = binary[at++];
    if (kind === 0x02) return true;
    if (kind === 0x00) at = readU32(binary, at)[1]; // a function: its type index
    else if (kind === 0x01) at = skipLimits(binary, at + 1); // a table: its element type, then limits
    else if (kind === 0x03) at += 2; // a global: its value type and mutability
    else if (kind === 0x04) at = readU32(binary, at + 1)[1]; // a tag
    else return true; // unknown: leave the module alone
  }
  return false;
}

function skipLimits(binary: Uint8Array, at: number): number {
  const flags = binary[at];
  at = readU32(binary, at + 1)[1];
  return flags & 1 ? readU32(binary, at)[1] : at;
}

function readU32(binary: Uint8Array, at: number): [number, number] {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    const b = binary[at++];
    value += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) return [value, at];
  }
}

function u32(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value) b |= 0x80;
    out.push(b);
  } while (value);
  return out;
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...u32(bytes.length), ...bytes];
}
