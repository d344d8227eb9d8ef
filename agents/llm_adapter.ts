import type { JsonObject, RoomClient } from "@meshagent/api";
import type { Tool, Toolkit, ToolParticipant } from "@meshagent/tools";
import type { AgentSessionContext, LLMUsage, SessionItem } from "./agent_session_context.ts";

/** What a provider says about one of its models (`models.response`, `--model` checks). */
export interface LLMModelInfo {
  /** The model id sent to the provider. */
  name: string;
  /** A display name. */
  friendly_name?: string;
  /** A description. */
  description?: string;
  /** Context window in tokens. */
  context_window?: number;
  /** Input/output modalities (default `["text"]`). */
  modalities?: string[];
  /** Whether turns may carry file attachments. */
  supports_attachments?: boolean;
  /** Pricing, as the provider states it. */
  pricing?: JsonObject;
}

/** A tool call that waits for a person's approval (`tool_call.approval_requested`). */
export interface ToolCallApprovalRequest {
  /** The tool call's item id. */
  item_id: string;
  /** The provider's call id. */
  call_id?: string;
  /** The toolkit. */
  toolkit: string;
  /** The tool. */
  tool: string;
  /** The arguments the model sent. */
  arguments?: JsonObject;
}

/**
 * One event of a response as an agent message without its envelope: `type` is the short type
 * (`text_content.delta`, `tool_call.started`, `thread.event`, …) and the other fields are that
 * type's fields except `thread_id`, `turn_id`, `provider`, `model` and the ids the process adds.
 */
export interface AgentEvent {
  /** The short agent message type. */
  type: string;
  /** The type's fields. */
  [field: string]: unknown;
}

/** Receives the events of a response as they happen. */
export type AgentEventSink = (event: AgentEvent) => void;

/** Which tool the model must call (`TurnStart.tool_choice`), or `auto` / `none` / `required`. */
export type LLMToolChoice = "auto" | "none" | "required" | { toolkit?: string; tool: string };

/** Everything one response needs. */
export interface LLMResponseRequest {
  /** The thread's context: rules and conversation. The response appends to it. */
  context: AgentSessionContext;
  /** The agent (the participant whose tools run). */
  caller: ToolParticipant;
  /** The person the agent acts for. */
  onBehalfOf?: ToolParticipant | null;
  /** The tools the model may call. */
  toolkits: readonly Toolkit[];
  /** The model (default: the adapter's default). */
  model?: string;
  /** A JSON schema the final answer must follow (structured output). */
  outputSchema?: JsonObject | null;
  /** Which tool the model must call. */
  toolChoice?: LLMToolChoice | null;
  /** Receives the response's events. */
  onEvent?: AgentEventSink;
  /**
   * Called between model rounds: returns user items to add (steering) or an empty list. The turn
   * goes on with them.
   */
  steering?: () => Promise<SessionItem[]>;
  /** Whether a tool call needs a person's approval first (default: none does). */
  requiresApproval?: (toolkit: string, tool: string) => boolean;
  /** Asks for approval; false rejects the call (the model is told). */
  approve?: (request: ToolCallApprovalRequest) => Promise<boolean>;
  /** The room the tools run in. */
  room?: RoomClient | null;
  /** Stops the response (an interrupt): the adapter aborts its request and throws. */
  signal?: AbortSignal;
  /** Provider-specific options (`reasoning`, `temperature`, …). */
  options?: JsonObject;
}

/** What a response produced. */
export interface LLMResponse {
  /** The final answer's text (its last model round). */
  text: string;
  /** The final answer parsed as JSON, when an output schema was given. */
  json?: unknown;
  /** Token counts over all model rounds. */
  usage: LLMUsage;
  /** The model that answered. */
  model: string;
}

/**
 * A model provider as the agent runtime uses it: its models, a fresh context, and one response —
 * the whole tool loop, streaming its events.
 */
export interface LLMAdapter {
  /** The provider name (`openai`, `anthropic`, …): `TurnStart.provider` selects by it. */
  readonly provider: string;
  /** A display name. */
  readonly friendlyName: string;
  /**
   * True when any model name may be asked for (the provider decides); false when only
   * {@linkcode listModels} are (`turn.start` with another is rejected with `unknown_model`).
   */
  readonly acceptsAnyModel?: boolean;
  /** The model used when a turn names none. */
  defaultModel(): string;
  /** The models this adapter offers (`models.response`). */
  listModels(): Promise<LLMModelInfo[]>;
  /**
   * A fresh context for a thread.
   *
   * @param rules Rules (system instructions).
   */
  createSession(rules?: readonly string[]): AgentSessionContext;
  /**
   * Runs one response: model rounds and tool calls until the model answers without calling a
   * tool, streaming events to `request.onEvent` and appending to `request.context`.
   *
   * @throws {LLMError} When the provider fails (after retries), or `signal` aborted it.
   */
  createResponse(request: LLMResponseRequest): Promise<LLMResponse>;
}

/** A named adapter (several providers in one agent). */
export interface LLMProvider {
  /** The provider name. */
  name: string;
  /** Its adapter. */
  adapter: LLMAdapter;
}

/** Thrown by adapters: a provider error, after retries, or an interrupted response. */
export class LLMError extends Error {
  /** The HTTP status, when the provider answered one. */
  readonly status?: number;
  /** A stable code (`interrupted`, `rate_limited`, `provider_error`, `invalid_response`, …). */
  readonly code: string;

  /**
   * Creates the value.
   *
   * @param message What went wrong, for a person.
   * @param code A stable code.
   * @param status The provider's HTTP status.
   */
  constructor(message: string, code = "provider_error", status?: number) {
    super(message);
    this.name = "LLMError";
    this.code = code;
    if (status !== undefined) this.status = status;
  }
}

/**
 * A provider-safe tool name: characters outside `[a-zA-Z0-9_-]` become `_` (as the official
 * adapters do), cut to 64 characters.
 *
 * @param name A tool or toolkit name.
 * @returns The safe name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { safeToolName } from "@meshagent/agents";
 * assert.equal(safeToolName("meshagent.document.open"), "meshagent_document_open");
 * ```
 */
export function safeToolName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64);
}

/** One tool the model may call, with the names a provider sees. */
export interface IndexedTool {
  /** Its toolkit. */
  toolkit: Toolkit;
  /** The tool. */
  tool: Tool;
  /** The provider-safe toolkit name (the namespace, for providers that group). */
  namespace: string;
  /** The provider-safe tool name within its namespace. */
  name: string;
  /** A provider-safe name unique over all toolkits (for providers with flat tool lists). */
  flatName: string;
}

/**
 * The tools of a response, by the names providers use: namespaced (`namespace` + `name`, the
 * Responses API's grouping) or flat (`flatName`: the tool name, or `<toolkit>__<tool>` where two
 * toolkits share a tool name).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FunctionTool, Toolkit } from "@meshagent/tools";
 * import { ToolIndex } from "@meshagent/agents";
 * const tool = (name: string) =>
 *   new FunctionTool({ name, inputSchema: { type: "object", properties: {} }, run: () => "ok" });
 * const index = new ToolIndex([
 *   new Toolkit({ name: "math", tools: [tool("add")] }),
 *   new Toolkit({ name: "calc", tools: [tool("add")] }),
 * ]);
 * assert.deepEqual(index.tools.map((t) => t.flatName), ["math__add", "calc__add"]);
 * assert.equal(index.byFlatName("calc__add")?.toolkit.name, "calc");
 * ```
 */
export class ToolIndex {
  /** Every tool, in toolkit order. */
  readonly tools: readonly IndexedTool[];
  readonly #flat = new Map<string, IndexedTool>();
  readonly #qualified = new Map<string, IndexedTool>();

  /**
   * Creates the value.
   *
   * @param toolkits The toolkits of the response.
   */
  constructor(toolkits: readonly Toolkit[]) {
    const counts = new Map<string, number>();
    for (const toolkit of toolkits) {
      for (const tool of toolkit.tools) {
        const name = safeToolName(tool.name);
        counts.set(name, (counts.get(name) ?? 0) + 1);
      }
    }
    const tools: IndexedTool[] = [];
    for (const toolkit of toolkits) {
      const namespace = safeToolName(toolkit.name);
      for (const tool of toolkit.tools) {
        const name = safeToolName(tool.name);
        const flatName = (counts.get(name) ?? 0) > 1 ? safeToolName(`${namespace}__${name}`) : name;
        const entry: IndexedTool = { toolkit, tool, namespace, name, flatName };
        if (this.#qualified.has(`${namespace}\u0000${name}`)) continue; // a toolkit given twice
        tools.push(entry);
        this.#flat.set(flatName, entry);
        this.#qualified.set(`${namespace}\u0000${name}`, entry);
      }
    }
    this.tools = tools;
  }

  /**
   * Finds a tool by its flat name.
   *
   * @param name The flat name the model called.
   * @returns The tool, or undefined.
   */
  byFlatName(name: string): IndexedTool | undefined {
    return this.#flat.get(name);
  }

  /**
   * Finds a tool by namespace and name; without a namespace (or when that fails) by flat name.
   *
   * @param namespace The namespace the model called, if any.
   * @param name The tool name the model called.
   * @returns The tool, or undefined.
   */
  resolve(namespace: string | null | undefined, name: string): IndexedTool | undefined {
    if (namespace) {
      const found = this.#qualified.get(`${namespace}\u0000${name}`);
      if (found) return found;
    }
    return this.#flat.get(name);
  }
}
