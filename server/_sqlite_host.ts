// A room's database process: `deno run _sqlite_host.ts '<options json>' <socket path>`, started
// by _sqlite_process.ts. It connects to the server's Unix socket and answers the frames of
// _sqlite_wire.ts on it with a
// SqliteDispatcher, one request at a time. The server kills it (SIGKILL) when a statement runs
// past its time limit: native SQLite code cannot be interrupted from JavaScript, and a Worker's
// terminate() leaves such a statement running (measured: the thread kept a core busy).
//
// Permissions come from the command line: read and write in the room's database folder only, no
// network, no subprocesses. Console output goes to stderr, which the server logs.

import { DatabaseSync } from "node:sqlite";
import { ErrorCode, RoomError } from "@meshagent/api";
import { type SqliteCall, SqliteDispatcher } from "./_sqlite_dispatch.ts";
import { encodeWireFrame, WireFrameReader } from "./_sqlite_wire.ts";
import type { RoomDatabaseOptions } from "./room_database.ts";

/** What the server passes in `Deno.args[0]`. */
export interface SqliteHostOptions extends RoomDatabaseOptions {
  /** SQLite's process-wide hard heap limit in bytes (0 = none). */
  maxMemoryBytes: number;
  /** The largest request frame in bytes. */
  maxFrameBytes: number;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

function errorOf(error: unknown): { message: string; code: number } {
  if (error instanceof RoomError) {
    return { message: error.message, code: error.code ?? ErrorCode.OPERATION_FAILED };
  }
  console.error("sqlite host: a request failed:", error);
  return {
    message: `internal error: ${error instanceof Error ? error.message : String(error)}`,
    code: ErrorCode.OPERATION_FAILED,
  };
}

async function serve(options: SqliteHostOptions, socketPath: string): Promise<void> {
  console.log = console.info = console.debug = console.error;
  if (options.maxMemoryBytes > 0) {
    // Process-wide (sqlite3_hard_heap_limit64): allocations past it fail with SQLITE_NOMEM.
    const probe = new DatabaseSync(":memory:");
    probe.exec(`PRAGMA hard_heap_limit = ${Math.floor(options.maxMemoryBytes)}`);
    probe.close();
  }
  const dispatcher = new SqliteDispatcher(options);
  const reader = new WireFrameReader(options.maxFrameBytes);
  const conn = await Deno.connect({ transport: "unix", path: socketPath });
  await writeAll(conn, encodeWireFrame({ id: 0, ready: true }));
  try {
    const buffer = new Uint8Array(256 * 1024);
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      for (const { header, bytes } of reader.push(buffer.subarray(0, n))) {
        const id = header.id;
        try {
          const reply = dispatcher.dispatch({
            op: String(header.op),
            request: (header.request ?? {}) as SqliteCall["request"],
            bytes,
            stream: typeof header.stream === "number" ? header.stream : undefined,
          });
          if (reply.kind === "binary") {
            await writeAll(
              conn,
              encodeWireFrame(
                { id, reply: { kind: "binary", headers: reply.headers } },
                reply.bytes,
              ),
            );
          } else {
            await writeAll(conn, encodeWireFrame({ id, reply }));
          }
        } catch (error) {
          await writeAll(conn, encodeWireFrame({ id, error: errorOf(error) }));
        }
      }
    }
  } finally {
    // The server closed the socket: it is done with this room (or gone). Close files cleanly.
    dispatcher.close();
    conn.close();
  }
}

if (import.meta.main) {
  await serve(JSON.parse(Deno.args[0] ?? "{}") as SqliteHostOptions, Deno.args[1] ?? "");
  Deno.exit(0);
}
