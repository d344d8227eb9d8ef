import { join } from "node:path";
import {
  ArrowTable,
  BinaryContent,
  type Content,
  ControlContent,
  EmptyContent,
  ErrorCode,
  ErrorContent,
  JsonContent,
  type JsonObject,
  RoomError,
} from "@meshagent/api";
import { plainValue, sqlLiteral } from "./_dataset_values.ts";
import { checkDatasetGrant, checkDatasetSqlGrant, DATASET_TOOLS } from "./dataset_grants.ts";
import { DatasetSql, type SqlRequest, type SqlTable } from "./_dataset_sql.ts";
import type { DatasetSqlLimits } from "./dataset_sql_limits.ts";
import type {
  DatasetQuery,
  DatasetStore,
  DatasetTableRef,
  DatasetWriter,
} from "./dataset_store.ts";
import { type LanceDatasetStoreOptions, openLanceDatasetStore } from "./lance_dataset_store.ts";
import type { RoomTool, RoomToolkit, ToolContext } from "./room_toolkit.ts";
import type { FileStore } from "./file_store.ts";
import {
  DEFAULT_MAX_TRANSFER_BYTES,
  exportStorage,
  importStorage,
  type StorageTransfer,
} from "./_dataset_storage.ts";

// Wire shapes: protocol-data §3.3, checked against the official npm client 0.39.9
// (`DatasetsClient`, dist/esm/datasets-client.js) by tests/api/datasets_interop_test.ts.

const EMPTY = new EmptyContent();
const NO_BYTES = new Uint8Array(0);
/** [impl] How often watch_table looks for a new version when the caller sent no interval. */
const DEFAULT_POLL_SECONDS = 0.5;
const MIN_POLL_SECONDS = 0.05;

/** What the dataset toolkit needs of its room: its name, data folder and (optionally) files. */
export interface DatasetRoom {
  /** The room name. */
  readonly name: string;
  /** The room's data folder; tables go in its `datasets` folder. */
  readonly dataDir: string;
  /** The room's storage, for `import_storage`/`export_storage` (without it they answer 1007). */
  files?(): Promise<FileStore>;
}

/** Options of {@linkcode datasetToolkit}. */
export interface DatasetToolkitOptions extends Omit<LanceDatasetStoreOptions, "dir"> {
  /**
   * Makes the room's store (default: LanceDB under `<room data>/datasets`). The store is made on
   * the first dataset call, so a room that never uses datasets never loads the engine.
   */
  store?: (room: DatasetRoom) => DatasetStore;
  /** Limits of the SQL tools (time, DuckDB memory and threads, rows read in, open queries). */
  sql?: Partial<DatasetSqlLimits>;
}

function invalid(message: string): RoomError {
  return new RoomError(message, ErrorCode.INVALID_REQUEST);
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function jsonInput(ctx: ToolContext): JsonObject {
  const input = ctx.input;
  if (input instanceof JsonContent && isObject(input.json)) return input.json;
  if (input instanceof BinaryContent) return input.headers;
  if (input instanceof EmptyContent) return {};
  throw invalid(`datasets.${ctx.tool} takes a json object input, not ${input.type}`);
}

function chunkParts(
  content: Content,
): { headers: JsonObject; data: Uint8Array; json: boolean } | null {
  if (content instanceof BinaryContent) {
    return { headers: content.headers, data: content.data, json: false };
  }
  if (content instanceof JsonContent && isObject(content.json)) {
    return { headers: content.json, data: NO_BYTES, json: true };
  }
  return null;
}

function errorChunk(error: unknown): ErrorContent {
  if (error instanceof RoomError) {
    return new ErrorContent(error.message, error.code ?? ErrorCode.OPERATION_FAILED);
  }
  console.error("dataset toolkit: a stream failed:", error);
  return new ErrorContent(
    `internal error: ${error instanceof Error ? error.message : String(error)}`,
    ErrorCode.OPERATION_FAILED,
  );
}

function stringList(value: unknown, key: string): string[] | null {
  if (value === null || value === undefined) return null;
  if (!Array.isArray(value) || !value.every((s) => typeof s === "string")) {
    throw invalid(`${key} must be a list of strings or null`);
  }
  return value as string[];
}

function optionalString(value: unknown, key: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string") throw invalid(`${key} must be a string or null`);
  return value;
}

function optionalInt(value: unknown, key: string): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string" && /^\d+$/.test(value)) return Number(value);
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw invalid(`${key} must be a non-negative integer or null`);
  }
  return value;
}

function requiredString(request: JsonObject, key: string, tool: string): string {
  const value = request[key];
  if (typeof value !== "string" || value === "") {
    throw invalid(`datasets.${tool} needs ${key}: a non-empty string`);
  }
  return value;
}

/**
 * The table a request names. [impl] Branches: only the main branch (`branch` null, or "main")
 * exists on this server; another branch is refused with 1002.
 */
function tableRef(request: JsonObject, key: "name" | "table", tool: string): DatasetTableRef {
  checkBranch(request);
  return {
    namespace: stringList(request.namespace, "namespace"),
    name: requiredString(request, key, tool),
  };
}

function checkBranch(request: JsonObject): void {
  const branch = optionalString(request.branch, "branch");
  if (branch !== null && branch !== "main") {
    throw invalid(
      `branch ${JSON.stringify(branch)} does not exist: this server keeps the main branch only ` +
        `(send branch null)`,
    );
  }
}

function metadataPairs(value: unknown): Record<string, string> | null {
  if (value === null || value === undefined) return null;
  if (!Array.isArray(value)) throw invalid(`metadata must be a list of {key, value} pairs or null`);
  const out: Record<string, string> = {};
  for (const item of value) {
    if (!isObject(item) || typeof item.key !== "string") {
      throw invalid(`each metadata entry must be {"key": string, "value": string}`);
    }
    out[item.key] = typeof item.value === "string" ? item.value : JSON.stringify(item.value);
  }
  return out;
}

function searchQuery(request: JsonObject): DatasetQuery {
  const vector = request.vector;
  if (
    vector !== null && vector !== undefined &&
    (!Array.isArray(vector) || !vector.every((x) => typeof x === "number" && Number.isFinite(x)))
  ) {
    throw invalid("vector must be a list of numbers or null");
  }
  const where = request.where;
  if (where !== null && where !== undefined && typeof where !== "string") {
    throw invalid("where must be an SQL boolean expression (a string) or null");
  }
  return {
    where: typeof where === "string" && where.trim() !== "" ? where : null,
    vector: (vector as number[] | null | undefined) ?? null,
    text: optionalString(request.text, "text"),
    textColumns: stringList(request.text_columns, "text_columns"),
    select: stringList(request.select, "select"),
    offset: optionalInt(request.offset, "offset"),
    limit: optionalInt(request.limit, "limit"),
    version: optionalInt(request.version, "version"),
  };
}

/** JSON rows (`{"kind": "rows", "rows": [{"columns": [{name, value}]}]}`) → an IPC stream. */
function rowsChunk(headers: JsonObject): Uint8Array {
  if (!Array.isArray(headers.rows)) throw invalid(`a {"kind": "rows"} chunk needs rows: […]`);
  const rows = headers.rows.map((row, r) => {
    if (!isObject(row) || !Array.isArray(row.columns)) {
      throw invalid(`rows[${r}] must be {"columns": [{"name", "value"}]}`);
    }
    const out: Record<string, unknown> = {};
    for (const column of row.columns) {
      if (!isObject(column) || typeof column.name !== "string") {
        throw invalid(`rows[${r}].columns: each needs a string name`);
      }
      out[column.name] = plainValue(column.value, `rows[${r}].${column.name}`);
    }
    return out;
  });
  return ArrowTable.fromRows(rows).ipc;
}

/**
 * The `open_sql_query`/`execute_sql`/`execute_sql_statement` request: `B{query, tables, namespace,
 * branch}` + an Arrow IPC table of parameters (or nothing). A table is a name or `{name,
 * namespace?, alias?, branch?, version?}`; without its own namespace it is in the request's.
 */
function sqlRequest(request: JsonObject, ctx: ToolContext): SqlRequest {
  checkBranch(request);
  const query = requiredString(request, "query", ctx.tool);
  const namespace = stringList(request.namespace, "namespace");
  const raw = request.tables ?? [];
  if (!Array.isArray(raw)) {
    throw invalid(`datasets.${ctx.tool}: tables must be a list of names or {name, alias?, …}`);
  }
  const tables = raw.map((item, i): SqlTable => {
    const t: JsonObject = typeof item === "string" ? { name: item } : isObject(item) ? item : {};
    const name = requiredString(t, "name", `${ctx.tool} tables[${i}]`);
    checkBranch(t);
    return {
      ref: {
        namespace: t.namespace == null ? namespace : stringList(t.namespace, "namespace"),
        name,
      },
      alias: optionalString(t.alias, `tables[${i}].alias`) ?? name,
      version: optionalInt(t.version, `tables[${i}].version`),
    };
  });
  const params = ctx.input instanceof BinaryContent ? ctx.input.data : NO_BYTES;
  return { query, tables, params };
}

type Unary = (store: DatasetStore, request: JsonObject, ctx: ToolContext) => Promise<Content>;

/** The unary tools: request → store call → the reply shape of §3.3.2. */
const UNARY: Readonly<Record<string, Unary>> = {
  async list_tables(store, r) {
    checkBranch(r);
    return new JsonContent({
      tables: await store.listTables(stringList(r.namespace, "namespace")),
    });
  },
  async drop_table(store, r) {
    const ref = tableRef(r, "name", "drop_table");
    if (!(await store.dropTable(ref)) && r.ignore_missing !== true) {
      throw new RoomError(
        `dataset table ${JSON.stringify(ref.name)} was not found (send ignore_missing to skip)`,
        ErrorCode.NOT_FOUND,
      );
    }
    return EMPTY;
  },
  async rename_table(store, r) {
    await store.renameTable(
      tableRef(r, "name", "rename_table"),
      requiredString(r, "new_name", "rename_table"),
    );
    return EMPTY;
  },
  async inspect(store, r) {
    const bytes = await store.inspect(
      tableRef(r, "table", "inspect"),
      optionalInt(r.version, "version"),
    );
    return new BinaryContent(bytes, { kind: "schema" });
  },
  async stats(store, r) {
    const stats = await store.stats(
      tableRef(r, "table", "stats"),
      optionalInt(r.version, "version"),
    );
    return new JsonContent(stats as JsonObject);
  },
  async optimize(store, r) {
    const config = r.config === null || r.config === undefined
      ? null
      : isObject(r.config)
      ? r.config
      : (() => {
        throw invalid("config must be an object or null");
      })();
    const result = await store.optimize(tableRef(r, "table", "optimize"), config);
    return new JsonContent({
      compaction: result.compaction,
      optimized_indices: true,
      cleanup: result.cleanup,
    } as JsonObject);
  },
  async restore(store, r) {
    const version = optionalInt(r.version, "version");
    if (version === null) throw invalid("datasets.restore needs version: an integer");
    await store.restore(tableRef(r, "table", "restore"), version);
    return EMPTY;
  },
  async list_versions(store, r) {
    const versions = await store.listVersions(tableRef(r, "table", "list_versions"));
    return new JsonContent({
      versions: versions.map((v) => ({
        version: v.version,
        timestamp: v.timestamp.toISOString(),
        metadata_json: JSON.stringify(v.metadata),
      })),
    });
  },
  async update(store, r) {
    const ref = tableRef(r, "table", "update");
    if (!Array.isArray(r.values) || r.values.length === 0) {
      throw invalid(`datasets.update needs values: [{"column", "value_json"}, …]`);
    }
    const values = r.values.map((item, i): [string, string] => {
      if (
        !isObject(item) || typeof item.column !== "string" || typeof item.value_json !== "string"
      ) {
        throw invalid(`values[${i}] must be {"column": string, "value_json": JSON text}`);
      }
      let decoded: unknown;
      try {
        decoded = JSON.parse(item.value_json);
      } catch {
        throw invalid(`values[${i}].value_json is not JSON text`);
      }
      return [item.column, sqlLiteral(decoded, `values.${item.column}`)];
    });
    const where = optionalString(r.where, "where");
    await store.update(ref, where, values);
    return EMPTY;
  },
  async delete(store, r) {
    await store.delete(tableRef(r, "table", "delete"), optionalString(r.where, "where"));
    return EMPTY;
  },
  async count(store, r) {
    return new JsonContent({
      count: await store.count(tableRef(r, "table", "count"), searchQuery(r)),
    });
  },
  async add_columns(store, r, ctx) {
    const ref = tableRef(r, "table", "add_columns");
    if (ctx.input instanceof BinaryContent) {
      if (ctx.input.data.length === 0) {
        throw invalid("add_columns: send the new columns' Arrow schema");
      }
      await store.addColumns(ref, ctx.input.data);
      return EMPTY;
    }
    if (!Array.isArray(r.columns) || r.columns.length === 0) {
      throw invalid(`datasets.add_columns needs columns: [{"name", "value_sql"}, …]`);
    }
    const columns = r.columns.map((c, i) => {
      if (!isObject(c) || typeof c.name !== "string" || typeof c.value_sql !== "string") {
        throw invalid(`columns[${i}] must be {"name": string, "value_sql": SQL text}`);
      }
      return { name: c.name, sql: c.value_sql };
    });
    await store.addColumns(ref, columns);
    return EMPTY;
  },
  async drop_columns(store, r) {
    const columns = stringList(r.columns, "columns");
    if (!columns || columns.length === 0) throw invalid("datasets.drop_columns needs columns");
    await store.dropColumns(tableRef(r, "table", "drop_columns"), columns);
    return EMPTY;
  },
  async update_column_metadata(store, r) {
    await store.updateColumnMetadata(
      tableRef(r, "table", "update_column_metadata"),
      requiredString(r, "column", "update_column_metadata"),
      metadataPairs(r.metadata) ?? {},
    );
    return EMPTY;
  },
  async create_index(store, r) {
    const ref = tableRef(r, "table", "create_index");
    const config = r.config;
    if (!isObject(config)) {
      throw invalid(`datasets.create_index needs config: {column, index_type}`);
    }
    const column = Array.isArray(config.column) && config.column.length === 1
      ? config.column[0]
      : config.column;
    if (typeof column !== "string" || column === "") {
      throw invalid("create_index: config.column must name one column");
    }
    if (typeof config.index_type !== "string") {
      throw invalid("create_index: config.index_type must be a string such as BTREE or IVF_PQ");
    }
    const { column: _c, index_type: _t, name, replace, ...options } = config;
    await store.createIndex(ref, {
      column,
      indexType: config.index_type,
      name: typeof name === "string" && name !== "" ? name : `${column}_idx`,
      replace: replace !== false,
      options,
    });
    return EMPTY;
  },
  async drop_index(store, r) {
    await store.dropIndex(
      tableRef(r, "table", "drop_index"),
      requiredString(r, "name", "drop_index"),
    );
    return EMPTY;
  },
  async list_indexes(store, r) {
    const indexes = await store.listIndexes(
      tableRef(r, "table", "list_indexes"),
      optionalInt(r.version, "version"),
    );
    return new JsonContent({
      indexes: indexes.map((i) => ({
        name: i.name,
        columns: i.columns,
        type: i.type,
        fields: [],
        type_url: i.typeUrl,
        num_rows_indexed: i.numRowsIndexed,
        num_segments: i.numSegments,
        total_size_bytes: i.totalSizeBytes,
        details_json: JSON.stringify(i.details),
        statistics_json: JSON.stringify(i.statistics),
      })),
    } as JsonObject);
  },
  list_branches(_store, r) {
    stringList(r.namespace, "namespace");
    return Promise.resolve(
      new JsonContent({
        branches: [{
          name: "main",
          parent_branch: null,
          parent_version: null,
          created_at: null,
          manifest_size: null,
        }],
      }),
    );
  },
  create_branch() {
    return Promise.reject(
      invalid("this server keeps the main branch only: create_branch is not supported [impl]"),
    );
  },
  delete_branch() {
    return Promise.reject(
      invalid("this server keeps the main branch only: delete_branch is not supported [impl]"),
    );
  },
};

/** The write streams and how each starts its writer. */
const WRITES: Readonly<
  Record<
    string,
    (store: DatasetStore, start: JsonObject, schema: Uint8Array) => Promise<DatasetWriter>
  >
> = {
  create_table: (store, s, schema) =>
    store.createTable(tableRef(s, "name", "create_table"), {
      mode: (s.mode ?? "create") as "create",
      schema: schema.length > 0 ? schema : null,
      metadata: metadataPairs(s.metadata),
    }),
  insert: (store, s) => store.insert(tableRef(s, "table", "insert")),
  merge: (store, s) => store.merge(tableRef(s, "table", "merge"), requiredString(s, "on", "merge")),
};

/**
 * Reads the start chunk of a streamed call (sent right after the invoke, before the `open`
 * answer); errors here go back as the invoke's error response.
 */
async function startChunk(
  ctx: ToolContext,
  input: AsyncIterator<Content>,
): Promise<{ headers: JsonObject; data: Uint8Array; json: boolean }> {
  if (!(ctx.input instanceof ControlContent && ctx.input.method === "open")) {
    throw invalid(
      `datasets.${ctx.tool} is a stream: invoke it with a control open input and a start chunk`,
    );
  }
  const first = await input.next();
  if (first.done) throw invalid(`datasets.${ctx.tool}: the stream ended before its start chunk`);
  const parts = chunkParts(first.value);
  if (parts === null || (parts.headers.kind !== undefined && parts.headers.kind !== "start")) {
    throw invalid(`datasets.${ctx.tool}: the first chunk must be {"kind": "start", …}`);
  }
  return parts;
}

/** The pulls a write stream keeps outstanding: the caller's `pull_window`, 1 to 8 (default 1). */
function pullWindow(value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value)) return 1;
  return Math.min(8, Math.max(1, value));
}

function pull(json: boolean): Content {
  return json ? new JsonContent({ kind: "pull" }) : new BinaryContent(NO_BYTES, { kind: "pull" });
}

/**
 * The built-in `dataset` toolkit (protocol-data §3.3): the room's versioned tables, kept by a
 * {@linkcode DatasetStore} (LanceDB under `<room data>/datasets` by default, loaded on the first
 * call). Every call is checked against the caller's `api.dataset` grant
 * ({@linkcode checkDatasetGrant}) first.
 *
 * - `create_table`, `insert`, `merge` are write streams: start → `pull` → one Arrow IPC (or JSON
 *   rows) `data` chunk per pull → the caller's `close` commits them as one table version →
 *   `close`. A stream cut before its close leaves the table as it was.
 * - `search` is a read stream: each `pull` gets the next Arrow batch, `close` when exhausted
 *   (no `data` chunk at all when nothing matches). `watch_table` answers its first pull with
 *   `{"kind": "ready"}` and each later one when the table has a new version.
 * - The unary tools answer with the exact shapes of §3.3.2.
 *
 * - The SQL tools (`open_sql_query`, `execute_sql`, `execute_sql_statement`, `read_sql_query`,
 *   `close_sql_query`, `cancel_sql_query`) run one read-only statement on DuckDB (loaded on the
 *   first SQL call) over copies of the tables the request names (`tables`, at their `version`,
 *   under their `alias` or name), each query in its own in-memory database with a time limit,
 *   DuckDB memory and thread limits and a cap on the rows read in (`options.sql`). Results
 *   come back as Arrow IPC like the sqlite toolkit's. A statement that would change data
 *   answers 1002 pointing at insert/update/delete/merge; each table needs `read` in the grant.
 *
 * - `import_storage` reads a file of the room's storage (CSV, TSV, JSON lines or array, Parquet
 *   through DuckDB's readers in a sandbox that sees one private temp copy only; Arrow IPC file
 *   or stream) into a table as one version (`create`, `replace` = overwrite, `merge` on `on`),
 *   in chunks of `batch_size` rows (default 10000). `export_storage` writes a table (at
 *   `version`) to a storage file (CSV, TSV, JSON lines, Parquet through DuckDB's COPY; Arrow
 *   as an IPC file), whole or not at all. Both need the storage grant on the path as well
 *   (read for import, write for export); an import that creates or replaces needs `alter`.
 *   Files and tables larger than `maxWriteBytes` are refused (1002); `excel` answers 1002.
 *
 * [impl] Not served: branches other than main.
 *
 * @param room The room.
 * @param options The store and its limits.
 * @returns The toolkit instance of that room.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { datasetToolkit, Room } from "@meshagent/server";
 * const dataDir = await Deno.makeTempDir();
 * const room = new Room({
 *   name: "demo",
 *   url: "ws://x/rooms/demo",
 *   dataDir,
 *   toolkits: [(r) => datasetToolkit(r)],
 * });
 * assert(room.tool("dataset", "search") !== undefined);
 * await room.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export function datasetToolkit(
  room: DatasetRoom,
  options: DatasetToolkitOptions = {},
): RoomToolkit {
  let store: DatasetStore | undefined;
  let closed = false;
  const open = (): DatasetStore => {
    if (closed) throw new RoomError("the room is closing", ErrorCode.INVALID_STATE);
    return store ??= options.store?.(room) ??
      openLanceDatasetStore({ ...options, dir: join(room.dataDir, "datasets") });
  };
  const grant = (ctx: ToolContext, request: JsonObject): void => {
    const denied = checkDatasetGrant(ctx.scope, ctx.tool, request);
    if (denied) throw denied;
  };
  const sql = new DatasetSql(open, options.sql);
  /** An open query by the request's `query_id`, after the grant check on its tables. */
  const sqlQuery = (ctx: ToolContext, request: JsonObject) => {
    grant(ctx, request);
    const id = requiredString(request, "query_id", ctx.tool);
    const query = sql.find(id);
    const denied = query &&
      checkDatasetSqlGrant(ctx.scope, ctx.tool, query.tables.map((t) => t.ref));
    if (denied) throw denied;
    return { id, query };
  };
  const sqlOpen = (statement: boolean): RoomTool => async (ctx) => {
    const request = jsonInput(ctx);
    grant(ctx, request);
    const parsed = sqlRequest(request, ctx);
    const denied = checkDatasetSqlGrant(ctx.scope, ctx.tool, parsed.tables.map((t) => t.ref));
    if (denied) throw denied;
    open();
    const result = await sql.open(parsed, statement);
    if ("rowsAffected" in result) return new JsonContent({ rows_affected: result.rowsAffected });
    return new BinaryContent(result.schema, { kind: "query", query_id: result.queryId });
  };
  const SQL_TOOLS: Readonly<Record<string, RoomTool>> = {
    open_sql_query: sqlOpen(false),
    // [impl] Every dataset SQL statement reads, so execute_sql always answers with a query.
    execute_sql: sqlOpen(false),
    execute_sql_statement: sqlOpen(true),
    close_sql_query: (ctx) => {
      const { id } = sqlQuery(ctx, jsonInput(ctx));
      sql.close(id);
      return EMPTY;
    },
    cancel_sql_query: (ctx) => {
      const { id } = sqlQuery(ctx, jsonInput(ctx));
      return new JsonContent({ status: sql.cancel(id) });
    },
    read_sql_query: async (ctx) => {
      const input = ctx.inputStream[Symbol.asyncIterator]();
      const start = await startChunk(ctx, input);
      const { query } = sqlQuery(ctx, start.headers);
      if (query === null) {
        throw new RoomError(
          "the SQL query was closed; open it again (open_sql_query)",
          ErrorCode.INVALID_STATE,
        );
      }
      return (async function* (): AsyncGenerator<Content> {
        try {
          while (true) {
            const next = await input.next();
            if (next.done) return; // the caller closed its input or left; the query stays open
            const parts = chunkParts(next.value);
            if (parts === null || parts.headers.kind !== "pull") {
              throw invalid(`datasets.read_sql_query: expected a {"kind": "pull"} chunk or close`);
            }
            const batch = await query.next();
            if (batch === null) return;
            yield new BinaryContent(batch, { kind: "data" });
          }
        } catch (error) {
          yield errorChunk(error);
        }
      })();
    },
  };

  const unary = (handler: Unary): RoomTool => async (ctx) => {
    const request = jsonInput(ctx);
    grant(ctx, request);
    return await handler(open(), request, ctx);
  };

  const writeStream: RoomTool = async (ctx) => {
    const input = ctx.inputStream[Symbol.asyncIterator]();
    const start = await startChunk(ctx, input);
    grant(ctx, start.headers);
    const writer = await WRITES[ctx.tool](open(), start.headers, start.data);
    return (async function* (): AsyncGenerator<Content> {
      try {
        // [impl] A caller that names `pull_window` (our DatasetsClient) gets that many pulls up
        // front (1–8): its next chunks travel while one is written. The official client takes
        // one pull per chunk, so without the field a stream keeps exactly one outstanding.
        const window = pullWindow(start.headers.pull_window);
        for (let i = 0; i < window; i++) yield pull(start.json);
        while (true) {
          const next = await input.next();
          if (next.done) break;
          const parts = chunkParts(next.value);
          if (parts?.headers.kind === "data" && !parts.json) {
            await writer.write(parts.data);
          } else if (parts?.headers.kind === "rows") {
            await writer.write(rowsChunk(parts.headers));
          } else {
            throw invalid(
              `datasets.${ctx.tool}: expected a {"kind": "data"} chunk with Arrow IPC bytes, a ` +
                `{"kind": "rows"} chunk, or close; got ${next.value.type}`,
            );
          }
          yield pull(start.json);
        }
        // The input ends at the caller's close, or at its disconnect: only a close commits.
        if (ctx.signal.aborted) return;
        await writer.commit();
      } catch (error) {
        yield errorChunk(error);
      } finally {
        writer.abort();
      }
    })();
  };

  const searchStream: RoomTool = async (ctx) => {
    const input = ctx.inputStream[Symbol.asyncIterator]();
    const start = await startChunk(ctx, input);
    grant(ctx, start.headers);
    const ref = tableRef(start.headers, "table", "search");
    const query = searchQuery(start.headers);
    const results = open().search(ref, query)[Symbol.asyncIterator]();
    return (async function* (): AsyncGenerator<Content> {
      try {
        while (true) {
          const next = await input.next();
          if (next.done) return; // the caller closed its input or left
          const parts = chunkParts(next.value);
          if (parts === null || parts.headers.kind !== "pull") {
            throw invalid(`datasets.search: expected a {"kind": "pull"} chunk or close`);
          }
          const batch = await results.next();
          if (batch.done) return;
          yield new BinaryContent(batch.value, { kind: "data" });
        }
      } catch (error) {
        yield errorChunk(error);
      } finally {
        await results.return?.();
      }
    })();
  };

  const watchStream: RoomTool = async (ctx) => {
    const input = ctx.inputStream[Symbol.asyncIterator]();
    const start = await startChunk(ctx, input);
    grant(ctx, start.headers);
    const ref = tableRef(start.headers, "table", "watch_table");
    const s = open();
    const seconds = typeof start.headers.poll_interval_seconds === "number"
      ? Math.max(MIN_POLL_SECONDS, start.headers.poll_interval_seconds)
      : DEFAULT_POLL_SECONDS;
    let version = await s.version(ref);
    return (async function* (): AsyncGenerator<Content> {
      try {
        let first = true;
        while (true) {
          const next = await input.next();
          if (next.done) return;
          const parts = chunkParts(next.value);
          if (parts === null || parts.headers.kind !== "pull") {
            throw invalid(`datasets.watch_table: expected a {"kind": "pull"} chunk or close`);
          }
          if (first) {
            first = false;
            yield new JsonContent({ kind: "ready", phase: "initial", version });
            continue;
          }
          // Wait for a new version (or the caller leaving).
          while (!ctx.signal.aborted) {
            await sleep(seconds * 1000, ctx.signal);
            const now = await s.version(ref).catch(() => version);
            if (now === version) continue;
            const schema = await s.inspect(ref, null);
            yield new BinaryContent(schema, {
              kind: "data",
              phase: "change",
              version: now,
              change_type: "version",
              begin_version: version,
              end_version: now,
            });
            version = now;
            break;
          }
          if (ctx.signal.aborted) return;
        }
      } catch (error) {
        if (!ctx.signal.aborted) yield errorChunk(error);
      }
    })();
  };

  const transfer = (
    run: (t: StorageTransfer, request: JsonObject) => Promise<void>,
  ): RoomTool =>
  async (ctx) => {
    const request = jsonInput(ctx);
    grant(ctx, request);
    checkBranch(request);
    if (!room.files) {
      throw new RoomError(
        `datasets.${ctx.tool} needs the room's storage, which this room does not have`,
        ErrorCode.DEPENDENCY_MISSING,
      );
    }
    await run({
      store: open(),
      files: await room.files(),
      scope: ctx.scope,
      maxBytes: options.maxWriteBytes ?? DEFAULT_MAX_TRANSFER_BYTES,
    }, request);
    return EMPTY;
  };
  const STORAGE_TOOLS: Readonly<Record<string, RoomTool>> = {
    import_storage: transfer(importStorage),
    export_storage: transfer(exportStorage),
  };

  const tools: Record<string, RoomTool> = {};
  for (const tool of Object.keys(DATASET_TOOLS)) {
    tools[tool] = tool in WRITES
      ? writeStream
      : tool === "search"
      ? searchStream
      : tool === "watch_table"
      ? watchStream
      : SQL_TOOLS[tool] ?? STORAGE_TOOLS[tool] ?? unary(UNARY[tool]);
  }

  return {
    name: "dataset",
    surface: "dataset",
    tools,
    async close(): Promise<void> {
      closed = true;
      sql.closeAll();
      const closing = store;
      store = undefined;
      await closing?.close();
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
