import type { Content } from "./content.ts";
import { Waiters } from "./_waiters.ts";
import { ConnectionClosedError, ErrorCode, RequestTimeoutError, RoomError } from "./errors.ts";
import { EventEmitter, type Listener } from "./event_emitter.ts";
import type { ProtocolMessage } from "./framing.ts";
import { type JsonObject, unpackMessage } from "./packing.ts";
import { LocalParticipant, type RemoteParticipant } from "./participant.ts";
import { participantState } from "./_participant_state.ts";
import type { Protocol } from "./protocol.ts";
import type { RoomMessageHandler, RoomRequester, RoomRequestOptions } from "./room_requester.ts";
import type { RoomClientEvents } from "./room_event.ts";
import {
  RESPONSE_CHUNK_TYPE,
  type ToolCallRequest,
  type ToolCallStream,
  ToolCallStreams,
} from "./tool_call_streams.ts";
import { type TokenTransport, WebSocketClientProtocol } from "./websocket_client_protocol.ts";
import { MessagingClient } from "./messaging_client.ts";
import { QueuesClient } from "./queues_client.ts";
import { DeveloperClient } from "./developer_client.ts";
import { LivekitClient } from "./livekit_client.ts";
import { AgentsClient } from "./agents_client.ts";
import { SyncClient } from "./sync_client.ts";
import { DatabaseClient } from "./database_client.ts";
import { DatasetsClient } from "./datasets_client.ts";
import { StorageClient } from "./storage_client.ts";

/** Connect to a room by URL and token. */
export interface RoomClientUrlOptions {
  /** The room URL, `ws(s)://host/rooms/<room>` (`http(s)` is accepted and converted). */
  url: string;
  /** The participant token (JWT). */
  token: string;
  /** How the token travels (default: the `Authorization` header on Deno and Node). */
  tokenTransport?: TokenTransport;
  /**
   * How long (ms) to keep reconnecting a lost connection; `0` disables reconnecting and `null`
   * retries forever. Default 300000.
   */
  reconnectTimeout?: number | null;
  /** Default timeout (ms) of every request; by default requests wait until the socket closes. */
  requestTimeout?: number;
}

/** Use a protocol you built (a {@linkcode WebSocketClientProtocol}, or any `Protocol`). */
export interface RoomClientProtocolOptions {
  /**
   * The protocol. A {@linkcode WebSocketClientProtocol} is connected by `start()` and reconnects
   * by itself; any other `Protocol` must already be connected and does not reconnect.
   */
  protocol: Protocol;
}

/** Options of a {@linkcode RoomClient}. */
export type RoomClientOptions = RoomClientUrlOptions | RoomClientProtocolOptions;

/** Options of {@linkcode RoomClient.start}. */
export interface RoomClientStartOptions {
  /** Aborts the start; the client is then disposed. */
  signal?: AbortSignal;
  /**
   * Gives up after this many ms (connecting, retries and waiting for the room included) with a
   * `RequestTimeoutError`; the client is then disposed. By default only `reconnectTimeout` and
   * the signal limit the start.
   */
  timeout?: number;
}

function toWsUrl(url: string): string {
  if (url.startsWith("https:")) return "wss:" + url.slice(6);
  if (url.startsWith("http:")) return "ws:" + url.slice(5);
  return url;
}

/**
 * Runs `handlers[from..]` one after another on a message: a handler that returns a promise is
 * awaited before the next one runs. Every handler runs; the first error is thrown (or rejected)
 * at the end. Stays synchronous while the handlers are.
 */
function runHandlers(
  handlers: RoomMessageHandler[],
  from: number,
  message: ProtocolMessage,
  error: { e: unknown } | undefined,
): void | Promise<void> {
  for (let i = from; i < handlers.length; i++) {
    let result: void | Promise<void>;
    try {
      result = handlers[i](message);
    } catch (e) {
      error ??= { e };
      continue;
    }
    if (result instanceof Promise) {
      return result.then(
        () => runHandlers(handlers, i + 1, message, error),
        (e) => runHandlers(handlers, i + 1, message, error ?? { e }),
      );
    }
  }
  if (error) throw error.e;
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * A connection to one MeshAgent room, with the sub-clients for messaging, queues, developer logs
 * and agents/toolkits.
 *
 * `start()` connects and resolves once the room sent both `room_ready` and `connected`. When the
 * connection drops, a {@linkcode WebSocketClientProtocol} reconnects with backoff; the client then
 * waits for the room again, adopts a new participant id if the room assigned one, re-sends all
 * local attributes with one `set_attributes`, re-enables messaging if it was enabled, and emits
 * `reconnected`. Requests that were pending on the lost socket fail with a
 * {@linkcode ConnectionClosedError}; they are not replayed.
 *
 * @example Connecting (needs a running room server, so the example only builds the client)
 * ```ts
 * import { RoomClient } from "@meshagent/api";
 * const room = new RoomClient({ url: "ws://127.0.0.1:8080/rooms/demo", token: "<jwt>" });
 * room.on("message", (m) => console.log(m.fromParticipantId, m.type, m.message));
 * // await room.start();
 * // await room.messaging.enable();
 * // await room.messaging.broadcastMessage({ type: "hello", message: { text: "hi" } });
 * await room.dispose();
 * ```
 */
export class RoomClient implements RoomRequester {
  /** Every event of this room, by name (see {@linkcode RoomClientEvents}). */
  readonly events: EventEmitter<RoomClientEvents> = new EventEmitter();
  /** Messaging and presence. */
  readonly messaging: MessagingClient;
  /** Room queues. */
  readonly queues: QueuesClient;
  /** Developer logs. */
  readonly developer: DeveloperClient;
  /** The room's media server (`livekit.connect`: URL and token). */
  readonly livekit: LivekitClient;
  /** Toolkits: listing and invoking tools. */
  readonly agents: AgentsClient;
  /** Synchronized MeshDocuments (`sync` toolkit). */
  readonly sync: SyncClient;
  /** The room's SQLite databases (toolkit `sqlite`); also reachable as `sqlite`. */
  readonly database: DatabaseClient;
  /** The room's datasets (toolkit `dataset`): versioned tables with vector search. */
  readonly datasets: DatasetsClient;
  /** Room storage: files, uploads, downloads and file events. */
  readonly storage: StorageClient;

  readonly #protocol: Protocol;
  readonly #ws?: WebSocketClientProtocol;
  readonly #ownsProtocol: boolean;
  readonly #toolCalls: ToolCallStreams;
  readonly #handlers = new Map<string, Set<RoomMessageHandler>>();
  readonly #offs: (() => void)[] = [];

  #roomName?: string;
  #roomUrl?: string;
  #sessionId?: string;
  #local?: LocalParticipant;
  /** Attribute keys set locally; they win over the room's values after a reconnect. */
  readonly #localEdits: JsonObject = {};

  #gotRoomReady = false;
  #init?: { participantId: string; attributes: JsonObject };
  #started = false;
  #ready = false;
  #reconnecting = false;
  #closed = false;
  #disposed = false;
  readonly #readyWaiters = new Waiters();

  /**
   * Creates a room client; {@linkcode RoomClient.start} connects it.
   *
   * @param options A URL and token, or a protocol.
   */
  constructor(options: RoomClientOptions) {
    if ("protocol" in options) {
      this.#protocol = options.protocol;
      this.#ownsProtocol = false;
    } else {
      this.#protocol = new WebSocketClientProtocol({
        url: toWsUrl(options.url),
        token: options.token,
        tokenTransport: options.tokenTransport,
        reconnectTimeout: options.reconnectTimeout,
        requestTimeout: options.requestTimeout,
      });
      this.#ownsProtocol = true;
    }
    if (this.#protocol instanceof WebSocketClientProtocol) this.#ws = this.#protocol;
    this.#toolCalls = new ToolCallStreams(this.#protocol);

    this.messaging = new MessagingClient(this);
    this.queues = new QueuesClient(this);
    this.developer = new DeveloperClient(this);
    this.livekit = new LivekitClient(this);
    this.agents = new AgentsClient(this);
    this.sync = new SyncClient(this);
    this.database = new DatabaseClient(this);
    this.datasets = new DatasetsClient(this);
    this.storage = new StorageClient(this);

    this.onMessage("room_ready", (m) => this.#onRoomReady(m));
    this.onMessage("connected", (m) => this.#onConnected(m));
    this.onMessage("room.status", (m) => this.#onStatus(m));
    this.onMessage(RESPONSE_CHUNK_TYPE, (m) => this.#toolCalls.handleChunk(m));
    this.onMessage("developer.log", (m) => this.#onDeveloperLog(m));
    this.onMessage("messaging.send", (m) => this.messaging._handleMessage(m));

    if (this.#ws) {
      const ws = this.#ws;
      this.#offs.push(
        ws.events.on("open", () => {
          // A new socket: the room must say it is ready again.
          this.#gotRoomReady = false;
          this.#init = undefined;
        }),
        ws.events.on("disconnected", (e) => this.#onDisconnected(e.code, e.reason)),
        ws.events.on("closed", (e) => this.#onClosed(e.code, e.reason, e.error)),
      );
    } else {
      this.#offs.push(
        this.#protocol.onClose((e) => this.#onClosed(e.closeCode, e.message, undefined)),
      );
    }
  }

  // ---------------------------------------------------------------- state

  /** The room name (from `room_ready`), once started. */
  get roomName(): string | undefined {
    return this.#roomName;
  }

  /** The room's public URL (from `room_ready`), once started. */
  get roomUrl(): string | undefined {
    return this.#roomUrl;
  }

  /** The id of the room session (from `room_ready`), once started. */
  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  /** This connection's participant, once started. */
  get localParticipant(): LocalParticipant | undefined {
    return this.#local;
  }

  /** The other participants that have messaging enabled (presence), once messaging is enabled. */
  get remoteParticipants(): RemoteParticipant[] {
    return this.messaging.remoteParticipants;
  }

  /** True while the room is ready on an open connection. */
  get isConnected(): boolean {
    return this.#ready && !this.#reconnecting && !this.#closed;
  }

  /** True once the client closed for good (disposed, closed by the room, or gave up). */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** The room's SQLite databases: the same client as {@linkcode RoomClient.database}. */
  get sqlite(): DatabaseClient {
    return this.database;
  }

  /** The protocol under this client (for sub-clients built on top of it). */
  get protocol(): Protocol {
    return this.#protocol;
  }

  /**
   * Finds a remote participant by id.
   *
   * @param id The participant id.
   * @returns The participant, or `undefined`.
   */
  getParticipantById(id: string): RemoteParticipant | undefined {
    return this.messaging.getParticipant(id);
  }

  /**
   * Finds a remote participant by its `name` attribute.
   *
   * @param name The name.
   * @returns The first participant with that name, or `undefined`.
   */
  getParticipantByName(name: string): RemoteParticipant | undefined {
    return this.messaging.getParticipantByName(name);
  }

  /**
   * Adds an event listener (shortcut for `room.events.on`).
   *
   * @param name The event name.
   * @param listener The listener.
   * @returns A function that removes the listener.
   */
  on<K extends keyof RoomClientEvents>(
    name: K,
    listener: Listener<RoomClientEvents[K]>,
  ): () => void {
    return this.events.on(name, listener);
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Connects and waits until the room sent both `room_ready` and `connected`.
   *
   * @param options Cancellation.
   * @throws {HandshakeRejectedError} When the server refused the token or room (403, 404, 423);
   *   this is not retried.
   * @throws {ConnectionClosedError} When the connection closed before the room became ready, or
   *   every attempt failed within `reconnectTimeout`.
   */
  async start(options: RoomClientStartOptions = {}): Promise<void> {
    if (this.#started) throw new RoomError("start() was called already", ErrorCode.INVALID_STATE);
    if (this.#disposed) throw new ConnectionClosedError("the room client was disposed");
    this.#started = true;
    const signals: AbortSignal[] = [];
    if (options.signal) signals.push(options.signal);
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (options.timeout !== undefined) {
      const timeout = options.timeout;
      const controller = new AbortController();
      timer = setTimeout(
        () => controller.abort(new RequestTimeoutError("room start", timeout)),
        timeout,
      );
      signals.push(controller.signal);
    }
    const signal = signals.length === 0 ? undefined : AbortSignal.any(signals);
    try {
      signal?.throwIfAborted();
      const ready = this.#waitReady(signal);
      ready.catch(() => {});
      if (this.#ws) {
        await this.#ws.connect(signal);
      } else if (this.#protocol.isClosed) {
        throw new ConnectionClosedError("the protocol is closed");
      }
      await ready;
    } catch (e) {
      await this.dispose();
      if (e instanceof ConnectionClosedError && signal?.aborted) throw signal.reason;
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  #waitReady(signal?: AbortSignal): Promise<void> {
    if (this.#ready && !this.#reconnecting) return Promise.resolve();
    return this.#readyWaiters.wait(signal);
  }

  /**
   * Closes the connection (WebSocket close 1000), stops reconnecting, fails pending requests and
   * open streams, and removes every timer. Safe to call more than once.
   */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#ws) {
      await this.#ws.dispose();
    } else if (this.#ownsProtocol || !this.#protocol.isClosed) {
      this.#protocol.close(1000, "disposed");
    }
    this.#onClosed(1000, "disposed", undefined);
  }

  /** `await using room = new RoomClient(…)` disposes the client at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  // ---------------------------------------------------------------- requests

  /**
   * Sends a request with a JSON header and waits for its response.
   *
   * @param type The request type, e.g. `room.list_toolkits`.
   * @param header The JSON header.
   * @param options Payload, timeout and cancellation.
   * @returns The response content; `error` responses reject with a {@linkcode RoomError}.
   */
  request(type: string, header: JsonObject, options: RoomRequestOptions = {}): Promise<Content> {
    return this.#protocol.requestPacked(type, header, options.payload, options);
  }

  /**
   * Sends a message that gets no response (for example `set_attributes`).
   *
   * @param type The message type.
   * @param header The JSON header.
   * @param payload Payload bytes.
   * @throws {ConnectionClosedError} When the connection is not open.
   */
  send(type: string, header: JsonObject, payload?: Uint8Array): void {
    this.#protocol.sendPacked(type, header, payload);
  }

  /**
   * Invokes a tool and waits for its single result content. A `JsonObject` input is sent as a
   * `json` content; an async iterable of contents is streamed.
   *
   * @param request The toolkit, tool, input and options.
   * @returns The result content.
   */
  invoke(request: ToolCallRequest): Promise<Content> {
    return this.#toolCalls.invoke(request);
  }

  /**
   * Invokes a tool whose output is a stream of contents.
   *
   * @param request The toolkit, tool, input and options.
   * @returns The output stream.
   */
  invokeStream(request: ToolCallRequest): Promise<ToolCallStream> {
    return this.#toolCalls.invokeStream(request);
  }

  /**
   * Adds a handler for incoming messages of a type (several handlers per type are allowed). Used
   * by sub-clients, e.g. toolkit hosting listens to `room.tool_call.<toolkit>`.
   *
   * @param type The message type.
   * @param handler The handler.
   * @returns A function that removes the handler.
   */
  onMessage(type: string, handler: RoomMessageHandler): () => void {
    let set = this.#handlers.get(type);
    if (!set) {
      const handlers = new Set<RoomMessageHandler>();
      set = handlers;
      this.#handlers.set(type, handlers);
      this.#protocol.on(type, (message) => runHandlers([...handlers], 0, message, undefined));
    }
    set.add(handler);
    return () => {
      set.delete(handler);
    };
  }

  // ---------------------------------------------------------------- incoming

  #onRoomReady(message: ProtocolMessage): void {
    const { header } = unpackMessage(message.data);
    if (typeof header.room_name === "string") this.#roomName = header.room_name;
    if (typeof header.room_url === "string") this.#roomUrl = header.room_url;
    if (typeof header.session_id === "string") this.#sessionId = header.session_id;
    this.#gotRoomReady = true;
    this.#checkReady();
  }

  #onConnected(message: ProtocolMessage): void {
    const { header } = unpackMessage(message.data);
    if (header.type !== "init") return;
    if (typeof header.participantId !== "string" || !isObject(header.attributes)) return;
    this.#init = { participantId: header.participantId, attributes: header.attributes };
    this.#checkReady();
  }

  #onStatus(message: ProtocolMessage): void {
    const { header } = unpackMessage(message.data);
    this.events.emit("status", { status: String(header.status), message: String(header.message) });
  }

  #onDeveloperLog(message: ProtocolMessage): void {
    const { header } = unpackMessage(message.data);
    const type = typeof header.type === "string" ? header.type : "unknown";
    const data = isObject(header.data) ? header.data : {};
    this.events.emit("log", { type, data });
  }

  #checkReady(): void {
    if (!this.#gotRoomReady || !this.#init || this.#closed) return;
    const init = this.#init;
    if (!this.#ready) {
      this.#local = new LocalParticipant(
        init.participantId,
        init.attributes,
        (attrs) => this.#sendAttributes(attrs),
      );
      this.#ready = true;
      this.#readyWaiters.resolveAll();
      return;
    }
    if (this.#reconnecting) this.#completeReconnect(init);
  }

  #completeReconnect(init: { participantId: string; attributes: JsonObject }): void {
    this.#reconnecting = false;
    const local = this.#local!;
    const state = participantState(local);
    const previous = state.id;
    state.id = init.participantId;
    state.attributes = { ...init.attributes, ...this.#localEdits };
    // 1. the full attribute snapshot, 2. messaging, 3. tell listeners (hosted toolkits re-register)
    this.#trySend("set_attributes", { ...state.attributes });
    this.messaging._onReconnected();
    this.#readyWaiters.resolveAll();
    this.events.emit("reconnected", {
      participantId: init.participantId,
      previousParticipantId: previous,
    });
  }

  #sendAttributes(attributes: JsonObject): void {
    Object.assign(this.#localEdits, attributes);
    // While reconnecting the change is kept and sent with the snapshot afterwards.
    if (this.isConnected) this.#trySend("set_attributes", attributes);
  }

  #trySend(type: string, header: JsonObject): void {
    try {
      this.#protocol.sendPacked(type, header);
    } catch (e) {
      if (!(e instanceof ConnectionClosedError)) throw e;
    }
  }

  #onDisconnected(code?: number, reason?: string): void {
    if (this.#closed) return;
    if (this.#ready) this.#reconnecting = true;
    this.messaging._onDisconnected();
    this.events.emit("disconnected", { code, reason });
  }

  #onClosed(code: number | undefined, reason: string | undefined, error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reconnecting = false;
    const text = error?.message ?? reason;
    const failure = error ??
      new ConnectionClosedError(
        this.#ready
          ? `the room connection closed${text ? `: ${text}` : ""}`
          : `room connection closed before the room became ready${text ? `: ${text}` : ""}`,
        code,
      );
    this.#readyWaiters.rejectAll(failure);
    for (const off of this.#offs.splice(0)) off();
    this.messaging._onClosed();
    this.events.emit("closed", { code, reason, error });
  }
}
