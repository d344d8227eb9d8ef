// Private: the room-wide SQL queries of a RoomDatabase, by `query_id` — the open ones with their
// cursors, and the ids of recently closed ones (so that `cancel_sql_query` answers
// `not_cancellable` instead of "unknown id"). Opening a query first closes the ones left idle
// too long, then refuses past the room's limit.
import { ErrorCode, RoomError } from "@meshagent/api";
import type { SqliteResultCursor } from "./sqlite_result_cursor.ts";

/** What the query registry needs of a query's cursor (sqlite's, or the datasets' DuckDB one). */
export interface SqlQueryCursor {
  /** When it was last read (the registry's clock). */
  readonly lastUsed: number;
  /** Releases it. */
  close(): void;
}

/** One open SQL query of the room database. */
export interface SqlQueryEntry {
  cursor: SqliteResultCursor;
  database: string;
  namespace: string[] | null;
}

/** The limits of a room's SQL queries. */
export interface SqlQueryLimits {
  /** Most queries open at once. */
  maxOpen: number;
  /** Queries unused this long are closed when the next one opens. */
  idleMs: number;
  /** How many closed query ids are remembered. */
  rememberClosed: number;
  /** The clock. */
  now: () => number;
}

/** The open and recently closed SQL queries of one room. */
export class SqlQueries<E extends { cursor: SqlQueryCursor } = SqlQueryEntry> {
  readonly #open = new Map<string, E>();
  readonly #closed = new Set<string>();
  readonly #limits: SqlQueryLimits;

  constructor(limits: SqlQueryLimits) {
    this.#limits = limits;
  }

  /** Number of open queries. */
  get size(): number {
    return this.#open.size;
  }

  /** Closes the queries idle too long; throws 1006 when the room still has too many open. */
  makeRoom(): void {
    const now = this.#limits.now();
    for (const [id, entry] of this.#open) {
      if (now - entry.cursor.lastUsed >= this.#limits.idleMs) {
        entry.cursor.close();
        this.forget(id);
      }
    }
    if (this.#open.size >= this.#limits.maxOpen) {
      throw new RoomError(
        `too many SQL queries are open in this room (${this.#limits.maxOpen}); close the ones ` +
          `you are done with (close_sql_query)`,
        ErrorCode.INVALID_STATE,
      );
    }
  }

  /** Keeps an opened query under its id. */
  add(id: string, entry: E): void {
    this.#open.set(id, entry);
  }

  /** Drops an open query (its cursor is the caller's to close) and remembers its id as closed. */
  forget(id: string): void {
    this.#open.delete(id);
    this.#closed.delete(id);
    this.#closed.add(id);
    while (this.#closed.size > this.#limits.rememberClosed) {
      const oldest = this.#closed.values().next().value as string;
      this.#closed.delete(oldest);
    }
  }

  /** The open query `id`, or undefined. */
  get(id: string): E | undefined {
    return this.#open.get(id);
  }

  /** The open query `id`, null for a closed one; throws 1003 for an id never opened here. */
  find(id: string): E | null {
    const entry = this.#open.get(id) ?? null;
    if (entry === null && !this.#closed.has(id)) {
      throw new RoomError(`unknown query_id ${JSON.stringify(id)}`, ErrorCode.NOT_FOUND);
    }
    return entry;
  }

  /** Closes every open query's cursor and forgets them. */
  closeAll(): void {
    for (const entry of this.#open.values()) entry.cursor.close();
    this.#open.clear();
  }
}
