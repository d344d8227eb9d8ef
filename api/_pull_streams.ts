// Private: what the pull-driven tool streams of the database and datasets clients share — the
// abort signal of a whole call (the caller's and/or a timeout) and the gate that lets one chunk
// go per pull the server sends.
import { RequestTimeoutError } from "./errors.ts";

/**
 * An abort signal for a whole call: the caller's signal and/or a timeout that aborts with a
 * {@linkcode RequestTimeoutError} naming the call.
 *
 * @param name The call, as errors name it (`sqlite.insert`, `datasets.search`).
 * @param options The caller's timeout (ms) and signal.
 * @returns The signal, and `done` to clear the timer once the call ended.
 */
export function callSignal(
  name: string,
  options: { timeout?: number; signal?: AbortSignal },
): { signal?: AbortSignal; done(): void } {
  if (options.timeout === undefined) return { signal: options.signal, done: () => {} };
  const controller = new AbortController();
  const ms = options.timeout;
  const timer = setTimeout(() => controller.abort(new RequestTimeoutError(name, ms)), ms);
  const signal = options.signal
    ? AbortSignal.any([options.signal, controller.signal])
    : controller.signal;
  return { signal, done: () => clearTimeout(timer) };
}

/** Counts pulls: each `release` lets one `wait` through; `stop` ends every wait with false. */
export class PullGate {
  #credits = 0;
  #stopped = false;
  #waiter: ((go: boolean) => void) | null = null;

  /** One pull arrived: the waiting sender goes, or the next `wait` will. */
  release(): void {
    if (this.#stopped) return;
    const waiter = this.#waiter;
    this.#waiter = null;
    if (waiter) waiter(true);
    else this.#credits++;
  }

  /** The stream ended: every wait, now and later, answers false. */
  stop(): void {
    this.#stopped = true;
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.(false);
  }

  /** Resolves true once a pull allows the next chunk, false once the stream stopped. */
  wait(): Promise<boolean> {
    if (this.#stopped) return Promise.resolve(false);
    if (this.#credits > 0) {
      this.#credits--;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.#waiter = resolve);
  }
}
