/**
 * The second thread (see heapThread.ts): it runs our kernels in the wasm
 * backend's shared memory whenever the first thread asks, and never returns
 * until told to stop. Self-contained on purpose (no imports, no inner
 * functions): Node starts it from its source text (`serveHeap.toString()`),
 * the browser as a module worker.
 *
 * The handshake is `control`: int32 [0] the number of the request, [1] the
 * number of the last request done, [2] what to do (1 run, 0 stop), [3] the
 * request's number while it waits to be taken (minus it once this thread took
 * it, 0 once the first thread took it back); then, as
 * float64 from byte 16, [0] how many calls, and for each its function's index
 * in `names`, its number of arguments and the arguments; each call's result at
 * [the slots less `results`, + its index].
 */
export function serveHeap(init: { memory: WebAssembly.Memory; modules: WebAssembly.Module[]; names: string[]; control: SharedArrayBuffer; spin: number; results: number }): void {
  const exports: Record<string, unknown> = {};
  for (const module of init.modules) Object.assign(exports, new WebAssembly.Instance(module, { env: { memory: init.memory } }).exports);
  const fns: ((...args: number[]) => number | undefined)[] = [];
  for (const name of init.names) fns.push(exports[name] as (...args: number[]) => number | undefined);
  const sync = new Int32Array(init.control, 0, 4);
  const args = new Float64Array(init.control, 16);
  const results = args.length - init.results;
  // Requests count from 0: one made before this thread started is served at once.
  let seen = 0;
  for (;;) {
    // A spin first (init.spin ms): the next request usually follows within microseconds, and waking from a wait costs tens.
    const spinning = performance.now();
    let spins = 0;
    while (Atomics.load(sync, 0) === seen) {
      if ((++spins & 255) === 0 && performance.now() - spinning > init.spin) Atomics.wait(sync, 0, seen, 1000);
    }
    seen = Atomics.load(sync, 0);
    if (Atomics.load(sync, 2) !== 1) return;
    // Taken (its number, negated), unless the first thread took it back first (it does when its own share is done
    // before this one starts) or has asked for a newer one since this thread read the number.
    if (Atomics.compareExchange(sync, 3, seen, -seen) !== seen) continue;
    for (let c = 0, at = 1; c < args[0]; c++) {
      const f = fns[args[at]];
      const argc = args[at + 1];
      const a = at + 2;
      // The arguments straight from the slots where the count is a kernel's (no arguments' array made: a decoding step is two dozen calls).
      let result: number | undefined;
      if (argc === 13) result = f(args[a], args[a + 1], args[a + 2], args[a + 3], args[a + 4], args[a + 5], args[a + 6], args[a + 7], args[a + 8], args[a + 9], args[a + 10], args[a + 11], args[a + 12]);
      else if (argc === 9) result = f(args[a], args[a + 1], args[a + 2], args[a + 3], args[a + 4], args[a + 5], args[a + 6], args[a + 7], args[a + 8]);
      else if (argc === 7) result = f(args[a], args[a + 1], args[a + 2], args[a + 3], args[a + 4], args[a + 5], args[a + 6]);
      else if (argc === 5) result = f(args[a], args[a + 1], args[a + 2], args[a + 3], args[a + 4]);
      else result = f(...Array.prototype.slice.call(args, a, a + argc));
      args[results + c] = typeof result === 'number' ? result : 0;
      at += 2 + argc;
    }
    Atomics.store(sync, 1, seen);
    Atomics.notify(sync, 1);
  }
}
