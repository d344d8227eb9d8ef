import type { JsonObject, RemoteParticipant, RoomClient, RoomMessage } from "@meshagent/api";
import {
  AGENT_MESSAGE_ROOM_TYPE,
  type AgentMessage,
  agentMessage,
  type AgentMessageError,
  agentMessageKind,
  parseAgentMessage,
} from "./agent_message.ts";
import { Channel, type ChannelParticipant, type Delivery } from "./channel.ts";

/** Options of a {@linkcode MessagingChatChannel}. */
export interface MessagingChatChannelOptions {
  /** The agent's room connection. */
  room: RoomClient;
  /** What UIs show before the first message (`empty_state_title`). */
  emptyStateTitle?: string;
  /**
   * `default-new` (default): UIs open a new thread per conversation; `none`: one thread only,
   * `threadPath` (set as `meshagent.chatbot.thread-path`).
   */
  threadingMode?: "default-new" | "none";
  /** The single thread's id in `none` mode (default `<thread dir>/main`). */
  threadPath?: string;
  /** Most buffered in-progress events per thread, for late openers (default 512, as official). */
  bufferSize?: number;
}

/** Kinds a client may not send: the channel makes them from presence. */
const CHANNEL_ONLY = new Set(["participant.connect", "participant.disconnect"]);
/** Kinds that open a thread for their sender (explicitly or implicitly). */
const OPENS = new Set(["thread.open", "turn.start", "turn.steer"]);

function participantOf(p: RemoteParticipant): ChannelParticipant {
  return { id: p.id, name: p.name, attributes: p.attributes as JsonObject };
}

/**
 * Chat over room messaging (agents-sources.md §1c): people and UIs send `meshagent.agent.*`
 * messages to the agent as room messages of type `agent-message` (the body may be wrapped as
 * `{payload: …}`); the agent answers each thread's events to every participant that has the thread
 * open (by `thread.open`, or implicitly by `turn.start`/`turn.steer` on it, until it leaves or
 * sends `thread.close`), and answers requests (`thread.list`, `models.request`…) to their sender.
 *
 * On start it enables messaging and sets the discovery attributes UIs look for:
 * `supports_agent_messages`, `empty_state_title`, `meshagent.chatbot.threading` (or
 * `meshagent.chatbot.thread-path`), `meshagent.chatbot.thread-dir` and
 * `meshagent.chatbot.thread-list`. `sender_name` is always set from the authenticated participant.
 * Deltas of a turn still in progress are buffered (512 per thread) and sent to a late opener
 * right before its `thread.loaded`.
 */
export class MessagingChatChannel extends Channel {
  /** `chat`. */
  readonly name: string = "chat";
  readonly #room: RoomClient;
  readonly #options: MessagingChatChannelOptions;
  /** thread id → participant ids that have it open. */
  readonly #open = new Map<string, Set<string>>();
  /** thread id → deltas of items not ended yet. */
  readonly #buffers = new Map<string, AgentMessage[]>();
  readonly #off: (() => void)[] = [];

  /**
   * Creates the value.
   *
   * @param options The room and the discovery settings.
   */
  constructor(options: MessagingChatChannelOptions) {
    super();
    this.#room = options.room;
    this.#options = options;
  }

  /** The participants that have `threadId` open. */
  openers(threadId: string): string[] {
    return [...(this.#open.get(threadId) ?? [])];
  }

  /** Listens to room messages and presence, enables messaging, sets the discovery attributes. */
  protected override async onStart(): Promise<void> {
    this.#off.push(this.#room.on("message", (message) => this.#onMessage(message)));
    this.#off.push(this.#room.on("participantRemoved", (p) => this.#onLeft(p)));
    if (!this.#room.messaging.isEnabled) await this.#room.messaging.enable();
    this.#room.localParticipant?.setAttributes(this.attributes());
  }

  /** Stops listening and clears `supports_agent_messages`. */
  protected override onStop(): Promise<void> {
    for (const off of this.#off.splice(0)) off();
    // Cleared to null on stop, as the official channel does.
    this.#room.localParticipant?.setAttributes({ supports_agent_messages: null });
    this.#open.clear();
    this.#buffers.clear();
    return Promise.resolve();
  }

  /** The discovery attributes (see the class description). */
  override attributes(): JsonObject {
    const single = this.#options.threadingMode === "none";
    return {
      supports_agent_messages: true,
      ...(this.#options.emptyStateTitle
        ? { empty_state_title: this.#options.emptyStateTitle }
        : {}),
      ...(single
        ? { "meshagent.chatbot.thread-path": this.#singleThread() }
        : { "meshagent.chatbot.threading": "default-new" }),
      "meshagent.chatbot.thread-dir": this.host.threadDir,
      "meshagent.chatbot.thread-list": this.host.threadList,
    };
  }

  #singleThread(): string {
    return this.#options.threadPath ?? `${this.host.threadDir}/main`;
  }

  #sender(id: string): ChannelParticipant {
    const known = this.#room.messaging.getParticipant(id);
    return known ? participantOf(known) : { id, attributes: {} };
  }

  #onMessage(message: RoomMessage): void {
    if (message.type !== AGENT_MESSAGE_ROOM_TYPE) return;
    const sender = this.#sender(message.fromParticipantId);
    let data: AgentMessage;
    try {
      data = parseAgentMessage(message.message);
    } catch (e) {
      const error = { message: (e as Error).message, code: (e as AgentMessageError).code };
      const body = (message.message.payload ?? message.message) as JsonObject;
      const kind = typeof body?.type === "string" ? agentMessageKind(body.type) : null;
      // A turn that cannot be read is refused, so the sender does not wait forever.
      if (kind === "turn.start" || kind === "turn.steer") {
        this.#send(
          sender.id,
          agentMessage(`${kind}.rejected`, {
            thread_id: typeof body.thread_id === "string" ? body.thread_id : "",
            source_message_id: typeof body.message_id === "string" ? body.message_id : undefined,
            error,
          }),
        );
      } else {
        console.warn(
          `chat channel: dropped a message from ${sender.name ?? sender.id}: ${error.message}`,
        );
      }
      return;
    }
    const kind = agentMessageKind(data.type)!;
    if (CHANNEL_ONLY.has(kind)) return;
    data.sender_name = sender.name;
    if (
      this.#options.threadingMode === "none" && data.thread_id === undefined &&
      kind !== "thread.start"
    ) {
      data.thread_id = this.#singleThread();
    }
    if (typeof data.thread_id === "string") {
      if (OPENS.has(kind)) this.#markOpen(data.thread_id, sender.id);
      if (kind === "thread.close") this.#open.get(data.thread_id)?.delete(sender.id);
    }
    this.host.route(
      { data, sender, ...(message.attachment ? { attachment: message.attachment } : {}) },
      this,
    ).catch((e) =>
      console.error(`chat channel: ${kind} from ${sender.name ?? sender.id} failed:`, e)
    );
  }

  #markOpen(threadId: string, participantId: string): void {
    let set = this.#open.get(threadId);
    if (!set) this.#open.set(threadId, set = new Set());
    set.add(participantId);
  }

  #onLeft(participant: RemoteParticipant): void {
    for (const set of this.#open.values()) set.delete(participant.id);
    this.host.route(
      {
        data: agentMessage("participant.disconnect", { participant_id: participant.id }),
        sender: participantOf(participant),
      },
      this,
    ).catch(() => {});
  }

  #send(to: string, message: AgentMessage): void {
    if (to === this.#room.localParticipant?.id) return;
    // Audio bytes (`audio_generation.delta`) travel as the attachment, `data` blanked in the JSON.
    const attachment = message.data instanceof Uint8Array ? message.data : undefined;
    this.#room.messaging.sendMessage({
      to,
      type: AGENT_MESSAGE_ROOM_TYPE,
      message: (attachment ? { ...message, data: "" } : message) as unknown as JsonObject,
      ...(attachment ? { attachment } : {}),
    }).catch(() => {
      // Gone: stop sending it this thread's events.
      for (const set of this.#open.values()) set.delete(to);
    });
  }

  #buffer(message: AgentMessage, kind: string): void {
    const threadId = String(message.thread_id);
    if (kind.endsWith(".delta")) {
      let buffer = this.#buffers.get(threadId);
      if (!buffer) this.#buffers.set(threadId, buffer = []);
      buffer.push(message);
      const max = this.#options.bufferSize ?? 512;
      if (buffer.length > max) buffer.splice(0, buffer.length - max);
    } else if (kind.endsWith(".ended") && typeof message.item_id === "string") {
      const buffer = this.#buffers.get(threadId);
      if (buffer) {
        const kept = buffer.filter((m) => m.item_id !== message.item_id);
        if (kept.length > 0) this.#buffers.set(threadId, kept);
        else this.#buffers.delete(threadId);
      }
    } else if (kind === "turn.ended") {
      this.#buffers.delete(threadId);
    }
  }

  /**
   * Sends a thread's events to the participants that have it open, and answers to their requester.
   *
   * @param message The agent message.
   * @param delivery Whom it answers, when it is for one participant.
   */
  deliver(message: AgentMessage, delivery: Delivery): void {
    const kind = agentMessageKind(message.type) ?? "";
    if (delivery.to) {
      if (delivery.channel && delivery.channel !== this) return;
      if (kind === "thread.started") this.#markOpen(String(message.thread_id), delivery.to.id);
      if (kind === "thread.loaded") {
        // Late opener: the deltas of items still streaming are not stored yet.
        for (const buffered of this.#buffers.get(String(message.thread_id)) ?? []) {
          this.#send(delivery.to.id, buffered);
        }
      }
      this.#send(delivery.to.id, message);
      return;
    }
    if (typeof message.thread_id !== "string") return;
    this.#buffer(message, kind);
    for (const participant of this.#open.get(message.thread_id) ?? []) {
      this.#send(participant, message);
    }
  }
}
