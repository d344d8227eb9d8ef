// Private: the fuzz targets (run by server/_fuzz_targets_test.ts in CI and bench/fuzz.ts for long
// runs), one row each in FUZZ_TARGETS:
// - frames: WebSocket binary messages into the PacketAssembler and a Protocol (the frame decoder
//   every server connection and client uses);
// - packing: packed messages into unpackMessage / unpackContent / contentFromJson / chunkContent;
// - connection: scripts of requests from two participants into a real room (messaging, queues,
//   developer, storage, sync toolkits and hosted-toolkit routing) through serveConnection, over an
//   in-memory socket;
// - sqlite: scripts of requests straight into a RoomDatabase and the sqlite grant check.
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  ApiScope,
  ApiScopeError,
  chunkContent,
  type Content,
  contentFromJson,
  ControlContent,
  encodePackets,
  ErrorContent,
  type JsonObject,
  PacketAssembler,
  packMessage,
  packMessageJson,
  Protocol,
  ProtocolError,
  type ProtocolMessage,
  RoomError,
  unpackContent,
  unpackMessage,
} from "@meshagent/api";
import { type ConnectionSocket, serveConnection } from "./_connection.ts";
import { developerToolkit } from "./developer_toolkit.ts";
import { LocalFileStore } from "./local_file_store.ts";
import { messagingToolkit } from "./messaging_toolkit.ts";
import { queuesToolkit } from "./queues_toolkit.ts";
import { Room } from "./room.ts";
import { RoomDatabase } from "./room_database.ts";
import type { RoomTool, RoomToolkitFactory, ToolContext, ToolResult } from "./room_toolkit.ts";
import { checkSqliteGrant } from "./sqlite_grants.ts";
import { sqliteQueueStore } from "./sqlite_queue_store.ts";
import { storageToolkit } from "./storage_toolkit.ts";
import { syncToolkit } from "./sync_toolkit.ts";
import { type FuzzObject, type FuzzValue, setKey } from "./_fuzz_mutator.ts";
import { FuzzFinding, type FuzzSession, type FuzzTarget } from "./_fuzz_runner.ts";

/** The incoming message limit of the connection target (small, to reach it). */
const MAX_MESSAGE = 256 * 1024;
/** The message limit of the frames target: 16 packets of 1 KiB. */
const MAX_FRAMES_MESSAGE = 16 * 1024;

function isObject(value: unknown): value is FuzzObject {
  return value !== null && typeof value === "object" && !Array.isArray(value) &&
    !(value instanceof Uint8Array);
}

function bytesOf(value: FuzzValue | undefined): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return new TextEncoder().encode(value);
  return undefined;
}

/** A JSON copy of a fuzz value (byte strings become base64 text, as JSON would carry them). */
function toJson(value: FuzzValue): unknown {
  if (value instanceof Uint8Array) return value.toBase64();
  if (Array.isArray(value)) return value.map(toJson);
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setKey(out, k, toJson(v));
    return out;
  }
  return value;
}

/** Expected: a ProtocolError (the codec's only error). Anything else is a finding. */
function expectProtocolError(what: string, e: unknown): void {
  if (e instanceof ProtocolError) return;
  throw new FuzzFinding(`${what} threw something other than a ProtocolError`, { cause: e });
}

/** Expected: a RoomError with a numeric code. */
function expectRoomError(what: string, e: unknown): void {
  if (e instanceof RoomError && typeof e.code === "number") return;
  throw new FuzzFinding(`${what} threw something other than a RoomError with a code`, {
    cause: e,
  });
}

// ---------------------------------------------------------------------------------------------
// frames

/** Checks a message the assembler completed against the frames it was made of. */
function checkAssembled(message: ProtocolMessage): void {
  if (!(message.id >= 0 && message.id <= 2 ** 64)) {
    throw new FuzzFinding(`assembled message id ${message.id} is out of range`);
  }
  if (typeof message.type !== "string") throw new FuzzFinding("assembled type is not a string");
  if (message.data.length > MAX_FRAMES_MESSAGE) {
    throw new FuzzFinding(`assembled ${message.data.length} bytes past the limit`);
  }
}

const framesTarget: FuzzTarget = {
  name: "frames",
  description: "WebSocket binary messages → PacketAssembler and Protocol.receive",
  timeoutMs: 2000,
  open(): Promise<FuzzSession> {
    return Promise.resolve({
      run(input: FuzzValue) {
        const frames = (Array.isArray(input) ? input : [input])
          .map(bytesOf)
          .filter((f): f is Uint8Array => f !== undefined);
        // The assembler alone: a completed message or a ProtocolError, nothing else.
        const assembler = new PacketAssembler({ maxMessageSize: MAX_FRAMES_MESSAGE });
        for (const frame of frames) {
          try {
            const message = assembler.push(frame);
            if (message) checkAssembled(message);
          } catch (e) {
            expectProtocolError("PacketAssembler.push", e);
          }
        }
        // A protocol with requests waiting (ids 0-3), so responses are matched and unpacked.
        const problems: unknown[] = [];
        const protocol = new Protocol({ send() {}, close() {} }, {
          maxMessageSize: MAX_FRAMES_MESSAGE,
        });
        protocol.onError((e) => {
          if (!(e instanceof RoomError)) problems.push(e);
        });
        protocol.onUnhandled((m) => {
          try {
            unpackContent(m.data);
          } catch (e) {
            expectProtocolError("unpackContent", e);
          }
        });
        const waits = [0, 1, 2, 3].map(() =>
          protocol.request("fuzz", new Uint8Array(8)).then(
            () => {},
            (e) => {
              if (!(e instanceof RoomError)) problems.push(e);
            },
          )
        );
        for (const frame of frames) protocol.receive(frame);
        protocol.closed(1000, "done");
        return Promise.all(waits).then(() => {
          if (problems.length > 0) {
            throw new FuzzFinding("Protocol reported a non-RoomError", { cause: problems[0] });
          }
        });
      },
      close: () => Promise.resolve(),
    });
  },
};

// ---------------------------------------------------------------------------------------------
// packing

function sameContent(a: Content, b: Content): boolean {
  if (JSON.stringify(a.toJson()) !== JSON.stringify(b.toJson())) return false;
  const x = a.payload, y = b.payload;
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

const packingTarget: FuzzTarget = {
  name: "packing",
  description: "packed messages → unpackMessage, unpackContent, contentFromJson, chunkContent",
  timeoutMs: 2000,
  open(): Promise<FuzzSession> {
    return Promise.resolve({
      run(input: FuzzValue) {
        const all = Array.isArray(input) ? input : [input];
        for (const item of all) {
          const data = bytesOf(item);
          if (data === undefined) continue;
          let header: JsonObject | undefined;
          let payload: Uint8Array = new Uint8Array(0);
          try {
            ({ header, payload } = unpackMessage(data));
            if (!isObject(header as FuzzValue)) throw new FuzzFinding("header is not an object");
            if ("__meshagent__" in header) throw new FuzzFinding("__meshagent__ was not removed");
          } catch (e) {
            expectProtocolError("unpackMessage", e);
          }
          try {
            const content = unpackContent(data);
            // What we decode, we encode back to the same content.
            const again = unpackContent(content.pack());
            if (!sameContent(content, again)) {
              throw new FuzzFinding(`${content.type} content does not survive pack/unpack`);
            }
          } catch (e) {
            expectProtocolError("unpackContent", e);
          }
          if (header === undefined) continue;
          // The server reads contents out of request headers (arguments, chunk).
          for (const key of ["arguments", "chunk", "json", "headers"]) {
            const nested = header[key];
            try {
              if (isObject(nested as FuzzValue)) contentFromJson(nested as JsonObject, payload);
              chunkContent(nested, payload);
            } catch (e) {
              expectProtocolError(`contentFromJson(${key})`, e);
            }
          }
        }
      },
      close: () => Promise.resolve(),
    });
  },
};

// ---------------------------------------------------------------------------------------------
// connection

/** An in-memory server socket: frames in through `deliver`, frames out assembled into messages. */
class MemorySocket implements ConnectionSocket {
  readyState = 0;
  readonly bufferedAmount = 0;
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: { data: Uint8Array }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  readonly received: ProtocolMessage[] = [];
  /** The close code the server chose, if it closed the socket. */
  serverClose: number | null = null;
  readonly #assembler = new PacketAssembler({ maxMessageSize: 1 << 30 });

  send(data: Uint8Array): void {
    let message: ProtocolMessage | null;
    try {
      message = this.#assembler.push(data);
    } catch (e) {
      throw new FuzzFinding("the server sent a malformed frame", { cause: e });
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

/**
 * A temporary folder for the per-input rooms and databases: in /dev/shm (memory) where the
 * machine has it [impl], as every input creates and removes files; else the usual temp folder.
 */
async function scratchDir(prefix: string): Promise<string> {
  try {
    return await Deno.makeTempDir({ dir: "/dev/shm", prefix });
  } catch {
    return await Deno.makeTempDir({ prefix });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
  answerable: Set<number>;
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
          let scope = ApiScope.full();
          if (script.scope !== undefined) {
            try {
              scope = ApiScope.fromJson(toJson(script.scope));
            } catch (e) {
              if (!(e instanceof ApiScopeError)) {
                throw new FuzzFinding("ApiScope.fromJson threw a non-ApiScopeError", { cause: e });
              }
            }
          }
          const dir = join(root, String(n++));
          const tracker = new CallTracker();
          const room = new Room({
            name: "fuzz",
            url: "ws://127.0.0.1/rooms/fuzz",
            dataDir: join(dir, "rooms", "fuzz"),
            toolkits: [
              messagingToolkit,
              (r: Room) => queuesToolkit(r, sqliteQueueStore),
              developerToolkit,
              (r: Room) =>
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
              const id = nextId[who]++;
              const split = typeof raw.split === "number" && raw.split >= 1 && raw.split <= 65536
                ? Math.floor(raw.split)
                : 1024;
              let delivered = true;
              for (const frame of encodePackets({ id, type, data }, split)) {
                delivered = sent[who].socket.deliver(frame) && delivered;
              }
              const routed = type === "room.invoke_tool" &&
                (!isObject(header as FuzzValue) ||
                  (header as JsonObject).participant_id != null ||
                  room.toolkit(String((header as JsonObject).toolkit)) === undefined);
              if (delivered && !FIRE_AND_FORGET.has(type) && !routed) sent[who].answerable.add(id);
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
          sockets.forEach((s, i) => checkOutput(s, `participant ${i}`));
          // Every request gets an answer or a close (once nothing runs that may still answer).
          if (runningAtClose === 0) {
            for (const { socket, answerable } of sent) {
              if (socket.serverClose !== null) continue;
              for (const m of socket.received) {
                if (m.type === "__response__") answerable.delete(m.id);
              }
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

// ---------------------------------------------------------------------------------------------
// sqlite

/** How each sqlite request type reaches the RoomDatabase (as the sqlite toolkit calls it). */
const SQLITE_OPS: Readonly<
  Record<string, (db: RoomDatabase, request: unknown, op: FuzzObject) => unknown>
> = {
  list_databases: (db, r) => db.listDatabases(r as never),
  create_database: (db, r) => db.createDatabase(r as never),
  drop_database: (db, r) => db.dropDatabase(r as never),
  inspect_database: (db, r) => db.inspectDatabase(r as never),
  list_tables: (db, r) => db.listTables(r as never),
  create_table: (db, r, op) => write(db.createTable(r as never, bytesOf(op.payload)), op),
  drop_table: (db, r) => db.dropTable(r as never),
  rename_table: (db, r) => db.renameTable(r as never),
  inspect: (db, r) => db.inspect(r as never),
  inspect_table: (db, r) => db.inspectTable(r as never),
  add_columns: (db, r, op) => db.addColumns(r as never, bytesOf(op.payload) ?? new Uint8Array(0)),
  drop_columns: (db, r) => db.dropColumns(r as never),
  insert: (db, r, op) => write(db.insert(r as never), op),
  update: (db, r) => db.update(r as never),
  delete: (db, r) => db.delete(r as never),
  count: (db, r) => db.count(r as never),
  search: (db, r, op) => {
    const cursor = db.search(r as never);
    try {
      read(cursor, op);
    } finally {
      cursor.close();
    }
  },
  open_sql_query: (db, r) => db.openSqlQuery(r as never),
  execute_sql: (db, r) => db.executeSql(r as never),
  execute_sql_statement: (db, r) => db.executeSqlStatement(r as never),
  read_sql_query: (db, r, op) => read(db.readSqlQuery(r as never), op),
  close_sql_query: (db, r) => db.closeSqlQuery(r as never),
  cancel_sql_query: (db, r) => db.cancelSqlQuery(r as never),
};

function write(writer: ReturnType<RoomDatabase["insert"]>, op: FuzzObject): void {
  try {
    for (const chunk of Array.isArray(op.data) ? op.data : []) {
      const bytes = bytesOf(chunk);
      if (bytes && bytes.length > 0) writer.write(bytes);
    }
    if (op.abort !== true) writer.commit();
  } finally {
    writer.abort();
  }
}

function read(cursor: ReturnType<RoomDatabase["search"]>, op: FuzzObject): void {
  const pulls = typeof op.pulls === "number" ? Math.min(Math.max(op.pulls, 0), 64) : 2;
  for (let i = 0; i < pulls; i++) if (cursor.next() === null) break;
}

/** Query ids of the script: `$q0`, `$q1`… name the queries it opened, in order. */
function bindQueries(value: unknown, queries: string[]): unknown {
  if (typeof value === "string" && /^\$q\d$/.test(value)) return queries[Number(value[2])] ?? value;
  if (Array.isArray(value)) return value.map((v) => bindQueries(v, queries));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setKey(out, k, bindQueries(v, queries));
    return out;
  }
  return value;
}

const sqliteTarget: FuzzTarget = {
  name: "sqlite",
  description: "sqlite request scripts → checkSqliteGrant and RoomDatabase",
  timeoutMs: 5000,
  knownIssues: [{
    // `plain` in server/_sqlite_values.ts recurses once per nesting level of a `{"list"}`,
    // `{"struct"}` or plain JSON value (update values, where values): ~10,000 levels overflow the
    // stack and the caller gets "internal error: Maximum call stack size exceeded" instead of a
    // 1002. Reported to the owner of the sqlite worker move (issue 9); remove once fixed.
    pattern: /Maximum call stack size exceeded[^]*_sqlite_values\.ts/,
    note: "deep encoded values overflow the stack in _sqlite_values.ts plain()",
  }],
  async open(): Promise<FuzzSession> {
    const root = await scratchDir("meshagent-fuzz-sqlite-");
    let n = 0;
    return {
      run(input: FuzzValue) {
        const script = isObject(input) ? input : { ops: input };
        const ops = Array.isArray(script.ops) ? script.ops : [];
        let scope = ApiScope.full();
        if (script.scope !== undefined) {
          try {
            scope = ApiScope.fromJson(toJson(script.scope));
          } catch (e) {
            if (!(e instanceof ApiScopeError)) {
              throw new FuzzFinding("ApiScope.fromJson threw a non-ApiScopeError", { cause: e });
            }
          }
        }
        const dir = join(root, String(n++));
        const db = new RoomDatabase({
          dir,
          batchRows: 8,
          batchBytes: 16 * 1024,
          maxOpenQueries: 8,
          maxBufferedBytes: 256 * 1024,
          maxOpenDatabases: 4,
          busyTimeoutMs: 50,
        });
        const queries: string[] = [];
        try {
          for (const op of ops) {
            if (!isObject(op) || typeof op.op !== "string") continue;
            const run = Object.hasOwn(SQLITE_OPS, op.op) ? SQLITE_OPS[op.op] : undefined;
            const request = bindQueries(toJson(op.request ?? null), queries);
            if (isObject(request as FuzzValue)) {
              let denied: RoomError | null;
              try {
                denied = checkSqliteGrant(
                  scope,
                  op.op,
                  request as JsonObject,
                  (id) => db.queryTarget(id),
                );
              } catch (e) {
                throw new FuzzFinding("checkSqliteGrant threw", { cause: e });
              }
              if (denied !== null && !(denied instanceof RoomError && denied.code === 1001)) {
                throw new FuzzFinding(`checkSqliteGrant returned ${denied}`);
              }
            }
            if (run === undefined) continue;
            let result: unknown;
            try {
              result = run(db, request, op);
            } catch (e) {
              expectRoomError(`sqlite ${op.op}`, e);
            }
            // Remember the queries it opened so later ops can name them ($q0, $q1…).
            const queryId = (result as { query_id?: unknown } | undefined)?.query_id;
            if (typeof queryId === "string") queries.push(queryId);
          }
        } finally {
          db.close();
          // Nothing is on disk when no database was created.
          if (existsSync(dir)) Deno.removeSync(dir, { recursive: true });
        }
      },
      async close() {
        await Deno.remove(root, { recursive: true }).catch(() => {});
      },
    };
  },
};

/** Every fuzz target. */
export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  framesTarget,
  packingTarget,
  connectionTarget(),
  sqliteTarget,
];
