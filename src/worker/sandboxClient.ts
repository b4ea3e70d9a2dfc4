import * as Comlink from 'comlink';
import type { Sample } from '../core/reward/reward.ts';
import type { RewardSpec, SandboxLimits } from '../core/reward/sandbox/types.ts';
import type { SandboxApi, SandboxOutcome } from './trainerApi.ts';

/**
 * Past the time limit, how long the sandbox worker gets to report the timeout
 * itself (QuickJS's interrupt) before it is ended from outside.
 */
export const KILL_GRACE_MS = 100;
/** Loading QuickJS in a fresh worker; not counted against the reward's time. */
const START_TIMEOUT_MS = 30_000;

/**
 * Holds one sandbox worker and ends it when a call outlives the reward's time
 * limit: a long-running built-in (a memory bomb near its limit, say) can run
 * for seconds between QuickJS's interrupt checks. The next call starts a fresh
 * worker, so a reward can never take its holder down with it.
 */
export class SandboxClient {
  #worker: Worker | null = null;
  #api: Comlink.Remote<SandboxApi> | null = null;
  #ready: Promise<void> | null = null;
  /** Settles every call in flight when the worker is ended. */
  #ended = new Set<(message: string) => void>();

  score(specs: RewardSpec[], limits: SandboxLimits, samples: Sample[], ctx: { iteration: number; task: string }): Promise<SandboxOutcome> {
    return this.#run(limits, (api) => api.score(specs, limits, samples, ctx));
  }

  compile(specs: RewardSpec[], limits: SandboxLimits): Promise<SandboxOutcome<null>> {
    return this.#run(limits, (api) => api.compile(specs, limits));
  }

  /** Starts the worker and QuickJS now, so the first call does not wait for them. */
  warm(): void {
    this.#start();
  }

  dispose(): void {
    this.#end('the reward sandbox was closed');
  }

  async #run<T>(limits: SandboxLimits, call: (api: Comlink.Remote<SandboxApi>) => Promise<SandboxOutcome<T>>): Promise<SandboxOutcome<T>> {
    const api = this.#start();
    const ready = await this.#settle(this.#ready!, START_TIMEOUT_MS, 'the reward sandbox did not start');
    if (ready !== null) return { ok: false, message: ready, details: { kind: 'sandbox' } };
    let outcome: SandboxOutcome<T> | null = null;
    const stopped = await this.#settle(
      call(api).then((o) => void (outcome = o)),
      limits.timeMs + KILL_GRACE_MS,
      `the reward code did not finish within the time limit of ${limits.timeMs} ms per batch (rewardTimeLimitMs): the code may loop forever`,
    );
    if (stopped !== null) return { ok: false, message: stopped, details: { kind: stopped.includes('time limit') ? 'timeout' : 'sandbox' } };
    return outcome!;
  }

  /** Waits for `work`; null when it finished, else why it did not (the worker is ended on a timeout). */
  async #settle(work: Promise<unknown>, timeoutMs: number, late: string): Promise<string | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onEnd: ((message: string) => void) | undefined;
    const ended = new Promise<string>((resolve) => {
      onEnd = resolve;
      this.#ended.add(resolve);
      timer = setTimeout(() => this.#end(late), timeoutMs);
    });
    try {
      return await Promise.race([work.then(() => null), ended]);
    } catch (e) {
      return `the reward sandbox failed: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      clearTimeout(timer);
      this.#ended.delete(onEnd!);
    }
  }

  #start(): Comlink.Remote<SandboxApi> {
    if (this.#api) return this.#api;
    const worker = new Worker(new URL('./sandbox.worker.ts', import.meta.url), { type: 'module', name: 'reward-sandbox' });
    worker.addEventListener('error', (e) => this.#end(`the reward sandbox crashed: ${e.message || 'it could not start'}`));
    this.#worker = worker;
    this.#api = Comlink.wrap<SandboxApi>(worker);
    this.#ready = this.#api.warm();
    this.#ready.catch(() => undefined);
    return this.#api;
  }

  #end(message: string): void {
    this.#worker?.terminate();
    this.#worker = null;
    this.#api = null;
    this.#ready = null;
    const waiting = [...this.#ended];
    this.#ended.clear();
    for (const f of waiting) f(message);
  }
}
