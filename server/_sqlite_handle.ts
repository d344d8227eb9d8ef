// Private: one open SQLite database file of a room, with the authorizer that keeps client SQL
// inside that file, and the SQLite error → RoomError mapping.

import { constants, DatabaseSync, type StatementSync } from "node:sqlite";
import { ErrorCode, RoomError } from "@meshagent/api";
import {
  type ColumnSchema,
  type ColumnType,
  columnTypeFromSql,
  sqlTypeFor,
} from "./arrow_codec.ts";
import { checkIdentifier, isBlankSql, quoteIdent } from "./_sql_text.ts";

/**
 * Who is preparing a statement:
 * - `internal`: the server's own statements (pragmas, transactions);
 * - `user`: client SQL (`execute_sql` …): no ATTACH/DETACH, no transactions, read-only pragmas;
 * - `table`: a statement the server built around client fragments (`where`, expressions) for one
 *   table: it may only read that table (triggers aside) and do `write` to it.
 */
export type Policy =
  | { kind: "internal" }
  | { kind: "user" }
  | { kind: "table"; table: string; write: "update" | "delete" | null };

/** The server's own statements. */
export const INTERNAL: Policy = { kind: "internal" };
const USER: Policy = { kind: "user" };

/** Pragmas client SQL may run: all read-only (or per-statement) ones. */
const READ_ONLY_PRAGMAS = new Set([
  "table_info",
  "table_xinfo",
  "table_list",
  "index_list",
  "index_info",
  "index_xinfo",
  "foreign_key_list",
  "foreign_key_check",
  "collation_list",
  "function_list",
  "pragma_list",
  "module_list",
  "integrity_check",
  "quick_check",
  "page_count",
  "page_size",
  "freelist_count",
  "data_version",
  "compile_options",
  "encoding",
  "user_version",
  "application_id",
  "schema_version",
]);

/** One column as `PRAGMA table_xinfo` reports it. */
export interface TableColumn {
  /** Column name. */
  name: string;
  /** Declared type, as written at creation ("" when none). */
  declaredType: string;
  /** Our column type (null when the declared type is empty or unknown). */
  type: ColumnType | null;
  /** False when the column is NOT NULL. */
  nullable: boolean;
  /** 1-based position in the primary key, 0 when not part of it. */
  primaryKey: number;
}

/** Something open on a database that must end when the database closes or is dropped. */
export interface Closable {
  /** Ends it; `reason` says why (shown to whoever uses it next). */
  abandon(reason: string): void;
}

/** The open connection to one room database file. */
export class SqliteHandle {
  /** Database name. */
  readonly name: string;
  /** Namespace (null = root). */
  readonly namespace: readonly string[] | null;
  /** File path. */
  readonly path: string;
  /** Cursors and writers to end on close. */
  readonly open: Set<Closable> = new Set();
  readonly #db: DatabaseSync;
  #policy: Policy = USER;
  #denied: RoomError | null = null;
  #closed = false;

  constructor(
    path: string,
    name: string,
    namespace: readonly string[] | null,
    limits: { busyTimeoutMs: number; maxValueBytes: number },
  ) {
    this.path = path;
    this.name = name;
    this.namespace = namespace;
    this.#db = new DatabaseSync(path, { enableForeignKeyConstraints: true });
    try {
      this.#db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(limits.busyTimeoutMs))}`);
      // SQLITE_LIMIT_LENGTH: no value bigger than a client could be sent in one message.
      this.#db.limits.length = Math.max(1, Math.floor(limits.maxValueBytes));
      this.#db.exec("PRAGMA journal_mode = WAL");
      this.#db.exec("PRAGMA synchronous = NORMAL");
      this.#db.enableDefensive(true);
      this.#db.setAuthorizer((action, a1, a2, _db, trigger) =>
        this.#authorize(action, a1, a2, trigger)
      );
    } catch (error) {
      this.#db.close();
      throw sqliteError(error, null);
    }
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Throws 1003 when the database was dropped or closed. */
  ensureOpen(): void {
    if (this.#closed) {
      throw new RoomError(
        `database ${JSON.stringify(this.name)} was dropped or closed`,
        ErrorCode.NOT_FOUND,
      );
    }
  }

  #authorize(
    action: number,
    a1: string | null,
    a2: string | null,
    trigger: string | null,
  ): number {
    const policy = this.#policy;
    if (policy.kind === "internal") return constants.SQLITE_OK;
    const deny = (message: string, code: number): number => {
      this.#denied ??= new RoomError(message, code);
      return constants.SQLITE_DENY;
    };
    switch (action) {
      case constants.SQLITE_ATTACH:
      case constants.SQLITE_DETACH:
        return deny(
          "ATTACH and DETACH are not allowed: each room database is its own file",
          ErrorCode.PERMISSION_DENIED,
        );
      case constants.SQLITE_TRANSACTION:
      case constants.SQLITE_SAVEPOINT:
        return deny(
          "transactions are managed by the server: a multi-statement query runs in one " +
            "transaction; do not send BEGIN, COMMIT, ROLLBACK or SAVEPOINT",
          ErrorCode.PERMISSION_DENIED,
        );
      case constants.SQLITE_PRAGMA:
        if (a1 !== null && READ_ONLY_PRAGMAS.has(a1.toLowerCase())) break;
        return deny(
          `PRAGMA ${a1 ?? ""} is not allowed; only read-only pragmas such as table_info work`,
          ErrorCode.PERMISSION_DENIED,
        );
      case constants.SQLITE_FUNCTION:
        if (a2 !== null && a2.toLowerCase() === "load_extension") {
          return deny("load_extension() is not allowed", ErrorCode.PERMISSION_DENIED);
        }
        break;
    }
    if (policy.kind !== "table" || trigger !== null) return constants.SQLITE_OK;
    // A statement built around client fragments for one table.
    const sameTable = a1 !== null && a1.toLowerCase() === policy.table.toLowerCase();
    switch (action) {
      case constants.SQLITE_SELECT:
      case constants.SQLITE_FUNCTION:
        return constants.SQLITE_OK;
      case constants.SQLITE_READ:
        if (sameTable) return constants.SQLITE_OK;
        return deny(
          `this expression may only use columns of table ${JSON.stringify(policy.table)} ` +
            `(it reads ${JSON.stringify(a1)}); use execute_sql for queries across tables`,
          ErrorCode.PERMISSION_DENIED,
        );
      case constants.SQLITE_UPDATE:
        if (sameTable && policy.write === "update") return constants.SQLITE_OK;
        break;
      case constants.SQLITE_DELETE:
        if (sameTable && policy.write === "delete") return constants.SQLITE_OK;
        break;
    }
    return deny(
      "this expression tries to do more than filter or compute values; use execute_sql",
      ErrorCode.PERMISSION_DENIED,
    );
  }

  /**
   * Prepares `sql` under `policy` (errors become RoomErrors, denials name what was refused).
   */
  prepare(sql: string, policy: Policy = USER): StatementSync {
    this.ensureOpen();
    // node:sqlite returns a null statement for text without a statement (and stops reading at
    // NUL), and touching that statement crashes the process: refuse both before SQLite sees them.
    if (sql.includes("\0")) {
      throw new RoomError("SQL must not contain NUL characters", ErrorCode.INVALID_REQUEST);
    }
    if (isBlankSql(sql)) {
      throw new RoomError("the SQL holds no statement", ErrorCode.INVALID_REQUEST);
    }
    this.#policy = policy;
    this.#denied = null;
    try {
      const statement = this.#db.prepare(sql);
      statement.setReadBigInts(true);
      statement.setReturnArrays(true);
      return statement;
    } catch (error) {
      throw sqliteError(error, this.#denied);
    } finally {
      this.#policy = USER;
      this.#denied = null;
    }
  }

  /**
   * Runs `fn`, mapping SQLite errors (including those of re-prepared statements). `policy`
   * applies to what SQLite prepares while it runs (VACUUM prepares statements of its own).
   */
  run<T>(fn: () => T, policy: Policy = USER): T {
    this.ensureOpen();
    this.#policy = policy;
    this.#denied = null;
    try {
      return fn();
    } catch (error) {
      throw sqliteError(error, this.#denied);
    } finally {
      this.#policy = USER;
      this.#denied = null;
    }
  }

  /** Runs the server's own SQL (no authorizer restrictions). */
  exec(sql: string): void {
    this.ensureOpen();
    this.#policy = INTERNAL;
    try {
      this.#db.exec(sql);
    } catch (error) {
      throw sqliteError(error, null);
    } finally {
      this.#policy = USER;
    }
  }

  /** Runs the server's own query and returns all rows (arrays, integers as bigint). */
  all(sql: string, ...params: (string | bigint | number | null)[]): unknown[][] {
    const statement = this.prepare(sql, INTERNAL);
    return this.run(() => statement.all(...params) as unknown as unknown[][]);
  }

  /** Runs `fn` in one immediate transaction: committed when it returns, rolled back if it throws. */
  transaction<T>(fn: () => T): T {
    this.ensureOpen();
    if (this.#db.isTransaction) {
      throw new RoomError("a transaction is already open", ErrorCode.INVALID_STATE);
    }
    this.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.exec("COMMIT");
      return result;
    } catch (error) {
      try {
        if (this.#db.isTransaction) this.exec("ROLLBACK");
      } catch {
        // the original error matters more
      }
      throw error;
    }
  }

  /** `total_changes()` of the connection (for statements that report no `changes`). */
  totalChanges(): bigint {
    return this.all("SELECT total_changes()")[0][0] as bigint;
  }

  /** The stored name of table `table` (SQLite compares table names case-insensitively), or null. */
  findTable(table: string): string | null {
    const rows = this.all(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ? COLLATE NOCASE",
      table,
    );
    return rows.length === 0 ? null : rows[0][0] as string;
  }

  /** The stored name of `table`, or 1003 naming the table and database. */
  requireTable(table: string): string {
    const found = this.findTable(table);
    if (found === null) {
      throw new RoomError(
        `table ${JSON.stringify(table)} does not exist in database ${JSON.stringify(this.name)}`,
        ErrorCode.NOT_FOUND,
      );
    }
    return found;
  }

  /** User tables (no `sqlite_` internals), by name. */
  tables(): string[] {
    return this.all(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' " +
        "ESCAPE '\\' ORDER BY name",
    ).map((row) => row[0] as string);
  }

  /** The visible columns of an existing table, in table order. */
  columns(table: string): TableColumn[] {
    return this.all(`PRAGMA table_xinfo(${quoteIdent(table)})`)
      .filter((row) => Number(row[6]) !== 1) // hidden columns of virtual tables
      .map((row) => {
        const declaredType = (row[2] as string | null) ?? "";
        return {
          name: row[1] as string,
          declaredType,
          type: columnTypeFromSql(declaredType),
          nullable: Number(row[3]) === 0,
          primaryKey: Number(row[5]),
        };
      });
  }

  /** The name to order a table by insertion (`rowid` or an alias), or null (WITHOUT ROWID). */
  rowidName(table: string, columns: readonly TableColumn[]): string | null {
    const sql = this.all(
      "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?",
      table,
    )[0]?.[0];
    if (typeof sql === "string" && /\bWITHOUT\s+ROWID\b/i.test(sql)) return null;
    const taken = new Set(columns.map((column) => column.name.toLowerCase()));
    return ["rowid", "_rowid_", "oid"].find((name) => !taken.has(name)) ?? null;
  }

  /** Size of the database in bytes (pages × page size). */
  sizeBytes(): number {
    const pages = this.all("PRAGMA page_count")[0][0] as bigint;
    const size = this.all("PRAGMA page_size")[0][0] as bigint;
    return Number(pages * size);
  }

  /** Ends everything open on it (with `reason`) and closes the connection. Idempotent. */
  close(reason: string): void {
    if (this.#closed) return;
    for (const item of [...this.open]) item.abandon(reason);
    this.open.clear();
    this.#closed = true;
    try {
      this.#db.close();
    } catch {
      // already closed
    }
  }
}

/**
 * Maps an error thrown by `node:sqlite` to a RoomError with a code a client can act on.
 *
 * @param error What was thrown.
 * @param denied The authorizer's own explanation, when it refused something.
 */
export function sqliteError(error: unknown, denied: RoomError | null): RoomError {
  if (error instanceof RoomError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (denied !== null) return denied;
  const make = (code: number, text = `SQLite: ${message}`) => new RoomError(text, code);
  if (/^no such table/i.test(message)) return make(ErrorCode.NOT_FOUND);
  if (/already exists/i.test(message)) return make(ErrorCode.ALREADY_EXISTS);
  if (/(UNIQUE|PRIMARY KEY) constraint failed/i.test(message)) return make(ErrorCode.CONFLICT);
  if (/database table is locked|database schema is locked/i.test(message)) {
    return make(
      ErrorCode.INVALID_STATE,
      `SQLite: ${message} (a query on it is still open: read it to the end or close it first)`,
    );
  }
  if (/database is locked|database is busy/i.test(message)) return make(ErrorCode.TIMEOUT);
  if (/not authorized|is prohibited|authorization denied/i.test(message)) {
    return make(ErrorCode.PERMISSION_DENIED);
  }
  if (/column index out of range/i.test(message)) {
    return make(
      ErrorCode.INVALID_REQUEST,
      "params has more values than the statement has placeholders",
    );
  }
  if (
    /disk I\/O error|database or disk is full|readonly database|unable to open|malformed/i.test(
      message,
    )
  ) {
    return make(ErrorCode.OPERATION_FAILED);
  }
  return make(ErrorCode.INVALID_REQUEST);
}

/**
 * Checks the columns of a table to create: at least one, valid names, no duplicates (SQLite
 * column names ignore case).
 *
 * @throws {RoomError} 1002 naming the problem.
 */
export function checkNewColumns(columns: readonly ColumnSchema[], what: string): void {
  if (columns.length === 0) {
    throw new RoomError(
      `${what} has no columns; a table needs at least one`,
      ErrorCode.INVALID_REQUEST,
    );
  }
  const seen = new Set<string>();
  for (const column of columns) {
    checkIdentifier(column.name, "a column name");
    const key = column.name.toLowerCase();
    if (seen.has(key)) {
      throw new RoomError(
        `${what} has the column ${JSON.stringify(column.name)} twice (names ignore case)`,
        ErrorCode.INVALID_REQUEST,
      );
    }
    seen.add(key);
  }
}

/** The column definition of `CREATE TABLE` / `ADD COLUMN`. */
export function columnDefinition(column: ColumnSchema, allowNotNull: boolean): string {
  const type = sqlTypeFor(column.type);
  const notNull = allowNotNull && column.nullable === false ? " NOT NULL" : "";
  return `${quoteIdent(column.name)}${type ? " " + type : ""}${notNull}`;
}
