import type { JsonObject, RoomClient } from "@meshagent/api";
import { FunctionTool, Toolkit } from "@meshagent/tools";
import { sessionItemsFromMessages } from "./agent_event_reader.ts";
import {
  type AgentError,
  type AgentInputContent,
  type AgentMessage,
  agentMessage,
  agentMessageKind,
  contentText,
} from "./agent_message.ts";
import type {
  AgentSessionContext,
  SessionAttachment,
  SessionItem,
} from "./agent_session_context.ts";
import type { ChannelMessage, ChannelParticipant } from "./channel.ts";
import { type AgentEvent, type LLMAdapter, LLMError, type LLMToolChoice } from "./llm_adapter.ts";
import type { ThreadStorage } from "./thread_storage.ts";
import { supportsRealtimeAudio } from "./realtime_audio.ts";

/** What a process needs from its supervisor. */
export interface AgentProcessHost {
  /** The agent as a tool caller. */
  readonly agent: ChannelParticipant;
  /** The room, when there is one (tools run in it; `room://` attachments are read from it). */
  readonly room: RoomClient | null;
  /** The adapters by provider name. */
  readonly adapters: ReadonlyMap<string, LLMAdapter>;
  /** The default provider. */
  readonly defaultProvider: string;
  /** Sends a message the process made (stored and fanned out by the supervisor). */
  emit(message: AgentMessage): void;
  /** The rules every turn starts from. */
  rules(turn: TurnRequest): string[] | Promise<string[]>;
  /** The toolkits of a turn (static, required, channel and turn toolkits, MCP servers). */
  toolkits(turn: TurnRequest): Promise<Toolkit[]>;
  /** Whether a tool call needs approval. */
  requiresApproval?(toolkit: string, tool: string): boolean;
  /** The largest attachment read from the room for the model, in bytes (default 20 MiB). */
  readonly maxAttachmentBytes?: number;
}

/** A turn as the process runs it. */
export interface TurnRequest {
  /** The thread. */
  threadId: string;
  /** The turn id. */
  turnId: string;
  /** The `turn.start` message. */
  message: AgentMessage;
  /** Who started it. */
  sender: ChannelParticipant;
  /** The provider. */
  provider: string;
  /** The model. */
  model: string;
}

interface ActiveTurn extends TurnRequest {
  controller: AbortController;
  steers: { message: AgentMessage; sender: ChannelParticipant }[];
  approvals: Map<string, (approved: boolean) => void>;
  clientCalls: Map<string, { resolve(value: unknown): void; reject(error: Error): void }>;
  usesClientToolkits: boolean;
  interruptedBy?: string;
}

function rejection(message: string, code: string): AgentError {
  return { message, code };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

const MIME_BY_EXTENSION: Readonly<Record<string, string>> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  pdf: "application/pdf",
  txt: "text/plain",
  md: "text/markdown",
  json: "application/json",
  csv: "text/csv",
  html: "text/html",
};

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * One thread of an LLM agent (agents-sources.md §2): runs its turns one at a time, queueing the
 * ones that arrive while it is busy, takes steering between model rounds, stops on interrupt, waits
 * for approvals and client tool calls, and mirrors everything into the thread's storage (through the
 * supervisor). The first turn on a thread that has stored messages rebuilds the LLM context from
 * them, so a restarted agent remembers.
 */
export class LLMAgentProcess {
  /** The thread. */
  readonly threadId: string;
  readonly #host: AgentProcessHost;
  readonly #storage: ThreadStorage;
  #session: AgentSessionContext | null = null;
  readonly #pending: ActiveTurn[] = [];
  #active: ActiveTurn | null = null;
  #running: Promise<void> | null = null;
  #provider: string;
  #model: string | null = null;
  #lastUsed = Date.now();
  #stopped = false;
  /** Realtime audio chunks, appended in order. */
  #audio: Promise<void> = Promise.resolve();

  /**
   * Creates the value.
   *
   * @param threadId The thread.
   * @param host The supervisor.
   * @param storage The thread's storage.
   */
  constructor(threadId: string, host: AgentProcessHost, storage: ThreadStorage) {
    this.threadId = threadId;
    this.#host = host;
    this.#storage = storage;
    this.#provider = host.defaultProvider;
  }

  /** The thread's storage. */
  get storage(): ThreadStorage {
    return this.#storage;
  }

  /** True while a turn runs or waits. */
  get busy(): boolean {
    return this.#active !== null || this.#pending.length > 0;
  }

  /** When it last did something (for idle stops). */
  get lastUsed(): number {
    return this.#lastUsed;
  }

  /** The active turn's id, if any. */
  get activeTurnId(): string | null {
    return this.#active?.turnId ?? null;
  }

  /** The provider and model new turns use. */
  get model(): { provider: string; model: string } {
    const adapter = this.#host.adapters.get(this.#provider);
    return { provider: this.#provider, model: this.#model ?? adapter?.defaultModel() ?? "" };
  }

  #emit(kind: string, fields: Record<string, unknown>): void {
    this.#host.emit(agentMessage(kind, { thread_id: this.threadId, ...fields }));
  }

  /**
   * Handles a message routed to this thread.
   *
   * @param message The message and its sender.
   */
  async handle(message: ChannelMessage): Promise<void> {
    this.#lastUsed = Date.now();
    const kind = agentMessageKind(message.data.type);
    switch (kind) {
      case "turn.start":
        return this.#start(message);
      case "turn.steer":
        return this.#steer(message);
      case "turn.interrupt":
        return this.#interrupt(message);
      case "realtime_audio.chunk":
        return this.#audioChunk(message);
      case "realtime_audio.commit":
        // The spoken input ends: it is the input of a turn.
        return this.#start({
          ...message,
          data: {
            ...message.data,
            type: "meshagent.agent.turn.start",
            content: [],
            realtime_audio: true,
            ...(message.data.output_modalities === undefined
              ? { output_modalities: ["audio"] }
              : {}),
          },
        });
      case "tool_call.approve":
      case "tool_call.reject": {
        const approvals = this.#active?.turnId === message.data.turn_id
          ? this.#active?.approvals
          : undefined;
        const resolve = approvals?.get(String(message.data.item_id));
        if (resolve) {
          approvals!.delete(String(message.data.item_id));
          resolve(kind === "tool_call.approve");
        }
        return;
      }
      case "client_tool_call.response": {
        const call = this.#active?.clientCalls.get(String(message.data.request_id));
        if (!call) return;
        this.#active!.clientCalls.delete(String(message.data.request_id));
        if (isObject(message.data.error)) {
          call.reject(new Error(String(message.data.error.message ?? "the client tool failed")));
        } else call.resolve(message.data.result ?? null);
        return;
      }
      case "model.change": {
        const provider = typeof message.data.provider === "string"
          ? message.data.provider
          : this.#provider;
        const adapter = this.#host.adapters.get(provider);
        if (!adapter) return;
        this.#provider = provider;
        if (typeof message.data.model === "string") this.#model = message.data.model;
        this.#emit("model.changed", this.model);
        return;
      }
      case "thread.clear":
        await this.#storage.clear();
        this.#session = null;
        this.#emit("thread.cleared", {});
        return;
    }
  }

  async #start({ data, sender }: ChannelMessage): Promise<void> {
    const provider = typeof data.provider === "string" ? data.provider : this.#provider;
    const adapter = this.#host.adapters.get(provider);
    const reject = (error: AgentError) =>
      this.#emit("turn.start.rejected", { source_message_id: data.message_id, error });
    if (!adapter) {
      return reject(rejection(`this agent has no provider ${provider}`, "unknown_provider"));
    }
    const model = typeof data.model === "string" ? data.model : (
      provider === this.#provider ? this.model.model : adapter.defaultModel()
    );
    const models = await adapter.listModels();
    const info = models.find((m) => m.name === model);
    if (!info && adapter.acceptsAnyModel !== true) {
      return reject(
        rejection(
          `the model ${model} is not offered by ${provider} (models: ${
            models.map((m) => m.name).join(", ")
          })`,
          "unknown_model",
        ),
      );
    }
    const wanted = Array.isArray(data.output_modalities) ? data.output_modalities : ["text"];
    const offered = info?.modalities ?? ["text"];
    const missing = wanted.filter((m) => !offered.includes(String(m)));
    if (missing.length > 0) {
      return reject(
        rejection(
          `the model ${model} cannot produce ${missing.join(", ")}`,
          "unsupported_modality",
        ),
      );
    }
    const turnId = typeof data.turn_id === "string" && data.turn_id !== ""
      ? data.turn_id
      : crypto.randomUUID();
    const message = { ...data, turn_id: turnId, sender_name: data.sender_name ?? sender.name };
    const turn: ActiveTurn = {
      threadId: this.threadId,
      turnId,
      message,
      sender,
      provider,
      model,
      controller: new AbortController(),
      steers: [],
      approvals: new Map(),
      clientCalls: new Map(),
      usesClientToolkits: Array.isArray(data.client_toolkits) && data.client_toolkits.length > 0,
    };
    this.#pending.push(turn);
    // The turn's input is part of the thread: stored (not echoed) so replays and restores see it.
    this.#storage.push({ ...message, thread_id: this.threadId });
    this.#emit("turn.start.accepted", {
      turn_id: turnId,
      source_message_id: data.message_id,
      content: data.content,
      sender_name: message.sender_name,
    });
    if (this.#active) {
      this.#emit("thread.status", {
        status: `${this.#pending.length} message${this.#pending.length > 1 ? "s" : ""} waiting`,
        mode: "busy",
        turn_id: this.#active.turnId,
      });
    }
    this.#schedule();
  }

  /** A chunk of spoken input: buffered in the thread's realtime session, in arrival order. */
  #audioChunk({ data, sender, attachment }: ChannelMessage): void {
    const adapter = this.#host.adapters.get(this.#provider);
    if (!adapter || !supportsRealtimeAudio(adapter)) {
      this.#emit("thread.event", {
        event: {
          id: `realtime_audio:${this.threadId}`,
          kind: "realtime_audio",
          state: "failed",
          headline: "This agent does not take spoken input",
          details: `the provider ${this.#provider} has no realtime audio; pick a realtime model`,
        },
      });
      return;
    }
    const bytes = attachment ??
      (typeof data.data === "string" && data.data !== ""
        ? Uint8Array.from(atob(data.data), (c) => c.charCodeAt(0))
        : null);
    if (!bytes || bytes.length === 0) return;
    const turn: TurnRequest = {
      threadId: this.threadId,
      turnId: "realtime",
      message: data,
      sender,
      provider: this.#provider,
      model: this.model.model,
    };
    this.#audio = this.#audio.then(async () => {
      const context = await this.#context(turn);
      await adapter.appendRealtimeAudio(context, bytes, {
        format: isObject(data.format) ? data.format as { type: string } : undefined,
        model: turn.model,
      });
    }).catch((e) => console.error(`agent thread ${this.threadId}: realtime audio:`, e));
  }

  #steer({ data, sender }: ChannelMessage): void {
    const active = this.#active;
    const reject = (error: AgentError) =>
      this.#emit("turn.steer.rejected", {
        source_message_id: data.message_id,
        turn_id: data.turn_id,
        error,
      });
    if (!active || active.turnId !== data.turn_id) {
      return reject(rejection("that turn is not in progress", "turn_not_in_progress"));
    }
    if (active.usesClientToolkits && sender.id !== active.sender.id) {
      return reject(
        rejection(
          "the turn uses the starter's client tools: only they can steer it",
          "turn_owned_by_participant",
        ),
      );
    }
    active.steers.push({
      message: { ...data, sender_name: data.sender_name ?? sender.name },
      sender,
    });
    this.#emit("turn.steer.accepted", {
      turn_id: active.turnId,
      source_message_id: data.message_id,
    });
  }

  #interrupt({ data }: ChannelMessage): void {
    const active = this.#active;
    // An interrupt for a turn that is not the active one is ignored (as the official runtime).
    if (!active || active.turnId !== data.turn_id) return;
    this.#emit("turn.interrupt.accepted", {
      turn_id: active.turnId,
      source_message_id: data.message_id,
    });
    this.#abort(active, "interrupted");
  }

  #abort(turn: ActiveTurn, why: string): void {
    turn.interruptedBy ??= why;
    turn.controller.abort(new LLMError(`the turn was ${why}`, "interrupted"));
    for (const resolve of turn.approvals.values()) resolve(false);
    turn.approvals.clear();
    for (const call of turn.clientCalls.values()) call.reject(new Error(`the turn was ${why}`));
    turn.clientCalls.clear();
  }

  /**
   * A participant left: a turn that depends on its client tools cannot go on.
   *
   * @param participant Who left.
   */
  participantLeft(participant: ChannelParticipant): void {
    const active = this.#active;
    if (active?.usesClientToolkits && active.sender.id === participant.id) {
      this.#abort(active, "ended: the participant whose tools it used left");
    }
  }

  #schedule(): void {
    if (this.#running || this.#stopped) return;
    this.#running = (async () => {
      let next: ActiveTurn | undefined;
      while (!this.#stopped && (next = this.#pending.shift()) !== undefined) {
        this.#active = next;
        try {
          await this.#run(next);
        } finally {
          this.#active = null;
          this.#lastUsed = Date.now();
        }
      }
    })().finally(() => this.#running = null);
  }

  async #context(turn: TurnRequest): Promise<AgentSessionContext> {
    const adapter = this.#host.adapters.get(turn.provider)!;
    const rules = await this.#host.rules(turn);
    if (!this.#session) {
      this.#session = adapter.createSession(rules);
      // A thread with history (an agent restart, another process): rebuild the context from it.
      const stored = await this.#storage.messages();
      const items = sessionItemsFromMessages(
        stored.filter((m) => m.turn_id !== turn.turnId),
      );
      for (const item of items) this.#session.append(item);
    } else this.#session.replaceRules(rules);
    return this.#session;
  }

  async #attachments(content: unknown): Promise<SessionAttachment[]> {
    if (!Array.isArray(content)) return [];
    const out: SessionAttachment[] = [];
    const max = this.#host.maxAttachmentBytes ?? 20 * 1024 * 1024;
    for (const item of content as AgentInputContent[]) {
      if (!isObject(item) || item.type !== "file" || typeof item.url !== "string") continue;
      const name = item.name ?? item.url.split("/").pop() ?? "file";
      const mimeType = item.mime_type ??
        MIME_BY_EXTENSION[name.split(".").pop()?.toLowerCase() ?? ""] ?? "application/octet-stream";
      const attachment: SessionAttachment = { url: item.url, name, mimeType };
      const room = this.#host.room;
      if (item.url.startsWith("room://") && room) {
        const path = item.url.replace(/^room:\/+/, "");
        try {
          const stat = await room.storage.stat(path);
          if (stat && !stat.isFolder && (stat.size ?? 0) <= max) {
            const file = await room.storage.download(path);
            attachment.data = base64(file.data);
            if (!item.mime_type && file.mimeType) attachment.mimeType = file.mimeType;
          }
        } catch { /* the model gets the URL only */ }
      }
      out.push(attachment);
    }
    return out;
  }

  async #run(turn: ActiveTurn): Promise<void> {
    const { turnId } = turn;
    const adapter = this.#host.adapters.get(turn.provider)!;
    const llm = { provider: turn.provider, model: turn.model };
    this.#emit("turn.started", { turn_id: turnId, source_message_id: turn.message.message_id });
    this.#emit("thread.status", { status: "Thinking", mode: "steerable", turn_id: turnId });
    let error: AgentError | null = null;
    try {
      const context = await this.#context(turn);
      const instructions = typeof turn.message.instructions === "string"
        ? [turn.message.instructions]
        : [];
      if (instructions.length > 0) context.appendRules(instructions);
      if (turn.message.realtime_audio === true) {
        // Spoken input: the buffered audio is the user's message (its transcript comes as events).
        await this.#audio;
        if (!supportsRealtimeAudio(adapter)) {
          throw new LLMError(
            `the provider ${turn.provider} takes no spoken input`,
            "unsupported_modality",
          );
        }
        await adapter.commitRealtimeAudio(context);
      } else {
        context.append({
          kind: "user",
          text: contentText(turn.message.content),
          attachments: await this.#attachments(turn.message.content),
          senderName: turn.sender.name,
          turnId,
        });
      }
      const toolkits = await this.#host.toolkits(turn);
      const clientToolkits = this.#clientToolkits(turn);
      let status = "";
      await adapter.createResponse({
        context,
        caller: this.#host.agent,
        onBehalfOf: turn.sender,
        toolkits: [...toolkits, ...clientToolkits],
        model: turn.model,
        toolChoice: toolChoice(turn.message.tool_choice),
        room: this.#host.room,
        signal: turn.controller.signal,
        requiresApproval: this.#host.requiresApproval?.bind(this.#host),
        approve: (request) => {
          const { promise, resolve } = Promise.withResolvers<boolean>();
          turn.approvals.set(request.item_id, resolve);
          this.#emit("tool_call.approval_requested", {
            ...llm,
            turn_id: turnId,
            namespace: "meshagent",
            ...request,
          });
          return promise;
        },
        steering: () => {
          const steers = turn.steers.splice(0);
          return Promise.resolve(steers.map(({ message, sender }): SessionItem => {
            this.#storage.push({ ...message, thread_id: this.threadId });
            this.#emit("turn.steered", { turn_id: turnId, source_message_id: message.message_id });
            return {
              kind: "user",
              text: contentText(message.content),
              senderName: sender.name,
              turnId,
            };
          }));
        },
        onEvent: (event: AgentEvent) => {
          const next = statusOf(event);
          if (next && next !== status) {
            status = next;
            this.#emit("thread.status", { status, mode: "steerable", turn_id: turnId });
          }
          this.#emit(event.type, { ...llm, ...event, turn_id: turnId });
        },
      });
      if (turn.controller.signal.aborted) throw turn.controller.signal.reason;
    } catch (e) {
      const aborted = turn.controller.signal.aborted;
      if (aborted && turn.interruptedBy === "interrupted") {
        this.#emit("turn.interrupted", { turn_id: turnId });
        error = { message: "the turn was interrupted", code: "interrupted" };
      } else if (aborted) {
        error = { message: `the turn ${turn.interruptedBy}`, code: "interrupted" };
      } else if (e instanceof LLMError) {
        error = { message: e.message, code: e.code };
      } else {
        error = {
          message: `the turn failed: ${e instanceof Error ? e.message : String(e)}`,
          code: "internal_error",
        };
        console.error(`agent thread ${this.threadId}: turn ${turnId} failed:`, e);
      }
    }
    // Steers that arrived too late for this turn become the next turn's input.
    for (const { message, sender } of turn.steers.splice(0)) {
      this.#pending.unshift({
        ...turn,
        turnId: crypto.randomUUID(),
        message: { ...message, type: "meshagent.agent.turn.start" },
        sender,
        controller: new AbortController(),
        steers: [],
        approvals: new Map(),
        clientCalls: new Map(),
        interruptedBy: undefined,
      });
    }
    this.#emit("turn.ended", { turn_id: turnId, ...(error ? { error } : {}) });
    if (this.#session) this.#emit("usage.updated", { usage: { ...this.#session.usage } });
    this.#emit("thread.status", { mode: "steerable" });
  }

  /** A hidden toolkit per client toolkit of the turn, proxying calls to the starter (§2.4). */
  #clientToolkits(turn: ActiveTurn): Toolkit[] {
    const specs = turn.message.client_toolkits;
    if (!Array.isArray(specs)) return [];
    return specs.filter(isObject).map((spec) => {
      const name = String(spec.name ?? "client");
      const tools = Array.isArray(spec.tools) ? spec.tools.filter(isObject) : [spec];
      return new Toolkit({
        name,
        description: typeof spec.description === "string" ? spec.description : undefined,
        tools: tools.map((tool) =>
          new FunctionTool({
            name: String(tool.name ?? name),
            description: typeof tool.description === "string" ? tool.description : undefined,
            inputSchema: (isObject(tool.input_schema)
              ? tool.input_schema
              : { type: "object", properties: {} }) as JsonObject,
            run: (_ctx, args) => {
              const requestId = crypto.randomUUID();
              const { promise, resolve, reject } = Promise.withResolvers<unknown>();
              turn.clientCalls.set(requestId, { resolve, reject });
              this.#emit("client_tool_call.requested", {
                turn_id: turn.turnId,
                request_id: requestId,
                toolkit: name,
                tool: String(tool.name ?? name),
                arguments: args,
                target_participant_id: turn.sender.id,
              });
              return promise;
            },
          })
        ),
      });
    });
  }

  /**
   * Replays the stored messages (`thread.open`).
   *
   * @param since Only turns after this turn id.
   * @returns The stored messages.
   */
  async replay(since?: string): Promise<AgentMessage[]> {
    const stored = await this.#storage.messages();
    if (!since) return stored;
    const index = stored.findLastIndex((m) => m.turn_id === since);
    return index < 0 ? stored : stored.slice(index + 1).filter((m) => m.turn_id !== since);
  }

  /** Stops: the active turn is interrupted, waiting turns are dropped, storage is closed. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const turn of this.#pending.splice(0)) {
      this.#emit("turn.ended", {
        turn_id: turn.turnId,
        error: { message: "the agent stopped before the turn ran", code: "stopped" },
      });
    }
    if (this.#active) this.#abort(this.#active, "ended: the agent stopped");
    await this.#running;
    await this.#audio;
    const adapter = this.#host.adapters.get(this.#provider);
    if (this.#session && adapter && supportsRealtimeAudio(adapter)) {
      await adapter.closeRealtimeSession(this.#session).catch(() => {});
    }
    await this.#storage.close();
  }
}

function toolChoice(value: unknown): LLMToolChoice | null {
  if (!isObject(value) || typeof value.tool_name !== "string") return null;
  return {
    tool: value.tool_name,
    ...(typeof value.toolkit_name === "string" ? { toolkit: value.toolkit_name } : {}),
  };
}

/** The status text an event implies ("Writing", "Calling <tool>", …). */
function statusOf(event: AgentEvent): string | null {
  switch (event.type) {
    case "text_content.started":
      return "Writing";
    case "reasoning_content.started":
      return "Planning";
    case "tool_call.started":
      return `Calling ${event.tool}`;
    case "image_generation.started":
      return "Generating image";
    default:
      return null;
  }
}
