import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { StatementSync } from "node:sqlite";
import { ErrorCode, RoomError } from "@meshagent/api";
import {
  type ColumnSchema,
  columnTypeFromSql,
  decodeArrowSchema,
  encodeArrowSchema,
} from "./arrow_codec.ts";
import {
  checkNewColumns,
  columnDefinition,
  INTERNAL,
  SqliteHandle,
  type TableColumn,
} from "./_sqlite_handle.ts";
import {
  checkFragment,
  checkIdentifier,
  decodeFileSegment,
  encodeFileSegment,
  isBlankSql,
  leadingKeyword,
  quoteIdent,
} from "./_sql_text.ts";
import {
  type Bindable,
  bindArgs,
  type BoundParams,
  decodeEncodedValue,
  decodeParams,
} from "./_sqlite_values.ts";
import {
  asObject,
  describeNamespace,
  invalid,
  type Json,
  readBool,
  readCount,
  readMode,
  readNamespace,
  readStringList,
  requiredString,
} from "./_database_request.ts";
import type {
  CancelResult,
  CountRequest,
  CreateDatabaseRequest,
  CreateTableRequest,
  DeleteRequest,
  DropColumnsRequest,
  DropDatabaseRequest,
  DropTableRequest,
  InspectDatabaseRequest,
  InspectDatabaseResult,
  ListDatabasesRequest,
  ListTablesRequest,
  OpenQueryResult,
  QueryIdRequest,
  RenameTableRequest,
  SearchRequest,
  SqlRequest,
  StatementResult,
  TableInfo,
  TableRequest,
  UpdateRequest,
} from "./room_database_requests.ts";
import { SqliteResultCursor } from "./sqlite_result_cursor.ts";
import { SqlQueries, type SqlQueryEntry } from "./_sql_queries.ts";
import { SqliteTableWriter } from "./sqlite_table_writer.ts";

/** Options of a {@linkcode RoomDatabase}. */
export interface RoomDatabaseOptions {
  /** The room's database folder, e.g. `<dataDir>/rooms/<room>/databases`. */
  dir: string;
  /** Most rows per `data` chunk (default 1024). */
  batchRows?: number;
  /** A `data` chunk ends once its values reach about this many bytes (default 4 MiB). */
  batchBytes?: number;
  /** Most SQL queries open at once in the room (default 256). */
  maxOpenQueries?: number;
  /** SQL queries unused this long are closed when the next one opens (default 15 minutes). */
  queryIdleMs?: number;
  /** How many closed query ids are remembered for `cancel_sql_query` (default 4096). */
  rememberClosedQueries?: number;
  /** A write stream is committed in parts past this many buffered bytes (default 64 MiB). */
  maxBufferedBytes?: number;
  /** Database files kept open at once; idle ones beyond are closed and reopened on use (64). */
  maxOpenDatabases?: number;
  /** SQLite busy timeout in milliseconds (default 5000). */
  busyTimeoutMs?: number;
  /**
   * The largest string or blob a statement may make, in bytes (default 16 MiB, the largest
   * message a client may send; SQLite's own default is 1 GB). Bigger fails with 1002.
   */
  maxValueBytes?: number;
  /** Clock (for tests); default `Date.now`. */
  now?: () => number;
}

// ---------------------------------------------------------------------------------------------

interface Filter {
  sql: string;
  params: BoundParams;
}

/**
 * The SQLite databases of one room (the `sqlite` toolkit's store): one file per database at
 * `<dir>/[<namespace…>/]<name>.sqlite` (names are encoded so they cannot leave `dir`), in WAL
 * mode, opened on first use and kept open until {@linkcode close}.
 *
 * There is one method per `sqlite` request type, named after it, taking the request JSON
 * (snake_case, as on the wire) and validating it (errors are {@linkcode RoomError}s with wire
 * codes: 1002 bad input or SQL (with SQLite's message), 1003 unknown database or table, 1004
 * exists, 1005 constraint conflict, 1006 closed query, 1001 SQL features a client may not
 * use). Values are always bound as parameters and identifiers quoted. Client SQL may not
 * ATTACH other files, run its own transactions, change pragmas or `VACUUM INTO` a file; `where`
 * strings and `{"expression"}` values may only read the table they filter.
 *
 * Streams: `createTable`/`insert` return a {@linkcode SqliteTableWriter}; `search`,
 * `readSqlQuery` return a {@linkcode SqliteResultCursor} whose `next()` gives one Arrow IPC
 * `data` chunk per pull. SQL queries are room-wide: any participant may read, close or cancel
 * them by `query_id`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RoomDatabase } from "./room_database.ts";
 *
 * const dir = Deno.makeTempDirSync();
 * const db = new RoomDatabase({ dir });
 * db.createDatabase({ name: "main", namespace: null, mode: "create" });
 * db.executeSqlStatement({ database: "main", query: "CREATE TABLE t (id INTEGER, name TEXT)" });
 * db.executeSqlStatement({
 *   database: "main",
 *   query: "INSERT INTO t VALUES (?, ?), (?, ?)",
 *   params: [1, "a", 2, "b"],
 * });
 * const cursor = db.search({ database: "main", table: "t", where: { name: "b" } });
 * assert.deepEqual(cursor.nextRows(), [[2n, "b"]]);
 * cursor.close();
 * assert.deepEqual(db.listTables({ database: "main" }), { tables: ["t"] });
 * db.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class RoomDatabase {
  /** The folder holding this room's database files. */
  readonly dir: string;
  readonly #handles = new Map<string, SqliteHandle>();
  readonly #queries: SqlQueries;
  readonly #batchRows: number;
  readonly #batchBytes: number;
  readonly #maxBufferedBytes: number;
  readonly #busyTimeoutMs: number;
  readonly #maxValueBytes: number;
  readonly #maxOpenDatabases: number;
  readonly #now: () => number;
  #closed = false;

  /**
   * Creates the store; nothing is opened or created on disk until first use.
   *
   * @param options The folder and limits.
   */
  constructor(options: RoomDatabaseOptions) {
    this.dir = options.dir;
    this.#batchRows = options.batchRows ?? 1024;
    this.#batchBytes = options.batchBytes ?? 4 * 1024 * 1024;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.#maxValueBytes = options.maxValueBytes ?? 16 * 1024 * 1024;
    this.#maxOpenDatabases = Math.max(1, options.maxOpenDatabases ?? 64);
    this.#now = options.now ?? Date.now;
    this.#queries = new SqlQueries({
      maxOpen: options.maxOpenQueries ?? 256,
      idleMs: options.queryIdleMs ?? 15 * 60_000,
      rememberClosed: options.rememberClosedQueries ?? 4096,
      now: this.#now,
    });
  }

  /**
   * The store of room `room` under a server data folder: `<dataDir>/rooms/<room>/databases`.
   *
   * @param dataDir The server's data folder.
   * @param room A room name that was already validated (see `isValidRoomName`).
   * @param options Limits (everything but `dir`).
   * @returns The store.
   * @throws {RoomError} 1002 when `room` could leave the data folder.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { RoomDatabase } from "./room_database.ts";
   * const db = RoomDatabase.forRoom("/tmp/data", "demo");
   * assert(db.dir.endsWith("/rooms/demo/databases"));
   * db.close();
   * ```
   */
  static forRoom(
    dataDir: string,
    room: string,
    options: Omit<RoomDatabaseOptions, "dir"> = {},
  ): RoomDatabase {
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(room)) {
      throw invalid(`room name ${JSON.stringify(room)} cannot be used as a folder name`);
    }
    return new RoomDatabase({ ...options, dir: join(dataDir, "rooms", room, "databases") });
  }

  // -------------------------------------------------------------------------------------------
  // files and handles

  #ensureOpen(): void {
    if (this.#closed) {
      throw new RoomError("the room database is closed", ErrorCode.INVALID_STATE);
    }
  }

  #folder(namespace: readonly string[] | null): string {
    return join(
      this.dir,
      ...(namespace ?? []).map((segment) => encodeFileSegment(segment, "a namespace segment")),
    );
  }

  #path(name: string, namespace: readonly string[] | null): string {
    return join(this.#folder(namespace), encodeFileSegment(name, "the database name") + ".sqlite");
  }

  #handle(name: string, namespace: string[] | null, create = false): SqliteHandle {
    this.#ensureOpen();
    const path = this.#path(name, namespace);
    const open = this.#handles.get(path);
    if (open !== undefined) {
      // most recently used last, for #trimHandles
      this.#handles.delete(path);
      this.#handles.set(path, open);
      return open;
    }
    if (!existsSync(path)) {
      if (!create) {
        throw new RoomError(
          `database ${JSON.stringify(name)}${describeNamespace(namespace)} does not exist; ` +
            `create it with create_database`,
          ErrorCode.NOT_FOUND,
        );
      }
      mkdirSync(this.#folder(namespace), { recursive: true });
    }
    this.#trimHandles();
    const handle = new SqliteHandle(path, name, namespace, {
      busyTimeoutMs: this.#busyTimeoutMs,
      maxValueBytes: this.#maxValueBytes,
    });
    this.#handles.set(path, handle);
    return handle;
  }

  /** Closes the least recently used idle database files beyond `maxOpenDatabases`. */
  #trimHandles(): void {
    if (this.#handles.size < this.#maxOpenDatabases) return;
    for (const [path, handle] of this.#handles) {
      if (this.#handles.size < this.#maxOpenDatabases) break;
      if (handle.open.size > 0) continue; // a cursor or writer is using it
      handle.close("closed to free a file handle");
      this.#handles.delete(path);
    }
  }

  #exists(name: string, namespace: string[] | null): boolean {
    const path = this.#path(name, namespace);
    return this.#handles.has(path) || existsSync(path);
  }

  #removeDatabase(name: string, namespace: string[] | null, reason: string): void {
    const path = this.#path(name, namespace);
    const handle = this.#handles.get(path);
    if (handle !== undefined) {
      handle.close(reason);
      this.#handles.delete(path);
    }
    for (const suffix of ["", "-wal", "-shm", "-journal"]) {
      rmSync(path + suffix, { force: true });
    }
  }

  #tableHandle(req: Json): { handle: SqliteHandle; table: string } {
    const database = requiredString(req, "database");
    const table = checkIdentifier(req.table, "`table`");
    const handle = this.#handle(database, readNamespace(req));
    return { handle, table: handle.requireTable(table) };
  }

  // -------------------------------------------------------------------------------------------
  // databases

  /**
   * `list_databases`: the databases whose namespace equals `namespace` exactly.
   *
   * @param request `{namespace}`.
   * @returns `{databases}`, sorted by name.
   */
  listDatabases(request: ListDatabasesRequest = {}): { databases: string[] } {
    this.#ensureOpen();
    const req = asObject(request, "list_databases input");
    const folder = this.#folder(readNamespace(req));
    let entries: string[] = [];
    try {
      entries = readdirSync(folder, { withFileTypes: true })
        .filter((entry) => entry.isFile() && entry.name.endsWith(".sqlite"))
        .map((entry) => entry.name);
    } catch {
      entries = [];
    }
    const databases = entries
      .map((file) => decodeFileSegment(file.slice(0, -".sqlite".length)))
      .filter((name): name is string => name !== null)
      .sort();
    return { databases };
  }

  /**
   * `create_database`.
   *
   * @param request `{name, namespace, mode}`.
   * @throws {RoomError} 1004 when it exists and `mode` is `create`.
   */
  createDatabase(request: CreateDatabaseRequest): void {
    const req = asObject(request, "create_database input");
    const name = requiredString(req, "name");
    const namespace = readNamespace(req);
    const mode = readMode(req);
    this.#ensureOpen();
    if (this.#exists(name, namespace)) {
      if (mode === "create_if_not_exists") return;
      if (mode === "create") {
        throw new RoomError(
          `database ${JSON.stringify(name)}${describeNamespace(namespace)} already exists`,
          ErrorCode.ALREADY_EXISTS,
        );
      }
      this.#removeDatabase(name, namespace, "the database was overwritten");
    }
    this.#handle(name, namespace, true);
  }

  /**
   * `drop_database`: closes its open queries and writers and deletes its file.
   *
   * @param request `{name, namespace, ignore_missing}`.
   * @throws {RoomError} 1003 when it does not exist (unless `ignore_missing`).
   */
  dropDatabase(request: DropDatabaseRequest): void {
    const req = asObject(request, "drop_database input");
    const name = requiredString(req, "name");
    const namespace = readNamespace(req);
    const ignoreMissing = readBool(req, "ignore_missing");
    this.#ensureOpen();
    if (!this.#exists(name, namespace)) {
      if (ignoreMissing) return;
      throw new RoomError(
        `database ${JSON.stringify(name)}${describeNamespace(namespace)} does not exist`,
        ErrorCode.NOT_FOUND,
      );
    }
    this.#removeDatabase(name, namespace, "the database was dropped");
  }

  /**
   * `inspect_database`.
   *
   * @param request `{name, namespace}`.
   * @returns `{name, namespace, tables, size_bytes}`.
   */
  inspectDatabase(request: InspectDatabaseRequest): InspectDatabaseResult {
    const req = asObject(request, "inspect_database input");
    const name = requiredString(req, "name");
    const namespace = readNamespace(req);
    const handle = this.#handle(name, namespace);
    return {
      name,
      namespace: req.namespace === undefined ? null : namespace,
      tables: handle.tables().length,
      size_bytes: handle.sizeBytes(),
    };
  }

  // -------------------------------------------------------------------------------------------
  // tables

  /**
   * `list_tables`.
   *
   * @param request `{database, namespace}`.
   * @returns `{tables}`, sorted by name (SQLite's internal tables are left out).
   */
  listTables(request: ListTablesRequest): { tables: string[] } {
    const req = asObject(request, "list_tables input");
    const handle = this.#handle(requiredString(req, "database"), readNamespace(req));
    return { tables: handle.tables() };
  }

  /**
   * `create_table`: checks the start chunk and returns the writer for its `data` chunks.
   *
   * @param request The start chunk headers `{database, name, mode, namespace}`.
   * @param schema The start chunk payload: an Arrow schema, or empty/absent to take the schema
   *   of the first data chunk.
   * @returns The writer; {@linkcode SqliteTableWriter.commit} creates the table.
   * @throws {RoomError} 1004 at once when the table exists and `mode` is `create`.
   */
  createTable(request: CreateTableRequest, schema?: Uint8Array | null): SqliteTableWriter {
    const req = asObject(request, "create_table input");
    const table = checkIdentifier(req.name, "`name`");
    const mode = readMode(req);
    const handle = this.#handle(requiredString(req, "database"), readNamespace(req));
    if (mode === "create" && handle.findTable(table) !== null) {
      throw new RoomError(
        `table ${JSON.stringify(table)} already exists in database ${JSON.stringify(handle.name)}` +
          `; use mode "overwrite" or "create_if_not_exists"`,
        ErrorCode.ALREADY_EXISTS,
      );
    }
    const columns = schema && schema.length > 0 ? decodeArrowSchema(schema) : null;
    return new SqliteTableWriter({
      handle,
      table,
      create: { mode, columns },
      maxBufferedBytes: this.#maxBufferedBytes,
    });
  }

  /**
   * `drop_table`.
   *
   * @param request `{database, name, ignore_missing, namespace}`.
   * @throws {RoomError} 1003 when it does not exist (unless `ignore_missing`); 1006 while a
   *   query on it is open.
   */
  dropTable(request: DropTableRequest): void {
    const req = asObject(request, "drop_table input");
    const table = checkIdentifier(req.name, "`name`");
    const ignoreMissing = readBool(req, "ignore_missing");
    const handle = this.#handle(requiredString(req, "database"), readNamespace(req));
    const found = handle.findTable(table);
    if (found === null) {
      if (ignoreMissing) return;
      handle.requireTable(table);
      return;
    }
    handle.exec(`DROP TABLE ${quoteIdent(found)}`);
  }

  /**
   * `rename_table`.
   *
   * @param request `{database, name, new_name, namespace}`.
   * @throws {RoomError} 1003 when `name` does not exist; 1004 when `new_name` does.
   */
  renameTable(request: RenameTableRequest): void {
    const req = asObject(request, "rename_table input");
    const table = checkIdentifier(req.name, "`name`");
    const newName = checkIdentifier(req.new_name, "`new_name`");
    const handle = this.#handle(requiredString(req, "database"), readNamespace(req));
    const found = handle.requireTable(table);
    const clash = handle.findTable(newName);
    if (clash !== null && clash !== found) {
      throw new RoomError(
        `table ${JSON.stringify(clash)} already exists in database ${JSON.stringify(handle.name)}`,
        ErrorCode.ALREADY_EXISTS,
      );
    }
    handle.exec(`ALTER TABLE ${quoteIdent(found)} RENAME TO ${quoteIdent(newName)}`);
  }

  /**
   * `inspect`: the table's columns as an Arrow schema (columns without a declared type are
   * reported as Utf8).
   *
   * @param request `{database, table, namespace}`.
   * @returns An Arrow IPC stream with the schema and no batches.
   */
  inspect(request: TableRequest): Uint8Array {
    const info = this.inspectTable(request);
    return encodeArrowSchema(
      info.columns.map((column) => ({
        name: column.name,
        type: column.type,
        nullable: column.nullable,
      })),
    );
  }

  /**
   * The table's columns with their declared types, nullability and primary key (what
   * {@linkcode inspect} sends as Arrow, plus what Arrow cannot say).
   *
   * @param request `{database, table, namespace}`.
   * @returns The table description.
   */
  inspectTable(request: TableRequest): TableInfo {
    const { handle, table } = this.#tableHandle(asObject(request, "inspect input"));
    return {
      name: table,
      columns: handle.columns(table).map((column) => ({
        name: column.name,
        type: column.type,
        declared_type: column.declaredType,
        nullable: column.nullable,
        primary_key: column.primaryKey,
      })),
    };
  }

  /**
   * `add_columns`: appends nullable columns.
   *
   * @param request The headers `{database, table, namespace}`.
   * @param schema The payload: an Arrow schema of the new columns (or the columns themselves).
   * @throws {RoomError} 1004 when a column exists.
   */
  addColumns(request: TableRequest, schema: Uint8Array | readonly ColumnSchema[]): void {
    const { handle, table } = this.#tableHandle(asObject(request, "add_columns input"));
    const columns = schema instanceof Uint8Array ? decodeArrowSchema(schema) : [...schema];
    checkNewColumns(columns, "the add_columns schema");
    const existing = new Set(handle.columns(table).map((column) => column.name.toLowerCase()));
    for (const column of columns) {
      if (existing.has(column.name.toLowerCase())) {
        throw new RoomError(
          `column ${JSON.stringify(column.name)} already exists in table ${JSON.stringify(table)}`,
          ErrorCode.ALREADY_EXISTS,
        );
      }
    }
    handle.transaction(() => {
      for (const column of columns) {
        handle.exec(
          `ALTER TABLE ${quoteIdent(table)} ADD COLUMN ${columnDefinition(column, false)}`,
        );
      }
    });
  }

  /**
   * `drop_columns`.
   *
   * @param request `{database, table, columns, namespace}`.
   * @throws {RoomError} 1003 when a column does not exist; 1002 when SQLite refuses (the last
   *   column, a primary key, an indexed column).
   */
  dropColumns(request: DropColumnsRequest): void {
    const req = asObject(request, "drop_columns input");
    const { handle, table } = this.#tableHandle(req);
    const names = readStringList(req, "columns");
    if (names === null || names.length === 0) {
      throw invalid("`columns` must list at least one column");
    }
    const existing = new Map(
      handle.columns(table).map((column) => [column.name.toLowerCase(), column.name]),
    );
    const stored = names.map((name) => {
      const found = existing.get(name.toLowerCase());
      if (found === undefined) {
        throw new RoomError(
          `column ${JSON.stringify(name)} does not exist in table ${JSON.stringify(table)}`,
          ErrorCode.NOT_FOUND,
        );
      }
      return found;
    });
    handle.transaction(() => {
      for (const column of stored) {
        handle.exec(`ALTER TABLE ${quoteIdent(table)} DROP COLUMN ${quoteIdent(column)}`);
      }
    });
  }

  // -------------------------------------------------------------------------------------------
  // rows

  /**
   * `insert`: checks the start chunk and returns the writer for its `data` chunks.
   *
   * @param request The start chunk headers `{database, table, namespace}`.
   * @returns The writer; {@linkcode SqliteTableWriter.commit} writes the rows.
   * @throws {RoomError} 1003 when the database or table does not exist.
   */
  insert(request: TableRequest): SqliteTableWriter {
    const { handle, table } = this.#tableHandle(asObject(request, "insert input"));
    return new SqliteTableWriter({
      handle,
      table,
      create: null,
      maxBufferedBytes: this.#maxBufferedBytes,
    });
  }

  #filter(req: Json, columns: readonly TableColumn[]): Filter {
    const where = req.where;
    const paramsIn = req.params;
    if (where === undefined || where === null || (typeof where === "string" && isBlankSql(where))) {
      return { sql: "", params: { kind: "positional", values: [] } };
    }
    if (typeof where === "string") {
      checkFragment(where, "`where`");
      return { sql: ` WHERE (\n${where}\n)`, params: decodeParams(paramsIn) };
    }
    const obj = asObject(where, "`where`");
    const byName = new Map(columns.map((column) => [column.name.toLowerCase(), column.name]));
    const terms: string[] = [];
    const values: Bindable[] = [];
    for (const [key, encoded] of Object.entries(obj)) {
      const column = byName.get(key.toLowerCase());
      if (column === undefined) {
        throw invalid(`\`where\` names the column ${JSON.stringify(key)}, which does not exist`);
      }
      const value = decodeEncodedValue(encoded, `where.${key}`, true);
      if (value === null) {
        terms.push(`${quoteIdent(column)} IS NULL`);
      } else if (typeof value === "object" && !(value instanceof Uint8Array)) {
        terms.push(
          `${quoteIdent(column)} = (\n${checkFragment(value.expression, `where.${key}`)}\n)`,
        );
      } else {
        terms.push(`${quoteIdent(column)} = ?`);
        values.push(value);
      }
    }
    if (terms.length === 0) return { sql: "", params: { kind: "positional", values: [] } };
    return { sql: ` WHERE ${terms.join(" AND ")}`, params: { kind: "positional", values } };
  }

  /**
   * `update`.
   *
   * @param request `{database, table, where, values:[{column, value_json}], params, namespace}`.
   * @returns `{rows_affected}`.
   */
  update(request: UpdateRequest): { rows_affected: number } {
    const req = asObject(request, "update input");
    const { handle, table } = this.#tableHandle(req);
    const columns = handle.columns(table);
    const byName = new Map(columns.map((column) => [column.name.toLowerCase(), column.name]));
    const assignments = req.values;
    if (!Array.isArray(assignments) || assignments.length === 0) {
      throw invalid("`values` must list at least one {column, value_json}");
    }
    const filter = this.#filter(req, columns);
    const named = filter.params.kind === "named";
    const setTerms: string[] = [];
    const positional: Bindable[] = [];
    const namedValues: Record<string, Bindable> = {};
    assignments.forEach((item: unknown, index: number) => {
      const entry = asObject(item, `values[${index}]`);
      const name = typeof entry.column === "string" ? byName.get(entry.column.toLowerCase()) : null;
      if (name === undefined || name === null) {
        throw invalid(
          `values[${index}].column must name a column of table ${JSON.stringify(table)}`,
        );
      }
      let encoded: unknown = entry.value;
      if (typeof entry.value_json === "string") {
        try {
          encoded = JSON.parse(entry.value_json);
        } catch {
          throw invalid(`values[${index}].value_json is not JSON text`);
        }
      } else if (!("value" in entry)) {
        throw invalid(`values[${index}] needs value_json (JSON text of the value)`);
      }
      const value = decodeEncodedValue(encoded, `values[${index}]`, true);
      if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) {
        setTerms.push(
          `${quoteIdent(name)} = (\n${checkFragment(value.expression, `values[${index}]`)}\n)`,
        );
      } else if (named) {
        namedValues[`__mesh_v${index}`] = value;
        setTerms.push(`${quoteIdent(name)} = :__mesh_v${index}`);
      } else {
        positional.push(value);
        setTerms.push(`${quoteIdent(name)} = ?`);
      }
    });
    const params: BoundParams = filter.params.kind === "named"
      ? { kind: "named", values: { ...filter.params.values, ...namedValues } }
      : { kind: "positional", values: [...positional, ...filter.params.values] };
    const statement = handle.prepare(
      `UPDATE ${quoteIdent(table)} SET ${setTerms.join(", ")}${filter.sql}`,
      { kind: "table", table, write: "update" },
    );
    return { rows_affected: this.#runChanges(handle, statement, params) };
  }

  /**
   * `delete`.
   *
   * @param request `{database, table, where, params, namespace}`.
   * @returns `{rows_affected}`.
   */
  delete(request: DeleteRequest): { rows_affected: number } {
    const req = asObject(request, "delete input");
    const { handle, table } = this.#tableHandle(req);
    const filter = this.#filter(req, handle.columns(table));
    const statement = handle.prepare(
      `DELETE FROM ${quoteIdent(table)}${filter.sql}`,
      { kind: "table", table, write: "delete" },
    );
    return { rows_affected: this.#runChanges(handle, statement, filter.params) };
  }

  /**
   * `count`.
   *
   * @param request `{database, table, where, params, namespace}`.
   * @returns `{count}`.
   */
  count(request: CountRequest): { count: number } {
    const req = asObject(request, "count input");
    const { handle, table } = this.#tableHandle(req);
    const filter = this.#filter(req, handle.columns(table));
    const statement = handle.prepare(
      `SELECT count(*) FROM ${quoteIdent(table)}${filter.sql}`,
      { kind: "table", table, write: null },
    );
    const row = handle.run(() => statement.get(...bindArgs(filter.params))) as unknown as unknown[];
    return { count: Number(row[0]) };
  }

  /**
   * `search`: opens a cursor over the matching rows (insertion order unless `order_by`).
   * Close it when the stream ends.
   *
   * @param request `{database, table, where, params, offset, limit, select, namespace}`.
   * @returns The cursor; `next()` gives one Arrow `data` chunk per pull.
   */
  search(request: SearchRequest): SqliteResultCursor {
    const req = asObject(request, "search input");
    const { handle, table } = this.#tableHandle(req);
    const columns = handle.columns(table);
    const byName = new Map(columns.map((column) => [column.name.toLowerCase(), column]));
    const lookup = (name: string, what: string): TableColumn => {
      const column = byName.get(name.toLowerCase());
      if (column === undefined) {
        throw invalid(
          `${what} names the column ${JSON.stringify(name)}, which table ` +
            `${JSON.stringify(table)} does not have`,
        );
      }
      return column;
    };
    const select = readStringList(req, "select");
    const chosen = select === null ? columns : select.map((name) => lookup(name, "`select`"));
    if (chosen.length === 0) throw invalid("`select` must name at least one column");
    const filter = this.#filter(req, columns);
    const limit = readCount(req, "limit");
    const offset = readCount(req, "offset") ?? 0;
    let order = "";
    const orderBy = req.order_by;
    if (orderBy !== undefined && orderBy !== null) {
      if (!Array.isArray(orderBy)) {
        throw invalid("`order_by` must be a list of {column, descending}");
      }
      order = orderBy.map((item: unknown, index: number) => {
        const term = asObject(item, `order_by[${index}]`);
        if (typeof term.column !== "string") {
          throw invalid(`order_by[${index}].column must be a string`);
        }
        const column = lookup(term.column, "`order_by`");
        return `${quoteIdent(column.name)}${term.descending === true ? " DESC" : ""}`;
      }).join(", ");
    }
    if (order === "") {
      const rowid = handle.rowidName(table, columns);
      if (rowid !== null) order = rowid;
    }
    const sql = `SELECT ${chosen.map((column) => quoteIdent(column.name)).join(", ")} FROM ` +
      `${quoteIdent(table)}${filter.sql}${order ? ` ORDER BY ${order}` : ""}` +
      ` LIMIT ${limit ?? -1} OFFSET ${offset}`;
    const statement = handle.prepare(sql, { kind: "table", table, write: null });
    const rows = handle.run(() => statement.iterate(...bindArgs(filter.params)));
    return new SqliteResultCursor(
      {
        handle,
        rows,
        id: null,
        now: this.#now,
        columns: chosen.map((column) => ({
          name: column.name,
          type: column.type,
          nullable: column.nullable,
        })),
      },
      { batchRows: this.#batchRows, batchBytes: this.#batchBytes },
    );
  }

  // -------------------------------------------------------------------------------------------
  // SQL

  #runChanges(
    handle: SqliteHandle,
    statement: StatementSync,
    params: BoundParams,
    internal = false,
  ): number {
    const before = handle.totalChanges();
    const result = handle.run(
      () => statement.run(...bindArgs(params)),
      internal ? INTERNAL : undefined,
    );
    // DDL reports the changes of the last DML statement; total_changes() tells them apart.
    return handle.totalChanges() === before ? 0 : Number(result.changes);
  }

  /**
   * Prepares the first statement of `sql`; returns it, the text after it, and whether it is a
   * plain VACUUM (which runs with the server's rights: SQLite attaches a scratch database for it).
   */
  #prepareFirst(
    handle: SqliteHandle,
    sql: string,
  ): { statement: StatementSync; rest: string; vacuum: boolean } {
    const statement = handle.prepare(sql);
    const source = statement.sourceSQL ?? "";
    if (!sql.startsWith(source)) {
      throw invalid("the SQL could not be split into statements; send one statement at a time");
    }
    const vacuum = leadingKeyword(source) === "VACUUM";
    if (vacuum && /\binto\b/i.test(source)) {
      throw new RoomError(
        "VACUUM INTO is not allowed: the server manages the database files",
        ErrorCode.PERMISSION_DENIED,
      );
    }
    return { statement, rest: sql.slice(source.length), vacuum };
  }

  #sqlRequest(request: SqlRequest, what: string) {
    const req = asObject(request, `${what} input`);
    const query = req.query;
    if (typeof query !== "string" || isBlankSql(query)) {
      throw invalid("`query` must hold an SQL statement");
    }
    const handle = this.#handle(requiredString(req, "database"), readNamespace(req));
    return {
      handle,
      query,
      params: decodeParams(req.params),
      database: handle.name,
      namespace: handle.namespace === null ? null : [...handle.namespace],
    };
  }

  #openQuery(
    handle: SqliteHandle,
    statement: StatementSync,
    params: BoundParams,
    database: string,
    namespace: string[] | null,
  ): OpenQueryResult {
    const columns: ColumnSchema[] = statement.columns().map((column) => ({
      name: column.name,
      type: columnTypeFromSql(column.type),
    }));
    const rows = handle.run(() => statement.iterate(...bindArgs(params)));
    const id = crypto.randomUUID();
    const cursor = new SqliteResultCursor(
      { handle, rows, columns, id, now: this.#now },
      { batchRows: this.#batchRows, batchBytes: this.#batchBytes },
    );
    this.#queries.add(id, { cursor, database, namespace });
    return { kind: "query", query_id: id, schema: cursor.schema() };
  }

  /**
   * `open_sql_query`: runs one row-returning statement and keeps its cursor under a new
   * `query_id` (room-wide) for `read_sql_query`.
   *
   * @param request `{database, query, params, namespace}`.
   * @returns `{kind: "query", query_id, schema}` (schema = Arrow IPC with no batches).
   * @throws {RoomError} 1002 for bad SQL (with SQLite's message), more than one statement, or
   *   a statement that returns no rows.
   */
  openSqlQuery(request: SqlRequest): OpenQueryResult {
    const { handle, query, params, database, namespace } = this.#sqlRequest(
      request,
      "open_sql_query",
    );
    this.#queries.makeRoom();
    const { statement, rest } = this.#prepareFirst(handle, query);
    if (!isBlankSql(rest)) {
      throw invalid("open_sql_query takes one statement; run scripts with execute_sql_statement");
    }
    if (statement.columns().length === 0) {
      throw invalid(
        "open_sql_query needs a statement that returns rows; use execute_sql_statement",
      );
    }
    return this.#openQuery(handle, statement, params, database, namespace);
  }

  /**
   * `execute_sql`: a statement that returns rows is opened as a query (as
   * {@linkcode openSqlQuery}); anything else runs at once. A script (several statements, no
   * params) runs in one transaction and any rows it returns are discarded.
   *
   * @param request `{database, query, params, namespace}`.
   * @returns `{kind: "query", query_id, schema}` or `{kind: "statement", rows_affected}`.
   */
  executeSql(request: SqlRequest): OpenQueryResult | StatementResult {
    const { handle, query, params, database, namespace } = this.#sqlRequest(
      request,
      "execute_sql",
    );
    const first = this.#prepareFirst(handle, query);
    if (isBlankSql(first.rest)) {
      if (first.statement.columns().length > 0) {
        this.#queries.makeRoom();
        return this.#openQuery(handle, first.statement, params, database, namespace);
      }
      return {
        kind: "statement",
        rows_affected: this.#runChanges(handle, first.statement, params),
      };
    }
    return { kind: "statement", rows_affected: this.#runScript(handle, query, params) };
  }

  /**
   * `execute_sql_statement`: runs a statement (or a script of several, without params, in one
   * transaction) and reports the rows changed.
   *
   * @param request `{database, query, params, namespace}`.
   * @returns `{rows_affected}`.
   */
  executeSqlStatement(request: SqlRequest): { rows_affected: number } {
    const { handle, query, params } = this.#sqlRequest(request, "execute_sql_statement");
    const first = this.#prepareFirst(handle, query);
    if (isBlankSql(first.rest)) {
      return {
        rows_affected: this.#runChanges(handle, first.statement, params, first.vacuum),
      };
    }
    return { rows_affected: this.#runScript(handle, query, params) };
  }

  #runScript(handle: SqliteHandle, query: string, params: BoundParams): number {
    if (params.kind === "named" || params.values.length > 0) {
      throw invalid("params can only be used with a single statement, not a script");
    }
    return handle.transaction(() => {
      let total = 0;
      let rest = query;
      while (!isBlankSql(rest)) {
        const next = this.#prepareFirst(handle, rest);
        total += this.#runChanges(handle, next.statement, params, next.vacuum);
        rest = next.rest;
      }
      return total;
    });
  }

  #query(request: QueryIdRequest, what: string): { id: string; entry: SqlQueryEntry | null } {
    const req = asObject(request, `${what} input`);
    const id = requiredString(req, "query_id");
    this.#ensureOpen();
    return { id, entry: this.#queries.find(id) };
  }

  /**
   * `read_sql_query`: the cursor of an open query; each pull reads on from where the last read
   * stopped. Do not close it when the stream ends (`close_sql_query` does).
   *
   * @param request `{query_id}`.
   * @returns The query's cursor.
   * @throws {RoomError} 1003 unknown id; 1006 when the query was closed or cancelled.
   */
  readSqlQuery(request: QueryIdRequest): SqliteResultCursor {
    const { id, entry } = this.#query(request, "read_sql_query");
    if (entry === null) {
      throw new RoomError(`query ${JSON.stringify(id)} was closed`, ErrorCode.INVALID_STATE);
    }
    if (entry.cursor.state === "closed" || entry.cursor.state === "cancelled") {
      entry.cursor.nextRows(); // throws the reason
    }
    return entry.cursor;
  }

  /**
   * `close_sql_query`: releases the query (its id stays known to `cancel_sql_query`).
   * Closing a closed query does nothing.
   *
   * @param request `{query_id}`.
   * @throws {RoomError} 1003 for an id never opened here.
   */
  closeSqlQuery(request: QueryIdRequest): void {
    const { id, entry } = this.#query(request, "close_sql_query");
    if (entry === null) return;
    entry.cursor.close();
    this.#queries.forget(id);
  }

  /**
   * `cancel_sql_query`: stops an open query (reads then fail with 1006); a query already read to
   * the end, cancelled or closed is `not_cancellable` (not an error).
   *
   * @param request `{query_id}`.
   * @returns `{status}`.
   */
  cancelSqlQuery(request: QueryIdRequest): CancelResult {
    const { entry } = this.#query(request, "cancel_sql_query");
    if (entry === null) return { status: "not_cancellable" };
    return { status: entry.cursor.cancel() };
  }

  /**
   * The database an open SQL query runs on (for grant checks on `read_sql_query`,
   * `close_sql_query` and `cancel_sql_query`).
   *
   * @param queryId The query id.
   * @returns `{database, namespace}`, or null when the id is not open.
   */
  queryTarget(queryId: string): { database: string; namespace: string[] | null } | null {
    const entry = this.#queries.get(queryId);
    return entry === undefined ? null : { database: entry.database, namespace: entry.namespace };
  }

  /** Number of database files currently open. */
  get openDatabases(): number {
    return this.#handles.size;
  }

  /** Number of SQL queries currently open (not closed) in the room. */
  get openQueries(): number {
    return this.#queries.size;
  }

  /**
   * Closes every query, cursor, writer and database file. The store is unusable afterwards
   * (calls fail with 1006). Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queries.closeAll();
    for (const handle of this.#handles.values()) handle.close("the room database closed");
    this.#handles.clear();
  }
}
