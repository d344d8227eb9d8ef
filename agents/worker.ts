import type { JsonObject } from "@meshagent/api";
import { FunctionTool, Toolkit } from "@meshagent/tools";
import { AgentSupervisor } from "./agent_supervisor.ts";
import { DocumentThreadStorageRepository } from "./document_thread_storage.ts";
import type { LLMAdapter } from "./llm_adapter.ts";
import { QueueChannel } from "./queue_channel.ts";
import {
  SingleRoomAgent,
  type SingleRoomAgentOptions,
  type SingleRoomAgentStartOptions,
} from "./single_room_agent.ts";
import type { ThreadStorageRepository } from "./thread_storage.ts";

/** Options of a {@linkcode Worker}. */
export interface WorkerOptions extends Omit<SingleRoomAgentOptions, "toolkits"> {
  /** The queue to work (created when missing). */
  queue: string;
  /** The model's adapter (several: the first is the default provider). */
  llmAdapter: LLMAdapter | readonly LLMAdapter[];
  /** Toolkits the model may use (the required toolkits are added). */
  toolkits?: readonly Toolkit[];
  /** Rules (system instructions) of every job. */
  rules?: readonly string[];
  /**
   * Host a toolkit of this name with `queue_<agent name>_task{prompt}`, which puts a job on the
   * queue (default: none).
   */
  toolkitName?: string;
  /** The folder of the thread documents (default `.threads`, as official). */
  threadDir?: string;
  /**
   * Where threads are kept (default: MeshDocuments in the room under `threadDir`, a
   * {@linkcode DocumentThreadStorageRepository}).
   */
  threadStorage?: ThreadStorageRepository;
  /**
   * Jobs worked at once (default 1: the next is taken off the queue when one ends, so other
   * workers on the queue share the load).
   */
  maxPendingTurns?: number;
  /** Whether a tool call needs approval — a worker has nobody to ask, so such calls are rejected. */
  requiresApproval?: (toolkit: string, tool: string) => boolean;
  /** Where skipped jobs and failed turns are reported (default `console.warn`). */
  log?: (message: string) => void;
}

/**
 * A queue worker (agents-sources.md §2b, official `Worker`): it consumes `queue`
 * (`room.queues.receive(queue, {create: true, wait: true})`) and runs the model, with its toolkits
 * and rules, on each job — a {@linkcode QueueChannel} in front of an {@linkcode AgentSupervisor}.
 * A job is a queue item as the queue channel reads it (`{prompt, path?, model?, …}` or a string;
 * its `model` overrides the default); each job's thread is stored (by default as a MeshDocument
 * under `.threads`), and jobs with the same `path` share one thread. With the default storage a
 * `path` names a document in `threadDir` (`.threads/daily-{YYYY}-{MM}-{DD}.thread`); a job on a
 * thread the storage does not own is refused and logged.
 *
 * With `toolkitName`, the worker also hosts a toolkit with `queue_<name>_task{prompt}`: other
 * participants (or models) hand it work by calling that tool.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ScriptedLLMAdapter, Worker } from "@meshagent/agents";
 * const worker = new Worker({
 *   name: "summarizer",
 *   queue: "articles",
 *   llmAdapter: new ScriptedLLMAdapter(() => ({ text: "a summary" })),
 *   rules: ["summarize the article in one line"],
 *   toolkitName: "summarizer",
 * });
 * assert.equal(worker.queue, "articles");
 * // In a program run by `meshagent room connect`: await worker.run();
 * ```
 */
export class Worker extends SingleRoomAgent {
  /** The queue. */
  readonly queue: string;
  readonly #options: WorkerOptions;
  #supervisor: AgentSupervisor | null = null;

  /**
   * Creates the worker (nothing connects before {@linkcode SingleRoomAgent.start}).
   *
   * @param options The queue, the model, its toolkits and rules, thread storage.
   */
  constructor(options: WorkerOptions) {
    const {
      queue: _q,
      llmAdapter: _a,
      toolkits: _t,
      rules: _r,
      toolkitName: _n,
      threadDir: _d,
      threadStorage: _s,
      maxPendingTurns: _m,
      requiresApproval: _ra,
      ...rest
    } = options;
    super(rest);
    if (options.queue.trim() === "") throw new Error("a Worker needs a queue");
    this.queue = options.queue.trim();
    this.#options = options;
  }

  /** The supervisor, once started. */
  get supervisor(): AgentSupervisor | null {
    return this.#supervisor;
  }

  /**
   * The hosted toolkits: with `toolkitName`, the one with `queue_<name>_task`.
   *
   * @returns The toolkits.
   */
  override async getExposedToolkits(): Promise<readonly Toolkit[]> {
    const hosted = [...await super.getExposedToolkits()];
    const toolkitName = this.#options.toolkitName;
    if (!toolkitName) return hosted;
    const queue = this.queue;
    return [
      ...hosted,
      new Toolkit({
        name: toolkitName,
        public: true,
        tools: [
          new FunctionTool<{ prompt: string }>({
            name: `queue_${this.name}_task`,
            description: `puts a task on the queue of ${this.name}`,
            strict: true,
            inputSchema: {
              type: "object",
              additionalProperties: false,
              required: ["prompt"],
              properties: { prompt: { type: "string" } },
            },
            run: async (context, { prompt }) => {
              await context.room!.queues.send(queue, { prompt } as JsonObject, { create: true });
              return null;
            },
          }),
        ],
      }),
    ];
  }

  /**
   * Connects (or takes a started room client), hosts the toolkits, and starts working the queue.
   *
   * @param options The room or the environment to connect from; a cancel signal.
   */
  override async start(options: SingleRoomAgentStartOptions = {}): Promise<void> {
    await super.start(options);
    const room = this.room;
    const agentName = this.name ?? "worker";
    const o = this.#options;
    const supervisor = new AgentSupervisor({
      agentName,
      room,
      adapters: o.llmAdapter,
      rules: o.rules,
      toolkits: [...(o.toolkits ?? []), ...this.requiredToolkits],
      threadStorage: o.threadStorage ??
        new DocumentThreadStorageRepository({
          room,
          agentName,
          threadDir: o.threadDir ?? ".threads",
        }),
      requiresApproval: o.requiresApproval,
    });
    try {
      await supervisor.start([
        new QueueChannel({
          room,
          queueName: this.queue,
          maxPendingTurns: o.maxPendingTurns ?? 1,
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

  /** Stops working the queue (running jobs end with an error; threads stay stored), then leaves. */
  override async stop(): Promise<void> {
    const supervisor = this.#supervisor;
    this.#supervisor = null;
    await supervisor?.stop();
    await super.stop();
  }
}
