import type OpenAI from "openai";
import type { JsonObject } from "@meshagent/api";
import {
  LLMAdapterBase,
  type LLMAdapterBaseOptions,
  LLMError,
  type LLMErrorClass,
  type LLMModelInfo,
  type LLMRound,
  type LLMRoundResult,
  type LLMToolCall,
  type LLMUsage,
  type SessionItem,
} from "@meshagent/agents";
import { chatMessages, chatToolChoice, chatTools } from "./_chat_request.ts";
import { createOpenAIClient } from "./_client.ts";
import { readEnv } from "./_env.ts";
import { classifyOpenAIError, OpenAIIncompleteStreamError } from "./_errors.ts";
import { StreamWatch } from "./_stream_watch.ts";
import {
  type OpenAIClientConfig,
  type OpenAIClientOptions,
  resolveOpenAIClientConfig,
} from "./openai_client_options.ts";

/** Options of an {@linkcode OpenAICompletionsAdapter}. */
export interface OpenAICompletionsAdapterOptions
  extends LLMAdapterBaseOptions, OpenAIClientOptions {
  /** The model (default `$OPENAI_MODEL`; one of the two is required). */
  model?: string;
  /**
   * The provider name turns select it by (default `openai-completions`). [impl] Not `openai`, so
   * one agent can offer both this and the Responses adapter.
   */
  provider?: string;
  /** A display name (default `OpenAI-compatible`). */
  friendlyName?: string;
  /** `parallel_tool_calls` (default: the server's). */
  parallelToolCalls?: boolean;
  /** `max_tokens` (default: none sent, the server's limit). */
  maxTokens?: number;
  /** More fields for every request body (they win over the adapter's). */
  completionOptions?: JsonObject;
  /**
   * Send tool descriptions (default false: the official adapter sends only names and schemas;
   * small local models often call tools better with them).
   */
  toolDescriptions?: boolean;
  /** The tools' `strict` flag (default true, as the official adapter). */
  strictTools?: boolean;
  /** Ask for usage with `stream_options.include_usage` (default true). */
  includeUsage?: boolean;
  /**
   * Make {@linkcode OpenAICompletionsAdapter.listModels} ask the server (`GET /models`: the models
   * an Ollama or vLLM server has) instead of listing the configured ones (default false).
   */
  modelsFromServer?: boolean;
}

interface StreamedCall {
  id: string;
  name: string;
  arguments: string;
  pending: boolean;
}

/**
 * An LLM adapter on the Chat Completions API, for OpenAI and any OpenAI-compatible server
 * (Ollama, vLLM, llama.cpp, LM Studio): streamed text (and `reasoning_content` where the server
 * sends it), flat function tools named uniquely over all toolkits, tool results as
 * `role: "tool"` messages. Every round sends the whole context. Usage comes from
 * `stream_options.include_usage`; servers that send none report no usage.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OpenAICompletionsAdapter } from "@meshagent/adapters/openai";
 * import { FakeOpenAIServer } from "@meshagent/adapters/openai/testing";
 *
 * await using server = await FakeOpenAIServer.start({ replies: [{ text: "pong" }] });
 * const adapter = new OpenAICompletionsAdapter({ baseURL: server.baseURL, model: "llama3.2" });
 * const context = adapter.createSession();
 * context.appendUserMessage("ping");
 * const response = await adapter.createResponse({ context, caller: { id: "agent", attributes: {} }, toolkits: [] });
 * assert.equal(response.text, "pong");
 * assert.equal(server.requests[0].api, "chat.completions");
 * ```
 */
export class OpenAICompletionsAdapter extends LLMAdapterBase {
  /** The provider name. */
  readonly provider: string;
  /** A display name. */
  readonly friendlyName: string;
  readonly #config: OpenAIClientConfig | LLMError;
  readonly #options: OpenAICompletionsAdapterOptions;
  #client: OpenAI | undefined;
  #ids = 0;

  /**
   * Creates the adapter. Nothing is sent until the first response.
   *
   * @param options Model, connection, request options, retries.
   * @throws {LLMError} (code `no_model`) When neither `model` nor `$OPENAI_MODEL` names a model.
   */
  constructor(options: OpenAICompletionsAdapterOptions = {}) {
    const env = options.env ?? readEnv;
    const model = options.model?.trim() || env("OPENAI_MODEL")?.trim();
    if (!model) {
      throw new LLMError(
        "OpenAICompletionsAdapter needs a model: pass `model` or set OPENAI_MODEL " +
          "(e.g. OPENAI_MODEL=llama3.2 for Ollama)",
        "no_model",
      );
    }
    super({ ...options, model }, model);
    this.provider = options.provider ?? "openai-completions";
    this.friendlyName = options.friendlyName ?? "OpenAI-compatible";
    this.#options = options;
    try {
      this.#config = resolveOpenAIClientConfig(options);
    } catch (error) {
      if (!(error instanceof LLMError)) throw error;
      this.#config = error;
    }
  }

  /** The resolved connection settings; throws the configuration error if there is one. */
  get config(): OpenAIClientConfig {
    if (this.#config instanceof LLMError) throw this.#config;
    return this.#config;
  }

  /**
   * The models offered: the configured list (else the default model), with no request; with
   * `modelsFromServer`, the server's `GET /models` (waiting at most the idle timeout).
   *
   * @returns The models.
   * @throws {LLMError} When the server cannot be asked.
   */
  override async listModels(): Promise<LLMModelInfo[]> {
    if (!this.#options.modelsFromServer) return await super.listModels();
    const config = this.config;
    const client = this.#client ??= createOpenAIClient(config);
    try {
      const names: string[] = [];
      for await (const model of client.models.list({ timeout: config.idleTimeoutMs })) {
        names.push(model.id);
      }
      return names.map((name) => ({ name, modalities: ["text"] }));
    } catch (error) {
      const info = this.classifyError(error);
      throw new LLMError(`cannot list the models: ${info.message}`, info.code, info.status);
    }
  }

  #body(round: LLMRound): JsonObject {
    const request = round.request;
    const options = this.#options;
    const body: JsonObject = {
      model: round.model,
      messages: chatMessages(request.context.rules, request.context.items, round.tools),
      stream: true,
    };
    if (options.includeUsage ?? true) body.stream_options = { include_usage: true };
    const tools = chatTools(round.tools.tools, {
      descriptions: options.toolDescriptions ?? false,
      strict: options.strictTools ?? true,
    });
    if (tools) {
      body.tools = tools;
      const choice = chatToolChoice(round.tools, request.toolChoice, round.number);
      if (choice !== undefined) body.tool_choice = choice;
      if (options.parallelToolCalls !== undefined) {
        body.parallel_tool_calls = options.parallelToolCalls;
      }
    }
    if (options.maxTokens !== undefined) body.max_tokens = options.maxTokens;
    if (request.outputSchema) {
      body.response_format = {
        type: "json_schema",
        json_schema: { name: "response", schema: request.outputSchema, strict: true },
      };
    }
    return { ...body, ...options.completionOptions, ...request.options, stream: true };
  }

  /**
   * One model request: the body built from the context, streamed, its events emitted.
   *
   * @param round The round.
   * @returns The items, tool calls and usage.
   */
  protected async round(round: LLMRound): Promise<LLMRoundResult> {
    const config = this.config;
    const body = this.#body(round);
    using watch = new StreamWatch(round.signal, config.timeoutMs, config.idleTimeoutMs);
    const n = ++this.#ids;
    let textId = `msg_${n}`;
    let reasoningId = `rs_${n}`;
    let text = "";
    let reasoning = "";
    const calls = new Map<number, StreamedCall>();
    let usage: LLMUsage | undefined;
    let finished = false;
    let reasoningOpen = false;
    const endReasoning = () => {
      if (!reasoningOpen) return;
      reasoningOpen = false;
      round.emit({ type: "reasoning_content.ended", item_id: reasoningId, text: reasoning });
    };
    const emitText = (delta: string) => {
      endReasoning();
      if (text === "") round.emit({ type: "text_content.started", item_id: textId });
      text += delta;
      round.emit({ type: "text_content.delta", item_id: textId, text: delta });
    };
    const emitReasoning = (delta: string) => {
      if (reasoning === "") {
        reasoningOpen = true;
        round.emit({ type: "reasoning_content.started", item_id: reasoningId });
      }
      reasoning += delta;
      round.emit({ type: "reasoning_content.delta", item_id: reasoningId, text: delta });
    };
    try {
      const client = this.#client ??= createOpenAIClient(config);
      const headers: Record<string, string> = {};
      const onBehalfOf = round.request.onBehalfOf?.name;
      if (onBehalfOf) headers["Meshagent-On-Behalf-Of"] = onBehalfOf;
      const stream = await client.chat.completions.create(
        body as unknown as OpenAI.Chat.ChatCompletionCreateParamsStreaming,
        { signal: watch.signal, headers },
      );
      watch.touch();
      for await (const chunk of stream) {
        watch.touch();
        if (chunk.id && text === "" && reasoning === "") {
          textId = `msg_${chunk.id}`;
          reasoningId = `rs_${chunk.id}`;
        }
        if (chunk.usage) usage = chatUsage(chunk.usage as unknown as JsonObject);
        const choice = chunk.choices?.[0];
        if (!choice) continue;
        const delta = (choice.delta ?? {}) as {
          content?: string | null;
          reasoning_content?: string | null;
          reasoning?: string | null;
          tool_calls?: {
            index?: number;
            id?: string;
            function?: { name?: string; arguments?: string | JsonObject };
          }[];
        };
        const thought = delta.reasoning_content ?? delta.reasoning;
        if (typeof thought === "string" && thought !== "") emitReasoning(thought);
        if (typeof delta.content === "string" && delta.content !== "") emitText(delta.content);
        for (const [position, part] of (delta.tool_calls ?? []).entries()) {
          const index = part.index ?? position;
          let call = calls.get(index);
          if (!call) {
            call = { id: part.id || `call_${n}_${index}`, name: "", arguments: "", pending: false };
            calls.set(index, call);
          }
          if (part.function?.name) call.name += part.function.name;
          if (call.name && !call.pending) {
            endReasoning();
            call.pending = true;
            const entry = round.tools.byFlatName(call.name);
            round.emit({
              type: "tool_call.pending",
              item_id: call.id,
              call_id: call.id,
              namespace: "meshagent",
              toolkit: entry?.toolkit.name ?? "",
              tool: entry?.tool.name ?? call.name,
            });
          }
          const args = part.function?.arguments;
          const piece = typeof args === "string" ? args : args ? JSON.stringify(args) : "";
          if (piece !== "") {
            call.arguments += piece;
            round.emit({ type: "tool_call.arguments_delta", item_id: call.id, delta: piece });
          }
        }
        if (choice.finish_reason) finished = true;
      }
    } catch (error) {
      watch.throwIfTimedOut();
      throw error;
    }
    watch.throwIfTimedOut();
    if (round.signal.aborted) throw new LLMError("the response was interrupted", "interrupted");
    if (!finished) {
      throw new OpenAIIncompleteStreamError("the stream ended before the completion finished");
    }
    const items: SessionItem[] = [];
    endReasoning();
    if (reasoning !== "") {
      items.push({
        kind: "reasoning",
        text: reasoning,
        itemId: reasoningId,
        provider: this.provider,
      });
    }
    if (text !== "") {
      round.emit({ type: "text_content.ended", item_id: textId, text });
      items.push({ kind: "assistant", text, itemId: textId });
    }
    const toolCalls: LLMToolCall[] = [...calls.values()]
      .filter((call) => call.name !== "")
      .map((call) => ({
        callId: call.id,
        itemId: call.id,
        namespace: null,
        name: call.name,
        arguments: call.arguments,
      }));
    return { items, toolCalls, ...(usage ? { usage } : {}) };
  }

  /**
   * Retry on 408/409/429/≥500, network errors, timeouts and in-stream server errors; not on
   * 402, `insufficient_quota` or other 4xx; honour `retry-after(-ms)`.
   *
   * @param error What the request threw.
   * @returns The class.
   */
  protected classifyError(error: unknown): LLMErrorClass {
    return classifyOpenAIError(error, "the chat completion request");
  }
}

function chatUsage(usage: JsonObject): LLMUsage {
  const cached = (usage.prompt_tokens_details as JsonObject | undefined)?.cached_tokens;
  const reasoning = (usage.completion_tokens_details as JsonObject | undefined)?.reasoning_tokens;
  return {
    input_tokens: Number(usage.prompt_tokens ?? 0),
    output_tokens: Number(usage.completion_tokens ?? 0),
    ...(typeof cached === "number" ? { cached_input_tokens: cached } : {}),
    ...(typeof reasoning === "number" ? { reasoning_tokens: reasoning } : {}),
  };
}
