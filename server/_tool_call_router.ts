// Routing of calls to participant-hosted toolkits (protocol §7): registration, listing, and the
// relay caller → host → caller, with request and response streams, per-call timeouts and the
// §7.6 cleanup rules. One router per room; connections call into it.
import {
  type ApiScope,
  ControlCloseStatus,
  ControlContent,
  EmptyContent,
  ErrorCode,
  ErrorContent,
  JsonContent,
  type JsonObject,
  packMessage,
  type ProtocolMessage,
  RESPONSE_TYPE,
  RoomError,
  unpackMessage,
} from "@meshagent/api";
import { type Deadline, DeadlineQueue } from "./_deadline_queue.ts";
import type { Participant } from "./participant.ts";
import type { Room } from "./room.ts";
import { type ToolkitListFilter, ToolkitRegistry } from "./toolkit_registry.ts";

/** The default server-side limit for a host's first answer to a routed call (10 minutes). */
export const DEFAULT_TOOL_CALL_TIMEOUT_MS = 10 * 60 * 1000;
/** [impl] The longest `room.list_toolkits` may wait for a participant's toolkits. */
const MAX_LIST_WAIT_MS = 10 * 60 * 1000;

const HOST_GONE = "toolkit host disconnected";
/** Close status of an input stream the server ends for the caller (WebSocket "going away"). */
const GOING_AWAY = 1001;
const CONTROL_OPEN = ControlContent.open().pack();
const EMPTY = new EmptyContent().pack();

type Phase = "pending" | "streaming" | "done";

interface RoutedCall {
  readonly caller: Participant;
  /** The caller's `room.invoke_tool` message id (R). */
  readonly requestId: number;
  readonly callerToolCallId: string;
  readonly host: Participant;
  /** The id of `room.tool_call.<toolkit>` on the host's socket (S). */
  readonly hostMessageId: number;
  /** The `tool_call_id` the host sees (the caller's, unless the host has that one already). */
  readonly hostToolCallId: string;
  readonly toolkit: string;
  readonly tool: string;
  phase: Phase;
  /** The caller has not sent its input `close` yet (its chunks are still answered). */
  callerInputOpen: boolean;
  /** The host still takes input chunks. */
  forwardInput: boolean;
  deadline?: Deadline;
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The per-room router of participant-hosted toolkits. */
export class ToolCallRouter {
  /** The room's toolkit registrations. */
  readonly registry: ToolkitRegistry;
  /** Each call's wait for its host's first answer (they all last #timeoutMs). */
  readonly #deadlines: DeadlineQueue<RoutedCall>;
  /** Calls by host, then by the host-side message id S. */
  readonly #byHost = new Map<Participant, Map<number, RoutedCall>>();
  /** Calls by caller, then by the caller's tool call id. */
  readonly #byCaller = new Map<Participant, Map<string, RoutedCall>>();

  constructor(room: Room, timeoutMs: number) {
    this.registry = new ToolkitRegistry((name) => room.toolkit(name) !== undefined);
    this.#deadlines = new DeadlineQueue(timeoutMs, (call) => this.#timedOut(call, timeoutMs));
  }

  /** How many calls hold state (for tests). */
  get activeCalls(): number {
    let n = 0;
    for (const calls of this.#byCaller.values()) n += calls.size;
    return n;
  }

  // ------------------------------------------------------------ registration and listing

  /** `room.register_toolkit` → json `{id}`. */
  register(participant: Participant, header: JsonObject): JsonContent {
    const agents = agentsScope(participant.scope);
    const isPublic = header.public === true;
    if (!agents.canRegisterToolkit(isPublic)) {
      throw new RoomError(
        `permission denied: the agents grant does not allow registering a ${
          isPublic ? "public" : "private"
        } toolkit (register_${isPublic ? "public" : "private"}_toolkit)`,
        ErrorCode.PERMISSION_DENIED,
      );
    }
    const registration = this.registry.register(participant, header);
    return new JsonContent({ id: registration.id });
  }

  /** `room.unregister_toolkit` → empty. Calls in flight finish. */
  unregister(participant: Participant, header: JsonObject): EmptyContent {
    if (typeof header.id !== "string") {
      throw new RoomError(
        "room.unregister_toolkit needs the string id returned by room.register_toolkit",
        ErrorCode.INVALID_REQUEST,
      );
    }
    this.registry.unregister(participant, header.id);
    return new EmptyContent();
  }

  /** `room.list_toolkits` → json `{tools: {…}}`, waiting up to `timeout` s for a named host. */
  async list(participant: Participant, header: JsonObject): Promise<JsonContent> {
    const agents = agentsScope(participant.scope);
    if (!agents.canListToolkits()) {
      throw new RoomError(
        "permission denied: the agents grant does not allow listing toolkits (use_tools)",
        ErrorCode.PERMISSION_DENIED,
      );
    }
    const filter: ToolkitListFilter = {};
    const id = header.participant_id ?? null;
    const name = header.participant_name ?? null;
    const timeout = header.timeout ?? null;
    if (id !== null && typeof id !== "string") throw badList("participant_id must be a string");
    if (name !== null && typeof name !== "string") {
      throw badList("participant_name must be a string");
    }
    if (timeout !== null && (typeof timeout !== "number" || !(timeout >= 0))) {
      throw badList("timeout must be a number of seconds (0 or more)");
    }
    if (id !== null) filter.participantId = id;
    if (name !== null) filter.participantName = name;
    if ((id !== null || name !== null) && typeof timeout === "number" && timeout > 0) {
      await this.registry.waitFor(
        filter,
        Math.min(timeout * 1000, MAX_LIST_WAIT_MS),
        participant.signal,
      );
    }
    return new JsonContent(this.registry.list(participant.id, filter));
  }

  // ------------------------------------------------------------ calls

  /**
   * Routes a `room.invoke_tool` to the toolkit's host. Answers the caller itself (now on an error,
   * later with the host's answer). Synchronous, so request chunks that follow find the call.
   */
  invoke(
    caller: Participant,
    requestId: number,
    header: JsonObject,
    payload: Uint8Array,
    toolkit: string,
    tool: string,
    toolCallId: string,
    streamedInput: boolean,
  ): void {
    const fail = (text: string, code: number) => respond(caller, requestId, errorData(text, code));
    const scope = caller.scope;
    if (scope?.agents == null) {
      return fail(
        "permission denied: the api grant has no agents scope, which calling a participant's " +
          "toolkit needs",
        ErrorCode.PERMISSION_DENIED,
      );
    }
    if (!scope.agents.canCallToolkit(toolkit)) {
      return fail(
        scope.agents.call
          ? `permission denied: toolkit ${toolkit} is not in the token's agents.allowed_toolkits`
          : "permission denied: the agents grant does not allow calling tools (call)",
        ErrorCode.PERMISSION_DENIED,
      );
    }
    const target = header.participant_id ?? null;
    if (target !== null && typeof target !== "string") {
      return fail("participant_id must be a string", ErrorCode.INVALID_REQUEST);
    }
    const onBehalfOf = header.on_behalf_of_id ?? null;
    if (onBehalfOf !== null && typeof onBehalfOf !== "string") {
      return fail("on_behalf_of_id must be a string", ErrorCode.INVALID_REQUEST);
    }
    const registration = this.registry.resolve(toolkit, caller.id, target);
    if (!registration) {
      return fail(
        target === null
          ? `toolkit ${toolkit} was not found`
          : `toolkit ${toolkit} was not found for participant ${target}`,
        ErrorCode.NOT_FOUND,
      );
    }
    if (!Object.hasOwn(registration.tools, tool)) {
      return fail(`tool ${tool} was not found in toolkit ${toolkit}`, ErrorCode.NOT_FOUND);
    }
    let callerCalls = this.#byCaller.get(caller);
    if (callerCalls?.has(toolCallId)) {
      return fail(`tool_call_id ${toolCallId} is already in use`, ErrorCode.INVALID_REQUEST);
    }
    const host = registration.host;
    let hostCalls = this.#byHost.get(host);
    let hostToolCallId = toolCallId;
    if (hostCalls) {
      for (const c of hostCalls.values()) {
        if (c.hostToolCallId === toolCallId) {
          hostToolCallId = crypto.randomUUID();
          break;
        }
      }
    }
    if (host.protocol.isClosed) return fail(HOST_GONE, ErrorCode.OPERATION_FAILED);
    const hostMessageId = host.protocol.nextId();
    const call: RoutedCall = {
      caller,
      requestId,
      callerToolCallId: toolCallId,
      host,
      hostMessageId,
      hostToolCallId,
      toolkit,
      tool,
      phase: "pending",
      callerInputOpen: streamedInput,
      forwardInput: streamedInput,
    };
    const forHost: JsonObject = {
      name: tool,
      tool_call_id: hostToolCallId,
      arguments: header.arguments ?? null,
      caller_id: caller.id,
      on_behalf_of_id: onBehalfOf,
      toolkit,
    };
    if (isObject(header.caller_context)) forHost.caller_context = header.caller_context;
    try {
      host.protocol.send(`room.tool_call.${toolkit}`, packMessage(forHost, payload), hostMessageId);
    } catch {
      return fail(HOST_GONE, ErrorCode.OPERATION_FAILED);
    }
    if (!callerCalls) this.#byCaller.set(caller, callerCalls = new Map());
    if (!hostCalls) this.#byHost.set(host, hostCalls = new Map());
    callerCalls.set(toolCallId, call);
    hostCalls.set(hostMessageId, call);
    call.deadline = this.#deadlines.add(call);
  }

  /**
   * A caller's `room.tool_call_request_chunk` for a routed call: answers it with `empty` and
   * forwards the chunk to the host as `room.tool_call_request_chunk.<toolkit>`.
   *
   * @returns False when the tool call id is not a routed call of this caller.
   */
  requestChunk(
    caller: Participant,
    requestId: number,
    toolCallId: string,
    chunk: JsonObject,
    payload: Uint8Array,
    isClose: boolean,
  ): boolean {
    const calls = this.#byCaller.get(caller);
    const call = calls?.get(toolCallId);
    if (!call) return false;
    respond(caller, requestId, EMPTY);
    if (call.forwardInput) {
      this.#sendHostChunk(call, chunk, payload);
      if (isClose) call.forwardInput = false;
    }
    if (isClose) {
      call.callerInputOpen = false;
      if (call.phase === "done") this.#release(call);
    }
    return true;
  }

  /** A host's `room.tool_call_response` (id S): the unary answer, or `control` open. */
  hostResponse(host: Participant, m: ProtocolMessage): void {
    const call = this.#byHost.get(host)?.get(m.id);
    if (!call || call.phase !== "pending") return; // late, unknown or repeated: ignored
    let header: JsonObject;
    try {
      header = unpackMessage(m.data).header;
    } catch (e) {
      return this.#finish(
        call,
        errorData(`the toolkit host sent a malformed response: ${message(e)}`, 1008),
      );
    }
    if (typeof header.type !== "string") {
      return this.#finish(
        call,
        errorData("the toolkit host sent a response that is not a content", 1008),
      );
    }
    if (header.type === "control" && header.method === "open") {
      this.#deadlines.cancel(call.deadline);
      call.phase = "streaming";
      respond(call.caller, call.requestId, CONTROL_OPEN);
      return;
    }
    // Forwarded verbatim (a Python host's `__meshagent__` key included; clients ignore it).
    this.#finish(call, m.data);
  }

  /** A host's `room.tool_call_response_chunk`: forwarded to the caller with the caller's id. */
  hostChunk(host: Participant, m: ProtocolMessage): void {
    let header: JsonObject;
    let payload: Uint8Array;
    try {
      ({ header, payload } = unpackMessage(m.data));
    } catch {
      return; // malformed: dropped (a host message never gets a response)
    }
    const calls = this.#byHost.get(host);
    if (!calls) return;
    let call = calls.get(m.id);
    if (!call || call.hostToolCallId !== header.tool_call_id) {
      // Hosts send chunks with id S; a host that does not is matched by tool_call_id.
      call = undefined;
      for (const c of calls.values()) {
        if (c.hostToolCallId === header.tool_call_id) call = c;
      }
    }
    if (!call || call.phase === "done") return;
    const chunk = header.chunk ?? null;
    this.#sendCallerChunk(call, chunk, payload);
    if (isObject(chunk) && chunk.type === "control" && chunk.method === "close") {
      call.phase = "done";
      call.forwardInput = false; // the host's call is over: later input has nowhere to go
      this.#deadlines.cancel(call.deadline);
      this.#dropHostSide(call);
      if (!call.callerInputOpen) this.#release(call);
    }
  }

  /**
   * A participant left: its registrations go; calls it hosts fail at once (§7.6); calls it made
   * are dropped, and hosts reading their streamed input get a `control` close.
   */
  participantLeft(participant: Participant): void {
    this.registry.participantLeft(participant);
    const hosted = this.#byHost.get(participant);
    if (hosted) {
      this.#byHost.delete(participant);
      for (const call of hosted.values()) {
        this.#deadlines.cancel(call.deadline);
        call.forwardInput = false;
        if (call.phase === "pending") {
          respond(call.caller, call.requestId, errorData(HOST_GONE, ErrorCode.OPERATION_FAILED));
        } else if (call.phase === "streaming") {
          this.#sendCallerChunk(
            call,
            ControlContent.close(ControlCloseStatus.INTERNAL_ERROR, HOST_GONE).toJson(),
            new Uint8Array(0),
          );
        }
        call.phase = "done";
        if (!call.callerInputOpen) this.#release(call);
      }
    }
    const made = this.#byCaller.get(participant);
    if (made) {
      this.#byCaller.delete(participant);
      for (const call of made.values()) {
        this.#deadlines.cancel(call.deadline);
        if (call.forwardInput && call.phase !== "done") {
          this.#sendHostChunk(
            call,
            ControlContent.close(GOING_AWAY, "the caller disconnected")
              .toJson(),
            new Uint8Array(0),
          );
        }
        call.phase = "done";
        call.forwardInput = false;
        this.#dropHostSide(call);
      }
    }
  }

  // ------------------------------------------------------------ internals

  #timedOut(call: RoutedCall, timeoutMs: number): void {
    if (call.phase !== "pending") return;
    if (call.forwardInput) {
      this.#sendHostChunk(
        call,
        ControlContent.close(GOING_AWAY, "the tool call timed out").toJson(),
        new Uint8Array(0),
      );
      call.forwardInput = false;
    }
    this.#finish(
      call,
      errorData(
        `tool call ${call.toolkit}.${call.tool} timed out: the toolkit host did not answer ` +
          `within ${timeoutMs / 1000} s`,
        ErrorCode.TIMEOUT,
      ),
    );
  }

  /** Answers the caller (unary) and ends the call. */
  #finish(call: RoutedCall, data: Uint8Array): void {
    this.#deadlines.cancel(call.deadline);
    call.phase = "done";
    call.forwardInput = false;
    respond(call.caller, call.requestId, data);
    this.#dropHostSide(call);
    if (!call.callerInputOpen) this.#release(call);
  }

  #dropHostSide(call: RoutedCall): void {
    const calls = this.#byHost.get(call.host);
    if (calls?.get(call.hostMessageId) === call) {
      calls.delete(call.hostMessageId);
      if (calls.size === 0) this.#byHost.delete(call.host);
    }
  }

  #release(call: RoutedCall): void {
    this.#dropHostSide(call);
    const calls = this.#byCaller.get(call.caller);
    if (calls?.get(call.callerToolCallId) === call) {
      calls.delete(call.callerToolCallId);
      if (calls.size === 0) this.#byCaller.delete(call.caller);
    }
  }

  #sendHostChunk(call: RoutedCall, chunk: JsonObject, payload: Uint8Array): void {
    call.host.sendEvent(
      `room.tool_call_request_chunk.${call.toolkit}`,
      packMessage({ tool_call_id: call.hostToolCallId, chunk }, payload),
    );
  }

  #sendCallerChunk(call: RoutedCall, chunk: unknown, payload: Uint8Array): void {
    call.caller.sendEvent(
      "room.tool_call_response_chunk",
      packMessage(
        {
          tool_call_id: call.callerToolCallId,
          toolkit: call.toolkit,
          tool: call.tool,
          chunk: chunk as JsonObject,
        },
        payload,
      ),
    );
  }
}

function agentsScope(scope: ApiScope | null): NonNullable<ApiScope["agents"]> {
  if (scope?.agents == null) {
    throw new RoomError(
      "permission denied: the api grant has no agents scope",
      ErrorCode.PERMISSION_DENIED,
    );
  }
  return scope.agents;
}

function badList(text: string): RoomError {
  return new RoomError(`room.list_toolkits: ${text}`, ErrorCode.INVALID_REQUEST);
}

function errorData(text: string, code: number): Uint8Array {
  return new ErrorContent(text, code).pack();
}

function respond(participant: Participant, id: number, data: Uint8Array): void {
  if (participant.protocol.isClosed) return; // the caller is gone: the answer is discarded
  participant.protocol.send(RESPONSE_TYPE, data, id);
}

const routers = new WeakMap<Room, ToolCallRouter>();

/**
 * The router of a room, made on first use.
 *
 * @param room The room.
 * @param timeoutMs The per-call limit for the host's first answer.
 * @returns The room's router.
 */
export function toolCallRouter(
  room: Room,
  timeoutMs: number = DEFAULT_TOOL_CALL_TIMEOUT_MS,
): ToolCallRouter {
  let router = routers.get(room);
  if (!router) routers.set(room, router = new ToolCallRouter(room, timeoutMs));
  return router;
}
