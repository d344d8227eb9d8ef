// The part of LanceDB's native (napi) API the dataset store uses, typed here so that the store
// works on IPC bytes end to end (the package's JavaScript wrapper decodes and re-encodes every
// batch). The package is loaded on first use only: a server whose rooms never touch a dataset
// never loads the native addon. Notes: server/DATASETS.md.

/** A native LanceDB connection (one per store). */
export interface NativeConnection {
  tableNames(namespace?: string[] | null): Promise<string[]>;
  createTable(
    name: string,
    ipcFile: Uint8Array,
    mode: string,
    namespace?: string[],
  ): Promise<NativeTable>;
  createEmptyTable(
    name: string,
    schemaFile: Uint8Array,
    mode: string,
    namespace?: string[],
  ): Promise<NativeTable>;
  openTable(name: string, namespace?: string[]): Promise<NativeTable>;
  dropTable(name: string, namespace?: string[]): Promise<void>;
  renameTable(
    name: string,
    newName: string,
    namespace?: string[],
    newNamespace?: string[],
  ): Promise<void>;
  createNamespace(namespace: string[], mode?: string): Promise<unknown>;
  listNamespaces(namespace?: string[]): Promise<{ namespaces: string[] }>;
  close(): void;
}

/** A native query (plain, vector or full-text). */
export interface NativeQuery {
  onlyIf(predicate: string): void;
  fullTextSearch(query: { query: string; columns: string[] | null }): void;
  selectColumns(columns: string[]): void;
  limit(limit: number): void;
  offset(offset: number): void;
  nearestToRaw?(data: Uint8Array, dtype: string): NativeQuery;
  execute(
    maxBatchLength?: number,
    timeoutMs?: number,
  ): Promise<{ next(): Promise<Uint8Array | null> }>;
}

/** One index as the native side describes it. */
export interface NativeIndexConfig {
  name: string;
  indexType: string;
  columns: string[];
  typeUrl?: string;
  numIndexedRows?: number;
  numUnindexedRows?: number;
  sizeBytes?: number;
  numSegments?: number;
  indexVersion?: number;
  indexDetails?: unknown;
}

/** A native table handle. */
export interface NativeTable {
  schema(): Promise<Uint8Array>;
  add(ipcFile: Uint8Array, mode: string): Promise<{ version: number }>;
  countRows(filter?: string | null): Promise<number>;
  delete(predicate: string): Promise<{ numDeletedRows: number }>;
  update(where: string | null, columns: [string, string][]): Promise<{ rowsUpdated: number }>;
  query(): NativeQuery;
  vectorSearch(vector: Float32Array): NativeQuery;
  addColumns(columns: { name: string; valueSql: string }[]): Promise<unknown>;
  addColumnsWithSchema(schemaFile: Uint8Array): Promise<unknown>;
  dropColumns(columns: string[]): Promise<unknown>;
  updateFieldMetadata(
    updates: { path: string; metadata: Record<string, string> }[],
  ): Promise<unknown>;
  createIndex(
    index: unknown,
    column: string,
    replace?: boolean,
    waitTimeoutS?: number,
    name?: string,
  ): Promise<void>;
  dropIndex(name: string): Promise<void>;
  listIndices(): Promise<NativeIndexConfig[]>;
  indexStats(name: string): Promise<Record<string, unknown> | null>;
  stats(): Promise<Record<string, unknown>>;
  optimize(olderThanMs?: number, deleteUnverified?: boolean): Promise<{
    compaction: Record<string, unknown>;
    prune: Record<string, unknown>;
  }>;
  version(): Promise<number>;
  checkout(version: number): Promise<void>;
  restore(): Promise<void>;
  listVersions(): Promise<
    { version: number; timestamp: number; metadata: Record<string, string> }[]
  >;
  mergeInsert(on: string[]): {
    whenMatchedUpdateAll(condition?: string | null): unknown;
    whenNotMatchedInsertAll(): unknown;
    execute(ipcFile: Uint8Array): Promise<{ numInsertedRows: number; numUpdatedRows: number }>;
  };
  close(): void;
}

/** The index builders of the package (`Index.<kind>(options)`). */
export type LanceIndexKind =
  | "ivfPq"
  | "ivfRq"
  | "ivfFlat"
  | "hnswPq"
  | "hnswSq"
  | "btree"
  | "bitmap"
  | "labelList"
  | "fts";

/** What the store needs from the package. */
export interface LanceNative {
  connect(dir: string): Promise<NativeConnection>;
  /** A native index description for `NativeTable.createIndex`. */
  index(kind: LanceIndexKind, options: Record<string, unknown>): unknown;
}

let loading: Promise<LanceNative> | undefined;

/**
 * Loads LanceDB (once per process).
 *
 * @throws {Error} When the package or its native addon for this platform is not installed.
 */
export function loadLance(): Promise<LanceNative> {
  return loading ??= (async () => {
    const lancedb = await import("@lancedb/lancedb");
    return {
      async connect(dir: string): Promise<NativeConnection> {
        // [impl] readConsistencyInterval 0: every read sees the latest committed version, also
        // one made through another handle (restore, a versioned read) or another process.
        const connection = await lancedb.connect(dir, { readConsistencyInterval: 0 });
        return (connection as unknown as { inner: NativeConnection }).inner;
      },
      index(kind: LanceIndexKind, options: Record<string, unknown>): unknown {
        // deno-lint-ignore no-explicit-any
        const make = (lancedb.Index as any)[kind] as (options: unknown) => { inner: unknown };
        return make.call(lancedb.Index, options).inner;
      },
    } satisfies LanceNative;
  })();
}
