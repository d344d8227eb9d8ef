import { ErrorCode, type JsonObject, type RoomClient } from "@meshagent/api";
import {
  FunctionTool,
  type HostedToolkit,
  startHostedToolkit,
  type ToolContext,
  ToolError,
  Toolkit,
} from "@meshagent/tools";
import { type AgentError, type AgentMessage, agentMessage } from "./agent_message.ts";
import { Channel, type ChannelParticipant, type Delivery } from "./channel.ts";
import { TurnTracker } from "./_turn_tracker.ts";

/** Options of a {@linkcode ToolkitChannel}. */
export interface ToolkitChannelOptions {
  /** The agent's room connection. */
  room: RoomClient;
  /** The toolkit's name. */
  toolkitName: string;
  /** The tool's name (default `run_<toolkitName>_task`). */
  toolName?: string;
  /** The toolkit's description (default: "send a message to <agent> and return the reply text"). */
  description?: string;
  /** Register the toolkit as public (default true, as official). */
  public?: boolean;
  /**
   * Host the toolkit in the room when the channel starts (default true). Pass false when
   * something else hosts {@linkcode ToolkitChannel.exposedToolkits} (a `SingleRoomAgent`).
   */
  host?: boolean;
  /** A turn that runs longer is interrupted and the call fails (default 10 min). */
  turnTimeoutMs?: number;
}

/** The arguments of `run_<name>_task`. */
interface RunTaskArguments {
  prompt: string;
  path?: string | null;
  thread_id?: string | null;
  model?: string | null;
  instructions?: string | null;
}

const optionalString = (description: string): JsonObject => ({
  anyOf: [{ type: "string" }, { type: "null" }],
  description,
});

/** The input schema of `run_<name>_task` (official toolkit_channel.py). */
const RUN_TASK_SCHEMA: JsonObject = {
  type: "object",
  additionalProperties: false,
  required: ["prompt"],
  properties: {
    prompt: { type: "string", description: "a prompt that will be sent to the agent" },
    path: optionalString("optional thread path to continue an existing thread"),
    thread_id: optionalString("alias for path"),
    model: optionalString("optional model override for this turn"),
    instructions: optionalString("optional instructions override for this turn"),
  },
};

interface PendingCall {
  sender: ChannelParticipant;
  resolve(text: string): void;
  reject(error: Error): void;
}

/** The tool error code for a refused turn's code. */
const REJECTION_CODES: Readonly<Record<string, number>> = {
  unknown_thread: ErrorCode.NOT_FOUND,
  unknown_provider: ErrorCode.INVALID_REQUEST,
  unknown_model: ErrorCode.INVALID_REQUEST,
  unsupported_modality: ErrorCode.INVALID_REQUEST,
  invalid_message: ErrorCode.INVALID_REQUEST,
};

function toolError(error: AgentError): ToolError {
  return new ToolError(
    error.message,
    REJECTION_CODES[error.code ?? ""] ?? ErrorCode.OPERATION_FAILED,
  );
}

function blank(value: string | null | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/**
 * An agent as a tool (agents.md §2.7, official `ToolkitChannel`): a toolkit named `toolkitName`
 * with one tool, `run_<toolkitName>_task{prompt, path | thread_id?, model?, instructions?}`. A
 * call starts a turn — on the thread `path` (or `thread_id`; both must match when both are
 * given), else on a new thread named from the prompt — and returns the turn's final text (its
 * text items, joined by blank lines) when `turn.ended` arrives. A turn that ends with an error,
 * or is refused (an unknown thread: 1003; an unknown model: 1002), makes the call fail with that
 * message. Approval requests of its turns are rejected at once (`tool_call.reject`): nobody is
 * there to approve. A cancelled call (the caller left, the host stopped) interrupts its turn.
 *
 * [impl] The channel hosts the toolkit itself when it starts (public by default) and unregisters
 * it when it stops; with `host: false` it only returns it from
 * {@linkcode ToolkitChannel.exposedToolkits}, for a `SingleRoomAgent` to host.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ToolkitChannel } from "@meshagent/agents";
 * import type { RoomClient } from "@meshagent/api";
 * const channel = new ToolkitChannel({ room: {} as RoomClient, toolkitName: "researcher" });
 * const [toolkit] = channel.exposedToolkits();
 * assert.equal(toolkit.tools[0].name, "run_researcher_task");
 * ```
 */
export class ToolkitChannel extends Channel {
  /** `toolkit:<name>`. */
  readonly name: string;
  /** The toolkit's name. */
  readonly toolkitName: string;
  /** The tool's name. */
  readonly toolName: string;
  readonly #room: RoomClient;
  readonly #options: ToolkitChannelOptions;
  readonly #turns = new TurnTracker<PendingCall>();
  readonly #toolkit: Toolkit;
  /** Calls waiting for the `thread.started` of their new thread (to interrupt it on cancel). */
  readonly #threadOf = new Map<string, (message: AgentMessage) => void>();
  #hosted: HostedToolkit | null = null;

  /**
   * Creates the channel and its toolkit.
   *
   * @param options The room, the toolkit and tool names, and hosting.
   * @throws {Error} When the toolkit name is empty.
   */
  constructor(options: ToolkitChannelOptions) {
    super();
    const toolkitName = options.toolkitName.trim();
    if (toolkitName === "") throw new Error("ToolkitChannel needs a toolkit name");
    this.toolkitName = toolkitName;
    this.toolName = blank(options.toolName) ?? `run_${toolkitName}_task`;
    this.name = `toolkit:${toolkitName}`;
    this.#room = options.room;
    this.#options = options;
    this.#toolkit = new Toolkit({
      name: toolkitName,
      description: options.description ??
        `send a message to ${toolkitName} and return the reply text`,
      public: options.public ?? true,
      tools: [
        new FunctionTool<RunTaskArguments>({
          name: this.toolName,
          title: `Run ${toolkitName} Task`,
          description: "send a prompt to the agent and return the final assistant text",
          inputSchema: RUN_TASK_SCHEMA,
          run: (context, args) => this.#run(context, args),
        }),
      ],
    });
  }

  /** The toolkit with `run_<name>_task`. */
  override exposedToolkits(): Toolkit[] {
    return [this.#toolkit];
  }

  /** Hosts the toolkit in the room (unless `host: false`). */
  protected override async onStart(): Promise<void> {
    if (this.#options.host === false) return;
    this.#hosted = await startHostedToolkit(this.#room, this.#toolkit);
  }

  /** Fails the calls still waiting and unregisters the toolkit. */
  protected override async onStop(): Promise<void> {
    const hosted = this.#hosted;
    this.#hosted = null;
    for (const call of this.#turns.values()) {
      call.reject(
        new ToolError("the agent stopped before the turn ended", ErrorCode.OPERATION_FAILED),
      );
    }
    this.#turns.clear();
    await hosted?.stop();
  }

  async #run(context: ToolContext, args: RunTaskArguments): Promise<string> {
    const path = blank(args.path);
    const threadId = blank(args.thread_id);
    if (path && threadId && path !== threadId) {
      throw new ToolError(
        `path (${path}) and thread_id (${threadId}) name different threads; give one of them`,
        ErrorCode.INVALID_REQUEST,
      );
    }
    const thread = path ?? threadId;
    const caller = context.onBehalfOf ?? context.caller;
    const sender: ChannelParticipant = {
      id: caller.id,
      name: caller.name,
      attributes: caller.attributes,
    };
    const { promise, resolve, reject } = Promise.withResolvers<string>();
    const { messageId, turnId } = this.#turns.add({ sender, resolve, reject });
    const fields = {
      message_id: messageId,
      turn_id: turnId,
      content: [{ type: "text", text: args.prompt }],
      model: blank(args.model),
      instructions: blank(args.instructions),
      sender_name: sender.name,
    };
    const data = thread
      ? agentMessage("turn.start", { ...fields, thread_id: thread })
      : agentMessage("thread.start", fields);
    const timeoutMs = this.#options.turnTimeoutMs ?? 10 * 60_000;
    let threadOf = thread;
    const giveUp = (why: string, code: number) => {
      this.#turns.drop(turnId);
      reject(new ToolError(why, code));
      if (threadOf) {
        this.host.route({
          data: agentMessage("turn.interrupt", { thread_id: threadOf, turn_id: turnId }),
          sender,
        }, this).catch(() => {});
      }
    };
    const timer = setTimeout(
      () => giveUp(`the turn did not end within ${timeoutMs} ms`, ErrorCode.TIMEOUT),
      timeoutMs,
    );
    const onAbort = () => giveUp("the tool call was cancelled", ErrorCode.OPERATION_FAILED);
    context.signal.addEventListener("abort", onAbort, { once: true });
    const learnThread = (message: AgentMessage) => threadOf ??= String(message.thread_id);
    this.#threadOf.set(messageId, learnThread);
    try {
      await this.host.route({ data, sender }, this);
      return await promise;
    } catch (e) {
      this.#turns.drop(turnId);
      throw e;
    } finally {
      clearTimeout(timer);
      context.signal.removeEventListener("abort", onAbort);
      this.#threadOf.delete(messageId);
    }
  }

  /**
   * Follows the calls' turns: collects their text, rejects their approval requests, and settles
   * each call when its turn ends or is refused.
   *
   * @param message A message the agent emitted.
   * @param _delivery Whom it is for (unused).
   */
  deliver(message: AgentMessage, _delivery: Delivery): void {
    if (message.type === "meshagent.agent.thread.started") {
      this.#threadOf.get(String(message.source_message_id))?.(message);
      return;
    }
    const outcome = this.#turns.observe(message);
    if (!outcome) return;
    switch (outcome.kind) {
      case "approval":
        // Nobody is there to approve: the model is told the call was rejected.
        this.host.route({
          data: agentMessage("tool_call.reject", {
            thread_id: outcome.threadId,
            turn_id: outcome.turnId,
            item_id: outcome.itemId,
          }),
          sender: outcome.value.sender,
        }, this).catch(() => {});
        return;
      case "rejected":
        outcome.value.reject(toolError(outcome.error));
        return;
      case "ended":
        if (outcome.error) outcome.value.reject(toolError(outcome.error));
        else outcome.value.resolve(outcome.text);
        return;
    }
  }
}
