/**
 * `@meshagent/tools`: tools and toolkits. A {@linkcode Tool} describes what it accepts and returns
 * (`input_spec` / `output_spec`), checks its input against them before it runs, and turns what it
 * returns into contents; a {@linkcode Toolkit} groups tools under a name, runs them by name, and
 * describes itself in the wire shape a room expects.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FunctionTool, TextContent, ToolContext, Toolkit } from "@meshagent/tools";
 *
 * const greeter = new Toolkit({
 *   name: "greeter",
 *   tools: [
 *     new FunctionTool<{ name: string }>({
 *       name: "greet",
 *       inputSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
 *       run: (_ctx, { name }) => `hello ${name}`,
 *     }),
 *   ],
 * });
 * const ctx = new ToolContext({ caller: { id: "p-1", attributes: {} } });
 * const reply = await greeter.execute(ctx, "greet", { name: "ada" });
 * assert(reply instanceof TextContent && reply.text === "hello ada");
 * ```
 *
 * @module
 */
export { type ContentType, ErrorCode, type JsonObject, RoomError } from "@meshagent/api";
export * from "./tool_error.ts";
export * from "./tool_content_spec.ts";
export * from "./content.ts";
export * from "./tool_context.ts";
export * from "./base_tool.ts";
export * from "./tool.ts";
export * from "./toolkit.ts";
export * from "./hosted_toolkit.ts";
export * from "./remote_toolkit.ts";
export * from "./storage_mount.ts";
export * from "./storage_toolkit_options.ts";
export * from "./storage_toolkit.ts";
export * from "./document_authoring_toolkit.ts";
export * from "./document_type_authoring_toolkit.ts";
export * from "./official_names.ts";
