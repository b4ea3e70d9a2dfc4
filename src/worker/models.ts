import { loadPolicy, validateManifest } from '../core/checkpoint.ts';
import type { Policy } from '../core/policy.ts';

/** Fetches a shipped checkpoint (public/models/<id>.json and its weights) from this site. */
export async function fetchPolicy(id: string, onProgress?: (fraction: number) => void): Promise<Policy> {
  const base = new URL(`${import.meta.env.BASE_URL}models/`, self.location.origin);
  const manifestUrl = new URL(`${id}.json`, base);
  const res = await fetch(manifestUrl);
  if (!res.ok) throw new Error(`could not load model ${id}: ${manifestUrl.pathname} answered ${res.status}`);
  const manifest: unknown = await res.json();
  validateManifest(manifest);
  onProgress?.(0.3);
  const bin = await fetch(new URL(manifest.weightsFile, base));
  if (!bin.ok) throw new Error(`could not load weights of ${id}: ${manifest.weightsFile} answered ${bin.status}`);
  const bytes = new Uint8Array(await bin.arrayBuffer());
  onProgress?.(0.8);
  return loadPolicy(manifest, bytes);
}
