import { BinaryContent, type Content, ErrorContent } from "./content.ts";
import { ErrorCode, RoomError } from "./errors.ts";
import type { JsonObject } from "./packing.ts";
import type { RoomRequester } from "./room_requester.ts";
import type { RoomLogEvent } from "./room_event.ts";
import type { ToolCallStream } from "./tool_call_streams.ts";

/** Timeout and cancellation of a developer request. */
export interface DeveloperRequestOptions {
  /** Fail with a `RequestTimeoutError` after this many ms. */
  timeout?: number;
  /** Cancels the wait. */
  signal?: AbortSignal;
}

/** Options of {@linkcode DeveloperClient.logs}. */
export interface DeveloperLogsOptions {
  /** Ends the subscription: the iteration then finishes normally. */
  signal?: AbortSignal;
}

const decoder = new TextDecoder();

function decodeLog(content: Content): RoomLogEvent {
  if (content instanceof ErrorContent) throw new RoomError(content.text, content.code);
  if (!(content instanceof BinaryContent)) {
    throw new RoomError(
      `unexpected return type from developer.logs: ${content.type}`,
      ErrorCode.UNEXPECTED_RESPONSE_TYPE,
    );
  }
  const type = content.headers.type;
  if (typeof type !== "string" || type === "") {
    throw new RoomError(
      "developer.logs sent a log chunk without a type",
      ErrorCode.INVALID_REQUEST,
    );
  }
  let data: JsonObject = {};
  if (content.data.length > 0) {
    const parsed = JSON.parse(decoder.decode(content.data));
    data = parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
      ? parsed
      : { value: parsed };
  }
  return { type, data };
}

/**
 * Developer logs (the room's built-in `developer` toolkit): emit log events and follow the
 * room's log stream.
 *
 * @example Following the logs (needs a running room, so shown without running it)
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RoomClient } from "@meshagent/api";
 * async function tail(room: RoomClient, signal: AbortSignal) {
 *   for await (const event of room.developer.logs({ signal })) {
 *     console.log(event.type, event.data);
 *   }
 * }
 * assert(typeof tail === "function");
 * ```
 */
export class DeveloperClient {
  readonly #room: RoomRequester;

  /**
   * Creates the sub-client; a {@linkcode RoomClient} makes one for itself.
   *
   * @param room The room client this belongs to.
   */
  constructor(room: RoomRequester) {
    this.#room = room;
  }

  /**
   * Emits a log event of any type.
   *
   * @param type The log type.
   * @param data The log data.
   * @param options Timeout and cancellation.
   */
  async log(type: string, data: JsonObject, options: DeveloperRequestOptions = {}): Promise<void> {
    await this.#room.invoke({
      toolkit: "developer",
      tool: "log",
      input: { type, data },
      timeout: options.timeout,
      signal: options.signal,
    });
  }

  /**
   * Emits an `info` log event: `{message, ...extra}`.
   *
   * @param message The message.
   * @param extra More fields for the log data.
   * @param options Timeout and cancellation.
   */
  info(
    message: string,
    extra: JsonObject = {},
    options: DeveloperRequestOptions = {},
  ): Promise<void> {
    return this.log("info", { ...extra, message }, options);
  }

  /**
   * Emits a `warning` log event: `{message, ...extra}`.
   *
   * @param message The message.
   * @param extra More fields for the log data.
   * @param options Timeout and cancellation.
   */
  warning(
    message: string,
    extra: JsonObject = {},
    options: DeveloperRequestOptions = {},
  ): Promise<void> {
    return this.log("warning", { ...extra, message }, options);
  }

  /**
   * Emits an `error` log event: `{message, ...extra}`.
   *
   * @param message The message.
   * @param extra More fields for the log data.
   * @param options Timeout and cancellation.
   */
  error(
    message: string,
    extra: JsonObject = {},
    options: DeveloperRequestOptions = {},
  ): Promise<void> {
    return this.log("error", { ...extra, message }, options);
  }

  /**
   * Follows the room's developer logs. The subscription starts when iteration starts and ends
   * when `signal` aborts or the loop is left (`break`, `return`, a throw); the room is then told
   * with a close of the input stream.
   *
   * @param options The signal that ends the subscription.
   * @returns The log events as they happen.
   */
  logs(options: DeveloperLogsOptions = {}): AsyncIterable<RoomLogEvent> {
    const room = this.#room;
    const outer = options.signal;
    return {
      async *[Symbol.asyncIterator](): AsyncGenerator<RoomLogEvent> {
        if (outer?.aborted) return;
        const stop = new AbortController();
        const ended = outer ? AbortSignal.any([outer, stop.signal]) : stop.signal;
        // The input stream sends no data; it stays open until the subscription ends, and its end
        // is the close chunk that tells the room to stop.
        // deno-lint-ignore require-yield -- an input stream that sends nothing and then closes
        async function* input(): AsyncGenerator<Content> {
          if (ended.aborted) return;
          await new Promise<void>((resolve) =>
            ended.addEventListener("abort", () => resolve(), { once: true })
          );
        }
        let stream: ToolCallStream;
        try {
          stream = await room.invokeStream({
            toolkit: "developer",
            tool: "logs",
            input: input(),
            signal: outer,
          });
        } catch (e) {
          stop.abort();
          if (outer?.aborted) return;
          throw e;
        }
        try {
          for await (const content of stream) yield decodeLog(content);
        } catch (e) {
          if (outer?.aborted) return;
          throw e;
        } finally {
          stop.abort();
          stream.close();
        }
      },
    };
  }
}
