import * as tf from '../../src/core/tf.ts';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeWeights, encodeWeights, loadPolicy, type CheckpointManifest } from '../../src/core/policy/checkpoint.ts';
import { createPolicy } from '../../src/core/policy/create.ts';
import type { Policy, PolicyConfig } from '../../src/core/policy/policy.ts';
import { Rng } from '../../src/core/rng.ts';
import { getTask, taskArchs, TASKS } from '../../src/core/tasks/index.ts';
import { tinyMlp, tinyTransformer } from './helpers.ts';

function manifestFor(config: PolicyConfig, bytes: Uint8Array): CheckpointManifest {
  return {
    format: 'rlcf-checkpoint',
    version: 1,
    id: `test-${config.arch}`,
    task: 'test',
    config,
    vocabulary: Array.from('abcdefghij'),
    weightsFile: `test-${config.arch}.bin`,
    weightsBytes: bytes.length,
    parameters: 0,
    data: { file: 'none', sha256: '', trainExamples: 0, validationExamples: 0 },
    validationLoss: 0,
    bigramValidationLoss: 0,
    training: { steps: 0, batchSize: 0, learningRate: 0, seed: 0, seconds: 0 },
  };
}

async function logitsOf(p: Policy): Promise<number[]> {
  const out = tf.tidy(() => p.forward(tf.tensor2d([[0, 3, 4, 5]], [1, 4], 'int32')).logits);
  const data = Array.from(await out.data());
  out.dispose();
  return data;
}

describe.each([tinyMlp, tinyTransformer])('checkpoint round trip ($arch)', (config) => {
  it('encodes, decodes and reloads to the same outputs', async () => {
    const original = createPolicy(config, new Rng(42));
    const bytes = await encodeWeights(original);
    const loaded = loadPolicy(manifestFor(config, bytes), bytes);
    expect(await logitsOf(loaded)).toEqual(await logitsOf(original));
    expect([...decodeWeights(bytes).keys()]).toEqual([...original.weights.keys()]);
    original.dispose();
    loaded.dispose();
  });
});

describe('checkpoint errors', () => {
  it('names what is wrong with a damaged file', async () => {
    const p = createPolicy(tinyMlp, new Rng(1));
    const bytes = await encodeWeights(p);
    p.dispose();
    const bad = bytes.slice();
    bad[0] = 'X'.charCodeAt(0);
    expect(() => decodeWeights(bad)).toThrow(/bad magic/);
    const version = bytes.slice();
    version[8] = 9;
    expect(() => decodeWeights(version)).toThrow(/format version 9/);
    expect(() => decodeWeights(bytes.subarray(0, bytes.length - 8))).toThrow(/runs past the end/);
    expect(() => loadPolicy(manifestFor(tinyMlp, bytes), bytes.subarray(0, 100))).toThrow(/100 bytes, the manifest says/);
    const other = { ...tinyMlp, hiddenDim: 17 };
    expect(() => loadPolicy(manifestFor(other, bytes), bytes)).toThrow(/weight w1 has shape \[12,16\], the model needs \[12,17\]/);
  });
});

describe('shipped checkpoints', () => {
  for (const task of TASKS.filter((t) => !t.environment)) {
    for (const arch of taskArchs(task)) {
      it(`${task.id}: ${task.models[arch]} loads, is under 1 MB, fits the task and beats the bigram by 0.2 nats`, () => {
        const manifest = JSON.parse(readFileSync(`public/models/${task.models[arch]}.json`, 'utf8')) as CheckpointManifest;
        const bytes = new Uint8Array(readFileSync(`public/models/${manifest.weightsFile}`));
        expect(bytes.length).toBeLessThan(1_000_000);
        // A task without pretraining of its own uses another's checkpoints: same symbols.
        const owner = getTask(manifest.task);
        expect(owner.pretraining, `${manifest.task} trains ${manifest.id}`).toBeDefined();
        if (task.pretraining) expect(manifest.task).toBe(task.id);
        expect(manifest.vocabulary.join('')).toBe(task.alphabet);
        expect(manifest.bigramValidationLoss - manifest.validationLoss).toBeGreaterThanOrEqual(0.2);
        // The manifest names the data it was trained on: a file in the repo, or what the task's generator makes from the seed.
        const source = owner.pretraining!.data;
        let data: Buffer;
        if (source.kind === 'file') {
          expect(manifest.data.file).toBe(source.file);
          data = readFileSync(`data/${manifest.data.file}`);
        } else {
          const rng = new Rng(manifest.training.seed);
          data = Buffer.from(Array.from({ length: source.count }, () => source.generate(rng)).join('\n'));
        }
        expect(createHash('sha256').update(data).digest('hex')).toBe(manifest.data.sha256);
        const policy = loadPolicy(manifest, bytes);
        expect(policy.config.arch).toBe(arch);
        policy.dispose();
      });
    }
  }
  it('a control task ships none: it trains from scratch', () => {
    for (const task of TASKS.filter((t) => t.environment)) expect(task.models).toEqual({});
  });

  it('all of them together stay under 8 MB', () => {
    const ids = new Set(TASKS.flatMap((t) => Object.values(t.models)));
    const total = [...ids].reduce((n, id) => n + statSync(`public/models/${id}.bin`).size + statSync(`public/models/${id}.json`).size, 0);
    expect(total).toBeLessThan(8 * 2 ** 20);
  });
});
