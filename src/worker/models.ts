import { loadPolicy, validateManifest, type CheckpointManifest } from '../core/policy/checkpoint.ts';
import type { Policy } from '../core/policy/policy.ts';
import { getCorpus } from '../storage/corpusStore.ts';

const base = () => new URL(`${import.meta.env.BASE_URL}models/`, self.location.origin);

const manifests = new Map<string, Promise<CheckpointManifest>>();

/**
 * A shipped checkpoint's manifest (public/models/<id>.json): its policy's
 * configuration, where its weights are. Fetched once per id (the backend probe
 * and the reference policy both read it); a failed fetch is tried again next time.
 */
export function fetchManifest(id: string): Promise<CheckpointManifest> {
  let manifest = manifests.get(id);
  if (!manifest) {
    manifest = readManifest(id);
    manifests.set(id, manifest);
    manifest.catch(() => manifests.delete(id));
  }
  return manifest;
}

async function readManifest(id: string): Promise<CheckpointManifest> {
  const corpus = await corpusManifest(id);
  if (corpus) return corpus;
  const manifestUrl = new URL(`${id}.json`, base());
  const res = await fetch(manifestUrl);
  if (!res.ok) throw new Error(`could not load model ${id}: ${manifestUrl.pathname} answered ${res.status}`);
  const manifest: unknown = await res.json();
  validateManifest(manifest);
  return manifest;
}

/** Fetches a shipped checkpoint (public/models/<id>.json and its weights) from this site, or reads a corpus's from the browser's storage. */
export async function fetchPolicy(id: string, onProgress?: (fraction: number) => void): Promise<Policy> {
  const corpus = await corpusPolicy(id);
  if (corpus) return corpus;
  const manifest = await fetchManifest(id);
  onProgress?.(0.3);
  const bin = await fetch(new URL(manifest.weightsFile, base()));
  if (!bin.ok) throw new Error(`could not load weights of ${id}: ${manifest.weightsFile} answered ${bin.status}`);
  const bytes = new Uint8Array(await bin.arrayBuffer());
  onProgress?.(0.8);
  return loadPolicy(manifest, bytes);
}

/** The model id of a corpus's policy ("corpus-<hash>-mlp"), or null for a shipped one. */
const corpusHash = (modelId: string): string | null => /^corpus-([0-9a-f]{14})-/.exec(modelId)?.[1] ?? null;

async function stored(modelId: string): Promise<{ manifest: CheckpointManifest; weights: Uint8Array } | null> {
  const hash = corpusHash(modelId);
  if (!hash) return null;
  const c = await getCorpus(hash);
  if (!c?.checkpoint) throw new Error(`the policy of ${c ? `"${c.stats.name}"` : 'this corpus'} is not pretrained in this browser: open the corpus file (Import › Corpus…) to pretrain it`);
  return c.checkpoint;
}

/** A corpus's checkpoint manifest, or null when `modelId` is shipped. */
async function corpusManifest(modelId: string): Promise<CheckpointManifest | null> {
  return (await stored(modelId))?.manifest ?? null;
}

/** A corpus's pretrained policy, or null when `modelId` is shipped. */
async function corpusPolicy(modelId: string): Promise<Policy | null> {
  const c = await stored(modelId);
  return c ? loadPolicy(c.manifest, c.weights) : null;
}
