// The body of a Responses API request, built from the provider-neutral context on every round.
import type { JsonObject } from "@meshagent/api";
import {
  asNativeTool,
  type IndexedTool,
  LLMError,
  type LLMToolChoice,
  safeToolName,
  type SessionItem,
  type ToolIndex,
} from "@meshagent/agents";
import { attachmentPart, type OpenAIPart, outputPart } from "./_content.ts";

/** What the conversion needs to know. */
export interface ResponsesInputContext {
  /** The adapter's provider name: only its reasoning items are replayed. */
  provider: string;
  /** The model of the request: encrypted reasoning is replayed to the model that made it. */
  model: string;
  /** The tools of the request (for the names calls are shown under). */
  tools: ToolIndex;
  /** Whether toolkits are namespace tools (else flat function tools). */
  namespaced: boolean;
  /** Keep tool calls that have no result yet (only to predict the server's state). */
  keepOpenCalls?: boolean;
}

/** The names a tool call is shown under. */
export function callNames(
  tools: ToolIndex,
  namespaced: boolean,
  toolkit: string,
  tool: string,
): { name: string; namespace?: string } {
  const entry = tools.resolve(toolkit ? safeToolName(toolkit) : null, safeToolName(tool));
  if (entry) {
    return namespaced ? { name: entry.name, namespace: entry.namespace } : { name: entry.flatName };
  }
  return namespaced && toolkit
    ? { name: safeToolName(tool), namespace: safeToolName(toolkit) }
    : { name: safeToolName(tool) };
}

function inputPart(part: OpenAIPart): JsonObject {
  switch (part.kind) {
    case "text":
      return { type: "input_text", text: part.text };
    case "image":
      return { type: "input_image", image_url: part.url, detail: "auto" };
    case "file":
      return { type: "input_file", filename: part.name, file_data: part.dataUrl };
  }
}

type CallItem = Extract<SessionItem, { kind: "tool_call" }>;
type ResultItem = Extract<SessionItem, { kind: "tool_result" }>;

/** The API name provider-native tools are asked about (`NativeTool`). */
export const RESPONSES_API = "openai.responses";

/** The native tool a call went to, if it went to one. */
function nativeEntry(tools: ToolIndex, call: CallItem) {
  const entry = tools.resolve(
    call.toolkit ? safeToolName(call.toolkit) : null,
    safeToolName(call.tool),
  );
  const native = entry ? asNativeTool(entry.tool, RESPONSES_API) : null;
  return native;
}

function parseItem(text: string): JsonObject | null {
  try {
    const item = JSON.parse(text);
    return item !== null && typeof item === "object" && !Array.isArray(item) ? item : null;
  } catch {
    return null;
  }
}

/**
 * The native items of the calls to provider-native tools, with their answers: call id →
 * `[call item, output item or null]`. A call without a result (or whose output the tool cannot
 * rebuild) maps to a null output.
 */
function nativeItems(
  items: readonly SessionItem[],
  tools: ToolIndex,
): Map<string, [JsonObject, JsonObject | null]> {
  const out = new Map<string, [JsonObject, JsonObject | null]>();
  const calls = new Map<string, [CallItem, ReturnType<typeof nativeEntry>]>();
  for (const item of items) {
    if (item.kind === "tool_call") {
      const native = nativeEntry(tools, item);
      if (native) calls.set(item.callId, [item, native]);
    } else if (item.kind === "tool_result") {
      const found = calls.get(item.callId);
      if (!found) continue;
      const call = parseItem(found[0].arguments);
      if (!call) continue;
      const output = item.isError ? null : found[1]!.nativeOutput(RESPONSES_API, call, item.output);
      out.set(item.callId, [call, output]);
    }
  }
  for (const [callId, [call]] of calls) {
    if (!out.has(callId)) {
      const item = parseItem(call.arguments);
      if (item) out.set(callId, [item, null]);
    }
  }
  return out;
}

/**
 * The `input` array: user messages (`input_text`, `input_image`, `input_file`), assistant
 * `output_text` messages, replayable reasoning, `function_call` and `function_call_output` items,
 * in context order. A call without a result, or a result without a call, is left out (the API
 * refuses both).
 *
 * @param items The context items.
 * @param context Provider, model, tools.
 * @returns The input items.
 */
export function responsesInput(
  items: readonly SessionItem[],
  context: ResponsesInputContext,
): JsonObject[] {
  const input: JsonObject[] = [];
  const results = new Set(
    items.filter((i) => i.kind === "tool_result").map((i) => (i as ResultItem).callId),
  );
  const calls = new Set(
    items.filter((i) => i.kind === "tool_call").map((i) => (i as CallItem).callId),
  );
  const natives = nativeItems(items, context.tools);
  for (const item of items) {
    switch (item.kind) {
      case "user": {
        const content: JsonObject[] = [];
        if (item.text !== "" || !item.attachments?.length) {
          content.push({ type: "input_text", text: item.text });
        }
        for (const attachment of item.attachments ?? []) {
          content.push(inputPart(attachmentPart(attachment)));
        }
        input.push({ type: "message", role: "user", content });
        break;
      }
      case "assistant":
        if (item.text === "") break;
        input.push({
          type: "message",
          role: "assistant",
          content: [{ type: "output_text", text: item.text, annotations: [] }],
        });
        break;
      case "reasoning": {
        const state = item.state;
        if (item.provider !== context.provider || typeof state?.encrypted_content !== "string") {
          break;
        }
        if (typeof state.model === "string" && state.model !== context.model) break;
        input.push({
          type: "reasoning",
          id: String(state.id ?? item.itemId ?? ""),
          summary: Array.isArray(state.summary)
            ? state.summary
            : item.text === ""
            ? []
            : [{ type: "summary_text", text: item.text }],
          encrypted_content: state.encrypted_content,
        });
        break;
      }
      case "tool_call": {
        const native = natives.get(item.callId);
        if (native) {
          // A provider-native call is sent back as the provider's item, with its answer; one that
          // has no answer (it failed, or the result cannot be rebuilt) is left out with it.
          if (native[1] !== null || (context.keepOpenCalls && !results.has(item.callId))) {
            input.push(native[0]);
          }
          break;
        }
        if (!results.has(item.callId) && !context.keepOpenCalls) break;
        input.push({
          type: "function_call",
          call_id: item.callId,
          ...callNames(context.tools, context.namespaced, item.toolkit, item.tool),
          arguments: item.arguments,
        });
        break;
      }
      case "tool_result": {
        if (!calls.has(item.callId)) break;
        const native = natives.get(item.callId);
        if (native) {
          if (native[1] !== null) input.push(native[1]);
          break;
        }
        const parts = item.output.map(outputPart);
        const output: unknown = parts.every((part) => part.kind === "text")
          ? parts.map((part) => (part as { text: string }).text).join("\n")
          : parts.map(inputPart);
        input.push({ type: "function_call_output", call_id: item.callId, output });
        break;
      }
    }
  }
  return input;
}

function functionTool(entry: IndexedTool, name: string): JsonObject {
  const schema: JsonObject = entry.tool.inputSchema ??
    { type: "object", properties: {}, additionalProperties: false };
  return {
    type: "function",
    name,
    description: entry.tool.description,
    parameters: entry.tool.defs ? { ...schema, $defs: entry.tool.defs } : schema,
    // [impl] strict only when the tool says so: strict mode rejects schemas that do not follow
    // its rules, and an unmarked tool may not.
    strict: entry.tool.strict === true,
  };
}

/**
 * The `tools` array: one `namespace` tool per toolkit (its function tools inside), or flat
 * function tools named by `flatName`.
 *
 * @param tools The tools (or just the forced one).
 * @param namespaced Whether to group by toolkit.
 * @returns The tools, or undefined when there are none.
 */
export function responsesTools(
  tools: readonly IndexedTool[],
  namespaced: boolean,
): JsonObject[] | undefined {
  if (tools.length === 0) return undefined;
  // Provider-native tools (`NativeTool`) send their own definitions, at the top level.
  const native: JsonObject[] = [];
  const functions: IndexedTool[] = [];
  for (const entry of tools) {
    const definitions = asNativeTool(entry.tool, RESPONSES_API)?.nativeDefinitions(RESPONSES_API);
    if (definitions) native.push(...definitions);
    else functions.push(entry);
  }
  if (!namespaced) {
    return [...native, ...functions.map((entry) => functionTool(entry, entry.flatName))];
  }
  const groups = new Map<string, IndexedTool[]>();
  for (const entry of functions) {
    const group = groups.get(entry.namespace) ?? [];
    group.push(entry);
    groups.set(entry.namespace, group);
  }
  return [
    ...native,
    ...[...groups].map(([namespace, entries]) => {
      const toolkit = entries[0].toolkit;
      return {
        type: "namespace",
        name: namespace,
        description: toolkit.description || toolkit.title || toolkit.name,
        tools: entries.map((entry) => functionTool(entry, entry.name)),
      };
    }),
  ];
}

/**
 * Finds the tool a `tool_choice` names.
 *
 * @param tools The tools.
 * @param choice The choice.
 * @returns The tool.
 * @throws {LLMError} (code `invalid_request`) When no offered tool has that name.
 */
export function forcedTool(
  tools: ToolIndex,
  choice: { toolkit?: string; tool: string },
): IndexedTool {
  const found = tools.tools.find((entry) =>
    entry.tool.name === choice.tool && (!choice.toolkit || entry.toolkit.name === choice.toolkit)
  );
  if (!found) {
    throw new LLMError(
      `tool_choice names ${
        choice.toolkit ? `${choice.toolkit}/` : ""
      }${choice.tool}, which is not ` +
        `one of the tools of this turn`,
      "invalid_request",
    );
  }
  return found;
}

/**
 * The tools and `tool_choice` of a round. [impl] `required` and a named tool force the first
 * round only (forcing every round would never let the model answer); a named tool is forced by
 * offering only that tool with `tool_choice: "required"`, which says "this tool" the same way
 * for namespaced and flat tools. `none` holds for every round.
 *
 * @param tools All tools.
 * @param choice The request's choice.
 * @param round The round number (1 first).
 * @returns The tools to offer and the `tool_choice`, if any.
 */
export function roundTools(
  tools: ToolIndex,
  choice: LLMToolChoice | null | undefined,
  round: number,
): { tools: readonly IndexedTool[]; choice?: "none" | "required" } {
  if (choice === "none") return { tools: tools.tools, choice: "none" };
  if (!choice || choice === "auto" || round > 1) return { tools: tools.tools };
  if (choice === "required") return { tools: tools.tools, choice: "required" };
  return { tools: [forcedTool(tools, choice)], choice: "required" };
}

/**
 * The instructions: the rules, one paragraph each.
 *
 * @param rules The rules.
 * @returns The text, or undefined when there are none.
 */
export function instructions(rules: readonly string[]): string | undefined {
  const text = rules.filter((rule) => rule.trim() !== "").join("\n\n");
  return text === "" ? undefined : text;
}
