// Private: what channels that start turns themselves (queue, toolkit, mail) need to follow those
// turns through the agent's messages: the text each answers with, approvals, and how it ended.
import { type AgentError, type AgentMessage, agentMessageKind } from "./agent_message.ts";

/**
 * The text a turn answers with: each `text_content` item's text (its deltas, or the `text` of its
 * `*.ended`), in order, joined by blank lines (as the official channels do).
 */
export class TurnText {
  readonly #open = new Map<string, string>();
  readonly #done: string[] = [];

  /** Takes one message of the turn (other kinds are ignored). */
  push(message: AgentMessage): void {
    const kind = agentMessageKind(message.type);
    const item = String(message.item_id ?? "");
    if (kind === "text_content.started") this.#open.set(item, "");
    else if (kind === "text_content.delta" && typeof message.text === "string") {
      this.#open.set(item, (this.#open.get(item) ?? "") + message.text);
    } else if (kind === "text_content.ended") {
      const text = typeof message.text === "string" && message.text !== ""
        ? message.text
        : this.#open.get(item) ?? "";
      this.#open.delete(item);
      if (text.trim() !== "") this.#done.push(text);
    }
  }

  /** The text so far (items still streaming included). */
  text(): string {
    return [...this.#done, ...this.#open.values()].filter((t) => t.trim() !== "").join("\n\n")
      .trim();
  }
}

/** What became of a tracked turn, as {@linkcode TurnTracker.observe} reports it. */
export type TurnOutcome<T> =
  | { kind: "ended"; value: T; threadId: string; turnId: string; text: string; error?: AgentError }
  | { kind: "rejected"; value: T; error: AgentError }
  | { kind: "approval"; value: T; threadId: string; turnId: string; itemId: string };

interface Tracked<T> {
  value: T;
  messageId: string;
  turnId: string;
  text: TurnText;
}

function errorOf(value: unknown): AgentError {
  const error = value as { message?: unknown; code?: unknown } | undefined;
  return {
    message: typeof error?.message === "string" ? error.message : "the turn failed",
    ...(typeof error?.code === "string" ? { code: error.code } : {}),
  };
}

/**
 * The turns a channel started: each gets its own `message_id` and `turn_id` up front (the process
 * keeps a given `turn_id`), so the channel can tell its turns' events from everyone else's.
 */
export class TurnTracker<T> {
  readonly #byTurn = new Map<string, Tracked<T>>();
  readonly #byMessage = new Map<string, Tracked<T>>();

  /** Turns not ended or rejected yet. */
  get size(): number {
    return this.#byTurn.size;
  }

  /** The values of the turns still running. */
  values(): T[] {
    return [...this.#byTurn.values()].map((t) => t.value);
  }

  /**
   * Tracks a new turn.
   *
   * @returns The ids to put on its `turn.start` (or `thread.start`).
   */
  add(value: T): { messageId: string; turnId: string } {
    const tracked: Tracked<T> = {
      value,
      messageId: crypto.randomUUID(),
      turnId: crypto.randomUUID(),
      text: new TurnText(),
    };
    this.#byTurn.set(tracked.turnId, tracked);
    this.#byMessage.set(tracked.messageId, tracked);
    return { messageId: tracked.messageId, turnId: tracked.turnId };
  }

  /** Stops tracking a turn (its starter gave up on it). */
  drop(turnId: string): void {
    const tracked = this.#byTurn.get(turnId);
    if (!tracked) return;
    this.#byTurn.delete(turnId);
    this.#byMessage.delete(tracked.messageId);
  }

  /** Stops tracking every turn. */
  clear(): void {
    this.#byTurn.clear();
    this.#byMessage.clear();
  }

  /**
   * Takes one message the agent emitted.
   *
   * @returns What happened to a tracked turn, or null (text is collected silently).
   */
  observe(message: AgentMessage): TurnOutcome<T> | null {
    const kind = agentMessageKind(message.type);
    if (kind === "turn.start.rejected") {
      const tracked = this.#byMessage.get(String(message.source_message_id));
      if (!tracked) return null;
      this.drop(tracked.turnId);
      return { kind: "rejected", value: tracked.value, error: errorOf(message.error) };
    }
    const tracked = this.#byTurn.get(String(message.turn_id));
    if (!tracked) return null;
    const threadId = String(message.thread_id ?? "");
    switch (kind) {
      case "text_content.started":
      case "text_content.delta":
      case "text_content.ended":
        tracked.text.push(message);
        return null;
      case "tool_call.approval_requested":
        return {
          kind: "approval",
          value: tracked.value,
          threadId,
          turnId: tracked.turnId,
          itemId: String(message.item_id),
        };
      case "turn.ended": {
        this.drop(tracked.turnId);
        return {
          kind: "ended",
          value: tracked.value,
          threadId,
          turnId: tracked.turnId,
          text: tracked.text.text(),
          ...(message.error !== undefined ? { error: errorOf(message.error) } : {}),
        };
      }
      default:
        return null;
    }
  }
}
