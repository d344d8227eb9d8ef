// Wire shapes: protocol-data §3.1–§3.2 (`sqlite` toolkit). The official npm client 0.39.9 has no
// sqlite client (only `dataset`, a different toolkit), so the request and reply shapes here come
// from the spec, which was checked against the official 0.47 client suite.
import {
  ARROW_STREAM_CONTENT_TYPE,
  type ColumnSchema,
  decodeArrowSchema,
  encodeArrowSchema,
  type Row,
} from "./arrow_rows.ts";
import { BinaryContent, type Content, EmptyContent, ErrorContent, JsonContent } from "./content.ts";
import { ErrorCode, RoomError } from "./errors.ts";
import type { JsonObject } from "./packing.ts";
import type { RoomRequester } from "./room_requester.ts";
import type { ToolCallStream } from "./tool_call_streams.ts";
import {
  decodeRows,
  encodeChunks,
  encodeParams,
  encodeValue,
  encodeWhere,
  rowsToColumns,
} from "./_database_rows.ts";
import { callSignal, PullGate } from "./_pull_streams.ts";

const TOOLKIT = "sqlite";
const NO_BYTES = new Uint8Array(0);

/** How `createDatabase` and `createTable` treat an existing one. */
export type DatabaseCreateMode = "create" | "overwrite" | "create_if_not_exists";

/**
 * Bound parameters: an array for `?` placeholders, or an object for named ones (`:name`,
 * `@name`, `$name`). Values: numbers, strings, booleans, null, safe-integer bigints,
 * `Uint8Array` (BLOB), `Date` (ISO-8601 text) and JSON objects/arrays (JSON text).
 */
export type SqlParams = readonly unknown[] | Readonly<Record<string, unknown>>;

/**
 * Which rows: an SQL condition (its `?`/`:name` placeholders bound from `params`), or an object
 * `{column: value}` meaning equality on every column (AND); absent means every row.
 */
export type RowFilter = string | Readonly<Record<string, unknown>>;

/** Timeout and cancellation of one database call. */
export interface DatabaseRequestOptions {
  /** Fail with a `RequestTimeoutError` when the whole call takes longer (ms). */
  timeout?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/** Names a database. */
export interface DatabaseTarget extends DatabaseRequestOptions {
  /** The database namespace (default: none). */
  namespace?: readonly string[] | null;
}

/** Names a table. */
export interface TableTarget extends DatabaseTarget {
  /** The database name. */
  database: string;
  /** The table name. */
  table: string;
}

/** Options of {@linkcode DatabaseClient.createDatabase}. */
export interface CreateDatabaseOptions extends DatabaseTarget {
  /** The database name. */
  name: string;
  /** `create` (default: fails when it exists), `overwrite` or `create_if_not_exists`. */
  mode?: DatabaseCreateMode;
}

/** Options of {@linkcode DatabaseClient.dropDatabase}. */
export interface DropDatabaseOptions extends DatabaseTarget {
  /** The database name. */
  name: string;
  /** No error when it does not exist. */
  ignoreMissing?: boolean;
}

/** What {@linkcode DatabaseClient.inspectDatabase} reports. */
export interface DatabaseInfo {
  /** The database name. */
  name: string;
  /** Its namespace (null when none was given). */
  namespace: string[] | null;
  /** How many tables it has. */
  tables: number;
  /** Its size on disk in bytes. */
  sizeBytes: number;
}

/** Options of {@linkcode DatabaseClient.createTable}. */
export interface CreateTableOptions extends DatabaseTarget {
  /** The database name. */
  database: string;
  /** The table name. */
  name: string;
  /** The columns, in order. Without them the columns come from `rows` (types from the values). */
  columns?: readonly ColumnSchema[];
  /** Initial rows, inserted in the same transaction that creates the table. */
  rows?: readonly Readonly<Record<string, unknown>>[];
  /** `create` (default: fails when it exists), `overwrite` or `create_if_not_exists`. */
  mode?: DatabaseCreateMode;
  /** Most rows per streamed chunk (default 1000). */
  batchRows?: number;
}

/** Options of {@linkcode DatabaseClient.dropTable}. */
export interface DropTableOptions extends DatabaseTarget {
  /** The database name. */
  database: string;
  /** The table name. */
  name: string;
  /** No error when it does not exist. */
  ignoreMissing?: boolean;
}

/** Options of {@linkcode DatabaseClient.renameTable}. */
export interface RenameTableOptions extends DatabaseTarget {
  /** The database name. */
  database: string;
  /** The current table name. */
  name: string;
  /** The new table name. */
  newName: string;
}

/** Options of {@linkcode DatabaseClient.addColumns}. */
export interface AddColumnsOptions extends TableTarget {
  /** The new columns (appended, nullable). */
  columns: readonly ColumnSchema[];
}

/** Options of {@linkcode DatabaseClient.dropColumns}. */
export interface DropColumnsOptions extends TableTarget {
  /** The names of the columns to drop. */
  columns: readonly string[];
}

/** Options of {@linkcode DatabaseClient.insert}. */
export interface InsertOptions extends TableTarget {
  /** The rows: objects `{column: value}`; columns a row leaves out are NULL or their default. */
  rows: readonly Readonly<Record<string, unknown>>[];
  /** Most rows per streamed chunk (default 1000). */
  batchRows?: number;
}

/** A row filter with its parameters. */
export interface FilterOptions extends TableTarget {
  /** Which rows (default: every row). */
  where?: RowFilter;
  /** Parameters of a string `where`. */
  params?: SqlParams;
}

/** Options of {@linkcode DatabaseClient.update}. */
export interface UpdateOptions extends FilterOptions {
  /** New values by column (bound, never spliced into SQL). */
  values?: Readonly<Record<string, unknown>>;
  /** New values computed by SQL expressions over the row, e.g. `{ n: "n + 1" }`. */
  expressions?: Readonly<Record<string, string>>;
}

/** Options of {@linkcode DatabaseClient.search}. */
export interface SearchOptions extends FilterOptions {
  /** The columns to return, in this order (default: all, in table order). */
  select?: readonly string[];
  /** Most rows to return. */
  limit?: number;
  /** Rows to skip (after filtering). */
  offset?: number;
}

/** Options of the SQL calls. */
export interface SqlOptions extends DatabaseTarget {
  /** The database name. */
  database: string;
  /** The SQL. Values go in `params`, never into this text. */
  query: string;
  /** Bound parameters. */
  params?: SqlParams;
}

/** What {@linkcode DatabaseClient.executeSql} returns. */
export interface SqlResult {
  /** `rows` for a statement that returns rows, `statement` for anything else. */
  kind: "rows" | "statement";
  /** The result columns (empty for a statement). */
  columns: ColumnSchema[];
  /** The result rows (empty for a statement). */
  rows: Row[];
  /** Rows inserted, updated or deleted (0 for a query). */
  rowsAffected: number;
}

/** What `cancel` reports. */
export type SqlCancelStatus = "cancelled" | "cancelling" | "not_cancellable";

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function unexpected(tool: string, content: Content): RoomError {
  return new RoomError(
    `unexpected return type from sqlite.${tool}: ${content.type}`,
    ErrorCode.UNEXPECTED_RESPONSE_TYPE,
  );
}

function namespaceOf(target: DatabaseTarget): string[] | null {
  return target.namespace ? [...target.namespace] : null;
}

function integer(value: unknown, tool: string, key: string): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new RoomError(
      `unexpected return type from sqlite.${tool}: ${key} is not an integer`,
      ErrorCode.UNEXPECTED_RESPONSE_TYPE,
    );
  }
  return value;
}

/** Throws the error a stream chunk carries. */
function checkChunk(chunk: Content): void {
  if (chunk instanceof ErrorContent) {
    throw new RoomError(chunk.text, chunk.code ?? ErrorCode.OPERATION_FAILED);
  }
}

/**
 * An SQL query opened with {@linkcode DatabaseClient.openSqlQuery}: iterate it for its rows in
 * batches (each batch is read from the server when the loop asks for it), then
 * {@linkcode SqlQuery.close} it. A query is room-wide and stays open on the server until it is
 * closed (`await using` closes it at the end of the scope). Breaking out of a loop keeps the
 * rest of the rows for the next loop.
 *
 * @example Reading in batches (needs a running room, so shown without running it)
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RoomClient } from "@meshagent/api";
 * async function dump(room: RoomClient) {
 *   await using query = await room.database.openSqlQuery({
 *     database: "main",
 *     query: "SELECT id, title FROM notes WHERE id > ?",
 *     params: [10],
 *   });
 *   for await (const batch of query) for (const row of batch) console.log(row.id, row.title);
 * }
 * assert(typeof dump === "function");
 * ```
 */
export class SqlQuery implements AsyncIterable<Row[]> {
  /** The server's `query_id`. */
  readonly id: string;
  /** The result columns. */
  readonly columns: ColumnSchema[];
  readonly #client: DatabaseClient;
  readonly #options: DatabaseRequestOptions;
  #closed = false;

  /**
   * Made by {@linkcode DatabaseClient.openSqlQuery}.
   *
   * @param client The database client.
   * @param id The query id.
   * @param columns The result columns.
   * @param options Timeout and cancellation of each read.
   */
  constructor(
    client: DatabaseClient,
    id: string,
    columns: ColumnSchema[],
    options: DatabaseRequestOptions = {},
  ) {
    this.#client = client;
    this.id = id;
    this.columns = columns;
    this.#options = options;
  }

  /** True once {@linkcode SqlQuery.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Reads the rows batch by batch (one `read_sql_query` stream, one pull per batch).
   *
   * @returns The batches.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Row[]> {
    if (this.#closed) {
      throw new RoomError(`query ${this.id} is closed`, ErrorCode.INVALID_STATE);
    }
    for await (
      const bytes of this.#client._readStream(
        "read_sql_query",
        { kind: "start", query_id: this.id },
        this.#options,
      )
    ) {
      const { rows } = decodeRows(bytes);
      if (rows.length > 0) yield rows;
    }
  }

  /**
   * Reads every remaining row.
   *
   * @returns The rows.
   */
  async all(): Promise<Row[]> {
    const out: Row[] = [];
    for await (const batch of this) out.push(...batch);
    return out;
  }

  /**
   * Stops the query on the server if it is still running (`cancel_sql_query`); reads then fail.
   *
   * @returns `cancelled`, or `not_cancellable` when it was read to the end or closed.
   */
  async cancel(): Promise<SqlCancelStatus> {
    const content = await this.#client._invoke("cancel_sql_query", { query_id: this.id }, {});
    const status = content instanceof JsonContent && isObject(content.json)
      ? content.json.status
      : undefined;
    if (status !== "cancelled" && status !== "cancelling" && status !== "not_cancellable") {
      throw unexpected("cancel_sql_query", content);
    }
    return status;
  }

  /** Releases the query on the server (`close_sql_query`). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const content = await this.#client._invoke("close_sql_query", { query_id: this.id }, {});
    if (!(content instanceof EmptyContent)) throw unexpected("close_sql_query", content);
  }

  /** `await using` closes the query. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * The room's SQLite databases (built-in toolkit `sqlite`): databases and tables shared by every
 * participant of the room. Rows are plain objects (`{column: value}`); they travel as Apache
 * Arrow IPC inside, and values are always bound as parameters, never spliced into SQL.
 *
 * Reached as `room.database` (also `room.sqlite`). Calls are checked against the token's
 * `api.sqlite` grant; a denied call rejects with a `RoomError` with code 1001. SQL errors
 * reject with code 1002 and SQLite's message, and change nothing.
 *
 * @example Creating, filling and querying a table (needs a running room, so shown without running it)
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RoomClient } from "@meshagent/api";
 * async function demo(room: RoomClient) {
 *   await room.database.createDatabase({ name: "main", mode: "create_if_not_exists" });
 *   await room.database.createTable({
 *     database: "main",
 *     name: "notes",
 *     columns: [{ name: "id", type: "int64" }, { name: "title", type: "utf8" }],
 *   });
 *   await room.database.insert({
 *     database: "main",
 *     table: "notes",
 *     rows: [{ id: 1, title: "hello" }, { id: 2, title: "world" }],
 *   });
 *   const { rows } = await room.database.executeSql({
 *     database: "main",
 *     query: "SELECT title FROM notes WHERE id = ?",
 *     params: [2],
 *   });
 *   console.log(rows); // [{ title: "world" }]
 * }
 * assert(typeof demo === "function");
 * ```
 */
export class DatabaseClient {
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
   * @internal Invokes a unary tool.
   *
   * @param tool The tool name.
   * @param input A JSON input, or a content.
   * @param options Timeout and cancellation.
   * @returns The result content.
   */
  async _invoke(
    tool: string,
    input: JsonObject | Content,
    options: DatabaseRequestOptions,
  ): Promise<Content> {
    return await this.#room.invoke({
      toolkit: TOOLKIT,
      tool,
      input,
      timeout: options.timeout,
      signal: options.signal,
    });
  }

  async #json(
    tool: string,
    input: JsonObject | Content,
    options: DatabaseRequestOptions,
  ): Promise<JsonObject> {
    const content = await this._invoke(tool, input, options);
    if (!(content instanceof JsonContent) || !isObject(content.json)) {
      throw unexpected(tool, content);
    }
    return content.json;
  }

  async #empty(
    tool: string,
    input: JsonObject | Content,
    options: DatabaseRequestOptions,
  ): Promise<void> {
    const content = await this._invoke(tool, input, options);
    if (!(content instanceof EmptyContent)) throw unexpected(tool, content);
  }

  /**
   * @internal A read stream (`search`, `read_sql_query`): yields each `data` chunk's Arrow bytes,
   * pulling the next one only when the loop asks for it.
   *
   * @param tool The tool name.
   * @param start The start chunk headers.
   * @param options Timeout (of the whole read) and cancellation.
   * @returns The chunks.
   */
  async *_readStream(
    tool: string,
    start: JsonObject,
    options: DatabaseRequestOptions,
  ): AsyncGenerator<Uint8Array> {
    const gate = new PullGate();
    async function* input(): AsyncGenerator<Content> {
      yield new BinaryContent(NO_BYTES, start);
      while (await gate.wait()) yield new BinaryContent(NO_BYTES, { kind: "pull" });
    }
    const { signal, done } = callSignal(`sqlite.${tool}`, options);
    let stream: ToolCallStream | undefined;
    try {
      stream = await this.#room.invokeStream({ toolkit: TOOLKIT, tool, input: input(), signal });
      // The first pull goes out only after the `open` answer (§3.1).
      gate.release();
      for await (const chunk of stream) {
        checkChunk(chunk);
        if (!(chunk instanceof BinaryContent) || chunk.headers.kind !== "data") {
          throw unexpected(tool, chunk);
        }
        yield chunk.data;
        gate.release();
      }
    } finally {
      gate.stop();
      stream?.close();
      done();
    }
  }

  /** A write stream (`create_table`, `insert`): start → (pull → data)… → pull → close. */
  async #writeStream(
    tool: string,
    start: JsonObject,
    schema: Uint8Array,
    chunks: readonly Uint8Array[],
    options: DatabaseRequestOptions,
  ): Promise<void> {
    const gate = new PullGate();
    let sentAll = false;
    async function* input(): AsyncGenerator<Content> {
      yield new BinaryContent(schema, start);
      for (const chunk of chunks) {
        if (!(await gate.wait())) return;
        yield new BinaryContent(chunk, { kind: "data", content_type: ARROW_STREAM_CONTENT_TYPE });
      }
      // The pull after the last chunk is answered with our close, which commits.
      if (await gate.wait()) sentAll = true;
    }
    const { signal, done } = callSignal(`sqlite.${tool}`, options);
    let stream: ToolCallStream | undefined;
    try {
      stream = await this.#room.invokeStream({ toolkit: TOOLKIT, tool, input: input(), signal });
      for await (const chunk of stream) {
        checkChunk(chunk);
        const pull = (chunk instanceof BinaryContent && chunk.headers.kind === "pull") ||
          (chunk instanceof JsonContent && isObject(chunk.json) && chunk.json.kind === "pull");
        if (!pull) throw unexpected(tool, chunk);
        gate.release();
      }
      if (!sentAll) {
        throw new RoomError(
          `sqlite.${tool}: the server ended the stream before all rows were sent`,
          ErrorCode.OPERATION_FAILED,
        );
      }
    } finally {
      gate.stop();
      stream?.close();
      done();
    }
  }

  // ------------------------------------------------------------------------------- databases

  /**
   * Lists the databases of a namespace (exact match).
   *
   * @param options The namespace, timeout and cancellation.
   * @returns The database names, sorted.
   */
  async listDatabases(options: DatabaseTarget = {}): Promise<string[]> {
    const json = await this.#json("list_databases", { namespace: namespaceOf(options) }, options);
    if (!Array.isArray(json.databases)) {
      throw unexpected("list_databases", new JsonContent(json));
    }
    return json.databases.map(String);
  }

  /**
   * Creates a database.
   *
   * @param options The name, namespace and mode.
   * @throws {RoomError} 1004 when it exists and `mode` is `create`.
   */
  async createDatabase(options: CreateDatabaseOptions): Promise<void> {
    await this.#empty("create_database", {
      name: options.name,
      namespace: namespaceOf(options),
      mode: options.mode ?? "create",
    }, options);
  }

  /**
   * Drops a database and all its tables.
   *
   * @param options The name, namespace and whether a missing one is fine.
   * @throws {RoomError} 1003 when it does not exist (unless `ignoreMissing`).
   */
  async dropDatabase(options: DropDatabaseOptions): Promise<void> {
    await this.#empty("drop_database", {
      name: options.name,
      namespace: namespaceOf(options),
      ignore_missing: options.ignoreMissing ?? false,
    }, options);
  }

  /**
   * Describes a database.
   *
   * @param options The name and namespace.
   * @returns Its table count and size.
   */
  async inspectDatabase(options: DatabaseTarget & { name: string }): Promise<DatabaseInfo> {
    const json = await this.#json("inspect_database", {
      name: options.name,
      namespace: namespaceOf(options),
    }, options);
    return {
      name: String(json.name),
      namespace: Array.isArray(json.namespace) ? json.namespace.map(String) : null,
      tables: integer(json.tables, "inspect_database", "tables"),
      sizeBytes: integer(json.size_bytes, "inspect_database", "size_bytes"),
    };
  }

  // ---------------------------------------------------------------------------------- tables

  /**
   * Lists the tables of a database.
   *
   * @param options The database and namespace.
   * @returns The table names, sorted.
   */
  async listTables(options: DatabaseTarget & { database: string }): Promise<string[]> {
    const json = await this.#json("list_tables", {
      database: options.database,
      namespace: namespaceOf(options),
    }, options);
    if (!Array.isArray(json.tables)) throw unexpected("list_tables", new JsonContent(json));
    return json.tables.map(String);
  }

  /**
   * Creates a table from columns, from rows (column types taken from the values: integers →
   * `int64`, other numbers → `float64`, strings → `utf8`, bytes → `binary`, booleans → `bool`),
   * or both. The table and its initial rows are committed together.
   *
   * @param options The database, name, columns and/or rows, and mode.
   * @throws {RoomError} 1004 when the table exists and `mode` is `create`; 1002 without columns
   *   or rows.
   */
  async createTable(options: CreateTableOptions): Promise<void> {
    const rows = options.rows ?? [];
    const columns = options.columns ? [...options.columns] : null;
    if (columns === null && rows.length === 0) {
      throw new RoomError(
        "createTable needs columns, or at least one row to take the columns from",
        ErrorCode.INVALID_REQUEST,
      );
    }
    const set = rowsToColumns(rows, columns);
    const chunks = encodeChunks(set.columns, set.rows, {
      rows: options.batchRows ?? 1000,
      bytes: 4 * 1024 * 1024,
    });
    await this.#writeStream(
      "create_table",
      {
        kind: "start",
        database: options.database,
        name: options.name,
        mode: options.mode ?? "create",
        namespace: namespaceOf(options),
      },
      columns === null ? NO_BYTES : encodeArrowSchema(columns),
      chunks,
      options,
    );
  }

  /**
   * Drops a table.
   *
   * @param options The database, table name and whether a missing one is fine.
   * @throws {RoomError} 1003 when it does not exist (unless `ignoreMissing`).
   */
  async dropTable(options: DropTableOptions): Promise<void> {
    await this.#empty("drop_table", {
      database: options.database,
      name: options.name,
      ignore_missing: options.ignoreMissing ?? false,
      namespace: namespaceOf(options),
    }, options);
  }

  /**
   * Renames a table.
   *
   * @param options The database, the current and the new name.
   * @throws {RoomError} 1003 when it does not exist; 1004 when `newName` is taken.
   */
  async renameTable(options: RenameTableOptions): Promise<void> {
    await this.#empty("rename_table", {
      database: options.database,
      name: options.name,
      new_name: options.newName,
      namespace: namespaceOf(options),
    }, options);
  }

  /**
   * The columns of a table, in order.
   *
   * @param options The database and table.
   * @returns Name, type and nullability of each column.
   */
  async inspect(options: TableTarget): Promise<ColumnSchema[]> {
    const content = await this._invoke("inspect", {
      database: options.database,
      table: options.table,
      namespace: namespaceOf(options),
    }, options);
    if (!(content instanceof BinaryContent)) throw unexpected("inspect", content);
    return decodeArrowSchema(content.data);
  }

  /**
   * Appends nullable columns to a table.
   *
   * @param options The database, table and new columns.
   * @throws {RoomError} 1004 when a column exists.
   */
  async addColumns(options: AddColumnsOptions): Promise<void> {
    if (options.columns.length === 0) {
      throw new RoomError("addColumns needs at least one column", ErrorCode.INVALID_REQUEST);
    }
    await this.#empty(
      "add_columns",
      new BinaryContent(encodeArrowSchema(options.columns), {
        database: options.database,
        table: options.table,
        namespace: namespaceOf(options),
        content_type: ARROW_STREAM_CONTENT_TYPE,
      }),
      options,
    );
  }

  /**
   * Drops columns from a table.
   *
   * @param options The database, table and column names.
   * @throws {RoomError} 1003 when a column does not exist.
   */
  async dropColumns(options: DropColumnsOptions): Promise<void> {
    await this.#empty("drop_columns", {
      database: options.database,
      table: options.table,
      columns: [...options.columns],
      namespace: namespaceOf(options),
    }, options);
  }

  // ------------------------------------------------------------------------------------ rows

  /**
   * Inserts rows (all in one transaction: on an error none is kept). The table's column types
   * are read first (`inspect`), so values are sent in the types the table has.
   *
   * @param options The database, table and rows.
   * @returns The number of rows sent.
   * @throws {RoomError} 1002 for a column the table does not have, or a value that does not fit
   *   its column; 1005 for a constraint violation.
   */
  async insert(options: InsertOptions): Promise<number> {
    if (options.rows.length === 0) return 0;
    const table = await this.inspect(options);
    const set = rowsToColumns(options.rows, table);
    const chunks = encodeChunks(set.columns, set.rows, {
      rows: options.batchRows ?? 1000,
      bytes: 4 * 1024 * 1024,
    });
    await this.#writeStream(
      "insert",
      {
        kind: "start",
        database: options.database,
        table: options.table,
        namespace: namespaceOf(options),
      },
      NO_BYTES,
      chunks,
      options,
    );
    return options.rows.length;
  }

  /**
   * Updates the rows that match `where` (every row when it is absent).
   *
   * @param options The table, the filter, and the new `values` and/or `expressions`.
   * @returns The number of rows changed.
   */
  async update(options: UpdateOptions): Promise<number> {
    const values: JsonObject[] = [];
    for (const [column, value] of Object.entries(options.values ?? {})) {
      values.push({ column, value_json: JSON.stringify(encodeValue(value, `values.${column}`)) });
    }
    for (const [column, expression] of Object.entries(options.expressions ?? {})) {
      values.push({ column, value_json: JSON.stringify({ expression }) });
    }
    if (values.length === 0) {
      throw new RoomError(
        "update needs values or expressions to set",
        ErrorCode.INVALID_REQUEST,
      );
    }
    const json = await this.#json("update", { ...filterInput(options), values }, options);
    return integer(json.rows_affected, "update", "rows_affected");
  }

  /**
   * Deletes the rows that match `where` (every row when it is absent).
   *
   * @param options The table and the filter.
   * @returns The number of rows deleted.
   */
  async delete(options: FilterOptions): Promise<number> {
    const json = await this.#json("delete", filterInput(options), options);
    return integer(json.rows_affected, "delete", "rows_affected");
  }

  /**
   * Counts the rows that match `where`.
   *
   * @param options The table and the filter.
   * @returns The count.
   */
  async count(options: FilterOptions): Promise<number> {
    const json = await this.#json("count", filterInput(options), options);
    return integer(json.count, "count", "count");
  }

  /**
   * Reads the rows that match `where`, in batches as the loop asks for them (insertion order).
   *
   * @param options The table, filter, columns, limit and offset.
   * @returns The batches of rows.
   */
  async *searchBatches(options: SearchOptions): AsyncGenerator<Row[]> {
    const start: JsonObject = {
      kind: "start",
      database: options.database,
      table: options.table,
      where: encodeWhere(options.where),
      params: encodeParams(options.params),
      offset: options.offset ?? null,
      limit: options.limit ?? null,
      select: options.select ? [...options.select] : null,
      namespace: namespaceOf(options),
    };
    for await (const bytes of this._readStream("search", start, options)) {
      const { rows } = decodeRows(bytes);
      if (rows.length > 0) yield rows;
    }
  }

  /**
   * Reads every row that matches `where` (insertion order).
   *
   * @param options The table, filter, columns, limit and offset.
   * @returns The rows.
   */
  async search(options: SearchOptions): Promise<Row[]> {
    const out: Row[] = [];
    for await (const batch of this.searchBatches(options)) out.push(...batch);
    return out;
  }

  // ------------------------------------------------------------------------------------- SQL

  #sqlInput(options: SqlOptions): BinaryContent {
    return new BinaryContent(NO_BYTES, {
      database: options.database,
      query: options.query,
      params: encodeParams(options.params),
      namespace: namespaceOf(options),
    });
  }

  /**
   * Runs one statement: one that returns rows gives them all (read in batches, then the query is
   * closed); anything else gives the number of rows it changed. Without `params`, `query` may
   * be a script of several statements (run in one transaction).
   *
   * @param options The database, SQL and bound parameters.
   * @returns The rows or the change count.
   * @throws {RoomError} 1002 with SQLite's message for bad SQL (nothing is changed then).
   */
  async executeSql(options: SqlOptions): Promise<SqlResult> {
    const content = await this._invoke("execute_sql", this.#sqlInput(options), options);
    if (content instanceof JsonContent && isObject(content.json)) {
      if (content.json.kind !== "statement") throw unexpected("execute_sql", content);
      return {
        kind: "statement",
        columns: [],
        rows: [],
        rowsAffected: integer(content.json.rows_affected, "execute_sql", "rows_affected"),
      };
    }
    const query = this.#queryFrom("execute_sql", content, options);
    try {
      return { kind: "rows", columns: query.columns, rows: await query.all(), rowsAffected: 0 };
    } finally {
      await query.close().catch(() => {});
    }
  }

  /**
   * Runs a statement (or, without `params`, a script) that returns no rows.
   *
   * @param options The database, SQL and bound parameters.
   * @returns The number of rows inserted, updated or deleted.
   */
  async executeSqlStatement(options: SqlOptions): Promise<number> {
    const json = await this.#json("execute_sql_statement", this.#sqlInput(options), options);
    return integer(json.rows_affected, "execute_sql_statement", "rows_affected");
  }

  /**
   * Opens a query that returns rows, to read them in batches; close it when done.
   *
   * @param options The database, SQL and bound parameters (`timeout` applies to the open and to
   *   each read loop).
   * @returns The open query.
   */
  async openSqlQuery(options: SqlOptions): Promise<SqlQuery> {
    const content = await this._invoke("open_sql_query", this.#sqlInput(options), options);
    return this.#queryFrom("open_sql_query", content, options);
  }

  #queryFrom(tool: string, content: Content, options: DatabaseRequestOptions): SqlQuery {
    if (
      !(content instanceof BinaryContent) || content.headers.kind !== "query" ||
      typeof content.headers.query_id !== "string" || content.headers.query_id === ""
    ) {
      throw unexpected(tool, content);
    }
    return new SqlQuery(
      this,
      content.headers.query_id,
      decodeArrowSchema(content.data),
      { timeout: options.timeout, signal: options.signal },
    );
  }
}

/** The request fields of a table filter: the table, the `where` and its bound parameters. */
function filterInput(options: FilterOptions): JsonObject {
  return {
    database: options.database,
    table: options.table,
    where: encodeWhere(options.where),
    params: encodeParams(options.params),
    namespace: namespaceOf(options),
  };
}
