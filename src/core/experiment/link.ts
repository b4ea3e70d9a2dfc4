import { EXPERIMENT_VERSION, MissingCorpusError, validateExperiment, type CorpusRef, type Experiment } from './experiment.ts';

/**
 * Links: the whole experiment in the URL's fragment, which never reaches a server.
 *
 *   #exp=<version>.<base64url of the zlib-compressed JSON>
 *
 * The version tag is the experiment schema's; older ones are migrated on open.
 * zlib ('deflate') rather than raw deflate, for its checksum: a link changed by
 * hand or cut short is caught as such, not read as other settings. Compression
 * is the platform's CompressionStream (browsers and Node alike).
 */
export const LINK_PARAM = 'exp';
/** Most bytes a link's experiment may decompress to. */
export const LINK_MAX_JSON_BYTES = 64 * 1024;
/** Most characters of the encoded part read at all (64 KiB compresses to far less). */
const LINK_MAX_ENCODED = 96 * 1024;

export type LinkProblem = 'format' | 'version' | 'encoding' | 'truncated' | 'corrupt' | 'too-large' | 'json' | 'invalid' | 'corpus';

/** Why a link could not be opened, in words for the person who opened it. */
export class LinkError extends Error {
  constructor(
    readonly problem: LinkProblem,
    message: string,
    /** The corpus the link trains on, when it is one this page does not have ('corpus'). */
    readonly corpus?: CorpusRef,
  ) {
    super(message);
    this.name = 'LinkError';
  }
}

/** Most preference labels a link carries: the latest ones (about 300 short pairs keep a link within its size). */
export const LINK_LABELS = 300;

/**
 * The experiment as a link carries it: the latest LINK_LABELS of a person's
 * labels at most, and fewer when long completions would take the link past
 * LINK_MAX_JSON_BYTES; with how many were left out.
 */
export function forLink(e: Experiment): { experiment: Experiment; droppedLabels: number } {
  let keep = Math.min(e.labels.length, LINK_LABELS);
  const size = (k: number) => new TextEncoder().encode(JSON.stringify({ ...e, labels: e.labels.slice(e.labels.length - k) })).length;
  while (keep > 0 && size(keep) > LINK_MAX_JSON_BYTES) keep = Math.floor(keep * 0.9);
  const dropped = e.labels.length - keep;
  return { experiment: dropped ? { ...e, labels: e.labels.slice(dropped) } : e, droppedLabels: dropped };
}

/** The fragment (without '#') that carries the experiment. */
export async function encodeExperiment(e: Experiment): Promise<string> {
  const json = new TextEncoder().encode(JSON.stringify(e));
  const packed = await pipe(json, new CompressionStream('deflate'), Infinity);
  return `${LINK_PARAM}=${EXPERIMENT_VERSION}.${toBase64Url(packed)}`;
}

/** Whether a URL fragment carries an experiment at all (else the page opens its default). */
export function hasExperiment(fragment: string): boolean {
  return new URLSearchParams(fragment.replace(/^#/, '')).has(LINK_PARAM);
}

/**
 * Reads the experiment out of a URL fragment. Every failure is a LinkError that
 * says what was wrong; nothing else escapes.
 */
export async function decodeExperiment(fragment: string): Promise<Experiment> {
  const value = new URLSearchParams(fragment.replace(/^#/, '')).get(LINK_PARAM);
  if (value === null) throw new LinkError('format', `The link has no experiment in it (its part after # should start with "${LINK_PARAM}=").`);
  const m = /^(\d{1,4})\.([A-Za-z0-9_-]*)$/.exec(value);
  if (!m) throw new LinkError('format', `The link's experiment is not in the expected form "${LINK_PARAM}=<version>.<data>": it may have been cut or edited.`);
  const version = Number(m[1]);
  if (version < 1 || version > EXPERIMENT_VERSION) {
    throw new LinkError('version', version > EXPERIMENT_VERSION ? `The link was made by a newer version of the playground (experiment version ${version}; this one reads up to ${EXPERIMENT_VERSION}).` : `The link's experiment version ${version} is not one the playground ever wrote.`);
  }
  if (m[2].length > LINK_MAX_ENCODED) throw new LinkError('too-large', `The link is too long (${m[2].length} characters of data); experiments in links are limited to ${LINK_MAX_JSON_BYTES / 1024} KiB.`);
  let packed: Uint8Array;
  try {
    packed = fromBase64Url(m[2]);
  } catch {
    throw new LinkError('encoding', 'The link is damaged: its data is not valid base64url (was it cut or edited?).');
  }
  let raw: Uint8Array;
  try {
    raw = await pipe(packed, new DecompressionStream('deflate'), LINK_MAX_JSON_BYTES);
  } catch (e) {
    if (e instanceof LinkError) throw e;
    const truncated = /end|trunc|incomplete/i.test((e as Error).message ?? '');
    throw new LinkError(truncated ? 'truncated' : 'corrupt', truncated ? 'The link is incomplete: its data ends too soon (was only part of it copied?).' : 'The link is damaged: its data does not decompress (was it edited?).');
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch {
    throw new LinkError('json', 'The link is damaged: its data is not a readable experiment.');
  }
  try {
    return validateExperiment(json);
  } catch (e) {
    if (e instanceof MissingCorpusError) throw new LinkError('corpus', `This link trains on "${e.corpus.name}" (${e.corpus.lines.toLocaleString('en-US')} lines), a corpus this browser does not have: choose that file (Import › Corpus…) or drop it on the page to open the link.`, e.corpus);
    throw new LinkError('invalid', `The link's experiment is not valid: ${(e as Error).message.replace(/^experiment: /, '')}.`);
  }
}

/** Streams bytes through a (de)compressor, refusing output past `limit` bytes. */
async function pipe(input: Uint8Array, transform: CompressionStream | DecompressionStream, limit: number): Promise<Uint8Array> {
  const writer = transform.writable.getWriter();
  // The writer's promises reject along with the reader when the data is bad; the reader reports it.
  writer.write(input as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const reader = transform.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw new LinkError('too-large', `The link's experiment is larger than ${limit / 1024} KiB once unpacked; links are limited to that size.`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

export function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64Url(text: string): Uint8Array {
  if (text.length % 4 === 1) throw new Error('impossible base64 length');
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
