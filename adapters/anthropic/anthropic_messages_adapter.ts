import Anthropic, { APIError } from "@anthropic-ai/sdk";
import { transformJSONSchema } from "@anthropic-ai/sdk/lib/transform-json-schema";
import type { EnvSource, JsonObject } from "@meshagent/api";
import {
  type IndexedTool,
  LLMAdapterBase,
  type LLMAdapterBaseOptions,
  LLMError,
  type LLMErrorClass,
  type LLMResponse,
  type LLMResponseRequest,
  type LLMRound,
  type LLMRoundResult,
  safeToolName,
  type SessionItem,
} from "@meshagent/agents";
import { anthropicClientConfig, envVar, MISSING_KEY_MESSAGE } from "./_client_config.ts";
import { classifyAnthropicError, StreamCutError, StreamStalledError } from "./_errors.ts";
import { type Block, toAnthropicMessages } from "./_messages.ts";
import { type ReadResult, StreamReader } from "./_stream_reader.ts";
import { AnthropicMessagesToolResponseAdapter } from "./anthropic_messages_tool_response_adapter.ts";

/**
 * When a tool's `input_schema` is sent with `strict: true` (the API then guarantees calls match
 * it): `loose` never, `strict` always, `explicit` when the tool says `strict: true`, `adaptive`
 * (the default) once that tool has failed (bad arguments or an error), unless it says
 * `strict: false`.
 */
export type AnthropicToolCallingMode = "loose" | "strict" | "explicit" | "adaptive";

/** Options of an {@linkcode AnthropicMessagesAdapter}. */
export interface AnthropicMessagesAdapterOptions extends LLMAdapterBaseOptions {
  /**
   * The default model (default `ANTHROPIC_MODEL`, else {@linkcode DEFAULT_ANTHROPIC_MODEL}).
   */
  model?: string;
  /** The API key (default `ANTHROPIC_API_KEY`, else `MESHAGENT_TOKEN`). Sent as a bearer token. */
  apiKey?: string;
  /**
   * The API base URL, without `/v1` (default `ANTHROPIC_BASE_URL`, else the MeshAgent LLM proxy
   * `${MESHAGENT_API_URL}/anthropic`).
   */
  baseURL?: string;
  /** Where the `ANTHROPIC_*` and `MESHAGENT_*` variables are read (default: the process). */
  env?: EnvSource;
  /**
   * `max_tokens` of each request (default `ANTHROPIC_MAX_TOKENS`, else by model as the official
   * adapter does: 128000 for Opus 4.6, 64000 for Sonnet 4 and 3.7, 32000 for Opus 4, else 8192).
   * [impl] The option wins over the variable (the official adapter lets the variable win), as
   * every other option of this workspace does.
   */
  maxTokens?: number;
  /** When tool schemas are strict (default `adaptive`). */
  toolCallingMode?: AnthropicToolCallingMode;
  /**
   * How long a request may wait for the response headers, in ms (default 120000; the SDK's own
   * timeout, which ends when the headers arrive).
   */
  timeoutMs?: number;
  /**
   * The longest gap between two events of a streamed response, in ms (default 120000). [impl]
   * The API sends `ping`s while it works, so a quiet stream is a stalled one.
   */
  streamIdleTimeoutMs?: number;
  /**
   * More fields of every request, as the Messages API names them (`thinking`, `metadata`,
   * `service_tier`, …). `tools` here are added after the toolkits' tools (server tools such as
   * web search).
   */
  messageOptions?: JsonObject;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** The provider name turns select the adapter by (default `anthropic`). */
  provider?: string;
}

/**
 * The model used when neither the options nor `ANTHROPIC_MODEL` name one. [impl] The official
 * default, `claude-3-5-sonnet-latest`, is retired and absent from the pinned SDK's model list;
 * this is the newest Sonnet that list names (the tier the official default picked).
 */
export const DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-5-5";

/** `max_tokens` by model prefix when nothing else sets it (the official table), else 8192. */
const MAX_TOKENS_BY_MODEL: readonly [prefix: string, tokens: number][] = [
  ["claude-opus-4-6", 128_000],
  ["claude-sonnet-4", 64_000],
  ["claude-3-7-sonnet", 64_000],
  ["claude-opus-4", 32_000],
];
const FALLBACK_MAX_TOKENS = 8192;

/** Fields of `LLMResponseRequest.options` passed on to the request (others are ignored). */
const REQUEST_OPTIONS = [
  "max_tokens",
  "thinking",
  "metadata",
  "stop_sequences",
  "service_tier",
  "speed",
  "inference_geo",
  "container",
  "cache_control",
  "output_config",
] as const;

/** How many `pause_turn` continuations one response may take (the official limit). */
const MAX_PAUSE_TURNS = 5;

/** The assistant message that marks where a person steered the turn (the official marker). */
export const ANTHROPIC_STEERING_MARKER = "TURN INTERRUPTED";
const STEERING_INSTRUCTIONS = "If the transcript contains an assistant message exactly equal to " +
  `'${ANTHROPIC_STEERING_MARKER}', then treat the immediately following user message as ` +
  "steering that takes precedence over any unfinished prior plan.";

/** Stop reasons that end a response with an error: [code, message]. */
const STOP_ERRORS: Record<string, [string, string]> = {
  max_tokens: [
    "max_tokens",
    "the Anthropic response hit max_tokens before completing the turn; raise maxTokens " +
    "(or ANTHROPIC_MAX_TOKENS) and retry",
  ],
  model_context_window_exceeded: [
    "context_window_exceeded",
    "the Anthropic response hit the model's context window before completing the turn",
  ],
  refusal: ["refusal", "Anthropic refused to respond"],
};

/** A 400 saying the strict tools compile to too large a grammar: send them loose and retry. */
const GRAMMAR_TOO_LARGE = /compiled grammar is too large|reduce the number of strict tools/i;

function positiveInteger(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return number;
}

/**
 * An {@linkcode LLMAdapterBase} on Anthropic's Messages API (npm `@anthropic-ai/sdk`), the
 * official `AnthropicMessagesAdapter`: each model round streams `POST /v1/messages` (text and
 * thinking as they arrive; tool calls with their arguments as they stream), and the shared loop
 * runs the tools and retries. On every round the provider-neutral context is rebuilt as
 * Anthropic messages: rules → `system`; toolkits → flat tools (`name`, `description`,
 * `input_schema`, `strict` per {@linkcode AnthropicToolCallingMode}); tool results → `tool_result`
 * blocks in the next user message (`is_error` for failures, images and PDFs as blocks); messages
 * of one role merged so roles alternate; thinking blocks (with their signatures, kept in the
 * reasoning items' `state`) sent back as they came.
 *
 * Also: `pause_turn` continues the turn (up to 5 times); `max_tokens`, `refusal` and a full
 * context window end it with an {@linkcode LLMError} that says so; usage counts cached and
 * thinking tokens; an output schema becomes `output_config.format` (structured outputs, the
 * schema made strict by the SDK's transform); steering is marked with an assistant
 * `TURN INTERRUPTED` message that the system prompt explains; the person a turn is for is sent
 * as `Meshagent-On-Behalf-Of`. The SDK client is made with `maxRetries: 0`: the base retries
 * 408/409/429/≥500, overloaded streams and network errors, honouring `retry-after`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AnthropicMessagesAdapter } from "@meshagent/adapters/anthropic";
 * import { FakeAnthropicServer } from "@meshagent/adapters/anthropic/testing";
 *
 * await using server = await FakeAnthropicServer.start([{ text: "Hello, Ada." }]);
 * const adapter = new AnthropicMessagesAdapter({ baseURL: server.url, apiKey: "test-key" });
 * const context = adapter.createSession(["Be brief."]);
 * context.appendUserMessage("Hi, I am Ada.");
 * const response = await adapter.createResponse({
 *   context,
 *   caller: { id: "agent", attributes: {} },
 *   toolkits: [],
 * });
 * assert.equal(response.text, "Hello, Ada.");
 * assert.match(String(server.requests[0].body.system), /^Be brief\./);
 * ```
 */
export class AnthropicMessagesAdapter extends LLMAdapterBase {
  /** The provider name. */
  readonly provider: string;
  /** A display name. */
  readonly friendlyName: string = "Anthropic";
  /** The tool schema mode. */
  readonly toolCallingMode: AnthropicToolCallingMode;
  readonly #baseURL: string;
  readonly #apiKey: string | null;
  readonly #maxTokens: number | undefined;
  readonly #timeoutMs: number;
  readonly #idleMs: number;
  readonly #messageOptions: JsonObject;
  readonly #headers: Record<string, string>;
  readonly #blocks: AnthropicMessagesToolResponseAdapter;
  /** Tools (`toolkit\0tool`) that failed once: strict from now on in adaptive mode. */
  readonly #failed = new Set<string>();
  /** Set when the API refused the strict tools' grammar as too large (adaptive mode). */
  #strictDisabled = false;
  readonly #pauses = new WeakMap<LLMResponseRequest, number>();
  #client: Anthropic | null = null;

  /**
   * Creates an adapter; the key and base URL are resolved now, the client on the first request.
   *
   * @param options Model, key, base URL, limits, tool mode, retries.
   * @throws {RangeError} When `ANTHROPIC_MAX_TOKENS` or `maxTokens` is not a positive integer, or
   * `toolCallingMode` is unknown.
   */
  constructor(options: AnthropicMessagesAdapterOptions = {}) {
    const toolResponseAdapter = options.toolResponseAdapter ??
      new AnthropicMessagesToolResponseAdapter();
    super(
      {
        ...options,
        toolResponseAdapter,
        model: options.model ?? envVar("ANTHROPIC_MODEL", options.env),
      },
      DEFAULT_ANTHROPIC_MODEL,
    );
    this.provider = options.provider ?? "anthropic";
    const mode = options.toolCallingMode ?? "adaptive";
    if (!["loose", "strict", "explicit", "adaptive"].includes(mode)) {
      throw new RangeError(
        `toolCallingMode must be loose, strict, explicit or adaptive, not ${mode}`,
      );
    }
    this.toolCallingMode = mode;
    const config = anthropicClientConfig(options);
    this.#baseURL = config.baseURL;
    this.#apiKey = config.apiKey;
    this.#maxTokens = options.maxTokens !== undefined
      ? positiveInteger(String(options.maxTokens), "maxTokens")
      : positiveInteger(envVar("ANTHROPIC_MAX_TOKENS", options.env), "ANTHROPIC_MAX_TOKENS");
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    this.#idleMs = options.streamIdleTimeoutMs ?? 120_000;
    this.#messageOptions = { ...options.messageOptions };
    this.#headers = { ...options.headers };
    this.#blocks = toolResponseAdapter instanceof AnthropicMessagesToolResponseAdapter
      ? toolResponseAdapter
      : new AnthropicMessagesToolResponseAdapter();
  }

  /** The base URL requests go to. */
  get baseURL(): string {
    return this.#baseURL;
  }

  /**
   * The `max_tokens` a request for `model` asks for.
   *
   * @param model The model.
   * @returns The configured value, else the official default for that model.
   */
  maxTokensFor(model: string): number {
    if (this.#maxTokens !== undefined) return this.#maxTokens;
    const name = model.trim().toLowerCase();
    return MAX_TOKENS_BY_MODEL.find(([prefix]) => name.startsWith(prefix))?.[1] ??
      FALLBACK_MAX_TOKENS;
  }

  /**
   * Runs a response; a steering message is preceded by the `TURN INTERRUPTED` marker.
   *
   * @param request The response request.
   * @returns The response.
   */
  override createResponse(request: LLMResponseRequest): Promise<LLMResponse> {
    const steering = request.steering;
    if (!steering) return super.createResponse(request);
    return super.createResponse({
      ...request,
      steering: async () => {
        const items = await steering();
        if (items.length === 0) return items;
        const marker: SessionItem = { kind: "assistant", text: ANTHROPIC_STEERING_MARKER };
        return [marker, ...items];
      },
    });
  }

  /**
   * Remembers a failed tool: in adaptive mode its schema is strict from the next round on.
   *
   * @param tool The tool that failed.
   */
  protected override onToolFailure(tool: IndexedTool): void {
    if (this.toolCallingMode !== "adaptive" || tool.tool.strict === false) return;
    this.#failed.add(`${tool.toolkit.name}\u0000${tool.tool.name}`);
  }

  #strictFor(entry: IndexedTool): boolean {
    switch (this.toolCallingMode) {
      case "loose":
        return false;
      case "strict":
        return true;
      // [impl] A tool's `strict: null` (unspecified) is loose in explicit mode (it asked for
      // nothing) but may tighten in adaptive mode (the official tools default to strict: true).
      case "explicit":
        return entry.tool.strict === true;
      case "adaptive":
        return !this.#strictDisabled &&
          this.#failed.has(`${entry.toolkit.name}\u0000${entry.tool.name}`);
    }
  }

  #tools(round: LLMRound): { tools: Block[]; strict: boolean } {
    let anyStrict = false;
    const tools: Block[] = round.tools.tools.map((entry) => {
      let schema: Record<string, unknown> = { ...(entry.tool.inputSchema ?? {}) };
      if (schema.type === undefined) schema = { type: "object", properties: {}, ...schema };
      if (entry.tool.defs) schema.$defs = entry.tool.defs;
      let strict = this.#strictFor(entry);
      if (strict) {
        try {
          schema = transformJSONSchema(schema);
        } catch {
          strict = false; // a schema the transform cannot make strict is sent as it is
        }
      }
      anyStrict ||= strict;
      return {
        name: entry.flatName,
        ...(entry.tool.description ? { description: entry.tool.description } : {}),
        input_schema: schema,
        strict,
      };
    });
    const extra = this.#messageOptions.tools;
    if (Array.isArray(extra)) tools.push(...(extra as Block[]));
    return { tools, strict: anyStrict };
  }

  #toolChoice(round: LLMRound): Block | undefined {
    const choice = round.request.toolChoice;
    if (!choice || choice === "auto") return undefined;
    if (choice === "none") return { type: "none" };
    // A forced call applies to the first round only: forcing every round would never end. [impl]
    if (round.number > 1) return undefined;
    if (choice === "required") return { type: "any" };
    const entry = round.tools.resolve(
      choice.toolkit ? safeToolName(choice.toolkit) : null,
      safeToolName(choice.tool),
    );
    if (!entry) {
      throw new LLMError(
        `tool_choice names ${choice.toolkit ? `${choice.toolkit}.` : ""}${choice.tool}, ` +
          "which is not one of this turn's tools",
        "invalid_request",
      );
    }
    return { type: "tool", name: entry.flatName };
  }

  #body(round: LLMRound): { body: Record<string, unknown>; strict: boolean } {
    const { request, model } = round;
    const rules = request.context.rules.filter((rule) => rule.trim() !== "");
    const { tools, strict } = this.#tools(round);
    const flat = new Map(
      round.tools.tools.map((t) => [`${t.toolkit.name}\u0000${t.tool.name}`, t]),
    );
    const messages = toAnthropicMessages(request.context.items, {
      toolName: (toolkit, tool) =>
        flat.get(`${toolkit}\u0000${tool}`)?.flatName ?? safeToolName(tool),
      toolResultContent: (parts) => this.#blocks.toolResultContent(parts),
    });
    const perRequest: Record<string, unknown> = {};
    for (const key of REQUEST_OPTIONS) {
      if (request.options?.[key] !== undefined) perRequest[key] = request.options[key];
    }
    const outputConfig = {
      ...(this.#messageOptions.output_config as object | undefined),
      ...(perRequest.output_config as object | undefined),
      ...(request.outputSchema
        ? { format: { type: "json_schema", schema: transformJSONSchema(request.outputSchema) } }
        : {}),
    };
    const toolChoice = tools.length > 0 ? this.#toolChoice(round) : undefined;
    const body: Record<string, unknown> = {
      ...this.#messageOptions,
      ...perRequest,
      model,
      max_tokens: perRequest.max_tokens ?? this.maxTokensFor(model),
      system: [...rules, STEERING_INSTRUCTIONS].join("\n\n"),
      messages,
    };
    delete body.tools;
    delete body.output_config;
    if (tools.length > 0) body.tools = tools;
    if (toolChoice) body.tool_choice = toolChoice;
    if (Object.keys(outputConfig).length > 0) body.output_config = outputConfig;
    return { body, strict };
  }

  #anthropic(): Anthropic {
    if (this.#client) return this.#client;
    if (this.#apiKey === null) throw new LLMError(MISSING_KEY_MESSAGE, "not_configured");
    this.#client = new Anthropic({
      apiKey: this.#apiKey,
      baseURL: this.#baseURL,
      maxRetries: 0,
      timeout: this.#timeoutMs,
      defaultHeaders: this.#headers,
      // [impl] No SDK spans: they cost on every request and read ANTHROPIC_OPEN_TELEMETRY_*.
      openTelemetry: false,
    });
    return this.#client;
  }

  /**
   * One streamed Messages API request.
   *
   * @param round The request, model, tools, event sink and abort signal.
   * @returns What the model said and which tools it called.
   * @throws {LLMError} For a stop that ends the turn (`max_tokens`, `refusal`, a full context
   * window, too many pauses), a bad `tool_choice`, or a missing key.
   */
  protected async round(round: LLMRound): Promise<LLMRoundResult> {
    const client = this.#anthropic();
    let { body, strict } = this.#body(round);
    const onBehalfOf = round.request.onBehalfOf;
    const name = onBehalfOf?.name ??
      (typeof onBehalfOf?.attributes.name === "string" ? onBehalfOf.attributes.name : undefined);
    const headers = name ? { "Meshagent-On-Behalf-Of": name } : undefined;
    let result: ReadResult;
    try {
      result = await this.#stream(client, body, headers, round);
    } catch (error) {
      if (
        !(error instanceof APIError && error.status === 400 && strict &&
          this.toolCallingMode === "adaptive" && GRAMMAR_TOO_LARGE.test(error.message))
      ) throw error;
      // The official fallback: strict tools off for this adapter, and the request again.
      this.#strictDisabled = true;
      ({ body, strict } = this.#body(round));
      result = await this.#stream(client, body, headers, round);
    }
    const { context } = round.request;
    context.metadata.last_response_usage = result.rawUsage;
    context.metadata.last_response_model = round.model;
    const stop = result.stopReason;
    if (stop === "max_tokens" && result.toolCalls.length > 0) {
      throw new LLMError(
        "the Anthropic response hit max_tokens before completing its tool calls; raise " +
          "maxTokens (or ANTHROPIC_MAX_TOKENS) and retry",
        "max_tokens",
      );
    }
    if (stop && STOP_ERRORS[stop]) throw new LLMError(STOP_ERRORS[stop][1], STOP_ERRORS[stop][0]);
    if (stop === "pause_turn") {
      const pauses = (this.#pauses.get(round.request) ?? 0) + 1;
      this.#pauses.set(round.request, pauses);
      if (pauses > MAX_PAUSE_TURNS) {
        throw new LLMError(
          `the Anthropic response paused more than ${MAX_PAUSE_TURNS} times; stopped`,
          "too_many_pauses",
        );
      }
      return { items: result.items, toolCalls: [], usage: result.usage, continue: true };
    }
    return { items: result.items, toolCalls: result.toolCalls, usage: result.usage };
  }

  async #stream(
    client: Anthropic,
    body: Record<string, unknown>,
    headers: Record<string, string> | undefined,
    round: LLMRound,
  ): Promise<ReadResult> {
    const idle = new AbortController();
    const signal = AbortSignal.any([round.signal, idle.signal]);
    const stream = await client.messages.create(
      { ...body, stream: true } as unknown as Anthropic.MessageCreateParamsStreaming,
      { signal, ...(headers ? { headers } : {}) },
    );
    const reader = new StreamReader(round.emit, (name) => round.tools.byFlatName(name));
    // One timer per response, re-armed only when it fires: cheaper than one per event.
    let last = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = (ms: number) => {
      timer = setTimeout(() => {
        const quiet = Date.now() - last;
        if (quiet >= this.#idleMs) idle.abort(new StreamStalledError(this.#idleMs));
        else arm(this.#idleMs - quiet);
      }, ms);
    };
    arm(this.#idleMs);
    try {
      for await (const event of stream) {
        last = Date.now();
        reader.read(event);
      }
    } finally {
      clearTimeout(timer);
    }
    // The SDK ends an aborted stream quietly: say why it ended.
    if (round.signal.aborted) throw round.signal.reason;
    if (idle.signal.aborted) throw idle.signal.reason;
    const result = reader.result();
    if (!result.complete) throw new StreamCutError();
    return result;
  }

  /**
   * The official retry policy: 408, 409, 429 and ≥500 (529 overloaded too), overloaded or
   * rate-limited streams, cut or stalled streams and network errors are retried, honouring
   * `retry-after-ms` / `retry-after`; other errors end the response.
   *
   * @param error What the request threw.
   * @returns Whether to retry, and what to tell the person.
   */
  protected classifyError(error: unknown): LLMErrorClass {
    return classifyAnthropicError(error, this.#baseURL);
  }
}
