import type { RoomClient } from "@meshagent/api";
import {
  type AgentInputContent,
  type AgentMessage,
  agentMessage,
  agentMessageKind,
} from "./agent_message.ts";
import { Channel, type ChannelParticipant, type Delivery } from "./channel.ts";
import { type QueueItem, readQueueItem, roomPathOf } from "./_queue_item.ts";
import { QueueReceiver } from "./_queue_receiver.ts";
import { expandThreadPath } from "./_thread_path_template.ts";
import { TurnTracker } from "./_turn_tracker.ts";

/** Options of a {@linkcode QueueChannel}. */
export interface QueueChannelOptions {
  /** The agent's room connection. */
  room: RoomClient;
  /** The queue to consume (created when missing). */
  queueName: string;
  /**
   * At most this many of the channel's turns run or wait at once; the next item is taken off the
   * queue only when one ends (so other consumers of the queue can take it meanwhile). Default:
   * no limit — each item is handed to the agent as soon as it arrives, as the official channel
   * does.
   */
  maxPendingTurns?: number;
  /** Where skipped items and failed turns are reported (default `console.warn`). */
  log?: (message: string) => void;
}

/** The messages the channel follows its turns by. */
const FOLLOWED = new Set(["turn.ended", "turn.start.rejected", "tool_call.approval_requested"]);

/** The largest prompt file read into a turn, in bytes. [impl] */
const MAX_PROMPT_FILE_BYTES = 1024 * 1024;

/**
 * A queue as an input of an agent (agents.md §2.7, official `QueueChannel`): it long-polls
 * `room.queues.receive(queueName, {create: true, wait: true})` and turns each item into a turn,
 * fire-and-forget. An item is
 *
 * - a JSON object `{prompt | content, path?, model?, instructions?, sender_name | from?}`:
 *   `prompt` is the text (or AgentInputContent JSON, whose `room://` files are read as prompt
 *   text), `content` a list of AgentInputContent (`{type: "text", text}`, `{type: "file", url}`,
 *   `{type: "audio", url}`) given to the model as they are, the legacy `prompt_file` a room path
 *   whose text goes first; an object with none of them is given to the model as its JSON text;
 * - or a bare string: the prompt.
 *
 * `path` names the thread: time tokens `{YYYY} {YY} {MM} {DD} {HH} {mm} {SS}` (exact case) and the
 * aliases `{YEAR} {YR} {MONTH} {MON} {DAY} {HOUR} {MINUTE} {MIN} {SECOND} {SEC}` (any case) are
 * replaced with the current UTC time, so `daily/{YYYY}-{MM}-{DD}` collects one day's items in one
 * thread. Without `path`, each item starts a new thread, named from its prompt.
 *
 * A malformed item, an unreadable prompt file or a refused turn (an unknown thread, model…) is
 * logged and skipped; the loop goes on. Approval requests of its turns are rejected at once
 * (nobody is there to approve). `stop()` ends the long poll at once (see the note on
 * items that arrive later in `QueueReceiver`: they are put back on the queue).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueChannel } from "@meshagent/agents";
 * import type { RoomClient } from "@meshagent/api";
 * // new AgentSupervisor({ agentName: "worker", room, adapters }).start([channel]) runs it.
 * const channel = new QueueChannel({ room: {} as RoomClient, queueName: "jobs" });
 * assert.equal(channel.name, "queue:jobs");
 * ```
 */
export class QueueChannel extends Channel {
  /** `queue:<name>`. */
  readonly name: string;
  /** The queue. */
  readonly queueName: string;
  readonly #room: RoomClient;
  readonly #max: number;
  readonly #log: (message: string) => void;
  readonly #turns = new TurnTracker<{ description: string }>();
  #receiver: QueueReceiver | null = null;
  #wake: (() => void) | null = null;

  /**
   * Creates the channel (it starts receiving when the supervisor starts it).
   *
   * @param options The room, the queue, a concurrency limit and a logger.
   * @throws {Error} When the queue name is empty.
   */
  constructor(options: QueueChannelOptions) {
    super();
    const queueName = options.queueName.trim();
    if (queueName === "") throw new Error("QueueChannel needs a queue name");
    this.queueName = queueName;
    this.name = `queue:${queueName}`;
    this.#room = options.room;
    this.#max = options.maxPendingTurns ?? Infinity;
    this.#log = options.log ?? ((m) => console.warn(m));
  }

  /** The channel's turns still running or waiting. */
  get pendingTurns(): number {
    return this.#turns.size;
  }

  /** Starts the long poll. */
  protected override onStart(): Promise<void> {
    this.#receiver = new QueueReceiver({
      room: this.#room,
      queue: this.queueName,
      log: this.#log,
      onItem: (item) => this.#onItem(item),
      ready: (signal) => this.#ready(signal),
    });
    this.#receiver.start();
    return Promise.resolve();
  }

  /** Ends the long poll (an item being handed over is finished first). */
  protected override async onStop(): Promise<void> {
    const receiver = this.#receiver;
    this.#receiver = null;
    this.#wake?.();
    await receiver?.stop();
    this.#turns.clear();
  }

  async #ready(signal: AbortSignal): Promise<void> {
    while (this.#turns.size >= this.#max && !signal.aborted) {
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  #released(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async #onItem(raw: unknown): Promise<void> {
    const item = readQueueItem(raw);
    const content = await this.#content(item);
    const sender: ChannelParticipant = item.senderName
      ? {
        id: `queue:${this.queueName}:${item.senderName}`,
        name: item.senderName,
        attributes: {},
      }
      : { id: `queue:${this.queueName}`, attributes: {} };
    const path = item.path ? expandThreadPath(item.path) : undefined;
    const description = path ? `the item for ${path}` : "an item";
    const { messageId, turnId } = this.#turns.add({ description });
    const fields = {
      message_id: messageId,
      turn_id: turnId,
      content,
      model: item.model,
      instructions: item.instructions,
      sender_name: sender.name,
    };
    // Without a path, `thread.start` makes a thread named from the prompt and runs the turn.
    const data = path
      ? agentMessage("turn.start", { ...fields, thread_id: path })
      : agentMessage("thread.start", fields);
    try {
      await this.host.route({ data, sender }, this);
    } catch (e) {
      this.#turns.drop(turnId);
      this.#released();
      throw new Error(`the agent could not take ${description}: ${(e as Error).message}`);
    }
  }

  /** The item's content, with its prompt files read (and the legacy `prompt_file` first). */
  async #content(item: QueueItem): Promise<AgentInputContent[]> {
    const content: AgentInputContent[] = [];
    if (item.promptFile) {
      const text = await this.#promptFile(roomPathOf(item.promptFile) ?? item.promptFile);
      if (text !== null) content.push({ type: "text", text });
    }
    for (const part of item.content) {
      const path = item.promptFiles && part.type === "file" ? roomPathOf(part.url) : null;
      if (path === null) {
        content.push(part);
        continue;
      }
      const text = await this.#promptFile(path);
      if (text !== null) content.push({ type: "text", text });
    }
    return content.length > 0 ? content : [{ type: "text", text: item.json }];
  }

  async #promptFile(path: string): Promise<string | null> {
    const stat = await this.#room.storage.stat(path).catch(() => null);
    if (!stat || stat.isFolder) {
      this.#log(`queue ${this.queueName}: the prompt file ${path} is not in the room storage`);
      return null;
    }
    if ((stat.size ?? 0) > MAX_PROMPT_FILE_BYTES) {
      this.#log(`queue ${this.queueName}: the prompt file ${path} is over 1 MiB; skipped`);
      return null;
    }
    const file = await this.#room.storage.download(path);
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(file.data);
    } catch {
      this.#log(`queue ${this.queueName}: the prompt file ${path} is not UTF-8 text; skipped`);
      return null;
    }
  }

  /**
   * Follows the channel's turns: a refused or failed one is logged, an ended one frees a slot, an
   * approval request is rejected.
   *
   * @param message A message the agent emitted.
   * @param _delivery Whom it is for (unused: the channel answers nobody).
   */
  deliver(message: AgentMessage, _delivery: Delivery): void {
    const kind = agentMessageKind(message.type);
    if (!FOLLOWED.has(kind ?? "")) return;
    const outcome = this.#turns.observe(message);
    if (!outcome) return;
    if (outcome.kind === "approval") {
      // Nobody is there to approve a queued job: the model is told the call was rejected.
      this.host.route({
        data: agentMessage("tool_call.reject", {
          thread_id: outcome.threadId,
          turn_id: outcome.turnId,
          item_id: outcome.itemId,
        }),
        sender: { id: `queue:${this.queueName}`, attributes: {} },
      }, this).catch(() => {});
      return;
    }
    if (outcome.kind === "rejected") {
      this.#log(
        `queue ${this.queueName}: ${outcome.value.description} was refused: ${outcome.error.message}`,
      );
    } else if (outcome.kind === "ended" && outcome.error) {
      this.#log(
        `queue ${this.queueName}: the turn of ${outcome.value.description} (thread ${outcome.threadId}) failed: ${outcome.error.message}`,
      );
    }
    this.#released();
  }
}
