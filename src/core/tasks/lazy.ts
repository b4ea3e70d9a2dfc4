/**
 * A package a task needs only for its fields or helpers (an NLP library, a
 * lexicon), loaded by a dynamic import the first time it is asked for: a page
 * or worker that never opens the task never downloads or evaluates it. `load`
 * is the task's `prepare` (safe to call again: one import); `get` is for the
 * task's synchronous code, after it.
 */
export interface LazyPackage<T> {
  load(): Promise<void>;
  get(): T;
}

export function lazyPackage<T>(name: string, importer: () => Promise<T>): LazyPackage<T> {
  let value: T | undefined;
  let loading: Promise<void> | null = null;
  return {
    load() {
      loading ??= importer().then(
        (v) => void (value = v),
        (e: unknown) => {
          loading = null; // a failed download may be retried
          throw new Error(`the ${name} package could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
        },
      );
      return loading;
    },
    get() {
      if (value === undefined) throw new Error(`the ${name} package is not loaded yet (await prepareTask first)`);
      return value;
    },
  };
}
