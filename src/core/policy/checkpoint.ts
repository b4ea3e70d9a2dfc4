import * as tf from '../tf.ts';
import { readContainer, writeContainer } from '../binaryFile.ts';
import { createPolicy, validatePolicyConfig } from './create.ts';
import { parameterCount, type Policy, type PolicyConfig } from './policy.ts';

/**
 * Checkpoints: a JSON manifest (what the model is and how it was made) beside a
 * small binary of weights. The binary is self-describing:
 *
 *   bytes 0-7   "RLCFCKPT"
 *   u32 LE      format version (1)
 *   u32 LE      header length H in bytes
 *   H bytes     UTF-8 JSON: [{ name, shape }] in storage order
 *   padding     zeros up to a multiple of 4 bytes
 *   float32 LE  every tensor's values, in header order
 */
export const CHECKPOINT_VERSION = 1;
const MAGIC = 'RLCFCKPT';

export interface CheckpointManifest {
  format: 'rlcf-checkpoint';
  version: number;
  /** e.g. "names-mlp"; the weights live in `${id}.bin` beside the manifest. */
  id: string;
  task: string;
  config: PolicyConfig;
  /** The tokenizer's symbols, in id order after the start and end tokens. */
  vocabulary: string[];
  weightsFile: string;
  weightsBytes: number;
  parameters: number;
  /** What the weights were trained on, so a checkpoint can be traced to its data. */
  data: { file: string; sha256: string; trainExamples: number; validationExamples: number };
  /** Mean cross-entropy per character (end token included) on the held-out split, in nats. */
  validationLoss: number;
  /** The same measure for a bigram model fit on the same training split. */
  bigramValidationLoss: number;
  training: { steps: number; batchSize: number; learningRate: number; seed: number; seconds: number };
}

interface TensorEntry {
  name: string;
  shape: number[];
}

export async function encodeWeights(policy: Pick<Policy, 'weights'>): Promise<Uint8Array> {
  const entries: TensorEntry[] = [];
  const arrays: Float32Array[] = [];
  for (const [name, v] of policy.weights) {
    entries.push({ name, shape: v.shape });
    arrays.push((await v.data()) as Float32Array);
  }
  const { out, view, dataStart } = writeContainer(MAGIC, CHECKPOINT_VERSION, JSON.stringify(entries), arrays.reduce((n, a) => n + a.length, 0));
  let off = dataStart;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++, off += 4) view.setFloat32(off, a[i], true);
  }
  return out;
}

/** Parses the binary into named tensors' values; throws on any malformed part. */
export function decodeWeights(bytes: Uint8Array): Map<string, { shape: number[]; values: Float32Array }> {
  const { headerJson, view, dataStart } = readContainer(bytes, MAGIC, CHECKPOINT_VERSION, 'checkpoint');
  let entries: TensorEntry[];
  try {
    entries = JSON.parse(headerJson);
  } catch (e) {
    throw new Error(`checkpoint: header is not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(entries)) throw new Error('checkpoint: header is not a list of tensors');
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  let off = dataStart;
  for (const e of entries) {
    if (typeof e?.name !== 'string' || !Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new Error(`checkpoint: malformed tensor entry ${JSON.stringify(e)}`);
    }
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (off + n * 4 > bytes.length) throw new Error(`checkpoint: tensor ${e.name} runs past the end of the file`);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++, off += 4) values[i] = view.getFloat32(off, true);
    const bad = nonFinite(e.name, values);
    if (bad) throw new Error(`checkpoint: ${bad}`);
    out.set(e.name, { shape: e.shape, values });
  }
  if (off !== bytes.length) throw new Error(`checkpoint: ${bytes.length - off} unexpected bytes after the last tensor`);
  return out;
}

/** Where a tensor holds a value that is not a finite number (a policy with one samples nothing and trains to NaN), or null. */
export function nonFinite(name: string, values: ArrayLike<number>): string | null {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) return `tensor ${name} holds ${values[i]} at index ${i}: weights must be finite numbers`;
  }
  return null;
}

/** Builds a policy from a manifest and its weight bytes; every weight must be present with its shape. */
export function loadPolicy(manifest: CheckpointManifest, bytes: Uint8Array): Policy {
  validateManifest(manifest);
  if (bytes.length !== manifest.weightsBytes) {
    throw new Error(`checkpoint ${manifest.id}: weights are ${bytes.length} bytes, the manifest says ${manifest.weightsBytes}`);
  }
  const stored = decodeWeights(bytes);
  const policy = createPolicy(manifest.config);
  try {
    for (const [name, v] of policy.weights) {
      const s = stored.get(name);
      if (!s) throw new Error(`checkpoint ${manifest.id}: weight ${name} is missing`);
      if (s.shape.join(',') !== v.shape.join(',')) {
        throw new Error(`checkpoint ${manifest.id}: weight ${name} has shape [${s.shape}], the model needs [${v.shape}]`);
      }
      tf.tidy(() => v.assign(tf.tensor(s.values, s.shape)));
    }
    for (const name of stored.keys()) {
      if (!policy.weights.has(name)) throw new Error(`checkpoint ${manifest.id}: unknown weight ${name}`);
    }
  } catch (e) {
    policy.dispose();
    throw e;
  }
  return policy;
}

export function validateManifest(m: unknown): asserts m is CheckpointManifest {
  if (typeof m !== 'object' || m === null) throw new Error('checkpoint manifest must be an object');
  const c = m as Record<string, unknown>;
  if (c.format !== 'rlcf-checkpoint') throw new Error(`checkpoint manifest: format is ${JSON.stringify(c.format)}, expected "rlcf-checkpoint"`);
  if (c.version !== CHECKPOINT_VERSION) throw new Error(`checkpoint manifest: version ${JSON.stringify(c.version)} is not supported`);
  for (const f of ['id', 'task', 'weightsFile'] as const) {
    if (typeof c[f] !== 'string' || !c[f]) throw new Error(`checkpoint manifest: ${f} must be a non-empty string`);
  }
  if (!Array.isArray(c.vocabulary) || !c.vocabulary.every((s) => typeof s === 'string')) {
    throw new Error('checkpoint manifest: vocabulary must be a list of strings');
  }
  validatePolicyConfig(c.config);
  if ((c.config as PolicyConfig).vocabSize !== c.vocabulary.length + 2) {
    throw new Error(`checkpoint manifest: vocabSize ${(c.config as PolicyConfig).vocabSize} does not match ${c.vocabulary.length} symbols + 2 special tokens`);
  }
  if (typeof c.weightsBytes !== 'number') throw new Error('checkpoint manifest: weightsBytes must be a number');
}

/** The fields of a manifest that the policy and its weights decide (the caller adds what it was trained on and how). */
export function checkpointHead(id: string, task: string, policy: Policy, vocabulary: readonly string[], weights: Uint8Array) {
  return { format: 'rlcf-checkpoint' as const, version: CHECKPOINT_VERSION, id, task, config: policy.config, vocabulary: [...vocabulary], weightsFile: `${id}.bin`, weightsBytes: weights.length, parameters: parameterCount(policy) };
}
