import type { ApiScope, ApiSurface, Content, JsonObject } from "@meshagent/api";
import type { Participant } from "./participant.ts";
import type { ToolkitRoom } from "./toolkit_room.ts";

/**
 * What a tool returns: one {@linkcode Content} (a unary result, sent as the `__response__`), or an
 * async iterable of contents (a streamed result: the server answers `control` open, sends each
 * item as a `room.tool_call_response_chunk`, and ends with a `control` close; a thrown error ends
 * the stream with an abnormal close that carries its message).
 */
export type ToolResult = Content | AsyncIterable<Content>;

/** Everything a built-in tool gets for one call. */
export interface ToolContext {
  /** The room the call happens in. */
  readonly room: ToolkitRoom;
  /** The calling participant. */
  readonly participant: Participant;
  /** The caller's API scope (never null here: callers without an `api` grant are refused). */
  readonly scope: ApiScope;
  /** The toolkit name as called. */
  readonly toolkit: string;
  /** The tool name as called. */
  readonly tool: string;
  /** The caller's tool call id (a server-made id when the caller sent none, as npm 0.39.9). */
  readonly toolCallId: string;
  /** The first input content (the `arguments`). A `control` open means streamed input. */
  readonly input: Content;
  /**
   * The streamed input chunks (`room.tool_call_request_chunk`), ending at the caller's `control`
   * close or its disconnect. Empty when the input is not streamed.
   */
  readonly inputStream: AsyncIterable<Content>;
  /**
   * Streamed input only: takes over the answers (`__response__`) to input chunks. Call it before
   * the tool's first await; from then on a chunk is answered only when the tool passes it to the
   * returned function (e.g. once the chunk is durable; with an error content to refuse it), or
   * when the call ends.
   */
  readonly deferInputAcks?: () => (chunk: Content, response?: Content) => void;
  /** Aborted when the caller disconnects (or the room ends). */
  readonly signal: AbortSignal;
}

/**
 * One built-in tool. It runs concurrently with the caller's other requests. Code before its first
 * `await` runs in the order the requests arrived, so a tool that delivers something before awaiting
 * keeps the caller's ordering (messaging relies on this).
 */
export type RoomTool = (context: ToolContext) => ToolResult | Promise<ToolResult>;

/**
 * A built-in room toolkit (messaging, queues, developer, and later storage, sync, sqlite…): one
 * instance per room, reached through `room.invoke_tool` with `toolkit` = {@linkcode name}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RoomToolkit } from "@meshagent/server";
 * import { JsonContent } from "@meshagent/api";
 * const echo: RoomToolkit = {
 *   name: "echo",
 *   surface: "developer",
 *   tools: { echo: (ctx) => new JsonContent({ you_sent: ctx.input.toJson() }) },
 * };
 * assert(typeof echo.tools.echo === "function");
 * ```
 */
export interface RoomToolkit {
  /** The toolkit name on the wire. */
  readonly name: string;
  /** The top-level `api` grant key a caller needs (deny → error 1001). */
  readonly surface: ApiSurface;
  /** The tools by name. */
  readonly tools: Readonly<Record<string, RoomTool>>;
  /** Called when a participant leaves the room (drop its per-connection state). */
  participantLeft?(participant: Participant): void;
  /** Called after a participant merged new attributes (`changes` is the partial map it sent). */
  attributesChanged?(participant: Participant, changes: JsonObject): void;
  /** Called when the room ends: release stores. */
  close?(): void | Promise<void>;
}

/** Makes the toolkit instance of one room. */
export type RoomToolkitFactory = (room: ToolkitRoom) => RoomToolkit;
