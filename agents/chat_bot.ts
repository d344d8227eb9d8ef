import type { Toolkit } from "@meshagent/tools";
import { AgentSupervisor } from "./agent_supervisor.ts";
import { DocumentThreadStorageRepository } from "./document_thread_storage.ts";
import { LegacyChatChannel, type LegacyChatChannelOptions } from "./legacy_chat_channel.ts";
import type { LLMAdapter } from "./llm_adapter.ts";
import {
  SingleRoomAgent,
  type SingleRoomAgentOptions,
  type SingleRoomAgentStartOptions,
} from "./single_room_agent.ts";
import type { ThreadStorageRepository } from "./thread_storage.ts";

/** Options of a {@linkcode ChatBot}. */
export interface ChatBotOptions extends Omit<SingleRoomAgentOptions, "toolkits"> {
  /** The model's adapter (several: the first is the default provider). */
  llmAdapter: LLMAdapter | readonly LLMAdapter[];
  /** Toolkits the model may use (the required toolkits are added). */
  toolkits?: readonly Toolkit[];
  /** Rules (system instructions) of every turn. */
  rules?: readonly string[];
  /** Said to whoever opens a thread first. */
  autoGreetMessage?: string;
  /** What UIs show before the first message (default "How can I help you?"). */
  emptyStateTitle?: string;
  /** The folder of the thread documents (default `.threads/<name>`). */
  threadDir?: string;
  /** `meshagent.chatbot.threading` (e.g. `default-new`). */
  threadingMode?: string;
  /**
   * Where threads are kept (default: `<threadDir>/<name>.thread` MeshDocuments in the room, a
   * {@linkcode DocumentThreadStorageRepository}, so UIs render them through sync).
   */
  threadStorage?: ThreadStorageRepository;
  /** Whether to answer a chat (default: always). */
  shouldReply?: LegacyChatChannelOptions["shouldReply"];
  /** Whether a tool call needs a person's approval (`approved` / `rejected` answer it). */
  requiresApproval?: (toolkit: string, tool: string) => boolean;
  /** Where dropped messages are reported (default `console.warn`). */
  log?: (message: string) => void;
}

/**
 * The legacy chat agent (agents-sources.md §2b, official `ChatBot`): it answers the plain room
 * messages older UIs send — `chat{path, text, attachments}`, `steer`, `cancel`,
 * `approved`/`rejected`, `clear`, `opened`, `typing` — with `chat{path, text}` and
 * `listening{listening, path}`, and keeps each conversation as a `thread` MeshDocument at its
 * `path` (by default under `.threads/<name>`, listed in `index.threadl`), which the UI renders
 * through sync. It is a {@linkcode LegacyChatChannel} in front of an {@linkcode AgentSupervisor};
 * the thread id is the document path the UI chose.
 *
 * Attributes set on start: `empty_state_title`, and with `threadDir` or `threadingMode:
 * "default-new"` also `meshagent.chatbot.threading`, `meshagent.chatbot.thread-dir` and
 * `meshagent.chatbot.thread-list`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChatBot, ScriptedLLMAdapter } from "@meshagent/agents";
 * const bot = new ChatBot({
 *   name: "assistant",
 *   llmAdapter: new ScriptedLLMAdapter(() => ({ text: "hello!" })),
 *   rules: ["be brief"],
 *   threadingMode: "default-new",
 * });
 * assert.equal(bot.name, "assistant");
 * // In a program run by `meshagent room connect`: await bot.run();
 * ```
 */
export class ChatBot extends SingleRoomAgent {
  readonly #options: ChatBotOptions;
  #supervisor: AgentSupervisor | null = null;

  /**
   * Creates the bot (nothing connects before {@linkcode SingleRoomAgent.start}).
   *
   * @param options The model, its toolkits and rules, threading and the UI texts.
   */
  constructor(options: ChatBotOptions) {
    const {
      llmAdapter: _a,
      toolkits: _t,
      rules: _r,
      autoGreetMessage: _g,
      emptyStateTitle: _e,
      threadDir: _d,
      threadingMode: _m,
      threadStorage: _s,
      shouldReply: _sr,
      requiresApproval: _ra,
      log: _l,
      ...rest
    } = options;
    super(rest);
    this.#options = options;
  }

  /** The supervisor, once started. */
  get supervisor(): AgentSupervisor | null {
    return this.#supervisor;
  }

  /**
   * Connects (or takes a started room client) and starts answering chats.
   *
   * @param options The room or the environment to connect from; a cancel signal.
   */
  override async start(options: SingleRoomAgentStartOptions = {}): Promise<void> {
    await super.start(options);
    const room = this.room;
    const agentName = this.name ?? "chatbot";
    const o = this.#options;
    const threadDir = (o.threadDir ?? `.threads/${agentName}`).replace(/\/+$/, "");
    const supervisor = new AgentSupervisor({
      agentName,
      room,
      adapters: o.llmAdapter,
      rules: o.rules,
      toolkits: [...(o.toolkits ?? []), ...this.requiredToolkits],
      threadStorage: o.threadStorage ??
        new DocumentThreadStorageRepository({ room, agentName, threadDir }),
      requiresApproval: o.requiresApproval,
    });
    try {
      await supervisor.start([
        new LegacyChatChannel({
          room,
          threadingMode: o.threadingMode,
          threadDir: o.threadDir ?? (o.threadingMode === "default-new" ? threadDir : undefined),
          emptyStateTitle: o.emptyStateTitle,
          autoGreetMessage: o.autoGreetMessage,
          shouldReply: o.shouldReply,
          log: o.log,
        }),
      ]);
    } catch (e) {
      await supervisor.stop().catch(() => {});
      await super.stop();
      throw e;
    }
    this.#supervisor = supervisor;
  }

  /** Stops answering (running turns end with an error; threads stay stored), then leaves. */
  override async stop(): Promise<void> {
    const supervisor = this.#supervisor;
    this.#supervisor = null;
    await supervisor?.stop();
    await super.stop();
  }
}
