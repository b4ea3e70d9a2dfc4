/**
 * Work for the page's main thread in small tasks, one at a time, input and
 * rendering free to run between them. Seven charts and 64 sample rows updated in
 * the task that brought an iteration kept the main thread busy 50-150 ms on a
 * 2-core machine; queued here, each is a few milliseconds. A key queued twice
 * before its turn runs once, with its latest work, in its first place.
 */
const pending = new Map<object, () => void>();
let scheduled = false;
const channel = typeof MessageChannel === 'undefined' ? null : new MessageChannel();

function runNext(): void {
  const next = pending.entries().next();
  if (next.done) {
    scheduled = false;
    return;
  }
  const [key, work] = next.value;
  pending.delete(key);
  post(); // first: work that throws must not stall the queue
  work();
}

function post(): void {
  // A message, not setTimeout: nested timeouts are clamped to 4 ms and throttled in background tabs.
  if (channel) channel.port2.postMessage(null);
  else setTimeout(runNext, 0);
}
if (channel) channel.port1.onmessage = runNext;

export function queueTask(key: object, work: () => void): void {
  pending.set(key, work);
  if (!scheduled) {
    scheduled = true;
    post();
  }
}

/** Drops a key's queued work (its component went away). */
export function dropTask(key: object): void {
  pending.delete(key);
}

/**
 * Replaces the rows a list shows with `next`, `per` rows a task (each row by
 * position, so a new batch rewrites rows in place), or all at once when `gradual`
 * is false or the list is short. `current` reads the rows shown now without
 * tracking them; `set` shows rows. Returns what stops the rest (an effect's cleanup).
 */
export function replaceRows<T>(next: readonly T[], gradual: boolean, per: number, current: () => readonly T[], set: (rows: T[]) => void): () => void {
  if (!gradual || next.length <= per) {
    set([...next]);
    return () => {};
  }
  const key = {};
  let done = 0;
  const more = () => {
    done = Math.min(next.length, done + per);
    set([...next.slice(0, done), ...current().slice(done, next.length)]);
    if (done < next.length) queueTask(key, more);
  };
  more();
  return () => dropTask(key);
}
