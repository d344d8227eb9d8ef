import type { JsonObject } from "@meshagent/api";
import {
  type FakeAudioError,
  type FakeAudioOptions,
  type FakeAudioRequest,
  type FakeSpeechRequest,
  type FakeTranscriptionRequest,
  serveAudio,
} from "./_fake_audio.ts";
import {
  type FakeRealtimeOptions,
  type FakeRealtimeReply,
  type FakeRealtimeSession,
  serveRealtime,
} from "./_fake_realtime.ts";

export type { FakeRealtimeOptions, FakeRealtimeReply, FakeRealtimeSession };
export type {
  FakeAudioError,
  FakeAudioOptions,
  FakeAudioRequest,
  FakeSpeechRequest,
  FakeTranscriptionRequest,
};

/** A tool call a scripted reply makes. */
export interface FakeOpenAIToolCall {
  /** The function name the model calls (a flat name, or the name inside `namespace`). */
  name: string;
  /** The namespace (Responses API only). */
  namespace?: string;
  /** The arguments: JSON text sent as is (malformed on purpose, if you like), or a value. */
  arguments: unknown;
  /** The call id (default: generated). */
  callId?: string;
}

/** Token counts a reply reports. */
export interface FakeOpenAIUsage {
  /** Prompt tokens. */
  input_tokens: number;
  /** Completion tokens. */
  output_tokens: number;
  /** Cached prompt tokens. */
  cached_input_tokens?: number;
  /** Reasoning tokens. */
  reasoning_tokens?: number;
}

/** A streamed answer. */
export interface FakeOpenAIStreamReply {
  /** The text, as one delta or as a list of deltas. */
  text?: string | string[];
  /**
   * Reasoning: summary deltas (Responses `reasoning_summary_text`, Completions
   * `reasoning_content`) and the encrypted content of the reasoning item (Responses).
   */
  reasoning?: { summary?: string | string[]; encryptedContent?: string };
  /** Tool calls, streamed after the text. */
  toolCalls?: FakeOpenAIToolCall[];
  /**
   * More output items, sent as they are after the tool calls (Responses API only): provider-native
   * calls such as `{type: "computer_call", call_id, actions: […], pending_safety_checks: []}`.
   * Each gets an `id` (if it has none) and `status`, and streams as `output_item.added` + `done`.
   */
  outputItems?: JsonObject[];
  /** Split each call's arguments into this many deltas (default 2). */
  argumentChunks?: number;
  /** The usage to report (default: counted from the request and reply sizes). */
  usage?: FakeOpenAIUsage;
  /** Send no usage at all (servers that do not). */
  omitUsage?: boolean;
  /** Wait this long (ms) before the response starts (before the HTTP headers). */
  firstByteDelayMs?: number;
  /** Wait this long (ms) between events. */
  delayMs?: number;
  /**
   * Fail inside the stream after `afterEvents` events: an `error` event (Responses), a
   * `response.failed` event, or a `{"error": …}` chunk (Completions, `kind` ignored).
   */
  fail?: {
    afterEvents: number;
    kind?: "error" | "response.failed";
    code?: string;
    message?: string;
  };
  /** Stop sending after `afterEvents` events and keep the connection open (a stalled server). */
  stall?: { afterEvents: number };
  /** Close the connection after `afterEvents` events, without finishing the response. */
  drop?: { afterEvents: number };
}

/** An HTTP error answer (before any streaming). */
export interface FakeOpenAIErrorReply {
  /** The error. */
  error: {
    /** The HTTP status. */
    status: number;
    /** The message (default: the status text). */
    message?: string;
    /** The error type (default from the status: `rate_limit_error`, `server_error`, …). */
    type?: string;
    /** The error code (`insufficient_quota`, …). */
    code?: string | null;
    /** Response headers (`retry-after`, `retry-after-ms`). */
    headers?: Record<string, string>;
  };
}

/** No answer at all: the request waits until the client gives up (or the server closes). */
export interface FakeOpenAIHangReply {
  /** Never answer. */
  hang: true;
}

/** What the fake server answers to one request. */
export type FakeOpenAIReply = FakeOpenAIStreamReply | FakeOpenAIErrorReply | FakeOpenAIHangReply;

/** A request the fake server received. */
export interface FakeOpenAIRequest {
  /** Its position, 0 first. */
  index: number;
  /** `responses` or `chat.completions`. */
  api: "responses" | "chat.completions";
  /** `http` (SSE) or `websocket` (one `response.create` frame). */
  transport: "http" | "websocket";
  /** The request headers (lower-case names). */
  headers: Record<string, string>;
  /** The JSON body (for a websocket frame: the frame without its `type`). */
  body: JsonObject;
  /** When it arrived (`performance.now()`). */
  receivedAt: number;
  /** Set once the client went away before the answer was complete (an abort). */
  disconnected: boolean;
  /** Set once the answer was complete. */
  finished: boolean;
}

/** Decides the reply to a request. */
export type FakeOpenAIScript = (
  request: FakeOpenAIRequest,
) => FakeOpenAIReply | Promise<FakeOpenAIReply>;

/** Options of {@linkcode FakeOpenAIServer.start}. */
export interface FakeOpenAIServerOptions {
  /**
   * The replies, in order (one per request that is answered as scripted — a websocket request
   * refused for an unknown `previous_response_id` takes none; past the end the server answers
   * 500 saying so), or a function from the request to its reply. Default: every request is
   * answered "ok".
   */
  replies?: FakeOpenAIReply[] | FakeOpenAIScript;
  /** The models `GET /v1/models` lists (default `["gpt-5.2"]`). */
  models?: string[];
  /** Require `Authorization: Bearer <apiKey>` (default: any key, or none). */
  apiKey?: string;
  /**
   * Websocket mode: keep each connection's last response for `previous_response_id` (default
   * true). False answers every `previous_response_id` with `previous_response_not_found`.
   */
  rememberResponses?: boolean;
  /** The Realtime API on `GET /v1/realtime?model=…` (websocket): transcripts and spoken replies. */
  realtime?: FakeRealtimeOptions;
  /**
   * The audio endpoints: `POST /v1/audio/transcriptions` (multipart upload) and
   * `POST /v1/audio/speech` (PCM or WAV out). Default: a scripted-looking transcription naming
   * the upload's size, and a 440 Hz tone of 20 ms per character.
   */
  audio?: FakeAudioOptions;
}

const encoder = new TextEncoder();
const STATUS_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "insufficient_quota",
  403: "permission_error",
  404: "not_found_error",
  408: "timeout_error",
  409: "conflict_error",
  429: "rate_limit_error",
};

function split(text: string, parts: number): string[] {
  if (parts <= 1 || text.length <= 1) return [text];
  const size = Math.ceil(text.length / parts);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function list(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function tokens(value: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(value ?? "").length / 4));
}

/** The events of one Responses API stream, as the API sends them. */
function responsesEvents(
  reply: FakeOpenAIStreamReply,
  request: FakeOpenAIRequest,
  id: string,
): JsonObject[] {
  const model = String(request.body.model ?? "gpt-5.2");
  const created = Math.floor(Date.now() / 1000);
  const base = (status: string, output: JsonObject[], usage: JsonObject | null): JsonObject => ({
    id,
    object: "response",
    created_at: created,
    status,
    model,
    output,
    usage,
    error: null,
    incomplete_details: null,
    parallel_tool_calls: true,
    tool_choice: (request.body.tool_choice as unknown) ?? "auto",
    tools: (request.body.tools as unknown) ?? [],
  });
  const events: JsonObject[] = [
    { type: "response.created", response: base("in_progress", [], null) },
    { type: "response.in_progress", response: base("in_progress", [], null) },
  ];
  const output: JsonObject[] = [];
  const summary = list(reply.reasoning?.summary);
  if (reply.reasoning) {
    const index = output.length;
    const itemId = `rs_${id}_${index}`;
    events.push({
      type: "response.output_item.added",
      output_index: index,
      item: { type: "reasoning", id: itemId, summary: [] },
    });
    summary.forEach((text, part) => {
      events.push({
        type: "response.reasoning_summary_part.added",
        item_id: itemId,
        output_index: index,
        summary_index: part,
        part: { type: "summary_text", text: "" },
      });
      events.push({
        type: "response.reasoning_summary_text.delta",
        item_id: itemId,
        output_index: index,
        summary_index: part,
        delta: text,
      });
      events.push({
        type: "response.reasoning_summary_text.done",
        item_id: itemId,
        output_index: index,
        summary_index: part,
        text,
      });
      events.push({
        type: "response.reasoning_summary_part.done",
        item_id: itemId,
        output_index: index,
        summary_index: part,
        part: { type: "summary_text", text },
      });
    });
    const item: JsonObject = {
      type: "reasoning",
      id: itemId,
      summary: summary.map((text) => ({ type: "summary_text", text })),
      ...(reply.reasoning.encryptedContent !== undefined
        ? { encrypted_content: reply.reasoning.encryptedContent }
        : {}),
    };
    events.push({ type: "response.output_item.done", output_index: index, item });
    output.push(item);
  }
  const deltas = list(reply.text);
  if (deltas.length > 0) {
    const index = output.length;
    const itemId = `msg_${id}_${index}`;
    const text = deltas.join("");
    events.push({
      type: "response.output_item.added",
      output_index: index,
      item: { type: "message", id: itemId, status: "in_progress", role: "assistant", content: [] },
    });
    events.push({
      type: "response.content_part.added",
      item_id: itemId,
      output_index: index,
      content_index: 0,
      part: { type: "output_text", text: "", annotations: [] },
    });
    for (const delta of deltas) {
      events.push({
        type: "response.output_text.delta",
        item_id: itemId,
        output_index: index,
        content_index: 0,
        delta,
        logprobs: [],
      });
    }
    events.push({
      type: "response.output_text.done",
      item_id: itemId,
      output_index: index,
      content_index: 0,
      text,
      logprobs: [],
    });
    const part = { type: "output_text", text, annotations: [] };
    events.push({
      type: "response.content_part.done",
      item_id: itemId,
      output_index: index,
      content_index: 0,
      part,
    });
    const item: JsonObject = {
      type: "message",
      id: itemId,
      status: "completed",
      role: "assistant",
      content: [part],
    };
    events.push({ type: "response.output_item.done", output_index: index, item });
    output.push(item);
  }
  for (const [n, call] of (reply.toolCalls ?? []).entries()) {
    const index = output.length;
    const itemId = `fc_${id}_${index}`;
    const args = typeof call.arguments === "string"
      ? call.arguments
      : JSON.stringify(call.arguments);
    const head = {
      type: "function_call",
      id: itemId,
      call_id: call.callId ?? `call_${id}_${n}`,
      name: call.name,
      ...(call.namespace ? { namespace: call.namespace } : {}),
    };
    events.push({
      type: "response.output_item.added",
      output_index: index,
      item: { ...head, arguments: "", status: "in_progress" },
    });
    for (const delta of split(args, reply.argumentChunks ?? 2)) {
      events.push({
        type: "response.function_call_arguments.delta",
        item_id: itemId,
        output_index: index,
        delta,
      });
    }
    events.push({
      type: "response.function_call_arguments.done",
      item_id: itemId,
      output_index: index,
      arguments: args,
    });
    const item: JsonObject = { ...head, arguments: args, status: "completed" };
    events.push({ type: "response.output_item.done", output_index: index, item });
    output.push(item);
  }
  for (const extra of reply.outputItems ?? []) {
    const index = output.length;
    const item: JsonObject = { id: `item_${id}_${index}`, ...extra, status: "completed" };
    events.push({
      type: "response.output_item.added",
      output_index: index,
      item: { ...item, status: "in_progress" },
    });
    events.push({ type: "response.output_item.done", output_index: index, item });
    output.push(item);
  }
  const usage = reply.omitUsage ? null : usageJson(reply, request, output);
  events.push({ type: "response.completed", response: base("completed", output, usage) });
  return events.map((event, sequence) => ({ ...event, sequence_number: sequence }));
}

function usageJson(
  reply: FakeOpenAIStreamReply,
  request: FakeOpenAIRequest,
  output: unknown,
): JsonObject {
  const usage = reply.usage ??
    { input_tokens: tokens(request.body), output_tokens: tokens(output) };
  return {
    input_tokens: usage.input_tokens,
    input_tokens_details: { cached_tokens: usage.cached_input_tokens ?? 0 },
    output_tokens: usage.output_tokens,
    output_tokens_details: { reasoning_tokens: usage.reasoning_tokens ?? 0 },
    total_tokens: usage.input_tokens + usage.output_tokens,
  };
}

/** The chunks of one Chat Completions stream, as the API sends them (`[DONE]` not included). */
function chatChunks(
  reply: FakeOpenAIStreamReply,
  request: FakeOpenAIRequest,
  id: string,
): JsonObject[] {
  const model = String(request.body.model ?? "model");
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: JsonObject, finish: string | null = null): JsonObject => ({
    id,
    object: "chat.completion.chunk",
    created,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  const chunks: JsonObject[] = [chunk({ role: "assistant", content: "" })];
  for (const text of list(reply.reasoning?.summary)) {
    chunks.push(chunk({ reasoning_content: text }));
  }
  const deltas = list(reply.text);
  for (const text of deltas) chunks.push(chunk({ content: text }));
  const calls = reply.toolCalls ?? [];
  for (const [index, call] of calls.entries()) {
    const args = typeof call.arguments === "string"
      ? call.arguments
      : JSON.stringify(call.arguments);
    const pieces = split(args, reply.argumentChunks ?? 2);
    chunks.push(chunk({
      tool_calls: [{
        index,
        id: call.callId ?? `call_${id}_${index}`,
        type: "function",
        function: { name: call.name, arguments: "" },
      }],
    }));
    for (const piece of pieces) {
      chunks.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  }
  chunks.push(chunk({}, calls.length > 0 ? "tool_calls" : "stop"));
  const streamOptions = request.body.stream_options as JsonObject | undefined;
  if (!reply.omitUsage && streamOptions?.include_usage === true) {
    const usage = reply.usage ??
      { input_tokens: tokens(request.body.messages), output_tokens: tokens([deltas, calls]) };
    chunks.push({
      id,
      object: "chat.completion.chunk",
      created,
      model,
      choices: [],
      usage: {
        prompt_tokens: usage.input_tokens,
        completion_tokens: usage.output_tokens,
        total_tokens: usage.input_tokens + usage.output_tokens,
        prompt_tokens_details: { cached_tokens: usage.cached_input_tokens ?? 0 },
        completion_tokens_details: { reasoning_tokens: usage.reasoning_tokens ?? 0 },
      },
    });
  }
  return chunks;
}

function errorBody(reply: FakeOpenAIErrorReply["error"]): JsonObject {
  return {
    error: {
      message: reply.message ?? `fake error ${reply.status}`,
      type: reply.type ??
        (reply.status >= 500
          ? "server_error"
          : STATUS_TYPES[reply.status] ?? "invalid_request_error"),
      param: null,
      code: reply.code ?? null,
    },
  };
}

/**
 * A local stand-in for the OpenAI API, for tests and benchmarks: it listens on 127.0.0.1 (a free
 * port) and speaks the documented wire formats — `POST /v1/responses` (SSE events
 * `response.created` … `response.completed`, and the websocket mode on `GET /v1/responses`),
 * `POST /v1/chat/completions` (`chat.completion.chunk` SSE and `[DONE]`), `GET /v1/models` —
 * answering each request as scripted: text deltas, reasoning, tool calls (with malformed
 * arguments if you like), usage, HTTP errors with `retry-after`, in-stream failures, delays,
 * stalls and hangs. It records every request (body, headers, whether the client went away).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import OpenAI from "openai";
 * import { FakeOpenAIServer } from "@meshagent/adapters/openai/testing";
 *
 * await using server = await FakeOpenAIServer.start({
 *   replies: [{ error: { status: 429, headers: { "retry-after": "0" } } }, { text: ["he", "llo"] }],
 * });
 * const client = new OpenAI({ baseURL: server.baseURL, apiKey: "test", maxRetries: 1 });
 * const stream = await client.responses.create({ model: "gpt-5.2", input: "hi", stream: true });
 * let text = "";
 * for await (const event of stream) if (event.type === "response.output_text.delta") text += event.delta;
 * assert.equal(text, "hello");
 * assert.equal(server.requests.length, 2);
 * ```
 */
export class FakeOpenAIServer {
  /** Every request received, in order. */
  readonly requests: FakeOpenAIRequest[] = [];
  /** The audio requests (transcriptions and speech), in order. */
  readonly audioRequests: FakeAudioRequest[] = [];
  /** The Realtime API sessions, in the order they connected. */
  readonly realtimeSessions: FakeRealtimeSession[] = [];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #options: FakeOpenAIServerOptions;
  readonly #closing = new AbortController();
  readonly #sockets = new Set<WebSocket>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #script: FakeOpenAIScript;
  #responses = 0;
  #realtimeReplies = 0;
  #connections = 0;

  private constructor(options: FakeOpenAIServerOptions) {
    this.#options = options;
    this.#script = FakeOpenAIServer.#toScript(options.replies);
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request, info) => this.#handle(request, info),
    );
  }

  /**
   * Starts a server.
   *
   * @param options Replies, models, required key.
   * @returns The running server (close it with {@linkcode FakeOpenAIServer.close} or `await using`).
   */
  static start(options: FakeOpenAIServerOptions = {}): Promise<FakeOpenAIServer> {
    return Promise.resolve(new FakeOpenAIServer(options));
  }

  static #toScript(replies: FakeOpenAIServerOptions["replies"]): FakeOpenAIScript {
    if (typeof replies === "function") return replies;
    if (replies === undefined) return () => ({ text: "ok" });
    let next = 0;
    return (request) =>
      replies[next++] ??
        {
          error: {
            status: 500,
            message: `fake server: no reply scripted for request ${request.index + 1}`,
          },
        };
  }

  /** The API base URL, `http://127.0.0.1:<port>/v1` (pass it as `baseURL`). */
  get baseURL(): string {
    return `http://127.0.0.1:${this.#server.addr.port}/v1`;
  }

  /** How many websocket connections were opened so far. */
  get websocketConnections(): number {
    return this.#connections;
  }

  /** The port. */
  get port(): number {
    return this.#server.addr.port;
  }

  /**
   * Replaces the script.
   *
   * @param replies Replies in order (from the next request on) or a function.
   */
  setReplies(replies: FakeOpenAIReply[] | FakeOpenAIScript): void {
    this.#script = FakeOpenAIServer.#toScript(replies);
  }

  /**
   * Waits until `count` requests arrived (at most `timeoutMs`, default 5000).
   *
   * @param count The number of requests.
   * @param timeoutMs The longest wait.
   * @returns The requests so far.
   */
  async waitForRequests(count: number, timeoutMs = 5000): Promise<FakeOpenAIRequest[]> {
    const deadline = performance.now() + timeoutMs;
    while (this.requests.length < count) {
      if (performance.now() > deadline) {
        throw new Error(
          `fake server: ${this.requests.length} of ${count} requests after ${timeoutMs} ms`,
        );
      }
      await this.#sleep(5);
    }
    return this.requests;
  }

  /**
   * Waits until a request saw its client go away (at most `timeoutMs`, default 5000).
   *
   * @param request The request.
   * @param timeoutMs The longest wait.
   */
  async waitForDisconnect(request: FakeOpenAIRequest, timeoutMs = 5000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!request.disconnected) {
      if (performance.now() > deadline) {
        throw new Error(
          `fake server: request ${request.index + 1} still connected after ${timeoutMs} ms`,
        );
      }
      await this.#sleep(5);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.add(timer);
    });
  }

  /** Waits `ms`, or less when the signal aborts or the server closes; true if it ran out. */
  #wait(ms: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ran: boolean) => {
        clearTimeout(timer);
        this.#timers.delete(timer);
        signal?.removeEventListener("abort", stop);
        this.#closing.signal.removeEventListener("abort", stop);
        resolve(ran);
      };
      const stop = () => done(false);
      const timer = setTimeout(() => done(true), ms);
      this.#timers.add(timer);
      if (signal?.aborted || this.#closing.signal.aborted) return stop();
      signal?.addEventListener("abort", stop, { once: true });
      this.#closing.signal.addEventListener("abort", stop, { once: true });
    });
  }

  #record(
    api: FakeOpenAIRequest["api"],
    transport: FakeOpenAIRequest["transport"],
    headers: Headers,
    body: JsonObject,
  ): FakeOpenAIRequest {
    const request: FakeOpenAIRequest = {
      index: this.requests.length,
      api,
      transport,
      headers: Object.fromEntries(headers),
      body,
      receivedAt: performance.now(),
      disconnected: false,
      finished: false,
    };
    this.requests.push(request);
    return request;
  }

  #json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
    return new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", ...headers },
    });
  }

  async #handle(http: Request, info: Deno.ServeHandlerInfo): Promise<Response> {
    const url = new URL(http.url);
    const path = url.pathname.replace(/\/+$/, "");
    if (
      this.#options.apiKey && http.headers.get("authorization") !== `Bearer ${this.#options.apiKey}`
    ) {
      return this.#json(401, errorBody({ status: 401, message: "Incorrect API key provided" }));
    }
    if (path === "/v1/models" && http.method === "GET") {
      const models = this.#options.models ?? ["gpt-5.2"];
      return this.#json(200, {
        object: "list",
        data: models.map((id) => ({ id, object: "model", created: 0, owned_by: "fake" })),
      });
    }
    if (path === "/v1/responses" && http.headers.get("upgrade")?.toLowerCase() === "websocket") {
      return this.#upgrade(http);
    }
    if (path === "/v1/realtime" && http.headers.get("upgrade")?.toLowerCase() === "websocket") {
      return this.#realtime(http, url);
    }
    const audio = await serveAudio(
      http,
      path,
      this.#options.audio ?? {},
      (request) => this.audioRequests.push(request),
      (status, message, code) => this.#json(status, errorBody({ status, message, code })),
    );
    if (audio) return audio;
    const api = path === "/v1/responses"
      ? "responses"
      : path === "/v1/chat/completions"
      ? "chat.completions"
      : null;
    if (!api || http.method !== "POST") {
      return this.#json(
        404,
        errorBody({ status: 404, message: `fake server: no route ${http.method} ${path}` }),
      );
    }
    let body: JsonObject;
    try {
      body = await http.json();
    } catch {
      return this.#json(
        400,
        errorBody({ status: 400, message: "We could not parse the JSON body of your request." }),
      );
    }
    const request = this.#record(api, "http", http.headers, body);
    // [impl] Not `http.signal`: Deno.serve also aborts it after a successful response (and warns).
    // A client that leaves is seen when its body stream is cancelled or `completed` rejects.
    const gone = new AbortController();
    const leave = () => {
      if (!request.finished) request.disconnected = true;
      gone.abort();
    };
    info.completed.catch(leave);
    const reply = await this.#script(request);
    if ("hang" in reply) {
      // Until the server closes: a client that gives up is seen then.
      await this.#wait(2 ** 31 - 1);
      return this.#json(503, errorBody({ status: 503, message: "fake server closing" }));
    }
    if ("error" in reply) {
      request.finished = true;
      return this.#json(reply.error.status, errorBody(reply.error), reply.error.headers);
    }
    if (reply.firstByteDelayMs && !(await this.#wait(reply.firstByteDelayMs))) {
      return this.#json(503, errorBody({ status: 503, message: "fake server closing" }));
    }
    const id = `${api === "responses" ? "resp" : "chatcmpl"}_${++this.#responses}`;
    const events = api === "responses"
      ? responsesEvents(reply, request, id)
      : chatChunks(reply, request, id);
    const frames = events.map((event) =>
      api === "responses"
        ? `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`
        : `data: ${JSON.stringify(event)}\n\n`
    );
    const failure = reply.fail
      ? api === "responses"
        ? reply.fail.kind === "response.failed"
          ? `event: response.failed\ndata: ${
            JSON.stringify({
              type: "response.failed",
              sequence_number: reply.fail.afterEvents,
              response: {
                id,
                object: "response",
                status: "failed",
                output: [],
                error: {
                  code: reply.fail.code ?? "server_error",
                  message: reply.fail.message ?? "The model failed",
                },
              },
            })
          }\n\n`
          : `event: error\ndata: ${
            JSON.stringify({
              type: "error",
              sequence_number: reply.fail.afterEvents,
              code: reply.fail.code ?? "server_error",
              message: reply.fail.message ??
                "The server had an error while processing your request.",
              param: null,
            })
          }\n\n`
        : `data: ${
          JSON.stringify({
            error: {
              message: reply.fail.message ??
                "The server had an error while processing your request.",
              type: "server_error",
              code: reply.fail.code ?? null,
            },
          })
        }\n\n`
      : undefined;
    const stop = reply.fail?.afterEvents ?? reply.stall?.afterEvents ?? reply.drop?.afterEvents ??
      Infinity;
    const signal = gone.signal;
    const stream = new ReadableStream<Uint8Array>({
      start: async (controller) => {
        const send = (text: string) => {
          try {
            controller.enqueue(encoder.encode(text));
            return true;
          } catch {
            return false;
          }
        };
        for (const [n, frame] of frames.entries()) {
          if (n >= stop) break;
          if (n > 0 && reply.delayMs && !(await this.#wait(reply.delayMs, signal))) break;
          if (signal.aborted || this.#closing.signal.aborted) break;
          // The last frame completes the answer: a client may hang up as soon as it has it.
          const last = n === frames.length - 1 && stop === Infinity && api === "responses";
          if (last) request.finished = true;
          if (!send(frame)) {
            request.finished = false;
            break;
          }
        }
        if (!signal.aborted && !this.#closing.signal.aborted) {
          if (failure !== undefined) send(failure);
          else if (reply.stall) await this.#wait(2 ** 31 - 1, signal);
          else if (!reply.drop && api === "chat.completions") {
            request.finished = true;
            send("data: [DONE]\n\n");
          }
        }
        if (!signal.aborted && !reply.stall) request.finished = true;
        try {
          controller.close();
        } catch {
          // the client went away
        }
      },
      cancel: leave,
    });
    return new Response(stream, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
    });
  }

  #upgrade(http: Request): Response {
    // The request is closed once upgraded: keep its headers first.
    const headers = new Headers(http.headers);
    const { socket, response } = Deno.upgradeWebSocket(http);
    this.#connections++;
    this.#sockets.add(socket);
    // The websocket mode keeps the last response of the connection for `previous_response_id`.
    let lastResponse: string | null = null;
    let current: FakeOpenAIRequest | null = null;
    let queue = Promise.resolve();
    const closed = new AbortController();
    socket.onclose = () => {
      this.#sockets.delete(socket);
      closed.abort();
      if (current && !current.finished) current.disconnected = true;
    };
    socket.onerror = () => {};
    const sendJson = (event: unknown) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(event));
    };
    socket.onmessage = (message) => {
      queue = queue.then(async () => {
        let frame: JsonObject;
        try {
          frame = JSON.parse(String(message.data));
        } catch {
          return sendJson({
            type: "error",
            status: 400,
            error: {
              type: "invalid_request_error",
              code: null,
              message: "invalid JSON",
              param: null,
            },
          });
        }
        const { type: _type, ...body } = frame;
        const request = this.#record("responses", "websocket", headers, body as JsonObject);
        current = request;
        const previous = body.previous_response_id;
        if (typeof previous === "string" && previous !== lastResponse) {
          request.finished = true;
          return sendJson({
            type: "error",
            status: 400,
            error: {
              type: "invalid_request_error",
              code: "previous_response_not_found",
              message: `Previous response with id '${previous}' not found.`,
              param: "previous_response_id",
            },
          });
        }
        const reply = await this.#script(request);
        if ("hang" in reply) return void await this.#wait(2 ** 31 - 1, closed.signal);
        if ("error" in reply) {
          request.finished = true;
          const error = errorBody(reply.error).error as JsonObject;
          return sendJson({
            type: "error",
            status: reply.error.status,
            error: { ...error, headers: reply.error.headers ?? {} },
          });
        }
        if (reply.firstByteDelayMs && !(await this.#wait(reply.firstByteDelayMs, closed.signal))) {
          return;
        }
        const id = `resp_${++this.#responses}`;
        const events = responsesEvents(reply, request, id);
        const stop = reply.fail?.afterEvents ?? reply.stall?.afterEvents ??
          reply.drop?.afterEvents ?? Infinity;
        for (const [n, event] of events.entries()) {
          if (n >= stop) break;
          if (n > 0 && reply.delayMs && !(await this.#wait(reply.delayMs, closed.signal))) return;
          if (closed.signal.aborted) return;
          sendJson(event);
        }
        if (reply.fail) {
          sendJson({
            type: "error",
            error: {
              type: "server_error",
              code: reply.fail.code ?? "server_error",
              message: reply.fail.message ??
                "The server had an error while processing your request.",
              param: null,
            },
          });
        } else if (reply.stall) {
          return void await this.#wait(2 ** 31 - 1, closed.signal);
        } else if (reply.drop) {
          socket.close(1011, "dropped");
          return;
        }
        request.finished = true;
        if (this.#options.rememberResponses !== false) lastResponse = id;
      }).catch(() => {});
    };
    return response;
  }

  #realtime(http: Request, url: URL): Response {
    const session: FakeRealtimeSession = {
      model: url.searchParams.get("model") ?? "",
      headers: Object.fromEntries(http.headers),
      events: [],
      commits: [],
    };
    const { socket, response } = Deno.upgradeWebSocket(http);
    this.realtimeSessions.push(session);
    this.#sockets.add(socket);
    socket.addEventListener("close", () => this.#sockets.delete(socket));
    const options = this.#options.realtime ?? {};
    const replies = options.replies;
    serveRealtime(socket, session, options, () => {
      if (typeof replies === "function") return replies(session);
      return replies?.[this.#realtimeReplies++];
    });
    return response;
  }

  /** Stops the server: open streams and sockets are ended. */
  async close(): Promise<void> {
    this.#closing.abort();
    for (const socket of this.#sockets) {
      try {
        socket.close(1001, "server closing");
      } catch {
        // already closing
      }
    }
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await this.#server.shutdown();
  }

  /** Same as {@linkcode FakeOpenAIServer.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
