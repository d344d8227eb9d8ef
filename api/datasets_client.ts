// Wire shapes: protocol-data §3.3 (`dataset` toolkit), the same requests the official npm client
// 0.39.9 (`DatasetsClient`) sends; tests/api/datasets_interop_test.ts runs both against our server.
import {
  ArrowTable,
  type DatasetColumn,
  type DatasetRow,
  type DatasetValue,
} from "./dataset_rows.ts";
import { ARROW_STREAM_CONTENT_TYPE } from "./arrow_rows.ts";
import { BinaryContent, type Content, ErrorContent, JsonContent } from "./content.ts";
import { ErrorCode, RoomError } from "./errors.ts";
import type { JsonObject } from "./packing.ts";
import type { ToolCallRequest, ToolCallStream } from "./tool_call_streams.ts";
import { callSignal, PullGate } from "./_pull_streams.ts";

const TOOLKIT = "dataset";

/**
 * [impl] The pulls a write stream asks the server to keep outstanding (`pull_window`; our
 * server's extension, ignored by others): the next chunks travel while one is written. 3 keeps
 * the chunks waiting on the server (≤ 16 MiB each) under its 64 MiB per-connection budget.
 */
const WRITE_PULL_WINDOW = 3;
const NO_BYTES = new Uint8Array(0);
/** Rows per chunk when rows are sent as plain objects (the official client's JSON default). */
const DEFAULT_CHUNK_ROWS = 8192;

/** What the datasets client needs of its room: tool calls. A `RoomClient` is one. */
export interface DatasetsRoom {
  /** Invokes a tool and waits for its result. */
  invoke(request: ToolCallRequest): Promise<Content>;
  /** Invokes a tool whose input and/or output is a stream. */
  invokeStream(request: ToolCallRequest): Promise<ToolCallStream>;
}

/** How a create treats an existing table. */
export type DatasetCreateMode = "create" | "overwrite" | "create_if_not_exists";

/** Timeout and cancellation of one call. */
export interface DatasetRequestOptions {
  /** Fail with a `RequestTimeoutError` when the whole call takes longer (ms). */
  timeout?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/** Where a table lives. */
export interface DatasetScope extends DatasetRequestOptions {
  /** The namespace (default: the root). */
  namespace?: readonly string[];
  /** The branch (default: main). */
  branch?: string;
}

/** Names a table. */
export interface DatasetTableTarget extends DatasetScope {
  /** The table name. */
  table: string;
}

/** Rows to send: Arrow tables, or plain objects (encoded in the table's column types). */
export type DatasetRecords = ArrowTable | readonly Readonly<Record<string, unknown>>[];

/** Chunks of rows for the streaming calls. */
export type DatasetChunks = Iterable<ArrowTable> | AsyncIterable<ArrowTable>;

/** Options of the `createTable…` calls. */
export interface CreateDatasetTableOptions extends DatasetScope {
  /** The table name. */
  name: string;
  /** `create` (default: fails when it exists), `overwrite` or `create_if_not_exists`. */
  mode?: DatasetCreateMode;
  /** Table metadata (non-string values are sent as JSON text). */
  metadata?: Readonly<Record<string, unknown>>;
}

/** Which rows: an SQL boolean expression, or `{column: value}` equalities joined by AND. */
export type DatasetWhere = string | Readonly<Record<string, DatasetValue>>;

/** Options of {@linkcode DatasetsClient.search} and {@linkcode DatasetsClient.count}. */
export interface DatasetSearchOptions extends DatasetTableTarget {
  /** A full-text query (needs an INVERTED index). */
  text?: string;
  /** A query vector: nearest rows first (limit 10 unless given). */
  vector?: readonly number[];
  /** Which rows. */
  where?: DatasetWhere;
  /** Rows to skip. */
  offset?: number;
  /** Most rows. */
  limit?: number;
  /** The columns to return, in order. */
  select?: readonly string[];
  /** Read an older version. */
  version?: number;
}

/** One version of a table. */
export interface DatasetTableVersion {
  /** The version number. */
  version: number;
  /** When it was committed. */
  timestamp: Date;
  /** The engine's notes about it. */
  metadata: Record<string, unknown>;
}

/** One index of a table. */
export interface DatasetTableIndex {
  /** The index name (`<column>_idx` unless named). */
  name: string;
  /** The indexed columns. */
  columns: string[];
  /** The index type. */
  type: string;
  /** Field ids. */
  fields: number[];
  /** A precise type identifier. */
  typeUrl: string | null;
  /** Rows covered. */
  numRowsIndexed: number | null;
  /** Segments. */
  numSegments: number | null;
  /** Size on disk. */
  totalSizeBytes: number | null;
  /** Type-specific details. */
  details: Record<string, unknown>;
  /** Statistics. */
  statistics: Record<string, unknown>;
}

/**
 * An index to build: `column` and `index_type` (vector `IVF_PQ`, `IVF_HNSW_PQ`, `IVF_HNSW_SQ`,
 * `IVF_RQ`; scalar `BTREE`, `BITMAP`, `LABEL_LIST`; full-text `INVERTED`/`FTS`), an optional
 * `name`, and Lance's tuning keys (`metric`, `num_partitions`, `num_sub_vectors`, …).
 */
export interface DatasetIndexConfig {
  /** The column. */
  column: string;
  /** The index type. */
  index_type: string;
  /** The name (default `<column>_idx`). */
  name?: string;
  /** Tuning keys. */
  [key: string]: unknown;
}

/** What {@linkcode DatasetsClient.optimize} reports. */
export interface DatasetOptimizeResult {
  /** Compaction statistics. */
  compaction: Record<string, unknown> | null;
  /** Whether indexes were brought up to date. */
  optimizedIndices: boolean;
  /** Version cleanup statistics. */
  cleanup: Record<string, unknown> | null;
}

/** One event of {@linkcode DatasetsClient.watchTable}. */
export interface DatasetWatchEvent {
  /** `ready` first, then `data` for each change. */
  kind: "data" | "ready";
  /** `initial`, `change`, … */
  phase?: string;
  /** The table version. */
  version?: number;
  /** Rows of a `data` event (may be none: only the version changed). */
  table?: ArrowTable;
  /** What kind of change. */
  changeType?: string;
  /** The version before the change. */
  beginVersion?: number;
  /** The version after it. */
  endVersion?: number;
}

/** One table an SQL query reads: its name, or where and how. */
export interface DatasetSqlTable {
  /** The table name. */
  name: string;
  /** Its namespace (default: the query's). */
  namespace?: readonly string[];
  /** The name the SQL uses for it (default: its name). */
  alias?: string;
  /** Its branch (default: main). */
  branch?: string;
  /** The version to read (default: the latest). */
  version?: number;
}

/** An SQL query over dataset tables. */
export interface DatasetSqlOptions extends DatasetScope {
  /** One SQL statement (read-only on our server). */
  query: string;
  /** The tables it reads, by name or {@linkcode DatasetSqlTable}. */
  tables?: readonly (string | DatasetSqlTable)[];
  /** Parameters: a one-row table (or a plain object) whose columns bind `$name` / `?` in order. */
  params?: ArrowTable | Readonly<Record<string, unknown>>;
}

/** An open SQL query: read it with `readSqlQuery`, then `closeSqlQuery`. */
export interface DatasetSqlQuery {
  /** Always `query`. */
  kind: "query";
  /** Its id (room-wide). */
  queryId: string;
  /** The result's columns (the official client gives an Arrow `schema` here). */
  columns: DatasetColumn[];
}

/** A statement that returned no rows. */
export interface DatasetSqlStatement {
  /** Always `statement`. */
  kind: "statement";
  /** Rows it changed. */
  rowsAffected: number;
}

/** What `executeSql` gives. */
export type DatasetSqlExecution = DatasetSqlQuery | DatasetSqlStatement;

/** What `cancelSqlQuery` reports. */
export type DatasetSqlCancelStatus = "cancelled" | "cancelling" | "not_cancellable";

/** A file format of `importFromStorage` / `exportToStorage` (`auto`: by the file's extension). */
export type DatasetStorageFormat = "auto" | "json" | "arrow" | "csv" | "tsv" | "parquet" | "excel";

/** Options of `importFromStorage`. */
export interface DatasetImportOptions extends DatasetTableTarget {
  /** The file's path in the room's storage. */
  path: string;
  /** `create` (default) a new table, `replace` the table, or `merge` (upsert on `on`). */
  mode?: "create" | "replace" | "merge";
  /** The file format (default `auto`). */
  format?: DatasetStorageFormat;
  /** The key column of a merge. */
  on?: string;
  /** The sheet of an Excel file. */
  sheet?: string;
  /** Rows per chunk the server writes (the server's default when absent). */
  batchSize?: number;
}

/** Options of `exportToStorage`. */
export interface DatasetExportOptions extends DatasetTableTarget {
  /** The file's path in the room's storage (replaced when it exists). */
  path: string;
  /** The file format. */
  format: DatasetStorageFormat;
  /** Export this version instead of the latest. */
  version?: number;
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function unexpected(tool: string, content: Content): RoomError {
  return new RoomError(
    `unexpected return type from datasets.${tool}: ${content.type}`,
    ErrorCode.UNEXPECTED_RESPONSE_TYPE,
  );
}

function scope(options: DatasetScope): { namespace: string[] | null; branch: string | null } {
  return {
    namespace: options.namespace ? [...options.namespace] : null,
    branch: options.branch ?? null,
  };
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** A row value as the wire's encoded value (protocol-data §3.1). */
function encodeValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return { binary: base64(value) };
  if (value instanceof Date) return { timestamp: value.toISOString() };
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return { list: value.map(encodeValue) };
  if (typeof value === "object") return { json: value };
  return value;
}

/** An SQL literal in the official client's style (JSON syntax; double-quoted strings). */
function sqlLiteral(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (typeof value === "bigint") return value.toString();
  if (value === null || value === undefined) return "NULL";
  return JSON.stringify(value);
}

function whereClause(where: DatasetWhere | undefined): string | null {
  if (where === undefined) return null;
  if (typeof where === "string") return where;
  return Object.entries(where).map(([key, value]) => `${key} = ${sqlLiteral(value)}`).join(
    " AND ",
  );
}

function checkChunk(chunk: Content): void {
  if (chunk instanceof ErrorContent) {
    throw new RoomError(chunk.text, chunk.code ?? ErrorCode.OPERATION_FAILED);
  }
}

function isPull(chunk: Content): boolean {
  return (chunk instanceof BinaryContent && chunk.headers.kind === "pull") ||
    (chunk instanceof JsonContent && isObject(chunk.json) && chunk.json.kind === "pull");
}

async function* chunksOf(data: DatasetChunks): AsyncGenerator<ArrowTable> {
  for await (const chunk of data as AsyncIterable<ArrowTable>) yield chunk;
}

/**
 * The room's datasets (built-in toolkit `dataset`): versioned tables with filters, vector and
 * full-text search, indexes and versions, shared by every participant of the room. The same
 * calls as the official client's `DatasetsClient`; rows travel as {@linkcode ArrowTable}s
 * (Arrow IPC), built from plain objects or read back into them.
 *
 * Reached as `room.datasets`. Calls are checked against the token's `api.dataset` grant (1001
 * when denied); an unknown table is 1003, bad SQL, a schema mismatch or a vector of the wrong
 * length 1002, and a refused write changes nothing.
 *
 * @example Creating, filling and searching a table (needs a running room, so shown without running it)
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RoomClient } from "@meshagent/api";
 * async function demo(room: RoomClient) {
 *   await room.datasets.createTableWithSchema({
 *     name: "docs",
 *     schema: [{ name: "id", type: "int64" }, { name: "text", type: "utf8" },
 *       { name: "embedding", type: "vector[3]" }],
 *   });
 *   await room.datasets.insert({
 *     table: "docs",
 *     records: [{ id: 1, text: "hello", embedding: [1, 0, 0] }],
 *   });
 *   const [first] = await room.datasets.search({ table: "docs", vector: [1, 0, 0], limit: 1 });
 *   console.log(first.toRows()); // [{ id: 1, text: "hello", embedding: [1, 0, 0], _distance: 0 }]
 * }
 * assert(typeof demo === "function");
 * ```
 */
export class DatasetsClient {
  readonly #room: DatasetsRoom;

  /**
   * Creates the sub-client; a `RoomClient` makes one for itself.
   *
   * @param room The room (anything that invokes tools).
   */
  constructor(room: DatasetsRoom) {
    this.#room = room;
  }

  async #invoke(
    tool: string,
    input: JsonObject | Content,
    options: DatasetRequestOptions,
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
    input: JsonObject,
    options: DatasetRequestOptions,
  ): Promise<JsonObject> {
    const content = await this.#invoke(tool, input, options);
    if (!(content instanceof JsonContent) || !isObject(content.json)) {
      throw unexpected(tool, content);
    }
    return content.json;
  }

  /** A write stream: start → (pull → data)… → pull → close → the server's close. */
  async #write(
    tool: string,
    start: JsonObject,
    schema: Uint8Array,
    chunks: AsyncIterable<ArrowTable>,
    options: DatasetRequestOptions,
  ): Promise<void> {
    const pulls = new PullGate();
    let sentAll = false;
    let failure: unknown;
    async function* input(): AsyncGenerator<Content> {
      yield new BinaryContent(schema, { ...start, pull_window: WRITE_PULL_WINDOW });
      try {
        for await (const chunk of chunks) {
          if (chunk.numRows === 0) continue;
          if (!(await pulls.wait())) return;
          yield new BinaryContent(chunk.ipc, {
            kind: "data",
            content_type: ARROW_STREAM_CONTENT_TYPE,
          });
        }
      } catch (error) {
        // A failing source must not commit what was sent: leave without the closing pull.
        failure = error;
        stream?.close();
        return;
      }
      if (await pulls.wait()) sentAll = true;
    }
    const { signal, done } = callSignal(`datasets.${tool}`, options);
    let stream: ToolCallStream | undefined;
    try {
      stream = await this.#room.invokeStream({ toolkit: TOOLKIT, tool, input: input(), signal });
      for await (const chunk of stream) {
        checkChunk(chunk);
        if (!isPull(chunk)) throw unexpected(tool, chunk);
        pulls.release();
      }
      if (failure !== undefined) throw failure;
      if (!sentAll) {
        throw new RoomError(
          `datasets.${tool}: the server ended the stream before all rows were sent`,
          ErrorCode.OPERATION_FAILED,
        );
      }
    } finally {
      pulls.stop();
      stream?.close();
      done();
    }
  }

  /** A read stream: start, then one pull per `data` chunk after the `open` answer. */
  async *#read(
    tool: string,
    start: JsonObject,
    options: DatasetRequestOptions,
  ): AsyncGenerator<Content> {
    const pulls = new PullGate();
    async function* input(): AsyncGenerator<Content> {
      yield new BinaryContent(NO_BYTES, start);
      while (await pulls.wait()) yield new BinaryContent(NO_BYTES, { kind: "pull" });
    }
    const { signal, done } = callSignal(`datasets.${tool}`, options);
    let stream: ToolCallStream | undefined;
    try {
      stream = await this.#room.invokeStream({ toolkit: TOOLKIT, tool, input: input(), signal });
      pulls.release();
      for await (const chunk of stream) {
        checkChunk(chunk);
        yield chunk;
        pulls.release();
      }
    } finally {
      pulls.stop();
      stream?.close();
      done();
    }
  }

  /** Encodes plain rows in the table's column types (read with `inspect`). */
  async #records(target: DatasetTableTarget, records: DatasetRecords): Promise<ArrowTable[]> {
    if (records instanceof ArrowTable) return [records];
    if (records.length === 0) return [];
    const columns = await this.inspect(target);
    const out: ArrowTable[] = [];
    for (let i = 0; i < records.length; i += DEFAULT_CHUNK_ROWS) {
      out.push(ArrowTable.fromRows(records.slice(i, i + DEFAULT_CHUNK_ROWS), columns));
    }
    return out;
  }

  // ---------------------------------------------------------------------------------- tables

  /**
   * Lists the tables of a namespace.
   *
   * @param options The namespace and branch.
   * @returns The table names, sorted.
   */
  async listTables(options: DatasetScope = {}): Promise<string[]> {
    const json = await this.#json("list_tables", scope(options), options);
    return Array.isArray(json.tables) ? json.tables.map(String) : [];
  }

  #createStart(options: CreateDatasetTableOptions): JsonObject {
    return {
      kind: "start",
      name: options.name,
      mode: options.mode ?? "create",
      ...scope(options),
      metadata: options.metadata
        ? Object.entries(options.metadata).map(([key, value]) => ({
          key,
          value: typeof value === "string" ? value : JSON.stringify(value),
        }))
        : null,
    };
  }

  /**
   * Creates a table with columns, optionally with first rows (in the same version).
   *
   * @param options The name, the schema (columns or an empty Arrow table), rows, mode.
   * @throws {RoomError} 1004 when it exists and `mode` is `create`.
   */
  async createTableWithSchema(
    options: CreateDatasetTableOptions & {
      schema: readonly DatasetColumn[] | ArrowTable;
      data?: ArrowTable | readonly ArrowTable[];
    },
  ): Promise<void> {
    const schema = options.schema instanceof ArrowTable
      ? options.schema
      : ArrowTable.fromColumns(options.schema);
    const data = options.data === undefined
      ? []
      : options.data instanceof ArrowTable
      ? [options.data]
      : [...options.data];
    await this.#write(
      "create_table",
      this.#createStart(options),
      schema.ipc,
      chunksOf(data),
      options,
    );
  }

  /**
   * Creates a table whose columns are those of the data.
   *
   * @param options The name, the rows (Arrow tables, or plain objects with inferred types), mode.
   */
  async createTableFromData(
    options: CreateDatasetTableOptions & {
      data: ArrowTable | readonly ArrowTable[] | readonly Readonly<Record<string, unknown>>[];
    },
  ): Promise<void> {
    const data = options.data instanceof ArrowTable
      ? [options.data]
      : options.data.length > 0 && !(options.data[0] instanceof ArrowTable)
      ? [ArrowTable.fromRows(options.data as Readonly<Record<string, unknown>>[])]
      : [...options.data as readonly ArrowTable[]];
    await this.#write(
      "create_table",
      this.#createStart(options),
      NO_BYTES,
      chunksOf(data),
      options,
    );
  }

  /**
   * Creates a table from a stream of chunks (sent as the server asks for them).
   *
   * @param options The name, the chunks, an optional schema, mode.
   */
  async createTableFromDataStream(
    options: CreateDatasetTableOptions & {
      chunks: DatasetChunks;
      schema?: readonly DatasetColumn[] | ArrowTable;
    },
  ): Promise<void> {
    const schema = options.schema === undefined
      ? NO_BYTES
      : (options.schema instanceof ArrowTable
        ? options.schema
        : ArrowTable.fromColumns(options.schema)).ipc;
    await this.#write(
      "create_table",
      this.#createStart(options),
      schema,
      chunksOf(options.chunks),
      options,
    );
  }

  /**
   * Drops a table.
   *
   * @param options The name and whether a missing one is fine.
   * @throws {RoomError} 1003 when it does not exist (unless `ignoreMissing`).
   */
  async dropTable(
    options: DatasetScope & { name: string; ignoreMissing?: boolean },
  ): Promise<void> {
    await this.#invoke("drop_table", {
      name: options.name,
      ignore_missing: options.ignoreMissing ?? false,
      ...scope(options),
    }, options);
  }

  /**
   * Reads a file of the room's storage (CSV, TSV, JSON, Parquet or Arrow IPC) into a table, as
   * one new version.
   *
   * @param options The table, the storage path, mode, format, merge key and batch size.
   * @throws {RoomError} 1003 when the file (or, for a merge, the table) is missing, 1002 for a
   *   file that does not parse or is too big, 1001 without the dataset or storage grant.
   */
  async importFromStorage(options: DatasetImportOptions): Promise<void> {
    const input: JsonObject = {
      table: options.table,
      path: options.path,
      mode: options.mode ?? "create",
      format: options.format ?? "auto",
      on: options.on ?? null,
      sheet: options.sheet ?? null,
      ...scope(options),
    };
    if (options.batchSize != null) input.batch_size = options.batchSize;
    await this.#invoke("import_storage", input, options);
  }

  /**
   * Writes a table (or an older version of it) to a file of the room's storage, whole or not
   * at all.
   *
   * @param options The table, the storage path, format and version.
   * @throws {RoomError} 1003 when the table is missing, 1001 without the dataset or storage
   *   grant.
   */
  async exportToStorage(options: DatasetExportOptions): Promise<void> {
    await this.#invoke("export_storage", {
      table: options.table,
      path: options.path,
      format: options.format,
      ...scope(options),
      version: options.version ?? null,
    }, options);
  }

  /**
   * The columns of a table.
   *
   * @param options The table, and optionally an older version.
   * @returns The columns, in order.
   */
  async inspect(options: DatasetTableTarget & { version?: number }): Promise<DatasetColumn[]> {
    const content = await this.#invoke("inspect", {
      table: options.table,
      ...scope(options),
      version: options.version ?? null,
    }, options);
    if (!(content instanceof BinaryContent)) throw unexpected("inspect", content);
    return ArrowTable.fromIpc(content.data).columns;
  }

  /**
   * Adds columns: `{name: SQL expression}` computed per row, or new all-null columns.
   *
   * @param options The table and the new columns.
   */
  async addColumns(
    options: DatasetTableTarget & {
      newColumns: Readonly<Record<string, string>> | readonly DatasetColumn[];
    },
  ): Promise<void> {
    if (Array.isArray(options.newColumns)) {
      await this.#invoke(
        "add_columns",
        new BinaryContent(ArrowTable.fromColumns(options.newColumns as DatasetColumn[]).ipc, {
          table: options.table,
          ...scope(options),
          content_type: ARROW_STREAM_CONTENT_TYPE,
        }),
        options,
      );
      return;
    }
    await this.#invoke("add_columns", {
      table: options.table,
      columns: Object.entries(options.newColumns).map(([name, value_sql]) => ({ name, value_sql })),
      ...scope(options),
    }, options);
  }

  /**
   * Drops columns.
   *
   * @param options The table and the column names.
   */
  async dropColumns(options: DatasetTableTarget & { columns: readonly string[] }): Promise<void> {
    await this.#invoke("drop_columns", {
      table: options.table,
      columns: [...options.columns],
      ...scope(options),
    }, options);
  }

  // ------------------------------------------------------------------------------------ rows

  /**
   * Appends rows, as one new version.
   *
   * @param options The table and the rows.
   * @throws {RoomError} 1002 for a column the table lacks or a value that does not fit.
   */
  async insert(options: DatasetTableTarget & { records: DatasetRecords }): Promise<void> {
    await this.insertStream({ ...options, chunks: await this.#records(options, options.records) });
  }

  /**
   * Appends rows from a stream of chunks, as one new version (committed at the end; a failing
   * source commits nothing).
   *
   * @param options The table and the chunks.
   */
  async insertStream(options: DatasetTableTarget & { chunks: DatasetChunks }): Promise<void> {
    await this.#write(
      "insert",
      { kind: "start", table: options.table, ...scope(options) },
      NO_BYTES,
      chunksOf(options.chunks),
      options,
    );
  }

  /**
   * Upserts rows keyed on column `on`: a row whose `on` value exists replaces that row.
   *
   * @param options The table, the key column and the rows.
   */
  async merge(
    options: DatasetTableTarget & { on: string; records: DatasetRecords },
  ): Promise<void> {
    await this.mergeStream({ ...options, chunks: await this.#records(options, options.records) });
  }

  /**
   * Upserts rows from a stream of chunks.
   *
   * @param options The table, the key column and the chunks.
   */
  async mergeStream(
    options: DatasetTableTarget & { on: string; chunks: DatasetChunks },
  ): Promise<void> {
    await this.#write(
      "merge",
      { kind: "start", table: options.table, on: options.on, ...scope(options) },
      NO_BYTES,
      chunksOf(options.chunks),
      options,
    );
  }

  /**
   * Sets column values of the rows that match `where`.
   *
   * @param options The table, the SQL filter and the new values.
   */
  async update(
    options: DatasetTableTarget & { where?: string; values: Readonly<Record<string, unknown>> },
  ): Promise<void> {
    await this.#invoke("update", {
      table: options.table,
      where: options.where ?? null,
      values: Object.entries(options.values).map(([column, value]) => ({
        column,
        value_json: JSON.stringify(encodeValue(value)),
      })),
      ...scope(options),
    }, options);
  }

  /**
   * Deletes the rows that match `where`.
   *
   * @param options The table and the SQL filter.
   */
  async delete(options: DatasetTableTarget & { where: string }): Promise<void> {
    await this.#invoke("delete", {
      table: options.table,
      where: options.where,
      ...scope(options),
    }, options);
  }

  #searchStart(options: DatasetSearchOptions): JsonObject {
    return {
      table: options.table,
      text: options.text ?? null,
      vector: options.vector ? [...options.vector] : null,
      text_columns: null,
      where: whereClause(options.where),
      ...scope(options),
      version: options.version ?? null,
    };
  }

  /**
   * Reads the rows that match, one table per chunk as the loop asks for them.
   *
   * @param options The table, filter, vector or text, columns, limit, offset and version.
   * @returns The chunks (none when nothing matches).
   */
  async *searchStream(options: DatasetSearchOptions): AsyncGenerator<ArrowTable> {
    const start = {
      kind: "start",
      ...this.#searchStart(options),
      offset: options.offset ?? null,
      limit: options.limit ?? null,
      select: options.select ? [...options.select] : null,
    };
    for await (const chunk of this.#read("search", start, options)) {
      if (!(chunk instanceof BinaryContent) || chunk.headers.kind !== "data") {
        throw unexpected("search", chunk);
      }
      yield ArrowTable.fromIpc(chunk.data);
    }
  }

  /**
   * Reads the rows that match.
   *
   * @param options The table, filter, vector or text, columns, limit, offset and version.
   * @returns One table per chunk the server sent (none when nothing matches).
   */
  async search(options: DatasetSearchOptions): Promise<ArrowTable[]> {
    const out: ArrowTable[] = [];
    for await (const table of this.searchStream(options)) out.push(table);
    return out;
  }

  /**
   * Reads the rows that match as plain objects.
   *
   * @param options The table, filter, vector or text, columns, limit, offset and version.
   * @returns The rows.
   */
  async searchRows(options: DatasetSearchOptions): Promise<DatasetRow[]> {
    return (await this.search(options)).flatMap((table) => table.toRows());
  }

  /**
   * Counts the rows that match.
   *
   * @param options The table, filter, vector or text, and version.
   * @returns The count.
   */
  async count(options: DatasetSearchOptions): Promise<number> {
    const json = await this.#json("count", this.#searchStart(options), options);
    if (typeof json.count !== "number" || !Number.isInteger(json.count)) {
      throw unexpected("count", new JsonContent(json));
    }
    return json.count;
  }

  /**
   * Follows a table: a `ready` event with its version, then one `data` event per new version.
   * Break out of the loop to stop.
   *
   * @param options The table and the polling interval (seconds, default 0.5).
   * @returns The events.
   */
  async *watchTable(
    options: DatasetTableTarget & { pollIntervalSeconds?: number },
  ): AsyncGenerator<DatasetWatchEvent> {
    const start = {
      kind: "start",
      table: options.table,
      ...scope(options),
      poll_interval_seconds: options.pollIntervalSeconds ?? 0.5,
    };
    const int = (v: unknown) =>
      typeof v === "number"
        ? v
        : typeof v === "string" && /^-?\d+$/.test(v)
        ? Number(v)
        : undefined;
    for await (const chunk of this.#read("watch_table", start, options)) {
      if (chunk instanceof JsonContent && isObject(chunk.json) && chunk.json.kind === "ready") {
        yield {
          kind: "ready",
          phase: typeof chunk.json.phase === "string" ? chunk.json.phase : undefined,
          version: int(chunk.json.version),
        };
      } else if (chunk instanceof BinaryContent && chunk.headers.kind === "data") {
        const h = chunk.headers;
        yield {
          kind: "data",
          phase: typeof h.phase === "string" ? h.phase : undefined,
          version: int(h.version),
          table: chunk.data.length > 0 ? ArrowTable.fromIpc(chunk.data) : undefined,
          changeType: typeof h.change_type === "string" ? h.change_type : undefined,
          beginVersion: int(h.begin_version),
          endVersion: int(h.end_version),
        };
      } else {
        throw unexpected("watch_table", chunk);
      }
    }
  }

  // ------------------------------------------------------------------ versions and upkeep

  /**
   * Compacts files, updates indexes and prunes old versions.
   *
   * @param target The table name, or the table with an optimize config.
   * @returns What was done.
   */
  async optimize(
    target: string | (DatasetTableTarget & { config?: Readonly<Record<string, unknown>> }),
  ): Promise<DatasetOptimizeResult> {
    const options = typeof target === "string" ? { table: target } : target;
    const json = await this.#json("optimize", {
      table: options.table,
      ...scope(options),
      config: "config" in options && options.config ? { ...options.config } as JsonObject : null,
    }, options);
    const obj = (v: unknown, text: unknown) =>
      typeof text === "string" ? JSON.parse(text) : isObject(v) ? v : null;
    return {
      compaction: obj(json.compaction, json.compaction_json),
      optimizedIndices: json.optimized_indices === true,
      cleanup: obj(json.cleanup, json.cleanup_json),
    };
  }

  /**
   * Sizes and fragment statistics of a table.
   *
   * @param options The table and optional version.
   * @returns `dataset` and `data` statistics.
   */
  async stats(
    options: DatasetTableTarget & { version?: number },
  ): Promise<{ dataset: Record<string, unknown>; data: Record<string, unknown> }> {
    const json = await this.#json("stats", {
      table: options.table,
      ...scope(options),
      version: options.version ?? null,
      max_rows_per_group: null,
    }, options);
    const dataset = typeof json.dataset_json === "string"
      ? JSON.parse(json.dataset_json)
      : json.dataset;
    const data = typeof json.data_json === "string" ? JSON.parse(json.data_json) : json.data;
    if (!isObject(dataset) || !isObject(data)) throw unexpected("stats", new JsonContent(json));
    return { dataset, data };
  }

  /**
   * The versions of a table, oldest first.
   *
   * @param options The table.
   * @returns The versions.
   */
  async listVersions(options: DatasetTableTarget): Promise<DatasetTableVersion[]> {
    const json = await this.#json(
      "list_versions",
      { table: options.table, ...scope(options) },
      options,
    );
    if (!Array.isArray(json.versions)) throw unexpected("list_versions", new JsonContent(json));
    return json.versions.map((v) => {
      if (!isObject(v) || typeof v.version !== "number" || typeof v.timestamp !== "string") {
        throw unexpected("list_versions", new JsonContent(json));
      }
      return {
        version: v.version,
        timestamp: new Date(v.timestamp),
        metadata: typeof v.metadata_json === "string" ? JSON.parse(v.metadata_json) : {},
      };
    });
  }

  /**
   * Makes an older version the latest (as a new version).
   *
   * @param options The table and the version.
   */
  async restore(options: DatasetTableTarget & { version: number }): Promise<void> {
    await this.#invoke("restore", {
      table: options.table,
      version: options.version,
      ...scope(options),
    }, options);
  }

  // --------------------------------------------------------------------------------- indexes

  /**
   * Builds an index; resolves once it exists.
   *
   * @param options The table and the index config.
   */
  async createIndex(options: DatasetTableTarget & { config: DatasetIndexConfig }): Promise<void> {
    await this.#invoke("create_index", {
      table: options.table,
      config: { ...options.config } as JsonObject,
      ...scope(options),
    }, options);
  }

  /**
   * Drops an index.
   *
   * @param options The table and the index name.
   */
  async dropIndex(options: DatasetTableTarget & { name: string }): Promise<void> {
    await this.#invoke("drop_index", {
      table: options.table,
      name: options.name,
      ...scope(options),
    }, options);
  }

  /**
   * The indexes of a table.
   *
   * @param options The table and optional version.
   * @returns The indexes.
   */
  async listIndexes(
    options: DatasetTableTarget & { version?: number },
  ): Promise<DatasetTableIndex[]> {
    const json = await this.#json("list_indexes", {
      table: options.table,
      ...scope(options),
      version: options.version ?? null,
    }, options);
    if (!Array.isArray(json.indexes)) throw unexpected("list_indexes", new JsonContent(json));
    return json.indexes.map((i) => {
      if (!isObject(i) || typeof i.name !== "string" || !Array.isArray(i.columns)) {
        throw unexpected("list_indexes", new JsonContent(json));
      }
      const n = (v: unknown) => (typeof v === "number" ? v : null);
      return {
        name: i.name,
        columns: i.columns.map(String),
        type: String(i.type),
        fields: Array.isArray(i.fields) ? i.fields.map(Number) : [],
        typeUrl: typeof i.type_url === "string" ? i.type_url : null,
        numRowsIndexed: n(i.num_rows_indexed),
        numSegments: n(i.num_segments),
        totalSizeBytes: n(i.total_size_bytes),
        details: typeof i.details_json === "string" ? JSON.parse(i.details_json) : {},
        statistics: typeof i.statistics_json === "string" ? JSON.parse(i.statistics_json) : {},
      };
    });
  }

  // -------------------------------------------------------------------------------- branches

  /**
   * The branches of a namespace.
   *
   * @param options The namespace.
   * @returns Their names and parents.
   */
  async listBranches(
    options: DatasetRequestOptions & { namespace?: readonly string[] } = {},
  ): Promise<{ name: string; parentBranch: string | null; parentVersion: number | null }[]> {
    const json = await this.#json("list_branches", {
      namespace: options.namespace ? [...options.namespace] : null,
    }, options);
    if (!Array.isArray(json.branches)) throw unexpected("list_branches", new JsonContent(json));
    return json.branches.filter(isObject).map((b) => ({
      name: String(b.name),
      parentBranch: typeof b.parent_branch === "string" ? b.parent_branch : null,
      parentVersion: typeof b.parent_version === "number" ? b.parent_version : null,
    }));
  }

  // ------------------------------------------------------------------------------------- sql

  #sqlInput(options: DatasetSqlOptions): BinaryContent {
    const params = options.params === undefined
      ? NO_BYTES
      : options.params instanceof ArrowTable
      ? options.params.ipc
      : ArrowTable.fromRows([options.params as Record<string, unknown>]).ipc;
    return new BinaryContent(params, {
      query: options.query,
      tables: (options.tables ?? []).map((t) =>
        typeof t === "string" ? { name: t } : {
          name: t.name,
          ...(t.namespace ? { namespace: [...t.namespace] } : {}),
          ...(t.alias !== undefined ? { alias: t.alias } : {}),
          ...(t.branch !== undefined ? { branch: t.branch } : {}),
          ...(t.version !== undefined ? { version: t.version } : {}),
        }
      ),
      ...scope(options),
    });
  }

  #sqlQuery(tool: string, content: Content): DatasetSqlQuery {
    const id = content instanceof BinaryContent ? content.headers.query_id : undefined;
    if (typeof id !== "string" || id === "") throw unexpected(tool, content);
    return {
      kind: "query",
      queryId: id,
      columns: ArrowTable.fromIpc((content as BinaryContent).data).columns,
    };
  }

  /**
   * Runs an SQL query over dataset tables and reads the whole result.
   *
   * @param options The query, the tables it reads and its parameters.
   * @returns One table per chunk the server sent (none when no row matched).
   */
  async sql(options: DatasetSqlOptions): Promise<ArrowTable[]> {
    const out: ArrowTable[] = [];
    for await (const table of this.sqlStream(options)) out.push(table);
    return out;
  }

  /**
   * Runs an SQL query and reads its result chunk by chunk; the query is closed at the end.
   *
   * @param options The query, the tables it reads and its parameters.
   * @returns The result's chunks.
   */
  async *sqlStream(options: DatasetSqlOptions): AsyncGenerator<ArrowTable> {
    const result = await this.executeSql(options);
    if (result.kind === "statement") {
      throw new RoomError(
        `SQL statement did not return rows; rows_affected=${result.rowsAffected}`,
        ErrorCode.INVALID_REQUEST,
      );
    }
    try {
      yield* this.readSqlQuery({ queryId: result.queryId, timeout: options.timeout });
    } finally {
      await this.closeSqlQuery({ queryId: result.queryId });
    }
  }

  /**
   * Opens an SQL query that returns rows, for {@linkcode readSqlQuery}.
   *
   * @param options The query, the tables it reads and its parameters.
   * @returns Its id and result columns.
   */
  async openSqlQuery(options: DatasetSqlOptions): Promise<DatasetSqlQuery> {
    return this.#sqlQuery(
      "open_sql_query",
      await this.#invoke("open_sql_query", this.#sqlInput(options), options),
    );
  }

  /**
   * Runs an SQL statement: a query is opened (read it with {@linkcode readSqlQuery}), anything
   * else reports the rows it changed.
   *
   * @param options The statement, the tables it reads and its parameters.
   * @returns The query, or the statement's result.
   */
  async executeSql(options: DatasetSqlOptions): Promise<DatasetSqlExecution> {
    const content = await this.#invoke("execute_sql", this.#sqlInput(options), options);
    if (content instanceof JsonContent && isObject(content.json)) {
      const n = content.json.rows_affected;
      if (content.json.kind !== "statement" || typeof n !== "number") {
        throw unexpected("execute_sql", content);
      }
      return { kind: "statement", rowsAffected: n };
    }
    return this.#sqlQuery("execute_sql", content);
  }

  /**
   * Reads an open query's result, one chunk per pull; reading again goes on where it stopped.
   *
   * @param options The query id.
   * @returns The chunks.
   */
  async *readSqlQuery(
    options: DatasetRequestOptions & { queryId: string },
  ): AsyncGenerator<ArrowTable> {
    const start = { kind: "start", query_id: options.queryId };
    for await (const chunk of this.#read("read_sql_query", start, options)) {
      if (!(chunk instanceof BinaryContent) || chunk.headers.kind !== "data") {
        throw unexpected("read_sql_query", chunk);
      }
      yield ArrowTable.fromIpc(chunk.data);
    }
  }

  /**
   * Releases an open query.
   *
   * @param options The query id.
   */
  async closeSqlQuery(options: DatasetRequestOptions & { queryId: string }): Promise<void> {
    await this.#invoke("close_sql_query", { query_id: options.queryId }, options);
  }

  /**
   * Stops an open query; later reads fail.
   *
   * @param options The query id.
   * @returns `cancelled`, or `not_cancellable` when it was already read to the end or closed.
   */
  async cancelSqlQuery(
    options: DatasetRequestOptions & { queryId: string },
  ): Promise<{ status: DatasetSqlCancelStatus }> {
    const json = await this.#json("cancel_sql_query", { query_id: options.queryId }, options);
    const status = json.status;
    if (status !== "cancelled" && status !== "cancelling" && status !== "not_cancellable") {
      throw unexpected("cancel_sql_query", new JsonContent(json));
    }
    return { status };
  }

  /**
   * Runs an SQL statement to its end without reading rows.
   *
   * @param options The statement, the tables it reads and its parameters.
   * @returns The rows it changed (always 0 on our server, where SQL over datasets only reads).
   */
  async executeSqlStatement(options: DatasetSqlOptions): Promise<number> {
    const content = await this.#invoke(
      "execute_sql_statement",
      this.#sqlInput(options),
      options,
    );
    const n = content instanceof JsonContent && isObject(content.json)
      ? content.json.rows_affected
      : undefined;
    if (typeof n !== "number" || !Number.isInteger(n)) {
      throw unexpected("execute_sql_statement", content);
    }
    return n;
  }
}
