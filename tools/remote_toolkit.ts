import {
  type Content,
  ErrorCode,
  type RoomClient,
  type ToolDescription,
  type ToolkitDescription,
} from "@meshagent/api";
import type { BaseToolOptions } from "./base_tool.ts";
import { Tool, type ToolInput } from "./tool.ts";
import type { ToolContext } from "./tool_context.ts";
import type { ToolContentSpecInit } from "./tool_content_spec.ts";
import { ToolError } from "./tool_error.ts";
import { Toolkit } from "./toolkit.ts";

/** Where a remote tool is reached. */
export interface RemoteToolTarget {
  /** The room client to call through. */
  room: RoomClient;
  /** The toolkit name in the room. */
  toolkit: string;
  /** Call the toolkit hosted by this participant (default: whichever host the room picks). */
  participantId?: string;
}

function specInit(spec: ToolDescription["inputSpec"]): ToolContentSpecInit | undefined {
  if (!spec) return undefined;
  const init: ToolContentSpecInit = {
    types: spec.types as ToolContentSpecInit["types"],
    stream: spec.stream,
  };
  if (spec.schema) init.schema = spec.schema;
  return init;
}

/** How much of the host's description to keep: all, no schemas, or no specs at all. */
type Fidelity = "full" | "no_schemas" | "no_specs";

function toolOptions(description: ToolDescription, fidelity: Fidelity): BaseToolOptions {
  const options: BaseToolOptions = {
    name: description.name,
    title: description.title,
    description: description.description,
  };
  if (fidelity !== "no_specs") {
    const input = specInit(description.inputSpec);
    const output = specInit(description.outputSpec);
    const strip = (spec: ToolContentSpecInit) =>
      fidelity === "full" ? spec : { types: spec.types, stream: spec.stream };
    if (input) options.inputSpec = strip(input);
    if (output) options.outputSpec = strip(output);
  }
  if (fidelity === "full" && description.defs) options.defs = description.defs;
  if (description.strict !== undefined) options.strict = description.strict;
  if (description.thumbnailUrl !== undefined) options.thumbnailUrl = description.thumbnailUrl;
  return options;
}

/** The richest options this SDK accepts: a host's schema or content kinds may be foreign. */
function bestOptions(description: ToolDescription): BaseToolOptions {
  for (const fidelity of ["full", "no_schemas"] as const) {
    const options = toolOptions(description, fidelity);
    try {
      new ProbeTool(options);
      return options;
    } catch {
      // try with less
    }
  }
  return toolOptions(description, "no_specs");
}

/**
 * A tool hosted by another participant, called through the room. Its specs are the ones the host
 * registered, so {@linkcode Tool.invoke} checks the input locally before anything is sent. A
 * streamed `output_spec` is invoked as a stream; otherwise the call is unary. A streamed input
 * (an async iterable) is sent chunk by chunk either way. The caller's `onBehalfOf` and `signal`
 * travel with the call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RemoteTool } from "@meshagent/tools";
 * import { RoomClient } from "@meshagent/api";
 * // Not started: building a remote tool sends nothing.
 * await using room = new RoomClient({ url: "ws://127.0.0.1:1/rooms/demo", token: "<jwt>" });
 * const sum = new RemoteTool({ room, toolkit: "math" }, {
 *   name: "sum",
 *   title: "Sum",
 *   description: "adds",
 *   inputSpec: { types: ["json"], stream: false, schema: { type: "object" } },
 * });
 * assert(sum.inputSpec?.types.length === 1 && sum.name === "sum");
 * ```
 */
export class RemoteTool extends Tool {
  /** Where the tool is reached. */
  readonly target: RemoteToolTarget;

  /**
   * Creates the value.
   *
   * @param target The room, toolkit and optional host participant.
   * @param description The tool as listed by `room.list_toolkits`. A schema this SDK cannot
   *   compile, or content kinds it does not know, are dropped (the host still validates).
   */
  constructor(target: RemoteToolTarget, description: ToolDescription) {
    super(bestOptions(description));
    this.target = { ...target };
  }

  /**
   * Invokes the tool in the room.
   *
   * @param context The call context (`onBehalfOf` and `signal` are passed on).
   * @param input The checked input.
   * @returns The result content, or the output stream for a streamed `output_spec`.
   */
  override async execute(context: ToolContext, input: ToolInput): Promise<unknown> {
    const { room, toolkit, participantId } = this.target;
    const request = {
      toolkit,
      tool: this.name,
      input: input as Content | AsyncIterable<Content>,
      participantId,
      onBehalfOfId: context.onBehalfOf?.id,
      signal: context.signal,
    };
    if (this.outputSpec?.stream) return await room.invokeStream(request);
    return await room.invoke(request);
  }
}

class ProbeTool extends Tool {
  execute(): unknown {
    return undefined;
  }
}

/** Options of {@linkcode RemoteToolkit.fromRoom} and {@linkcode RemoteToolkit.listInRoom}. */
export interface RemoteToolkitLookup {
  /** Only toolkits hosted by this participant (private ones included); calls go to it. */
  participantId?: string;
  /** Only toolkits hosted by the participant with this name. */
  participantName?: string;
  /** Seconds the room may wait for that participant's toolkits to appear. */
  timeout?: number;
}

/**
 * A toolkit hosted by another participant, as a local {@linkcode Toolkit} of
 * {@linkcode RemoteTool}s: hand it to an agent or call `execute` like any toolkit, and each call
 * goes through the room to the host.
 *
 * @example Finding a toolkit (needs a started room client, so the example defines the function only)
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RoomClient } from "@meshagent/api";
 * import { RemoteToolkit, ToolContext } from "@meshagent/tools";
 * async function add(room: RoomClient): Promise<unknown> {
 *   const math = await RemoteToolkit.fromRoom(room, "math");
 *   const ctx = new ToolContext({ caller: { id: room.localParticipant!.id, attributes: {} }, room });
 *   return await math.execute(ctx, "sum", { a: 2, b: 3 });
 * }
 * assert(typeof add === "function");
 * ```
 */
export class RemoteToolkit extends Toolkit {
  /** The participant hosting it, when the room said. */
  readonly participantId?: string;

  /**
   * Wraps a listed toolkit.
   *
   * @param room The room client to call through.
   * @param description The toolkit as listed by `room.list_toolkits`.
   * @param participantId Send calls to this host (default: the listed host, if any, when
   *   `pinHost` is true; else whichever host the room picks).
   * @param pinHost Address calls to the listed host with `participant_id` (default true).
   */
  constructor(
    room: RoomClient,
    description: ToolkitDescription,
    participantId?: string,
    pinHost: boolean = true,
  ) {
    const host = participantId ?? (pinHost ? description.participantId : undefined);
    const target: RemoteToolTarget = { room, toolkit: description.name };
    if (host !== undefined) target.participantId = host;
    super({
      name: description.name,
      title: description.title,
      description: description.description,
      tools: description.tools.map((t) => new RemoteTool(target, t)),
      annotations: description.annotations,
      thumbnailUrl: description.thumbnailUrl,
      // The host validates too; locally only the content kinds and shapes are checked.
      validation: "content_types",
    });
    if (description.participantId !== undefined) this.participantId = description.participantId;
  }

  /**
   * Lists the toolkits in the room and wraps one of them.
   *
   * @param room A started room client.
   * @param name The toolkit name.
   * @param lookup Host filter and discovery timeout.
   * @returns The remote toolkit.
   * @throws {ToolError} (1003) When no such toolkit is visible to this participant.
   */
  static async fromRoom(
    room: RoomClient,
    name: string,
    lookup: RemoteToolkitLookup = {},
  ): Promise<RemoteToolkit> {
    const all = await RemoteToolkit.listInRoom(room, lookup);
    const found = all.find((t) => t.name === name);
    if (!found) {
      const where = lookup.participantId !== undefined
        ? ` hosted by participant ${lookup.participantId}`
        : lookup.participantName !== undefined
        ? ` hosted by ${lookup.participantName}`
        : "";
      throw new ToolError(
        `toolkit ${name} was not found in the room${where}; ` +
          `visible: ${all.map((t) => t.name).join(", ") || "none"}`,
        ErrorCode.NOT_FOUND,
      );
    }
    return found;
  }

  /**
   * Lists the toolkits in the room (public ones, this participant's own, or a host's) as remote
   * toolkits.
   *
   * @param room A started room client.
   * @param lookup Host filter and discovery timeout.
   * @returns The remote toolkits.
   */
  static async listInRoom(
    room: RoomClient,
    lookup: RemoteToolkitLookup = {},
  ): Promise<RemoteToolkit[]> {
    const listed = await room.agents.listToolkits(lookup);
    return listed.map((d) => new RemoteToolkit(room, d, lookup.participantId));
  }
}
