// A room's database process: `deno run _sqlite_host.ts '<options json>'`, started by
// _sqlite_process.ts. It answers the frames of _sqlite_wire.ts on stdin/stdout with a
// SqliteDispatcher, one request at a time. The server kills it (SIGKILL) when a statement runs
// past its time limit: native SQLite code cannot be interrupted from JavaScript, and a Worker's
// terminate() leaves such a statement running (measured: the thread kept a core busy).
//
// Permissions come from the command line: read and write in the room's database folder only, no
// network, no subprocesses. stdout is the reply pipe, so console output goes to stderr.

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

function writeAll(bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += Deno.stdout.writeSync(bytes.subarray(offset));
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

async function serve(options: SqliteHostOptions): Promise<void> {
  console.log = console.info = console.debug = console.error;
  if (options.maxMemoryBytes > 0) {
    // Process-wide (sqlite3_hard_heap_limit64): allocations past it fail with SQLITE_NOMEM.
    const probe = new DatabaseSync(":memory:");
    probe.exec(`PRAGMA hard_heap_limit = ${Math.floor(options.maxMemoryBytes)}`);
    probe.close();
  }
  const dispatcher = new SqliteDispatcher(options);
  const reader = new WireFrameReader(options.maxFrameBytes);
  writeAll(encodeWireFrame({ id: 0, ready: true }));
  try {
    for await (const chunk of Deno.stdin.readable) {
      for (const { header, bytes } of reader.push(chunk)) {
        const id = header.id;
        try {
          const reply = dispatcher.dispatch({
            op: String(header.op),
            request: (header.request ?? {}) as SqliteCall["request"],
            bytes,
            stream: typeof header.stream === "number" ? header.stream : undefined,
          });
          if (reply.kind === "binary") {
            writeAll(encodeWireFrame(
              { id, reply: { kind: "binary", headers: reply.headers } },
              reply.bytes,
            ));
          } else {
            writeAll(encodeWireFrame({ id, reply }));
          }
        } catch (error) {
          writeAll(encodeWireFrame({ id, error: errorOf(error) }));
        }
      }
    }
  } finally {
    // stdin closed: the server is done with this room (or gone). Close the files cleanly.
    dispatcher.close();
  }
}

if (import.meta.main) {
  await serve(JSON.parse(Deno.args[0] ?? "{}") as SqliteHostOptions);
  Deno.exit(0);
}
