import type { RoomClient } from "@meshagent/api";
import type { Toolkit } from "@meshagent/tools";
import {
  AgentSupervisor,
  type AgentSupervisorOptions,
  type ThreadIsolation,
} from "./agent_supervisor.ts";
import type { Channel, ChannelParticipant } from "./channel.ts";
import { DocumentThreadStorageRepository } from "./document_thread_storage.ts";
import type { LLMAdapter } from "./llm_adapter.ts";
import { MessagingChatChannel } from "./messaging_chat_channel.ts";
import { MemoryThreadStorageRepository, type ThreadStorageRepository } from "./thread_storage.ts";
import {
  SingleRoomAgent,
  type SingleRoomAgentOptions,
  type SingleRoomAgentStartOptions,
} from "./single_room_agent.ts";

/** Options of an {@linkcode LLMAgent}. */
export interface LLMAgentOptions extends SingleRoomAgentOptions {
  /** The model(s): the first adapter is the default provider. */
  llmAdapter: LLMAdapter | readonly LLMAdapter[];
  /** Rules (system instructions), or a function that makes them per turn. */
  rules?: AgentSupervisorOptions["rules"];
  /** Toolkits every turn gets (the agent's `toolkits` are hosted in the room; these are not). */
  turnToolkits?: readonly Toolkit[];
  /**
   * The agent's inputs (default: chat over room messaging). Called once the room is connected.
   */
  channels?: (room: RoomClient) => Channel[];
  /** Where threads live: `room` (MeshDocuments in the room, default), `memory`, or a repository. */
  threadStorage?: "room" | "memory" | ThreadStorageRepository;
  /** The folder of the thread documents (default `.threads/<name>`). */
  threadDir?: string;
  /** `global` (default) or `participant`. */
  threadIsolation?: ThreadIsolation;
  /** Whether a tool call needs a person's approval. */
  requiresApproval?: (toolkit: string, tool: string) => boolean;
}

/**
 * An LLM agent in one room, ready to run: a {@linkcode SingleRoomAgent} (connects from the
 * environment `meshagent room connect` sets, installs its requirements — the room toolkits it
 * `requires` become tools of every turn — and hosts its `toolkits`) with an
 * {@linkcode AgentSupervisor}, its channels (chat by default) and thread storage in the room.
 *
 * @example A chat agent (running needs a room: see examples/chat_agent.ts)
 * ```ts
 * import assert from "node:assert/strict";
 * import { LLMAgent, ScriptedLLMAdapter } from "@meshagent/agents";
 * const agent = new LLMAgent({
 *   name: "echo",
 *   llmAdapter: new ScriptedLLMAdapter((context) => ({ text: `${context.items.length} items` })),
 *   rules: ["Answer briefly."],
 * });
 * assert.equal(agent.name, "echo");
 * // await agent.run();
 * ```
 */
export class LLMAgent extends SingleRoomAgent {
  readonly #options: LLMAgentOptions;
  #supervisor?: AgentSupervisor;

  /**
   * Creates the agent (nothing connects until `start` or `run`).
   *
   * @param options The model, rules, channels, thread storage and the agent's metadata.
   */
  constructor(options: LLMAgentOptions) {
    super(options);
    this.#options = options;
  }

  /** The supervisor, once started. */
  get supervisor(): AgentSupervisor | undefined {
    return this.#supervisor;
  }

  /**
   * Connects, installs requirements, hosts toolkits, then starts the supervisor and channels.
   *
   * @param options A started room client, or where to read the environment; a cancel signal.
   */
  override async start(options: SingleRoomAgentStartOptions = {}): Promise<void> {
    await super.start(options);
    const room = this.room;
    const name = this.name ?? "agent";
    const dir = this.#options.threadDir ?? `.threads/${name}`;
    const storage = this.#options.threadStorage ?? "room";
    const make = (folder: string): ThreadStorageRepository =>
      storage === "memory"
        ? new MemoryThreadStorageRepository(folder)
        : new DocumentThreadStorageRepository({ room, agentName: name, threadDir: folder });
    const isolation = this.#options.threadIsolation ?? "global";
    const threadStorage = typeof storage === "object"
      ? storage
      : isolation === "participant"
      ? (p: ChannelParticipant) => make(`${dir}/${p.name ?? p.id}`)
      : make(dir);
    const supervisor = new AgentSupervisor({
      agentName: name,
      room,
      adapters: this.#options.llmAdapter,
      rules: this.#options.rules,
      toolkits: this.#options.turnToolkits,
      threadStorage,
      threadIsolation: isolation,
      requiresApproval: this.#options.requiresApproval,
      turnToolkits: () => [...this.requiredToolkits],
    });
    const channels = this.#options.channels?.(room) ?? [new MessagingChatChannel({ room })];
    try {
      await supervisor.start(channels);
    } catch (e) {
      await supervisor.stop();
      await super.stop();
      throw e;
    }
    this.#supervisor = supervisor;
  }

  /** Stops the channels and threads, then leaves the room. */
  override async stop(): Promise<void> {
    await this.#supervisor?.stop();
    await super.stop();
  }
}
