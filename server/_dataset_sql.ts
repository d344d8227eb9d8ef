// Private: SQL over the room's dataset tables (protocol-data §3.3, the SQL tools), on DuckDB.
// Each query gets its own in-memory DuckDB database holding copies of the tables it names (at
// the version asked for), read from the DatasetStore as Arrow; its result is read back in
// Arrow IPC batches. Queries are room-wide by `query_id`, kept like the sqlite toolkit's
// (`SqlQueries`: idle sweep, a limit, closed ids remembered for cancel_sql_query).
import * as arrow from "apache-arrow";
import { checkArrowPayload, ErrorCode, RoomError } from "@meshagent/api";
import type { DatasetStore, DatasetTableRef } from "./dataset_store.ts";
import {
  type DuckConnection,
  type DuckDb,
  type DuckInstance,
  duckMessage,
  loadDuckDb,
  openDuckSandbox,
} from "./_duckdb.ts";
import {
  DuckBatchReader,
  duckColumns,
  duckParam,
  DuckResultEncoder,
  quoteIdent,
} from "./_duckdb_arrow.ts";
import { SqlQueries, type SqlQueryCursor } from "./_sql_queries.ts";
import { type DatasetSqlLimits, DEFAULT_SQL_LIMITS } from "./dataset_sql_limits.ts";

type DuckResult = import("@duckdb/node-api").DuckDBResult;
type Js = import("@duckdb/node-api").JS;

/** One table a query reads: the store's table at a version, under a name the SQL uses. */
export interface SqlTable {
  /** The table in the store. */
  ref: DatasetTableRef;
  /** The name the query refers to it by (its alias, else its name). */
  alias: string;
  /** The version to read (null = latest). */
  version: number | null;
}

/** A parsed `open_sql_query`/`execute_sql`/`execute_sql_statement` request. */
export interface SqlRequest {
  /** The SQL text (one statement). */
  query: string;
  /** The tables it reads. */
  tables: SqlTable[];
  /** An Arrow IPC table of parameters (one row), or empty. */
  params: Uint8Array;
}

function invalid(message: string): RoomError {
  return new RoomError(message, ErrorCode.INVALID_REQUEST);
}

/** Statement types a query may have: SQL over datasets only reads. */
const READ_ONLY = new Set(["SELECT", "EXPLAIN"]);

/** Runs one DuckDB step under the time limit: past it, the connection is interrupted. */
async function step<T>(
  connection: DuckConnection,
  ms: number,
  what: string,
  run: () => Promise<T>,
  cancelled: () => boolean = () => false,
): Promise<T> {
  let late = false;
  const timer = setTimeout(() => {
    late = true;
    connection.interrupt();
  }, ms);
  const stopped = () =>
    late
      ? new RoomError(
        `the SQL query ran past the time limit (${ms} ms) while ${what} and was stopped; ` +
          `narrow it (a where clause, fewer tables or columns, a limit)`,
        ErrorCode.TIMEOUT,
      )
      : cancelled()
      ? new RoomError("the SQL query was cancelled (cancel_sql_query)", ErrorCode.INVALID_STATE)
      : null;
  try {
    const value = await run();
    // An interrupted streamed result may end as if it were complete (DuckBatchReader): a step
    // that the limit or a cancel interrupted fails even when DuckDB did not throw.
    const why = stopped();
    if (why) throw why;
    return value;
  } catch (error) {
    const why = stopped();
    if (why) throw why;
    if (error instanceof RoomError) throw error;
    const message = duckMessage(error);
    const hint = /Catalog Error: Table with name/.test(message)
      ? " (name every table the query reads in tables: [{name, alias?}])"
      : "";
    throw invalid(`SQL error: ${message}${hint}`);
  } finally {
    clearTimeout(timer);
  }
}

type QueryState = "open" | "finished" | "closed" | "cancelled";

/** An open query: its DuckDB database, its streaming result and where the reading stands. */
export class DuckQuery implements SqlQueryCursor {
  /** The tables it reads (for grant checks on read/close/cancel). */
  readonly tables: readonly SqlTable[];
  #lastUsed: number;
  #state: QueryState = "open";
  #busy = false;
  #released = false;
  readonly #instance: DuckInstance;
  readonly #connection: DuckConnection;
  readonly #result: DuckResult;
  readonly #encoder: DuckResultEncoder;
  readonly #reader: DuckBatchReader;

  /**
   * Made by {@linkcode DatasetSql.open}.
   *
   * @param parts The database, its result and the query's tables.
   */
  constructor(parts: {
    instance: DuckInstance;
    connection: DuckConnection;
    result: DuckResult;
    tables: readonly SqlTable[];
    limits: DatasetSqlLimits;
    duck: DuckDb;
  }) {
    this.#instance = parts.instance;
    this.#connection = parts.connection;
    this.#result = parts.result;
    this.tables = parts.tables;
    this.#lastUsed = Date.now();
    this.#encoder = new DuckResultEncoder(
      parts.result.deduplicatedColumnNames(),
      parts.result.columnTypes(),
      parts.duck,
    );
    const { limits } = parts;
    this.#reader = new DuckBatchReader(
      this.#encoder,
      () =>
        step(
          this.#connection,
          limits.timeoutMs,
          "reading its result",
          () => parts.result.fetchChunk(),
          () => this.#stopped(),
        ),
      parts.duck,
      limits.batchRows,
    );
  }

  /** When it was last read. */
  get lastUsed(): number {
    return this.#lastUsed;
  }

  /** Where it stands. */
  get state(): QueryState {
    return this.#state;
  }

  /** The result's columns: an Arrow IPC stream with no rows. */
  schema(): Uint8Array {
    return this.#encoder.schema();
  }

  /** The next batch of rows as one Arrow IPC stream, or null when the result is exhausted. */
  async next(): Promise<Uint8Array | null> {
    if (this.#state === "closed" || this.#state === "cancelled") {
      throw new RoomError(
        `the SQL query was ${this.#state === "closed" ? "closed" : "cancelled"}; open it again`,
        ErrorCode.INVALID_STATE,
      );
    }
    if (this.#state === "finished") return null;
    if (this.#busy) throw new RoomError("the SQL query is being read", ErrorCode.INVALID_STATE);
    this.#busy = true;
    this.#lastUsed = Date.now();
    try {
      const batch = await this.#reader.next(() => this.#stopped());
      if (this.#stopped()) return await this.next(); // throws why
      if (this.#reader.done) this.#state = "finished";
      return batch;
    } finally {
      this.#busy = false;
      this.#lastUsed = Date.now();
      if (this.#state !== "open") this.#release();
    }
  }

  /** Releases it; a read in progress is interrupted. */
  close(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#stop();
  }

  /** Stops it: `cancelled` when it was still open, else `not_cancellable`. */
  cancel(): "cancelled" | "not_cancellable" {
    if (this.#state !== "open") return "not_cancellable";
    this.#state = "cancelled";
    this.#stop();
    return "cancelled";
  }

  #stopped(): boolean {
    return this.#state === "closed" || this.#state === "cancelled";
  }

  #stop(): void {
    if (this.#busy) this.#connection.interrupt(); // released when the read settles
    else this.#release();
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#connection.closeSync();
    this.#instance.closeSync();
  }
}

/** The dataset SQL queries of one room. */
export class DatasetSql {
  readonly #queries: SqlQueries<{ cursor: DuckQuery }>;
  readonly #limits: DatasetSqlLimits;
  readonly #store: () => DatasetStore;

  /**
   * @param store The room's dataset store (made on first use).
   * @param limits The limits (defaults: {@linkcode DEFAULT_SQL_LIMITS}).
   */
  constructor(store: () => DatasetStore, limits: Partial<DatasetSqlLimits> = {}) {
    this.#store = store;
    this.#limits = { ...DEFAULT_SQL_LIMITS, ...limits };
    this.#queries = new SqlQueries({
      maxOpen: this.#limits.maxOpen,
      idleMs: this.#limits.idleMs,
      rememberClosed: 4096,
      now: Date.now,
    });
  }

  /**
   * Loads the tables and starts the query. `statement` runs it to the end and reports
   * `rows_affected` 0 (nothing is ever changed); otherwise it is kept under a new `query_id`.
   */
  async open(
    request: SqlRequest,
    statement: boolean,
  ): Promise<{ queryId: string; schema: Uint8Array } | { rowsAffected: number }> {
    this.#queries.makeRoom();
    const duck = await loadDuckDb();
    const { instance, connection } = await openDuckSandbox({
      memoryLimit: this.#limits.memoryLimit,
      threads: this.#limits.threads,
      files: false,
    });
    let query: DuckQuery | undefined;
    try {
      await this.#load(duck, connection, request.tables);
      const result = await this.#start(duck, connection, request);
      query = new DuckQuery({
        instance,
        connection,
        result,
        tables: request.tables,
        limits: this.#limits,
        duck,
      });
    } finally {
      if (!query) {
        connection.closeSync();
        instance.closeSync();
      }
    }
    if (statement) {
      try {
        while ((await query.next()) !== null) { /* rows are not returned by a statement */ }
      } finally {
        query.close();
      }
      return { rowsAffected: 0 };
    }
    const queryId = crypto.randomUUID();
    this.#queries.add(queryId, { cursor: query });
    return { queryId, schema: query.schema() };
  }

  /** The open query `id`, null when it was closed; 1003 for an id never opened here. */
  find(id: string): DuckQuery | null {
    return this.#queries.find(id)?.cursor ?? null;
  }

  /** Closes query `id` (its id stays known to cancel). */
  close(id: string): void {
    const query = this.find(id);
    if (query) {
      query.close();
      this.#queries.forget(id);
    }
  }

  /** Cancels query `id`. */
  cancel(id: string): "cancelled" | "not_cancellable" {
    const query = this.find(id);
    return query ? query.cancel() : "not_cancellable";
  }

  /** Closes every query. */
  closeAll(): void {
    this.#queries.closeAll();
  }

  /** Copies each table (at its version) into the query's database under its alias. */
  async #load(duck: DuckDb, connection: DuckConnection, tables: readonly SqlTable[]) {
    const store = this.#store();
    const deadline = Date.now() + this.#limits.timeoutMs;
    let rows = 0;
    let bytes = 0;
    const seen = new Set<string>();
    for (const table of tables) {
      const key = table.alias.toLowerCase(); // DuckDB names are case-insensitive
      if (seen.has(key)) {
        throw invalid(`two tables are named ${JSON.stringify(table.alias)}; give one an alias`);
      }
      seen.add(key);
      const schema = arrow.tableFromIPC(await store.inspect(table.ref, table.version)).schema;
      const columns = duckColumns(schema, duck);
      const name = quoteIdent(table.alias);
      await step(connection, this.#limits.timeoutMs, "loading its tables", () =>
        connection.run(
          `CREATE TABLE ${name} (${
            columns.map((c) => `${quoteIdent(c.name)} ${c.sqlType}`).join(", ")
          })`,
        ));
      const appender = await connection.createAppender(table.alias);
      try {
        const types = columns.map((_, i) => appender.columnType(i));
        for await (const ipc of store.search(table.ref, { version: table.version })) {
          bytes += ipc.length;
          const batchTable = arrow.tableFromIPC(ipc);
          rows += batchTable.numRows;
          if (rows > this.#limits.maxInputRows || bytes > this.#limits.maxInputBytes) {
            throw invalid(
              `the tables of this query hold more than ${this.#limits.maxInputRows} rows or ` +
                `${this.#limits.maxInputBytes} bytes, the most SQL over datasets reads; ` +
                `use search with a where clause, or split the tables`,
            );
          }
          if (Date.now() > deadline) {
            throw new RoomError(
              `the SQL query ran past the time limit (${this.#limits.timeoutMs} ms) while ` +
                `loading its tables and was stopped; read fewer or smaller tables`,
              ErrorCode.TIMEOUT,
            );
          }
          appendTable(duck, appender, batchTable, types, columns.map((c) => c.toDuck));
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
    }
  }

  /** Checks the statement (one, read-only), binds its parameters and starts it. */
  async #start(duck: DuckDb, connection: DuckConnection, request: SqlRequest) {
    const timeout = this.#limits.timeoutMs;
    const extracted = await step(
      connection,
      timeout,
      "parsing it",
      () => connection.extractStatements(request.query),
    );
    if (extracted.count !== 1) {
      throw invalid(
        `send one SQL statement per call (got ${extracted.count}); SQL over datasets reads only`,
      );
    }
    const prepared = await step(connection, timeout, "planning it", () => extracted.prepare(0));
    const type = duck.StatementType[prepared.statementType];
    if (!READ_ONLY.has(type)) {
      throw invalid(
        `SQL over datasets is read-only (this is a ${type} statement): change rows with ` +
          `datasets.insert, update, delete or merge, and tables with create_table, add_columns…`,
      );
    }
    bindParams(duck, prepared, request.params);
    return await step(connection, timeout, "running it", () => prepared.stream());
  }
}

/** Appends one Arrow table's rows through DuckDB data chunks (at most 2048 rows each). */
export function appendTable(
  duck: DuckDb,
  appender: import("@duckdb/node-api").DuckDBAppender,
  table: arrow.Table,
  types: import("@duckdb/node-api").DuckDBType[],
  converters: ((value: unknown) => import("@duckdb/node-api").DuckDBValue)[],
): void {
  const CHUNK = 2048;
  const vectors = converters.map((_, i) => table.getChildAt(i)!);
  for (let start = 0; start < table.numRows; start += CHUNK) {
    const count = Math.min(CHUNK, table.numRows - start);
    const chunk = duck.DuckDBDataChunk.create(types, count);
    vectors.forEach((vector, c) => {
      const values = new Array(count);
      for (let r = 0; r < count; r++) {
        const value = vector.get(start + r);
        values[r] = value === null || value === undefined ? null : converters[c](value);
      }
      chunk.setColumnValues(c, values);
    });
    appender.appendDataChunk(chunk);
  }
}

/**
 * Binds the parameter table's one row. [impl] Its columns bind by name to `$name` parameters,
 * or in column order to positional ones (`?`, `$1`).
 */
function bindParams(
  duck: DuckDb,
  prepared: import("@duckdb/node-api").DuckDBPreparedStatement,
  payload: Uint8Array,
): void {
  const count = prepared.parameterCount;
  if (payload.length === 0) {
    if (count > 0) {
      throw invalid(`the query has ${count} parameter(s): send params, a one-row Arrow table`);
    }
    return;
  }
  checkArrowPayload(payload);
  let table: arrow.Table;
  try {
    table = arrow.tableFromIPC(payload);
  } catch (error) {
    throw invalid(`params is not an Arrow IPC stream: ${duckMessage(error)}`);
  }
  if (table.numRows !== 1) {
    throw invalid(`params must be an Arrow table of one row (got ${table.numRows})`);
  }
  const names = table.schema.fields.map((f) => f.name);
  const value = (i: number) => duckParam(table.getChildAt(i)!.get(0), duck);
  const positional = count === 0 || /^\d+$/.test(prepared.parameterName(1));
  try {
    if (positional) {
      if (names.length < count) {
        throw invalid(`the query has ${count} parameters; params has ${names.length} columns`);
      }
      prepared.bind(Array.from({ length: count }, (_, i) => value(i)));
    } else {
      const byName: Record<string, import("@duckdb/node-api").DuckDBValue> = {};
      for (let i = 1; i <= count; i++) {
        const name = prepared.parameterName(i);
        const index = names.indexOf(name);
        if (index < 0) throw invalid(`params has no column ${JSON.stringify(name)}`);
        byName[name] = value(index);
      }
      prepared.bind(byName);
    }
  } catch (error) {
    if (error instanceof RoomError) throw error;
    throw invalid(`SQL parameters: ${duckMessage(error)}`);
  }
}
