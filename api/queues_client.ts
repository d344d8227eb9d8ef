import { type Content, EmptyContent, JsonContent, TextContent } from "./content.ts";
import { ErrorCode, RoomError } from "./errors.ts";
import type { JsonObject } from "./packing.ts";
import type { RoomRequester } from "./room_requester.ts";

/** A queue of the room and how many messages wait in it. */
export interface QueueInfo {
  /** The queue name. */
  name: string;
  /** The number of waiting messages. */
  size: number;
}

/** Timeout and cancellation of a queue request. */
export interface QueueRequestOptions {
  /** Fail with a `RequestTimeoutError` after this many ms. */
  timeout?: number;
  /** Cancels the wait. */
  signal?: AbortSignal;
}

/** Options of {@linkcode QueuesClient.send}. */
export interface QueueSendOptions extends QueueRequestOptions {
  /** Create the queue when it does not exist (default true). */
  create?: boolean;
}

/** Options of {@linkcode QueuesClient.receive}. */
export interface QueueReceiveOptions extends QueueRequestOptions {
  /** Create the queue when it does not exist (default true). */
  create?: boolean;
  /**
   * Wait until a message arrives (default true). With `false`, an empty queue gives `null` at
   * once. A wait has no server-side limit: pass `signal` or `timeout` to stop waiting. Note that
   * the protocol has no cancel message, so a message that arrives after the wait was abandoned
   * may still be taken off the queue for it.
   */
  wait?: boolean;
}

/**
 * The room's queues (built-in toolkit `queues`): named FIFO queues of JSON messages, created on
 * demand and shared by every participant of the room.
 *
 * @example Sending and receiving (needs a running room, so shown without running it)
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RoomClient } from "@meshagent/api";
 * async function worker(room: RoomClient) {
 *   await room.queues.send("jobs", { id: 1 });
 *   const job = await room.queues.receive<{ id: number }>("jobs", { timeout: 5000 });
 *   console.log(job?.id);
 * }
 * assert(typeof worker === "function");
 * ```
 */
export class QueuesClient {
  readonly #room: RoomRequester;

  /**
   * Creates the sub-client; a {@linkcode RoomClient} makes one for itself.
   *
   * @param room The room client this belongs to.
   */
  constructor(room: RoomRequester) {
    this.#room = room;
  }

  #invoke(tool: string, input: JsonObject, options: QueueRequestOptions): Promise<Content> {
    return this.#room.invoke({
      toolkit: "queues",
      tool,
      input,
      timeout: options.timeout,
      signal: options.signal,
    });
  }

  #unexpected(tool: string, content: Content): RoomError {
    return new RoomError(
      `unexpected return type from queues.${tool}: ${content.type}`,
      ErrorCode.UNEXPECTED_RESPONSE_TYPE,
    );
  }

  /**
   * Lists the room's queues.
   *
   * @param options Timeout and cancellation.
   * @returns Each queue with its size.
   */
  async list(options: QueueRequestOptions = {}): Promise<QueueInfo[]> {
    const content = await this.#invoke("list", {}, options);
    if (!(content instanceof JsonContent)) throw this.#unexpected("list", content);
    const queues = (content.json as { queues?: unknown })?.queues;
    if (!Array.isArray(queues)) throw this.#unexpected("list", content);
    return queues.map((q) => ({ name: String(q?.name), size: Number(q?.size ?? 0) }));
  }

  /**
   * Creates a queue, or re-opens a closed one.
   *
   * @param name The queue name.
   * @param options Timeout and cancellation.
   */
  async open(name: string, options: QueueRequestOptions = {}): Promise<void> {
    await this.#invoke("open", { name }, options);
  }

  /**
   * Closes a queue: it accepts no sends or receives until it is opened again.
   *
   * @param name The queue name.
   * @param options Timeout and cancellation.
   */
  async close(name: string, options: QueueRequestOptions = {}): Promise<void> {
    await this.#invoke("close", { name }, options);
  }

  /**
   * Removes every waiting message of a queue.
   *
   * @param name The queue name.
   * @param options Timeout and cancellation.
   */
  async drain(name: string, options: QueueRequestOptions = {}): Promise<void> {
    await this.#invoke("drain", { name }, options);
  }

  /**
   * Appends a message to a queue.
   *
   * @param name The queue name.
   * @param message The JSON message.
   * @param options `create` (default true), timeout and cancellation.
   * @throws {RoomError} Code 5001 when the queue does not exist and `create` is false.
   */
  async send(name: string, message: JsonObject, options: QueueSendOptions = {}): Promise<void> {
    await this.#invoke("send", { name, create: options.create ?? true, message }, options);
  }

  /**
   * Takes the oldest message off a queue, waiting for one by default.
   *
   * @param name The queue name.
   * @param options `create` (default true), `wait` (default true), timeout and cancellation.
   * @returns The message, or `null` when `wait` is false and the queue is empty.
   */
  async receive<T = JsonObject>(
    name: string,
    options: QueueReceiveOptions = {},
  ): Promise<T | null> {
    const content = await this.#invoke(
      "receive",
      { name, create: options.create ?? true, wait: options.wait ?? true },
      options,
    );
    if (content instanceof EmptyContent) return null;
    if (content instanceof JsonContent) return content.json as T;
    if (content instanceof TextContent) return content.text as T;
    throw this.#unexpected("receive", content);
  }
}
