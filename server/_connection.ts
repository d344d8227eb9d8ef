import {
  type ApiScope,
  type Content,
  contentFromJson,
  ControlCloseStatus,
  ControlContent,
  EmptyContent,
  ErrorCode,
  ErrorContent,
  type JsonObject,
  PacketAssembler,
  packMessage,
  Protocol,
  type ProtocolMessage,
  RESPONSE_TYPE,
  RoomError,
  unpackMessage,
} from "@meshagent/api";
import type { InboundLimits } from "./_inbound_limits.ts";
import { type InputBudget, InputStream } from "./_input_stream.ts";
import { Participant } from "./participant.ts";
import type { Room } from "./room.ts";
import type { ToolContext, ToolResult } from "./room_toolkit.ts";
import { toolCallRouter } from "./_tool_call_router.ts";

/** Who is connecting, from the admitted token. */
export interface ConnectionIdentity {
  /** The token's `name`. */
  name: string;
  /** The token's role (`user` by default). */
  role: string;
  /** The token's API scope, or null without an `api` grant. */
  scope: ApiScope | null;
  /** The same key for the same token (per-token limits); default: the connection is its own. */
  token?: string;
}

/** The part of a server WebSocket a connection uses (see `ServerWebSocket`). */
export interface ConnectionSocket {
  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  readonly readyState: number;
  /** Bytes queued for sending. */
  readonly bufferedAmount: number;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: { data: Uint8Array }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: Event) => void) | null;
  /** Called after each read from the connection was parsed into frames (when supported). */
  oninput?: (() => void) | null;
  /** Received bytes of an incomplete WebSocket frame (when known). */
  readonly pendingBytes?: number;
  /** WebSocket messages received so far (when known). */
  readonly framesReceived?: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  /** Drops the connection without a closing handshake (when supported). */
  terminate?(): void;
}

/** A request type the server handles besides the room's own (e.g. `room.call`). */
export type ConnectionRequest = (
  participant: Participant,
  header: JsonObject,
) => Content | Promise<Content>;

/** What the room server adds to a connection. */
export interface ConnectionHooks {
  /** More request types, by type; each answers with a content (or throws a `RoomError`). */
  requests?: ReadonlyMap<string, ConnectionRequest>;
  /** Called once the participant joined the room (its socket opened). */
  joined?: (participant: Participant) => void;
}

/** Limits of one connection. */
export interface ConnectionLimits {
  /** Largest incoming message in bytes; a bigger one closes the socket with 1009. */
  maxMessageSize: number;
  /** Largest send backlog in bytes; a socket over it is closed with 1008 (slow consumer). */
  maxBufferedAmount: number;
  /** Longest wait (ms) for a toolkit host's first answer to a routed call (default 10 min). */
  toolCallTimeoutMs?: number;
  /** Data bytes per outgoing data packet (default 1024, as the official clients send). */
  packetSize?: number;
  /** The server's budgets for incomplete input and its time limit (none by default). */
  inbound?: InboundLimits;
}

const OPEN = 1;
const EMPTY_RESPONSE = new EmptyContent().pack();
const CONTROL_OPEN = ControlContent.open();
/** [impl] bufferedAmount is an op call in Deno: read it once every this many frames. */
const BUFFER_CHECK_EVERY = 16;
/** [impl] Quiet time before a socket closed for its input really closes (see closeAfterDrain). */
const DRAIN_QUIET_MS = 50;
/** [impl] The longest a socket closed for its input keeps draining. */
const DRAIN_MAX_MS = 2000;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isAsyncIterable(value: ToolResult): value is AsyncIterable<Content> {
  return typeof (value as Partial<AsyncIterable<Content>>)[Symbol.asyncIterator] === "function";
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Serves one admitted WebSocket as a participant of `room`: wires the socket to a
 * {@linkcode Protocol}, sends `room_ready` and `connected` once the socket opens, dispatches
 * requests, and on close removes the participant and calls `onEnd` exactly once.
 *
 * @param socket The upgraded server-side socket (not open yet).
 * @param room The room it joins.
 * @param identity Name, role and scope from the token.
 * @param limits Message and backlog limits.
 * @param onEnd Called once when the connection is over (the room may end then).
 * @param hooks More request types, and a callback once the participant joined.
 * @returns The participant.
 */
export function serveConnection(
  socket: ConnectionSocket,
  room: Room,
  identity: ConnectionIdentity,
  limits: ConnectionLimits,
  onEnd: (participant: Participant) => void,
  hooks: ConnectionHooks = {},
): Participant {
  let frames = 0;
  // deno-lint-ignore prefer-const
  let participant: Participant;
  const assembler = new PacketAssembler({ maxMessageSize: limits.maxMessageSize });
  const protocol = new Protocol({
    send(frame) {
      if (socket.readyState !== OPEN) return; // closing: the protocol learns it shortly
      socket.send(frame);
      if (++frames >= BUFFER_CHECK_EVERY) {
        frames = 0;
        if (socket.bufferedAmount > limits.maxBufferedAmount) {
          // [impl] Slow consumer: closing beats growing memory forever. 1008 (policy) makes the
          // TS client reconnect and start clean.
          participant.close(1008, "slow consumer: the send backlog exceeded its limit");
        }
      }
    },
    close(code, reason) {
      try {
        socket.close(code, reason);
      } catch { /* already closed */ }
    },
  }, { assembler, chunkSize: limits.packetSize });

  participant = new Participant({
    id: crypto.randomUUID(),
    name: identity.name,
    role: identity.role,
    scope: identity.scope,
    protocol,
  });

  /** Participant-hosted toolkits of the room (§7): registry and call routing. */
  const agents = toolCallRouter(room, limits.toolCallTimeoutMs);

  /** Open tool calls with streamed input, by tool call id. Per connection; dies with it. */
  const calls = new Map<string, InputStream>();
  // [impl] Unread streamed input of built-in tools, all calls of this connection together.
  const inputBudget: InputBudget = { used: 0, max: 64 * 1024 * 1024 };
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    assembler.discard(); // an incomplete message's memory goes back now, not at the next GC
    inbound?.end();
    for (const stream of calls.values()) stream.end();
    calls.clear();
    agents.participantLeft(participant);
    room.leave(participant);
    onEnd(participant);
  };
  protocol.onClose(end);

  const respond = (id: number, content: Content) => {
    if (protocol.isClosed) return; // the caller is gone: nobody waits for this answer
    protocol.send(RESPONSE_TYPE, content.type === "empty" ? EMPTY_RESPONSE : content.pack(), id);
  };
  const respondError = (id: number, text: string, code: number) => {
    respond(id, new ErrorContent(text, code));
  };
  const fail = (id: number, e: unknown) => {
    if (e instanceof RoomError) {
      respond(id, new ErrorContent(e.message, e.code ?? ErrorCode.OPERATION_FAILED));
    } else {
      console.error(`room ${room.name}: request ${id} failed:`, e);
      respond(id, new ErrorContent(`internal error: ${message(e)}`, ErrorCode.OPERATION_FAILED));
    }
  };

  // Closing after the peer's burst drained. [impl] Deno resets the TCP connection when a server
  // socket closes while data frames are still arriving, and the close code and reason are lost.
  // So a socket to be closed for what it sent first ignores its input until it has been quiet
  // for DRAIN_QUIET_MS (at most DRAIN_MAX_MS), then closes.
  let drain: { timer: ReturnType<typeof setTimeout>; deadline: number; fire: () => void } | null =
    null;
  const closeAfterDrain = (code: number, reason: string) => {
    if (drain || protocol.isClosed) return;
    const fire = () => {
      drain = null;
      participant.close(code, reason);
    };
    drain = { timer: setTimeout(fire, DRAIN_QUIET_MS), deadline: Date.now() + DRAIN_MAX_MS, fire };
  };
  const drained = () => {
    if (!drain) return;
    clearTimeout(drain.timer);
    if (Date.now() >= drain.deadline) drain.fire();
    else drain.timer = setTimeout(drain.fire, DRAIN_QUIET_MS);
  };

  // Incomplete input counts against the server's budgets (see _inbound_limits.ts); a connection
  // over one drops what it holds at once and is closed after its input drained.
  const inbound = limits.inbound?.open(
    identity.token ?? participant.id,
    assembler,
    socket,
    (code, reason) => {
      assembler.discard();
      closeAfterDrain(code, reason);
    },
  );
  if (inbound && "oninput" in socket) socket.oninput = () => inbound.update();

  protocol.onError((error) => {
    // Malformed frames are ignored (never a crash). A message over the limit closes only this
    // socket with 1009. [impl] The assembler signals the limit with a ProtocolError whose text
    // says "exceeds the limit".
    if (error instanceof RoomError && /exceeds the limit/.test(error.message)) {
      inbound?.closingForInput();
      closeAfterDrain(1009, `message too big: the limit is ${limits.maxMessageSize} bytes`);
    }
  });

  protocol.onUnhandled((m) => {
    respondError(m.id, `unsupported request type ${m.type}`, ErrorCode.INVALID_REQUEST);
  });

  protocol.on("set_attributes", (m) => {
    // Fire-and-forget (§4.4): no response, malformed input is ignored.
    let header: JsonObject;
    try {
      header = unpackMessage(m.data).header;
    } catch {
      return;
    }
    room.setAttributes(participant, header);
  });

  // §7 participant-hosted toolkits. Host answers never get a response.
  protocol.on("room.tool_call_response", (m) => agents.hostResponse(participant, m));
  protocol.on("room.tool_call_response_chunk", (m) => agents.hostChunk(participant, m));
  const agentsRequest = (
    m: ProtocolMessage,
    run: (header: JsonObject) => Content | Promise<Content>,
  ): Promise<void> | void => {
    let header: JsonObject;
    try {
      header = unpackMessage(m.data).header;
    } catch (e) {
      return respondError(m.id, `malformed ${m.type}: ${message(e)}`, ErrorCode.INVALID_REQUEST);
    }
    try {
      const result = run(header);
      if (!(result instanceof Promise)) return respond(m.id, result);
      return result.then((content) => respond(m.id, content), (e) => fail(m.id, e));
    } catch (e) {
      return fail(m.id, e);
    }
  };
  protocol.on(
    "room.register_toolkit",
    (m) => agentsRequest(m, (h) => agents.register(participant, h)),
  );
  protocol.on(
    "room.unregister_toolkit",
    (m) => agentsRequest(m, (h) => agents.unregister(participant, h)),
  );
  protocol.on("room.list_toolkits", (m) => agentsRequest(m, (h) => agents.list(participant, h)));
  for (const [type, run] of hooks.requests ?? []) {
    protocol.on(type, (m) => agentsRequest(m, (h) => run(participant, h)));
  }

  protocol.on("room.invoke_tool", (m) => invoke(m));
  protocol.on("room.tool_call_request_chunk", (m) => chunk(m));

  function invoke(m: ProtocolMessage): Promise<void> | void {
    let header: JsonObject;
    let payload: Uint8Array;
    try {
      ({ header, payload } = unpackMessage(m.data));
    } catch (e) {
      return respondError(m.id, `malformed room.invoke_tool: ${message(e)}`, 1002);
    }
    const toolkitName = header.toolkit;
    const toolName = header.tool;
    if (typeof toolkitName !== "string" || typeof toolName !== "string") {
      return respondError(
        m.id,
        "room.invoke_tool needs string fields toolkit and tool",
        ErrorCode.INVALID_REQUEST,
      );
    }
    const args = header.arguments;
    let input: Content;
    try {
      if (!isObject(args)) throw new Error("arguments must be a content object");
      input = contentFromJson(args, payload);
    } catch (e) {
      return respondError(
        m.id,
        `malformed arguments for ${toolkitName}.${toolName}: ${message(e)}`,
        ErrorCode.INVALID_REQUEST,
      );
    }
    const scope = participant.scope;
    if (scope === null) {
      return respondError(
        m.id,
        "permission denied: the participant's token has no api grant",
        ErrorCode.PERMISSION_DENIED,
      );
    }
    // npm 0.39.9 sends no tool_call_id on unary invokes; streamed ones always carry one.
    const toolCallId = typeof header.tool_call_id === "string" && header.tool_call_id !== ""
      ? header.tool_call_id
      : crypto.randomUUID();
    const target = header.participant_id ?? null; // null and absent are the same (§2.4)

    // §6.6 resolution order [inferred]: no participant_id and a built-in name → built-in.
    if (target === null) {
      const toolkit = room.toolkit(toolkitName);
      if (toolkit) {
        const tool = room.tool(toolkitName, toolName);
        if (!tool) {
          return respondError(
            m.id,
            `tool ${toolName} was not found in toolkit ${toolkitName}`,
            ErrorCode.NOT_FOUND,
          );
        }
        if (scope[toolkit.surface] == null) {
          return respondError(
            m.id,
            `permission denied: the api grant has no ${toolkit.surface} scope`,
            ErrorCode.PERMISSION_DENIED,
          );
        }
        return runBuiltin(m.id, toolkitName, toolName, toolCallId, input, scope, tool);
      }
    }
    // §7 participant-hosted toolkits: resolve the host, send room.tool_call.<toolkit>, relay.
    const streamed = input instanceof ControlContent && input.method === "open";
    return agents.invoke(
      participant,
      m.id,
      header,
      payload,
      toolkitName,
      toolName,
      toolCallId,
      streamed,
    );
  }

  async function runBuiltin(
    id: number,
    toolkit: string,
    tool: string,
    toolCallId: string,
    input: Content,
    scope: ApiScope,
    run: (ctx: ToolContext) => ToolResult | Promise<ToolResult>,
  ): Promise<void> {
    let stream: InputStream | undefined;
    if (input instanceof ControlContent && input.method === "open") {
      // Registered before anything awaits, so chunks that follow the invoke always find it.
      stream = new InputStream(inputBudget);
      calls.get(toolCallId)?.end();
      calls.set(toolCallId, stream);
    }
    const context: ToolContext = {
      room,
      participant,
      scope,
      toolkit,
      tool,
      toolCallId,
      input,
      inputStream: stream ?? EMPTY_STREAM,
      deferInputAcks: stream ? () => stream.deferAcks() : undefined,
      signal: participant.signal,
    };
    try {
      let result: ToolResult;
      try {
        // The tool's code up to its first await runs now, in request order.
        result = await run(context);
      } catch (e) {
        return fail(id, e);
      }
      if (!isAsyncIterable(result)) return respond(id, result);
      await streamOutput(id, toolkit, tool, toolCallId, result);
    } finally {
      if (stream) {
        stream.dispose();
        if (calls.get(toolCallId) === stream) calls.delete(toolCallId);
      }
    }
  }

  async function streamOutput(
    id: number,
    toolkit: string,
    tool: string,
    toolCallId: string,
    output: AsyncIterable<Content>,
  ): Promise<void> {
    respond(id, CONTROL_OPEN);
    const sendChunk = (content: Content) => {
      if (protocol.isClosed) return;
      protocol.send(
        "room.tool_call_response_chunk",
        packMessage(
          { tool_call_id: toolCallId, toolkit, tool, chunk: content.toJson() },
          content.payload,
        ),
      );
    };
    const iterator = output[Symbol.asyncIterator]();
    let close = ControlContent.close(ControlCloseStatus.NORMAL);
    // A tool whose stream does not end when the caller leaves must not keep this loop alive.
    const signal = participant.signal;
    let onLeave = () => {};
    const left = new Promise<IteratorResult<Content>>((resolve) => {
      onLeave = () => resolve({ done: true, value: undefined });
    });
    if (signal.aborted) onLeave();
    else signal.addEventListener("abort", onLeave, { once: true });
    try {
      while (!participant.closed) {
        const next = await Promise.race([iterator.next(), left]);
        if (next.done) break;
        sendChunk(next.value);
      }
    } catch (e) {
      close = ControlContent.close(ControlCloseStatus.INTERNAL_ERROR, message(e));
    } finally {
      signal.removeEventListener("abort", onLeave);
      // Not awaited: a generator suspended at an await only returns once that await settles.
      if (participant.closed) iterator.return?.()?.catch(() => {});
    }
    sendChunk(close);
  }

  function chunk(m: ProtocolMessage): void {
    let header: JsonObject;
    let payload: Uint8Array;
    try {
      ({ header, payload } = unpackMessage(m.data));
    } catch (e) {
      return respondError(m.id, `malformed room.tool_call_request_chunk: ${message(e)}`, 1002);
    }
    const toolCallId = header.tool_call_id;
    const raw = header.chunk;
    if (typeof toolCallId !== "string" || !isObject(raw)) {
      return respondError(
        m.id,
        "room.tool_call_request_chunk needs a string tool_call_id and a chunk object",
        ErrorCode.INVALID_REQUEST,
      );
    }
    let content: Content;
    try {
      content = contentFromJson(raw, payload);
    } catch (e) {
      return respondError(m.id, `malformed chunk: ${message(e)}`, ErrorCode.INVALID_REQUEST);
    }
    const isClose = content instanceof ControlContent && content.method === "close";
    const stream = calls.get(toolCallId);
    if (!stream) {
      // §7: chunks of calls routed to a hosted toolkit.
      if (agents.requestChunk(participant, m.id, toolCallId, raw, payload, isClose)) return;
      // [impl] A close for a call that already ended is normal (the client sends it from a
      // finally block): answer it quietly.
      if (isClose) return respond(m.id, EMPTY);
      return respondError(m.id, `tool call ${toolCallId} is not open`, ErrorCode.INVALID_STATE);
    }
    if (isClose) {
      calls.delete(toolCallId);
      stream.close(); // chunks already buffered are still read
      return respond(m.id, EMPTY);
    }
    stream.push(content, (response) => respond(m.id, response ?? EMPTY));
  }

  socket.onmessage = (e) => {
    if (drain) drained();
    else protocol.receive(e.data); // [impl] text frames are dropped by the socket (§1.4)
    inbound?.update();
  };
  socket.onclose = (e) => {
    if (drain) clearTimeout(drain.timer);
    drain = null;
    protocol.closed(e.code, e.reason);
  };
  socket.onerror = () => {}; // a close event follows
  socket.onopen = () => {
    if (protocol.isClosed) return;
    room.join(participant);
    hooks.joined?.(participant);
    participant.sendEvent(
      "room_ready",
      packMessage({ room_name: room.name, room_url: room.url, session_id: room.sessionId }),
    );
    participant.sendEvent(
      "connected",
      packMessage({
        type: "init",
        participantId: participant.id,
        attributes: participant.attributes,
      }),
    );
  };
  return participant;
}

const EMPTY = new EmptyContent();
const EMPTY_STREAM: AsyncIterable<Content> = {
  [Symbol.asyncIterator]: () => ({
    next: () => Promise.resolve({ value: undefined, done: true as const }),
  }),
};
