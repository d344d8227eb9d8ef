/**
 * The official SDKs' names for tools of this package that are named otherwise (see the
 * `official_names.ts` of `@meshagent/api` for the rest).
 *
 * @module
 */
import { Tool } from "./tool.ts";
import { ToolContext } from "./tool_context.ts";

/**
 * The official name of {@linkcode Tool}: a content-in, content-out tool whose `execute(context,
 * input)` takes one content or an async iterable of contents, and returns likewise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ContentTool, Tool } from "@meshagent/tools";
 * assert(ContentTool === Tool);
 * ```
 */
export const ContentTool: typeof Tool = Tool;
/** The official name of {@linkcode Tool} (the type). */
export type ContentTool = Tool;

/**
 * The official name of {@linkcode ToolContext} with a room: ours always has the `room` field
 * (null for a local call).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RoomToolContext } from "@meshagent/tools";
 * const context = new RoomToolContext({ caller: { id: "p-1", name: "ada", attributes: {} } });
 * assert(context.room === null);
 * ```
 */
export const RoomToolContext: typeof ToolContext = ToolContext;
/** The official name of {@linkcode ToolContext} (the type). */
export type RoomToolContext = ToolContext;
