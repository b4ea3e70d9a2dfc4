/**
 * The container both binary formats share (policy weights, `RLCFCKPT`; a
 * trainer's whole state, `RLCFSTAT`): a magic, a version, a JSON header, and
 * 4-byte little-endian values after it.
 *
 *   bytes 0-7   the format's magic
 *   u32 LE      format version
 *   u32 LE      header length H in bytes
 *   H bytes     UTF-8 JSON
 *   padding     zeros up to a multiple of 4 bytes
 *   4-byte LE   values
 */

/** An empty container with its header written: values go from `dataStart` on (`valueCount` 4-byte values). */
export function writeContainer(magic: string, version: number, headerJson: string, valueCount: number): { out: Uint8Array<ArrayBuffer>; view: DataView; dataStart: number } {
  const header = new TextEncoder().encode(headerJson);
  const dataStart = align4(16 + header.length);
  const out = new Uint8Array(dataStart + 4 * valueCount);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(magic), 0);
  view.setUint32(8, version, true);
  view.setUint32(12, header.length, true);
  out.set(header, 16);
  return { out, view, dataStart };
}

/** The header's JSON text and where the values start; throws, prefixed with `what`, on a wrong magic or version or a short file. */
export function readContainer(bytes: Uint8Array, magic: string, version: number, what: string): { headerJson: string; view: DataView; dataStart: number } {
  if (bytes.length < 16) throw new Error(`${what}: ${bytes.length} bytes is too short to be one`);
  const found = new TextDecoder().decode(bytes.subarray(0, 8));
  if (found !== magic) throw new Error(`${what}: bad magic ${JSON.stringify(found)} (expected ${magic})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const v = view.getUint32(8, true);
  if (v !== version) throw new Error(`${what}: format version ${v} is not supported (expected ${version})`);
  const headerLength = view.getUint32(12, true);
  if (16 + headerLength > bytes.length) throw new Error(`${what}: header length ${headerLength} runs past the end of the file`);
  return { headerJson: new TextDecoder().decode(bytes.subarray(16, 16 + headerLength)), view, dataStart: align4(16 + headerLength) };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
