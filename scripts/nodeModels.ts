import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadPolicy, validateManifest } from '../src/core/policy/checkpoint.ts';
import type { Policy } from '../src/core/policy/policy.ts';

/** Loads public/models/<id>.json and its weights from disk. */
export function loadPolicyFromDisk(id: string, dir = 'public/models'): Policy {
  const manifestPath = path.join(dir, `${id}.json`);
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read checkpoint ${manifestPath}: ${(e as Error).message} (run npm run train-reference first?)`);
  }
  validateManifest(manifest);
  return loadPolicy(manifest, new Uint8Array(readFileSync(path.join(dir, manifest.weightsFile))));
}
