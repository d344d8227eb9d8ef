import type OpenAI from "openai";
import type { JsonObject } from "@meshagent/api";
import {
  LLMAdapterBase,
  type LLMAdapterBaseOptions,
  LLMError,
  type LLMErrorClass,
  type LLMModelInfo,
  type LLMResponse,
  type LLMResponseRequest,
  type LLMRound,
  type LLMRoundResult,
  type SessionItem,
} from "@meshagent/agents";
import { createOpenAIClient } from "./_client.ts";
import { readEnv } from "./_env.ts";
import { classifyOpenAIError, OpenAIStreamError } from "./_errors.ts";
import {
  instructions,
  responsesInput,
  type ResponsesInputContext,
  responsesTools,
  roundTools,
} from "./_responses_request.ts";
import type { ResponsesSocket } from "./_responses_socket.ts";
import { ResponsesStreamReader } from "./_responses_stream.ts";
import { StreamWatch } from "./_stream_watch.ts";
import {
  type OpenAIClientConfig,
  type OpenAIClientOptions,
  resolveOpenAIClientConfig,
} from "./openai_client_options.ts";

/**
 * How the Responses adapter talks to the API: `request` (one HTTP request per model round,
 * streamed over SSE) or `websocket` (one socket per response, `response.create` frames, later
 * rounds sent as `previous_response_id` + the new items).
 */
export type OpenAIResponsesMode = "request" | "websocket";

/** Options of an {@linkcode OpenAIResponsesAdapter}. */
export interface OpenAIResponsesAdapterOptions extends LLMAdapterBaseOptions, OpenAIClientOptions {
  /** The default model (default `$OPENAI_MODEL`, else `gpt-5.2`). */
  model?: string;
  /** The provider name turns select it by (default `openai`). */
  provider?: string;
  /** A display name (default `OpenAI`). */
  friendlyName?: string;
  /**
   * `request` (SSE, the default) or `websocket`. [impl] The official adapter defaults to the
   * websocket; here SSE is the default because every OpenAI-compatible Responses server speaks it
   * and it runs wherever `fetch` does, while the websocket mode needs Node's `ws` (Deno, Node).
   */
  mode?: OpenAIResponsesMode;
  /** `parallel_tool_calls` (default: the API's; not sent to `o*` models, as the official adapter). */
  parallelToolCalls?: boolean;
  /** `reasoning.effort` (`none`, `minimal`, `low`, `medium`, `high`, `xhigh`); asks for detailed summaries too. */
  reasoningEffort?: string;
  /** `max_output_tokens` (default 32000; null sends none). */
  maxOutputTokens?: number | null;
  /** More fields for every request body (they win over the adapter's). */
  responseOptions?: JsonObject;
  /**
   * Group each toolkit's tools in a `namespace` tool (default true, as the official adapter).
   * False sends flat function tools named `<tool>` or `<toolkit>__<tool>`, for servers that do
   * not know namespaces.
   */
  namespaceTools?: boolean;
  /**
   * Ask for encrypted reasoning (`include: ["reasoning.encrypted_content"]`) and replay it on
   * later rounds (default: for reasoning models — `o*`, `gpt-5*` but not `*-chat*`, `codex*`;
   * the API refuses it for the others).
   */
  encryptedReasoning?: boolean;
}

interface SocketState {
  socket: ResponsesSocket;
  responseId?: string;
  /** The server's state after the last response, as our input items (JSON). */
  prefix: string[];
}

const REASONING_MODEL = /^(o\d|gpt-5(?!.*chat)|codex)/i;

/**
 * The items of `input` the server does not hold yet, when it holds `prefix` (the last request's
 * input and output), or null when `input` does not continue it. Tool outputs may sit between the
 * held items: the context keeps each call beside its output, the server keeps a response's calls
 * together.
 *
 * @param prefix The held items, as JSON.
 * @param input The next request's whole input.
 * @returns The new items, or null.
 */
function newItems(prefix: readonly string[], input: readonly JsonObject[]): JsonObject[] | null {
  const fresh: JsonObject[] = [];
  let held = 0;
  for (const item of input) {
    if (held < prefix.length) {
      if (JSON.stringify(item) === prefix[held]) {
        held++;
        continue;
      }
      if (item.type !== "function_call_output") return null;
    }
    fresh.push(item);
  }
  return held === prefix.length ? fresh : null;
}

/**
 * An LLM adapter on OpenAI's Responses API, through the npm `openai` client. Every round sends
 * the whole context (rules as `instructions`, items as a stateless `input` array, `store: false`),
 * so a thread can move between providers or be rebuilt from storage; toolkits become `namespace`
 * tools; text, reasoning summaries and tool-call arguments stream as agent events; encrypted
 * reasoning is kept in the reasoning item's `state` and sent back to the same provider and model.
 * Retries, tools, approvals, steering and interrupts are {@linkcode LLMAdapterBase}'s.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OpenAIResponsesAdapter } from "@meshagent/adapters/openai";
 * import { FakeOpenAIServer } from "@meshagent/adapters/openai/testing";
 *
 * await using server = await FakeOpenAIServer.start({ replies: [{ text: ["Hello", " there"] }] });
 * const adapter = new OpenAIResponsesAdapter({ baseURL: server.baseURL, apiKey: "test" });
 * const context = adapter.createSession(["Be brief."]);
 * context.appendUserMessage("hi");
 * const response = await adapter.createResponse({ context, caller: { id: "agent", attributes: {} }, toolkits: [] });
 * assert.equal(response.text, "Hello there");
 * assert.equal(server.requests[0].body.instructions, "Be brief.");
 * ```
 */
export class OpenAIResponsesAdapter extends LLMAdapterBase {
  /** The provider name. */
  readonly provider: string;
  /** A display name. */
  readonly friendlyName: string;
  /** `request` (SSE) or `websocket`. */
  readonly mode: OpenAIResponsesMode;
  readonly #config: OpenAIClientConfig | LLMError;
  readonly #options: OpenAIResponsesAdapterOptions;
  readonly #sockets = new Map<LLMResponseRequest, SocketState>();
  #client: OpenAI | undefined;

  /**
   * Creates the adapter. Nothing is sent until the first response.
   *
   * @param options Model, connection, request options, retries.
   */
  constructor(options: OpenAIResponsesAdapterOptions = {}) {
    const env = options.env ?? readEnv;
    const envModel = env("OPENAI_MODEL")?.trim();
    super(options, envModel ? envModel : "gpt-5.2");
    this.provider = options.provider ?? "openai";
    this.friendlyName = options.friendlyName ?? "OpenAI";
    this.mode = options.mode ?? "request";
    this.#options = options;
    // A missing key is reported when a response is asked for, so that an agent with several
    // providers starts with the ones it can use.
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
   * The models offered: the configured list, else the default model (attachments accepted).
   * No network request.
   *
   * @returns The models.
   */
  override async listModels(): Promise<LLMModelInfo[]> {
    const models = await super.listModels();
    return this.#options.models
      ? models
      : models.map((model) => ({ ...model, supports_attachments: true }));
  }

  /**
   * Runs one response (see {@linkcode LLMAdapterBase}); in websocket mode its socket is closed
   * when it ends.
   *
   * @param request The response request.
   * @returns The response.
   */
  override async createResponse(request: LLMResponseRequest): Promise<LLMResponse> {
    try {
      return await super.createResponse(request);
    } finally {
      const state = this.#sockets.get(request);
      this.#sockets.delete(request);
      await state?.socket.close();
    }
  }

  #clientFor(): OpenAI {
    return this.#client ??= createOpenAIClient(this.config);
  }

  #encryptedReasoning(model: string): boolean {
    return this.#options.encryptedReasoning ?? REASONING_MODEL.test(model);
  }

  #inputContext(round: LLMRound): ResponsesInputContext {
    return {
      provider: this.provider,
      model: round.model,
      tools: round.tools,
      namespaced: this.#options.namespaceTools ?? true,
    };
  }

  #body(round: LLMRound): JsonObject {
    const request = round.request;
    const context = this.#inputContext(round);
    const offered = roundTools(round.tools, request.toolChoice, round.number);
    const tools = responsesTools(offered.tools, context.namespaced);
    const options = this.#options;
    const body: JsonObject = {
      model: round.model,
      input: responsesInput(request.context.items, context),
      store: false,
    };
    const text = instructions(request.context.rules);
    if (text !== undefined) body.instructions = text;
    if (tools) {
      body.tools = tools;
      if (offered.choice) body.tool_choice = offered.choice;
      if (options.parallelToolCalls !== undefined && !round.model.startsWith("o")) {
        body.parallel_tool_calls = options.parallelToolCalls;
      }
    }
    const maxOutputTokens = options.maxOutputTokens === undefined ? 32000 : options.maxOutputTokens;
    if (maxOutputTokens !== null) body.max_output_tokens = maxOutputTokens;
    if (options.reasoningEffort) {
      body.reasoning = { effort: options.reasoningEffort, summary: "detailed" };
    }
    if (this.#encryptedReasoning(round.model)) body.include = ["reasoning.encrypted_content"];
    if (request.outputSchema) {
      body.text = {
        format: {
          type: "json_schema",
          name: "response",
          schema: request.outputSchema,
          strict: true,
        },
      };
    }
    return { ...body, ...options.responseOptions, ...request.options };
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
    const reader = new ResponsesStreamReader(round, this.provider);
    using watch = new StreamWatch(round.signal, config.timeoutMs, config.idleTimeoutMs);
    try {
      if (this.mode === "websocket") await this.#viaSocket(round, body, reader, watch);
      else await this.#viaRequest(round, body, reader, watch);
    } catch (error) {
      watch.throwIfTimedOut();
      throw error;
    }
    watch.throwIfTimedOut();
    if (round.signal.aborted) throw new LLMError("the response was interrupted", "interrupted");
    const result = reader.result();
    if (this.mode === "websocket") this.#remember(round, body, reader, result);
    return result;
  }

  async #viaRequest(
    round: LLMRound,
    body: JsonObject,
    reader: ResponsesStreamReader,
    watch: StreamWatch,
  ): Promise<void> {
    const headers: Record<string, string> = {};
    const onBehalfOf = round.request.onBehalfOf?.name;
    if (onBehalfOf) headers["Meshagent-On-Behalf-Of"] = onBehalfOf;
    const stream = await this.#clientFor().responses.create(
      { ...body, stream: true } as unknown as OpenAI.Responses.ResponseCreateParamsStreaming,
      { signal: watch.signal, headers },
    );
    watch.touch();
    for await (const event of stream) {
      watch.touch();
      reader.handle(event);
      if (reader.finished) break;
    }
  }

  async #viaSocket(
    round: LLMRound,
    body: JsonObject,
    reader: ResponsesStreamReader,
    watch: StreamWatch,
  ): Promise<void> {
    let state = this.#sockets.get(round.request);
    if (!state || state.socket.closed) {
      // Loaded on first use: it needs Node's `ws`, which the SSE mode does without.
      const { ResponsesSocket } = await import("./_responses_socket.ts");
      state = { socket: new ResponsesSocket(this.#clientFor()), prefix: [] };
      this.#sockets.set(round.request, state);
    }
    const fresh = state.responseId === undefined
      ? null
      : newItems(state.prefix, body.input as JsonObject[]);
    const incremental = fresh !== null;
    const send = incremental
      ? { ...body, previous_response_id: state.responseId!, input: fresh }
      : body;
    try {
      for await (const event of state.socket.request(send, watch.signal)) {
        watch.touch();
        reader.handle(event);
      }
    } catch (error) {
      state.responseId = undefined;
      if (!(error instanceof OpenAIStreamError)) {
        // The socket may be mid-response: it cannot be reused.
        this.#sockets.delete(round.request);
        await state.socket.close();
      } else if (incremental && error.code === "previous_response_not_found") {
        // The server forgot the previous response (another connection, a restart): send it all.
        return await this.#viaSocket(round, body, reader, watch);
      }
      throw error;
    }
  }

  #remember(
    round: LLMRound,
    body: JsonObject,
    reader: ResponsesStreamReader,
    result: LLMRoundResult,
  ) {
    const state = this.#sockets.get(round.request);
    if (!state) return;
    // What the server holds now: this request's input, then its output — predicted with the
    // same conversion the next round's input goes through, so a match means "nothing changed".
    const calls: SessionItem[] = result.toolCalls.map((call) => {
      const entry = round.tools.resolve(call.namespace, call.name);
      return {
        kind: "tool_call",
        callId: call.callId,
        toolkit: entry?.toolkit.name ?? call.namespace ?? "",
        tool: entry?.tool.name ?? call.name,
        arguments: call.arguments,
      };
    });
    const output = responsesInput([...result.items, ...calls], {
      ...this.#inputContext(round),
      keepOpenCalls: true,
    });
    state.responseId = reader.responseId;
    state.prefix = [...(body.input as JsonObject[]), ...output].map((item) => JSON.stringify(item));
  }

  /**
   * Retry on 408/409/429/≥500, network errors, timeouts and in-stream server errors; not on
   * 402, `insufficient_quota` or other 4xx; honour `retry-after(-ms)`.
   *
   * @param error What the request threw.
   * @returns The class.
   */
  protected classifyError(error: unknown): LLMErrorClass {
    return classifyOpenAIError(error, "the OpenAI Responses request");
  }
}
