/**
 * A second thread for our wasm kernels. tfjs's wasm backend runs on one
 * thread; where its memory is shared (sharedHeap.ts), a helper (heapHelper.ts)
 * runs the same compiled kernels in that memory: this thread asks it to run a
 * share (other rows of the same output), runs its own share meanwhile, and
 * waits. Nothing is copied, and each output element is worked out by the same
 * code in the same order as on one thread: the same numbers, bit for bit.
 *
 * The helper is started by the environment (wasmKernels.ts's useHeapThread):
 * Node's entry points with worker_threads, the browser's trainer worker where
 * the page is cross-origin isolated (shared memory needs it).
 */

/** What the helper is given to start: the heap, the kernels' modules, their functions' names, the handshake's memory. */
export interface HeapHelperInit {
  memory: WebAssembly.Memory;
  modules: WebAssembly.Module[];
  names: string[];
  control: SharedArrayBuffer;
  spin: number;
  /** How many of the float64 slots after byte 16 hold results (the last ones). */
  results: number;
}

/** Starts the helper thread running `serveHeap(init)`; the handle stops it. */
export type StartHeapHelper = (init: HeapHelperInit) => { terminate(): void };

/** A kernel function by name and its arguments. */
export type Call = [name: string, args: number[]];

/** How long the helper spins for the next request before it waits (ms); this thread spins as long for an answer. */
const SPIN_MS = 1;
/** How long the helper may take before it is given up on. */
const TIMEOUT_MS = 60000;
/** Float64 slots for calls (their indices, counts and arguments), then RESULTS for their results (a whole decoding step's calls fit). */
const SLOTS = 4096;
const RESULTS = 256;

export class HeapThread {
  private readonly control = new SharedArrayBuffer(16 + 8 * SLOTS);
  private readonly sync = new Int32Array(this.control, 0, 4);
  private readonly args = new Float64Array(this.control, 16);
  private readonly index: Map<string, number>;
  private readonly helper: { terminate(): void };
  private request = 0;
  private kept = 0;
  private broken: Error | null = null;
  private pending: { calls: Call[]; after: (answered: boolean) => void } | null = null;

  /**
   * `modules`: the kernels' modules built for a shared memory (the helper
   * instantiates them on `heap`); `here`: the same kernels' functions on this
   * thread, by name (to finish a share the helper did not).
   */
  constructor(start: StartHeapHelper, heap: WebAssembly.Memory, modules: WebAssembly.Module[], private readonly here: Record<string, (...args: number[]) => number | void>, private readonly timeoutMs = TIMEOUT_MS) {
    const names = Object.keys(here);
    this.index = new Map(names.map((n, i) => [n, i]));
    this.helper = start({ memory: heap, modules, names, control: this.control, spin: SPIN_MS, results: RESULTS });
  }

  /** How many requests the helper has been sent. */
  get served(): number {
    return this.request;
  }

  /** How many of them this thread took back, the helper not having started them when its own share was done. */
  get takenBack(): number {
    return this.kept;
  }

  /** Why kernels run on one thread again (the helper stopped, or did not answer), or null. */
  get stopped(): string | null {
    return this.broken?.message ?? null;
  }

  /**
   * Runs `calls` on the helper while `mine` runs here; then their results.
   * `answered` false: the helper took longer than the timeout, so its calls
   * were run here after all (unless `rerun` is false: then the caller runs
   * them again on memory of its own), and every later request runs here; it
   * may still write the memory it was given, which the caller must not free.
   */
  together(calls: Call[], mine: () => void, rerun = true): { results: number[]; answered: boolean } {
    if (!this.send(calls)) {
      mine();
      return { results: this.runHere(calls), answered: true };
    }
    mine();
    return this.finish(calls, rerun);
  }

  /**
   * Starts `calls` on the helper and returns at once: this thread goes on with
   * other work while the helper runs them. Whatever reads or frees the memory
   * they use must call `settle` first; so does the next request (the helper
   * runs one at a time). Then `after(answered)`: `answered` false as for
   * `together` with `rerun` false (the calls were not run here; the helper may
   * still write their memory).
   */
  start(calls: Call[], after: (answered: boolean) => void): void {
    if (!this.send(calls)) {
      this.runHere(calls);
      after(true);
      return;
    }
    this.pending = { calls, after };
  }

  /** Whether calls `start`ed are still running on the helper. */
  get busy(): boolean {
    return this.pending !== null && Atomics.load(this.sync, 1) !== this.request;
  }

  /** Waits for the calls `start`ed, if any (taking them back if the helper has not begun them), then calls their `after`. */
  settle(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    pending.after(this.finish(pending.calls, false).answered);
  }

  /** Posts a request (after settling the last); false where the helper is gone and the calls must run here. */
  private send(calls: Call[]): boolean {
    this.settle();
    if (this.broken) return false;
    const slots = calls.reduce((n, [, args]) => n + 2 + args.length, 1);
    if (calls.length > RESULTS) throw new Error(`HeapThread: ${calls.length} calls in one request, more than the ${RESULTS} it takes`);
    if (slots > SLOTS - RESULTS) throw new Error(`HeapThread: ${calls.length} calls take ${slots} slots, more than the ${SLOTS - RESULTS} there are`);
    let at = 1;
    for (const [name, args] of calls) {
      this.args[at] = this.index.get(name)!;
      this.args[at + 1] = args.length;
      this.args.set(args, at + 2);
      at += 2 + args.length;
    }
    this.args[0] = calls.length;
    Atomics.store(this.sync, 2, 1);
    // sync[3] holds the request's own number while no one has taken it: a claim on any other (one the helper read
    // before this thread took it back) fails.
    this.request++;
    Atomics.store(this.sync, 3, this.request);
    Atomics.store(this.sync, 0, this.request);
    Atomics.notify(this.sync, 0);
    return true;
  }

  /** The request's results once done: here, if the helper has not taken it yet; else the helper's, waited for. */
  private finish(calls: Call[], rerun: boolean): { results: number[]; answered: boolean } {
    // Not yet taken (the helper was asleep, or the cores are busy with other work): done here instead of waited for.
    if (Atomics.compareExchange(this.sync, 3, this.request, 0) === this.request) {
      this.kept++;
      return { results: this.runHere(calls), answered: true };
    }
    if (this.answered()) return { results: calls.map((_, i) => this.args[SLOTS - RESULTS + i]), answered: true };
    return { results: rerun ? this.runHere(calls) : [], answered: false };
  }

  private runHere(calls: Call[]): number[] {
    return calls.map(([name, args]) => Number(this.here[name](...args) ?? 0));
  }

  /** Stops the helper. */
  dispose(): void {
    this.settle();
    if (!this.broken) {
      Atomics.store(this.sync, 2, 0);
      Atomics.store(this.sync, 0, this.request + 1);
      Atomics.notify(this.sync, 0);
    }
    this.broken ??= new Error('the second thread was stopped');
    this.helper.terminate();
  }

  private answered(): boolean {
    let spins = 0;
    const started = performance.now();
    for (;;) {
      const done = Atomics.load(this.sync, 1);
      if (done === this.request) return true;
      if ((++spins & 255) === 0 && performance.now() - started > SPIN_MS) {
        Atomics.wait(this.sync, 1, done, 100);
        if (performance.now() - started > this.timeoutMs) {
          this.broken = new Error(`the second thread did not answer in ${this.timeoutMs / 1000} s; kernels run on one thread from now on`);
          this.helper.terminate();
          return false;
        }
      }
    }
  }
}
