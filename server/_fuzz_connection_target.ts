// Private: the connection fuzz target: scripts of requests from two participants into a real room
// (messaging, queues, developer, storage and sync toolkits, hosted-toolkit routing) through
// serveConnection, over an in-memory socket. Besides thrown errors it checks what the server
// sends (no "internal error", no stream closed with 1011, nothing malformed), that every request
// gets an answer or a close, and that every tool call ends once its caller left.
import { join } from "node:path";
import {
  ApiScope,
  type Content,
  contentFromJson,
  ControlContent,
  encodePackets,
  ErrorContent,
  type JsonObject,
  PacketAssembler,
  packMessage,
  packMessageJson,
  type ProtocolMessage,
  RoomError,
  unpackContent,
  unpackMessage,
  UnsupportedMessageIdError,
} from "@meshagent/api";
import { type ConnectionSocket, serveConnection } from "./_connection.ts";
import { developerToolkit } from "./developer_toolkit.ts";
import { LocalFileStore } from "./local_file_store.ts";
import { messagingToolkit } from "./messaging_toolkit.ts";
import { queuesToolkit } from "./queues_toolkit.ts";
import { Room } from "./room.ts";
import type { RoomTool, RoomToolkitFactory, ToolContext, ToolResult } from "./room_toolkit.ts";
import type { ToolkitRoom } from "./toolkit_room.ts";
import { sqliteQueueStore } from "./sqlite_queue_store.ts";
import { storageToolkit } from "./storage_toolkit.ts";
import { syncToolkit } from "./sync_toolkit.ts";
import { type FuzzValue, setKey } from "./_fuzz_mutator.ts";
import { FuzzFinding, type FuzzSession, type FuzzTarget } from "./_fuzz_runner.ts";
import { bytesOf, delay, inputScope, isObject, scratchDir, toJson } from "./_fuzz_support.ts";

/** The incoming message limit of the connection target (small, to reach it). */
const MAX_MESSAGE = 256 * 1024;

/** An in-memory server socket: frames in through `deliver`, frames out assembled into messages. */
class MemorySocket implements ConnectionSocket {
  readyState = 0;
  readonly bufferedAmount = 0;
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: { data: Uint8Array }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  readonly received: ProtocolMessage[] = [];
  /** Ids past 2^53-1 (as decimal text) that got a `__response__`. */
  readonly bigAnswers = new Set<string>();
  /** What was wrong with the frames the server sent. */
  readonly problems: string[] = [];
  /** The close code the server chose, if it closed the socket. */
  serverClose: number | null = null;
  readonly #assembler = new PacketAssembler({ maxMessageSize: 1 << 30 });

  send(data: Uint8Array): void {
    let message: ProtocolMessage | null;
    try {
      message = this.#assembler.push(data);
    } catch (e) {
      if (e instanceof UnsupportedMessageIdError) {
        if (e.messageType === "__response__") this.bigAnswers.add(e.messageId.toString());
      } else {
        this.problems.push(`the server sent a malformed frame: ${e}`);
      }
      return;
    }
    if (message) this.received.push(message);
  }

  close(code?: number, reason?: string): void {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    this.serverClose = code ?? 1005;
    queueMicrotask(() => this.onclose?.({ code: code ?? 1005, reason: reason ?? "" }));
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }

  deliver(frame: Uint8Array): boolean {
    if (this.readyState !== 1) return false;
    this.onmessage?.({ data: frame });
    return true;
  }

  /** The client goes away. */
  drop(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code: 1001, reason: "gone" });
  }
}

/** Follows every built-in tool call of a room: which are running, and what they threw. */
class CallTracker {
  readonly running = new Set<string>();
  readonly problems: string[] = [];
  finished = 0;
  #next = 0;

  wrap(factory: RoomToolkitFactory): RoomToolkitFactory {
    return (room) => {
      const toolkit = factory(room);
      const tools: Record<string, RoomTool> = {};
      for (const [name, tool] of Object.entries(toolkit.tools)) {
        tools[name] = (ctx) => this.#call(`${toolkit.name}.${name}`, ctx, tool);
      }
      return { ...toolkit, tools };
    };
  }

  #note(label: string, e: unknown): void {
    if (e instanceof RoomError && typeof e.code === "number") return;
    const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
    this.problems.push(`${label} threw a non-RoomError: ${text}`);
  }

  #call(
    label: string,
    ctx: ToolContext,
    tool: (ctx: ToolContext) => ToolResult | Promise<ToolResult>,
  ): ToolResult | Promise<ToolResult> {
    const id = `${label}#${this.#next++}`;
    this.running.add(id);
    const finish = () => {
      if (this.running.delete(id)) this.finished++;
    };
    const fail = (e: unknown): never => {
      finish();
      this.#note(label, e);
      throw e;
    };
    let result: ToolResult | Promise<ToolResult>;
    try {
      result = tool(ctx);
    } catch (e) {
      return fail(e);
    }
    if (result instanceof Promise) return result.then((r) => this.#result(label, r, finish), fail);
    return this.#result(label, result, finish);
  }

  #result(label: string, result: ToolResult, finish: () => void): ToolResult {
    const source = result as Partial<AsyncIterable<Content>>;
    if (typeof source[Symbol.asyncIterator] !== "function") {
      finish();
      return result;
    }
    const iterator = (result as AsyncIterable<Content>)[Symbol.asyncIterator]();
    const step = (p: Promise<IteratorResult<Content>>) =>
      p.then((r) => {
        if (r.done) finish();
        return r;
      }, (e) => {
        finish();
        this.#note(`${label} (stream)`, e);
        throw e;
      });
    const wrapped: AsyncIterator<Content> = {
      next: () => step(iterator.next()),
      return: (value?: unknown) =>
        iterator.return
          ? step(iterator.return(value))
          : (finish(), Promise.resolve({ done: true as const, value: undefined })),
    };
    return { [Symbol.asyncIterator]: () => wrapped };
  }
}

/** Message types the server never answers. */
const FIRE_AND_FORGET = new Set([
  "set_attributes",
  "room.tool_call_response",
  "room.tool_call_response_chunk",
]);

/**
 * Requests whose answer may wait on purpose beyond the script: calls routed to a hosted toolkit
 * (the host answers, or the router's timeout does) and `room.list_toolkits` waiting for a host.
 * The others are answered by the server alone.
 */
function mayWait(type: string, header: unknown, room: Room): boolean {
  const h = isObject(header as FuzzValue) ? header as JsonObject : {};
  if (type === "room.invoke_tool") {
    return h.participant_id != null || room.toolkit(String(h.toolkit)) === undefined;
  }
  return type === "room.list_toolkits" && typeof h.timeout === "number" && h.timeout > 0;
}

/** The id a step asks for: a safe integer, or decimal text of any 64-bit id; else none. */
function stepId(value: FuzzValue | undefined): bigint | null {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) {
    return BigInt(value);
  }
  if (typeof value === "string" && /^\d{1,20}$/.test(value)) {
    const id = BigInt(value);
    if (id < 2n ** 64n) return id;
  }
  return null;
}

/** Replaces `$self` / `$other` strings with the participants' ids. */
function bindIds(value: unknown, ids: Record<string, string>): unknown {
  if (typeof value === "string") return ids[value] ?? value;
  if (Array.isArray(value)) return value.map((v) => bindIds(v, ids));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setKey(out, k, bindIds(v, ids));
    return out;
  }
  return value;
}

/** Checks what the server sent one participant: no internal errors, no malformed messages. */
function checkOutput(socket: MemorySocket, who: string): void {
  for (const m of socket.received) {
    let content: Content | null = null;
    try {
      if (m.type === "__response__") {
        content = unpackContent(m.data);
      } else if (m.type === "room.tool_call_response_chunk") {
        const { header, payload } = unpackMessage(m.data);
        content = contentFromJson(header.chunk as JsonObject, payload);
      } else {
        unpackMessage(m.data);
      }
    } catch (e) {
      throw new FuzzFinding(`the server sent ${who} a malformed ${m.type}`, { cause: e });
    }
    if (content instanceof ErrorContent && /internal error/i.test(content.text)) {
      throw new FuzzFinding(`${who} got ${m.type} "${content.text}" (code ${content.code})`);
    }
    if (content instanceof ControlContent && content.statusCode === 1011) {
      throw new FuzzFinding(`${who} got a stream closed with 1011: ${content.message}`);
    }
  }
}

interface StepResult {
  socket: MemorySocket;
  /** Request ids (decimal text) that must get an answer. */
  answerable: Set<string>;
}

/** Options of {@linkcode connectionTarget}. */
export interface ConnectionTargetOptions {
  /** Toolkits added to the built-in ones (tests plant bugs with them). */
  extraToolkits?: readonly RoomToolkitFactory[];
  /** How long tool calls may take to end after their callers left (default 5000 ms). */
  leaveTimeoutMs?: number;
}

/**
 * The connection target: request scripts from two participants into a fresh room per input.
 *
 * @param options Extra toolkits and the time calls get to end.
 * @returns The target.
 */
export function connectionTarget(options: ConnectionTargetOptions = {}): FuzzTarget {
  const extraToolkits = options.extraToolkits ?? [];
  const leaveTimeoutMs = options.leaveTimeoutMs ?? 5000;
  return {
    name: "connection",
    description: "request scripts from two participants → serveConnection and the room toolkits",
    timeoutMs: 10_000,
    async open(): Promise<FuzzSession> {
      const root = await scratchDir("meshagent-fuzz-");
      let n = 0;
      return {
        async run(input: FuzzValue) {
          const script = isObject(input) ? input : { steps: input };
          const steps = Array.isArray(script.steps) ? script.steps : [];
          const scope = inputScope(script);
          const dir = join(root, String(n++));
          const tracker = new CallTracker();
          const room = new Room({
            name: "fuzz",
            url: "ws://127.0.0.1/rooms/fuzz",
            dataDir: join(dir, "rooms", "fuzz"),
            toolkits: [
              messagingToolkit,
              (r: ToolkitRoom) => queuesToolkit(r, sqliteQueueStore),
              developerToolkit,
              (r: ToolkitRoom) =>
                storageToolkit(r, {
                  uploadChunkSize: 4096,
                  uploadPullWindow: 2,
                  maxDownloadChunkSize: 8192,
                  signDownloadUrl: ({ path }) => Promise.resolve(`http://127.0.0.1/x/${path}`),
                }),
              syncToolkit,
              ...extraToolkits,
            ].map((f) => tracker.wrap(f)),
            openFileStore: () =>
              LocalFileStore.open({
                dataDir: dir,
                room: "fuzz",
                fsync: false,
                maxFileBytes: 1024 * 1024,
                maxRoomBytes: 4 * 1024 * 1024,
              }),
          });
          const sockets = [new MemorySocket(), new MemorySocket()];
          const participants = sockets.map((socket, i) =>
            serveConnection(
              socket,
              room,
              { name: `p${i}`, role: "user", scope: i === 0 ? scope : ApiScope.full() },
              { maxMessageSize: MAX_MESSAGE, maxBufferedAmount: 1 << 30, toolCallTimeoutMs: 500 },
              () => {},
            )
          );
          for (const socket of sockets) socket.open();
          const ids: Record<string, string> = {
            $self: participants[0].id,
            $other: participants[1].id,
          };
          const sent: StepResult[] = sockets.map((socket) => ({ socket, answerable: new Set() }));
          const nextId = [1, 1];
          let failure: unknown = null;
          try {
            for (const raw of steps) {
              if (!isObject(raw)) continue;
              const who = raw.as === 1 ? 1 : 0;
              const type = typeof raw.type === "string" ? raw.type : "room.invoke_tool";
              let header = bindIds(toJson(isObject(raw.header) ? raw.header : {}), ids);
              let data: Uint8Array;
              if (raw.raw instanceof Uint8Array) {
                data = raw.raw;
              } else if (typeof raw.headerJson === "string") {
                // Header text sent as it is: nesting deeper than the harness itself could walk.
                const text = raw.headerJson.replaceAll(/\$self|\$other/g, (k) => ids[k]);
                data = packMessageJson(text, bytesOf(raw.payload));
                try {
                  header = JSON.parse(text);
                } catch {
                  header = {};
                }
              } else {
                data = packMessage(header as JsonObject, bytesOf(raw.payload));
              }
              const id = stepId(raw.id) ?? BigInt(nextId[who]++);
              const split = typeof raw.split === "number" && raw.split >= 1 && raw.split <= 65536
                ? Math.floor(raw.split)
                : 1024;
              let delivered = true;
              for (const frame of encodePackets({ id: 0, type, data }, split)) {
                // Any 64-bit id, also past 2^53-1 where a number cannot hold it.
                const withId = frame.slice();
                new DataView(withId.buffer).setBigUint64(0, id);
                delivered = sent[who].socket.deliver(withId) && delivered;
              }
              if (delivered && !FIRE_AND_FORGET.has(type) && !mayWait(type, header, room)) {
                sent[who].answerable.add(id.toString());
              }
              if (raw.wait === true) await settle(tracker, sockets, 200);
            }
            await settle(tracker, sockets, 300);
          } catch (e) {
            failure = e; // reported once the room is cleaned up
          }
          // The callers leave; then the checks.
          const runningAtClose = tracker.running.size;
          for (const socket of sockets) socket.drop();
          // Every tool call ends once its caller left (nothing keeps running or holds memory).
          const deadline = Date.now() + leaveTimeoutMs;
          while (tracker.running.size > 0 && Date.now() < deadline) await delay(1);
          const stuck = [...tracker.running];
          await room.close();
          await Deno.remove(dir, { recursive: true }).catch(() => {});
          if (failure !== null) throw failure;
          if (stuck.length > 0) {
            tracker.problems.push(
              `tool calls still running ${leaveTimeoutMs} ms after the callers left: ${stuck}`,
            );
          }
          if (tracker.problems.length > 0) throw new FuzzFinding(tracker.problems.join("\n"));
          sockets.forEach((s, i) => {
            if (s.problems.length > 0) throw new FuzzFinding(s.problems.join("\n"));
            checkOutput(s, `participant ${i}`);
          });
          // Every request gets an answer or a close (once nothing runs that may still answer).
          if (runningAtClose === 0) {
            for (const { socket, answerable } of sent) {
              if (socket.serverClose !== null) continue;
              for (const m of socket.received) {
                if (m.type === "__response__") answerable.delete(String(m.id));
              }
              for (const id of socket.bigAnswers) answerable.delete(id);
              if (answerable.size > 0) {
                throw new FuzzFinding(`requests ${[...answerable]} got no answer and no close`);
              }
            }
          }
          for (const s of sockets) {
            if (s.serverClose !== null && s.serverClose !== 1009) {
              throw new FuzzFinding(`the server closed a socket with ${s.serverClose}`);
            }
          }
        },
        async close() {
          await Deno.remove(root, { recursive: true }).catch(() => {});
        },
      };
    },
  };
}

/**
 * Waits until the room is idle: no tool call running, or no progress (output, finished calls)
 * for a short while (calls that wait on purpose: a queue receive, a log subscription, a stream
 * waiting for its next chunk), at most `maxMs`.
 */
async function settle(tracker: CallTracker, sockets: MemorySocket[], maxMs: number) {
  const deadline = Date.now() + maxMs;
  const progress = () =>
    tracker.finished + sockets.reduce((n, s) => n + s.received.length, 0) * 1000;
  let last = progress();
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    await delay(tracker.running.size === 0 ? 0 : 2);
    const now = progress();
    if (now !== last) {
      last = now;
      quietSince = Date.now();
    } else if (tracker.running.size === 0 || Date.now() - quietSince >= 10) {
      return;
    }
  }
}
