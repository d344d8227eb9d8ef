import type { JsonObject } from "@meshagent/api";

/**
 * A part of a tool result a model can be shown: text, or an image or file inline (base64).
 * Providers that cannot take images or files in tool results get their text placeholder.
 */
export type ToolOutputPart =
  | { type: "text"; text: string }
  | { type: "image"; mimeType: string; data: string }
  | { type: "file"; mimeType: string; name: string; data: string };

/** An attachment of a user message (from a turn's `file` content), resolved or by URL. */
export interface SessionAttachment {
  /** Where it is (`room:///path`, `https://…`, `data:`). */
  url: string;
  /** A display name. */
  name?: string;
  /** Its MIME type, when known. */
  mimeType?: string;
  /** The bytes (base64), when the runtime resolved them for the model. */
  data?: string;
}

/**
 * One entry of a conversation, independent of the provider: each adapter turns these into its own
 * request shape on every model round, so a thread can be continued with another provider or model,
 * and rebuilt from stored agent messages.
 */
export type SessionItem =
  | {
    kind: "user";
    text: string;
    attachments?: SessionAttachment[];
    senderName?: string;
    turnId?: string;
  }
  | { kind: "assistant"; text: string; itemId?: string; turnId?: string }
  | {
    kind: "reasoning";
    text: string;
    itemId?: string;
    turnId?: string;
    /** Provider-specific opaque state (e.g. encrypted reasoning), replayed to that provider only. */
    provider?: string;
    state?: JsonObject;
  }
  | {
    kind: "tool_call";
    callId: string;
    /** The toolkit of the tool (empty for a toolkit-less tool). */
    toolkit: string;
    tool: string;
    /** The arguments as the model sent them (JSON text). */
    arguments: string;
    itemId?: string;
    turnId?: string;
  }
  | {
    kind: "tool_result";
    callId: string;
    /** What the model is shown. */
    output: ToolOutputPart[];
    /** True when the call failed (the output says why). */
    isError?: boolean;
    turnId?: string;
  };

/** Token counts of one response (summed over its model rounds). */
export interface LLMUsage {
  /** Prompt tokens. */
  input_tokens: number;
  /** Completion tokens. */
  output_tokens: number;
  /** Prompt tokens served from the provider's cache. */
  cached_input_tokens?: number;
  /** Reasoning tokens (part of output). */
  reasoning_tokens?: number;
}

/** Options of an {@linkcode AgentSessionContext}. */
export interface AgentSessionContextOptions {
  /** Rules (system instructions), in order. */
  rules?: readonly string[];
  /** Conversation items to start from. */
  items?: readonly SessionItem[];
  /** Free-form metadata. */
  metadata?: JsonObject;
}

/**
 * The LLM context of one thread: rules (system instructions), the conversation as
 * {@linkcode SessionItem}s, metadata and the usage so far. Adapters read it to build each request
 * and append what the model answered and what the tools returned.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AgentSessionContext } from "@meshagent/agents";
 * const context = new AgentSessionContext({ rules: ["Be brief."] });
 * context.appendUserMessage("hello", { senderName: "ada" });
 * context.appendAssistantMessage("hi ada");
 * assert.equal(context.items.length, 2);
 * assert.deepEqual(context.copy().rules, ["Be brief."]);
 * ```
 */
export class AgentSessionContext {
  /** The rules, in order. */
  rules: string[];
  /** The conversation. */
  readonly items: SessionItem[];
  /** Free-form metadata (adapters may keep provider state here, e.g. a previous response id). */
  metadata: JsonObject;
  /** Usage summed over every response of this context. */
  readonly usage: LLMUsage = { input_tokens: 0, output_tokens: 0 };

  /**
   * Creates the value.
   *
   * @param options Rules, items and metadata to start from.
   */
  constructor(options: AgentSessionContextOptions = {}) {
    this.rules = [...(options.rules ?? [])];
    this.items = [...(options.items ?? [])];
    this.metadata = { ...options.metadata };
  }

  /**
   * Replaces the rules.
   *
   * @param rules The new rules.
   */
  replaceRules(rules: readonly string[]): void {
    this.rules = [...rules];
  }

  /**
   * Adds rules after the current ones.
   *
   * @param rules The rules to add.
   */
  appendRules(rules: readonly string[]): void {
    this.rules.push(...rules);
  }

  /**
   * Appends a user message.
   *
   * @param text The text.
   * @param options Attachments, the sender's name and the turn.
   */
  appendUserMessage(
    text: string,
    options: { attachments?: SessionAttachment[]; senderName?: string; turnId?: string } = {},
  ): void {
    this.items.push({ kind: "user", text, ...options });
  }

  /**
   * Appends an assistant message.
   *
   * @param text The text.
   * @param options The item and turn it came from.
   */
  appendAssistantMessage(text: string, options: { itemId?: string; turnId?: string } = {}): void {
    this.items.push({ kind: "assistant", text, ...options });
  }

  /**
   * Appends any item.
   *
   * @param item The item.
   */
  append(item: SessionItem): void {
    this.items.push(item);
  }

  /**
   * Adds a response's usage to the totals.
   *
   * @param usage Token counts.
   */
  addUsage(usage: LLMUsage): void {
    this.usage.input_tokens += usage.input_tokens;
    this.usage.output_tokens += usage.output_tokens;
    if (usage.cached_input_tokens !== undefined) {
      this.usage.cached_input_tokens = (this.usage.cached_input_tokens ?? 0) +
        usage.cached_input_tokens;
    }
    if (usage.reasoning_tokens !== undefined) {
      this.usage.reasoning_tokens = (this.usage.reasoning_tokens ?? 0) + usage.reasoning_tokens;
    }
  }

  /**
   * A copy that can be changed without changing this one.
   *
   * @returns The copy.
   */
  copy(): AgentSessionContext {
    const copy = new AgentSessionContext({
      rules: this.rules,
      items: structuredClone(this.items),
      metadata: structuredClone(this.metadata),
    });
    copy.addUsage(this.usage);
    return copy;
  }

  /**
   * The context as JSON (for logs and debugging).
   *
   * @returns `{rules, items, metadata, usage}`.
   */
  toJson(): JsonObject {
    return {
      rules: this.rules,
      items: structuredClone(this.items) as unknown as JsonObject[],
      metadata: this.metadata,
      usage: { ...this.usage },
    };
  }
}
