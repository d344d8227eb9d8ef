import { ErrorCode, RoomError } from "@meshagent/api";
import { type ColumnSchema, decodeArrowStream, type RowSet, type SqlValue } from "./arrow_codec.ts";
import { checkNewColumns, columnDefinition, type SqliteHandle } from "./_sqlite_handle.ts";
import { quoteIdent } from "./_sql_text.ts";
import { toBindable } from "./_sqlite_values.ts";

/** How `create_table` (and `create_database`) treat an existing one. */
export type CreateMode = "create" | "overwrite" | "create_if_not_exists";

/** @internal What {@linkcode SqliteTableWriter} is made from (by `RoomDatabase`). */
export interface WriterPlan {
  /** The database. */
  handle: SqliteHandle;
  /** The table name (as requested for create, as stored for insert). */
  table: string;
  /** For `create_table`: the mode and the schema from the start chunk (null = from data). */
  create: { mode: CreateMode; columns: ColumnSchema[] | null } | null;
  /** Rows are committed in parts once the buffered values pass this many bytes. */
  maxBufferedBytes: number;
}

interface Pending {
  columns: string[];
  rows: SqlValue[][];
}

function approxRowBytes(row: readonly SqlValue[]): number {
  let size = 16;
  for (const value of row) {
    if (typeof value === "string") size += value.length * 2;
    else if (value instanceof Uint8Array) size += value.length;
    else size += 8;
  }
  return size;
}

/**
 * The write side of `create_table` and `insert`: feed it the `data` chunks of the stream
 * ({@linkcode write}), then {@linkcode commit} when the client closes its input, or
 * {@linkcode abort} when the stream fails.
 *
 * Rows are buffered and committed in one transaction at {@linkcode commit}, so a stream that
 * fails leaves the table as it was. Only a very large stream (more than `maxBufferedBytes` of
 * values, 64 MiB by default) is committed in parts as it goes. For `create_table` the table is
 * created in that same transaction; in mode `create_if_not_exists` an existing table is kept and
 * the streamed rows are ignored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeArrowStream, RoomDatabase } from "@meshagent/server";
 *
 * const dir = Deno.makeTempDirSync();
 * const db = new RoomDatabase({ dir });
 * db.createDatabase({ name: "main" });
 * const writer = db.createTable({ database: "main", name: "notes", mode: "create" });
 * writer.write(encodeArrowStream([{ name: "id", type: "int64" }], [[1n], [2n]]));
 * assert.deepEqual(writer.commit(), { rows: 2 });
 * assert.deepEqual(db.count({ database: "main", table: "notes" }), { count: 2 });
 * db.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class SqliteTableWriter {
  readonly #handle: SqliteHandle;
  #table: string;
  readonly #create: { mode: CreateMode; columns: ColumnSchema[] | null } | null;
  readonly #maxBufferedBytes: number;
  #tableColumns: Map<string, string> | null = null; // lower-case name → stored name (insert)
  #pending: Pending[] = [];
  #pendingBytes = 0;
  #pendingRows = 0;
  #written = 0;
  #created = false;
  #skipRows = false;
  #done: string | null = null;

  /**
   * Made by `RoomDatabase` (`createTable`, `insert`); not meant to be built directly.
   *
   * @param plan What to write to.
   */
  constructor(plan: WriterPlan) {
    this.#handle = plan.handle;
    this.#table = plan.table;
    this.#create = plan.create;
    this.#maxBufferedBytes = plan.maxBufferedBytes;
    if (plan.create === null) {
      this.#loadTableColumns();
    } else if (plan.create.columns !== null) {
      checkNewColumns(plan.create.columns, "the create_table schema");
    }
    this.#handle.open.add(this);
  }

  #loadTableColumns(): void {
    this.#table = this.#handle.requireTable(this.#table);
    this.#tableColumns = new Map(
      this.#handle.columns(this.#table).map((column) => [column.name.toLowerCase(), column.name]),
    );
  }

  /** The table written to. */
  get table(): string {
    return this.#table;
  }

  /** Rows committed so far. */
  get rowsWritten(): number {
    return this.#written;
  }

  /** Rows received but not committed yet. */
  get pendingRows(): number {
    return this.#pendingRows;
  }

  #check(): void {
    if (this.#done !== null) {
      throw new RoomError(
        `this write to ${JSON.stringify(this.#table)} ${this.#done}`,
        ErrorCode.INVALID_STATE,
      );
    }
  }

  /**
   * Takes one `data` chunk: a self-contained Arrow IPC stream of rows.
   *
   * @param ipc The chunk payload.
   * @throws {RoomError} 1002 for bytes that are not Arrow, or columns the table does not have.
   */
  write(ipc: Uint8Array): void {
    this.#check();
    this.writeRows(decodeArrowStream(ipc));
  }

  /**
   * Takes rows directly (what {@linkcode write} does after decoding).
   *
   * @param set Columns and rows; columns are matched to the table by name.
   * @throws {RoomError} 1002 for columns the table does not have.
   */
  writeRows(set: RowSet): void {
    this.#check();
    const create = this.#create;
    if (create !== null && create.columns === null) {
      checkNewColumns(set.columns, "the first data chunk");
      create.columns = set.columns.map((column) => ({ ...column }));
    }
    const names = this.#resolveColumns(set.columns);
    if (set.rows.length === 0) return;
    for (const row of set.rows) {
      if (row.length !== names.length) {
        throw new RoomError(
          `a row has ${row.length} values for ${names.length} columns`,
          ErrorCode.INVALID_REQUEST,
        );
      }
      this.#pendingBytes += approxRowBytes(row);
    }
    this.#pending.push({ columns: names, rows: set.rows });
    this.#pendingRows += set.rows.length;
    if (this.#pendingBytes > this.#maxBufferedBytes) this.#flush();
  }

  #resolveColumns(columns: readonly ColumnSchema[]): string[] {
    const known = this.#tableColumns ??
      new Map(
        (this.#create?.columns ?? []).map((column) => [column.name.toLowerCase(), column.name]),
      );
    const seen = new Set<string>();
    return columns.map((column) => {
      const key = column.name.toLowerCase();
      const name = known.get(key);
      if (name === undefined) {
        throw new RoomError(
          `column ${JSON.stringify(column.name)} does not exist in table ` +
            `${JSON.stringify(this.#table)}; add it with add_columns first`,
          ErrorCode.INVALID_REQUEST,
        );
      }
      if (seen.has(key)) {
        throw new RoomError(
          `the data has the column ${JSON.stringify(column.name)} twice`,
          ErrorCode.INVALID_REQUEST,
        );
      }
      seen.add(key);
      return name;
    });
  }

  #flush(): void {
    const handle = this.#handle;
    handle.ensureOpen();
    const pending = this.#pending;
    const count = this.#pendingRows;
    handle.transaction(() => {
      this.#createIfNeeded();
      if (this.#skipRows) return;
      if (this.#create === null) handle.requireTable(this.#table);
      for (const part of pending) {
        const sql = `INSERT INTO ${quoteIdent(this.#table)} (${
          part.columns.map(quoteIdent).join(", ")
        }) VALUES (${part.columns.map(() => "?").join(", ")})`;
        const statement = handle.prepare(sql);
        handle.run(() => {
          for (const row of part.rows) statement.run(...row.map(toBindable));
        });
      }
    });
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#pendingRows = 0;
    if (!this.#skipRows) this.#written += count;
  }

  #createIfNeeded(): void {
    const create = this.#create;
    if (create === null || this.#created) return;
    const columns = create.columns;
    if (columns === null) {
      throw new RoomError(
        "create_table needs a schema: send an Arrow schema with the start chunk or at least one " +
          "data chunk",
        ErrorCode.INVALID_REQUEST,
      );
    }
    const handle = this.#handle;
    const existing = handle.findTable(this.#table);
    if (existing !== null) {
      if (create.mode === "create") {
        throw new RoomError(
          `table ${JSON.stringify(existing)} already exists in database ` +
            `${JSON.stringify(handle.name)}; use mode "overwrite" or "create_if_not_exists"`,
          ErrorCode.ALREADY_EXISTS,
        );
      }
      if (create.mode === "create_if_not_exists") {
        this.#table = existing;
        this.#skipRows = true;
        this.#created = true;
        return;
      }
      handle.exec(`DROP TABLE ${quoteIdent(existing)}`);
    }
    handle.exec(
      `CREATE TABLE ${quoteIdent(this.#table)} (${
        columns.map((column) => columnDefinition(column, true)).join(", ")
      })`,
    );
    this.#created = true;
  }

  /**
   * Commits what was received (and, for `create_table`, creates the table).
   *
   * @returns The number of rows written by this writer.
   * @throws {RoomError} 1004 when `create_table` mode `create` finds the table exists; 1002
   *   without a schema; SQLite constraint errors (nothing of the last part is kept then).
   */
  commit(): { rows: number } {
    this.#check();
    try {
      this.#flush();
    } catch (error) {
      this.#finishWith("failed");
      throw error;
    }
    this.#finishWith("was committed already");
    return { rows: this.#written };
  }

  /** Drops what was received and not committed yet. Idempotent. */
  abort(): void {
    this.#finishWith("was aborted");
  }

  #finishWith(state: string): void {
    if (this.#done !== null) return;
    this.#done = state;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#pendingRows = 0;
    this.#handle.open.delete(this);
  }

  /**
   * @internal Ends the writer because its database closed or was dropped.
   *
   * @param reason Why.
   */
  abandon(reason: string): void {
    this.#finishWith(`was abandoned (${reason})`);
  }
}
