/**
 * One saved run is written by one tab. Each run has a Web Lock of its own
 * (`rlcf-run:<id>`), held by the tab that trains it or offers to resume it,
 * released when that tab lets the run go or closes (the browser releases a closed
 * tab's locks, crashes included). Other tabs of the same browser see the lock
 * held and show the run as open elsewhere. Tabs tell each other that the saved
 * runs changed over a BroadcastChannel, so their lists follow.
 *
 * Where the platform lacks Web Locks (browsers before 2022), every lock is taken
 * at once: one tab behaves as before.
 */
const PREFIX = 'rlcf-run:';
const CHANNEL = 'rlcf-runs';

export class RunLocks {
  #release = new Map<string, () => void>();
  #channel: BroadcastChannel | null = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(CHANNEL);

  /** Calls `listener` when another tab took or let go of a run, or saved one. */
  onOthersChanged(listener: () => void): void {
    this.#channel?.addEventListener('message', listener);
  }

  /** Tells the other tabs that the saved runs changed. */
  announce(): void {
    this.#channel?.postMessage('changed');
  }

  /** Whether this tab holds the run's lock. */
  holds(id: string): boolean {
    return this.#release.has(id);
  }

  /** Takes the run's lock unless another tab holds it; true when this tab holds it now. */
  async take(id: string): Promise<boolean> {
    if (this.#release.has(id)) return true;
    const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;
    if (!locks) {
      this.#release.set(id, () => {});
      return true;
    }
    const got = await new Promise<boolean>((resolve) => {
      void locks.request(PREFIX + id, { ifAvailable: true }, (lock) => {
        if (!lock) {
          resolve(false);
          return undefined;
        }
        // Held until released: the callback's promise settles then.
        return new Promise<void>((release) => {
          this.#release.set(id, release);
          resolve(true);
        });
      });
    });
    if (got) this.announce();
    return got;
  }

  /** Lets the run go, for another tab to take. */
  release(id: string): void {
    const release = this.#release.get(id);
    if (!release) return;
    this.#release.delete(id);
    release();
    this.announce();
  }

  /** The runs whose lock another tab of this browser holds. */
  async elsewhere(): Promise<Set<string>> {
    const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;
    if (!locks) return new Set();
    const { held = [] } = await locks.query();
    return new Set(held.map((l) => l.name ?? '').filter((n) => n.startsWith(PREFIX) && !this.#release.has(n.slice(PREFIX.length))).map((n) => n.slice(PREFIX.length)));
  }
}
