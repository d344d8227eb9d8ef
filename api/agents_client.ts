import { type Content, JsonContent } from "./content.ts";
import { ErrorCode, RoomError } from "./errors.ts";
import type { JsonObject } from "./packing.ts";
import type { RoomRequester } from "./room_requester.ts";
import type { ToolCallStream } from "./tool_call_streams.ts";
import { parseToolkitList, type ToolkitDescription } from "./toolkit_description.ts";

/** Options of {@linkcode AgentsClient.listToolkits}. */
export interface ListToolkitsOptions {
  /** Only the toolkits hosted by this participant (private ones included). */
  participantId?: string;
  /** Only the toolkits hosted by the participant with this `name` attribute. */
  participantName?: string;
  /**
   * Seconds the room may wait for that participant or its toolkits to appear (sent to the
   * room). The request itself then waits that long plus 10 s unless `requestTimeout` says
   * otherwise.
   */
  timeout?: number;
  /** The local request timeout in ms. */
  requestTimeout?: number;
  /** Cancels the wait. */
  signal?: AbortSignal;
}

/** What {@linkcode AgentsClient.invokeTool} invokes. */
export interface InvokeToolOptions {
  /** The toolkit name. */
  toolkit: string;
  /** The tool name. */
  tool: string;
  /** The JSON arguments (sent as a `json` content). */
  arguments?: JsonObject;
  /** Target the toolkit hosted by this participant. */
  participantId?: string;
  /** The participant this call acts for. */
  onBehalfOfId?: string;
  /** Free-form caller context. */
  callerContext?: JsonObject;
  /** Fail with a `RequestTimeoutError` after this many ms. */
  timeout?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/** What {@linkcode AgentsClient.invokeStream} invokes. */
export interface InvokeStreamOptions extends Omit<InvokeToolOptions, "arguments"> {
  /** One input content, JSON arguments, or an async iterable of contents for a streamed input. */
  input?: Content | JsonObject | AsyncIterable<Content>;
}

/**
 * Toolkits in the room: list what participants host, and invoke their tools.
 *
 * @example Calling a tool (needs a running room, so shown without running it)
 * ```ts
 * import assert from "node:assert/strict";
 * import { JsonContent, type RoomClient } from "@meshagent/api";
 * async function sum(room: RoomClient): Promise<unknown> {
 *   const kits = await room.agents.listToolkits();
 *   console.log(kits.map((k) => k.name));
 *   const result = await room.agents.invokeTool({ toolkit: "math", tool: "sum", arguments: { a: 1, b: 2 } });
 *   return result instanceof JsonContent ? result.json : undefined;
 * }
 * assert(typeof sum === "function");
 * ```
 */
export class AgentsClient {
  readonly #room: RoomRequester;

  /**
   * Creates the sub-client; a {@linkcode RoomClient} makes one for itself.
   *
   * @param room The room client this belongs to.
   */
  constructor(room: RoomRequester) {
    this.#room = room;
  }

  /**
   * Lists toolkits: without a filter, every public toolkit plus this participant's own private
   * ones; with `participantId`/`participantName`, that participant's toolkits.
   *
   * @param options Filters and timeouts.
   * @returns The toolkits.
   */
  async listToolkits(options: ListToolkitsOptions = {}): Promise<ToolkitDescription[]> {
    const header: JsonObject = {};
    if (options.participantId !== undefined) header.participant_id = options.participantId;
    if (options.participantName !== undefined) header.participant_name = options.participantName;
    if (options.timeout !== undefined) header.timeout = options.timeout;
    const requestTimeout = options.requestTimeout ??
      (options.timeout !== undefined ? options.timeout * 1000 + 10_000 : undefined);
    const content = await this.#room.request("room.list_toolkits", header, {
      timeout: requestTimeout,
      signal: options.signal,
    });
    if (!(content instanceof JsonContent)) {
      throw new RoomError(
        `unexpected return type from room.list_toolkits: ${content.type}`,
        ErrorCode.UNEXPECTED_RESPONSE_TYPE,
      );
    }
    return parseToolkitList(content.json);
  }

  /**
   * Invokes a tool with JSON arguments and waits for its result.
   *
   * @param options The toolkit, tool, arguments and target.
   * @returns The result content (a JSON result is a {@linkcode JsonContent}).
   * @throws {RoomError} With the tool's error text and code when it failed.
   */
  invokeTool(options: InvokeToolOptions): Promise<Content> {
    return this.#room.invoke({
      toolkit: options.toolkit,
      tool: options.tool,
      input: new JsonContent(options.arguments ?? {}),
      participantId: options.participantId,
      onBehalfOfId: options.onBehalfOfId,
      callerContext: options.callerContext,
      timeout: options.timeout,
      signal: options.signal,
    });
  }

  /**
   * Invokes a tool whose output is streamed (and whose input may be streamed too).
   *
   * @param options The toolkit, tool, input and target.
   * @returns The output stream.
   */
  invokeStream(options: InvokeStreamOptions): Promise<ToolCallStream> {
    return this.#room.invokeStream({
      toolkit: options.toolkit,
      tool: options.tool,
      input: options.input,
      participantId: options.participantId,
      onBehalfOfId: options.onBehalfOfId,
      callerContext: options.callerContext,
      timeout: options.timeout,
      signal: options.signal,
    });
  }
}
