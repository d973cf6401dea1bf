/**
 * Reads shared by the reconciles of one pass: the pass's context is the key, held weakly, so what a pass read goes
 * with it and the next pass reads AWS afresh. A read that fails is dropped at once, so a later ask reads again
 * instead of sharing the failure.
 */
export class PassMemo<T> {
  private readonly passes = new WeakMap<object, Map<string, Promise<T>>>();

  /** The pass's read of `key`, started by `read` on the first ask and shared by every later one. */
  get(pass: object, key: string, read: () => Promise<T>): Promise<T> {
    const id = passOf(pass);
    let reads = this.passes.get(id);
    if (reads === undefined) {
      reads = new Map();
      this.passes.set(id, reads);
    }
    let promise = reads.get(key);
    if (promise === undefined) {
      promise = read();
      reads.set(key, promise);
      const started = promise;
      promise.catch(() => {
        if (reads.get(key) === started) reads.delete(key);
      });
    }
    return promise;
  }

  /** Drops what a pass read (one key, or all of it), after a write of that pass made it stale. */
  forget(pass: object, key?: string): void {
    if (key === undefined) this.passes.delete(passOf(pass));
    else this.passes.get(passOf(pass))?.delete(key);
  }
}

/**
 * A reconcile context derived for one resource of a pass (its own deadline signal) names the pass it belongs to in
 * `pass` (see `ReconcileContext.pass`): it shares that pass's reads.
 */
function passOf(pass: object): object {
  const shared = (pass as { readonly pass?: unknown }).pass;
  return typeof shared === "object" && shared !== null ? shared : pass;
}
