// Test helper: a person in a room who talks to an agent with `meshagent.agent.*` messages over
// room messaging, and collects what the agent sends back.
import type { JsonObject, RoomClient, RoomMessage } from "@meshagent/api";
import { type AgentMessage, agentMessage } from "../agent_message.ts";

export class ChatUser {
  readonly room: RoomClient;
  readonly received: AgentMessage[] = [];
  readonly #agentName: string;
  readonly #off: () => void;
  #waiters: (() => void)[] = [];

  constructor(room: RoomClient, agentName: string) {
    this.room = room;
    this.#agentName = agentName;
    this.#off = room.on("message", (m: RoomMessage) => {
      if (m.type !== "agent-message") return;
      this.received.push(m.message as unknown as AgentMessage);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  static async join(room: RoomClient, agentName: string): Promise<ChatUser> {
    const user = new ChatUser(room, agentName);
    await room.messaging.enable();
    await user.until(() => user.agentReady(), `${agentName} to announce supports_agent_messages`);
    return user;
  }

  agentReady(): boolean {
    const agent = this.room.messaging.getParticipantByName(this.#agentName);
    return agent?.getAttribute("supports_agent_messages") === true;
  }

  async send(kind: string, fields: Record<string, unknown> = {}): Promise<AgentMessage> {
    const message = agentMessage(kind, fields);
    const agent = this.room.messaging.getParticipantByName(this.#agentName);
    if (!agent) throw new Error(`${this.#agentName} is not in the room`);
    await this.room.messaging.sendMessage({
      to: agent,
      type: "agent-message",
      message: message as unknown as JsonObject,
    });
    return message;
  }

  /** Sends anything as the body of an agent-message (for malformed input tests). */
  async sendRaw(body: JsonObject): Promise<void> {
    const agent = this.room.messaging.getParticipantByName(this.#agentName)!;
    await this.room.messaging.sendMessage({ to: agent, type: "agent-message", message: body });
  }

  of(kind: string, filter: (m: AgentMessage) => boolean = () => true): AgentMessage[] {
    return this.received.filter((m) => m.type === `meshagent.agent.${kind}` && filter(m));
  }

  async until(done: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out waiting for ${what}; got: ${this.received.map((m) => m.type).join(", ")}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async waitFor(
    kind: string,
    filter: (m: AgentMessage) => boolean = () => true,
  ): Promise<AgentMessage> {
    await this.until(() => this.of(kind, filter).length > 0, kind);
    return this.of(kind, filter)[0];
  }

  /** Starts a thread and returns its id. */
  async startThread(): Promise<string> {
    const sent = await this.send("thread.start", {});
    const started = await this.waitFor(
      "thread.started",
      (m) => m.source_message_id === sent.message_id,
    );
    return String(started.thread_id);
  }

  /** Runs one turn and returns its messages (from turn.start.accepted to turn.ended). */
  async turn(threadId: string, text: string, extra: Record<string, unknown> = {}) {
    const sent = await this.send("turn.start", {
      thread_id: threadId,
      content: [{ type: "text", text }],
      ...extra,
    });
    const accepted = await this.waitFor(
      "turn.start.accepted",
      (m) => m.source_message_id === sent.message_id,
    );
    const ended = await this.waitFor("turn.ended", (m) => m.turn_id === accepted.turn_id);
    const messages = this.received.filter((m) => m.turn_id === accepted.turn_id);
    const text_ = messages
      .filter((m) => m.type === "meshagent.agent.text_content.delta")
      .map((m) => String(m.text))
      .join("");
    return { turnId: String(accepted.turn_id), ended, messages, text: text_ };
  }

  dispose(): void {
    this.#off();
  }
}
