import { MlpPolicy } from './mlp.ts';
import { ARCHS, type Policy, type PolicyConfig } from './policy.ts';
import { Rng } from '../rng.ts';
import { TransformerPolicy } from './transformer.ts';

/** Builds a freshly initialised policy of either architecture. */
export function createPolicy(config: PolicyConfig, rng: Rng = new Rng(0)): Policy {
  validatePolicyConfig(config);
  return config.arch === 'mlp' ? new MlpPolicy(config, rng) : new TransformerPolicy(config, rng);
}

const LIMITS: Record<string, [number, number]> = {
  vocabSize: [3, 4096],
  contextLength: [1, 512],
  embedDim: [1, 1024],
  hiddenDim: [1, 4096],
  layers: [1, 24],
  heads: [1, 32],
  width: [1, 1024],
};

/** Rejects an unknown architecture or an out-of-range size, naming the field. */
export function validatePolicyConfig(config: unknown): asserts config is PolicyConfig {
  if (typeof config !== 'object' || config === null) throw new Error('policy config must be an object');
  const c = config as Record<string, unknown>;
  const fields =
    c.arch === 'mlp' ? ['vocabSize', 'contextLength', 'embedDim', 'hiddenDim'] :
    c.arch === 'transformer' ? ['vocabSize', 'contextLength', 'layers', 'heads', 'width'] :
    null;
  if (!fields) throw new Error(`policy config: unknown arch ${JSON.stringify(c.arch)} (expected ${ARCHS.map((a) => JSON.stringify(a)).join(' or ')})`);
  for (const f of fields) {
    const v = c[f];
    const [lo, hi] = LIMITS[f];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
      throw new Error(`policy config: ${f} must be a whole number in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
    }
  }
  for (const k of Object.keys(c)) {
    if (k !== 'arch' && !fields.includes(k)) throw new Error(`policy config: unknown field ${JSON.stringify(k)} for arch ${c.arch}`);
  }
  if (c.arch === 'transformer' && (c.width as number) % (c.heads as number) !== 0) {
    throw new Error(`policy config: width ${c.width} must be divisible by heads ${c.heads}`);
  }
}
