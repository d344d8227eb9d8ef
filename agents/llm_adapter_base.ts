import {
  BaseContent,
  type Content,
  EmptyContent,
  ErrorContent,
  type JsonObject,
  TextContent,
} from "@meshagent/api";
import { ToolContext } from "@meshagent/tools";
import {
  AgentSessionContext,
  type LLMUsage,
  type SessionItem,
  type ToolOutputPart,
} from "./agent_session_context.ts";
import {
  type AgentEvent,
  type IndexedTool,
  type LLMAdapter,
  LLMError,
  type LLMModelInfo,
  type LLMResponse,
  type LLMResponseRequest,
  ToolIndex,
} from "./llm_adapter.ts";
import { ToolResponseAdapter } from "./tool_response_adapter.ts";

/** One model round, as {@linkcode LLMAdapterBase.round} gets it. */
export interface LLMRound {
  /** The response request. */
  request: LLMResponseRequest;
  /** The model to call. */
  model: string;
  /** The tools, by provider names. */
  tools: ToolIndex;
  /** Sends an event (text and reasoning deltas, `tool_call.pending`/`arguments_delta`). */
  emit(event: AgentEvent): void;
  /** Aborted on interrupt. Pass it to the provider request. */
  signal: AbortSignal;
  /** 1 for the first round of the response. */
  number: number;
}

/** A tool call the model asked for in a round. */
export interface LLMToolCall {
  /** The provider's call id. */
  callId: string;
  /** The item id its events carry (default: the call id). */
  itemId?: string;
  /** The namespace the model used (Responses API), if any. */
  namespace?: string | null;
  /** The tool name the model used. */
  name: string;
  /** The arguments (JSON text, as the model sent it). */
  arguments: string;
  /**
   * A call of a provider-native tool (a `NativeTool`): the provider needs the tool's own
   * answer, so a failure ends the response (as the official adapter) instead of being shown to
   * the model.
   */
  native?: boolean;
}

/** What a round produced. */
export interface LLMRoundResult {
  /** Assistant text and reasoning items, in order (appended to the context). */
  items: SessionItem[];
  /** The tool calls to run (their `tool_call` items are added by the loop). */
  toolCalls: LLMToolCall[];
  /** Token counts of the round. */
  usage?: LLMUsage;
  /** True when the provider paused the turn and wants another round without tool calls. */
  continue?: boolean;
}

/** How an error of a provider request should be handled. */
export interface LLMErrorClass {
  /** Whether a new attempt may succeed (408/409/429/≥500, network errors). */
  retryable: boolean;
  /** The provider's `retry-after`, in ms. */
  retryAfterMs?: number;
  /** The HTTP status, if any. */
  status?: number;
  /** A stable code for the final error. */
  code?: string;
  /** A message for a person. */
  message: string;
}

/** Options every adapter built on {@linkcode LLMAdapterBase} takes. */
export interface LLMAdapterBaseOptions {
  /** The default model. */
  model?: string;
  /** Attempts after the first for a failed request (default 10, as the official adapters). */
  maxRetries?: number;
  /** The first retry delay in ms, doubling per retry (default 1000). */
  retryBaseDelayMs?: number;
  /** The longest retry delay in ms (default 30000). */
  retryMaxDelayMs?: number;
  /** Most model rounds per response (default 64): a model that keeps calling tools is stopped. */
  maxRounds?: number;
  /** Tool results shown to the model (default: a {@linkcode ToolResponseAdapter}). */
  toolResponseAdapter?: ToolResponseAdapter;
  /**
   * The models to offer. Given, only these may be asked for; absent, any model name is passed to
   * the provider and {@linkcode LLMAdapterBase.listModels} lists the default model.
   */
  models?: readonly LLMModelInfo[];
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function interrupted(): LLMError {
  return new LLMError("the response was interrupted", "interrupted");
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The shared part of the provider adapters: the tool loop, retries and tool execution. A provider
 * implements {@linkcode round} (one streamed model request: emit text and reasoning deltas, return
 * the items and tool calls) and {@linkcode classifyError}; the base then
 *
 * - retries a round that failed before it emitted anything, with backoff (1 s doubling to 30 s, or
 *   the provider's `retry-after`) while the error is retryable, telling the thread with a
 *   `thread.event` "Retrying the LLM request (retry n/N)";
 * - runs the tools the model called: checks the arguments are JSON, asks for approval where
 *   needed, runs the tool with a {@linkcode ToolContext}, and shows the model the result (or the
 *   error) through the {@linkcode ToolResponseAdapter} — a bad call never ends the turn;
 * - takes steering between rounds, and stops on interrupt.
 */
export abstract class LLMAdapterBase implements LLMAdapter {
  /** The provider name. */
  abstract readonly provider: string;
  /** A display name. */
  abstract readonly friendlyName: string;
  /** How tool results are shown to the model. */
  readonly toolResponseAdapter: ToolResponseAdapter;
  /** True when no model list was configured: any model name goes to the provider. */
  readonly acceptsAnyModel: boolean;
  readonly #model: string;
  readonly #maxRetries: number;
  readonly #baseDelay: number;
  readonly #maxDelay: number;
  readonly #maxRounds: number;
  readonly #models: readonly LLMModelInfo[] | undefined;

  /**
   * Creates the value.
   *
   * @param options Model, retries, limits.
   * @param fallbackModel The model when the options name none (nor a first of `models`).
   */
  constructor(options: LLMAdapterBaseOptions, fallbackModel: string) {
    this.#model = options.model ?? options.models?.[0]?.name ?? fallbackModel;
    this.#maxRetries = Math.max(0, options.maxRetries ?? 10);
    this.#baseDelay = options.retryBaseDelayMs ?? 1000;
    this.#maxDelay = options.retryMaxDelayMs ?? 30_000;
    this.#maxRounds = options.maxRounds ?? 64;
    this.toolResponseAdapter = options.toolResponseAdapter ?? new ToolResponseAdapter();
    this.#models = options.models;
    this.acceptsAnyModel = options.models === undefined;
  }

  /** The default model. */
  defaultModel(): string {
    return this.#model;
  }

  /** The models offered: the configured list, else the default model. */
  listModels(): Promise<LLMModelInfo[]> {
    return Promise.resolve(
      this.#models ? [...this.#models] : [{ name: this.#model, modalities: ["text"] }],
    );
  }

  /**
   * A fresh context.
   *
   * @param rules Rules (system instructions).
   * @returns The context.
   */
  createSession(rules: readonly string[] = []): AgentSessionContext {
    return new AgentSessionContext({ rules });
  }

  /**
   * One streamed model request.
   *
   * @param round The request, model, tools, event sink and abort signal.
   * @returns What the model said and which tools it called.
   */
  protected abstract round(round: LLMRound): Promise<LLMRoundResult>;

  /**
   * How to handle a failed request.
   *
   * @param error What the request threw.
   * @returns Whether to retry, and what to tell the person.
   */
  protected abstract classifyError(error: unknown): LLMErrorClass;

  /**
   * Called when a tool call failed (bad arguments or a thrown error); adapters that tighten their
   * tool schemas after a failure (Anthropic's adaptive strict mode) override it.
   *
   * @param _tool The tool that failed.
   */
  protected onToolFailure(_tool: IndexedTool): void {}

  async createResponse(request: LLMResponseRequest): Promise<LLMResponse> {
    const model = request.model ?? this.defaultModel();
    const tools = new ToolIndex(request.toolkits);
    const signal = request.signal ?? new AbortController().signal;
    const emit = (event: AgentEvent) => request.onEvent?.(event);
    const usage: LLMUsage = { input_tokens: 0, output_tokens: 0 };
    let text = "";
    for (let number = 1;; number++) {
      if (signal.aborted) throw interrupted();
      if (number > this.#maxRounds) {
        throw new LLMError(
          `the model called tools for ${this.#maxRounds} rounds without answering; stopped`,
          "too_many_rounds",
        );
      }
      const result = await this.#roundWithRetries({ request, model, tools, emit, signal, number });
      if (result.usage) {
        addUsage(usage, result.usage);
        request.context.addUsage(result.usage);
      }
      for (const item of result.items) request.context.append(item);
      const said = result.items
        .filter((item) => item.kind === "assistant")
        .map((item) => (item as { text: string }).text)
        .join("");
      if (said !== "") text = said;
      if (result.toolCalls.length > 0) {
        await this.#runTools(request, tools, result.toolCalls, emit, signal);
      }
      const steer = signal.aborted ? [] : (await request.steering?.()) ?? [];
      for (const item of steer) request.context.append(item);
      if (result.toolCalls.length === 0 && !result.continue && steer.length === 0) break;
    }
    let json: unknown;
    if (request.outputSchema) {
      try {
        json = JSON.parse(text);
      } catch {
        throw new LLMError(
          "the model's answer is not the JSON its output schema asks for",
          "invalid_response",
        );
      }
    }
    return { text, json, usage, model };
  }

  async #roundWithRetries(round: LLMRound): Promise<LLMRoundResult> {
    for (let attempt = 0;; attempt++) {
      let emitted = false;
      try {
        return await this.round({
          ...round,
          emit: (event) => {
            emitted = true;
            round.emit(event);
          },
        });
      } catch (error) {
        if (round.signal.aborted) throw interrupted();
        if (error instanceof LLMError) throw error;
        const info = this.classifyError(error);
        // A round that streamed output already cannot be replayed without duplicating it.
        if (!info.retryable || emitted || attempt >= this.#maxRetries) {
          throw new LLMError(
            attempt > 0 ? `${info.message} (after ${attempt} retries)` : info.message,
            info.code ?? (info.status === 429 ? "rate_limited" : "provider_error"),
            info.status,
          );
        }
        const backoff = Math.min(this.#maxDelay, this.#baseDelay * 2 ** attempt);
        const wait = Math.min(this.#maxDelay, info.retryAfterMs ?? backoff);
        round.emit({
          type: "thread.event",
          event: {
            id: `llm.retry:${round.number}`,
            kind: "llm.retry",
            state: "in_progress",
            headline: `Retrying the LLM request (retry ${attempt + 1}/${this.#maxRetries})`,
            details: info.message,
          },
        });
        await delay(wait, round.signal).catch(() => {
          throw interrupted();
        });
      }
    }
  }

  async #runTools(
    request: LLMResponseRequest,
    tools: ToolIndex,
    calls: readonly LLMToolCall[],
    emit: (event: AgentEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    // Calls of one round run concurrently; their results are added in the order of the calls.
    const results = await Promise.all(
      calls.map((call) => this.#runTool(request, tools, call, emit, signal)),
    );
    for (const [call, item] of results) {
      request.context.append(call);
      request.context.append(item);
    }
    if (signal.aborted) throw interrupted();
    const failed = results.find(([, item], i) =>
      calls[i].native === true && item.kind === "tool_result" && item.isError
    );
    if (failed) {
      const [call, item] = failed as [
        Extract<SessionItem, { kind: "tool_call" }>,
        Extract<SessionItem, { kind: "tool_result" }>,
      ];
      const text = item.output.map((part) => part.type === "text" ? part.text : "").join("");
      throw new LLMError(`${call.tool} failed: ${text.replace(/^error: /, "")}`, "tool_failed");
    }
  }

  async #runTool(
    request: LLMResponseRequest,
    tools: ToolIndex,
    call: LLMToolCall,
    emit: (event: AgentEvent) => void,
    signal: AbortSignal,
  ): Promise<[SessionItem, SessionItem]> {
    const itemId = call.itemId ?? call.callId;
    const entry = tools.resolve(call.namespace, call.name);
    const toolkit = entry?.toolkit.name ?? call.namespace ?? "";
    const tool = entry?.tool.name ?? call.name;
    const callItem: SessionItem = {
      kind: "tool_call",
      callId: call.callId,
      toolkit,
      tool,
      arguments: call.arguments,
      itemId,
    };
    const fail = (text: string): [SessionItem, SessionItem] => {
      if (entry) this.onToolFailure(entry);
      emit({
        type: "tool_call.ended",
        item_id: itemId,
        call_id: call.callId,
        namespace: "meshagent",
        toolkit,
        tool,
        error: { message: text },
      });
      return [callItem, {
        kind: "tool_result",
        callId: call.callId,
        output: [{ type: "text", text: `error: ${text}` }],
        isError: true,
      }];
    };
    let args: JsonObject;
    try {
      const parsed = call.arguments.trim() === "" ? {} : JSON.parse(call.arguments);
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new Error("the arguments are not a JSON object");
      }
      args = parsed;
    } catch (error) {
      emit({
        type: "tool_call.started",
        item_id: itemId,
        call_id: call.callId,
        namespace: "meshagent",
        toolkit,
        tool,
      });
      return fail(
        `the arguments of ${tool} are not valid JSON (${message(error)}); call it again with a ` +
          `JSON object that matches its schema`,
      );
    }
    emit({
      type: "tool_call.started",
      item_id: itemId,
      call_id: call.callId,
      namespace: "meshagent",
      toolkit,
      tool,
      arguments: args,
    });
    if (!entry) return fail(`there is no tool named ${call.name}`);
    if (request.requiresApproval?.(toolkit, tool)) {
      const approved = request.approve
        ? await request.approve({
          item_id: itemId,
          call_id: call.callId,
          toolkit,
          tool,
          arguments: args,
        })
        : false;
      if (!approved) return fail(`the call of ${tool} was not approved`);
    }
    const context = new ToolContext({
      caller: request.caller,
      onBehalfOf: request.onBehalfOf ?? null,
      room: request.room ?? null,
      toolCallId: call.callId,
      signal,
      onEvent: (event) => {
        emit({ type: "tool_call.log_delta", item_id: itemId, lines: logLines(event) });
      },
    });
    let content: Content;
    try {
      const output = await entry.toolkit.execute(context, entry.tool.name, args);
      content = output instanceof BaseContent ? output as Content : await collect(output);
    } catch (error) {
      if (signal.aborted) return fail("the turn was interrupted");
      return fail(message(error));
    }
    if (content instanceof ErrorContent) return fail(content.text);
    const output: ToolOutputPart[] = this.toolResponseAdapter.toParts(content);
    emit({
      type: "tool_call.ended",
      item_id: itemId,
      call_id: call.callId,
      namespace: "meshagent",
      toolkit,
      tool,
      result: content.toJson(),
    });
    return [callItem, { kind: "tool_result", callId: call.callId, output }];
  }
}

function addUsage(total: LLMUsage, usage: LLMUsage): void {
  total.input_tokens += usage.input_tokens;
  total.output_tokens += usage.output_tokens;
  if (usage.cached_input_tokens !== undefined) {
    total.cached_input_tokens = (total.cached_input_tokens ?? 0) + usage.cached_input_tokens;
  }
  if (usage.reasoning_tokens !== undefined) {
    total.reasoning_tokens = (total.reasoning_tokens ?? 0) + usage.reasoning_tokens;
  }
}

/** A streamed tool result as one content: its text chunks joined, else its last chunk. */
async function collect(stream: AsyncIterable<Content>): Promise<Content> {
  const chunks: Content[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  if (chunks.length > 0 && chunks.every((chunk) => chunk instanceof TextContent)) {
    return new TextContent(chunks.map((chunk) => (chunk as TextContent).text).join(""));
  }
  return chunks.at(-1) ?? new EmptyContent();
}

/** The log lines of a tool event (`{source, text}` or `{lines: [...]}`). */
function logLines(event: JsonObject): JsonObject[] {
  if (Array.isArray(event.lines)) return event.lines as JsonObject[];
  const text = typeof event.text === "string" ? event.text : JSON.stringify(event);
  return [{ source: typeof event.source === "string" ? event.source : "stdout", text }];
}
