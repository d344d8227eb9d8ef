import type { JsonObject } from "@meshagent/api";
import {
  type AgentAudioFormat,
  type AgentSessionContext,
  DEFAULT_AUDIO_FORMAT,
  LLMAdapterBase,
  type LLMAdapterBaseOptions,
  LLMError,
  type LLMErrorClass,
  type LLMModelInfo,
  type LLMRound,
  type LLMRoundResult,
  type LLMToolCall,
  type RealtimeAudioAdapter,
  type SessionItem,
} from "@meshagent/agents";
import { classifyOpenAIError, OpenAIStreamError } from "./_errors.ts";
import type { RealtimeEvent, RealtimeSocket } from "./_realtime_socket.ts";
import { instructions } from "./_responses_request.ts";
import {
  type OpenAIClientConfig,
  type OpenAIClientOptions,
  resolveOpenAIClientConfig,
} from "./openai_client_options.ts";

/** Options of an {@linkcode OpenAIRealtimeAdapter}. */
export interface OpenAIRealtimeAdapterOptions extends LLMAdapterBaseOptions, OpenAIClientOptions {
  /** The default model (default `gpt-realtime`). */
  model?: string;
  /** The provider name turns select it by (default `openai-realtime`, as the official adapter). */
  provider?: string;
  /** The voice (default `echo`). */
  voice?: string;
  /** The input transcription model (default `gpt-realtime-whisper`; null: no transcripts). */
  transcriptionModel?: string | null;
  /** The audio format both ways (default PCM16 mono 24 kHz). */
  audioFormat?: AgentAudioFormat;
  /** More `session` fields for `session.update` (they win over the adapter's). */
  sessionOptions?: JsonObject;
  /** The longest wait for a server event, in ms (default 60000). */
  eventTimeoutMs?: number;
}

/** A thread's open realtime session. */
interface Connection {
  socket: RealtimeSocket;
  model: string;
  /** The `session` last sent, as JSON (a change sends `session.update` again). */
  session: string;
  /** Context items the server holds already (it made them, or they were sent). */
  held: WeakSet<SessionItem>;
  /** Call ids of function calls the server made. */
  calls: Set<string>;
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** The PCM samples of a WAV file (its `data` chunk), or the bytes as they are. */
function pcmOf(audio: Uint8Array, format?: AgentAudioFormat): Uint8Array {
  const type = (format?.type ?? "").split(";")[0].trim().toLowerCase();
  const riff = audio.length >= 44 && String.fromCharCode(...audio.subarray(0, 4)) === "RIFF" &&
    String.fromCharCode(...audio.subarray(8, 12)) === "WAVE";
  if (!riff && !["audio/wav", "audio/wave", "audio/x-wav"].includes(type)) return audio;
  const view = new DataView(audio.buffer, audio.byteOffset, audio.byteLength);
  let offset = 12;
  while (offset + 8 <= audio.length) {
    const id = String.fromCharCode(...audio.subarray(offset, offset + 4));
    const size = view.getUint32(offset + 4, true);
    if (id === "data") return audio.subarray(offset + 8, Math.min(audio.length, offset + 8 + size));
    offset += 8 + size + (size % 2);
  }
  return audio;
}

const AUDIO_DELTA = new Set(["response.output_audio.delta", "response.audio.delta"]);
const AUDIO_DONE = new Set(["response.output_audio.done", "response.audio.done"]);
const TEXT_DELTA = new Set([
  "response.output_audio_transcript.delta",
  "response.audio_transcript.delta",
  "response.output_text.delta",
  "response.text.delta",
]);

/**
 * Speech to speech on OpenAI's Realtime API (agents.md §1.9): one websocket per thread
 * (`<base>/realtime?model=…`, opened on the thread's first audio or turn). Spoken input arrives as
 * `realtime_audio.chunk` messages ({@linkcode appendRealtimeAudio}: `input_audio_buffer.append`)
 * and a `realtime_audio.commit` ({@linkcode commitRealtimeAudio}: `input_audio_buffer.commit`);
 * each response is a `response.create` whose events become agent events — the user's transcript
 * (`audio_transcription.*`, role `user`), the answer's transcript (`text_content.*`) and its audio
 * (`audio_generation.*`, PCM bytes in `data`). Function calls run through the shared tool loop
 * ({@linkcode LLMAdapterBase}) and their outputs go back as `conversation.item.create`; text turns
 * work too. Turn detection is off [impl]: the client's commit ends the spoken input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OpenAIRealtimeAdapter } from "@meshagent/adapters/openai";
 * import { FakeOpenAIServer } from "@meshagent/adapters/openai/testing";
 *
 * await using server = await FakeOpenAIServer.start({
 *   realtime: { transcribe: () => "hello", replies: [{ transcript: "hi there" }] },
 * });
 * const adapter = new OpenAIRealtimeAdapter({ baseURL: server.baseURL, apiKey: "test" });
 * const context = adapter.createSession(["Be brief."]);
 * await adapter.appendRealtimeAudio(context, new Uint8Array(4800), {});
 * await adapter.commitRealtimeAudio(context);
 * const events: string[] = [];
 * const response = await adapter.createResponse({
 *   context, caller: { id: "agent", attributes: {} }, toolkits: [], onEvent: (e) => events.push(e.type),
 * });
 * assert.equal(response.text, "hi there");
 * assert.ok(events.includes("audio_transcription.completed") && events.includes("audio_generation.delta"));
 * await adapter.closeRealtimeSession(context);
 * ```
 */
export class OpenAIRealtimeAdapter extends LLMAdapterBase implements RealtimeAudioAdapter {
  /** The provider name. */
  readonly provider: string;
  /** A display name. */
  readonly friendlyName: string;
  readonly #options: OpenAIRealtimeAdapterOptions;
  readonly #config: OpenAIClientConfig | LLMError;
  readonly #connections = new WeakMap<AgentSessionContext, Promise<Connection>>();
  readonly #format: AgentAudioFormat;

  /**
   * Creates the adapter. Nothing connects until a thread speaks or asks.
   *
   * @param options Model, voice, connection, formats.
   */
  constructor(options: OpenAIRealtimeAdapterOptions = {}) {
    super(
      {
        ...options,
        models: options.models ??
          [{ name: options.model ?? "gpt-realtime", modalities: ["text", "audio"] }],
      },
      "gpt-realtime",
    );
    this.provider = options.provider ?? "openai-realtime";
    this.friendlyName = "OpenAI Realtime";
    this.#options = options;
    this.#format = options.audioFormat ?? DEFAULT_AUDIO_FORMAT;
    try {
      this.#config = resolveOpenAIClientConfig(options);
    } catch (error) {
      if (!(error instanceof LLMError)) throw error;
      this.#config = error;
    }
  }

  /** The models offered (text and audio). */
  override listModels(): Promise<LLMModelInfo[]> {
    return super.listModels();
  }

  #session(context: AgentSessionContext, tools?: JsonObject[]): JsonObject {
    const rate = this.#format.sample_rate ?? 24000;
    const transcription = this.#options.transcriptionModel === undefined
      ? "gpt-realtime-whisper"
      : this.#options.transcriptionModel;
    const session: JsonObject = {
      type: "realtime",
      output_modalities: ["audio"],
      audio: {
        input: {
          format: { type: this.#format.type, rate },
          turn_detection: null,
          ...(transcription ? { transcription: { model: transcription } } : {}),
        },
        output: { format: { type: this.#format.type, rate }, voice: this.#options.voice ?? "echo" },
      },
      ...this.#options.sessionOptions,
    };
    const text = instructions(context.rules);
    if (text !== undefined) session.instructions = text;
    if (tools) session.tools = tools;
    return session;
  }

  #connection(context: AgentSessionContext, model: string): Promise<Connection> {
    let pending = this.#connections.get(context);
    if (pending) {
      return pending.then(async (connection) => {
        if (!connection.socket.closed && connection.model === model) return connection;
        this.#connections.delete(context);
        await connection.socket.close();
        return this.#connection(context, model);
      });
    }
    pending = (async () => {
      if (this.#config instanceof LLMError) throw this.#config;
      const config = this.#config;
      const url = new URL(`${config.baseURL}/realtime`);
      url.protocol = url.protocol === "https:"
        ? "wss:"
        : url.protocol === "http:"
        ? "ws:"
        : url.protocol;
      url.searchParams.set("model", model);
      const { RealtimeSocket } = await import("./_realtime_socket.ts");
      const socket = await RealtimeSocket.open(url.toString(), {
        ...config.headers,
        "User-Agent": config.userAgent,
        ...(config.apiKey ? { Authorization: `Bearer ${config.apiKey}` } : {}),
      }, 30_000);
      const connection: Connection = {
        socket,
        model,
        session: "",
        held: new WeakSet(),
        calls: new Set(),
      };
      await this.#update(connection, this.#session(context), new AbortController().signal);
      return connection;
    })();
    pending.catch(() => this.#connections.delete(context));
    this.#connections.set(context, pending);
    return pending;
  }

  /** Sends `session.update` when the session changed, and waits for `session.updated`. */
  async #update(connection: Connection, session: JsonObject, signal: AbortSignal): Promise<void> {
    const text = JSON.stringify(session);
    if (text === connection.session) return;
    connection.socket.send({ type: "session.update", session });
    // Events of the spoken input (its transcript) may come first: they stay for the response.
    const other: RealtimeEvent[] = [];
    try {
      while (true) {
        const event = await connection.socket.next(signal, this.#timeout());
        if (event.type === "session.updated") break;
        if (event.type === "error") throw this.#error(event);
        other.push(event);
      }
    } finally {
      connection.socket.requeue(other);
    }
    connection.session = text;
  }

  #timeout(): number {
    return this.#options.eventTimeoutMs ?? 60_000;
  }

  #error(event: RealtimeEvent): OpenAIStreamError {
    const error = event.error ?? {};
    return new OpenAIStreamError(
      String(error.message ?? "the Realtime API reported an error"),
      typeof error.code === "string"
        ? error.code
        : typeof error.type === "string"
        ? error.type
        : null,
    );
  }

  /**
   * Buffers spoken input (`input_audio_buffer.append`); WAV input is sent as its PCM samples.
   *
   * @param context The thread's context.
   * @param audio PCM16 mono at the session's rate (24 kHz by default), or a WAV file of it.
   * @param options The format and the model.
   */
  async appendRealtimeAudio(
    context: AgentSessionContext,
    audio: Uint8Array,
    options: { format?: AgentAudioFormat; model?: string },
  ): Promise<void> {
    const connection = await this.#connection(context, options.model ?? this.defaultModel());
    connection.socket.send({
      type: "input_audio_buffer.append",
      audio: base64(pcmOf(audio, options.format)),
    });
  }

  /**
   * Ends the spoken input (`input_audio_buffer.commit`): the next response answers it.
   *
   * @param context The thread's context.
   */
  async commitRealtimeAudio(context: AgentSessionContext): Promise<void> {
    const pending = this.#connections.get(context);
    if (!pending) {
      throw new LLMError("no spoken input to commit: send audio chunks first", "invalid_request");
    }
    (await pending).socket.send({ type: "input_audio_buffer.commit" });
  }

  /**
   * Closes the thread's websocket.
   *
   * @param context The thread's context.
   */
  async closeRealtimeSession(context: AgentSessionContext): Promise<void> {
    const pending = this.#connections.get(context);
    this.#connections.delete(context);
    const connection = await pending?.catch(() => null);
    await connection?.socket.close();
  }

  /** Sends the context items the server does not hold yet. */
  #sync(connection: Connection, round: LLMRound): void {
    for (const item of round.request.context.items) {
      if (connection.held.has(item)) continue;
      connection.held.add(item);
      let created: JsonObject | null = null;
      switch (item.kind) {
        case "user":
          created = {
            type: "message",
            role: "user",
            content: [{ type: "input_text", text: item.text }],
          };
          break;
        case "assistant":
          created = {
            type: "message",
            role: "assistant",
            content: [{ type: "output_text", text: item.text }],
          };
          break;
        case "tool_call": {
          if (connection.calls.has(item.callId)) break;
          const entry = round.tools.resolve(item.toolkit || null, item.tool) ??
            round.tools.tools.find((t) =>
              t.toolkit.name === item.toolkit && t.tool.name === item.tool
            );
          created = {
            type: "function_call",
            call_id: item.callId,
            name: entry?.flatName ?? item.tool,
            arguments: item.arguments,
          };
          break;
        }
        case "tool_result":
          created = {
            type: "function_call_output",
            call_id: item.callId,
            output: item.output.map((part) => part.type === "text" ? part.text : `[${part.type}]`)
              .join("\n"),
          };
          break;
      }
      if (created) connection.socket.send({ type: "conversation.item.create", item: created });
    }
  }

  /**
   * One `response.create`: the new context items are sent first, then the events are read until
   * `response.done`.
   *
   * @param round The round.
   * @returns The user's transcript (spoken input), the answer's transcript and the function calls.
   */
  protected async round(round: LLMRound): Promise<LLMRoundResult> {
    const context = round.request.context;
    const connection = await this.#connection(context, round.model);
    const tools = round.tools.tools.map((entry) => ({
      type: "function",
      name: entry.flatName,
      description: entry.tool.description,
      parameters: entry.tool.inputSchema ?? { type: "object", properties: {} },
    }));
    await this.#update(connection, this.#session(context, tools), round.signal);
    this.#sync(connection, round);
    const choice = round.request.toolChoice;
    connection.socket.send({
      type: "response.create",
      ...(choice === "none" || choice === "required" ? { response: { tool_choice: choice } } : {}),
    });
    const onAbort = () => {
      try {
        connection.socket.send({ type: "response.cancel" });
      } catch { /* closed */ }
    };
    round.signal.addEventListener("abort", onAbort, { once: true });
    const items: SessionItem[] = [];
    const toolCalls: LLMToolCall[] = [];
    const texts = new Map<string, string>();
    const audio = new Set<string>();
    const transcribing = new Set<string>();
    try {
      while (true) {
        const event = await connection.socket.next(round.signal, this.#timeout());
        const itemId = String(event.item_id ?? "");
        if (event.type === "error") throw this.#error(event);
        if (event.type === "conversation.item.input_audio_transcription.delta") {
          if (!transcribing.has(itemId)) {
            transcribing.add(itemId);
            round.emit({ type: "audio_transcription.started", item_id: itemId, role: "user" });
          }
          round.emit({
            type: "audio_transcription.delta",
            item_id: itemId,
            role: "user",
            text: String(event.delta ?? ""),
          });
        } else if (event.type === "conversation.item.input_audio_transcription.completed") {
          const text = String(event.transcript ?? "");
          round.emit({
            type: "audio_transcription.completed",
            item_id: itemId,
            role: "user",
            text,
          });
          items.push({ kind: "user", text });
        } else if (event.type === "conversation.item.input_audio_transcription.failed") {
          round.emit({
            type: "audio_transcription.failed",
            item_id: itemId,
            role: "user",
            error: { message: String(event.error?.message ?? "the transcription failed") },
          });
        } else if (AUDIO_DELTA.has(event.type)) {
          if (!audio.has(itemId)) {
            audio.add(itemId);
            round.emit({ type: "audio_generation.started", item_id: itemId, format: this.#format });
          }
          round.emit({
            type: "audio_generation.delta",
            item_id: itemId,
            data: fromBase64(String(event.delta ?? "")),
            format: this.#format,
          });
        } else if (AUDIO_DONE.has(event.type)) {
          round.emit({ type: "audio_generation.ended", item_id: itemId });
        } else if (TEXT_DELTA.has(event.type)) {
          if (!texts.has(itemId)) {
            texts.set(itemId, "");
            round.emit({ type: "text_content.started", item_id: itemId });
          }
          const delta = String(event.delta ?? "");
          texts.set(itemId, texts.get(itemId)! + delta);
          round.emit({ type: "text_content.delta", item_id: itemId, text: delta });
        } else if (event.type === "response.done") {
          const response = event.response ?? {};
          if (response.status === "failed") {
            throw new OpenAIStreamError(
              String(response.status_details?.error?.message ?? "the realtime response failed"),
              null,
            );
          }
          for (const output of (response.output ?? []) as JsonObject[]) {
            if (output.type === "function_call") {
              const callId = String(output.call_id ?? output.id);
              connection.calls.add(callId);
              toolCalls.push({
                callId,
                itemId: String(output.id ?? callId),
                name: String(output.name ?? ""),
                arguments: typeof output.arguments === "string" ? output.arguments : "{}",
              });
            } else if (output.type === "message" && !texts.has(String(output.id))) {
              const content = Array.isArray(output.content) ? output.content as JsonObject[] : [];
              const text = content.map((c) => String(c.transcript ?? c.text ?? "")).join("");
              if (text !== "") texts.set(String(output.id), text);
            }
          }
          for (const [id, text] of texts) {
            round.emit({ type: "text_content.ended", item_id: id, text });
            items.push({ kind: "assistant", text, itemId: id });
          }
          for (const item of items) connection.held.add(item);
          const usage = response.usage as JsonObject | undefined;
          return {
            items,
            toolCalls,
            ...(usage
              ? {
                usage: {
                  input_tokens: Number(usage.input_tokens ?? 0),
                  output_tokens: Number(usage.output_tokens ?? 0),
                },
              }
              : {}),
          };
        }
      }
    } catch (error) {
      if (round.signal.aborted) throw new LLMError("the response was interrupted", "interrupted");
      throw error;
    } finally {
      round.signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Like the Responses adapter: retry transport errors and 408/409/429/≥500.
   *
   * @param error What the round threw.
   * @returns The class.
   */
  protected classifyError(error: unknown): LLMErrorClass {
    return classifyOpenAIError(error, "the OpenAI Realtime request");
  }
}
