// The Responses API's websocket mode (`wss://…/responses`, `response.create` frames) through the
// SDK's ResponsesWS. Node's `ws` underneath: Deno and Node only.
import type OpenAI from "openai";
import { ResponsesWS } from "openai/resources/responses/ws";
import type { JsonObject } from "@meshagent/api";
import { OpenAIConnectionError, OpenAIIncompleteStreamError } from "./_errors.ts";

// deno-lint-ignore no-explicit-any
type ServerEvent = { type: string; [field: string]: any };
type Entry = { event: ServerEvent } | { error: Error } | { closed: string };

const FINAL = new Set(["response.completed", "response.incomplete", "response.failed", "error"]);

/** One websocket to the Responses API; one response at a time. */
export class ResponsesSocket {
  readonly #ws: ResponsesWS;
  readonly #queue: Entry[] = [];
  #wake: (() => void) | null = null;
  #closed = false;
  #onClosed!: () => void;
  readonly #whenClosed = new Promise<void>((resolve) => this.#onClosed = resolve);

  /** @param client The SDK client (base URL, key, headers). */
  constructor(client: OpenAI) {
    this.#ws = new ResponsesWS(client);
    this.#ws.on("event", (event) => this.#push({ event: event as ServerEvent }));
    this.#ws.on("error", (error) => {
      // Server `error` events also arrive as events; only transport errors matter here.
      if ((error as { error?: unknown }).error !== undefined) return;
      const cause = (error as { cause?: unknown }).cause;
      const detail = cause instanceof Error ? cause.message : error.message;
      const status = /Unexpected server response: (\d{3})/.exec(detail)?.[1];
      this.#push({ error: new OpenAIConnectionError(detail, status ? Number(status) : undefined) });
    });
    this.#ws.on("close", (code, reason) => {
      this.#closed = true;
      this.#onClosed();
      this.#push({ closed: `the websocket closed (${code}${reason ? ` ${reason}` : ""})` });
    });
  }

  /** True once the socket closed (it cannot be used again). */
  get closed(): boolean {
    return this.#closed;
  }

  #push(entry: Entry): void {
    this.#queue.push(entry);
    this.#wake?.();
  }

  #next(signal: AbortSignal): Promise<Entry> {
    const entry = this.#queue.shift();
    if (entry) return Promise.resolve(entry);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#wake = null;
        reject(signal.reason);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      this.#wake = () => {
        this.#wake = null;
        signal.removeEventListener("abort", onAbort);
        resolve(this.#queue.shift()!);
      };
    });
  }

  /**
   * Sends `response.create` and yields the response's events, the last one included.
   *
   * @param body The request body (without `stream`).
   * @param signal Aborts the wait (the caller then closes the socket).
   * @returns The events.
   */
  async *request(body: JsonObject, signal: AbortSignal): AsyncGenerator<ServerEvent> {
    if (this.#closed) throw new OpenAIIncompleteStreamError("the websocket is closed");
    // Leftovers of an earlier response (there should be none) are not this response's.
    this.#queue.length = 0;
    this.#ws.send({ ...body, type: "response.create" } as never);
    while (true) {
      const entry = await this.#next(signal);
      if ("error" in entry) throw entry.error;
      if ("closed" in entry) throw new OpenAIIncompleteStreamError(entry.closed);
      yield entry.event;
      if (FINAL.has(entry.event.type)) return;
    }
  }

  /**
   * Closes the socket (a response in flight is cancelled) and waits, at most 2 s, until it is.
   *
   * @returns When it closed.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#ws.close({ code: 1000, reason: "done" });
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#whenClosed,
      new Promise<void>((resolve) => timer = setTimeout(resolve, 2000)),
    ]);
    clearTimeout(timer);
  }
}
