import { GPU_BACKENDS, type BackendName } from '../../core/backend/names.ts';
import type { Experiment } from '../../core/experiment/experiment.ts';
import type { BackendReport, TrainerEvent } from '../../worker/trainerApi.ts';
import { createTrainerClient, type TrainerClient } from '../trainerClient.ts';

/** How often the watchdog asks the trainer worker for a sign of life, and how long it waits by default. */
const PING_INTERVAL_MS = 5000;
const STALL_MS = 30_000;

/** What the connection tells the session, and asks of it. */
export interface ConnectionHost {
  /** Every event the worker sends. */
  onEvent(e: TrainerEvent): void;
  /** A call failed (a worker error, or a worker that was ended): said on the page. */
  onCallFailed(message: string): void;
  /** The worker could not start, or could not be restarted: the run stops here. */
  onFailed(message: string): void;
  /** The worker crashed or hung, and a new one is on its way. */
  onRestarting(): void;
  /** What a new worker loads: the last checkpoint and its experiment, or the experiment on screen and no state. */
  restartFrom(): { experiment: Experiment; state: Blob | null };
  /** A new worker took over, at iteration `resumed`. */
  onRestarted(r: { reason: string; backend: BackendReport; experiment: Experiment; resumed: number }): void;
  /** Whether an experiment is loaded (before that, a crash is a failure to start, not something to restart). */
  loaded(): boolean;
  /** Runs `op` after the person's requests already queued. */
  inOrder<T>(op: () => Promise<T>): Promise<T>;
}

/**
 * The page's link to the trainer worker: calls that never reject unhandled and
 * never wait on a dead worker, the events, a watchdog that pings the worker, and
 * the restart of a worker that crashed or hung (on wasm when a GPU backend may be
 * the cause), which loads the experiment in force and continues from the last checkpoint.
 */
export class TrainerConnection {
  #client: TrainerClient | null = null;
  #requested: BackendName | null = null;
  /** The backend the worker reported last: a restart after a GPU one goes to wasm. */
  #backend: BackendName | null = null;
  #stallMs = STALL_MS;
  #pinging = false;
  #restarting = false;

  constructor(private readonly host: ConnectionHost) {}

  /** Starts the worker on `requested` (or the one it picks) and hands it `experiment` to prepare; throws when it cannot start. */
  async start(requested: BackendName | null, experiment: Experiment, stallSeconds?: number): Promise<BackendReport> {
    this.#requested = requested;
    if (stallSeconds && stallSeconds > 0) this.#stallMs = stallSeconds * 1000;
    return this.#init(this.#newClient(), requested, experiment);
  }

  /** Pings the worker every few seconds from now on; one that does not answer in time is restarted. */
  watch(): void {
    setInterval(() => void this.#ping(), PING_INTERVAL_MS);
  }

  /**
   * Calls the worker; a failure becomes a message on the page, never an unhandled
   * rejection, and a call to a worker that was ended rejects instead of waiting forever.
   */
  async call<T>(what: string, fn: (api: TrainerClient['api']) => Promise<T>): Promise<T | undefined> {
    const client = this.#client;
    if (!client) return undefined;
    try {
      return await Promise.race([fn(client.api), client.dead]);
    } catch (e) {
      this.host.onCallFailed(`${what} failed: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }

  get connected(): boolean {
    return this.#client !== null;
  }

  async #init(client: TrainerClient, backend: BackendName | null, experiment: Experiment): Promise<BackendReport> {
    const listener = client.listener((e) => {
      if (e.type === 'backend') this.#backend = e.report.name;
      this.host.onEvent(e);
    });
    const report = await Promise.race([client.api.init(listener, backend, experiment), client.dead]);
    this.#backend = report.name;
    return report;
  }

  #newClient(): TrainerClient {
    const client = createTrainerClient((message) => {
      if (client !== this.#client) return;
      if (this.host.loaded()) void this.#restart(`crashed (${message})`);
      else this.host.onFailed(message);
    });
    this.#client = client;
    return client;
  }

  async #ping(): Promise<void> {
    const client = this.#client;
    if (!client || this.#pinging || this.#restarting || !this.host.loaded()) return;
    this.#pinging = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const silent = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.#stallMs)));
    const answered = await Promise.race([client.api.ping().then(() => true), client.dead.catch(() => true), silent]);
    clearTimeout(timer);
    this.#pinging = false;
    if (!answered && client === this.#client) await this.#restart(`stopped answering for ${Math.round(this.#stallMs / 1000)} s`);
  }

  /** Replaces a worker that hung or crashed: calls waiting on it reject, and a new one continues the run. */
  async #restart(reason: string): Promise<void> {
    if (this.#restarting) return;
    this.#restarting = true;
    const old = this.#client;
    this.#client = null;
    old?.terminate(`the trainer ${reason} and was restarted`);
    this.host.onRestarting();
    const from = this.host.restartFrom();
    const gpu = this.#backend !== null && GPU_BACKENDS.includes(this.#backend);
    await this.host.inOrder(async () => {
      const client = this.#newClient();
      try {
        const backend = await this.#init(client, gpu ? 'wasm' : this.#requested, from.experiment);
        const loaded = await Promise.race([client.api.load(from.experiment), client.dead]);
        if (!loaded.ok) throw new Error(loaded.message);
        let resumed = 0;
        if (from.state) {
          const r = await Promise.race([client.api.restore(from.state), client.dead]);
          if (!r.ok) throw new Error(r.message);
          resumed = r.value;
        }
        this.host.onRestarted({ reason, backend, experiment: from.experiment, resumed });
      } catch (e) {
        this.host.onFailed(`The trainer ${reason}, and restarting it failed: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        this.#restarting = false;
      }
    });
  }
}
