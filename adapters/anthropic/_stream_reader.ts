// One streamed Messages API response → events, session items, tool calls, usage, stop reason.
import type { JsonObject } from "@meshagent/api";
import type {
  AgentEvent,
  IndexedTool,
  LLMToolCall,
  LLMUsage,
  SessionItem,
} from "@meshagent/agents";
import { ANTHROPIC_STATE } from "./_messages.ts";

type Open =
  | { kind: "text"; itemId: string; text: string }
  | { kind: "thinking"; itemId: string; text: string; signature: string }
  | { kind: "tool"; id: string; name: string; json: string; input: unknown }
  | { kind: "block"; block: Record<string, unknown>; json: string };

/** What one response said. */
export interface ReadResult {
  items: SessionItem[];
  toolCalls: LLMToolCall[];
  usage: LLMUsage;
  /** The raw usage (`message_start` usage updated by `message_delta`). */
  rawUsage: JsonObject;
  stopReason: string | null;
  /** True when `message_stop` arrived (a stream cut short lacks it). */
  complete: boolean;
}

// deno-lint-ignore no-explicit-any
type StreamEvent = any;

/**
 * Folds the SSE events of one response, emitting `text_content.*`, `reasoning_content.*` and
 * `tool_call.pending` / `tool_call.arguments_delta` events as they arrive.
 */
export class StreamReader {
  readonly #emit: (event: AgentEvent) => void;
  readonly #resolve: (name: string) => IndexedTool | undefined;
  readonly #blocks: (Open | undefined)[] = [];
  #messageId = "";
  #usage: Record<string, unknown> = {};
  #stopReason: string | null = null;
  #complete = false;

  constructor(
    emit: (event: AgentEvent) => void,
    resolve: (name: string) => IndexedTool | undefined,
  ) {
    this.#emit = emit;
    this.#resolve = resolve;
  }

  /** Takes one event. */
  read(event: StreamEvent): void {
    switch (event.type) {
      case "message_start":
        this.#messageId = String(event.message?.id ?? crypto.randomUUID());
        this.#usage = { ...event.message?.usage };
        break;
      case "content_block_start":
        this.#start(event.index, event.content_block ?? {});
        break;
      case "content_block_delta":
        this.#delta(event.index, event.delta ?? {});
        break;
      case "content_block_stop":
        this.#stop(event.index);
        break;
      case "message_delta":
        this.#stopReason = event.delta?.stop_reason ?? this.#stopReason;
        for (const [key, value] of Object.entries(event.usage ?? {})) {
          if (value !== null && value !== undefined) this.#usage[key] = value;
        }
        break;
      case "message_stop":
        this.#complete = true;
        break;
    }
  }

  #start(index: number, block: Record<string, unknown>): void {
    const itemId = `${this.#messageId}:${index}`;
    switch (block.type) {
      case "text": {
        const text = typeof block.text === "string" ? block.text : "";
        this.#blocks[index] = { kind: "text", itemId, text };
        this.#emit({ type: "text_content.started", item_id: itemId });
        if (text) this.#emit({ type: "text_content.delta", item_id: itemId, text });
        break;
      }
      case "thinking": {
        const text = typeof block.thinking === "string" ? block.thinking : "";
        const signature = typeof block.signature === "string" ? block.signature : "";
        this.#blocks[index] = { kind: "thinking", itemId, text, signature };
        this.#emit({ type: "reasoning_content.started", item_id: itemId });
        if (text) this.#emit({ type: "reasoning_content.delta", item_id: itemId, text });
        break;
      }
      case "tool_use": {
        const id = String(block.id);
        const name = String(block.name);
        this.#blocks[index] = { kind: "tool", id, name, json: "", input: block.input };
        const entry = this.#resolve(name);
        this.#emit({
          type: "tool_call.pending",
          item_id: id,
          call_id: id,
          namespace: "meshagent",
          toolkit: entry?.toolkit.name ?? "",
          tool: entry?.tool.name ?? name,
        });
        break;
      }
      default:
        // redacted_thinking, server_tool_use, web_search_tool_result, …: replayed as they came.
        this.#blocks[index] = { kind: "block", block: { ...block }, json: "" };
    }
  }

  #delta(index: number, delta: Record<string, unknown>): void {
    const open = this.#blocks[index];
    if (!open) return;
    switch (delta.type) {
      case "text_delta":
        if (open.kind !== "text" || typeof delta.text !== "string") return;
        open.text += delta.text;
        this.#emit({ type: "text_content.delta", item_id: open.itemId, text: delta.text });
        break;
      case "thinking_delta":
        if (open.kind !== "thinking" || typeof delta.thinking !== "string") return;
        open.text += delta.thinking;
        this.#emit({ type: "reasoning_content.delta", item_id: open.itemId, text: delta.thinking });
        break;
      case "signature_delta":
        if (open.kind === "thinking" && typeof delta.signature === "string") {
          open.signature += delta.signature;
        }
        break;
      case "input_json_delta":
        if (typeof delta.partial_json !== "string") return;
        if (open.kind === "tool") {
          open.json += delta.partial_json;
          this.#emit({
            type: "tool_call.arguments_delta",
            item_id: open.id,
            delta: delta.partial_json,
          });
        } else if (open.kind === "block") {
          open.json += delta.partial_json;
        }
        break;
    }
  }

  #stop(index: number): void {
    const open = this.#blocks[index];
    if (open?.kind === "text") {
      this.#emit({ type: "text_content.ended", item_id: open.itemId, text: open.text });
    } else if (open?.kind === "thinking") {
      this.#emit({ type: "reasoning_content.ended", item_id: open.itemId, text: open.text });
    }
  }

  /** The response's items and tool calls, in block order. */
  result(): ReadResult {
    const items: SessionItem[] = [];
    const toolCalls: LLMToolCall[] = [];
    for (const open of this.#blocks) {
      if (!open) continue;
      switch (open.kind) {
        case "text":
          if (open.text !== "") {
            items.push({ kind: "assistant", text: open.text, itemId: open.itemId });
          }
          break;
        case "thinking":
          items.push({
            kind: "reasoning",
            text: open.text,
            itemId: open.itemId,
            provider: ANTHROPIC_STATE,
            state: { type: "thinking", signature: open.signature },
          });
          break;
        case "tool": {
          const input = open.input !== null && typeof open.input === "object" &&
              Object.keys(open.input).length > 0
            ? JSON.stringify(open.input)
            : "{}";
          toolCalls.push({
            callId: open.id,
            itemId: open.id,
            name: open.name,
            arguments: open.json !== "" ? open.json : input,
          });
          break;
        }
        case "block": {
          const block = open.block;
          if (open.json !== "") {
            try {
              block.input = JSON.parse(open.json);
            } catch {
              // Kept as it started: the API will say what is wrong with it.
            }
          }
          items.push(
            block.type === "redacted_thinking"
              ? {
                kind: "reasoning",
                text: "",
                provider: ANTHROPIC_STATE,
                state: { type: "redacted_thinking", data: String(block.data ?? "") },
              }
              : {
                kind: "reasoning",
                text: "",
                provider: ANTHROPIC_STATE,
                state: { type: "block", block: block as JsonObject },
              },
          );
          break;
        }
      }
    }
    const usage = this.#usage;
    const number = (key: string) => typeof usage[key] === "number" ? usage[key] as number : 0;
    const details = usage.output_tokens_details as { thinking_tokens?: unknown } | null | undefined;
    // [impl] input_tokens counts the whole prompt, cached parts included (as OpenAI counts it),
    // so totals compare across providers; Anthropic's own input_tokens excludes them.
    const total: LLMUsage = {
      input_tokens: number("input_tokens") + number("cache_creation_input_tokens") +
        number("cache_read_input_tokens"),
      output_tokens: number("output_tokens"),
    };
    if (typeof usage.cache_read_input_tokens === "number") {
      total.cached_input_tokens = usage.cache_read_input_tokens;
    }
    if (typeof details?.thinking_tokens === "number") {
      total.reasoning_tokens = details.thinking_tokens;
    }
    return {
      items,
      toolCalls,
      usage: total,
      rawUsage: structuredClone(usage) as JsonObject,
      stopReason: this.#stopReason,
      complete: this.#complete,
    };
  }
}
