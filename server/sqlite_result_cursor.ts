import { ErrorCode, RoomError } from "@meshagent/api";
import {
  type ColumnSchema,
  encodeArrowSchema,
  encodeArrowStream,
  inferColumnTypes,
  type SqlValue,
} from "./arrow_codec.ts";
import { sqliteError, type SqliteHandle } from "./_sqlite_handle.ts";

/** Where a {@linkcode SqliteResultCursor} stands. */
export type CursorState = "open" | "finished" | "closed" | "cancelled";

/** Sizes of the batches a cursor reads. */
export interface CursorLimits {
  /** Most rows per batch (default 1024). */
  batchRows?: number;
  /** A batch ends once its values reach about this many bytes (default 4 MiB). */
  batchBytes?: number;
}

/** @internal What {@linkcode SqliteResultCursor} is made from (by `RoomDatabase`). */
export interface CursorSource {
  /** The database the rows come from. */
  handle: SqliteHandle;
  /** The rows, one array per row. */
  rows: Iterator<unknown>;
  /** The result columns; untyped ones get a type from the first batch. */
  columns: ColumnSchema[];
  /** The query id (SQL queries) or null (search). */
  id: string | null;
  /** Clock for idle tracking. */
  now: () => number;
}

function approxSize(row: readonly SqlValue[]): number {
  let size = 8;
  for (const value of row) {
    if (typeof value === "string") size += value.length * 2 + 8;
    else if (value instanceof Uint8Array) size += value.length + 8;
    else size += 8;
  }
  return size;
}

/**
 * A result being read in batches: the rows of a `search`, or of an SQL query opened with
 * `open_sql_query`/`execute_sql` (then it has an {@linkcode id} and lives until
 * `close_sql_query`). Each {@linkcode next} gives one self-contained Arrow IPC stream for one
 * `data` chunk, or null when the result is exhausted (answer the pull with `CLOSE`).
 *
 * Known limitation (Deno 2.9.6): `node:sqlite`'s `StatementSync.iterate()` (and `get()`) end
 * quietly when a step fails after the statement started — a runtime error in row 2 (a value over
 * the length limit, an integer overflow) reads as the end of the result, an error in row 1 as an
 * empty result; only `all()` throws. Streaming needs `iterate()`, so such a result comes back
 * truncated rather than as an error until Deno reports step errors.
 *
 * The column types are fixed when the cursor opens: declared column types win; columns without
 * one (computed columns) take theirs from the first batch, which is read ahead for that.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RoomDatabase } from "@meshagent/server";
 *
 * const dir = Deno.makeTempDirSync();
 * const db = new RoomDatabase({ dir, batchRows: 2 });
 * db.createDatabase({ name: "main" });
 * const { query_id } = db.openSqlQuery({
 *   database: "main",
 *   query: "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5) " +
 *     "SELECT x FROM n",
 * });
 * const cursor = db.readSqlQuery({ query_id });
 * assert.deepEqual(cursor.nextRows(), [[1n], [2n]]);
 * assert.ok(cursor.next() instanceof Uint8Array); // rows 3 and 4 as Arrow IPC
 * assert.deepEqual(cursor.nextRows(), [[5n]]);
 * assert.equal(cursor.nextRows(), null);
 * assert.equal(cursor.state, "finished");
 * db.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class SqliteResultCursor {
  /** The query id (`open_sql_query`/`execute_sql`), or null for a `search`. */
  readonly id: string | null;
  readonly #handle: SqliteHandle;
  #rows: Iterator<unknown> | null;
  #ahead: SqlValue[][] = [];
  #columns: ColumnSchema[];
  #state: CursorState = "open";
  #reason = "";
  #lastUsed: number;
  readonly #now: () => number;
  readonly #batchRows: number;
  readonly #batchBytes: number;
  #read = 0;

  /**
   * Made by `RoomDatabase` (`search`, `openSqlQuery`, `executeSql`); not meant to be built
   * directly. Reads the first batch ahead to settle the column types.
   *
   * @param source The rows and columns.
   * @param limits Batch sizes.
   */
  constructor(source: CursorSource, limits: CursorLimits = {}) {
    this.id = source.id;
    this.#handle = source.handle;
    this.#rows = source.rows;
    this.#now = source.now;
    this.#lastUsed = source.now();
    this.#batchRows = Math.max(1, Math.floor(limits.batchRows ?? 1024));
    this.#batchBytes = Math.max(1, Math.floor(limits.batchBytes ?? 4 * 1024 * 1024));
    this.#handle.open.add(this);
    try {
      this.#ahead = this.#pull(this.#batchRows) ?? [];
    } catch (error) {
      this.#end("closed", "it failed");
      throw error;
    }
    this.#columns = inferColumnTypes(source.columns, this.#ahead);
  }

  /** The result columns, with their (final) types. */
  get columns(): ColumnSchema[] {
    return this.#columns.map((column) => ({ ...column }));
  }

  /** `open` while rows may remain; `finished` once read to the end; `closed`; `cancelled`. */
  get state(): CursorState {
    return this.#state;
  }

  /** Rows handed out so far. */
  get rowsRead(): number {
    return this.#read;
  }

  /** When the cursor was last used (the clock of its `RoomDatabase`). */
  get lastUsed(): number {
    return this.#lastUsed;
  }

  /**
   * The Arrow schema of the result: an IPC stream with the schema and no batches.
   *
   * @returns The IPC stream bytes.
   */
  schema(): Uint8Array {
    return encodeArrowSchema(this.#columns);
  }

  #pull(max: number): SqlValue[][] | null {
    const rows = this.#rows;
    if (rows === null) return null;
    const out: SqlValue[][] = [];
    let bytes = 0;
    try {
      while (out.length < max && bytes < this.#batchBytes) {
        const step = rows.next();
        if (step.done) {
          this.#rows = null;
          break;
        }
        const row = step.value as SqlValue[];
        bytes += approxSize(row);
        out.push(row);
      }
    } catch (error) {
      this.#rows = null;
      throw sqliteError(error, null);
    }
    return out;
  }

  #check(): void {
    if (this.#state === "closed" || this.#state === "cancelled") {
      throw new RoomError(
        `${this.id === null ? "this result" : `query ${JSON.stringify(this.id)}`} was ` +
          `${this.#state}${this.#reason ? ` (${this.#reason})` : ""}`,
        ErrorCode.INVALID_STATE,
      );
    }
  }

  /**
   * Reads the next batch as rows (values in column order, integers as bigint).
   *
   * @param maxRows Most rows to return (default: the batch size).
   * @returns The rows, or null when the result is exhausted (never an empty array).
   * @throws {RoomError} 1006 when the cursor was closed or cancelled; SQLite errors met while
   *   stepping (the cursor then closes).
   */
  nextRows(maxRows: number = this.#batchRows): SqlValue[][] | null {
    this.#check();
    this.#lastUsed = this.#now();
    const max = Math.max(1, Math.floor(maxRows));
    let rows: SqlValue[][];
    if (this.#ahead.length > 0) {
      rows = this.#ahead.splice(0, max);
    } else {
      try {
        rows = this.#pull(max) ?? [];
      } catch (error) {
        this.#end("closed", "it failed");
        throw error;
      }
    }
    if (rows.length === 0) {
      this.#finish();
      return null;
    }
    this.#read += rows.length;
    if (this.#ahead.length === 0 && this.#rows === null) this.#finish();
    return rows;
  }

  /**
   * Reads the next batch as one self-contained Arrow IPC stream (schema + one record batch).
   *
   * @returns The bytes for one `data` chunk, or null when the result is exhausted.
   * @throws {RoomError} 1008 when a value does not fit its column's type (the cursor closes).
   */
  next(): Uint8Array | null {
    const rows = this.nextRows();
    if (rows === null) return null;
    try {
      return encodeArrowStream(this.#columns, rows);
    } catch (error) {
      this.#end("closed", "a value did not fit its column type");
      throw error;
    }
  }

  #finish(): void {
    if (this.#state !== "open") return;
    this.#state = "finished";
    this.#release();
  }

  #release(): void {
    const rows = this.#rows;
    this.#rows = null;
    this.#ahead = [];
    try {
      rows?.return?.();
    } catch {
      // the statement is reset either way
    }
    this.#handle.open.delete(this);
  }

  #end(state: "closed" | "cancelled", reason: string): void {
    if (this.#state === "closed" || this.#state === "cancelled") return;
    this.#state = state;
    this.#reason = reason;
    this.#release();
  }

  /** Closes the cursor and releases its statement. Idempotent. */
  close(): void {
    this.#end("closed", "");
  }

  /**
   * Cancels the cursor: an open one stops (`"cancelled"`), one already finished or closed is
   * left as it is (`"not_cancellable"`).
   *
   * @returns The `cancel_sql_query` status.
   */
  cancel(): "cancelled" | "not_cancellable" {
    if (this.#state !== "open") return "not_cancellable";
    this.#end("cancelled", "cancel_sql_query");
    return "cancelled";
  }

  /**
   * @internal Ends the cursor because its database closed or was dropped.
   *
   * @param reason Why.
   */
  abandon(reason: string): void {
    this.#end("closed", reason);
  }
}
