import {
  chunkContent,
  ConnectionClosedError,
  type Content,
  contentFromJson,
  ControlContent,
  ErrorCode,
  ErrorContent,
  JsonContent,
  type JsonObject,
  packMessage,
  type ProtocolMessage,
  type RoomClient,
  unpackMessage,
} from "@meshagent/api";
import { ToolContext, type ToolParticipant } from "./tool_context.ts";
import type { ValidationMode } from "./tool.ts";
import type { Toolkit } from "./toolkit.ts";

/** Options of {@linkcode startHostedToolkit}. */
export interface HostedToolkitOptions {
  /** Register as public (visible to and callable by everyone); default: `toolkit.public`. */
  public?: boolean;
  /** Overrides the toolkit's validation mode for incoming calls. */
  validation?: ValidationMode;
  /**
   * Called when re-registering after a reconnect fails, or a call cannot be answered because the
   * connection closed (default: `console.warn`).
   */
  onError?: (error: unknown) => void;
}

/** [impl] Request chunks kept for calls that have not arrived yet (per hosted toolkit). */
const MAX_EARLY_CALLS = 256;
/** [impl] Chunks kept per early call. */
const MAX_EARLY_CHUNKS = 1024;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The streamed input of one call: chunks pushed by the connection, read by the tool. */
class InputQueue implements AsyncIterable<Content> {
  readonly #items: Content[] = [];
  #ended = false;
  #wake?: () => void;

  push(content: Content): void {
    if (this.#ended) return;
    this.#items.push(content);
    if (content instanceof ControlContent && content.method === "close") this.#ended = true;
    this.#notify();
  }

  end(): void {
    this.#ended = true;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Content> {
    while (true) {
      if (this.#items.length > 0) {
        yield this.#items.shift()!;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }
}

/**
 * A toolkit served in a room by this client: the room routes `room.invoke_tool` calls for
 * {@linkcode HostedToolkit.name} here. Made by {@linkcode startHostedToolkit}; call
 * {@linkcode HostedToolkit.stop} to unregister.
 */
export class HostedToolkit {
  /** The toolkit being served. */
  readonly toolkit: Toolkit;
  readonly #room: RoomClient;
  readonly #public: boolean;
  readonly #validation?: ValidationMode;
  readonly #onError: (error: unknown) => void;
  readonly #offs: (() => void)[] = [];
  readonly #inputs = new Map<string, InputQueue>();
  readonly #early = new Map<string, Content[]>();
  readonly #running = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  /** Aborts the calls of the current connection (a reconnect is a new participant). */
  #connection = new AbortController();
  #registrationId?: string;
  #registering?: Promise<void>;
  #stopped = false;

  /**
   * Use {@linkcode startHostedToolkit}; this only wires the handlers.
   *
   * @param room The started room client.
   * @param toolkit The toolkit.
   * @param options Visibility and validation.
   */
  constructor(room: RoomClient, toolkit: Toolkit, options: HostedToolkitOptions = {}) {
    this.#room = room;
    this.toolkit = toolkit;
    this.#public = options.public ?? toolkit.public;
    if (options.validation !== undefined) this.#validation = options.validation;
    this.#onError = options.onError ??
      ((e) =>
        console.warn(`hosted toolkit ${toolkit.name}: ${e instanceof Error ? e.message : e}`));
    const name = toolkit.name;
    this.#offs.push(
      room.onMessage(`room.tool_call.${name}`, (m) => this.#onCall(m)),
      room.onMessage(`room.tool_call_request_chunk.${name}`, (m) => this.#onChunk(m)),
      room.on("disconnected", () => {
        this.#registrationId = undefined;
        // The room failed these calls for their callers already; their answers would carry
        // message ids of the old connection, so they are never sent.
        this.#connection.abort(new ConnectionClosedError("the room connection was lost"));
        this.#connection = new AbortController();
        for (const input of this.#inputs.values()) {
          input.push(ControlContent.close(1001, "the room connection was lost"));
        }
        this.#inputs.clear();
        this.#early.clear();
      }),
      room.on("reconnected", () => this.#reregister()),
      room.on("closed", () => this.#shutdown()),
    );
  }

  /** The toolkit name. */
  get name(): string {
    return this.toolkit.name;
  }

  /** The id the room gave the current registration (undefined while not registered). */
  get registrationId(): string | undefined {
    return this.#registrationId;
  }

  /** Whether the toolkit is registered as public. */
  get public(): boolean {
    return this.#public;
  }

  /** How many calls are running. */
  get activeCalls(): number {
    return this.#running.size;
  }

  /**
   * Registers the toolkit (`room.register_toolkit`).
   *
   * @returns Resolves once the room accepted it.
   */
  async register(): Promise<void> {
    const header = { ...this.toolkit.toJson(), public: this.#public } as unknown as JsonObject;
    const reply = await this.#room.request("room.register_toolkit", header);
    if (
      !(reply instanceof JsonContent) || !isObject(reply.json) || typeof reply.json.id !== "string"
    ) {
      throw new ConnectionClosedError(
        `room.register_toolkit for ${this.name} answered ${reply.type} instead of json {id}`,
      );
    }
    this.#registrationId = reply.json.id;
  }

  #reregister(): void {
    if (this.#stopped || this.#registering) return;
    this.#registering = this.register()
      .catch((e) => this.#onError(e))
      .finally(() => this.#registering = undefined);
  }

  /**
   * Unregisters the toolkit and stops serving it: calls still running are cancelled (their
   * `signal` aborts) and awaited. Safe to call more than once.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#registering?.catch(() => {});
    const id = this.#registrationId;
    this.#registrationId = undefined;
    try {
      if (id !== undefined && this.#room.isConnected) {
        await this.#room.request("room.unregister_toolkit", { id }, { timeout: 10_000 });
      }
    } catch (e) {
      if (!(e instanceof ConnectionClosedError)) throw e;
    } finally {
      this.#shutdown();
      await Promise.allSettled([...this.#running]);
    }
  }

  /** `await using hosted = await startHostedToolkit(…)` stops it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #shutdown(): void {
    this.#stopped = true;
    for (const off of this.#offs.splice(0)) off();
    this.#abort.abort(new ConnectionClosedError(`hosted toolkit ${this.name} stopped`));
    for (const input of this.#inputs.values()) input.end();
    this.#inputs.clear();
    this.#early.clear();
  }

  #participant(id: unknown): ToolParticipant {
    if (typeof id !== "string") return { id: "", attributes: {} };
    if (id === this.#room.localParticipant?.id) {
      const local = this.#room.localParticipant;
      const name = local.getAttribute("name");
      return {
        id,
        name: typeof name === "string" ? name : undefined,
        attributes: local.attributes,
      };
    }
    const remote = this.#room.getParticipantById(id);
    if (!remote) return { id, attributes: {} };
    const name = remote.getAttribute("name");
    return { id, name: typeof name === "string" ? name : undefined, attributes: remote.attributes };
  }

  #onCall(m: ProtocolMessage): void {
    if (this.#stopped) return;
    const run = this.#serve(m).catch((e) => this.#onError(e));
    this.#running.add(run);
    run.finally(() => this.#running.delete(run));
  }

  async #serve(m: ProtocolMessage): Promise<void> {
    const protocol = this.#room.protocol;
    const connection = this.#connection.signal;
    const gone = () => protocol.isClosed || connection.aborted;
    const reply = (content: Content): void => {
      if (!gone()) protocol.send("room.tool_call_response", content.pack(), m.id);
    };
    let header: JsonObject;
    let payload: Uint8Array;
    try {
      ({ header, payload } = unpackMessage(m.data));
    } catch (e) {
      return reply(new ErrorContent(`malformed tool call: ${(e as Error).message}`, 1002));
    }
    const toolName = typeof header.name === "string" ? header.name : "";
    const toolCallId = typeof header.tool_call_id === "string" && header.tool_call_id !== ""
      ? header.tool_call_id
      : String(m.id);
    const args = header.arguments;
    let input: Content | AsyncIterable<Content>;
    let queue: InputQueue | undefined;
    try {
      if (isObject(args) && typeof args.type === "string") {
        input = contentFromJson(args, payload);
      } else {
        input = new JsonContent(args ?? {}); // a raw arguments object, as old hosts accept
      }
    } catch (e) {
      return reply(
        new ErrorContent(`malformed arguments: ${(e as Error).message}`, ErrorCode.INVALID_REQUEST),
      );
    }
    if (input instanceof ControlContent && input.method === "open") {
      queue = new InputQueue();
      this.#inputs.set(toolCallId, queue);
      for (const early of this.#early.get(toolCallId) ?? []) queue.push(early);
      this.#early.delete(toolCallId);
      input = queue;
    }
    const sendChunk = (chunk: JsonObject, chunkPayload?: Uint8Array) => {
      if (gone()) return;
      protocol.send(
        "room.tool_call_response_chunk",
        packMessage({ tool_call_id: toolCallId, chunk }, chunkPayload),
        m.id,
      );
    };
    const context = new ToolContext({
      caller: this.#participant(header.caller_id),
      onBehalfOf: typeof header.on_behalf_of_id === "string"
        ? this.#participant(header.on_behalf_of_id)
        : null,
      room: this.#room,
      toolCallId,
      signal: AbortSignal.any([this.#abort.signal, connection]),
      onEvent: (event) => sendChunk(event),
    });
    try {
      const answer = await this.toolkit.respond(context, toolName, input, {
        validation: this.#validation,
      });
      if (gone()) return;
      if (!(Symbol.asyncIterator in answer)) return reply(answer);
      reply(ControlContent.open());
      for await (const chunk of answer) {
        if (gone()) break;
        sendChunk(chunk.toJson(), chunk.payload);
      }
    } catch (e) {
      if (!(e instanceof ConnectionClosedError)) throw e;
    } finally {
      if (queue) {
        queue.end();
        if (this.#inputs.get(toolCallId) === queue) this.#inputs.delete(toolCallId);
      }
    }
  }

  #onChunk(m: ProtocolMessage): void {
    if (this.#stopped) return;
    let header: JsonObject;
    let payload: Uint8Array;
    let content: Content;
    try {
      ({ header, payload } = unpackMessage(m.data));
      content = chunkContent(header.chunk, payload);
    } catch {
      return; // malformed: nothing to answer (request chunks to a host get no response)
    }
    const id = header.tool_call_id;
    if (typeof id !== "string") return;
    const queue = this.#inputs.get(id);
    if (queue) {
      queue.push(content);
      if (content instanceof ControlContent && content.method === "close") this.#inputs.delete(id);
      return;
    }
    // The call has not arrived yet: keep its chunks (bounded) until it does.
    let early = this.#early.get(id);
    if (!early) {
      if (this.#early.size >= MAX_EARLY_CALLS) {
        this.#early.delete(this.#early.keys().next().value!);
      }
      this.#early.set(id, early = []);
    }
    if (early.length < MAX_EARLY_CHUNKS) early.push(content);
  }
}

/**
 * Hosts a toolkit in a room: registers it (`room.register_toolkit`), answers the calls the room
 * routes to it (`room.tool_call.<name>`, with streamed input and output), registers again after
 * the client reconnects, and unregisters on {@linkcode HostedToolkit.stop}.
 *
 * Each call runs {@linkcode Toolkit.respond} with a {@linkcode ToolContext} whose `caller` and
 * `onBehalfOf` are the calling participants (with their attributes when messaging knows them),
 * whose `room` is this client, and whose `signal` aborts when the toolkit stops. Progress events
 * the tool emits go to the caller as output chunks.
 *
 * @param room A started room client.
 * @param toolkit The toolkit to serve.
 * @param options Visibility (`public`, default `toolkit.public`), validation, error reporting.
 * @returns The hosted toolkit, once registered.
 * @throws {RoomError} When the room refuses the registration (1001 permission, 1004 name taken).
 *
 * @example Hosting a toolkit (needs a started room client, so the example defines the function only)
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RoomClient } from "@meshagent/api";
 * import { FunctionTool, startHostedToolkit, Toolkit } from "@meshagent/tools";
 *
 * async function hostMath(room: RoomClient): Promise<() => Promise<void>> {
 *   const math = new Toolkit({
 *     name: "math",
 *     tools: [
 *       new FunctionTool<{ a: number; b: number }>({
 *         name: "sum",
 *         inputSchema: {
 *           type: "object",
 *           properties: { a: { type: "number" }, b: { type: "number" } },
 *           required: ["a", "b"],
 *         },
 *         run: (_ctx, { a, b }) => ({ result: a + b }),
 *       }),
 *     ],
 *   });
 *   const hosted = await startHostedToolkit(room, math, { public: true });
 *   // Others now call it: room.agents.invokeTool({ toolkit: "math", tool: "sum", arguments: {a: 2, b: 3} })
 *   return () => hosted.stop();
 * }
 * assert(typeof hostMath === "function");
 * ```
 */
export async function startHostedToolkit(
  room: RoomClient,
  toolkit: Toolkit,
  options: HostedToolkitOptions = {},
): Promise<HostedToolkit> {
  const hosted = new HostedToolkit(room, toolkit, options);
  try {
    await hosted.register();
  } catch (e) {
    await hosted.stop().catch(() => {});
    throw e;
  }
  return hosted;
}
