// The limits of SQL over a room's dataset tables (the dataset toolkit's SQL tools, on DuckDB).

/**
 * The limits of a room's dataset SQL. [impl] All of them bound what one caller can make the
 * server do: DuckDB runs a query on its own threads (the event loop stays free, DATASETS.md),
 * `threads` and `memoryLimit` cap each query's database, `timeoutMs` interrupts a statement
 * (and the loading of its tables) that runs too long, and the input caps bound the rows copied
 * into DuckDB, the one part done in JavaScript.
 *
 * @example
 * ```ts
 * import { datasetToolkit, type DatasetSqlLimits } from "@meshagent/server";
 * const sql: Partial<DatasetSqlLimits> = { timeoutMs: 5_000, memoryLimit: "128MB" };
 * const make = (room: { name: string; dataDir: string }) => datasetToolkit(room, { sql });
 * console.log(typeof make);
 * ```
 */
export interface DatasetSqlLimits {
  /** The longest one step (loading the tables and running, or reading one batch) may take. */
  timeoutMs: number;
  /** DuckDB `memory_limit` of each query's database. */
  memoryLimit: string;
  /** DuckDB worker threads of each query's database. */
  threads: number;
  /** Most rows, over all its tables, a query may read into DuckDB. */
  maxInputRows: number;
  /** Most Arrow bytes, over all its tables, a query may read into DuckDB. */
  maxInputBytes: number;
  /** Most queries open at once in a room. */
  maxOpen: number;
  /** Queries unread this long are closed when the next one opens. */
  idleMs: number;
  /** Most rows per result `data` chunk. */
  batchRows: number;
}

/**
 * The defaults of {@linkcode DatasetSqlLimits}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_SQL_LIMITS } from "@meshagent/server";
 * assert.equal(DEFAULT_SQL_LIMITS.threads, 1);
 * ```
 */
export const DEFAULT_SQL_LIMITS: DatasetSqlLimits = {
  timeoutMs: 30_000,
  memoryLimit: "256MB",
  threads: 1,
  maxInputRows: 2_000_000,
  maxInputBytes: 256 * 1024 * 1024,
  maxOpen: 8,
  idleMs: 10 * 60_000,
  batchRows: 8192,
};
