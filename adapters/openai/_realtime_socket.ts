// One websocket to the OpenAI Realtime API (`wss://…/realtime?model=…`), JSON events both ways,
// through Node's `ws` (it sends the Authorization header). Deno and Node only.
import type { JsonObject } from "@meshagent/api";
import { OpenAIConnectionError } from "./_errors.ts";

// deno-lint-ignore no-explicit-any
export type RealtimeEvent = { type: string; [field: string]: any };
type Entry = { event: RealtimeEvent } | { error: Error };

/** The socket, its received events as a queue, and a send. */
export class RealtimeSocket {
  // deno-lint-ignore no-explicit-any
  readonly #ws: any;
  readonly #queue: Entry[] = [];
  #wake: (() => void) | null = null;
  #closed = false;

  // deno-lint-ignore no-explicit-any
  private constructor(ws: any) {
    this.#ws = ws;
    ws.on("message", (data: Uint8Array) => {
      try {
        this.#push({ event: JSON.parse(new TextDecoder().decode(data)) });
      } catch {
        this.#push({ error: new OpenAIConnectionError("the Realtime API sent invalid JSON") });
      }
    });
    ws.on("close", (code: number, reason: Uint8Array) => {
      this.#closed = true;
      const text = new TextDecoder().decode(reason);
      this.#push({
        error: new OpenAIConnectionError(
          `the Realtime websocket closed (${code}${text ? ` ${text}` : ""})`,
        ),
      });
    });
    ws.on("error", () => {});
  }

  /**
   * Opens the socket.
   *
   * @param url The `ws(s)://…/realtime?model=…` URL.
   * @param headers The handshake headers (Authorization).
   * @param timeoutMs The longest wait for the handshake.
   * @returns The open socket.
   */
  static async open(
    url: string,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<RealtimeSocket> {
    const mod = await import("ws");
    // deno-lint-ignore no-explicit-any
    const WS: any = (mod as any).WebSocket ?? (mod as any).default;
    const ws = new WS(url, { headers, perMessageDeflate: false, handshakeTimeout: timeoutMs });
    const socket = new RealtimeSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("unexpected-response", (_req: unknown, res: { statusCode: number }) => {
        reject(
          new OpenAIConnectionError(
            `the Realtime API refused the websocket (HTTP ${res.statusCode})`,
            res.statusCode,
          ),
        );
        ws.terminate();
      });
      ws.once(
        "error",
        (error: Error) =>
          reject(new OpenAIConnectionError(`cannot reach the Realtime API: ${error.message}`)),
      );
    });
    return socket;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  #push(entry: Entry): void {
    this.#queue.push(entry);
    this.#wake?.();
  }

  /**
   * Puts events back at the front of the queue (ones read while waiting for another).
   *
   * @param events The events, in order.
   */
  requeue(events: readonly RealtimeEvent[]): void {
    this.#queue.unshift(...events.map((event) => ({ event })));
  }

  /**
   * Sends one client event.
   *
   * @param event The event.
   */
  send(event: JsonObject): void {
    if (this.#closed) throw new OpenAIConnectionError("the Realtime websocket is closed");
    this.#ws.send(JSON.stringify(event));
  }

  /**
   * The next server event (queued ones first).
   *
   * @param signal Aborts the wait.
   * @param timeoutMs The longest wait.
   * @returns The event.
   * @throws {OpenAIConnectionError} When the socket closed, or nothing came in time.
   */
  next(signal: AbortSignal, timeoutMs: number): Promise<RealtimeEvent> {
    const take = (): RealtimeEvent => {
      const entry = this.#queue.shift()!;
      if ("error" in entry) {
        this.#queue.unshift(entry); // stays closed
        throw entry.error;
      }
      return entry.event;
    };
    if (this.#queue.length > 0) {
      try {
        return Promise.resolve(take());
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.#wake = null;
      };
      const onAbort = () => {
        done();
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        done();
        reject(new OpenAIConnectionError(`the Realtime API sent nothing for ${timeoutMs} ms`));
      }, timeoutMs);
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      this.#wake = () => {
        done();
        try {
          resolve(take());
        } catch (error) {
          reject(error);
        }
      };
    });
  }

  /** Closes the socket and waits for it (at most 2 s). */
  async close(): Promise<void> {
    if (this.#closed) return;
    const closed = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#ws.terminate();
        resolve();
      }, 2000);
      this.#ws.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.#ws.close(1000);
    await closed;
  }
}
