import type { JsonObject, RemoteParticipant, RoomClient, RoomMessage } from "@meshagent/api";
import {
  AGENT_MESSAGE_ROOM_TYPE,
  type AgentInputContent,
  type AgentMessage,
  agentMessage,
  agentMessageKind,
} from "./agent_message.ts";
import type { ThreadInfo } from "./thread_storage.ts";

/** Options of a {@linkcode MessagingChatClient}. */
export interface MessagingChatClientOptions {
  /** A started room client (messaging is enabled by {@linkcode MessagingChatClient.connect}). */
  room: RoomClient;
  /** The agent's participant name. */
  agentName: string;
  /** How long to wait for the agent to appear and for answers to requests (default 30 s). */
  timeoutMs?: number;
}

/** Options of one turn. */
export interface ChatTurnOptions {
  /** A model other than the agent's default. */
  model?: string;
  /** A provider other than the agent's default. */
  provider?: string;
  /** Extra instructions for this turn. */
  instructions?: string;
  /** More content (files as `room:///path`). */
  attachments?: AgentInputContent[];
  /** Interrupts the turn when aborted. */
  signal?: AbortSignal;
}

/** A turn in progress: its events as they come, and its end. */
export interface ChatTurn {
  /** The turn id (once accepted). */
  readonly turnId: string;
  /** Every message of the turn, up to and including `turn.ended`. */
  readonly events: AsyncIterable<AgentMessage>;
  /** Resolves with the final text and the `turn.ended` error, if any. */
  readonly done: Promise<{ text: string; error?: { message: string; code?: string } }>;
  /** Asks the agent to stop the turn. */
  interrupt(): Promise<void>;
  /** Adds a message to the running turn. */
  steer(text: string): Promise<void>;
}

/** Thrown when the agent refuses a request (`turn.start.rejected`) or does not answer. */
export class ChatClientError extends Error {
  /** The agent's code (`unknown_model`, …) or `timeout` / `agent_not_found`. */
  readonly code: string;

  /**
   * Creates the value.
   *
   * @param message What went wrong.
   * @param code A stable code.
   */
  constructor(message: string, code: string) {
    super(message);
    this.name = "ChatClientError";
    this.code = code;
  }
}

/**
 * The client side of the agent-message protocol over room messaging (what `meshagent chat` and UIs
 * use): start or open threads, run turns and read their events as they stream, steer, interrupt,
 * list threads.
 *
 * @example Needs a running room and agent, so the example only builds the call
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RoomClient } from "@meshagent/api";
 * import { MessagingChatClient } from "@meshagent/agents";
 * async function ask(room: RoomClient, question: string): Promise<string> {
 *   const chat = await MessagingChatClient.connect({ room, agentName: "helper" });
 *   const thread = await chat.startThread();
 *   const turn = await chat.startTurn(thread, question);
 *   return (await turn.done).text;
 * }
 * assert.equal(typeof ask, "function");
 * ```
 */
export class MessagingChatClient {
  readonly #room: RoomClient;
  readonly #agentName: string;
  readonly #timeout: number;
  readonly #listeners = new Set<(message: AgentMessage) => void>();
  readonly #off: () => void;

  private constructor(options: MessagingChatClientOptions) {
    this.#room = options.room;
    this.#agentName = options.agentName;
    this.#timeout = options.timeoutMs ?? 30_000;
    this.#off = this.#room.on("message", (message: RoomMessage) => {
      if (message.type !== AGENT_MESSAGE_ROOM_TYPE) return;
      const agent = this.#agent();
      if (agent && message.fromParticipantId !== agent.id) return;
      // Audio bytes (`audio_generation.delta`) come as the attachment: they become `data`.
      const data = message.attachment && message.attachment.length > 0
        ? { ...message.message, data: message.attachment }
        : message.message;
      for (const listener of [...this.#listeners]) {
        listener(data as unknown as AgentMessage);
      }
    });
  }

  /**
   * Enables messaging and waits for the agent to be in the room and speak the protocol.
   *
   * @param options The room, the agent's name and the wait.
   * @returns The client.
   * @throws {ChatClientError} `agent_not_found` when it does not appear in time.
   */
  static async connect(options: MessagingChatClientOptions): Promise<MessagingChatClient> {
    const client = new MessagingChatClient(options);
    if (!options.room.messaging.isEnabled) await options.room.messaging.enable();
    const deadline = Date.now() + client.#timeout;
    while (client.#agent()?.getAttribute("supports_agent_messages") !== true) {
      if (Date.now() > deadline) {
        client.close();
        const seen = options.room.messaging.remoteParticipants.map((p) => p.name).join(", ");
        throw new ChatClientError(
          `no agent named ${options.agentName} that speaks agent messages is in the room ` +
            `(participants: ${seen || "none"}); start one with \`meshagent process join\``,
          "agent_not_found",
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return client;
  }

  #agent(): RemoteParticipant | undefined {
    return this.#room.messaging.getParticipantByName(this.#agentName);
  }

  /** Stops listening (the room client stays open). */
  close(): void {
    this.#off();
    this.#listeners.clear();
  }

  /**
   * Sends an agent message to the agent.
   *
   * @param kind The short type.
   * @param fields Its fields.
   * @param attachment Bytes sent beside the JSON (`realtime_audio.chunk` audio).
   * @returns The message sent.
   */
  async send(
    kind: string,
    fields: Record<string, unknown> = {},
    attachment?: Uint8Array,
  ): Promise<AgentMessage> {
    const agent = this.#agent();
    if (!agent) throw new ChatClientError(`${this.#agentName} left the room`, "agent_not_found");
    const message = agentMessage(kind, fields);
    await this.#room.messaging.sendMessage({
      to: agent,
      type: AGENT_MESSAGE_ROOM_TYPE,
      message: message as unknown as JsonObject,
      ...(attachment ? { attachment } : {}),
    });
    return message;
  }

  /**
   * Listens to every message of the agent until the returned function is called.
   *
   * @param listener Gets each message.
   * @returns Stops listening.
   */
  listen(listener: (message: AgentMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Sends a request and waits for the answer that names it as `source_message_id`. */
  async #request(
    kind: string,
    fields: Record<string, unknown>,
    answer: string,
  ): Promise<AgentMessage> {
    const { promise, resolve, reject } = Promise.withResolvers<AgentMessage>();
    let id = "";
    const pending: AgentMessage[] = [];
    const off = this.listen((m) => {
      if (id === "") pending.push(m);
      else if (m.source_message_id === id && agentMessageKind(m.type) === answer) resolve(m);
    });
    const timer = setTimeout(
      () => reject(new ChatClientError(`${this.#agentName} did not answer ${kind}`, "timeout")),
      this.#timeout,
    );
    try {
      id = (await this.send(kind, fields)).message_id;
      const early = pending.find((m) =>
        m.source_message_id === id && agentMessageKind(m.type) === answer
      );
      if (early) return early;
      return await promise;
    } finally {
      clearTimeout(timer);
      off();
    }
  }

  /**
   * Starts a new thread.
   *
   * @param name A name for it.
   * @returns Its id.
   */
  async startThread(name?: string): Promise<string> {
    const started = await this.#request("thread.start", { name }, "thread.started");
    return String(started.thread_id);
  }

  /**
   * Opens a thread: resolves with its stored messages once the agent sent `thread.loaded`.
   *
   * @param threadId The thread.
   * @returns The replayed messages.
   */
  async openThread(threadId: string): Promise<AgentMessage[]> {
    const replayed: AgentMessage[] = [];
    const off = this.listen((m) => {
      if (m.thread_id === threadId) replayed.push(m);
    });
    try {
      await this.#request("thread.open", { thread_id: threadId }, "thread.loaded");
    } finally {
      off();
    }
    return replayed.filter((m) => agentMessageKind(m.type) !== "thread.loaded");
  }

  /**
   * The agent's threads.
   *
   * @param options Paging.
   * @returns The threads and how many there are.
   */
  async listThreads(
    options: { limit?: number; offset?: number } = {},
  ): Promise<{ threads: ThreadInfo[]; total: number }> {
    const listed = await this.#request("thread.list", options, "thread.listed");
    return {
      threads: (listed.threads ?? []) as ThreadInfo[],
      total: Number(listed.total ?? 0),
    };
  }

  /**
   * Starts a turn on a thread.
   *
   * @param threadId The thread.
   * @param text What to say.
   * @param options Model, instructions, attachments, interrupt signal.
   * @returns The turn: its events and its end.
   * @throws {ChatClientError} When the agent rejects the turn (its code).
   */
  async startTurn(
    threadId: string,
    text: string,
    options: ChatTurnOptions = {},
  ): Promise<ChatTurn> {
    const events: AgentMessage[] = [];
    let turnId = "";
    let wake: (() => void) | null = null;
    let ended = false;
    const { promise: done, resolve: finish } = Promise.withResolvers<
      { text: string; error?: { message: string; code?: string } }
    >();
    let text_ = "";
    const early: AgentMessage[] = [];
    const take = (m: AgentMessage) => {
      events.push(m);
      const kind = agentMessageKind(m.type);
      if (kind === "text_content.delta") text_ += String(m.text ?? "");
      if (kind === "turn.ended") {
        ended = true;
        off();
        finish({ text: text_, ...(m.error ? { error: m.error as { message: string } } : {}) });
      }
      wake?.();
    };
    // Events can arrive before the acceptance is seen here: keep the thread's until the id is known.
    const off = this.listen((m) => {
      if (m.thread_id !== threadId) return;
      if (turnId === "") early.push(m);
      else if (m.turn_id === turnId) take(m);
    });
    let accepted: AgentMessage;
    try {
      const { promise, resolve, reject } = Promise.withResolvers<AgentMessage>();
      let id = "";
      const answers: AgentMessage[] = [];
      const offAccept = this.listen((m) => {
        const kind = agentMessageKind(m.type);
        if (kind !== "turn.start.accepted" && kind !== "turn.start.rejected") return;
        if (id === "") answers.push(m);
        else if (m.source_message_id === id) resolve(m);
      });
      const timer = setTimeout(
        () => reject(new ChatClientError(`${this.#agentName} did not accept the turn`, "timeout")),
        this.#timeout,
      );
      try {
        id = (await this.send("turn.start", {
          thread_id: threadId,
          content: [{ type: "text", text }, ...(options.attachments ?? [])],
          model: options.model,
          provider: options.provider,
          instructions: options.instructions,
        })).message_id;
        const found = answers.find((m) => m.source_message_id === id);
        accepted = found ?? await promise;
      } finally {
        clearTimeout(timer);
        offAccept();
      }
    } catch (e) {
      off();
      throw e;
    }
    if (agentMessageKind(accepted.type) === "turn.start.rejected") {
      off();
      const error = accepted.error as { message: string; code?: string };
      throw new ChatClientError(error.message, error.code ?? "rejected");
    }
    turnId = String(accepted.turn_id);
    for (const m of early.splice(0)) if (m.turn_id === turnId && !ended) take(m);
    const interrupt = () =>
      this.send("turn.interrupt", { thread_id: threadId, turn_id: turnId }).then(() => {});
    options.signal?.addEventListener("abort", () => void interrupt().catch(() => {}), {
      once: true,
    });
    return {
      turnId,
      done,
      interrupt,
      steer: (more: string) =>
        this.send("turn.steer", {
          thread_id: threadId,
          turn_id: turnId,
          content: [{ type: "text", text: more }],
        }).then(() => {}),
      events: {
        async *[Symbol.asyncIterator]() {
          let index = 0;
          while (true) {
            while (index < events.length) yield events[index++];
            if (ended) return;
            await new Promise<void>((resolve) => wake = resolve);
            wake = null;
          }
        },
      },
    };
  }
}
