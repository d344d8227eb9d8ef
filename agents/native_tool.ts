import type { JsonObject } from "@meshagent/api";
import type { Tool } from "@meshagent/tools";
import type { ToolOutputPart } from "./agent_session_context.ts";

/**
 * A tool that a provider knows as one of its own tool types (OpenAI's `computer`, …) rather than
 * as a function: the adapter of `api` (e.g. `openai.responses`) sends {@linkcode nativeDefinitions}
 * instead of a function definition, turns the provider's call items of
 * {@linkcode nativeCallTypes} into calls of this tool — the arguments are the call item itself —
 * and answers them with {@linkcode nativeOutput}. Everything else (events, approvals, the thread)
 * is the shared tool loop's, as for any tool. An adapter of another API sees a plain tool.
 *
 * A native call that fails ends the response with the tool's error: the provider needs the tool's
 * own answer to go on, and there is none to give.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FunctionTool } from "@meshagent/tools";
 * import { asNativeTool, type NativeTool } from "@meshagent/agents";
 *
 * class Echo extends FunctionTool implements NativeTool {
 *   constructor() {
 *     super({ name: "echo_call", inputSchema: { type: "object" }, run: () => "ok" });
 *   }
 *   nativeDefinitions(api: string) {
 *     return api === "example.api" ? [{ type: "echo" }] : null;
 *   }
 *   nativeCallTypes(api: string) {
 *     return api === "example.api" ? ["echo_call"] : [];
 *   }
 *   nativeOutput(_api: string, call: Record<string, unknown>) {
 *     return { type: "echo_call_output", call_id: String(call.call_id) };
 *   }
 * }
 * assert.ok(asNativeTool(new Echo(), "example.api"));
 * assert.equal(asNativeTool(new Echo(), "other.api"), null);
 * ```
 */
export interface NativeTool {
  /**
   * The provider's definitions of this tool for `api`, or null when `api` does not know it
   * natively (the tool is then offered as a function, if at all).
   *
   * @param api The provider API (`openai.responses`).
   */
  nativeDefinitions(api: string): JsonObject[] | null;
  /**
   * The output item types of `api` this tool answers (`computer_call`).
   *
   * @param api The provider API.
   */
  nativeCallTypes(api: string): readonly string[];
  /**
   * The item that answers `call`, made from what the tool returned (as the model is shown it), or
   * null when the output cannot answer it (a result restored from storage without its image): the
   * adapter then leaves the call and its result out of later requests.
   *
   * @param api The provider API.
   * @param call The provider's call item (the tool's arguments).
   * @param output The tool's result as model parts.
   */
  nativeOutput(api: string, call: JsonObject, output: readonly ToolOutputPart[]): JsonObject | null;
}

/**
 * The tool as a {@linkcode NativeTool} of `api`, or null when it is not one there.
 *
 * @param tool Any tool.
 * @param api The provider API (`openai.responses`).
 * @returns The native view of the tool, or null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FunctionTool } from "@meshagent/tools";
 * import { asNativeTool } from "@meshagent/agents";
 * const plain = new FunctionTool({ name: "add", inputSchema: { type: "object" }, run: () => 1 });
 * assert.equal(asNativeTool(plain, "openai.responses"), null);
 * ```
 */
export function asNativeTool(tool: Tool, api: string): (Tool & NativeTool) | null {
  const candidate = tool as Partial<NativeTool> & Tool;
  if (
    typeof candidate.nativeDefinitions !== "function" ||
    typeof candidate.nativeCallTypes !== "function" ||
    typeof candidate.nativeOutput !== "function"
  ) return null;
  return candidate.nativeDefinitions(api) === null ? null : candidate as Tool & NativeTool;
}
