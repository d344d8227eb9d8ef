/**
 * The store behind the room's `dataset` toolkit (protocol-data §3.3): versioned tables addressed
 * by namespace and name, with Arrow IPC **stream** bytes in and out. The toolkit speaks the wire;
 * a store only keeps tables. The embedded default is {@linkcode openLanceDatasetStore} (LanceDB
 * in the room's data folder); another engine plugs in behind this interface.
 *
 * @module
 */

/** Names one table: its namespace (null = the root) and its name. */
export interface DatasetTableRef {
  /** The namespace path, or null for the root namespace. */
  readonly namespace: readonly string[] | null;
  /** The table name. */
  readonly name: string;
}

/** How a create treats an existing table. */
export type DatasetCreateMode = "create" | "overwrite" | "create_if_not_exists";

/**
 * Rows on their way into a table. Nothing is visible to readers until {@linkcode commit}: the
 * whole write becomes one new table version, or nothing (on {@linkcode abort}, an error, or the
 * process dying).
 */
export interface DatasetWriter {
  /**
   * Adds one Arrow IPC stream of rows (checked against the table's columns now, so a bad chunk is
   * refused at once).
   */
  write(ipc: Uint8Array): Promise<void>;
  /** Makes every written row durable and visible, as one version. */
  commit(): Promise<void>;
  /** Drops what was written. Idempotent; a no-op after commit. */
  abort(): void;
}

/** What a search returns and how. */
export interface DatasetQuery {
  /** An SQL boolean filter, or null for every row. */
  where?: string | null;
  /** A query vector: the rows nearest to it come first (and a `_distance` column is added). */
  vector?: readonly number[] | null;
  /** A full-text query (needs an INVERTED/FTS index on the searched column). */
  text?: string | null;
  /** The columns a full-text query searches (default: every indexed one). */
  textColumns?: readonly string[] | null;
  /** The columns to return, in this order (default: all). */
  select?: readonly string[] | null;
  /** Rows to skip after filtering. */
  offset?: number | null;
  /** Most rows to return. */
  limit?: number | null;
  /** Read this version instead of the latest. */
  version?: number | null;
}

/** One version of a table. */
export interface DatasetVersion {
  /** The version number (1 = created). */
  version: number;
  /** When it was committed. */
  timestamp: Date;
  /** The engine's notes about it (string values). */
  metadata: Record<string, string>;
}

/** One index of a table, as `list_indexes` reports it. */
export interface DatasetIndexInfo {
  /** The index name. */
  name: string;
  /** The indexed columns. */
  columns: string[];
  /** The index type (`BTree`, `IvfPq`, `Inverted`, …). */
  type: string;
  /** A precise type identifier, when the engine has one. */
  typeUrl: string | null;
  /** Rows covered by the index. */
  numRowsIndexed: number | null;
  /** Segments it is made of. */
  numSegments: number | null;
  /** Its size on disk. */
  totalSizeBytes: number | null;
  /** Type-specific details. */
  details: Record<string, unknown>;
  /** Statistics (rows not yet indexed, distance type, …). */
  statistics: Record<string, unknown>;
}

/** An index to build: the wire `config` of `create_index`, validated by the toolkit. */
export interface DatasetIndexConfig {
  /** The column to index. */
  column: string;
  /** The index type as the wire names it (`BTREE`, `IVF_PQ`, `INVERTED`, …). */
  indexType: string;
  /** The index name (default `<column>_idx`). */
  name: string;
  /** Replace an index of the same name (default true). */
  replace: boolean;
  /** The tuning keys as sent (`metric`, `num_partitions`, `num_sub_vectors`, …). */
  options: Readonly<Record<string, unknown>>;
}

/** One new column computed per row by an SQL expression. */
export interface DatasetColumnExpression {
  /** The new column's name. */
  name: string;
  /** The SQL expression (may use the row's other columns). */
  sql: string;
}

/** A table's versions, indexes, columns and rows. Every method rejects with a `RoomError`. */
export interface DatasetStore {
  /** The table names of a namespace, sorted. */
  listTables(namespace: readonly string[] | null): Promise<string[]>;
  /**
   * Starts creating a table: `schema` (an IPC stream with no rows) or the first written chunk
   * gives its columns; commit creates it with the rows written.
   */
  createTable(
    ref: DatasetTableRef,
    options: {
      mode: DatasetCreateMode;
      schema: Uint8Array | null;
      metadata: Readonly<Record<string, string>> | null;
    },
  ): Promise<DatasetWriter>;
  /** Starts appending rows to a table. */
  insert(ref: DatasetTableRef): Promise<DatasetWriter>;
  /** Starts an upsert keyed on column `on`. */
  merge(ref: DatasetTableRef, on: string): Promise<DatasetWriter>;
  /** Drops a table; false when it did not exist. */
  dropTable(ref: DatasetTableRef): Promise<boolean>;
  /** Renames a table within its namespace. */
  renameTable(ref: DatasetTableRef, newName: string): Promise<void>;
  /** The table's columns: an IPC stream with the schema and no rows. */
  inspect(ref: DatasetTableRef, version: number | null): Promise<Uint8Array>;
  /** The matching rows, as IPC streams of at most `batchRows` rows; none when nothing matches. */
  search(ref: DatasetTableRef, query: DatasetQuery): AsyncIterable<Uint8Array>;
  /** How many rows match. */
  count(ref: DatasetTableRef, query: DatasetQuery): Promise<number>;
  /** Sets columns (column → SQL expression) of the rows that match; returns how many. */
  update(
    ref: DatasetTableRef,
    where: string | null,
    values: readonly (readonly [string, string])[],
  ): Promise<number>;
  /** Deletes the rows that match; returns how many. */
  delete(ref: DatasetTableRef, where: string | null): Promise<number>;
  /** Adds columns: computed by SQL expressions, or all-null from an Arrow schema. */
  addColumns(
    ref: DatasetTableRef,
    columns: readonly DatasetColumnExpression[] | Uint8Array,
  ): Promise<void>;
  /** Drops columns. */
  dropColumns(ref: DatasetTableRef, columns: readonly string[]): Promise<void>;
  /** Merges metadata into a column's field metadata. */
  updateColumnMetadata(
    ref: DatasetTableRef,
    column: string,
    metadata: Readonly<Record<string, string>>,
  ): Promise<void>;
  /** Builds an index; resolves once it exists. */
  createIndex(ref: DatasetTableRef, config: DatasetIndexConfig): Promise<void>;
  /** Drops an index. */
  dropIndex(ref: DatasetTableRef, name: string): Promise<void>;
  /** The table's indexes. */
  listIndexes(ref: DatasetTableRef, version: number | null): Promise<DatasetIndexInfo[]>;
  /** Compacts files, brings indexes up to date and prunes old versions (per `config`). */
  optimize(
    ref: DatasetTableRef,
    config: Readonly<Record<string, unknown>> | null,
  ): Promise<{ compaction: Record<string, unknown>; cleanup: Record<string, unknown> }>;
  /** Sizes and fragment statistics. */
  stats(
    ref: DatasetTableRef,
    version: number | null,
  ): Promise<{ dataset: Record<string, unknown>; data: Record<string, unknown> }>;
  /** Every version of the table, oldest first. */
  listVersions(ref: DatasetTableRef): Promise<DatasetVersion[]>;
  /** Makes an old version the latest (as a new version). */
  restore(ref: DatasetTableRef, version: number): Promise<void>;
  /** The latest version number of a table. */
  version(ref: DatasetTableRef): Promise<number>;
  /** Closes every table. */
  close(): Promise<void>;
}
