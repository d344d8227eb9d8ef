// Callers parked until a state is reached (the room is ready, messaging is online), each
// cancellable with its own AbortSignal, all released or failed at once.

/** A set of parked waits. */
export class Waiters {
  readonly #waiters = new Set<{ resolve(): void; reject(e: unknown): void }>();

  /**
   * Parks the caller until {@linkcode Waiters.resolveAll} or {@linkcode Waiters.rejectAll}.
   *
   * @param signal Ends this wait early with the signal's reason.
   * @returns A promise for the release.
   */
  wait(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        this.#waiters.delete(waiter);
        reject(signal!.reason);
      };
      const waiter = {
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (e: unknown) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      this.#waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Releases every parked wait. */
  resolveAll(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w.resolve();
  }

  /**
   * Fails every parked wait.
   *
   * @param error The error they fail with.
   */
  rejectAll(error: unknown): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w.reject(error);
  }
}
