import type { Content } from "./content.ts";
import type { EventEmitter, Listener } from "./event_emitter.ts";
import type { ProtocolMessage } from "./framing.ts";
import type { JsonObject } from "./packing.ts";
import type { RequestOptions } from "./protocol.ts";
import type { RoomClientEvents } from "./room_event.ts";
import type { ToolCallRequest, ToolCallStream } from "./tool_call_streams.ts";

/** Options of {@linkcode RoomRequester.request}. */
export interface RoomRequestOptions extends RequestOptions {
  /** Payload bytes after the JSON header. */
  payload?: Uint8Array;
}

/** Handles one incoming protocol message (see {@linkcode RoomRequester.onMessage}). */
export type RoomMessageHandler = (message: ProtocolMessage) => void | Promise<void>;

/**
 * What the sub-clients of a room (messaging, queues, storage, sync, database, developer logs,
 * agents) need of their room: requests, tool calls, incoming messages and the room's events. A
 * `RoomClient` is one; a sub-client can be built on anything else that is (a test double, a
 * relay).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EmptyContent, EventEmitter, QueuesClient, type RoomRequester } from "@meshagent/api";
 *
 * const calls: string[] = [];
 * const room: RoomRequester = {
 *   events: new EventEmitter(),
 *   on: () => () => {},
 *   request: () => Promise.resolve(new EmptyContent()),
 *   invoke: (request) => {
 *     calls.push(`${request.toolkit}.${request.tool}`);
 *     return Promise.resolve(new EmptyContent());
 *   },
 *   invokeStream: () => Promise.reject(new Error("no streams here")),
 *   onMessage: () => () => {},
 * };
 * await new QueuesClient(room).send("jobs", { n: 1 });
 * assert.deepEqual(calls, ["queues.send"]);
 * ```
 */
export interface RoomRequester {
  /** Every event of the room, by name; sub-clients emit theirs here too. */
  readonly events: EventEmitter<RoomClientEvents>;
  /**
   * Adds an event listener (a shortcut for `events.on`).
   *
   * @param name The event name.
   * @param listener The listener.
   * @returns A function that removes the listener.
   */
  on<K extends keyof RoomClientEvents>(
    name: K,
    listener: Listener<RoomClientEvents[K]>,
  ): () => void;
  /**
   * Sends a request with a JSON header and waits for its response.
   *
   * @param type The request type, e.g. `room.list_toolkits`.
   * @param header The JSON header.
   * @param options Payload, timeout and cancellation.
   * @returns The response content; `error` responses reject with a `RoomError`.
   */
  request(type: string, header: JsonObject, options?: RoomRequestOptions): Promise<Content>;
  /**
   * Invokes a tool and waits for its single result content.
   *
   * @param request The toolkit, tool, input and options.
   * @returns The result content.
   */
  invoke(request: ToolCallRequest): Promise<Content>;
  /**
   * Invokes a tool whose output is a stream of contents.
   *
   * @param request The toolkit, tool, input and options.
   * @returns The output stream.
   */
  invokeStream(request: ToolCallRequest): Promise<ToolCallStream>;
  /**
   * Adds a handler for incoming messages of a type.
   *
   * @param type The message type.
   * @param handler The handler.
   * @returns A function that removes the handler.
   */
  onMessage(type: string, handler: RoomMessageHandler): () => void;
}
