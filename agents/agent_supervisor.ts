import type { RoomClient } from "@meshagent/api";
import type { Toolkit } from "@meshagent/tools";
import { type AgentMessage, agentMessage, agentMessageKind, contentText } from "./agent_message.ts";
import type {
  Channel,
  ChannelHost,
  ChannelMessage,
  ChannelParticipant,
  Delivery,
} from "./channel.ts";
import { chatTurnToolkit } from "./chat_turn_toolkit.ts";
import type { LLMAdapter } from "./llm_adapter.ts";
import { MessagingChatChannel } from "./messaging_chat_channel.ts";
import { threadSearchToolkit } from "./thread_search_toolkit.ts";
import { type AgentProcessHost, LLMAgentProcess, type TurnRequest } from "./llm_agent_process.ts";
import {
  isStoredMessage,
  MemoryThreadStorageRepository,
  type ThreadIndexEvent,
  type ThreadStorageRepository,
} from "./thread_storage.ts";

/** How threads are shared between the people who talk to an agent. */
export type ThreadIsolation = "global" | "participant";

/** What a turn's toolkits are built from. */
export interface TurnToolkitContext extends TurnRequest {
  /** The thread's process (its storage, for the thread search toolkit). */
  process: LLMAgentProcess;
  /** The repository the thread lives in. */
  repository: ThreadStorageRepository;
  /** Emits an event into the turn (e.g. `file_content.*` from `attach_file`). */
  emit(kind: string, fields: Record<string, unknown>): void;
}

/** Options of an {@linkcode AgentSupervisor}. */
export interface AgentSupervisorOptions {
  /** The agent's participant name. */
  agentName: string;
  /** The room the agent is in (tools run in it), or null for a local agent. */
  room?: RoomClient | null;
  /** The LLM adapters; the first is the default provider unless `defaultProvider` says otherwise. */
  adapters: LLMAdapter | readonly LLMAdapter[];
  /** The default provider name. */
  defaultProvider?: string;
  /** Rules every turn starts with, or a function that makes them per turn (room rule files…). */
  rules?: readonly string[] | ((turn: TurnRequest) => string[] | Promise<string[]>);
  /** Toolkits every turn gets. */
  toolkits?: readonly Toolkit[];
  /**
   * More toolkits per turn (required room toolkits, MCP servers of the turn, the thread search and
   * chat toolkits…), called at the start of each turn.
   */
  turnToolkits?: (context: TurnToolkitContext) => Promise<Toolkit[]> | Toolkit[];
  /**
   * Where threads are kept: one repository, or (for `participant` isolation) a repository per
   * participant. Default: in memory (`tmp://`).
   */
  threadStorage?:
    | ThreadStorageRepository
    | ((participant: ChannelParticipant) => ThreadStorageRepository);
  /** `global` (default): anyone may open any thread; `participant`: each person sees their own. */
  threadIsolation?: ThreadIsolation;
  /** Threads idle this long are stopped (their history stays stored; default 10 min). */
  idleTimeoutMs?: number;
  /** Whether a tool call needs a person's approval (`tool_call.approval_requested`). */
  requiresApproval?: (toolkit: string, tool: string) => boolean;
  /**
   * Add the runtime's own turn toolkits (default true, as the official runtime): `search`
   * (`grep_current_thread`, `get_message_range`, `count_current_thread_messages`) over the
   * thread's storage, and with a chat channel `chat` (`list_threads`, `grep_thread_list`,
   * `attach_file`).
   */
  builtinTurnToolkits?: boolean;
}

/** [impl] A thread's name when none was given: the start of its first message. */
function nameFrom(text: string): string | undefined {
  const line = text.trim().split("\n")[0]?.trim() ?? "";
  if (line === "") return undefined;
  return line.length > 60 ? `${line.slice(0, 57)}…` : line;
}

/**
 * The router of an LLM agent (agents.md §2.4): channels bring `meshagent.agent.*` messages in; the
 * supervisor answers thread requests itself (start, list, rename, delete, watch, open with replay,
 * models, capabilities) and routes turn messages by `thread_id` to one {@linkcode LLMAgentProcess}
 * per thread, created on first use and stopped when idle. Everything a process emits is stored in
 * the thread's storage and handed to every channel.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   AgentSupervisor, type AgentMessage, agentMessage, Channel, ScriptedLLMAdapter,
 * } from "@meshagent/agents";
 *
 * class Collect extends Channel {
 *   readonly name = "test";
 *   readonly got: AgentMessage[] = [];
 *   deliver(message: AgentMessage) {
 *     this.got.push(message);
 *   }
 * }
 * const channel = new Collect();
 * const supervisor = new AgentSupervisor({
 *   agentName: "echo",
 *   adapters: new ScriptedLLMAdapter((ctx) => ({ text: `echo: ${ctx.items.length}` })),
 * });
 * await supervisor.start([channel]);
 * await supervisor.route({
 *   data: agentMessage("turn.start", { thread_id: "t1", content: [{ type: "text", text: "hi" }] }),
 *   sender: { id: "p1", name: "ada", attributes: {} },
 * }, channel);
 * await supervisor.idle("t1");
 * assert.ok(channel.got.some((m) => m.type === "meshagent.agent.turn.ended"));
 * await supervisor.stop();
 * ```
 */
export class AgentSupervisor implements ChannelHost {
  /** The agent's name. */
  readonly agentName: string;
  readonly #room: RoomClient | null;
  readonly #adapters: Map<string, LLMAdapter>;
  readonly #defaultProvider: string;
  readonly #options: AgentSupervisorOptions;
  readonly #isolation: ThreadIsolation;
  readonly #global: ThreadStorageRepository | null;
  readonly #repositories = new Map<string, ThreadStorageRepository>();
  readonly #processes = new Map<string, Promise<LLMAgentProcess>>();
  readonly #channels: Channel[] = [];
  readonly #watchers = new Map<string, { participant: ChannelParticipant; channel: Channel }>();
  readonly #unwatch: (() => void)[] = [];
  readonly #watched = new Set<ThreadStorageRepository>();
  #sweeper?: ReturnType<typeof setInterval>;
  #stopped = false;

  /**
   * Creates the value.
   *
   * @param options Name, adapters, rules, toolkits, thread storage and isolation.
   */
  constructor(options: AgentSupervisorOptions) {
    this.agentName = options.agentName;
    this.#room = options.room ?? null;
    const adapters = Array.isArray(options.adapters) ? options.adapters : [options.adapters];
    if (adapters.length === 0) throw new Error("an agent needs at least one LLM adapter");
    this.#adapters = new Map(adapters.map((a: LLMAdapter) => [a.provider, a]));
    this.#defaultProvider = options.defaultProvider ?? adapters[0].provider;
    if (!this.#adapters.has(this.#defaultProvider)) {
      throw new Error(`the default provider ${this.#defaultProvider} has no adapter`);
    }
    this.#options = options;
    this.#isolation = options.threadIsolation ?? "global";
    const storage = options.threadStorage ??
      new MemoryThreadStorageRepository(`.threads/${options.agentName}`);
    this.#global = typeof storage === "function" ? null : storage;
    if (this.#global === null && this.#isolation === "global") {
      throw new Error("global thread isolation needs one thread storage repository, not a factory");
    }
  }

  /** The thread folder UIs should use. */
  get threadDir(): string {
    return this.#global?.threadDir ?? `agent://threads`;
  }

  /** The thread index UIs should use. */
  get threadList(): string {
    return this.#global?.threadList ?? `agent://threads`;
  }

  /** The channels. */
  get channels(): readonly Channel[] {
    return this.#channels;
  }

  /** Threads with a running process. */
  get openThreads(): number {
    return this.#processes.size;
  }

  /**
   * Starts the channels and the idle sweep.
   *
   * @param channels The channels to start.
   */
  async start(channels: readonly Channel[] = []): Promise<void> {
    for (const channel of channels) {
      this.#channels.push(channel);
      await channel.start(this);
    }
    if (this.#global) {
      this.#watched.add(this.#global);
      this.#unwatch.push(this.#global.watch((event) => this.#indexChanged(event)));
    }
    const idle = this.#options.idleTimeoutMs ?? 10 * 60_000;
    this.#sweeper = setInterval(() => this.#sweep(idle), Math.min(60_000, Math.max(10, idle / 2)));
    Deno.unrefTimer(this.#sweeper);
  }

  /**
   * Stops every channel and thread (active turns end with an error; stored history stays).
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#sweeper);
    for (const unwatch of this.#unwatch.splice(0)) unwatch();
    for (const channel of [...this.#channels].reverse()) await channel.stop().catch(() => {});
    const processes = await Promise.allSettled([...this.#processes.values()]);
    this.#processes.clear();
    for (const result of processes) {
      if (result.status === "fulfilled") await result.value.stop();
    }
    for (const repository of [this.#global, ...this.#repositories.values()]) {
      await repository?.close();
    }
  }

  /**
   * Resolves once a thread has no turn running or waiting (tests, graceful shutdown).
   *
   * @param threadId The thread.
   */
  async idle(threadId: string): Promise<void> {
    const process = await this.#processes.get(threadId);
    while (process?.busy) await new Promise((resolve) => setTimeout(resolve, 10));
    await process?.storage.flush();
  }

  /** The repository of a participant. */
  repositoryFor(participant: ChannelParticipant): ThreadStorageRepository {
    if (this.#global) return this.#global;
    const key = participant.name ?? participant.id;
    let repository = this.#repositories.get(key);
    if (!repository) {
      const factory = this.#options.threadStorage as (
        p: ChannelParticipant,
      ) => ThreadStorageRepository;
      repository = factory(participant);
      this.#repositories.set(key, repository);
    }
    return repository;
  }

  /**
   * A new thread id for a participant.
   *
   * @param participant Who starts it.
   * @returns The id.
   */
  newThreadId(participant: ChannelParticipant): string {
    return this.repositoryFor(participant).newThreadId();
  }

  #answer(kind: string, fields: Record<string, unknown>, delivery: Delivery): void {
    const message = agentMessage(kind, fields);
    for (const channel of this.#channels) channel.deliver(message, delivery);
  }

  /**
   * Sends a message a process made: stored when the thread keeps it, then given to every channel.
   *
   * @param message The message.
   */
  emit(message: AgentMessage): void {
    if (this.#stopped && agentMessageKind(message.type) !== "turn.ended") return;
    if (isStoredMessage(message)) {
      this.#processes.get(String(message.thread_id))?.then((p) => p.storage.push(message));
    }
    for (const channel of this.#channels) channel.deliver(message, {});
  }

  #process(threadId: string, repository: ThreadStorageRepository): Promise<LLMAgentProcess> {
    let process = this.#processes.get(threadId);
    if (!process) {
      const host: AgentProcessHost = {
        agent: {
          id: this.#room?.localParticipant?.id ?? this.agentName,
          name: this.agentName,
          attributes: {},
        },
        room: this.#room,
        adapters: this.#adapters,
        defaultProvider: this.#defaultProvider,
        emit: (message) => this.emit(message),
        rules: (turn) => {
          const rules = this.#options.rules;
          return typeof rules === "function" ? rules(turn) : [...(rules ?? [])];
        },
        toolkits: async (turn) => {
          const made = await this.#options.turnToolkits?.({
            ...turn,
            process: created,
            repository,
            emit: (kind, fields) =>
              this.emit(
                agentMessage(kind, { thread_id: threadId, turn_id: turn.turnId, ...fields }),
              ),
          }) ?? [];
          const channels = this.#channels.flatMap((c) => c.turnToolkits(threadId, turn.turnId));
          const builtin: Toolkit[] = [];
          if (this.#options.builtinTurnToolkits !== false) {
            builtin.push(threadSearchToolkit(created.storage, { agentName: this.agentName }));
            if (this.#channels.some((c) => c instanceof MessagingChatChannel)) {
              builtin.push(chatTurnToolkit({
                repository,
                room: this.#room,
                emit: ({ type, ...fields }) =>
                  this.emit(
                    agentMessage(type, { thread_id: threadId, turn_id: turn.turnId, ...fields }),
                  ),
              }));
            }
          }
          return [...(this.#options.toolkits ?? []), ...builtin, ...made, ...channels];
        },
        requiresApproval: this.#options.requiresApproval,
      };
      let created!: LLMAgentProcess;
      process = repository.open(threadId).then((storage) =>
        created = new LLMAgentProcess(threadId, host, storage)
      );
      this.#processes.set(threadId, process);
      process.catch(() => this.#processes.delete(threadId));
    }
    return process;
  }

  #sweep(idleMs: number): void {
    const now = Date.now();
    for (const [threadId, pending] of this.#processes) {
      pending.then((process) => {
        if (process.busy || now - process.lastUsed < idleMs) return;
        if (this.#processes.get(threadId) !== pending) return;
        this.#processes.delete(threadId);
        process.stop().catch(() => {});
      }).catch(() => {});
    }
  }

  #indexChanged(event: ThreadIndexEvent): void {
    for (const { participant, channel } of this.#watchers.values()) {
      const kind = `thread.${event.kind}`;
      this.#answer(
        kind,
        event.kind === "deleted" ? { path: event.thread.path } : { thread: event.thread },
        {
          to: participant,
          channel,
        },
      );
    }
  }

  /**
   * Routes a message from a channel.
   *
   * @param message The message and its sender.
   * @param channel The channel it came from.
   */
  async route(message: ChannelMessage, channel: Channel): Promise<void> {
    if (this.#stopped) return;
    const { data, sender } = message;
    const kind = agentMessageKind(data.type);
    const reply: Delivery = { to: sender, channel };
    const repository = this.repositoryFor(sender);
    switch (kind) {
      case "thread.start": {
        const threadId = repository.newThreadId();
        const name = typeof data.name === "string"
          ? data.name
          : nameFrom(contentText(data.content));
        await repository.touch(threadId, name);
        this.#answer(
          "thread.started",
          { source_message_id: data.message_id, thread_id: threadId },
          reply,
        );
        if (Array.isArray(data.content) && data.content.length > 0) {
          const turn = agentMessage("turn.start", {
            ...data,
            type: undefined,
            message_id: data.message_id,
            thread_id: threadId,
            name: undefined,
          });
          await (await this.#process(threadId, repository)).handle({ ...message, data: turn });
        }
        return;
      }
      case "thread.list": {
        const { threads, total } = await repository.list({
          limit: Number(data.limit ?? 200),
          offset: Number(data.offset ?? 0),
        });
        this.#answer(
          "thread.listed",
          { source_message_id: data.message_id, threads, total },
          reply,
        );
        return;
      }
      case "thread.watch":
        this.#watchers.set(`${sender.id}\u0000${channel.name}`, { participant: sender, channel });
        if (!this.#watched.has(repository)) {
          this.#watched.add(repository);
          this.#unwatch.push(repository.watch((event) => this.#indexChanged(event)));
        }
        return;
      case "thread.unwatch":
        this.#watchers.delete(`${sender.id}\u0000${channel.name}`);
        return;
      case "models.request": {
        const providers = [];
        for (const adapter of this.#adapters.values()) {
          providers.push({
            name: adapter.provider,
            friendly_name: adapter.friendlyName,
            default_model: adapter.defaultModel(),
            models: await adapter.listModels(),
          });
        }
        this.#answer("models.response", { source_message_id: data.message_id, providers }, reply);
        return;
      }
      case "capabilities_request": {
        const toolkits = [
          ...(this.#options.toolkits ?? []),
          ...this.#channels.flatMap((c) => c.exposedToolkits()),
        ]
          .map((toolkit) => ({
            name: toolkit.name,
            title: toolkit.title,
            description: toolkit.description,
          }));
        this.#answer(
          "capabilities_response",
          { source_message_id: data.message_id, toolkits },
          reply,
        );
        return;
      }
      case "participant.connect":
        return;
      case "participant.disconnect":
        for (const pending of this.#processes.values()) {
          pending.then((process) => process.participantLeft(sender)).catch(() => {});
        }
        this.#watchers.delete(`${sender.id}\u0000${channel.name}`);
        return;
    }
    // Everything else is about one thread.
    const threadId = typeof data.thread_id === "string" ? data.thread_id : "";
    if (threadId === "" || !repository.owns(threadId)) {
      if (kind === "turn.start") {
        this.#answer("turn.start.rejected", {
          thread_id: threadId || undefined,
          source_message_id: data.message_id,
          error: {
            message: `there is no thread ${threadId} for ${sender.name ?? sender.id}`,
            code: "unknown_thread",
          },
        }, reply);
      }
      return;
    }
    switch (kind) {
      case "thread.open": {
        const process = await this.#process(threadId, repository);
        const since = typeof data.since_turn === "string" ? data.since_turn : undefined;
        const stored = data.load === false ? [] : await process.replay(since);
        for (const replayed of stored) {
          for (const c of this.#channels) c.deliver(replayed, reply);
        }
        this.#answer("model.changed", { thread_id: threadId, ...process.model }, reply);
        this.#answer(
          "thread.loaded",
          { thread_id: threadId, source_message_id: data.message_id },
          reply,
        );
        return;
      }
      case "thread.close":
        return;
      case "thread.rename": {
        const info = await repository.rename(threadId, String(data.name));
        if (info) this.#answer("thread.updated", { thread: info }, reply);
        return;
      }
      case "thread.delete": {
        const pending = this.#processes.get(threadId);
        this.#processes.delete(threadId);
        await (await pending)?.stop();
        if (await repository.delete(threadId)) {
          this.#answer("thread.deleted", { path: threadId }, reply);
        }
        return;
      }
      case "turn.start": {
        const info = await repository.touch(threadId);
        const name = info.name === undefined ? nameFrom(contentText(data.content)) : undefined;
        if (name !== undefined) await repository.rename(threadId, name);
        break;
      }
    }
    const process = await this.#process(threadId, repository);
    await process.handle(message);
  }
}
