import { type Content, ErrorContent, unpackContent } from "./content.ts";
import {
  ConnectionClosedError,
  ErrorCode,
  ProtocolError,
  RequestTimeoutError,
  RoomError,
  UnsupportedMessageIdError,
} from "./errors.ts";
import {
  encodePackets,
  PACKET_DATA_SIZE,
  PacketAssembler,
  type ProtocolMessage,
} from "./framing.ts";
import type { JsonObject } from "./packing.ts";
import {
  dataPacketParts,
  headerFrame,
  packedDataFrame,
  packedHead,
  packJson,
  writeBigId,
} from "./_frames.ts";

/** The message type of every answer to a request. */
export const RESPONSE_TYPE = "__response__";

/**
 * The transport under a {@linkcode Protocol}: something that sends binary frames and can close.
 * Incoming frames and the close are fed to the protocol with {@linkcode Protocol.receive} and
 * {@linkcode Protocol.closed}.
 */
export interface ProtocolChannel {
  /**
   * Sends one binary frame. Frames of one message are passed back to back. A frame is never
   * modified after it was passed, so the channel may hold on to it (to write a tick's frames
   * together, for example).
   */
  send(frame: Uint8Array): void;
  /**
   * Sends one binary frame made of these pieces, back to back (optional). A protocol with a
   * channel that has it sends the packets of a big message as views of the message's data instead
   * of copying each into a frame of its own; the pieces are never modified after they were passed.
   */
  sendParts?(pieces: Uint8Array[]): void;
  /** Closes the transport. */
  close(code?: number, reason?: string): void;
}

/** Options of a {@linkcode Protocol}. */
export interface ProtocolOptions {
  /** The largest incoming message in bytes (default 64 MiB); ignored with `assembler`. */
  maxMessageSize?: number;
  /**
   * The assembler of incoming frames (default: a new one with `maxMessageSize`). Pass one to
   * watch what it holds for an incomplete message (`bufferedBytes`) or to `discard` it.
   */
  assembler?: PacketAssembler;
  /** Data bytes per outgoing data packet (default 1024, as the official clients). */
  chunkSize?: number;
  /** The first message id this side uses (default 0). */
  firstId?: number;
  /** Default timeout of {@linkcode Protocol.request} in ms; `undefined` waits forever. */
  requestTimeout?: number;
}

/** Options of one request. */
export interface RequestOptions {
  /** Fail with a {@linkcode RequestTimeoutError} after this many ms. */
  timeout?: number;
  /** Fail with the signal's reason when it aborts. */
  signal?: AbortSignal;
}

/** Handles one incoming message of a given type. */
export type MessageHandler = (message: ProtocolMessage) => void | Promise<void>;

/** A request waiting for its `__response__`. */
class Pending {
  readonly type: string;
  readonly resolve: (content: Content) => void;
  readonly reject: (error: unknown) => void;
  timer?: ReturnType<typeof setTimeout>;
  signal?: AbortSignal;
  onAbort?: () => void;

  constructor(
    type: string,
    resolve: (content: Content) => void,
    reject: (error: unknown) => void,
  ) {
    this.type = type;
    this.resolve = resolve;
    this.reject = reject;
  }

  cleanup(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.onAbort) this.signal!.removeEventListener("abort", this.onAbort);
  }
}

/**
 * The transport-agnostic message layer shared by clients and the server: it splits and joins
 * packets, numbers messages, correlates requests with their `__response__`, dispatches incoming
 * messages by type, and fails every waiting request when the channel closes.
 *
 * Handlers run concurrently: a handler that awaits does not stop the next message from being read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EmptyContent, Protocol, TextContent } from "@meshagent/api";
 * // Two protocols wired back to back in memory.
 * let a!: Protocol, b!: Protocol;
 * a = new Protocol({ send: (f) => b.receive(f), close: () => {} });
 * b = new Protocol({ send: (f) => a.receive(f), close: () => {} });
 * b.on("echo", (m) => b.respond(m.id, new TextContent("pong")));
 * const reply = await a.request("echo", new EmptyContent().pack());
 * assert(reply instanceof TextContent && reply.text === "pong");
 * ```
 */
export class Protocol {
  readonly #channel: ProtocolChannel;
  readonly #assembler: PacketAssembler;
  readonly #chunkSize: number;
  readonly #firstId: number;
  readonly #requestTimeout?: number;
  readonly #handlers = new Map<string, MessageHandler>();
  readonly #pending = new Map<number, Pending>();
  #fallback?: MessageHandler;
  #onError?: (error: unknown, message?: ProtocolMessage) => void;
  #nextId: number;
  #closed = false;
  #closeListeners = new Set<(error: ConnectionClosedError) => void>();

  /**
   * Creates the value.
   *
   * @param channel The transport.
   * @param options Limits and defaults.
   */
  constructor(channel: ProtocolChannel, options: ProtocolOptions = {}) {
    this.#channel = channel;
    this.#assembler = options.assembler ??
      new PacketAssembler({ maxMessageSize: options.maxMessageSize });
    this.#chunkSize = options.chunkSize ?? PACKET_DATA_SIZE;
    this.#firstId = options.firstId ?? 0;
    this.#nextId = this.#firstId;
    if (options.requestTimeout !== undefined) this.#requestTimeout = options.requestTimeout;
  }

  /** True once {@linkcode Protocol.closed} or {@linkcode Protocol.close} ran. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** How many requests wait for their response. */
  get pendingRequests(): number {
    return this.#pending.size;
  }

  /**
   * Sets the handler of a message type (one per type; a later call replaces it).
   *
   * @param type The message type.
   * @param handler The handler.
   */
  on(type: string, handler: MessageHandler): void {
    this.#handlers.set(type, handler);
  }

  /**
   * Removes the handler of a message type.
   *
   * @param type The message type.
   */
  off(type: string): void {
    this.#handlers.delete(type);
  }

  /**
   * Sets the handler for messages of a type with no handler of its own.
   *
   * @param handler The handler.
   */
  onUnhandled(handler: MessageHandler): void {
    this.#fallback = handler;
  }

  /**
   * Sets the function told about malformed input and failing handlers. By default they are logged
   * with `console.warn`.
   *
   * @param handler Receives the error and, when known, the message.
   */
  onError(handler: (error: unknown, message?: ProtocolMessage) => void): void {
    this.#onError = handler;
  }

  /**
   * Adds a listener for the close of this protocol.
   *
   * @param listener Receives the error that pending requests failed with.
   * @returns A function that removes the listener.
   */
  onClose(listener: (error: ConnectionClosedError) => void): () => void {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  /** Allocates the next outgoing message id. */
  nextId(): number {
    return this.#nextId++;
  }

  /**
   * Feeds one incoming frame. Complete messages are dispatched; malformed frames are reported to
   * the error handler and never thrown. A message with an id of 2^53 or more (which a number
   * cannot hold exactly) is answered here with an `error` response carrying the same id bytes,
   * unless it is a response itself, and reported as {@linkcode UnsupportedMessageIdError}.
   *
   * @param frame The frame bytes.
   */
  receive(frame: Uint8Array): void {
    if (this.#closed) return;
    let message: ProtocolMessage | null;
    try {
      message = this.#assembler.push(frame);
    } catch (e) {
      if (e instanceof UnsupportedMessageIdError) this.#answerUnsupportedId(e);
      this.#reportError(e);
      return;
    }
    if (message) this.#dispatch(message);
  }

  /**
   * [impl] Every request gets an answer: one whose id is past 2^53-1 gets an `error` response
   * (1002) with its id written back exactly, rather than silence or a closed connection (the
   * sender learns which request failed and the connection stays usable).
   */
  #answerUnsupportedId(error: UnsupportedMessageIdError): void {
    if (error.messageType === RESPONSE_TYPE) return; // an answer is never answered
    const content = new ErrorContent(error.message, ErrorCode.INVALID_REQUEST).pack();
    for (const frame of encodePackets({ id: 0, type: RESPONSE_TYPE, data: content })) {
      writeBigId(frame, 0, error.messageId);
      this.#channel.send(frame);
    }
  }

  #dispatch(message: ProtocolMessage): void {
    if (message.type === RESPONSE_TYPE) {
      const pending = this.#pending.get(message.id);
      if (!pending) return; // late or unknown: ignored, as the clients do
      this.#pending.delete(message.id);
      pending.cleanup();
      let content: Content;
      try {
        content = unpackContent(message.data);
      } catch (e) {
        pending.reject(e);
        return;
      }
      if (content instanceof ErrorContent) {
        pending.reject(new RoomError(content.text, content.code));
      } else {
        pending.resolve(content);
      }
      return;
    }
    const handler = this.#handlers.get(message.type) ?? this.#fallback;
    if (!handler) {
      this.#reportError(new ProtocolError(`no handler for message type ${message.type}`), message);
      return;
    }
    try {
      const result = handler(message);
      if (result instanceof Promise) result.catch((e) => this.#reportError(e, message));
    } catch (e) {
      this.#reportError(e, message);
    }
  }

  #reportError(error: unknown, message?: ProtocolMessage): void {
    if (this.#onError) {
      try {
        this.#onError(error, message);
      } catch (e) {
        console.error("protocol error handler failed:", e);
      }
    } else {
      console.warn(`protocol: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * Sends one message.
   *
   * @param type The message type.
   * @param data The data bytes.
   * @param id The id to use; a fresh one by default.
   * @returns The id used.
   * @throws {ConnectionClosedError} When the protocol is closed.
   */
  send(type: string, data: Uint8Array, id?: number): number {
    if (this.#closed) {
      throw new ConnectionClosedError(`cannot send ${type}: the connection is closed`);
    }
    const messageId = id ?? this.nextId();
    if (this.#channel.sendParts && data.length > this.#chunkSize) {
      this.#sendParts(type, [data], messageId);
      return messageId;
    }
    for (const frame of encodePackets({ id: messageId, type, data }, this.#chunkSize)) {
      this.#channel.send(frame);
    }
    return messageId;
  }

  /** Sends a message whose data is `parts` back to back, its packets as views of the parts. */
  #sendParts(type: string, parts: Uint8Array[], id: number): void {
    if (!Number.isSafeInteger(id) || id < 0) {
      throw new ProtocolError(`message id ${id} is not an integer in [0, 2^53)`);
    }
    let total = 0;
    for (const part of parts) total += part.length;
    const channel = this.#channel;
    channel.send(headerFrame(id, type, Math.ceil(total / this.#chunkSize)));
    dataPacketParts(id, parts, this.#chunkSize, (pieces) => channel.sendParts!(pieces));
  }

  /**
   * Packs a header (and payload) and sends it.
   *
   * @param type The message type.
   * @param header The JSON header.
   * @param payload The payload bytes.
   * @param id The id to use; a fresh one by default.
   * @returns The id used.
   */
  sendPacked(type: string, header: JsonObject, payload?: Uint8Array, id?: number): number {
    const json = JSON.stringify(header);
    if (this.#closed) {
      throw new ConnectionClosedError(`cannot send ${type}: the connection is closed`);
    }
    const messageId = id ?? this.nextId();
    this.#sendJson(type, json, payload, messageId);
    return messageId;
  }

  /** Sends a packed message of a JSON text; a small one is written straight into its frame. */
  #sendJson(type: string, json: string, payload: Uint8Array | undefined, id: number): void {
    const frame = Number.isSafeInteger(id) && id >= 0
      ? packedDataFrame(id, json, payload, this.#chunkSize)
      : null;
    if (frame === null) {
      if (this.#channel.sendParts && payload !== undefined && payload.length > 0) {
        this.#sendParts(type, [packedHead(json, true), payload], id);
      } else {
        this.send(type, packJson(json, payload), id);
      }
      return;
    }
    this.#channel.send(headerFrame(id, type, 1));
    this.#channel.send(frame);
  }

  /**
   * Answers a request: sends `__response__` with the request's id.
   *
   * @param id The request's message id.
   * @param content The answer.
   */
  respond(id: number, content: Content): void {
    if (this.#closed) return; // the requester is gone; nobody waits for this answer
    this.#sendJson(RESPONSE_TYPE, JSON.stringify(content.toJson()), content.payload, id);
  }

  /**
   * Sends a request and waits for its `__response__`. An `error` response rejects with a
   * {@linkcode RoomError} that carries the text and code.
   *
   * @param type The request type.
   * @param data The data bytes (usually packed).
   * @param options Timeout and cancellation.
   * @returns The response content.
   */
  request(type: string, data: Uint8Array, options: RequestOptions = {}): Promise<Content> {
    return this.#request(type, data, undefined, undefined, options);
  }

  /**
   * Packs a JSON header (and payload), sends it as a request and waits for its `__response__`:
   * the same as `request(type, packMessage(header, payload), options)`, with the header written
   * straight into its frame.
   *
   * @param type The request type.
   * @param header The JSON header.
   * @param payload The payload bytes.
   * @param options Timeout and cancellation.
   * @returns The response content.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { JsonContent, Protocol, unpackMessage } from "@meshagent/api";
   * let a!: Protocol, b!: Protocol;
   * a = new Protocol({ send: (f) => b.receive(f), close: () => {} });
   * b = new Protocol({ send: (f) => a.receive(f), close: () => {} });
   * b.on("echo", (m) => b.respond(m.id, new JsonContent(unpackMessage(m.data).header)));
   * const reply = await a.requestPacked("echo", { hello: "room" });
   * assert(reply instanceof JsonContent && (reply.json as { hello: string }).hello === "room");
   * ```
   */
  requestPacked(
    type: string,
    header: JsonObject,
    payload?: Uint8Array,
    options: RequestOptions = {},
  ): Promise<Content> {
    let json: string;
    try {
      json = JSON.stringify(header);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#request(type, undefined, json, payload, options);
  }

  #request(
    type: string,
    data: Uint8Array | undefined,
    json: string | undefined,
    payload: Uint8Array | undefined,
    options: RequestOptions,
  ): Promise<Content> {
    if (this.#closed) {
      return Promise.reject(
        new ConnectionClosedError(`cannot send ${type}: the connection is closed`),
      );
    }
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = this.nextId();
    const timeout = options.timeout ?? this.#requestTimeout;
    const { promise, resolve, reject } = Promise.withResolvers<Content>();
    const pending = new Pending(type, resolve, reject);
    this.#pending.set(id, pending);
    if (timeout !== undefined) {
      pending.timer = setTimeout(() => {
        if (this.#pending.get(id) === pending) {
          this.#pending.delete(id);
          pending.cleanup();
          reject(new RequestTimeoutError(type, timeout));
        }
      }, timeout);
    }
    if (signal) {
      pending.signal = signal;
      pending.onAbort = () => {
        if (this.#pending.get(id) === pending) {
          this.#pending.delete(id);
          pending.cleanup();
          reject(signal.reason);
        }
      };
      signal.addEventListener("abort", pending.onAbort, { once: true });
    }
    try {
      if (data !== undefined) this.send(type, data, id);
      else this.#sendJson(type, json!, payload, id);
    } catch (e) {
      this.#pending.delete(id);
      pending.cleanup();
      reject(e);
    }
    return promise;
  }

  /**
   * Tells the protocol its transport is gone: every waiting request fails with a
   * {@linkcode ConnectionClosedError}, and close listeners run. Safe to call more than once.
   *
   * @param code The WebSocket close code, if known.
   * @param reason The close reason, if any.
   */
  closed(code?: number, reason?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const text = reason ? `the connection closed: ${reason}` : "the connection closed";
    const error = new ConnectionClosedError(text, code);
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      p.cleanup();
      p.reject(new ConnectionClosedError(`${p.type}: ${text}`, code));
    }
    for (const listener of [...this.#closeListeners]) {
      try {
        listener(error);
      } catch (e) {
        console.error("close listener failed:", e);
      }
    }
    this.#closeListeners.clear();
  }

  /**
   * Closes the transport and fails what still waits.
   *
   * @param code The close code (default 1000).
   * @param reason The close reason.
   */
  close(code: number = 1000, reason?: string): void {
    if (this.#closed) return;
    try {
      this.#channel.close(code, reason);
    } finally {
      this.closed(code, reason);
    }
  }

  /**
   * Reopens a closed protocol for a new transport connection: ids restart at the first id and
   * packet assembly starts fresh. Handlers stay.
   */
  protected reopen(): void {
    this.#closed = false;
    this.#nextId = this.#firstId;
    this.#assembler.discard();
  }
}
