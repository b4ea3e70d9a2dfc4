import * as Comlink from 'comlink';
import type { RewardBenchApi, Result } from '../worker/protocol.ts';

/** How long draft code may take on the bench's few texts before its worker is ended. */
export const BENCH_TIMEOUT_MS = 2000;

/**
 * The page's way to the reward bench worker. Code that runs too long (a loop that
 * never ends) is stopped by ending the worker; the next call starts a fresh one.
 */
export class RewardBenchClient {
  #worker: Worker | null = null;
  #api: Comlink.Remote<RewardBenchApi> | null = null;
  /** Settles every call in flight when the worker is ended. */
  #ended: ((message: string) => void)[] = [];

  async score(source: string, task: string, texts: string[], iteration: number): Promise<Result<number[]>> {
    const api = this.#start();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onEnded: ((message: string) => void) | undefined;
    const stopped = new Promise<Result<number[]>>((resolve) => {
      onEnded = (message) => resolve({ ok: false, message });
      this.#ended.push(onEnded);
      timer = setTimeout(
        () => this.#end(`the reward did not finish within ${BENCH_TIMEOUT_MS / 1000} s on ${texts.length === 1 ? 'one text' : `${texts.length} texts`}; it may loop forever`),
        BENCH_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([api.score(source, task, texts, iteration), stopped]);
    } catch (e) {
      return { ok: false, message: `the reward bench failed: ${e instanceof Error ? e.message : String(e)}` };
    } finally {
      clearTimeout(timer);
      this.#ended = this.#ended.filter((f) => f !== onEnded);
    }
  }

  dispose(): void {
    this.#end('the reward bench was closed');
  }

  #start(): Comlink.Remote<RewardBenchApi> {
    if (this.#api) return this.#api;
    const worker = new Worker(new URL('../worker/rewardBench.worker.ts', import.meta.url), { type: 'module', name: 'reward-bench' });
    worker.addEventListener('error', (e) => this.#end(`the reward bench crashed: ${e.message || 'it could not start'}`));
    this.#worker = worker;
    this.#api = Comlink.wrap<RewardBenchApi>(worker);
    return this.#api;
  }

  #end(message: string): void {
    this.#worker?.terminate();
    this.#worker = null;
    this.#api = null;
    const waiting = this.#ended;
    this.#ended = [];
    for (const f of waiting) f(message);
  }
}
