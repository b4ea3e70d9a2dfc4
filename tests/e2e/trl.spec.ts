import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import { expect, test } from './fixtures.ts';
import { openPlayground } from './helpers.ts';

// Export to TRL from the page: a zip of one folder with the project the command
// line writes, the experiment on screen in it.

test('Export › TRL project downloads a zip whose Python compiles and whose experiment is the one on screen', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('algorithm-select').selectOption('grpo');
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 60_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-trl').click()]);
  expect(download.suggestedFilename()).toMatch(/^names-grpo-mlp-seed1-it0-trl\.zip$/);
  const files = unzipSync(new Uint8Array(readFileSync(await download.path())));
  const folder = download.suggestedFilename().replace(/\.zip$/, '');
  const names = Object.keys(files).map((n) => n.slice(folder.length + 1));
  expect(names.sort()).toEqual(['README.md', 'accelerate/deepspeed_zero2.yaml', 'accelerate/multi_gpu.yaml', 'accelerate/single_gpu.yaml', 'examples.jsonl', 'experiment.json', 'prompts.jsonl', 'requirements.txt', 'reward_bridge.py', 'train.py']);
  const dir = mkdtempSync(path.join(tmpdir(), 'rlcf-trl-e2e-'));
  for (const [name, bytes] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), bytes);
  }
  execFileSync('/usr/bin/python3', ['-m', 'py_compile', 'train.py', 'reward_bridge.py'], { cwd: path.join(dir, folder) });
  const train = strFromU8(files[`${folder}/train.py`]);
  expect(train).toContain('from trl import GRPOConfig, GRPOTrainer');
  expect(train).toMatch(/"num_generations": 8,/);
  expect(strFromU8(files[`${folder}/reward_bridge.py`])).toContain('DEFAULT_PLAYGROUND = None');
  const experiment = JSON.parse(strFromU8(files[`${folder}/experiment.json`])) as { algorithm: string; task: string };
  expect(experiment).toMatchObject({ algorithm: 'grpo', task: 'names' });
});
