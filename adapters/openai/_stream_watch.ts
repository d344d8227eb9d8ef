// Timeouts of one streamed model request: the whole request, and the silence between events.

/** A model request that took too long; retryable. */
export class OpenAITimeoutError extends Error {
  /** `idle` (no event for too long) or `total` (the request took too long). */
  readonly kind: "idle" | "total";

  /**
   * @param kind Which limit was hit.
   * @param ms The limit in ms.
   */
  constructor(kind: "idle" | "total", ms: number) {
    super(
      kind === "idle"
        ? `the model server sent nothing for ${ms / 1000} s (idleTimeoutMs)`
        : `the model request took longer than ${ms / 1000} s (timeoutMs)`,
    );
    this.name = "OpenAITimeoutError";
    this.kind = kind;
  }
}

/**
 * Aborts its signal when the parent aborts, when `totalMs` passed since it was made, or when
 * `idleMs` passed since the last {@linkcode StreamWatch.touch}. Dispose it when the request ends.
 */
export class StreamWatch {
  readonly #controller = new AbortController();
  readonly #parent: AbortSignal;
  readonly #idleMs: number;
  readonly #totalTimer: ReturnType<typeof setTimeout>;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #timeout: OpenAITimeoutError | null = null;
  readonly #onParentAbort = () => this.#controller.abort(this.#parent.reason);

  /**
   * @param parent The caller's signal (an interrupt).
   * @param totalMs The whole-request limit.
   * @param idleMs The silence limit.
   */
  constructor(parent: AbortSignal, totalMs: number, idleMs: number) {
    this.#parent = parent;
    this.#idleMs = idleMs;
    if (parent.aborted) this.#controller.abort(parent.reason);
    else parent.addEventListener("abort", this.#onParentAbort, { once: true });
    this.#totalTimer = setTimeout(
      () => this.#expire(new OpenAITimeoutError("total", totalMs)),
      totalMs,
    );
    this.touch();
  }

  /** Aborted on interrupt or timeout: pass it to the request. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The timeout that aborted the request, if one did. */
  get timeout(): OpenAITimeoutError | null {
    return this.#timeout;
  }

  /** Something arrived: the idle limit starts again. */
  touch(): void {
    if (this.#controller.signal.aborted) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(
      () => this.#expire(new OpenAITimeoutError("idle", this.#idleMs)),
      this.#idleMs,
    );
  }

  /** Throws the timeout if one aborted the request. */
  throwIfTimedOut(): void {
    if (this.#timeout) throw this.#timeout;
  }

  #expire(error: OpenAITimeoutError): void {
    if (this.#controller.signal.aborted) return;
    this.#timeout = error;
    this.#controller.abort(error);
  }

  /** Stops the timers. */
  [Symbol.dispose](): void {
    clearTimeout(this.#totalTimer);
    clearTimeout(this.#idleTimer);
    this.#parent.removeEventListener("abort", this.#onParentAbort);
  }
}
