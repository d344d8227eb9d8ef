// Private: the room a built-in toolkit works in, and small helpers shared by the built-in
// toolkits (storage, document authoring).
import { ErrorCode, type JsonObject, type RoomClient } from "@meshagent/api";
import type { ToolContext } from "./tool_context.ts";
import { ToolError } from "./tool_error.ts";

/**
 * The room of a call: the context's room (a hosted toolkit's connection), else the toolkit's
 * fallback room.
 *
 * @throws {ToolError} 1006 when there is none.
 */
export function roomOf(
  context: ToolContext,
  fallback: RoomClient | null,
  toolkit: string,
): RoomClient {
  const room = context.room ?? fallback;
  if (!room) {
    throw new ToolError(
      `the ${toolkit} tools need a room: host the toolkit with startHostedToolkit, pass a ` +
        "ToolContext with a room, or give the toolkit a room option",
      ErrorCode.INVALID_STATE,
    );
  }
  return room;
}

/** A signal that aborts with the call, or after `ms` milliseconds. */
export function callSignal(context: ToolContext, ms: number): AbortSignal {
  return AbortSignal.any([context.signal, AbortSignal.timeout(ms)]);
}

/**
 * A strict object schema (the OpenAI strict-mode shape): every property is required and no
 * other property is allowed; optional values are declared nullable by the caller.
 */
export function strictObject(properties: JsonObject, description?: string): JsonObject {
  const schema: JsonObject = {
    type: "object",
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  };
  if (description) schema.description = description;
  return schema;
}

/** A JSON Schema for an attribute value: a string, number, boolean or null. */
export const SCALAR_SCHEMA: JsonObject = {
  anyOf: [{ type: "string" }, { type: "number" }, { type: "boolean" }, { type: "null" }],
};
