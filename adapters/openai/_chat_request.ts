// The messages and tools of a Chat Completions request, built from the provider-neutral context
// on every round.
import type { JsonObject } from "@meshagent/api";
import {
  type IndexedTool,
  type LLMToolChoice,
  safeToolName,
  type SessionItem,
  type ToolIndex,
} from "@meshagent/agents";
import { attachmentPart, type OpenAIPart, outputPart, partsText } from "./_content.ts";
import { forcedTool } from "./_responses_request.ts";

function userPart(part: OpenAIPart): JsonObject {
  switch (part.kind) {
    case "text":
      return { type: "text", text: part.text };
    case "image":
      return { type: "image_url", image_url: { url: part.url } };
    case "file":
      return { type: "file", file: { filename: part.name, file_data: part.dataUrl } };
  }
}

function flatName(tools: ToolIndex, toolkit: string, tool: string): string {
  return tools.resolve(toolkit ? safeToolName(toolkit) : null, safeToolName(tool))?.flatName ??
    safeToolName(tool);
}

type CallItem = Extract<SessionItem, { kind: "tool_call" }>;
type ResultItem = Extract<SessionItem, { kind: "tool_result" }>;

/**
 * The `messages`: the rules as one `system` message, user messages (text, or parts with
 * `image_url` / `file` for attachments), assistant messages, and for a run of tool calls one
 * assistant message with all the `tool_calls` (merged into the assistant text before it) followed
 * by one `role: "tool"` message per result (text; images and files as placeholders — tool
 * messages take text only). Reasoning items are not replayed. Calls without results and results
 * without calls are left out.
 *
 * @param rules The rules.
 * @param items The context items.
 * @param tools The tools (for the names calls are shown under).
 * @returns The messages.
 */
export function chatMessages(
  rules: readonly string[],
  items: readonly SessionItem[],
  tools: ToolIndex,
): JsonObject[] {
  const messages: JsonObject[] = [];
  const system = rules.filter((rule) => rule.trim() !== "").join("\n\n");
  if (system !== "") messages.push({ role: "system", content: system });
  const results = new Set(
    items.filter((i) => i.kind === "tool_result").map((i) => (i as ResultItem).callId),
  );
  const calls = new Set(
    items.filter((i) => i.kind === "tool_call").map((i) => (i as CallItem).callId),
  );
  let pending: JsonObject[] = [];
  let callMessage: { tool_calls: JsonObject[] } | null = null;
  const flush = () => {
    messages.push(...pending);
    pending = [];
    callMessage = null;
  };
  for (const item of items) {
    if (item.kind !== "tool_call" && item.kind !== "tool_result") flush();
    switch (item.kind) {
      case "user": {
        const parts = (item.attachments ?? []).map(attachmentPart);
        messages.push({
          role: "user",
          content: parts.length === 0 ? item.text : [
            ...(item.text !== "" ? [{ type: "text", text: item.text }] : []),
            ...parts.map(userPart),
          ],
        });
        break;
      }
      case "assistant":
        if (item.text !== "") messages.push({ role: "assistant", content: item.text });
        break;
      case "tool_call": {
        if (!results.has(item.callId)) break;
        if (!callMessage) {
          const last = messages.at(-1);
          const message: JsonObject & { tool_calls: JsonObject[] } =
            last?.role === "assistant" && last.tool_calls === undefined
              ? Object.assign(last, { tool_calls: [] })
              : { role: "assistant", content: null, tool_calls: [] };
          if (message !== last) messages.push(message);
          callMessage = message;
        }
        (callMessage as { tool_calls: JsonObject[] }).tool_calls.push({
          id: item.callId,
          type: "function",
          function: { name: flatName(tools, item.toolkit, item.tool), arguments: item.arguments },
        });
        break;
      }
      case "tool_result":
        if (!calls.has(item.callId)) break;
        pending.push({
          role: "tool",
          tool_call_id: item.callId,
          content: partsText(item.output.map(outputPart)),
        });
        break;
    }
  }
  flush();
  return messages;
}

/** How tools are described. */
export interface ChatToolOptions {
  /** Send each tool's description (the official adapter sends none). */
  descriptions: boolean;
  /** The `strict` flag (the official adapter: always true). */
  strict: boolean;
}

/**
 * The `tools`: flat function tools named by `flatName` (unique over all toolkits).
 *
 * @param tools The tools.
 * @param options Descriptions and strictness.
 * @returns The tools, or undefined when there are none.
 */
export function chatTools(
  tools: readonly IndexedTool[],
  options: ChatToolOptions,
): JsonObject[] | undefined {
  if (tools.length === 0) return undefined;
  return tools.map((entry) => {
    const schema: JsonObject = entry.tool.inputSchema ??
      { type: "object", properties: {}, additionalProperties: false };
    return {
      type: "function",
      function: {
        name: entry.flatName,
        ...(options.descriptions && entry.tool.description
          ? { description: entry.tool.description }
          : {}),
        parameters: entry.tool.defs ? { ...schema, $defs: entry.tool.defs } : schema,
        strict: options.strict,
      },
    };
  });
}

/**
 * The `tool_choice` of a round: `none` always; `required` and a named tool
 * (`{"type":"function","function":{"name":…}}`) on the first round only.
 *
 * @param tools The tools.
 * @param choice The request's choice.
 * @param round The round number.
 * @returns The value, or undefined.
 */
export function chatToolChoice(
  tools: ToolIndex,
  choice: LLMToolChoice | null | undefined,
  round: number,
): JsonObject | string | undefined {
  if (choice === "none") return "none";
  if (!choice || choice === "auto" || round > 1) return undefined;
  if (choice === "required") return "required";
  return { type: "function", function: { name: forcedTool(tools, choice).flatName } };
}
