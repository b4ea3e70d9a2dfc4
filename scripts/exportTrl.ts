// Writes an experiment as a TRL project (src/core/experiment/trlProject.ts):
//
//   npm run export-trl -- --experiment file.json --out DIR [--iterations N] [--force] [--corpus lines.txt]
// (--corpus: the file an experiment made on a person's corpus learnt from)
//
// The bridge in it runs the reward through this project's `npm run
// reward-server`; the folder this runs in is its default RLCF_PLAYGROUND.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readExperimentFile } from '../src/core/experiment/runFile.ts';
import { trlProject } from '../src/core/experiment/trlProject.ts';
import { parseArgs, readOptionFile, runMain } from './args.ts';
import { takePreferences } from './preferenceCli.ts';
import { registerCorpusFile } from './corpusCli.ts';

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), { experiment: 'string', out: 'string', iterations: 'count', force: 'boolean', corpus: 'string' });
  const corpus = args.corpus !== undefined ? registerCorpusFile(String(args.corpus)) : null;
  if (args.experiment === undefined || args.out === undefined) throw new Error('usage: npm run export-trl -- --experiment file.json --out DIR [--iterations N] [--force]');
  const file = String(args.experiment);
  const text = readOptionFile('--experiment', file);
  let files: Record<string, string>;
  try {
    files = trlProject(readExperimentFile(takePreferences(text)).experiment, { iterations: Number(args.iterations ?? 100), playground: process.cwd(), ...(corpus ? { corpus: corpus.text } : {}) });
  } catch (e) {
    throw new Error(`--experiment ${file}: ${(e as Error).message}`);
  }
  const out = path.resolve(String(args.out));
  if (existsSync(out) && readdirSync(out).length > 0 && !args.force) throw new Error(`--out ${out} is not empty: choose an empty folder, or pass --force to write over what is there`);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(out, name)), { recursive: true });
    writeFileSync(path.join(out, name), content);
  }
  console.log(`wrote ${Object.keys(files).length} files to ${out}: ${Object.keys(files).join(', ')}`);
  console.log(`next: cd ${out} && python3 reward_bridge.py --selftest, then README.md`);
});
