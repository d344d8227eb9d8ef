// Private: runs a room's DocumentEngine off the server's event loop, in a Deno Worker of the
// room's own (taken on first use, handed back to _document_worker_pool.ts when the room closes or
// has had no document loaded for a while), so that a participant's huge or crafted Yjs update
// stalls that room's documents only, never the server.
//
// Calls are answered in the order made (a Worker handles its messages one at a time), which keeps
// the order in which updates are relayed and logged. Arguments are copied into the worker (never
// transferred: a call may have to be sent again, see below); results are transferred back.
//
// A time limit bounds each call: Yjs is plain JavaScript, so Worker.terminate() stops a call
// that runs too long (an update crafted so that Yjs' conflict resolution is quadratic can take
// minutes). The call past the limit gets error 1009; the room's other documents are loaded again
// from storage into a fresh worker (`reload`), and the calls that were waiting behind it are then
// sent to the new worker, so nobody else loses anything but time.
import { ErrorCode, RoomError } from "@meshagent/api";
import {
  releaseDocumentWorker,
  stopDocumentWorker,
  takeDocumentWorker,
} from "./_document_worker_pool.ts";
import {
  DocumentEngine,
  type EngineCalls,
  type EngineError,
  engineErrorOf,
  type EngineOp,
} from "./_document_engine.ts";

/** How a room's document engine runs. */
export interface DocumentEngineRunnerOptions {
  /** `worker`: in a Worker of its own; `inline`: on the caller's event loop (no time limit). */
  isolation: "worker" | "inline";
  /** The longest one call may run in milliseconds (0: no limit). `worker` only. */
  timeLimitMs: number;
  /** How long a worker with no document loaded and nothing to do is kept, in milliseconds. */
  idleMs: number;
  /** The worker's name (for debuggers and error messages). */
  name: string;
  /**
   * Called after a worker was stopped (at the time limit, or because it failed) and before the
   * calls that waited behind the stopped call are sent again: loads again, with `priority`
   * calls, what the stopped worker held.
   */
  reload: () => Promise<void>;
}

/** Options of one call. */
export interface EngineCallOptions {
  /** Sent at once even while a restarted worker is being reloaded (reload's own calls). */
  priority?: boolean;
}

interface Call {
  id: number;
  op: EngineOp;
  args: unknown;
  resolve: (value: unknown) => void;
  reject: (error: RoomError) => void;
}

type Reply =
  | { id: number; result: unknown }
  | { id: number; error: EngineError }
  | { ready: true; id?: undefined };

/** What each call does, for the time-limit error. */
const DOING: Record<EngineOp, string> = {
  load: "loading the document",
  apply: "applying the update",
  encode: "encoding the document state",
  compact: "compacting the document",
  toJson: "reading the document JSON",
  build: "building the new document",
  unload: "closing the document",
  clear: "emptying the document engine",
};

function roomErrorOf(error: EngineError): RoomError {
  return new RoomError(error.message, error.code);
}

/** Calls into one room's DocumentEngine, in order, off the event loop. */
export class DocumentEngineRunner {
  readonly #options: DocumentEngineRunnerOptions;
  #inline?: DocumentEngine;
  #worker?: Worker;
  /** True once the worker's modules are loaded (its start does not count against the limit). */
  #ready = false;
  /** Posted to the current worker and not answered yet, oldest first. */
  #sent: Call[] = [];
  /** Made while a restarted worker is reloaded; posted once that is done. */
  #held: Call[] | null = null;
  #restarts = 0;
  /** When the oldest call in `#sent` started (the answer before it came, or it was posted). */
  #headSince = 0;
  #watchdog?: ReturnType<typeof setTimeout>;
  #idleTimer?: ReturnType<typeof setTimeout>;
  #reloadTimer?: ReturnType<typeof setTimeout>;
  /** The paths loaded in the current worker. */
  readonly #loaded = new Set<string>();
  #nextId = 1;
  #closed = false;

  constructor(options: DocumentEngineRunnerOptions) {
    this.#options = options;
  }

  /**
   * Runs one engine call.
   *
   * @returns The call's result.
   * @throws {RoomError} The engine's error; 1009 past the time limit; 1006 once closed.
   */
  call<K extends EngineOp>(
    op: K,
    args: EngineCalls[K]["args"],
    options: EngineCallOptions = {},
  ): Promise<EngineCalls[K]["result"]> {
    if (this.#closed) {
      return Promise.reject(new RoomError("the room is closing", ErrorCode.INVALID_STATE));
    }
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    if (this.#options.isolation === "inline") return this.#runInline(op, args);
    return new Promise((resolve, reject) => {
      const call: Call = {
        id: this.#nextId++,
        op,
        args,
        resolve: resolve as (value: unknown) => void,
        reject,
      };
      if (this.#held && !options.priority) this.#held.push(call);
      else this.#post(call);
    });
  }

  /** Stops the worker; calls not answered yet fail with 1006. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const pending = [...this.#sent, ...(this.#held ?? [])];
    this.#sent = [];
    this.#held = null;
    clearTimeout(this.#reloadTimer);
    clearTimeout(this.#idleTimer);
    this.#stopWorker(pending.length === 0);
    this.#inline?.clear();
    for (const call of pending) {
      call.reject(new RoomError("the room is closing", ErrorCode.INVALID_STATE));
    }
  }

  async #runInline<K extends EngineOp>(
    op: K,
    args: EngineCalls[K]["args"],
  ): Promise<EngineCalls[K]["result"]> {
    await null; // answered later, in order, like a worker's call
    if (this.#closed) throw new RoomError("the room is closing", ErrorCode.INVALID_STATE);
    this.#inline ??= new DocumentEngine();
    try {
      return this.#inline.run(op, args);
    } catch (error) {
      throw roomErrorOf(engineErrorOf(error));
    }
  }

  #startWorker(): Worker {
    const { worker, ready } = takeDocumentWorker(this.#options.name);
    worker.onmessage = (event: MessageEvent<Reply>) => {
      if (worker !== this.#worker) return;
      if (event.data.id === undefined) {
        this.#ready = true;
        this.#headSince = performance.now();
      } else this.#answer(event.data);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      if (worker !== this.#worker) return;
      console.error(`${this.#options.name}: the document worker failed:`, event.message);
      this.#restart(
        new RoomError(`the document engine failed: ${event.message}`, ErrorCode.OPERATION_FAILED),
      );
    };
    this.#worker = worker;
    this.#ready = ready;
    return worker;
  }

  /**
   * Lets the worker go: back to the pool when it is done cleanly (nothing pending, loaded), else
   * stopped.
   */
  #stopWorker(keep = false): void {
    clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
    this.#loaded.clear();
    const worker = this.#worker;
    if (!worker) return;
    this.#worker = undefined;
    worker.onmessage = null;
    worker.onerror = null;
    if (keep && this.#ready && this.#sent.length === 0) releaseDocumentWorker(worker);
    else stopDocumentWorker(worker);
  }

  #post(call: Call): void {
    const worker = this.#worker ?? this.#startWorker();
    try {
      worker.postMessage({ id: call.id, op: call.op, args: call.args });
    } catch (error) {
      call.reject(
        new RoomError(`the document engine call could not be sent: ${error}`, 1008),
      );
      return;
    }
    this.#sent.push(call);
    if (this.#sent.length === 1) this.#headSince = performance.now();
    if (this.#watchdog === undefined && this.#options.timeLimitMs > 0) {
      this.#armWatchdog(this.#options.timeLimitMs);
    }
  }

  #answer(reply: Exclude<Reply, { ready: true }>): void {
    const call = this.#sent.shift();
    if (!call || call.id !== reply.id) {
      // Never expected: a worker answers each message once, in order.
      this.#restart(new RoomError("the document engine answered out of order", 1008));
      return;
    }
    this.#headSince = performance.now();
    if (this.#sent.length === 0) {
      clearTimeout(this.#watchdog);
      this.#watchdog = undefined;
    }
    if ("error" in reply) call.reject(roomErrorOf(reply.error));
    else {
      const path = (call.args as { path?: string }).path;
      if (call.op === "load" && path !== undefined) this.#loaded.add(path);
      if (call.op === "unload" && path !== undefined) this.#loaded.delete(path);
      call.resolve(reply.result);
    }
    this.#maybeIdle();
  }

  #armWatchdog(delay: number): void {
    this.#watchdog = setTimeout(() => {
      this.#watchdog = undefined;
      const head = this.#sent[0];
      if (!head) return;
      const limit = this.#options.timeLimitMs;
      const ran = this.#ready ? performance.now() - this.#headSince : 0;
      if (ran < limit) return this.#armWatchdog(limit - ran);
      this.#restart(
        new RoomError(
          `sync: ${DOING[head.op]} took longer than the ${limit / 1000} s limit and was ` +
            "stopped; the room's open documents were reloaded from storage",
          ErrorCode.TIMEOUT,
        ),
      );
    }, delay);
  }

  /** Stops the worker: the oldest call fails with `error`, the others are sent again. */
  #restart(error: RoomError): void {
    const [culprit, ...waiting] = this.#sent;
    this.#sent = [];
    this.#stopWorker();
    culprit?.reject(error);
    this.#held = [...waiting, ...(this.#held ?? [])];
    const restart = ++this.#restarts;
    clearTimeout(this.#reloadTimer);
    // After a macrotask: whoever waited on the failed call has seen its error by then.
    this.#reloadTimer = setTimeout(async () => {
      this.#reloadTimer = undefined;
      try {
        await this.#options.reload();
      } catch (e) {
        console.error(`${this.#options.name}: reloading the documents failed:`, e);
      }
      if (restart !== this.#restarts || this.#closed) return;
      const held = this.#held ?? [];
      this.#held = null;
      for (const call of held) this.#post(call);
      this.#maybeIdle();
    }, 0);
  }

  #maybeIdle(): void {
    if (
      !this.#worker || this.#sent.length > 0 || this.#held || this.#loaded.size > 0 ||
      this.#idleTimer !== undefined
    ) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#sent.length === 0 && !this.#held && this.#loaded.size === 0) {
        this.#stopWorker(true);
      }
    }, this.#options.idleMs);
  }
}
