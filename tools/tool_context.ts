import type { JsonObject, RoomClient } from "@meshagent/api";

/**
 * A participant as a tool sees it: the caller, or the participant the caller acts for. The
 * `Participant` classes of `@meshagent/api` fit this shape.
 */
export interface ToolParticipant {
  /** The participant id assigned by the room. */
  readonly id: string;
  /** The participant's `name` attribute, when set. */
  readonly name?: string | undefined;
  /** The participant's attributes. */
  readonly attributes: JsonObject;
}

/**
 * A progress event a running tool sends to its caller, e.g. `{ "kind": "progress", "done": 3 }`.
 * A host forwards it as a plain JSON chunk of the call's output stream.
 */
export type ToolEvent = JsonObject;

/** Receives the {@linkcode ToolEvent}s of one call (set by whoever runs the tool: a host, a test). */
export type ToolEventHandler = (event: ToolEvent) => void | Promise<void>;

/** The fields of a {@linkcode ToolContext}. */
export interface ToolContextInit {
  /** The participant that called the tool. */
  caller: ToolParticipant;
  /**
   * The room client the call came through (a hosted toolkit's connection), or null for a local
   * call (default null).
   */
  room?: RoomClient | null;
  /** The participant the caller acts for, or null (default null). */
  onBehalfOf?: ToolParticipant | null;
  /** The caller's `tool_call_id` (default: a fresh random id). */
  toolCallId?: string;
  /** Aborted when the caller goes away or the call must stop (default: never aborted). */
  signal?: AbortSignal;
  /** Receives what the tool passes to {@linkcode ToolContext.emit} (default: events are dropped). */
  onEvent?: ToolEventHandler;
}

/**
 * Everything a tool gets besides its input for one call: who called, for whom, in which room,
 * the call id, a cancellation signal, and {@linkcode ToolContext.emit} for progress events.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ToolContext } from "@meshagent/tools";
 * const events: unknown[] = [];
 * const ctx = new ToolContext({
 *   caller: { id: "p-1", name: "alice", attributes: { name: "alice" } },
 *   onEvent: (e) => void events.push(e),
 * });
 * await ctx.emit({ kind: "progress", done: 1 });
 * assert(events.length === 1 && ctx.onBehalfOf === null && !ctx.signal.aborted);
 * ```
 */
export class ToolContext {
  /** The room client the call came through, or null for a local call. */
  readonly room: RoomClient | null;
  /** The participant that called the tool. */
  readonly caller: ToolParticipant;
  /** The participant the caller acts for, or null. */
  readonly onBehalfOf: ToolParticipant | null;
  /** The caller's `tool_call_id`. */
  readonly toolCallId: string;
  /** Aborted when the call must stop; long-running tools should watch it. */
  readonly signal: AbortSignal;
  readonly #onEvent?: ToolEventHandler;

  /**
   * Creates the value.
   *
   * @param init The caller and, optionally, the room, on-behalf-of participant, call id, signal
   * and event handler.
   */
  constructor(init: ToolContextInit) {
    this.caller = init.caller;
    this.room = init.room ?? null;
    this.onBehalfOf = init.onBehalfOf ?? null;
    this.toolCallId = init.toolCallId ?? crypto.randomUUID().replaceAll("-", "");
    this.signal = init.signal ?? new AbortController().signal;
    if (init.onEvent) this.#onEvent = init.onEvent;
  }

  /**
   * Sends a progress event to the caller while the tool runs. Without an event handler (a local
   * call, or a host that does not forward events) the event is dropped.
   *
   * @param event A JSON object.
   * @returns Resolves when the handler has taken the event.
   */
  async emit(event: ToolEvent): Promise<void> {
    await this.#onEvent?.(event);
  }
}
