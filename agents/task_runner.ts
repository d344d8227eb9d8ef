import {
  BinaryContent,
  ErrorCode,
  JsonContent,
  type JsonObject,
  type RoomClient,
} from "@meshagent/api";
import {
  FunctionTool,
  Tool,
  type ToolContext,
  ToolError,
  type ToolInput,
  Toolkit,
  type ToolParticipant,
} from "@meshagent/tools";
import type { AgentJson } from "./agent.ts";
import { SingleRoomAgent, type SingleRoomAgentOptions } from "./single_room_agent.ts";

/** What {@linkcode TaskRunner.ask} gets besides the arguments. */
export interface TaskContext {
  /** The room. */
  readonly room: RoomClient;
  /** Who called the task. */
  readonly caller: ToolParticipant;
  /** Whom the caller acts for, if anyone. */
  readonly onBehalfOf: ToolParticipant | null;
  /** The toolkits the task may use (the runner's `toolkits`). */
  readonly toolkits: readonly Toolkit[];
  /** Aborts when the call is cancelled (the caller left, the agent stopped). */
  readonly signal: AbortSignal;
}

/** Options of a {@linkcode TaskRunner}. */
export interface TaskRunnerOptions extends Omit<SingleRoomAgentOptions, "toolkits"> {
  /**
   * The JSON Schema of the task's arguments (required); null means no arguments (`{}` only).
   */
  inputSchema: JsonObject | null;
  /** The JSON Schema every answer must match (default: any answer). */
  outputSchema?: JsonObject | null;
  /** Whether the task takes toolkits from its caller (default false, as official). */
  supportsTools?: boolean;
  /** Toolkits handed to {@linkcode TaskRunner.ask} (`context.toolkits`). */
  toolkits?: readonly Toolkit[];
  /** Other toolkits to host in the room besides the task's own. */
  hostedToolkits?: readonly Toolkit[];
  /** Register the task's toolkit as public (default true: any participant may call it). */
  public?: boolean;
}

/** {@linkcode TaskRunner.toJson}: the agent's metadata plus the task's schemas. */
export interface TaskRunnerJson extends AgentJson {
  /** The arguments' schema. */
  input_schema: JsonObject;
  /** The answers' schema, or null. */
  output_schema: JsonObject | null;
  /** Whether it takes toolkits from its caller. */
  supports_tools: boolean;
}

/** The schema of a task without arguments. */
const NO_ARGUMENTS: JsonObject = {
  type: "object",
  description: "execute the agent",
  additionalProperties: false,
  properties: {},
};

/** `run_<name>_task`: JSON arguments, or a binary attachment whose headers are the arguments. */
class RunTaskTool extends Tool {
  readonly #runner: TaskRunner;
  /** Checks the headers of a binary input against the input schema (the same validator). */
  readonly #arguments: FunctionTool;

  constructor(runner: TaskRunner, name: string) {
    super({
      name: `run_${name}_task`,
      title: `Run ${runner.title || name} Task`,
      description: runner.description,
      inputSpec: { types: ["json", "binary"], schema: runner.inputSchema },
      ...(runner.outputSchema ? { outputSchema: runner.outputSchema } : {}),
    });
    this.#runner = runner;
    this.#arguments = new FunctionTool({
      name: this.name,
      inputSchema: runner.inputSchema,
      run: (_context, args) => new JsonContent(args),
    });
  }

  override async execute(context: ToolContext, input: ToolInput): Promise<unknown> {
    let args: JsonObject = {};
    let attachment: Uint8Array | undefined;
    if (input instanceof BinaryContent) {
      const checked = await this.#arguments.invoke(context, input.headers);
      args = (checked as JsonContent).json as JsonObject;
      attachment = input.data;
    } else if (input instanceof JsonContent) {
      args = input.json as JsonObject;
    }
    const room = context.room;
    if (!room) {
      throw new ToolError("a task runs in a room", ErrorCode.INVALID_STATE);
    }
    return await this.#runner.ask(
      {
        room,
        caller: context.caller,
        onBehalfOf: context.onBehalfOf,
        toolkits: this.#runner.toolkits,
        signal: context.signal,
      },
      args,
      attachment,
    );
  }
}

/**
 * An agent that is a task (agents-sources.md §2b, official `TaskRunner`): JSON in, JSON out, as
 * a tool. When started it hosts a toolkit named after the agent with one tool,
 * `run_<name>_task`, whose input is `inputSchema`; a call runs {@linkcode TaskRunner.ask} with
 * the arguments. The arguments are checked against `inputSchema` before `ask` runs (a mismatch
 * fails the call with 1002, naming the field), and the answer against `outputSchema`. A call may
 * also carry a binary attachment: a `binary` content whose headers are the arguments.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type TaskContext, TaskRunner } from "@meshagent/agents";
 * import type { JsonObject } from "@meshagent/api";
 *
 * class Adder extends TaskRunner {
 *   constructor() {
 *     super({
 *       name: "adder",
 *       description: "adds two numbers",
 *       inputSchema: {
 *         type: "object",
 *         required: ["a", "b"],
 *         additionalProperties: false,
 *         properties: { a: { type: "number" }, b: { type: "number" } },
 *       },
 *       outputSchema: {
 *         type: "object",
 *         required: ["sum"],
 *         properties: { sum: { type: "number" } },
 *       },
 *     });
 *   }
 *   ask(_context: TaskContext, args: JsonObject) {
 *     return { sum: (args.a as number) + (args.b as number) };
 *   }
 * }
 * const json = new Adder().toJson();
 * assert.equal(json.supports_tools, false);
 * assert.deepEqual(json.output_schema?.required, ["sum"]);
 * // In a program run by `meshagent room connect`: await new Adder().run();
 * ```
 */
export abstract class TaskRunner extends SingleRoomAgent {
  /** The arguments' schema. */
  readonly inputSchema: JsonObject;
  /** The answers' schema, or null. */
  readonly outputSchema: JsonObject | null;
  /** Whether it takes toolkits from its caller. */
  readonly supportsTools: boolean;
  /** The toolkits handed to `ask`. */
  readonly toolkits: readonly Toolkit[];
  readonly #public: boolean;

  /**
   * Creates the runner (nothing connects before {@linkcode SingleRoomAgent.start}).
   *
   * @param options The metadata, the schemas and the toolkits.
   */
  constructor(options: TaskRunnerOptions) {
    const { inputSchema, outputSchema, supportsTools, toolkits, hostedToolkits, ...rest } = options;
    super({ ...rest, toolkits: hostedToolkits });
    this.inputSchema = inputSchema ?? NO_ARGUMENTS;
    this.outputSchema = outputSchema ?? null;
    this.supportsTools = supportsTools ?? false;
    this.toolkits = [...(toolkits ?? [])];
    this.#public = options.public ?? true;
  }

  /**
   * Runs the task.
   *
   * @param context The room, the caller, the toolkits, the cancel signal.
   * @param args The arguments (they matched `inputSchema`).
   * @param attachment The bytes of a binary call, if any.
   * @returns The answer: a JSON value (checked against `outputSchema`), a string, a content.
   */
  abstract ask(context: TaskContext, args: JsonObject, attachment?: Uint8Array): unknown;

  /**
   * The hosted toolkits: the task's own (`<name>` with `run_<name>_task`) and `hostedToolkits`.
   *
   * @returns The toolkits.
   */
  override async getExposedToolkits(): Promise<readonly Toolkit[]> {
    const name = this.name;
    if (!name) {
      throw new ToolError(
        "a task runner needs a name (or a participant name)",
        ErrorCode.INVALID_REQUEST,
      );
    }
    return [
      new Toolkit({
        name,
        title: this.title,
        description: this.description,
        public: this.#public,
        tools: [new RunTaskTool(this, name)],
      }),
      ...await super.getExposedToolkits(),
    ];
  }

  /**
   * The metadata, as the official `to_json()`: title, description, input and output schemas,
   * requirements, `supports_tools`, labels and annotations (and the name).
   *
   * @returns The JSON.
   */
  override toJson(): TaskRunnerJson {
    return {
      ...super.toJson(),
      input_schema: this.inputSchema,
      output_schema: this.outputSchema,
      supports_tools: this.supportsTools,
    };
  }
}
