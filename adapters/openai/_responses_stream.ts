// Reads the events of one Responses API stream (SSE or websocket): emits text, reasoning and
// tool-call deltas as agent events and collects the round's items, calls and usage.
import type { JsonObject } from "@meshagent/api";
import {
  asNativeTool,
  type IndexedTool,
  type LLMRound,
  type LLMRoundResult,
  type LLMToolCall,
  type LLMUsage,
  type SessionItem,
} from "@meshagent/agents";
import { OpenAIIncompleteStreamError, OpenAIStreamError } from "./_errors.ts";
import { RESPONSES_API } from "./_responses_request.ts";

type Output =
  | { type: "message"; id: string; text: string; started: boolean; ended: boolean }
  | {
    type: "reasoning";
    id: string;
    text: string;
    part: number;
    started: boolean;
    ended: boolean;
    item?: JsonObject;
  }
  | {
    type: "function_call";
    id: string;
    callId: string;
    name: string;
    namespace?: string;
    arguments: string;
    done: boolean;
  }
  | { type: "native"; id: string; entry: IndexedTool; item: JsonObject };

/** One event as the reader sees it (the SDK's typed events, loosely). */
// deno-lint-ignore no-explicit-any
type StreamEvent = { type: string; [field: string]: any };

/** Collects one Responses stream. */
export class ResponsesStreamReader {
  readonly #round: LLMRound;
  readonly #provider: string;
  readonly #outputs: Output[] = [];
  readonly #byId = new Map<string, Output>();
  /** Output item types answered by provider-native tools (`computer_call` → the computer tool). */
  readonly #native = new Map<string, IndexedTool>();
  #usage: LLMUsage | undefined;
  #responseId: string | undefined;
  #finished = false;

  /**
   * @param round The round (its emit and tools).
   * @param provider The provider name put on reasoning items.
   */
  constructor(round: LLMRound, provider: string) {
    this.#round = round;
    this.#provider = provider;
    for (const entry of round.tools.tools) {
      const native = asNativeTool(entry.tool, RESPONSES_API);
      for (const type of native?.nativeCallTypes(RESPONSES_API) ?? []) {
        if (!this.#native.has(type)) this.#native.set(type, entry);
      }
    }
  }

  /** A provider-native call item (added or done). */
  #nativeItem(id: string, entry: IndexedTool, item: JsonObject) {
    const known = this.#byId.get(id);
    if (known?.type === "native") {
      known.item = item;
      return;
    }
    this.#byId.set(id, { type: "native", id, entry, item });
    this.#outputs.push(this.#byId.get(id)!);
    this.#round.emit({
      type: "tool_call.pending",
      item_id: id,
      call_id: String(item.call_id ?? id),
      namespace: "meshagent",
      toolkit: entry.toolkit.name,
      tool: entry.tool.name,
    });
  }

  /** True once `response.completed` (or `incomplete`) arrived. */
  get finished(): boolean {
    return this.#finished;
  }

  /** The response id, once known. */
  get responseId(): string | undefined {
    return this.#responseId;
  }

  #output<T extends Output["type"]>(
    _type: T,
    id: string,
    init: () => Extract<Output, { type: T }>,
  ) {
    let output = this.#byId.get(id);
    if (!output) {
      output = init();
      this.#byId.set(id, output);
      this.#outputs.push(output);
    }
    return output as Extract<Output, { type: T }>;
  }

  #message(id: string) {
    return this.#output(
      "message",
      id,
      () => ({ type: "message", id, text: "", started: false, ended: false }),
    );
  }

  #reasoning(id: string) {
    return this.#output("reasoning", id, () => ({
      type: "reasoning",
      id,
      text: "",
      part: -1,
      started: false,
      ended: false,
    }));
  }

  #call(id: string, item?: StreamEvent) {
    return this.#output("function_call", id, () => ({
      type: "function_call",
      id,
      callId: String(item?.call_id ?? id),
      name: String(item?.name ?? ""),
      ...(typeof item?.namespace === "string" && item.namespace
        ? { namespace: item.namespace }
        : {}),
      arguments: "",
      done: false,
    }));
  }

  #textDelta(id: string, delta: string) {
    const message = this.#message(id);
    if (message.ended || delta === "") return;
    if (!message.started) {
      message.started = true;
      this.#round.emit({ type: "text_content.started", item_id: id });
    }
    message.text += delta;
    this.#round.emit({ type: "text_content.delta", item_id: id, text: delta });
  }

  #reasoningDelta(id: string, part: number, delta: string) {
    const reasoning = this.#reasoning(id);
    if (reasoning.ended || delta === "") return;
    if (!reasoning.started) {
      reasoning.started = true;
      this.#round.emit({ type: "reasoning_content.started", item_id: id });
    }
    let text = delta;
    if (reasoning.part !== -1 && part !== reasoning.part) text = `\n\n${delta}`;
    reasoning.part = part;
    reasoning.text += text;
    this.#round.emit({ type: "reasoning_content.delta", item_id: id, text });
  }

  #endMessage(id: string, text?: string) {
    const message = this.#message(id);
    if (message.ended) return;
    if (text !== undefined && text.length > message.text.length && text.startsWith(message.text)) {
      // A server that sent the text only in `output_item.done`.
      this.#textDelta(id, text.slice(message.text.length));
    }
    message.ended = true;
    if (message.started) {
      this.#round.emit({ type: "text_content.ended", item_id: id, text: message.text });
    }
  }

  #endReasoning(id: string, item?: JsonObject) {
    const reasoning = this.#reasoning(id);
    if (reasoning.ended) return;
    if (item) {
      reasoning.item = item;
      const summary = Array.isArray(item.summary)
        ? (item.summary as JsonObject[]).map((s) => String(s.text ?? "")).filter((s) => s !== "")
          .join("\n\n")
        : "";
      if (summary.length > reasoning.text.length && summary.startsWith(reasoning.text)) {
        this.#reasoningDelta(
          id,
          reasoning.part === -1 ? 0 : reasoning.part,
          summary.slice(reasoning.text.length),
        );
      }
    }
    reasoning.ended = true;
    if (reasoning.started) {
      this.#round.emit({ type: "reasoning_content.ended", item_id: id, text: reasoning.text });
    }
  }

  #pending(call: Extract<Output, { type: "function_call" }>) {
    const entry = this.#round.tools.resolve(call.namespace, call.name);
    this.#round.emit({
      type: "tool_call.pending",
      item_id: call.id,
      call_id: call.callId,
      namespace: "meshagent",
      toolkit: entry?.toolkit.name ?? call.namespace ?? "",
      tool: entry?.tool.name ?? call.name,
    });
  }

  /**
   * Handles one event.
   *
   * @param event The event.
   * @throws {OpenAIStreamError} For `response.failed` and `error` events.
   */
  handle(event: StreamEvent): void {
    switch (event.type) {
      case "response.created":
      case "response.in_progress":
        this.#responseId ??= event.response?.id;
        break;
      case "response.output_item.added": {
        const item = event.item ?? {};
        const id = String(item.id ?? `item_${event.output_index}`);
        const native = this.#native.get(String(item.type));
        if (native) this.#nativeItem(id, native, item);
        else if (item.type === "message") this.#message(id);
        else if (item.type === "reasoning") this.#reasoning(id);
        else if (item.type === "function_call") {
          const call = this.#call(id, item);
          if (call.name) this.#pending(call);
        }
        break;
      }
      case "response.output_text.delta":
      case "response.refusal.delta":
        this.#textDelta(String(event.item_id), String(event.delta ?? ""));
        break;
      case "response.reasoning_summary_text.delta":
        this.#reasoningDelta(
          String(event.item_id),
          Number(event.summary_index ?? 0),
          String(event.delta ?? ""),
        );
        break;
      case "response.reasoning_text.delta":
        this.#reasoningDelta(
          String(event.item_id),
          Number(event.content_index ?? 0),
          String(event.delta ?? ""),
        );
        break;
      case "response.function_call_arguments.delta": {
        const call = this.#call(String(event.item_id));
        const delta = String(event.delta ?? "");
        if (call.done || delta === "") break;
        call.arguments += delta;
        this.#round.emit({ type: "tool_call.arguments_delta", item_id: call.id, delta });
        break;
      }
      case "response.function_call_arguments.done": {
        const call = this.#call(String(event.item_id));
        if (typeof event.arguments === "string") call.arguments = event.arguments;
        break;
      }
      case "response.output_item.done": {
        const item = event.item ?? {};
        const id = String(item.id ?? `item_${event.output_index}`);
        const native = this.#native.get(String(item.type));
        if (native) {
          this.#nativeItem(id, native, item);
        } else if (item.type === "message") {
          const text = Array.isArray(item.content)
            ? (item.content as JsonObject[]).map((c) => String(c.text ?? c.refusal ?? "")).join("")
            : undefined;
          this.#endMessage(id, text);
        } else if (item.type === "reasoning") {
          this.#endReasoning(id, item);
        } else if (item.type === "function_call") {
          const known = this.#byId.has(id);
          const call = this.#call(id, item);
          call.callId = String(item.call_id ?? call.callId);
          if (item.name) call.name = String(item.name);
          if (typeof item.namespace === "string" && item.namespace) call.namespace = item.namespace;
          if (typeof item.arguments === "string") call.arguments = item.arguments;
          if (!known) this.#pending(call);
          call.done = true;
        }
        break;
      }
      case "response.completed":
      case "response.incomplete":
        this.#responseId ??= event.response?.id;
        this.#usage = usageOf(event.response?.usage);
        this.#finished = true;
        break;
      case "response.failed": {
        const error = event.response?.error ?? {};
        throw new OpenAIStreamError(
          String(error.message ?? "the response failed"),
          typeof error.code === "string" ? error.code : null,
        );
      }
      case "error": {
        // The websocket mode's error event (`{status, error: {…}}`), or a bare `{code, message}`.
        const error = event.error && typeof event.error === "object" ? event.error : event;
        throw new OpenAIStreamError(
          String(error.message ?? "the server reported an error"),
          typeof error.code === "string"
            ? error.code
            : typeof error.type === "string"
            ? error.type
            : null,
          typeof event.status === "number" ? event.status : undefined,
          error.headers && typeof error.headers === "object" ? error.headers : {},
        );
      }
    }
  }

  /**
   * The round's result: items in output order, the calls, the usage.
   *
   * @returns The result.
   * @throws {OpenAIIncompleteStreamError} When the stream ended before the response completed.
   */
  result(): LLMRoundResult {
    if (!this.#finished) {
      throw new OpenAIIncompleteStreamError("the stream ended before the response completed");
    }
    const items: SessionItem[] = [];
    const toolCalls: LLMToolCall[] = [];
    for (const output of this.#outputs) {
      if (output.type === "message") {
        this.#endMessage(output.id);
        if (output.text !== "") {
          items.push({ kind: "assistant", text: output.text, itemId: output.id });
        }
      } else if (output.type === "reasoning") {
        this.#endReasoning(output.id);
        const encrypted = output.item?.encrypted_content;
        if (output.text === "" && typeof encrypted !== "string") continue;
        items.push({
          kind: "reasoning",
          text: output.text,
          itemId: output.id,
          provider: this.#provider,
          state: {
            id: output.id,
            model: this.#round.model,
            ...(Array.isArray(output.item?.summary) ? { summary: output.item.summary } : {}),
            ...(typeof encrypted === "string" ? { encrypted_content: encrypted } : {}),
          },
        });
      } else if (output.type === "native") {
        toolCalls.push({
          callId: String(output.item.call_id ?? output.id),
          itemId: output.id,
          namespace: output.entry.namespace,
          name: output.entry.name,
          arguments: JSON.stringify(output.item),
          native: true,
        });
      } else if (output.name !== "") {
        toolCalls.push({
          callId: output.callId,
          itemId: output.id,
          namespace: output.namespace ?? null,
          name: output.name,
          arguments: output.arguments,
        });
      }
    }
    return { items, toolCalls, ...(this.#usage ? { usage: this.#usage } : {}) };
  }
}

/**
 * Token counts from a Responses `usage` object.
 *
 * @param usage The object.
 * @returns The counts, or undefined.
 */
export function usageOf(usage: JsonObject | null | undefined): LLMUsage | undefined {
  if (!usage || typeof usage !== "object") return undefined;
  const cached = (usage.input_tokens_details as JsonObject | undefined)?.cached_tokens;
  const reasoning = (usage.output_tokens_details as JsonObject | undefined)?.reasoning_tokens;
  return {
    input_tokens: Number(usage.input_tokens ?? 0),
    output_tokens: Number(usage.output_tokens ?? 0),
    ...(typeof cached === "number" ? { cached_input_tokens: cached } : {}),
    ...(typeof reasoning === "number" ? { reasoning_tokens: reasoning } : {}),
  };
}
