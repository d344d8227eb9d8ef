import type { JsonObject, RoomClient, RoomMessage } from "@meshagent/api";
import {
  type AgentInputContent,
  type AgentMessage,
  agentMessage,
  agentMessageKind,
} from "./agent_message.ts";
import { Channel, type ChannelParticipant, type Delivery } from "./channel.ts";
import { TurnText } from "./_turn_tracker.ts";

/** A legacy `chat` message, as {@linkcode LegacyChatChannelOptions.shouldReply} sees it. */
export interface LegacyChatMessage {
  /** The thread (the document path). */
  path: string;
  /** The text. */
  text: string;
  /** Room files attached to it. */
  attachments: { path: string; name?: string }[];
  /** Who sent it. */
  sender: ChannelParticipant;
}

/** Options of a {@linkcode LegacyChatChannel}. */
export interface LegacyChatChannelOptions {
  /** The agent's room connection. */
  room: RoomClient;
  /** `meshagent.chatbot.threading` (`default-new`, or `none` to leave it unset). */
  threadingMode?: string;
  /**
   * The thread folder UIs list (`meshagent.chatbot.thread-dir`, and `<dir>/index.threadl` as
   * `meshagent.chatbot.thread-list`); default `.threads/<agent>` in `default-new` mode, else none.
   */
  threadDir?: string;
  /** What UIs show before the first message (default "How can I help you?"). */
  emptyStateTitle?: string;
  /** Said (as a `chat`) to whoever opens a thread first, once per thread. */
  autoGreetMessage?: string;
  /**
   * Whether to answer a `chat` (default: always). UIs are told `listening{listening: true}` while
   * it decides, and `listening{listening: false}` after.
   */
  shouldReply?: (message: LegacyChatMessage) => boolean | Promise<boolean>;
  /** Where dropped messages are reported (default `console.warn`). */
  log?: (message: string) => void;
}

interface ThreadState {
  /** Participants that have it open (they get its `chat`s). */
  openers: Set<string>;
  /** The turn running, for `steer` and `cancel`. */
  activeTurn?: string;
  /** Approval item id → turn, for `approved` / `rejected`. */
  approvals: Map<string, string>;
  /** Text items being streamed. */
  text: Map<string, TurnText>;
  /** File items being streamed → their URL. */
  files: Map<string, string>;
  greeted: boolean;
}

/** The room message types of the legacy protocol (`typing`, `cleared`… are read and ignored). */
const LEGACY_TYPES = new Set([
  "chat",
  "steer",
  "cancel",
  "approved",
  "rejected",
  "clear",
  "opened",
]);

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A room path or URL as a turn's file URL (`room:///path`). */
function fileUrl(path: string): string {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(path) ? path : `room:///${path.replace(/^\/+/, "")}`;
}

/**
 * The legacy chat protocol (agents.md §2.6, official `LegacyChatChannel`/`ChatBot`): plain room
 * messages that carry a thread `path` — `chat{path, text, attachments[{path, name?}], model?}`,
 * `steer{path, text}`, `cancel{path}`, `approved`/`rejected{path, approval_id}`, `clear{path}`,
 * `opened{path}`, `typing` — become turns and turn messages on the thread `path`. Everyone who
 * sent a message about a thread has it open and gets its answers: a `chat{path, text}` per text
 * the agent writes, `chat{path, attachments}` per file it attaches, `cleared{path}`, and
 * `listening{listening, path}` around the should-reply decision.
 *
 * On start it enables messaging and sets the attributes legacy UIs read: `empty_state_title`,
 * and (when set) `meshagent.chatbot.threading`, `meshagent.chatbot.thread-dir`,
 * `meshagent.chatbot.thread-list`. It does not set `supports_agent_messages`: UIs that see this
 * agent speak the legacy protocol.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LegacyChatChannel } from "@meshagent/agents";
 * import type { RoomClient } from "@meshagent/api";
 * const channel = new LegacyChatChannel({ room: {} as RoomClient, threadDir: ".threads/bot" });
 * assert.equal(channel.name, "legacy-chat");
 * ```
 */
export class LegacyChatChannel extends Channel {
  /** `legacy-chat`. */
  readonly name: string = "legacy-chat";
  readonly #room: RoomClient;
  readonly #options: LegacyChatChannelOptions;
  readonly #log: (message: string) => void;
  readonly #threads = new Map<string, ThreadState>();
  readonly #off: (() => void)[] = [];

  /**
   * Creates the channel (it listens once the supervisor starts it).
   *
   * @param options The room, threading and the UI texts.
   */
  constructor(options: LegacyChatChannelOptions) {
    super();
    this.#room = options.room;
    this.#options = options;
    this.#log = options.log ?? ((m) => console.warn(m));
  }

  /** The participants that have `path` open. */
  openers(path: string): string[] {
    return [...(this.#threads.get(path)?.openers ?? [])];
  }

  #threadDir(): string | undefined {
    if (this.#options.threadDir) return this.#options.threadDir.replace(/\/+$/, "");
    if (this.#options.threadingMode === "default-new") return `.threads/${this.host.agentName}`;
    return undefined;
  }

  /**
   * The attributes legacy UIs read: `empty_state_title`, and the threading mode, folder and
   * index when they are set.
   *
   * @returns The attributes.
   */
  override attributes(): JsonObject {
    const mode = this.#options.threadingMode;
    const dir = this.#threadDir();
    return {
      empty_state_title: this.#options.emptyStateTitle ?? "How can I help you?",
      ...(mode && mode !== "none" ? { "meshagent.chatbot.threading": mode } : {}),
      ...(dir
        ? {
          "meshagent.chatbot.thread-dir": dir,
          "meshagent.chatbot.thread-list": `${dir}/index.threadl`,
        }
        : {}),
    };
  }

  /** Listens for legacy messages, enables messaging and sets the attributes. */
  protected override async onStart(): Promise<void> {
    this.#off.push(this.#room.on("message", (message) => this.#onMessage(message)));
    this.#off.push(this.#room.on("participantRemoved", (p) => {
      for (const state of this.#threads.values()) state.openers.delete(p.id);
    }));
    if (!this.#room.messaging.isEnabled) await this.#room.messaging.enable();
    this.#room.localParticipant?.setAttributes(this.attributes());
  }

  /** Stops listening. */
  protected override onStop(): Promise<void> {
    for (const off of this.#off.splice(0)) off();
    this.#threads.clear();
    return Promise.resolve();
  }

  #state(path: string): ThreadState {
    let state = this.#threads.get(path);
    if (!state) {
      state = {
        openers: new Set(),
        approvals: new Map(),
        text: new Map(),
        files: new Map(),
        greeted: false,
      };
      this.#threads.set(path, state);
    }
    return state;
  }

  #send(path: string, type: string, message: JsonObject, only?: string): void {
    const to = only ? [only] : this.openers(path);
    for (const id of to) {
      if (id === this.#room.localParticipant?.id) continue;
      this.#room.messaging.sendMessage({ to: id, type, message }).catch(() => {
        this.#threads.get(path)?.openers.delete(id);
      });
    }
  }

  #onMessage(message: RoomMessage): void {
    if (!LEGACY_TYPES.has(message.type)) return;
    const body = isObject(message.message) ? message.message : {};
    const path = typeof body.path === "string" ? body.path.trim() : "";
    if (path === "") {
      this.#log(`legacy chat: dropped a ${message.type} message without a path`);
      return;
    }
    const known = this.#room.messaging.getParticipant(message.fromParticipantId);
    const name = known?.getAttribute("name");
    const sender: ChannelParticipant = {
      id: message.fromParticipantId,
      name: typeof name === "string" ? name : undefined,
      attributes: (known?.attributes ?? {}) as JsonObject,
    };
    this.#state(path).openers.add(sender.id);
    (async () => {
      const data = await this.#translate(message.type, body, path, sender);
      if (data) await this.host.route({ data, sender }, this);
    })().catch((e) =>
      this.#log(`legacy chat: a ${message.type} on ${path} failed: ${(e as Error).message}`)
    );
  }

  /** The agent message a legacy message stands for, or null when there is none. */
  #translate(
    type: string,
    body: Record<string, unknown>,
    path: string,
    sender: ChannelParticipant,
  ): Promise<AgentMessage | null> | AgentMessage | null {
    switch (type) {
      case "chat":
        return this.#chat(body, path, sender);
      case "steer":
        return this.#onActiveTurn(path, (turn_id) =>
          agentMessage("turn.steer", {
            thread_id: path,
            turn_id,
            content: [{ type: "text", text: typeof body.text === "string" ? body.text : "" }],
          }));
      case "cancel":
        return this.#onActiveTurn(
          path,
          (turn_id) => agentMessage("turn.interrupt", { thread_id: path, turn_id }),
        );
      case "approved":
      case "rejected":
        return this.#approval(path, String(body.approval_id), type === "approved");
      case "clear":
        return agentMessage("thread.clear", { thread_id: path });
      case "opened":
        return this.#opened(path, sender);
      default:
        return null;
    }
  }

  /** `chat`: the listening notice, the decision, then the turn. */
  async #chat(
    body: Record<string, unknown>,
    path: string,
    sender: ChannelParticipant,
  ): Promise<AgentMessage | null> {
    const text = typeof body.text === "string" ? body.text : "";
    const attachments = (Array.isArray(body.attachments) ? body.attachments : [])
      .filter(isObject)
      .filter((a) => typeof a.path === "string" && a.path.trim() !== "")
      .map((a) => ({
        path: String(a.path),
        ...(typeof a.name === "string" ? { name: a.name } : {}),
      }));
    const content: AgentInputContent[] = [
      ...(text.trim() !== "" ? [{ type: "text" as const, text }] : []),
      ...attachments.map((a): AgentInputContent => ({
        type: "file",
        url: fileUrl(a.path),
        ...(a.name ? { name: a.name } : {}),
      })),
    ];
    if (content.length === 0) {
      this.#log(`legacy chat: dropped an empty chat on ${path}`);
      return null;
    }
    this.#send(path, "listening", { listening: true, path });
    let reply = true;
    try {
      reply = (await this.#options.shouldReply?.({ path, text, attachments, sender })) ?? true;
    } finally {
      this.#send(path, "listening", { listening: false, path });
    }
    if (!reply) return null;
    return agentMessage("turn.start", {
      thread_id: path,
      content,
      model: typeof body.model === "string" ? body.model : undefined,
      sender_name: sender.name,
    });
  }

  /** `steer` and `cancel` act on the thread's running turn (ignored without one). */
  #onActiveTurn(path: string, make: (turnId: string) => AgentMessage): AgentMessage | null {
    const turn = this.#threads.get(path)?.activeTurn;
    return turn ? make(turn) : null;
  }

  /** `approved` / `rejected`: the approval's turn. */
  #approval(path: string, approvalId: string, approve: boolean): AgentMessage | null {
    const state = this.#threads.get(path);
    const turn = state?.approvals.get(approvalId);
    if (!turn) return null;
    state!.approvals.delete(approvalId);
    return agentMessage(approve ? "tool_call.approve" : "tool_call.reject", {
      thread_id: path,
      turn_id: turn,
      item_id: approvalId,
    });
  }

  /** `opened`: greets the first opener of a thread, once. */
  #opened(path: string, sender: ChannelParticipant): null {
    const state = this.#state(path);
    const greeting = this.#options.autoGreetMessage;
    if (greeting && !state.greeted) {
      state.greeted = true;
      this.#send(path, "chat", { path, text: greeting }, sender.id);
    }
    return null;
  }

  /**
   * Passes the agent's messages on to the threads' openers: each finished text as a `chat`, each
   * attached file as a `chat` with `attachments`, `cleared`, and refused or failed turns as a
   * `chat` that says so.
   *
   * @param message A message the agent emitted.
   * @param _delivery Whom it is for (answers go to the thread's openers all the same).
   */
  deliver(message: AgentMessage, _delivery: Delivery): void {
    const path = typeof message.thread_id === "string" ? message.thread_id : "";
    const state = this.#threads.get(path);
    if (!state) return;
    const kind = agentMessageKind(message.type);
    const item = String(message.item_id ?? "");
    switch (kind) {
      case "turn.started":
        state.activeTurn = String(message.turn_id);
        return;
      case "text_content.started":
      case "text_content.delta": {
        let text = state.text.get(item);
        if (!text) state.text.set(item, text = new TurnText());
        text.push(message);
        return;
      }
      case "text_content.ended": {
        const text = state.text.get(item) ?? new TurnText();
        state.text.delete(item);
        text.push(message);
        const said = text.text();
        if (said !== "") this.#send(path, "chat", { path, text: said });
        return;
      }
      case "file_content.delta":
        if (typeof message.url === "string") state.files.set(item, message.url);
        return;
      case "file_content.ended": {
        const url = state.files.get(item);
        state.files.delete(item);
        if (url) this.#send(path, "chat", { path, attachments: [{ path: url }] });
        return;
      }
      case "tool_call.approval_requested":
        state.approvals.set(item, String(message.turn_id));
        return;
      case "thread.cleared":
        state.text.clear();
        state.files.clear();
        state.approvals.clear();
        this.#send(path, "cleared", { path });
        return;
      case "turn.start.rejected": {
        const error = message.error as { message?: string } | undefined;
        this.#send(path, "chat", {
          path,
          text: `I could not answer: ${error?.message ?? "the turn was refused"}`,
        });
        return;
      }
      case "turn.ended": {
        if (state.activeTurn === message.turn_id) delete state.activeTurn;
        for (const [id, turn] of state.approvals) {
          if (turn === message.turn_id) state.approvals.delete(id);
        }
        const error = message.error as { message?: string; code?: string } | undefined;
        if (error && error.code !== "interrupted") {
          this.#send(path, "chat", {
            path,
            text: `There was an error while communicating with the LLM: ${error.message}`,
          });
        }
        return;
      }
    }
  }
}
