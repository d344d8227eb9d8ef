import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ErrorCode, type JsonObject, RoomError } from "@meshagent/api";
import {
  LOST_QUERY_REPLIES,
  type SqliteCall,
  SqliteDispatcher,
  type SqliteReply,
} from "./_sqlite_dispatch.ts";
import type { SqliteHostOptions } from "./_sqlite_host.ts";
import { encodeWireFrame, type WireFrame, WireFrameReader } from "./_sqlite_wire.ts";
import type { RoomDatabaseOptions } from "./room_database.ts";
import { runtimeConfigFlags } from "./_runtime_config.ts";

/** Answers a room's `sqlite` requests somewhere: in its own process, or on the event loop. */
export interface SqliteHost {
  /** Runs one call; calls run one at a time, in the order they were made. */
  call(call: SqliteCall): Promise<SqliteReply>;
  /** Ends every stream and closes the databases (waits for the call in progress). */
  close(): Promise<void>;
}

/** Options of {@linkcode openSqliteHost}. */
export interface SqliteHostSettings extends Omit<RoomDatabaseOptions, "now"> {
  /** `process` (default): its own Deno process, killed past the time limit; `inline`: here. */
  isolation?: "process" | "inline";
  /** The longest one request may run before its process is killed (default 5000 ms). */
  statementTimeoutMs?: number;
  /** SQLite's heap limit in the room's process (default 512 MiB; 0 = none). */
  maxMemoryBytes?: number;
  /** A label for log lines (the room name). */
  label?: string;
}

/** [impl] "A few seconds": long enough for real work on a room database, short enough to notice. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_MEMORY = 512 * 1024 * 1024;
/** The longest a database process may take to start (a cold module cache on a busy machine). */
const START_TIMEOUT_MS = 30_000;
/** How long a closing process gets to close its files before it is killed. */
const CLOSE_TIMEOUT_MS = 5000;
/** Request and reply frames: a 16 MiB message plus headers, with room to spare. */
const MAX_FRAME = 64 * 1024 * 1024;
const STDERR_TAIL = 2048;

let warnedInline = false;

/**
 * Opens the database host of one room.
 *
 * [impl] `process` needs `--allow-run` and a `deno` executable (not a `deno compile`d binary);
 * without them the room's SQL runs inline (with a warning once): it works, but a slow statement
 * then stalls the server.
 *
 * @param settings The room's database folder, limits and isolation.
 * @returns The host.
 */
export function openSqliteHost(settings: SqliteHostSettings): SqliteHost {
  const isolation = settings.isolation ?? "process";
  if (isolation === "process") {
    const why = processUnavailable();
    if (why === null) return new ProcessSqliteHost(settings);
    if (!warnedInline) {
      warnedInline = true;
      console.warn(
        `sqlite: running room SQL on the server's event loop (${why}); a slow statement will ` +
          `stall every room. Run the server with deno and --allow-run to isolate it.`,
      );
    }
  }
  return new InlineSqliteHost(settings);
}

function processUnavailable(): string | null {
  if (!/(^|[\\/])deno(\.exe)?$/.test(Deno.execPath())) return "not running under the deno CLI";
  if (Deno.permissions.querySync({ name: "run" }).state !== "granted") {
    return "no --allow-run permission";
  }
  return null;
}

/** The dispatcher on the event loop: no isolation, no time limit. */
class InlineSqliteHost implements SqliteHost {
  readonly #dispatcher: SqliteDispatcher;
  #closed = false;

  constructor(settings: SqliteHostSettings) {
    this.#dispatcher = new SqliteDispatcher(settings);
  }

  call(call: SqliteCall): Promise<SqliteReply> {
    if (this.#closed) return Promise.reject(closing());
    try {
      return Promise.resolve(this.#dispatcher.dispatch(call));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#dispatcher.close();
    }
    return Promise.resolve();
  }
}

function closing(): RoomError {
  return new RoomError("the room is closing", ErrorCode.INVALID_STATE);
}

interface Pending {
  call: SqliteCall;
  resolve(reply: SqliteReply): void;
  reject(error: unknown): void;
}

/** The request in flight: what it is, where, until when, and how to settle it. */
interface Waiting {
  id: number;
  op: string;
  child: Child;
  deadline: number;
  resolve(frame: WireFrame): void;
  reject(error: unknown): void;
}

/** A running database process: one per room, started on first use. */
interface Child {
  process: Deno.ChildProcess;
  /** The socket to it, once it connected. */
  conn: Promise<Deno.UnixConn>;
  ready: Promise<void>;
  exited: Promise<void>;
  /** Why it ended, once it did (set before `exited` settles). */
  ended: string | null;
  stderr: string;
  generation: number;
  /** The id of the first request sent to it. */
  firstId: number;
  /** Set once it said it is ready. */
  isReady: boolean;
}

/**
 * The room's SQL in a Deno process of its own, which may read and write only the room's database
 * folder. Requests go one at a time; each may run `statementTimeoutMs`, after which the process is
 * killed (SIGKILL: SQLite's WAL rolls back what was not committed) and the caller gets 1009. The
 * streams (writers, cursors, open SQL queries) of a killed process are gone: later steps on them
 * get 1006 saying so. The next request starts a new process.
 */
class ProcessSqliteHost implements SqliteHost {
  readonly #settings: SqliteHostSettings;
  readonly #timeoutMs: number;
  readonly #queue: Pending[] = [];
  #child: Child | null = null;
  #generation = 0;
  #busy = false;
  #closed = false;
  /** Our stream numbers → [generation, the process's stream number]. */
  readonly #streams = new Map<number, [number, number]>();
  #nextStream = 1;
  /** Why the streams of an earlier generation are gone. */
  readonly #lost = new Map<number, string>();
  #nextId = 1;
  /** Open SQL query ids → the generation of the process holding them (bounded). */
  readonly #queries = new Map<string, number>();
  /** The one request in flight. */
  #waiting: Waiting | null = null;
  #watchdog: ReturnType<typeof setTimeout> | undefined;

  constructor(settings: SqliteHostSettings) {
    this.#settings = settings;
    this.#timeoutMs = settings.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  }

  call(call: SqliteCall): Promise<SqliteReply> {
    if (this.#closed) return Promise.reject(closing());
    const { promise, resolve, reject } = Promise.withResolvers<SqliteReply>();
    this.#queue.push({ call, resolve, reject });
    this.#pump();
    return promise;
  }

  async #pump(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      let next: Pending | undefined;
      while ((next = this.#queue.shift()) !== undefined) await this.#run(next);
    } finally {
      this.#busy = false;
    }
  }

  async #run(pending: Pending): Promise<void> {
    const { call } = pending;
    let stream: number | undefined;
    if (call.stream !== undefined) {
      const entry = this.#streams.get(call.stream);
      const live = this.#child;
      if (
        entry === undefined || live === null || live.ended !== null || live.generation !== entry[0]
      ) {
        if (call.op === "release") {
          this.#streams.delete(call.stream);
          return pending.resolve({ kind: "empty" });
        }
        const lost = entry === undefined ? undefined : this.#lost.get(entry[0]);
        return pending.reject(
          new RoomError(
            lost ?? "the stream is not open (it ended or was released)",
            ErrorCode.INVALID_STATE,
          ),
        );
      }
      stream = entry[1];
      if (call.op === "release") this.#streams.delete(call.stream);
    }
    const queryId = typeof call.request.query_id === "string" ? call.request.query_id : null;
    const queryGeneration = queryId === null ? undefined : this.#queries.get(queryId);
    if (queryGeneration !== undefined && !this.#isLive(queryGeneration)) {
      const reply = LOST_QUERY_REPLIES[call.op];
      if (reply === undefined || reply === null) {
        return pending.reject(
          new RoomError(this.#lostReason(queryGeneration), ErrorCode.INVALID_STATE),
        );
      }
      if (call.op === "close_sql_query") this.#queries.delete(queryId!);
      return pending.resolve(reply);
    }
    let child: Child;
    try {
      const started = this.#started();
      child = started instanceof Promise ? await started : started;
    } catch (error) {
      return pending.reject(error);
    }
    const id = this.#nextId++;
    const answer = this.#answer(id, call.op, child);
    try {
      await writeAll(
        await child.conn,
        encodeWireFrame({ id, op: call.op, request: call.request, stream }, call.bytes),
      );
      const frame = await answer;
      if (frame.header.error !== undefined) {
        const error = frame.header.error as { message: string; code: number };
        return pending.reject(new RoomError(error.message, error.code));
      }
      const reply = frame.header.reply as Record<string, unknown>;
      if (reply.kind === "binary") {
        const headers = reply.headers as JsonObject;
        if (headers.kind === "query" && typeof headers.query_id === "string") {
          this.#rememberQuery(headers.query_id, child.generation);
        }
        return pending.resolve({
          kind: "binary",
          headers: reply.headers as JsonObject,
          bytes: frame.bytes,
        });
      }
      if (reply.kind === "stream") {
        const ours = this.#nextStream++;
        this.#streams.set(ours, [child.generation, reply.stream as number]);
        return pending.resolve({ kind: "stream", stream: ours });
      }
      if (call.op === "close_sql_query" && queryId !== null) this.#queries.delete(queryId);
      return pending.resolve(reply as SqliteReply);
    } catch (error) {
      return pending.reject(error);
    } finally {
      if (this.#waiting?.id === id) this.#waiting = null;
    }
  }

  /** True when `generation` is the process running now. */
  #isLive(generation: number): boolean {
    const live = this.#child;
    return live !== null && live.ended === null && live.generation === generation;
  }

  #lostReason(generation: number): string {
    return this.#lost.get(generation) ??
      "the room's database process was restarted; its open SQL queries and streams were closed";
  }

  #rememberQuery(id: string, generation: number): void {
    this.#queries.set(id, generation);
    // The host caps open queries (256 by default); ids past this many are long closed or swept.
    for (const old of this.#queries.keys()) {
      if (this.#queries.size <= 8192) break;
      this.#queries.delete(old);
    }
  }

  /** The reply to request `id`; a RoomError when the process ends first. */
  #answer(id: number, op: string, child: Child): Promise<WireFrame> {
    const { promise, resolve, reject } = Promise.withResolvers<WireFrame>();
    this.#waiting = {
      id,
      op,
      child,
      deadline: performance.now() + this.#timeoutMs,
      resolve,
      reject,
    };
    this.#watch();
    return promise;
  }

  /**
   * The time limit: one timer per host, left armed between requests and re-armed for the rest of
   * the current request's time when it fires early (a timer per request costs ~40 µs here).
   */
  #watch(): void {
    if (this.#watchdog !== undefined) return;
    const waiting = this.#waiting;
    if (waiting === null) return;
    this.#watchdog = setTimeout(() => {
      this.#watchdog = undefined;
      const now = this.#waiting;
      if (now === null) return;
      if (performance.now() < now.deadline) return this.#watch();
      this.#waiting = null;
      const seconds = this.#timeoutMs / 1000;
      this.#kill(
        now.child,
        `a statement in this room ran longer than the ${seconds} s limit and its database ` +
          `process was restarted`,
      );
      now.reject(
        new RoomError(
          `sqlite.${now.op} ran longer than the ${seconds} s statement time limit and was ` +
            `stopped; make the statement cheaper (a LIMIT, an index), or raise the server's ` +
            `limit. Open SQL queries and streams of this room were closed.`,
          ErrorCode.TIMEOUT,
        ),
      );
    }, Math.max(1, waiting.deadline - performance.now()));
  }

  /** The running process (sync once it is ready), starting one when there is none. */
  #started(): Child | Promise<Child> {
    if (this.#child === null) this.#child = this.#spawn();
    const child = this.#child;
    if (child.isReady) return child;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.#kill(child, "did not start in time");
        reject(
          new RoomError(
            `the room's database process did not start within ${START_TIMEOUT_MS / 1000} s` +
              stderrNote(child),
            ErrorCode.OPERATION_FAILED,
          ),
        );
      }, START_TIMEOUT_MS);
    });
    const failed = child.exited.then(() => {
      throw new RoomError(
        `the room's database process ${child.ended ?? "exited"} before it was ready` +
          stderrNote(child),
        ErrorCode.OPERATION_FAILED,
      );
    });
    return Promise.race([child.ready, late, failed]).then(() => child).finally(() =>
      clearTimeout(timer)
    );
  }

  #spawn(): Child {
    const settings = this.#settings;
    mkdirSync(settings.dir, { recursive: true });
    const options: SqliteHostOptions = {
      dir: settings.dir,
      batchRows: settings.batchRows,
      batchBytes: settings.batchBytes,
      maxOpenQueries: settings.maxOpenQueries,
      queryIdleMs: settings.queryIdleMs,
      rememberClosedQueries: settings.rememberClosedQueries,
      maxBufferedBytes: settings.maxBufferedBytes,
      maxOpenDatabases: settings.maxOpenDatabases,
      busyTimeoutMs: settings.busyTimeoutMs,
      maxValueBytes: settings.maxValueBytes,
      maxMemoryBytes: settings.maxMemoryBytes ?? DEFAULT_MAX_MEMORY,
      maxFrameBytes: MAX_FRAME,
    };
    // [impl] Requests travel on a Unix socket, not the child's stdin/stdout: a round trip costs
    // about half (bench/README.md). The socket lives in a private temp folder only until the
    // child connected.
    const socketDir = Deno.makeTempDirSync({ prefix: "meshagent-sqlite-" });
    const socketPath = join(socketDir, "host.sock");
    const listener = Deno.listen({ transport: "unix", path: socketPath });
    const removeSocket = () => {
      try {
        listener.close();
      } catch { /* closed */ }
      try {
        Deno.removeSync(socketDir, { recursive: true });
      } catch { /* removed */ }
    };
    let process: Deno.ChildProcess;
    try {
      process = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          "--no-prompt",
          ...runtimeConfigFlags(),
          "--allow-env",
          `--allow-read=${settings.dir},${socketPath}`,
          `--allow-write=${settings.dir},${socketPath}`,
          `--allow-net=unix:${socketPath}`,
          new URL("./_sqlite_host.ts", import.meta.url).href,
          JSON.stringify(options),
          socketPath,
        ],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
        env: { NO_COLOR: "1" }, // plain text in the error messages made from its stderr
      }).spawn();
    } catch (error) {
      removeSocket();
      throw error;
    }
    const conn = listener.accept();
    conn.then(removeSocket, removeSocket);
    const generation = ++this.#generation;
    const ready = Promise.withResolvers<void>();
    const child: Child = {
      process,
      conn,
      ready: ready.promise,
      exited: Promise.resolve(),
      ended: null,
      stderr: "",
      generation,
      firstId: this.#nextId,
      isReady: false,
    };
    const reading = this.#read(child, () => {
      child.isReady = true;
      ready.resolve();
    });
    const logging = this.#logStderr(child);
    child.exited = process.status.then(async (status) => {
      removeSocket(); // a child that died before connecting: accept() fails now
      conn.then((c) => c.close()).catch(() => {});
      await Promise.allSettled([reading, logging]);
      this.#ended(
        child,
        status.signal !== null
          ? `was killed (${status.signal})`
          : `exited with code ${status.code}`,
      );
      const waiting = this.#waiting;
      if (waiting !== null && waiting.id >= child.firstId) {
        this.#waiting = null;
        waiting.reject(
          new RoomError(
            `the room's database process ${child.ended}${stderrNote(child)}`,
            ErrorCode.OPERATION_FAILED,
          ),
        );
      }
    });
    return child;
  }

  async #read(child: Child, onReady: () => void): Promise<void> {
    const reader = new WireFrameReader(MAX_FRAME);
    const buffer = new Uint8Array(256 * 1024);
    try {
      const conn = await child.conn;
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) break;
        for (const frame of reader.push(buffer.subarray(0, n))) {
          if (frame.header.ready === true) {
            onReady();
            continue;
          }
          const waiting = this.#waiting;
          if (waiting !== null && waiting.id === frame.header.id) {
            this.#waiting = null;
            waiting.resolve(frame);
          }
        }
      }
    } catch (error) {
      if (child.ended !== null || error instanceof Deno.errors.BadResource) return;
      this.#kill(child, `sent a broken reply (${error instanceof Error ? error.message : error})`);
    }
  }

  async #logStderr(child: Child): Promise<void> {
    const label = this.#settings.label ? ` ${this.#settings.label}` : "";
    const decoder = new TextDecoder();
    for await (const chunk of child.process.stderr) {
      const text = decoder.decode(chunk, { stream: true });
      child.stderr = (child.stderr + text).slice(-STDERR_TAIL);
      for (const line of text.split("\n")) {
        if (line.trim() !== "") console.error(`[sqlite${label}] ${line}`);
      }
    }
  }

  /** Marks `child` as ended (the first reason wins) and its streams as lost. */
  #ended(child: Child, why: string): void {
    child.ended ??= why;
    if (!this.#lost.has(child.generation)) {
      this.#lost.set(
        child.generation,
        `the room's database process ${child.ended}; its open SQL queries and streams were closed`,
      );
      // Only recent reasons are worth keeping; older streams just read as "not open".
      for (const old of this.#lost.keys()) {
        if (this.#lost.size <= 64) break;
        this.#lost.delete(old);
      }
    }
    if (this.#child === child) this.#child = null;
  }

  #kill(child: Child, why: string): void {
    this.#ended(child, why);
    try {
      child.process.kill("SIGKILL");
    } catch { /* gone already */ }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const pending of this.#queue.splice(0)) pending.reject(closing());
    const child = this.#child;
    if (child === null) {
      clearTimeout(this.#watchdog);
      this.#watchdog = undefined;
      return;
    }
    // Closing our side ends the process after the call in progress: it closes its files, exits.
    await child.conn.then((conn) => conn.closeWrite()).catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      child.exited,
      new Promise((resolve) => timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)),
    ]);
    clearTimeout(timer);
    this.#kill(child, "was stopped: the room closed");
    await child.exited;
    clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
  }
}

async function writeAll(conn: Deno.UnixConn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

function stderrNote(child: Child): string {
  const tail = child.stderr.trim();
  return tail === "" ? "" : `: ${tail.split("\n").slice(-3).join(" | ")}`;
}
