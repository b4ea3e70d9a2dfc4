/**
 * Runs the person's requests one after another, each seeing the state the one
 * before left: an Apply still in flight must land before a task switch shelves
 * the code, or the switch would shelve the old reward. A request that fails does
 * not stop the ones after it.
 */
export class RequestQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(op);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
