import { readFileSync } from 'node:fs';
import { expect, test } from './fixtures.ts';
import { iteration, openPlayground } from './helpers.ts';

// Bring your own corpus: a text file of lines dropped on the page is read and
// summarised, a policy is pretrained on it in a worker, and it becomes a task;
// bad files are refused by name; a link on a corpus asks for the file.

/** 3,000 names and one line too long to keep: a small corpus of one item a line. */
const NAMES = readFileSync('data/names.txt', 'utf8').split('\n').slice(0, 3000);
const LINES = [...NAMES.slice(0, 1500), 'x'.repeat(70), ...NAMES.slice(1500)].join('\n') + '\n';
const file = (name: string, text: string | Buffer) => ({ name, mimeType: 'text/plain', buffer: typeof text === 'string' ? Buffer.from(text) : text });

test('a corpus file is summarised, pretrained with its held-out loss against the bigram, and trains as a task; it is still offered after a reload', async ({ page }) => {
  test.setTimeout(240_000);
  await openPlayground(page);
  await page.getByTestId('corpus-file').setInputFiles(file('first-names.txt', LINES));
  const stats = page.getByTestId('corpus-stats');
  await expect(stats).toBeVisible();
  await expect(page.getByTestId('corpus-lines')).toHaveText('3,000');
  await expect(page.getByTestId('corpus-alphabet-size')).toHaveText('26');
  await expect(page.getByTestId('corpus-dropped')).toContainText('1 lines longer than 64 characters');
  const longest = Math.max(...NAMES.map((n) => n.length));
  await expect(page.getByTestId('corpus-histogram').locator('rect')).toHaveCount(longest);
  await page.getByTestId('corpus-pretrain').click();
  await expect(page.getByTestId('corpus-progress')).toBeVisible();
  // The held-out loss is measured as it goes, and the finished policy beats the bigram model.
  await expect(page.getByTestId('corpus-validation-loss')).toHaveText(/^\d\.\d{3}$/, { timeout: 120_000 });
  const bigram = Number(await page.getByTestId('corpus-bigram-loss').textContent());
  expect(bigram).toBeGreaterThan(2);
  await expect(page.getByTestId('task-select')).toHaveValue(/^corpus-[0-9a-f]{14}$/, { timeout: 180_000 });
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 60_000 });
  await expect(page.getByTestId('task-select').locator('option:checked')).toHaveText('Your corpus: first-names.txt');
  const origin = (await page.getByTestId('origin').textContent()) ?? '';
  const [, validation, against] = /validation loss (\d\.\d+) nats a character against the bigram's (\d\.\d+)/.exec(origin) ?? [];
  expect(Number(validation)).toBeLessThan(Number(against));
  expect(Number(against)).toBeCloseTo(bigram, 3);
  // A task like any other: it trains with the text task's default reward, and its samples are lines of its alphabet.
  await page.getByTestId('step').click();
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBe(1);
  const samples = await page.getByTestId('samples').locator('.text b').allTextContents();
  expect(samples.length).toBeGreaterThan(0);
  for (const s of samples) expect(s).toMatch(/^[a-z]*$/);
  await expect(page.getByTestId('corpus-export')).toBeVisible();
  // Its run file (Export › Experiment) imports again: the files worker knows the stored corpus.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-experiment').click()]);
  await page.getByTestId('import-file').setInputFiles((await download.path())!);
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('origin')).toContainText('Imported from', { timeout: 60_000 });
  await expect(page.getByTestId('open-problem')).toHaveCount(0);
  await expect(page.getByTestId('task-select').locator('option:checked')).toHaveText('Your corpus: first-names.txt');
  // Stored in the browser: after a reload the corpus is still a task, with no pretraining.
  await page.reload();
  await expect(page.getByTestId('status')).not.toHaveText('loading', { timeout: 90_000 });
  await expect(page.getByTestId('task-select').locator('option', { hasText: 'Your corpus: first-names.txt' })).toHaveCount(1);
  // Forgotten: the corpus goes, the page moves to the first task, and the runs on it stay listed, saying the corpus is not here.
  await page.getByTestId('task-select').selectOption({ label: 'Your corpus: first-names.txt' });
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 60_000 });
  await page.getByTestId('corpus-forget').click();
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('task-select')).toHaveValue('names', { timeout: 60_000 });
  await expect(page.getByTestId('task-select').locator('option', { hasText: 'Your corpus' })).toHaveCount(0);
  await page.reload();
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  await page.getByTestId('runs-panel').locator('summary').click();
  // Both runs on it (the one trained, and the one its file brought back) stay listed.
  await expect(page.getByTestId('run-meta').filter({ hasText: 'Your corpus: first-names.txt (not in this browser)' })).toHaveCount(2);
});

test('bad corpus files are refused by name, and the run on screen is kept', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('step').click();
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBe(1);
  const refusals: [ReturnType<typeof file>, RegExp][] = [
    [file('empty.txt', ''), /"empty\.txt" is empty/],
    [file('image.txt', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x0d, 0x0a])), /"image\.txt" is not a text file: it holds a zero byte/],
    [file('one-line.txt', 'word '.repeat(5000)), /"one-line\.txt" has no line of 64 characters or fewer \(it is one line/],
    [file('symbols.txt', Array.from({ length: 300 }, (_, i) => String.fromCodePoint(0x4e00 + i).repeat(3)).join('\n')), /"symbols\.txt" has 300 distinct characters/],
    [file('latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])), /"latin1\.txt" is not UTF-8 text/],
  ];
  for (const [f, message] of refusals) {
    await page.getByTestId('corpus-file').setInputFiles(f);
    await expect(page.getByTestId('corpus-error')).toHaveText(message);
    await expect(page.getByTestId('corpus-stats')).toHaveCount(0);
  }
  await expect(page.getByTestId('iteration')).toHaveText('1');
  await expect(page.getByTestId('task-select')).toHaveValue('names');
  await page.getByTestId('corpus-cancel').click();
  await expect(page.getByTestId('corpus-panel')).toHaveCount(0);
});

test('a link on a corpus this browser lacks asks for the file, refuses another, and opens once the right one is pretrained', async ({ page }) => {
  test.setTimeout(240_000);
  const { readCorpus, corpusTask } = await import('../../src/core/tasks/corpus.ts');
  const { registerTask } = await import('../../src/core/tasks/index.ts');
  const { defaultExperiment } = await import('../../src/core/experiment/experiment.ts');
  const { encodeExperiment } = await import('../../src/core/experiment/link.ts');
  const { stats } = readCorpus('first-names.txt', new Uint8Array(Buffer.from(LINES)));
  registerTask(corpusTask(stats));
  const e = defaultExperiment(`corpus-${stats.hash}`, 'mlp', 'ppo');
  const link = `#${await encodeExperiment({ ...e, rewards: [{ name: 'vowels', weight: 1, source: corpusTask(stats).examples.vowels.source }], seed: 5 })}`;
  await page.goto(`/${link}`);
  await expect(page.getByTestId('corpus-needed')).toContainText('first-names.txt (3,000 lines), a corpus this browser does not have');
  await expect(page.getByTestId('open-problem')).toContainText('first-names.txt');
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 90_000 });
  // Another file is not the link's corpus.
  await page.getByTestId('corpus-needed-file').setInputFiles(file('other.txt', NAMES.slice(0, 500).join('\n')));
  await expect(page.getByTestId('corpus-error')).toContainText('other.txt is not the corpus the link was made on');
  await page.getByTestId('corpus-needed-file').setInputFiles(file('first-names.txt', LINES));
  await page.getByTestId('corpus-pretrain').click();
  await expect(page.getByTestId('task-select')).toHaveValue(`corpus-${stats.hash}`, { timeout: 180_000 });
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 60_000 });
  await expect(page.getByTestId('reward-tab-0')).toContainText('vowels');
  await expect(page.getByTestId('open-problem')).toHaveCount(0);
  await expect(page.getByTestId('corpus-panel')).toHaveCount(0);
});
