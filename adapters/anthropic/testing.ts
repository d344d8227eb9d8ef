// A fake Anthropic Messages API on loopback, for tests and benchmarks. Deno only (Deno.serve).
import type { JsonObject } from "@meshagent/api";

/** One request the fake server received. */
export interface FakeAnthropicRequest {
  /** 0 for the first request the server received. */
  index: number;
  /** The HTTP method. */
  method: string;
  /** The path, e.g. `/v1/messages` or `/anthropic/v1/messages`. */
  path: string;
  /** The request headers, names lower-cased. */
  headers: Record<string, string>;
  /** The JSON body (`{}` when it was not JSON). */
  body: JsonObject;
  /** True once the client went away before the reply was complete (an interrupt). */
  disconnected: boolean;
}

/** A content block of a scripted message, streamed the way the Messages API streams it. */
export type FakeAnthropicBlock =
  /** Text, streamed in `chunks` (default: word by word) as `text_delta`s. */
  | { type: "text"; text: string; chunks?: string[] }
  /** Extended thinking: `thinking_delta`s, then one `signature_delta`. */
  | { type: "thinking"; thinking: string; signature: string; chunks?: string[] }
  /** Redacted thinking: sent whole in `content_block_start`. */
  | { type: "redacted_thinking"; data: string }
  /**
   * A tool call: `input` (as JSON) or `inputJson` (raw text, may be malformed) streamed as
   * `input_json_delta`s in `chunks` pieces (default 2).
   */
  | {
    type: "tool_use";
    name: string;
    id?: string;
    input?: JsonObject;
    inputJson?: string;
    chunks?: number;
  }
  /** Any other block (`server_tool_use`, `web_search_tool_result`, …), sent whole. */
  | { type: "raw"; block: JsonObject };

/** Token counts a scripted message reports (`message_start` and `message_delta`). */
export interface FakeAnthropicUsage {
  /** Uncached prompt tokens (default 10). */
  input_tokens?: number;
  /** Generated tokens (default: one per delta). */
  output_tokens?: number;
  /** Prompt tokens written to the cache (default 0). */
  cache_creation_input_tokens?: number;
  /** Prompt tokens read from the cache (default 0). */
  cache_read_input_tokens?: number;
  /** Thinking tokens, reported as `output_tokens_details.thinking_tokens`. */
  thinking_tokens?: number;
}

/** A streamed (or, for `stream: false`, whole) assistant message. */
export interface FakeAnthropicMessage {
  /** The text of a one-block message (shorthand for `content: [{type: "text", text}]`). */
  text?: string;
  /** The content blocks, in order. */
  content?: FakeAnthropicBlock[];
  /** `end_turn` (default; `tool_use` when a block calls a tool), `max_tokens`, `pause_turn`, … */
  stopReason?: string;
  /** Token counts. */
  usage?: FakeAnthropicUsage;
  /** The message id (default `msg_fake_<n>`). */
  id?: string;
  /** Wait this long (ms) before each SSE event after the first. */
  delayMs?: number;
  /** Send a `ping` event after `message_start` (default true). */
  ping?: boolean;
  /** After this many SSE events, stop sending and keep the connection open (a stalled stream). */
  stallAfterEvents?: number;
  /** After this many SSE events, send an `error` event (`overloaded_error` unless set) and end. */
  streamErrorAfterEvents?: number;
  /** The error type and message of `streamErrorAfterEvents`. */
  streamError?: { type: string; message?: string };
}

/** An HTTP error reply with the Messages API's error body. */
export interface FakeAnthropicError {
  /** The HTTP status (429, 500, 529, 400, …). */
  status: number;
  /** The error type (`rate_limit_error`, `overloaded_error`, `api_error`, …; default from status). */
  type?: string;
  /** The message (default: one naming the status). */
  message?: string;
  /** Extra response headers, e.g. `{"retry-after": "1"}`. */
  headers?: Record<string, string>;
}

/**
 * What the fake server answers to one request: a message, an HTTP error, raw SSE events, or
 * nothing at all (`hang`: no response headers until the client gives up or the server closes).
 */
export type FakeAnthropicReply =
  | FakeAnthropicMessage
  | { error: FakeAnthropicError }
  | { events: { event: string; data: JsonObject }[]; delayMs?: number }
  | { hang: true };

/** The script: replies in order, or a function of the request. */
export type FakeAnthropicScript =
  | readonly FakeAnthropicReply[]
  | ((request: FakeAnthropicRequest) => FakeAnthropicReply | Promise<FakeAnthropicReply>);

/** Options of {@linkcode FakeAnthropicServer.start}. */
export interface FakeAnthropicServerOptions {
  /** The port (default 0: any free port). */
  port?: number;
}

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  408: "timeout_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
  529: "overloaded_error",
};

const encoder = new TextEncoder();

function sse(event: string, data: JsonObject): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function words(text: string): string[] {
  const parts = text.split(/(?<= )/);
  return parts.length > 0 ? parts : [text];
}

function pieces(text: string, count: number): string[] {
  if (text === "") return [];
  const size = Math.max(1, Math.ceil(text.length / Math.max(1, count)));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function blocksOf(message: FakeAnthropicMessage): FakeAnthropicBlock[] {
  if (message.content) return message.content;
  return message.text !== undefined ? [{ type: "text", text: message.text }] : [];
}

/** The SSE events of a scripted message, exactly as the Messages API orders them. */
function messageEvents(
  message: FakeAnthropicMessage,
  model: string,
  id: string,
): { event: string; data: JsonObject }[] {
  const blocks = blocksOf(message);
  const usage = message.usage ?? {};
  const events: { event: string; data: JsonObject }[] = [];
  let toolCount = 0;
  let deltas = 0;
  const push = (event: string, data: JsonObject) =>
    events.push({ event, data: { type: event, ...data } });
  push("message_start", {
    message: {
      id,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: usage.input_tokens ?? 10,
        cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
        cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
        output_tokens: 1,
      },
    },
  });
  if (message.ping !== false) push("ping", {});
  blocks.forEach((block, index) => {
    const delta = (delta: JsonObject) => {
      deltas++;
      push("content_block_delta", { index, delta });
    };
    switch (block.type) {
      case "text":
        push("content_block_start", { index, content_block: { type: "text", text: "" } });
        for (const text of block.chunks ?? words(block.text)) delta({ type: "text_delta", text });
        break;
      case "thinking":
        push("content_block_start", {
          index,
          content_block: { type: "thinking", thinking: "", signature: "" },
        });
        for (const thinking of block.chunks ?? words(block.thinking)) {
          delta({ type: "thinking_delta", thinking });
        }
        delta({ type: "signature_delta", signature: block.signature });
        break;
      case "redacted_thinking":
        push("content_block_start", {
          index,
          content_block: { type: "redacted_thinking", data: block.data },
        });
        break;
      case "tool_use": {
        toolCount++;
        push("content_block_start", {
          index,
          content_block: {
            type: "tool_use",
            id: block.id ?? `toolu_fake_${id}_${index}`,
            name: block.name,
            input: {},
          },
        });
        const json = block.inputJson ?? JSON.stringify(block.input ?? {});
        for (const partial_json of pieces(json, block.chunks ?? 2)) {
          delta({ type: "input_json_delta", partial_json });
        }
        break;
      }
      case "raw":
        push("content_block_start", { index, content_block: block.block });
        break;
    }
    push("content_block_stop", { index });
  });
  const thinking = usage.thinking_tokens;
  push("message_delta", {
    delta: {
      stop_reason: message.stopReason ?? (toolCount > 0 ? "tool_use" : "end_turn"),
      stop_sequence: null,
    },
    usage: {
      output_tokens: usage.output_tokens ?? Math.max(1, deltas),
      ...(thinking !== undefined ? { output_tokens_details: { thinking_tokens: thinking } } : {}),
    },
  });
  push("message_stop", {});
  return events;
}

/** The whole message (a `stream: false` request), as the events above would build it. */
function wholeMessage(message: FakeAnthropicMessage, model: string, id: string): JsonObject {
  const content: JsonObject[] = blocksOf(message).map((block, index) => {
    switch (block.type) {
      case "text":
        return { type: "text", text: block.text };
      case "thinking":
        return { type: "thinking", thinking: block.thinking, signature: block.signature };
      case "redacted_thinking":
        return { type: "redacted_thinking", data: block.data };
      case "tool_use":
        return {
          type: "tool_use",
          id: block.id ?? `toolu_fake_${id}_${index}`,
          name: block.name,
          input: block.input ?? {},
        };
      case "raw":
        return block.block;
    }
  });
  const usage = message.usage ?? {};
  return {
    id,
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: message.stopReason ??
      (content.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn"),
    stop_sequence: null,
    usage: {
      input_tokens: usage.input_tokens ?? 10,
      output_tokens: usage.output_tokens ?? 1,
      cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
      cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * A fake Anthropic Messages API on 127.0.0.1 that speaks the wire format of `POST /v1/messages`
 * (under any path prefix): SSE events `message_start`, `ping`, `content_block_start` (text,
 * thinking, redacted thinking, tool use, or any raw block), `content_block_delta` (`text_delta`,
 * `thinking_delta`, `signature_delta`, `input_json_delta`), `content_block_stop`,
 * `message_delta` (stop reason and usage), `message_stop`, and `error`; a whole message for
 * `stream: false`; HTTP errors with the API's error body (`{"type":"error","error":{…}}`, a
 * `request-id` header, and any headers the script adds, such as `retry-after`). It answers from a
 * script and records every request it received, so a test can check what a client sent and how
 * it handled each answer. Point the real `@anthropic-ai/sdk` (or an adapter) at {@linkcode url}.
 *
 * Runs on Deno (`Deno.serve`). Close it with {@linkcode close} or `await using`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FakeAnthropicServer } from "@meshagent/adapters/anthropic/testing";
 *
 * await using server = await FakeAnthropicServer.start([
 *   { text: "Hello there" },
 *   { error: { status: 429, headers: { "retry-after": "1" } } },
 * ]);
 * const reply = await fetch(`${server.url}/v1/messages`, {
 *   method: "POST",
 *   body: JSON.stringify({ model: "m", max_tokens: 10, stream: true, messages: [] }),
 * });
 * const text = await reply.text();
 * assert.match(text, /^event: message_start\n/);
 * assert.match(text, /"text_delta","text":"Hello "/);
 * const limited = await fetch(`${server.url}/v1/messages`, { method: "POST", body: "{}" });
 * assert.equal(limited.status, 429);
 * assert.equal(limited.headers.get("retry-after"), "1");
 * assert.equal((await limited.json()).error.type, "rate_limit_error");
 * assert.equal(server.requests.length, 2);
 * ```
 */
export class FakeAnthropicServer {
  /** Every request received, in order. */
  readonly requests: FakeAnthropicRequest[] = [];
  /** The base URL (`http://127.0.0.1:<port>`): pass it as the adapter's or SDK's `baseURL`. */
  readonly url: string;
  #script: FakeAnthropicScript;
  /** The index of the request the script's first reply answers. */
  #offset = 0;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #closing = new AbortController();
  readonly #waiters = new Set<() => void>();
  #closed: Promise<void> | null = null;

  private constructor(script: FakeAnthropicScript, options: FakeAnthropicServerOptions) {
    this.#script = script;
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: options.port ?? 0, onListen: () => {} },
      (request) => this.#handle(request),
    );
    this.url = `http://127.0.0.1:${this.#server.addr.port}`;
  }

  /**
   * Starts a server.
   *
   * @param script The replies in order, or a function from each request to its reply.
   * @param options The port.
   * @returns The listening server.
   */
  static start(
    script: FakeAnthropicScript,
    options: FakeAnthropicServerOptions = {},
  ): Promise<FakeAnthropicServer> {
    return Promise.resolve(new FakeAnthropicServer(script, options));
  }

  /**
   * Replaces the script (a list starts again at its first reply for the next request).
   *
   * @param script The new script.
   */
  setScript(script: FakeAnthropicScript): void {
    this.#script = script;
    this.#offset = this.requests.length;
  }

  /**
   * Waits until the client of request `index` went away before its reply was complete.
   *
   * @param index The request's index.
   * @param timeoutMs How long to wait (default 5000).
   * @throws {Error} When it did not happen in time.
   */
  disconnected(index: number, timeoutMs = 5000): Promise<void> {
    return this.#waitFor(
      () => this.requests[index]?.disconnected === true,
      timeoutMs,
      `request ${index} was not disconnected`,
    );
  }

  /**
   * Waits until the server received `count` requests.
   *
   * @param count How many.
   * @param timeoutMs How long to wait (default 5000).
   * @throws {Error} When they did not arrive in time.
   */
  received(count: number, timeoutMs = 5000): Promise<void> {
    return this.#waitFor(
      () => this.requests.length >= count,
      timeoutMs,
      `only ${this.requests.length} of ${count} requests arrived`,
    );
  }

  #waitFor(done: () => boolean, timeoutMs: number, message: string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`${message} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  #changed(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  async #reply(request: FakeAnthropicRequest): Promise<FakeAnthropicReply> {
    const script = this.#script;
    if (typeof script === "function") return await script(request);
    const reply = script[request.index - this.#offset];
    return reply ?? {
      error: {
        status: 500,
        type: "api_error",
        message: `the fake server's script has no reply for request ${request.index}`,
      },
    };
  }

  async #handle(http: Request): Promise<Response> {
    const text = await http.text();
    let body: JsonObject = {};
    try {
      const parsed = JSON.parse(text);
      if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) body = parsed;
    } catch {
      // not JSON: recorded as {}
    }
    const request: FakeAnthropicRequest = {
      index: this.requests.length,
      method: http.method,
      path: new URL(http.url).pathname,
      headers: Object.fromEntries(http.headers),
      body,
      disconnected: false,
    };
    this.requests.push(request);
    this.#changed();
    const reply = await this.#reply(request);
    const requestId = `req_fake_${request.index}`;
    if ("hang" in reply) {
      await sleep(2 ** 31 - 1, this.#closing.signal);
      return new Response(null, { status: 503 });
    }
    if ("error" in reply) {
      const { status, type, message, headers } = reply.error;
      return Response.json({
        type: "error",
        error: {
          type: type ?? ERROR_TYPES[status] ?? "api_error",
          message: message ?? `fake ${status} error`,
        },
        request_id: requestId,
      }, { status, headers: { "request-id": requestId, ...headers } });
    }
    const model = typeof body.model === "string" ? body.model : "claude-fake";
    if ("events" in reply) return this.#stream(request, reply.events, reply.delayMs ?? 0, {});
    const id = reply.id ?? `msg_fake_${request.index}`;
    if (body.stream !== true) {
      return Response.json(wholeMessage(reply, model, id), {
        headers: { "request-id": requestId },
      });
    }
    return this.#stream(request, messageEvents(reply, model, id), reply.delayMs ?? 0, reply);
  }

  #stream(
    request: FakeAnthropicRequest,
    events: { event: string; data: JsonObject }[],
    delayMs: number,
    message: FakeAnthropicMessage,
  ): Response {
    const closing = this.#closing.signal;
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      start: async (controller) => {
        for (const [n, { event, data }] of events.entries()) {
          if (n === message.streamErrorAfterEvents) {
            const error = message.streamError ?? { type: "overloaded_error" };
            controller.enqueue(sse("error", {
              type: "error",
              error: { type: error.type, message: error.message ?? "Overloaded" },
            }));
            break;
          }
          if (n === message.stallAfterEvents) {
            await sleep(2 ** 31 - 1, closing);
            break;
          }
          if (n > 0 && delayMs > 0) await sleep(delayMs, closing);
          if (cancelled || closing.aborted) return;
          controller.enqueue(sse(event, data));
        }
        if (!cancelled) controller.close();
      },
      cancel: () => {
        cancelled = true;
        request.disconnected = true;
        this.#changed();
      },
    });
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        "request-id": `req_fake_${request.index}`,
      },
    });
  }

  /** Stops the server: hanging and stalled replies end, then the listener closes. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing.abort();
      await this.#server.shutdown();
    })();
    return this.#closed;
  }

  /** Closes the server (`await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
