import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '../../src/core/tf.ts';
import { CORPUS_LIMITS, CorpusError, corpusTask, hashText, readCorpus } from '../../src/core/tasks/corpus.ts';
import { getTask, hasTask, registerTask, unregisterTask } from '../../src/core/tasks/index.ts';
import { defaultExperiment, MissingCorpusError, validateExperiment, ExperimentError } from '../../src/core/experiment/experiment.ts';
import { decodeExperiment, encodeExperiment, LinkError } from '../../src/core/experiment/link.ts';
import { pretrainCorpus, PretrainingStopped } from '../../src/core/training/corpusPretraining.ts';
import { loadPolicy } from '../../src/core/policy/checkpoint.ts';
import { trlProject } from '../../src/core/experiment/trlProject.ts';

const bytes = (s: string) => new TextEncoder().encode(s);
const NAMES = readFileSync('data/names.txt', 'utf8').split('\n').slice(0, 2000);

describe('a corpus file', () => {
  it('is summarised: kept lines, alphabet, histogram, and what is left out and why', () => {
    const lines = ['anna', '  bo  ', '', 'x'.repeat(CORPUS_LIMITS.maxLineLength + 1), ...NAMES.slice(0, 100)];
    const { text, stats } = readCorpus('names.txt', bytes(lines.join('\r\n')));
    expect(stats.kept).toBe(102);
    expect(stats.lines).toBe(103);
    expect(stats.tooLong).toBe(1);
    expect(stats.outside).toBe(0);
    expect(text.split('\n').slice(0, 2)).toEqual(['anna', 'bo']);
    expect(stats.example).toBe('anna');
    expect(stats.alphabet).toBe([...new Set(text.replace(/\n/g, ''))].sort().join(''));
    expect(stats.histogram.reduce((a, b) => a + b, 0)).toBe(102);
    expect(stats.histogram[2]).toBe(1 + NAMES.slice(0, 100).filter((n) => n.length === 2).length);
    expect(stats.longest).toBe(stats.histogram.length - 1);
  });

  it('keeps the commonest characters as its alphabet and leaves out the lines with rarer ones, naming them', () => {
    // 100 common symbols in many lines, then a few lines each with one rarer symbol.
    const common = Array.from({ length: 100 }, (_, i) => String.fromCodePoint(0x100 + i));
    const lines = Array.from({ length: 60 }, (_, k) => common.map((c, i) => ((i + k) % 3 === 0 ? c : '')).join('').slice(0, 40));
    for (let i = 0; i < 100; i++) lines.push(common[i].repeat(i < CORPUS_LIMITS.maxAlphabet ? 5 : 1));
    const { stats } = readCorpus('wide.txt', bytes(lines.join('\n')));
    expect([...stats.alphabet]).toHaveLength(CORPUS_LIMITS.maxAlphabet);
    expect(stats.outside).toBeGreaterThan(0);
    expect(stats.outsideChars.length).toBeGreaterThan(0);
    for (const [c] of stats.outsideChars) expect(stats.alphabet.includes(c)).toBe(false);
  });

  it('refuses a bad file with a message naming it and what was wrong', () => {
    const refused = (name: string, b: Uint8Array) => {
      try {
        readCorpus(name, b);
      } catch (e) {
        expect(e).toBeInstanceOf(CorpusError);
        return (e as Error).message;
      }
      throw new Error(`${name} was read`);
    };
    expect(refused('a.txt', new Uint8Array())).toMatch(/^"a\.txt" is empty/);
    expect(refused('b.txt', bytes('\n \n\t\n'))).toMatch(/^"b\.txt" has no text, only blank lines/);
    expect(refused('c.bin', new Uint8Array([1, 2, 0, 3]))).toMatch(/^"c\.bin" is not a text file: it holds a zero byte \(at byte 2\)/);
    expect(refused('d.txt', new Uint8Array([0x63, 0xe9, 0x0a]))).toMatch(/^"d\.txt" is not UTF-8 text/);
    expect(refused('e.txt', bytes('word '.repeat(10_000)))).toMatch(/^"e\.txt" has no line of 64 characters or fewer \(it is one line of up to 49,999 characters\)/);
    expect(refused('f.txt', bytes(Array.from({ length: 250 }, (_, i) => String.fromCodePoint(0x4e00 + i)).join('\n')))).toMatch(/^"f\.txt" has 250 distinct characters/);
    expect(refused('g.txt', bytes('anna\nbo\n'))).toMatch(/^"g\.txt" has 2 usable lines: a policy needs at least 20/);
    expect(refused('h.txt', new Uint8Array(CORPUS_LIMITS.maxBytes + 1).fill(0x61))).toMatch(/^"h\.txt" is 8\.0 MB: a corpus may be at most 8 MB/);
    expect(refused('i.txt', new Uint8Array([0xff, 0xfe, 0x61, 0x00]))).toMatch(/^"i\.txt" is UTF-16 text: save it as UTF-8/);
    expect(refused('j.txt', bytes(['x'.repeat(80), ...Array.from({ length: 5 }, (_, i) => `name${i}`)].join('\n')))).toMatch(/^"j\.txt" has 5 usable lines \(left out: 1 longer than 64 characters\): a policy needs at least 20/);
  });

  it('reads a million short lines (no argument list as long as the file), and cuts a very long file name', () => {
    const many = Array.from({ length: 1_000_000 }, (_, i) => `n${i % 1000}`).join('\n');
    const { stats } = readCorpus(`${'x'.repeat(300)}.txt`, bytes(many));
    expect(stats.kept).toBe(1_000_000);
    expect(stats.longest).toBe(4);
    expect(stats.name).toHaveLength(200);
  });

  it('is named by a hash of its kept lines: the same lines in another file give the same task', () => {
    const a = readCorpus('a.txt', bytes(NAMES.slice(0, 50).join('\n'))).stats;
    const b = readCorpus('b.txt', bytes(`\uFEFF${NAMES.slice(0, 50).join('\r\n')}\r\n\r\n`)).stats;
    const c = readCorpus('c.txt', bytes(NAMES.slice(1, 51).join('\n'))).stats;
    expect(b.hash).toBe(a.hash);
    expect(c.hash).not.toBe(a.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{14}$/);
    expect(hashText('emma')).toBe(hashText('emma'));
  });
});

describe('a corpus as a task', () => {
  const { text, stats } = readCorpus('first-names.txt', bytes(NAMES.join('\n')));
  const id = `corpus-${stats.hash}`;

  it('is offered once registered, and an experiment on it names the corpus; without it the experiment asks for the file', async () => {
    expect(hasTask(id)).toBe(false);
    registerTask(corpusTask(stats));
    try {
      const e = defaultExperiment(id, 'transformer');
      expect(e.arch).toBe('mlp');
      expect(e.corpus).toEqual({ name: 'first-names.txt', hash: stats.hash, lines: 2000 });
      expect(getTask(id).title).toBe('Your corpus: first-names.txt');
      const link = await encodeExperiment(e);
      expect(await decodeExperiment(link)).toEqual(validateExperiment(e));
      expect(() => validateExperiment({ ...e, corpus: undefined })).toThrow(/experiment: corpus is missing: task corpus-\w+ learns from a corpus/);
      expect(() => validateExperiment({ ...e, corpus: { ...e.corpus, hash: '0'.repeat(14) } })).toThrow(/corpus\.hash must be the task's/);
      expect(() => validateExperiment({ ...defaultExperiment('names'), corpus: e.corpus })).toThrow(/corpus is only for a corpus task, and names is shipped/);
      expect(() => trlProject(e, { iterations: 10 })).toThrow(/the lines of your corpus "first-names\.txt" are needed/);
      expect(() => trlProject(e, { iterations: 10, corpus: 'anna\nbo' })).toThrow(/not those of the corpus "first-names\.txt"/);
      expect(trlProject(e, { iterations: 10, corpus: text })['corpus.txt']).toBe(text + '\n');
      unregisterTask(id);
      let error: unknown;
      try {
        validateExperiment(e);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(MissingCorpusError);
      expect(error).toBeInstanceOf(ExperimentError);
      expect((error as MissingCorpusError).corpus.name).toBe('first-names.txt');
      await expect(decodeExperiment(link)).rejects.toThrow(LinkError);
      await expect(decodeExperiment(link)).rejects.toMatchObject({ problem: 'corpus', corpus: e.corpus });
    } finally {
      unregisterTask(id);
    }
  });

  it('pretrains to below the bigram loss, reports its progress, frees every tensor, and stops when asked', async () => {
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    const r = await pretrainCorpus(text, stats, { steps: 200, onProgress: (p) => void seen.push(p.step) });
    expect(seen.at(-1)).toBe(200);
    expect(r.manifest.validationLoss).toBeLessThan(r.manifest.bigramValidationLoss);
    expect(r.manifest.task).toBe(id);
    expect(r.manifest.vocabulary.join('')).toBe(stats.alphabet);
    const copy = loadPolicy(r.manifest, r.weights);
    expect(copy.config).toEqual(r.policy.config);
    copy.dispose();
    r.policy.dispose();
    expect(tf.memory().numTensors).toBe(before);
    let calls = 0;
    await expect(pretrainCorpus(text, stats, { steps: 200, stopped: () => ++calls > 2 })).rejects.toBeInstanceOf(PretrainingStopped);
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});

describe('npm run train -- --corpus', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rlcf-corpus-'));

  it('pretrains on the file, then trains with the default reward', () => {
    const file = path.join(dir, 'first-names.txt');
    writeFileSync(file, NAMES.join('\n'));
    const json = path.join(dir, 'run.json');
    const out = execFileSync('npx', ['tsx', 'scripts/train.ts', '--corpus', file, '--pretrain-steps', '60', '--iterations', '2', '--json', json, '--quiet'], { encoding: 'utf8' });
    expect(out).toMatch(/corpus first-names\.txt: \d+ KiB, 2000 of 2000 lines kept, 26 symbols/);
    expect(out).toMatch(/pretrained in \d+ s: validation loss [\d.]+ nats\/char against the bigram's [\d.]+/);
    const run = JSON.parse(readFileSync(json, 'utf8'));
    expect(run.task).toMatch(/^corpus-[0-9a-f]{14}$/);
    expect(run.iterations).toHaveLength(2);
    expect(run.rewards.map((r: { name: string }) => r.name)).toEqual(['reward']);
  }, 120_000);

  it('names a bad corpus file', () => {
    const file = path.join(dir, 'bad.txt');
    writeFileSync(file, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00]));
    expect(() => execFileSync('npx', ['tsx', 'scripts/train.ts', '--corpus', file], { stdio: 'pipe' })).toThrow(/"bad\.txt" is not a text file/);
    expect(() => execFileSync('npx', ['tsx', 'scripts/train.ts', '--corpus', file, '--task', 'names'], { stdio: 'pipe' })).toThrow(/"bad\.txt" is not a text file|--task cannot go with --corpus/);
    expect(() => execFileSync('npx', ['tsx', 'scripts/train.ts', '--pretrain-steps', '5'], { stdio: 'pipe' })).toThrow(/--pretrain-steps goes with --corpus/);
    // An experiment on a corpus needs that corpus, and only that one.
    const lines = path.join(dir, 'names.txt');
    writeFileSync(lines, NAMES.join('\n'));
    const { stats } = readCorpus('names.txt', bytes(NAMES.join('\n')));
    registerTask(corpusTask(stats));
    const experiment = path.join(dir, 'corpus-run.json');
    writeFileSync(experiment, JSON.stringify(defaultExperiment(`corpus-${stats.hash}`)));
    unregisterTask(`corpus-${stats.hash}`);
    expect(() => execFileSync('npx', ['tsx', 'scripts/train.ts', '--experiment', experiment], { stdio: 'pipe' })).toThrow(/trains on "names\.txt" \(2000 lines\), a corpus of your own: pass that file as --corpus FILE/);
    const other = path.join(dir, 'other.txt');
    writeFileSync(other, NAMES.slice(0, 500).join('\n'));
    expect(() => execFileSync('npx', ['tsx', 'scripts/train.ts', '--experiment', experiment, '--corpus', other], { stdio: 'pipe' })).toThrow(/corpus-run\.json trains on "names\.txt" \(2000 lines\), a corpus of your own: --corpus .*other\.txt is not it \(its lines differ\)/);
    const names = path.join(dir, 'names.json');
    writeFileSync(names, JSON.stringify(defaultExperiment('names')));
    expect(() => execFileSync('npx', ['tsx', 'scripts/train.ts', '--experiment', names, '--corpus', other], { stdio: 'pipe' })).toThrow(/--corpus .*other\.txt is not the corpus --experiment .*names\.json trains on \(it trains task names\)/);
  });
});
