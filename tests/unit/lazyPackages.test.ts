import { describe, expect, it } from 'vitest';
import { getTask, prepareHelpers, prepareTask, taskHelpers } from '../../src/core/tasks/index.ts';
import { lazyPackage } from '../../src/core/tasks/lazy.ts';

// Packages only some tasks need (compromise, VADER) load when the task is first
// used, not with the page: before that their code says what to do, after it works.
describe('task packages loaded when first needed', () => {
  it('a task computes its fields once prepared, and says so before', async () => {
    const privacy = getTask('privacy');
    expect(() => privacy.fields!.compute('Call Maria at 555-201-3344.', '')).toThrow(/compromise package is not loaded yet/);
    await prepareTask(privacy);
    expect(privacy.fields!.compute('Call Maria Lopez at 555-201-3344.', '')).toMatchObject({ names: 1, phones: 1 });
    await expect(prepareTask(getTask('names'))).resolves.toBeUndefined(); // most tasks load nothing
  });

  it('helpers work after prepareHelpers', async () => {
    expect(() => taskHelpers().sentiment.fn('what a lovely day')).toThrow(/vader-sentiment package is not loaded yet/);
    await prepareHelpers();
    expect(taskHelpers().sentiment.fn('what a lovely day')).toBeGreaterThan(0.5);
  });

  it("sentiment's fields load VADER and the corpus's word list (87 KB) with the task", async () => {
    const sentiment = getTask('sentiment');
    await prepareTask(sentiment);
    expect(sentiment.fields!.compute('my gentle lord zorblax', '')).toMatchObject({ words: 4, unknownWords: 1, unknown: ['zorblax'] });
  });

  it('a package that fails to load says which, and the next call tries again', async () => {
    let calls = 0;
    const pkg = lazyPackage('example', async () => {
      if (++calls === 1) throw new Error('network error');
      return { answer: 42 };
    });
    await expect(pkg.load()).rejects.toThrow('the example package could not be loaded: network error');
    expect(() => pkg.get()).toThrow(/example package is not loaded yet/);
    await pkg.load();
    await pkg.load(); // once loaded, no second import
    expect(pkg.get().answer).toBe(42);
    expect(calls).toBe(2);
  });
});
