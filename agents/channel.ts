import type { JsonObject } from "@meshagent/api";
import type { Toolkit, ToolParticipant } from "@meshagent/tools";
import type { AgentMessage } from "./agent_message.ts";

/** Who sent a message into the agent, as a channel knows them. */
export interface ChannelParticipant extends ToolParticipant {
  /** The participant's name (threads are isolated by it in `participant` mode). */
  readonly name?: string | undefined;
}

/** A message a channel routes into the supervisor. */
export interface ChannelMessage {
  /** The agent message. */
  data: AgentMessage;
  /** Who sent it. */
  sender: ChannelParticipant;
  /** The binary attachment (realtime audio), if any. */
  attachment?: Uint8Array;
}

/** Where an outgoing message goes. */
export interface Delivery {
  /** The participant it answers (requests like `thread.list`), if it is for one participant only. */
  to?: ChannelParticipant;
  /** The channel the request came from, if any (answers go back only there). */
  channel?: Channel;
}

/** What a channel needs from the supervisor it is attached to. */
export interface ChannelHost {
  /** The agent's name. */
  readonly agentName: string;
  /** Routes a message into the agent (to the thread's process, or handled by the supervisor). */
  route(message: ChannelMessage, channel: Channel): Promise<void>;
  /** The thread folder and index UIs should use (`meshagent.chatbot.thread-dir` / `-list`). */
  readonly threadDir: string;
  /** The thread index URL. */
  readonly threadList: string;
  /** A new thread id for `participant` (in its namespace under participant isolation). */
  newThreadId(participant: ChannelParticipant): string;
}

/**
 * An input of an agent (agents.md §2.4): chat over room messaging, a queue, a toolkit, mail… A
 * channel turns what arrives into agent messages and {@linkcode ChannelHost.route}s them; the
 * supervisor hands it every message the agent emits ({@linkcode deliver}) to pass on to whoever
 * should see it.
 */
export abstract class Channel {
  /** A name for logs (`chat`, `queue:jobs`, `toolkit:helper`). */
  abstract readonly name: string;
  #host: ChannelHost | null = null;

  /** The supervisor, once started. */
  protected get host(): ChannelHost {
    if (!this.#host) throw new Error(`channel ${this.name} is not started`);
    return this.#host;
  }

  /**
   * Starts the channel (called by the supervisor).
   *
   * @param host The supervisor.
   */
  async start(host: ChannelHost): Promise<void> {
    this.#host = host;
    await this.onStart();
  }

  /** Stops the channel (called by the supervisor). */
  async stop(): Promise<void> {
    await this.onStop();
    this.#host = null;
  }

  /** Subclass hook: start listening. */
  protected onStart(): Promise<void> {
    return Promise.resolve();
  }

  /** Subclass hook: stop listening and release what it holds. */
  protected onStop(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * A message the agent emitted (every thread event, and answers to requests).
   *
   * @param message The agent message.
   * @param delivery Whom it answers, when it is for one participant.
   */
  abstract deliver(message: AgentMessage, delivery: Delivery): void;

  /**
   * Toolkits this channel adds to each turn of a thread (e.g. mail's "new email thread").
   *
   * @param _threadId The thread.
   * @param _turnId The turn.
   * @returns The toolkits (none by default).
   */
  turnToolkits(_threadId: string, _turnId: string): Toolkit[] {
    return [];
  }

  /** Toolkits this channel hosts in the room (e.g. `run_<name>_task`). */
  exposedToolkits(): Toolkit[] {
    return [];
  }

  /** Participant attributes this channel sets on the agent (discovery by UIs). */
  attributes(): JsonObject {
    return {};
  }
}
