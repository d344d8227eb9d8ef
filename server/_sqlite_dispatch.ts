import { ARROW_STREAM_CONTENT_TYPE, ErrorCode, type JsonObject, RoomError } from "@meshagent/api";
import { RoomDatabase, type RoomDatabaseOptions } from "./room_database.ts";
import type {
  CreateDatabaseRequest,
  CreateTableRequest,
  SqlRequest,
  TableRequest,
} from "./room_database_requests.ts";
import type { SqliteResultCursor } from "./sqlite_result_cursor.ts";
import type { SqliteTableWriter } from "./sqlite_table_writer.ts";

// The `sqlite` toolkit's requests as data: one table maps each request (a tool name, or a stream
// step) to the RoomDatabase call that answers it. The same dispatcher runs in the room's database
// process (_sqlite_host.ts) and, for embedders that cannot start processes, on the event loop.

/** A JSON value as it crosses the host boundary. */
export type WireJson = string | number | boolean | null | WireJson[] | { [key: string]: WireJson };

/** What one request answers, before the toolkit turns it into a content. */
export type SqliteReply =
  | { kind: "empty" }
  | { kind: "json"; json: WireJson }
  | { kind: "binary"; headers: JsonObject; bytes: Uint8Array }
  | { kind: "stream"; stream: number };

/** One request to a room's database host. */
export interface SqliteCall {
  /** A tool name (`execute_sql`…) or a stream step (`next`, `write`, `commit`, `release`). */
  op: string;
  /** The request JSON (unary input, start chunk or binary headers); `{}` for stream steps. */
  request: JsonObject;
  /** The binary payload (Arrow bytes), possibly empty. */
  bytes: Uint8Array;
  /** The stream a step is for. */
  stream?: number;
}

/**
 * How the requests naming a `query_id` are answered once the process that held the query is gone
 * (killed at the time limit, or crashed): as if the query had been closed. null = error 1006.
 */
export const LOST_QUERY_REPLIES: Readonly<Record<string, SqliteReply | null>> = {
  read_sql_query: null,
  close_sql_query: { kind: "empty" },
  cancel_sql_query: { kind: "json", json: { status: "not_cancellable" } },
  query_target: { kind: "json", json: null },
};

/** The stream-opening tools and whether the stream owns (closes) its cursor. */
const CURSOR_TOOLS: Readonly<Record<string, boolean>> = { search: true, read_sql_query: false };

const EMPTY: SqliteReply = { kind: "empty" };
const NO_HEADERS: JsonObject = {};

type Open =
  | { kind: "writer"; writer: SqliteTableWriter }
  | { kind: "cursor"; cursor: SqliteResultCursor; owned: boolean };

type Run = (db: RoomDatabase, request: JsonObject, bytes: Uint8Array) => SqliteReply;

// deno-lint-ignore no-explicit-any
type AnyRequest = any;

const json = (value: unknown): SqliteReply => ({ kind: "json", json: value as WireJson });
const empty = (run: (db: RoomDatabase, req: AnyRequest) => void): Run => (db, req) => {
  run(db, req);
  return EMPTY;
};
const query = (result: { query_id: string; schema: Uint8Array }): SqliteReply => ({
  kind: "binary",
  headers: { kind: "query", query_id: result.query_id },
  bytes: result.schema,
});

/** The unary tools: request → reply. */
const UNARY: Readonly<Record<string, Run>> = {
  list_databases: (db, req) => json(db.listDatabases(req)),
  create_database: empty((db, req: CreateDatabaseRequest) => db.createDatabase(req)),
  drop_database: empty((db, req) => db.dropDatabase(req)),
  inspect_database: (db, req) => json(db.inspectDatabase(req as AnyRequest)),
  list_tables: (db, req) => json(db.listTables(req as AnyRequest)),
  drop_table: empty((db, req) => db.dropTable(req)),
  rename_table: empty((db, req) => db.renameTable(req)),
  inspect: (db, req) => ({
    kind: "binary",
    headers: { content_type: ARROW_STREAM_CONTENT_TYPE },
    bytes: db.inspect(req as AnyRequest),
  }),
  add_columns: (db, req, bytes) => {
    if (bytes.length === 0) {
      throw invalid("sqlite.add_columns needs the Arrow schema of the new columns as payload");
    }
    db.addColumns(req as AnyRequest as TableRequest, bytes);
    return EMPTY;
  },
  drop_columns: empty((db, req) => db.dropColumns(req)),
  update: (db, req) => json(db.update(req as AnyRequest)),
  delete: (db, req) => json(db.delete(req as AnyRequest)),
  count: (db, req) => json(db.count(req as AnyRequest)),
  open_sql_query: (db, req) => query(db.openSqlQuery(req as AnyRequest as SqlRequest)),
  execute_sql: (db, req) => {
    const result = db.executeSql(req as AnyRequest as SqlRequest);
    return result.kind === "query"
      ? query(result)
      : json({ kind: "statement", rows_affected: result.rows_affected });
  },
  close_sql_query: empty((db, req) => db.closeSqlQuery(req)),
  cancel_sql_query: (db, req) => json(db.cancelSqlQuery(req as AnyRequest)),
  execute_sql_statement: (db, req) => json(db.executeSqlStatement(req as AnyRequest)),
  // not a tool: the database of an open SQL query, for grant checks (null when not open)
  query_target: (db, req) =>
    json(db.queryTarget(typeof req.query_id === "string" ? req.query_id : "")),
};

function invalid(message: string): RoomError {
  return new RoomError(message, ErrorCode.INVALID_REQUEST);
}

/**
 * Answers {@linkcode SqliteCall}s from one room's {@linkcode RoomDatabase}, keeping the writers
 * and cursors of open streams by number. Synchronous: whoever runs it decides where it blocks.
 */
export class SqliteDispatcher {
  readonly #db: RoomDatabase;
  readonly #open = new Map<number, Open>();
  #next = 1;

  /**
   * @param options The room's database folder and limits.
   */
  constructor(options: RoomDatabaseOptions) {
    this.#db = new RoomDatabase(options);
  }

  /** Streams open now (writers and cursors). */
  get openStreams(): number {
    return this.#open.size;
  }

  /**
   * Runs one call.
   *
   * @param call The request.
   * @returns Its reply.
   * @throws {RoomError} What the database refused, with its wire code.
   */
  dispatch(call: SqliteCall): SqliteReply {
    const unary = UNARY[call.op];
    if (unary !== undefined) return unary(this.#db, call.request, call.bytes);
    switch (call.op) {
      case "create_table":
        return this.#keep({
          kind: "writer",
          writer: this.#db.createTable(
            call.request as AnyRequest as CreateTableRequest,
            call.bytes,
          ),
        });
      case "insert":
        return this.#keep({
          kind: "writer",
          writer: this.#db.insert(call.request as AnyRequest as TableRequest),
        });
      case "search":
      case "read_sql_query": {
        const cursor = call.op === "search"
          ? this.#db.search(call.request as AnyRequest)
          : this.#db.readSqlQuery(call.request as AnyRequest);
        return this.#keep({ kind: "cursor", cursor, owned: CURSOR_TOOLS[call.op] });
      }
      case "next": {
        const batch = this.#cursor(call).next();
        return batch === null ? EMPTY : { kind: "binary", headers: NO_HEADERS, bytes: batch };
      }
      case "write":
        // Clients skip empty batches; an empty payload is accepted and ignored.
        if (call.bytes.length > 0) this.#writer(call).write(call.bytes);
        return EMPTY;
      case "commit":
        return json(this.#writer(call).commit());
      case "release":
        this.#release(call.stream ?? 0);
        return EMPTY;
      default:
        throw new RoomError(
          `sqlite has no request ${JSON.stringify(call.op)}`,
          ErrorCode.NOT_FOUND,
        );
    }
  }

  #keep(open: Open): SqliteReply {
    const stream = this.#next++;
    this.#open.set(stream, open);
    return { kind: "stream", stream };
  }

  #get(call: SqliteCall): Open {
    const open = this.#open.get(call.stream ?? 0);
    if (open === undefined) {
      throw new RoomError(
        "the stream is not open (it ended or was released)",
        ErrorCode.INVALID_STATE,
      );
    }
    return open;
  }

  #cursor(call: SqliteCall): SqliteResultCursor {
    const open = this.#get(call);
    if (open.kind !== "cursor") throw invalid(`${call.op} needs a read stream`);
    return open.cursor;
  }

  #writer(call: SqliteCall): SqliteTableWriter {
    const open = this.#get(call);
    if (open.kind !== "writer") throw invalid(`${call.op} needs a write stream`);
    return open.writer;
  }

  /** Ends a stream: aborts a writer not committed, closes a cursor the stream owns. */
  #release(stream: number): void {
    const open = this.#open.get(stream);
    if (open === undefined) return;
    this.#open.delete(stream);
    if (open.kind === "writer") open.writer.abort();
    else if (open.owned) open.cursor.close();
  }

  /** Ends every stream and closes the databases. Idempotent. */
  close(): void {
    for (const stream of [...this.#open.keys()]) this.#release(stream);
    this.#db.close();
  }
}
