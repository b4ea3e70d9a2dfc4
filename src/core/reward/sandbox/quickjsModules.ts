import type { QuickJSWASMModule } from 'quickjs-emscripten-core';

/**
 * The QuickJS WebAssembly instance the sandboxes run in, loaded once. When a
 * reward overflows the host's own stack (deep recursion inside a built-in, such
 * as JSON.stringify of a deeply nested object, can outrun QuickJS's stack check),
 * the instance is left mid-call and cannot be trusted: it is dropped, and the
 * next sandbox gets a fresh one.
 */
export class QuickJsModules {
  #load: () => Promise<QuickJSWASMModule>;
  #current: Promise<QuickJSWASMModule> | null = null;

  constructor(load: () => Promise<QuickJSWASMModule>) {
    this.#load = load;
  }

  ready(): Promise<QuickJSWASMModule> {
    this.#current ??= this.#load();
    return this.#current;
  }

  /** Forgets the current instance; the next `ready()` loads another. */
  discard(): void {
    this.#current = null;
  }
}
