import {
  chunkContent,
  type Content,
  ControlContent,
  EmptyContent,
  JsonContent,
} from "./content.ts";
import { ConnectionClosedError, ErrorCode, ProtocolError, RoomError } from "./errors.ts";
import type { ProtocolMessage } from "./framing.ts";
import { type JsonObject, packMessage, unpackMessage } from "./packing.ts";
import type { Protocol } from "./protocol.ts";

/** The request that invokes a tool. */
export const INVOKE_TOOL_TYPE = "room.invoke_tool";
/** The message that carries one streamed input chunk (caller → server). */
export const REQUEST_CHUNK_TYPE = "room.tool_call_request_chunk";
/** The message that carries one streamed output chunk (server → caller). */
export const RESPONSE_CHUNK_TYPE = "room.tool_call_response_chunk";

/**
 * Makes a fresh `tool_call_id` in the format of the official TypeScript client:
 * `${Date.now()}-${random hex}`.
 *
 * @returns The id.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newToolCallId } from "@meshagent/api";
 * assert(/^\d+-[0-9a-f]+$/.test(newToolCallId()));
 * ```
 */
export function newToolCallId(): string {
  // A random 32-bit prefix per process plus a 32-bit counter (16 hex digits in all): unique per caller like the official
  // client's random hex, without drawing random bytes for every call (a hot path when pipelining).
  idCounter = (idCounter + 1) % 0x1_0000_0000;
  const now = Date.now();
  if (now !== lastNow) {
    lastNow = now;
    nowPrefix = `${now}-${ID_PREFIX}`;
  }
  const hex = idCounter.toString(16);
  return nowPrefix + (hex.length < 8 ? ZEROS.slice(hex.length) + hex : hex);
}

const ZEROS = "00000000";
let lastNow = -1;
let nowPrefix = "";

const ID_PREFIX: string = Array.from(
  crypto.getRandomValues(new Uint8Array(4)),
  (b) => b.toString(16).padStart(2, "0"),
).join("");
let idCounter = 0;

/** What to invoke and with which input. */
export interface ToolCallRequest {
  /** The toolkit name (a built-in one such as `queues`, or a participant-hosted one). */
  toolkit: string;
  /** The tool name. */
  tool: string;
  /**
   * The input: one content (a plain JSON object is sent as a `json` content; `undefined` as
   * `empty`), or an async iterable of contents for a streamed input.
   */
  input?: Content | JsonObject | AsyncIterable<Content>;
  /** Target the toolkit hosted by this participant. */
  participantId?: string;
  /** The participant this call acts for. */
  onBehalfOfId?: string;
  /** Free-form caller context passed along with the call. */
  callerContext?: JsonObject;
  /** Use this `tool_call_id` instead of a fresh one. */
  toolCallId?: string;
  /** Fail with a `RequestTimeoutError` when the first response takes longer (ms). */
  timeout?: number;
  /** Cancels the call: the invoke rejects, or an open output stream ends with the reason. */
  signal?: AbortSignal;
  /**
   * With a streamed input: how many request chunks may await their answer at once (default 1:
   * each chunk waits for the server's answer to the previous one, as the npm client does).
   * [impl] Servers answer every chunk in order (protocol-core §5.2; the Python client does not
   * wait at all). Bulk transfers use a window so their chunks stream instead of taking one round
   * trip each; an error answer still stops the input within `chunkWindow` chunks. Callers whose
   * input generator relies on each chunk being answered before the next is asked for (sync's
   * flush) keep 1.
   */
  chunkWindow?: number;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<Content> {
  return value !== null && typeof value === "object" &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function";
}

function isContent(value: unknown): value is Content {
  return value instanceof Object && typeof (value as Content).toJson === "function" &&
    typeof (value as Content).pack === "function" &&
    typeof (value as Content).type === "string";
}

/** The content sent as `arguments` for a single (not streamed) input. */
function firstContent(input: ToolCallRequest["input"]): Content {
  if (input === undefined) return new EmptyContent();
  if (isContent(input)) return input;
  return new JsonContent(input);
}

/** The header of a `room.invoke_tool` request. */
function invokeHeader(request: ToolCallRequest, toolCallId: string, first: Content): JsonObject {
  const header: JsonObject = {
    toolkit: request.toolkit,
    tool: request.tool,
    tool_call_id: toolCallId,
    arguments: first.toJson(),
  };
  if (request.participantId !== undefined) header.participant_id = request.participantId;
  if (request.onBehalfOfId !== undefined) header.on_behalf_of_id = request.onBehalfOfId;
  if (request.callerContext !== undefined) header.caller_context = request.callerContext;
  return header;
}

const END: unique symbol = Symbol("end");
const STOP: unique symbol = Symbol("stop");

/** Per-call state: buffered output chunks, the waiting reader and the input pump. */
class CallState {
  readonly toolCallId: string;
  readonly label: string;
  readonly #queue: Content[] = [];
  #ended = false;
  #error: unknown = undefined;
  #failed = false;
  #wake?: () => void;
  #stopResolve!: (v: typeof STOP) => void;
  readonly stopped: Promise<typeof STOP>;
  isStopped = false;
  /** The output was a single content (set by invoke): the pump releases the call when done. */
  unary = false;
  /** An input pump is still running. */
  pumping = false;
  readonly #cleanups: (() => void)[] = [];

  constructor(toolCallId: string, label: string) {
    this.toolCallId = toolCallId;
    this.label = label;
    this.stopped = new Promise((resolve) => this.#stopResolve = resolve);
  }

  onCleanup(fn: () => void): void {
    this.#cleanups.push(fn);
  }

  push(content: Content): void {
    if (this.#ended || this.#failed) return;
    this.#queue.push(content);
    this.#notify();
  }

  end(): void {
    if (this.#ended || this.#failed) return;
    this.#ended = true;
    this.#notify();
  }

  fail(error: unknown): void {
    if (this.#ended || this.#failed) return;
    this.#failed = true;
    this.#error = error;
    this.#notify();
  }

  get settled(): boolean {
    return this.#ended || this.#failed;
  }

  get failure(): unknown {
    return this.#failed ? this.#error : undefined;
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async next(): Promise<Content | typeof END> {
    while (true) {
      if (this.#queue.length > 0) return this.#queue.shift()!;
      if (this.#failed) throw this.#error;
      if (this.#ended) return END;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  /** Stops the input pump and releases everything this call holds. Idempotent. */
  finish(): void {
    if (!this.isStopped) {
      this.isStopped = true;
      this.#stopResolve(STOP);
    }
    this.#ended = this.#ended || !this.#failed;
    for (const fn of this.#cleanups.splice(0)) {
      try {
        fn();
      } catch { /* cleanup must not throw */ }
    }
    this.#notify();
  }
}

/**
 * The output of a streamed tool call: iterate it (once) to get each output content. The stream
 * ends when the tool sends a normal `control` close, and throws a {@linkcode RoomError} (with the
 * close's status as `code`) on an abnormal close. `control` contents are never yielded; `error`
 * contents in the middle of a stream are yielded as items. Breaking out of the loop (or
 * {@linkcode ToolCallStream.close}) stops the call locally: later chunks are dropped and a
 * streamed input is closed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ControlContent, packMessage, Protocol, TextContent, ToolCallStreams, unpackMessage } from "@meshagent/api";
 * // An in-memory "server" that answers every invoke with two streamed texts.
 * const peer: { server?: Protocol } = {};
 * const client = new Protocol({ send: (f) => peer.server!.receive(f), close: () => {} });
 * const server = new Protocol({ send: (f) => client.receive(f), close: () => {} });
 * peer.server = server;
 * const calls = new ToolCallStreams(client);
 * client.on("room.tool_call_response_chunk", (m) => calls.handleChunk(m));
 * server.on("room.invoke_tool", (m) => {
 *   const id = unpackMessage(m.data).header.tool_call_id as string;
 *   server.respond(m.id, ControlContent.open());
 *   for (const chunk of [new TextContent("a"), new TextContent("b"), ControlContent.close()]) {
 *     server.sendPacked("room.tool_call_response_chunk", { tool_call_id: id, chunk: chunk.toJson() });
 *   }
 * });
 * const texts: string[] = [];
 * for await (const c of await calls.invokeStream({ toolkit: "demo", tool: "count" })) {
 *   if (c instanceof TextContent) texts.push(c.text);
 * }
 * assert(texts.join() === "a,b");
 * ```
 */
export interface ToolCallStream extends AsyncIterable<Content> {
  /** The call's `tool_call_id`. */
  readonly toolCallId: string;
  /** Stops the call locally: drops later chunks and closes a streamed input. */
  close(): void;
}

class OutputStream implements ToolCallStream {
  readonly #state: CallState;
  #iterating = false;

  constructor(state: CallState) {
    this.#state = state;
  }

  get toolCallId(): string {
    return this.#state.toolCallId;
  }

  close(): void {
    this.#state.finish();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Content> {
    if (this.#iterating) throw new RoomError("a tool call stream can be iterated only once");
    this.#iterating = true;
    try {
      while (true) {
        const item = await this.#state.next();
        if (item === END) return;
        yield item;
      }
    } finally {
      this.#state.finish();
    }
  }
}

/**
 * The caller side of `room.invoke_tool`: unary calls, streamed input (`room.tool_call_request_chunk`,
 * one at a time, each answered before the next) and streamed output
 * (`room.tool_call_response_chunk`, routed by `tool_call_id`, buffered when it arrives before the
 * `open` response). Every call sends a fresh `tool_call_id`. When the protocol closes, every open
 * call fails with a {@linkcode ConnectionClosedError}.
 *
 * Feed it the `room.tool_call_response_chunk` messages of its protocol with
 * {@linkcode ToolCallStreams.handleChunk}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JsonContent, Protocol, ToolCallStreams, unpackMessage } from "@meshagent/api";
 * let client!: Protocol, server!: Protocol;
 * client = new Protocol({ send: (f) => server.receive(f), close: () => {} });
 * server = new Protocol({ send: (f) => client.receive(f), close: () => {} });
 * server.on("room.invoke_tool", (m) => {
 *   const { header } = unpackMessage(m.data);
 *   server.respond(m.id, new JsonContent({ echo: (header.arguments as { json: unknown }).json }));
 * });
 * const calls = new ToolCallStreams(client);
 * const result = await calls.invoke({ toolkit: "demo", tool: "echo", input: { hi: 1 } });
 * assert(result instanceof JsonContent);
 * ```
 */
export class ToolCallStreams {
  readonly #protocol: Protocol;
  readonly #calls = new Map<string, CallState>();

  /**
   * Creates the caller side of tool calls on a protocol.
   *
   * @param protocol The protocol to send invokes and chunks on.
   */
  constructor(protocol: Protocol) {
    this.#protocol = protocol;
  }

  /** How many calls still hold state (open streams, pending invokes, buffered chunks). */
  get activeCalls(): number {
    return this.#calls.size;
  }

  /**
   * Routes one `room.tool_call_response_chunk` message to its call. Chunks for unknown calls are
   * dropped (late chunks after the caller stopped reading). Malformed chunks throw a
   * {@linkcode ProtocolError}.
   *
   * @param message The protocol message.
   */
  handleChunk(message: ProtocolMessage): void {
    const { header, payload } = unpackMessage(message.data);
    const id = header.tool_call_id;
    if (typeof id !== "string") {
      throw new ProtocolError(`${RESPONSE_CHUNK_TYPE} without a string tool_call_id`);
    }
    const state = this.#calls.get(id);
    if (!state) return;
    const content = chunkContent(header.chunk, payload);
    if (content instanceof ControlContent) {
      if (content.method === "open") return;
      if (content.abnormal) {
        state.fail(
          new RoomError(
            content.message ?? `${state.label} stream closed with status ${content.statusCode}`,
            content.statusCode,
          ),
        );
      } else {
        state.end();
      }
      return;
    }
    state.push(content);
  }

  /**
   * Invokes a tool that answers with one content. A streamed input (an async iterable) is sent
   * chunk by chunk, and closed when it ends.
   *
   * @param request What to invoke.
   * @returns The result content (`error` results reject with a {@linkcode RoomError}).
   * @throws {RoomError} With code 1100 when the tool answers with a stream.
   */
  invoke(request: ToolCallRequest): Promise<Content> {
    if (isAsyncIterable(request.input)) return this.#invokeStreamedInput(request);
    // A single input and a single result: no per-call state. The protocol request carries the
    // timeout, the signal and the close; output chunks of a call that is not a stream are
    // dropped as unknown, and a stream answer is refused.
    let header: JsonObject;
    let first: Content;
    try {
      this.#checkStart(request);
      first = firstContent(request.input);
      header = invokeHeader(request, request.toolCallId ?? newToolCallId(), first);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#protocol.requestPacked(INVOKE_TOOL_TYPE, header, first.payload, {
      timeout: request.timeout,
      signal: request.signal,
    }).then((content) => {
      if (content instanceof ControlContent) {
        throw new RoomError(
          `unexpected return type from ${request.toolkit}.${request.tool}: a stream (use invokeStream)`,
          ErrorCode.UNEXPECTED_RESPONSE_TYPE,
        );
      }
      return content;
    });
  }

  async #invokeStreamedInput(request: ToolCallRequest): Promise<Content> {
    const { state, response } = this.#start(request);
    try {
      const content = await response;
      if (content instanceof ControlContent) {
        throw new RoomError(
          `unexpected return type from ${state.label}: a stream (use invokeStream)`,
          ErrorCode.UNEXPECTED_RESPONSE_TYPE,
        );
      }
      return content;
    } catch (e) {
      state.fail(e);
      state.finish();
      throw e;
    } finally {
      // A unary result ends the call's chunk state. A streamed input still being sent goes on to
      // its end, and the pump then releases the call.
      this.#calls.delete(state.toolCallId);
      state.unary = true;
      if (!state.pumping) state.finish();
    }
  }

  /**
   * Invokes a tool whose output is a stream (the response must be a `control` open).
   *
   * @param request What to invoke.
   * @returns The output stream.
   * @throws {RoomError} With code 1100 when the tool answers with a single content.
   */
  async invokeStream(request: ToolCallRequest): Promise<ToolCallStream> {
    const { state, response } = this.#start(request);
    let content: Content;
    try {
      content = await response;
    } catch (e) {
      state.finish();
      throw e;
    }
    if (!(content instanceof ControlContent && content.method === "open")) {
      state.finish();
      throw new RoomError(
        `unexpected return type from ${state.label}: ${content.type} (expected a stream)`,
        ErrorCode.UNEXPECTED_RESPONSE_TYPE,
      );
    }
    return new OutputStream(state);
  }

  /** Refuses a call on a closed protocol, with an aborted signal, or with a `tool_call_id` in use. */
  #checkStart(request: ToolCallRequest): void {
    if (this.#protocol.isClosed) {
      throw new ConnectionClosedError(
        `cannot invoke ${request.toolkit}.${request.tool}: the connection is closed`,
      );
    }
    request.signal?.throwIfAborted();
    const id = request.toolCallId;
    if (id !== undefined && this.#calls.has(id)) {
      throw new RoomError(`tool_call_id ${id} is in use`, ErrorCode.INVALID_REQUEST);
    }
  }

  #start(request: ToolCallRequest): { state: CallState; response: Promise<Content> } {
    const protocol = this.#protocol;
    const label = `${request.toolkit}.${request.tool}`;
    this.#checkStart(request);
    const signal = request.signal;
    const toolCallId = request.toolCallId ?? newToolCallId();
    const streamed = isAsyncIterable(request.input);
    const first = streamed ? ControlContent.open() : firstContent(request.input);
    const header = invokeHeader(request, toolCallId, first);

    const state = new CallState(toolCallId, label);
    this.#calls.set(toolCallId, state);
    state.onCleanup(() => {
      if (this.#calls.get(toolCallId) === state) this.#calls.delete(toolCallId);
    });
    const offClose = protocol.onClose((error) => {
      state.fail(new ConnectionClosedError(`${label}: ${error.message}`, error.closeCode));
      state.finish();
    });
    state.onCleanup(offClose);
    if (signal) {
      const onAbort = () => {
        state.fail(signal.reason);
        state.finish();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      state.onCleanup(() => signal.removeEventListener("abort", onAbort));
    }

    // The invoke goes out first (synchronously inside request), then the input chunks.
    let response = protocol.requestPacked(INVOKE_TOOL_TYPE, header, first.payload, {
      timeout: request.timeout,
      signal,
    });
    if (streamed) {
      const inputFailed = this.#pump(
        state,
        request.input as AsyncIterable<Content>,
        Math.max(1, Math.floor(request.chunkWindow ?? 1)),
      );
      // An input failure rejects the invoke if it has not answered yet.
      response.catch(() => {}); // a late failure after the input failed is not unhandled
      response = Promise.race([response, inputFailed]);
    }
    return { state, response };
  }

  /**
   * Sends the input chunks one by one, then the `control` close. Returns a promise that only ever
   * rejects (when sending the input fails), so it can be raced with the response.
   */
  #pump(state: CallState, input: AsyncIterable<Content>, chunkWindow: number): Promise<never> {
    const protocol = this.#protocol;
    let rejectInput!: (e: unknown) => void;
    const failed = new Promise<never>((_, reject) => rejectInput = reject);
    failed.catch(() => {}); // observed by the race; never unhandled
    const sendChunk = (chunk: Content) =>
      protocol.request(
        REQUEST_CHUNK_TYPE,
        packMessage({ tool_call_id: state.toolCallId, chunk: chunk.toJson() }, chunk.payload),
      );
    state.pumping = true;
    (async () => {
      let iterator: AsyncIterator<Content> | undefined;
      let finished = false;
      // Chunks sent and not answered yet, oldest first (see ToolCallRequest.chunkWindow).
      const unanswered: Promise<Content>[] = [];
      try {
        iterator = input[Symbol.asyncIterator]();
        while (!state.isStopped) {
          const step = await Promise.race([iterator.next(), state.stopped]);
          if (step === STOP) break;
          if (step.done) {
            finished = true;
            break;
          }
          const answer = sendChunk(step.value);
          answer.catch(() => {}); // awaited below; an early failure is not "unhandled"
          unanswered.push(answer);
          if (unanswered.length >= chunkWindow) await unanswered.shift();
        }
        // Every chunk's answer is checked: an error answer fails the input.
        for (const answer of unanswered.splice(0)) await answer;
      } catch (e) {
        if (!(e instanceof ConnectionClosedError)) {
          const error = e instanceof RoomError
            ? e
            : new RoomError(`${state.label} input failed: ${e instanceof Error ? e.message : e}`);
          state.fail(error);
          rejectInput(error);
        }
      } finally {
        if (!finished && iterator?.return) {
          // Do not wait: a generator suspended in an await finishes its return later.
          Promise.resolve().then(() => iterator!.return!()).catch(() => {});
        }
        if (!protocol.isClosed) {
          await sendChunk(ControlContent.close()).catch(() => {});
        }
        state.pumping = false;
        if (state.unary) state.finish();
      }
    })();
    return failed;
  }
}
