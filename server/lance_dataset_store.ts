import * as arrow from "apache-arrow";
import { mkdirSync } from "node:fs";
import { ErrorCode, RoomError } from "@meshagent/api";
import {
  batchBytes,
  fileToStream,
  ipcFile,
  ipcRows,
  readIpcStream,
  schemaFile,
  schemaOf,
  schemaStream,
} from "./_dataset_arrow.ts";
import {
  type LanceIndexKind,
  type LanceNative,
  loadLance,
  type NativeConnection,
  type NativeQuery,
  type NativeTable,
} from "./_lance_native.ts";
import type {
  DatasetColumnExpression,
  DatasetCreateMode,
  DatasetIndexConfig,
  DatasetIndexInfo,
  DatasetQuery,
  DatasetStore,
  DatasetTableRef,
  DatasetVersion,
  DatasetWriter,
} from "./dataset_store.ts";

/** Options of {@linkcode openLanceDatasetStore}. */
export interface LanceDatasetStoreOptions {
  /** The folder that holds the tables (`<room data>/datasets`); made on first write. */
  dir: string;
  /** Most rows per search result chunk (default 8192). */
  batchRows?: number;
  /**
   * Most bytes one create/insert/merge may hold before its commit (default 1 GiB): a write is
   * one version, kept in memory until the caller's close. Split larger imports.
   */
  maxWriteBytes?: number;
  /** The longest a query may run, in milliseconds (default 60000). */
  queryTimeoutMs?: number;
}

const DEFAULT_BATCH_ROWS = 8192;
const DEFAULT_MAX_WRITE = 1024 * 1024 * 1024;
const DEFAULT_QUERY_TIMEOUT = 60_000;
/** [impl] A vector search without a limit returns this many rows (LanceDB's own default). */
const DEFAULT_VECTOR_LIMIT = 10;

function invalid(message: string): RoomError {
  return new RoomError(message, ErrorCode.INVALID_REQUEST);
}

/** LanceDB's error texts → the protocol's codes; the first matching row wins. */
const ERROR_CODES: readonly (readonly [RegExp, number])[] = [
  [/was not found|not found:|does not exist|No such (file|table)/i, ErrorCode.NOT_FOUND],
  [/already exists/i, ErrorCode.ALREADY_EXISTS],
  [/commit conflict|retryable commit conflict/i, ErrorCode.CONFLICT],
  [
    /invalid user input|invalid input|schema error|cast error|no field named|sql parser|parser error|Error during planning|not supported|unsupported|invalid argument|mismatch|cannot|Append with different schema|InvalidArgument/i,
    ErrorCode.INVALID_REQUEST,
  ],
];

/** LanceDB's message without its source locations, in one line. */
function cleanMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text
    .replace(/,?\s*\/[^\s,]*\.rs:\d+:\d+/g, "")
    .replace(/\s*Caused by:.*$/s, "")
    .replace(/\s+/g, " ")
    .trim();
}

/** Turns an engine error into a RoomError whose message says what was being done. */
function lanceError(error: unknown, doing: string): RoomError {
  if (error instanceof RoomError) return error;
  const message = cleanMessage(error);
  const dimension = /No vector column found to match with the query vector dimension: (\d+)/
    .exec(message);
  if (dimension) {
    return invalid(
      `${doing}: the query vector has ${dimension[1]} numbers, and the table has no vector ` +
        `column of that dimension; send a vector as long as the column's`,
    );
  }
  const code = ERROR_CODES.find(([pattern]) => pattern.test(message))?.[1] ??
    ErrorCode.OPERATION_FAILED;
  return new RoomError(`${doing}: ${message}`, code);
}

function describe(ref: DatasetTableRef): string {
  const ns = ref.namespace && ref.namespace.length > 0
    ? ` in namespace ${ref.namespace.join("/")}`
    : "";
  return `table ${JSON.stringify(ref.name)}${ns}`;
}

function checkName(name: unknown, what: string): string {
  if (typeof name !== "string" || name === "") throw invalid(`${what} must be a non-empty string`);
  return name;
}

/** A namespace as LanceDB takes it; segments that would escape the folder are refused. */
function namespacePath(namespace: readonly string[] | null): string[] {
  if (namespace === null) return [];
  return namespace.map((segment) => {
    if (
      typeof segment !== "string" || segment === "" || segment === "." || segment === ".." ||
      /[\/\\\0]/.test(segment)
    ) {
      throw invalid(
        `namespace segment ${JSON.stringify(segment)} is not allowed; use non-empty names ` +
          `without "/", "\\\\" or NUL`,
      );
    }
    return segment;
  });
}

/** `mode` of the wire → LanceDB's create mode. */
const CREATE_MODES: Readonly<Record<DatasetCreateMode, string>> = {
  create: "create",
  overwrite: "overwrite",
  create_if_not_exists: "exist_ok",
};

type Options = Readonly<Record<string, unknown>>;
const num = (o: Options, key: string) => typeof o[key] === "number" ? o[key] as number : undefined;
const str = (o: Options, key: string) => typeof o[key] === "string" ? o[key] as string : undefined;
const bool = (o: Options, key: string) =>
  typeof o[key] === "boolean" ? o[key] as boolean : undefined;
const metric = (o: Options) => str(o, "metric")?.toLowerCase() ?? str(o, "distance_type");

/**
 * The index types of the wire (`create_index` `config.index_type`, §3.3.2) → LanceDB's builder
 * and its options from the wire's tuning keys. Types LanceDB's JavaScript binding cannot build
 * (NGRAM, ZONEMAP, BLOOMFILTER, RTREE) are absent and refused with 1002.
 */
const INDEX_TYPES: Readonly<
  Record<string, { kind: LanceIndexKind; options(o: Options): Record<string, unknown> }>
> = {
  IVF_PQ: {
    kind: "ivfPq",
    options: (o) => ({
      distanceType: metric(o),
      numPartitions: num(o, "num_partitions"),
      numSubVectors: num(o, "num_sub_vectors"),
      numBits: num(o, "num_bits"),
      maxIterations: num(o, "max_iterations"),
      sampleRate: num(o, "sample_rate"),
    }),
  },
  IVF_RQ: {
    kind: "ivfRq",
    options: (o) => ({
      distanceType: metric(o),
      numPartitions: num(o, "num_partitions"),
      numBits: num(o, "num_bits"),
    }),
  },
  IVF_FLAT: {
    kind: "ivfFlat",
    options: (o) => ({ distanceType: metric(o), numPartitions: num(o, "num_partitions") }),
  },
  IVF_HNSW_PQ: {
    kind: "hnswPq",
    options: (o) => ({
      distanceType: metric(o),
      numPartitions: num(o, "num_partitions"),
      numSubVectors: num(o, "num_sub_vectors"),
      m: num(o, "m"),
      efConstruction: num(o, "ef_construction"),
    }),
  },
  IVF_HNSW_SQ: {
    kind: "hnswSq",
    options: (o) => ({
      distanceType: metric(o),
      numPartitions: num(o, "num_partitions"),
      m: num(o, "m"),
      efConstruction: num(o, "ef_construction"),
    }),
  },
  BTREE: { kind: "btree", options: () => ({}) },
  BITMAP: { kind: "bitmap", options: () => ({}) },
  LABEL_LIST: { kind: "labelList", options: () => ({}) },
  INVERTED: { kind: "fts", options: ftsOptions },
  FTS: { kind: "fts", options: ftsOptions },
};

function ftsOptions(o: Options): Record<string, unknown> {
  return {
    withPosition: bool(o, "with_position"),
    baseTokenizer: str(o, "base_tokenizer"),
    language: str(o, "language"),
    maxTokenLength: num(o, "max_token_length"),
    lowerCase: bool(o, "lower_case"),
    stem: bool(o, "stem"),
    removeStopWords: bool(o, "remove_stop_words"),
    asciiFolding: bool(o, "ascii_folding"),
  };
}

/** Drops the undefined entries (the package's builders pass every key through). */
function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** The wire's index type names LanceDB can build. */
export const DATASET_INDEX_TYPES: readonly string[] = Object.keys(INDEX_TYPES);

/**
 * Opens the embedded dataset store: LanceDB tables under `dir` (`<name>.lance` folders, one
 * sub-folder per namespace segment). LanceDB is loaded on the first call, not here; its native
 * work (reads, writes, index builds) runs on its own threads, so the event loop only moves bytes.
 *
 * A create, insert or merge is one new table version, committed at the caller's close: rows of a
 * write that did not finish are never visible, and a committed write survives the process dying.
 *
 * @param options The folder and limits.
 * @returns The store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ArrowTable } from "@meshagent/api";
 * import { openLanceDatasetStore } from "@meshagent/server";
 * const dir = await Deno.makeTempDir();
 * const store = openLanceDatasetStore({ dir });
 * const ref = { namespace: null, name: "notes" };
 * const writer = await store.createTable(ref, { mode: "create", schema: null, metadata: null });
 * await writer.write(ArrowTable.fromRows([{ id: 1, text: "hello" }]).ipc);
 * await writer.commit();
 * assert.deepEqual(await store.listTables(null), ["notes"]);
 * assert.equal(await store.count(ref, { where: "id = 1" }), 1);
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function openLanceDatasetStore(options: LanceDatasetStoreOptions): DatasetStore {
  return new LanceDatasetStore(options);
}

class LanceDatasetStore implements DatasetStore {
  readonly #options: LanceDatasetStoreOptions;
  #connection: Promise<{ lance: LanceNative; conn: NativeConnection }> | undefined;
  readonly #tables = new Map<string, Promise<NativeTable>>();
  #closed = false;

  constructor(options: LanceDatasetStoreOptions) {
    this.#options = options;
  }

  get #batchRows(): number {
    return this.#options.batchRows ?? DEFAULT_BATCH_ROWS;
  }

  get #timeoutMs(): number {
    return this.#options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT;
  }

  #connect(): Promise<{ lance: LanceNative; conn: NativeConnection }> {
    if (this.#closed) {
      return Promise.reject(new RoomError("the room is closing", ErrorCode.INVALID_STATE));
    }
    return this.#connection ??= (async () => {
      mkdirSync(this.#options.dir, { recursive: true });
      let lance: LanceNative;
      try {
        lance = await loadLance();
      } catch (error) {
        this.#connection = undefined;
        throw new RoomError(
          `datasets need LanceDB (npm @lancedb/lancedb with its native addon for this platform), ` +
            `which could not be loaded: ${cleanMessage(error)}`,
          ErrorCode.DEPENDENCY_MISSING,
        );
      }
      return { lance, conn: await lance.connect(this.#options.dir) };
    })();
  }

  async #conn(): Promise<NativeConnection> {
    return (await this.#connect()).conn;
  }

  /** The shared handle of a table (opened once, reused by every call). */
  #table(ref: DatasetTableRef): Promise<NativeTable> {
    const key = JSON.stringify([ref.namespace ?? [], ref.name]);
    let table = this.#tables.get(key);
    if (!table) {
      table = (async () => {
        const conn = await this.#conn();
        try {
          return await conn.openTable(checkName(ref.name, "table"), namespacePath(ref.namespace));
        } catch (error) {
          const mapped = lanceError(error, `opening ${describe(ref)}`);
          if (mapped.code === ErrorCode.NOT_FOUND) {
            throw new RoomError(
              `dataset ${describe(ref)} was not found; list_tables shows the tables there are`,
              ErrorCode.NOT_FOUND,
            );
          }
          throw mapped;
        }
      })();
      this.#tables.set(key, table);
      table.catch(() => {
        if (this.#tables.get(key) === table) this.#tables.delete(key);
      });
    }
    return table;
  }

  #forget(ref: DatasetTableRef): void {
    const key = JSON.stringify([ref.namespace ?? [], ref.name]);
    const table = this.#tables.get(key);
    this.#tables.delete(key);
    table?.then((t) => t.close(), () => {});
  }

  /** A handle of its own at `version` (closed by `use`'s end), or the shared one. */
  async #at<T>(
    ref: DatasetTableRef,
    version: number | null | undefined,
    use: (table: NativeTable) => Promise<T>,
  ): Promise<T> {
    if (version === null || version === undefined) return await use(await this.#table(ref));
    await this.#table(ref); // not found → 1003
    const conn = await this.#conn();
    const table = await conn.openTable(ref.name, namespacePath(ref.namespace));
    try {
      try {
        await table.checkout(version);
      } catch (error) {
        throw lanceError(error, `reading version ${version} of ${describe(ref)}`);
      }
      return await use(table);
    } finally {
      table.close();
    }
  }

  async #ensureNamespace(namespace: readonly string[] | null): Promise<void> {
    const path = namespacePath(namespace);
    const conn = await this.#conn();
    for (let i = 1; i <= path.length; i++) {
      try {
        await conn.createNamespace(path.slice(0, i), "exist_ok");
      } catch (error) {
        if (!/already exists/i.test(cleanMessage(error))) {
          throw lanceError(error, `creating namespace ${path.slice(0, i).join("/")}`);
        }
      }
    }
  }

  async listTables(namespace: readonly string[] | null): Promise<string[]> {
    const conn = await this.#conn();
    try {
      return (await conn.tableNames(namespacePath(namespace))).sort();
    } catch (error) {
      const mapped = lanceError(error, "listing tables");
      if (mapped.code === ErrorCode.NOT_FOUND) return [];
      throw mapped;
    }
  }

  async createTable(
    ref: DatasetTableRef,
    options: {
      mode: DatasetCreateMode;
      schema: Uint8Array | null;
      metadata: Readonly<Record<string, string>> | null;
    },
  ): Promise<DatasetWriter> {
    checkName(ref.name, "the table name");
    namespacePath(ref.namespace);
    if (!(options.mode in CREATE_MODES)) {
      throw invalid(`mode must be create, overwrite or create_if_not_exists, not ${options.mode}`);
    }
    const schema = options.schema && options.schema.length > 0
      ? readIpcStream(options.schema, "the create_table schema").schema
      : null;
    await this.#conn();
    if (options.mode === "create" && (await this.listTables(ref.namespace)).includes(ref.name)) {
      throw new RoomError(
        `dataset ${describe(ref)} exists already; use mode overwrite or create_if_not_exists`,
        ErrorCode.ALREADY_EXISTS,
      );
    }
    return new LanceWriter(this.#maxWrite, schema, async (schema, batches) => {
      if (schema === null) {
        throw invalid(
          `create_table ${JSON.stringify(ref.name)} needs columns: send an Arrow schema in the ` +
            `start chunk, or at least one data chunk`,
        );
      }
      const withMetadata = options.metadata
        ? new arrow.Schema(
          schema.fields,
          new Map([...schema.metadata, ...Object.entries(options.metadata)]),
        )
        : schema;
      await this.#ensureNamespace(ref.namespace);
      const conn = await this.#conn();
      const mode = CREATE_MODES[options.mode];
      try {
        const created = batches.length === 0
          ? await conn.createEmptyTable(
            ref.name,
            schemaFile(withMetadata),
            mode,
            namespacePath(ref.namespace),
          )
          : await conn.createTable(
            ref.name,
            ipcFile(withMetadata, batches),
            mode,
            namespacePath(ref.namespace),
          );
        created.close();
      } catch (error) {
        throw lanceError(error, `creating ${describe(ref)}`);
      }
      this.#forget(ref); // an overwritten table's old handle
    });
  }

  get #maxWrite(): number {
    return this.#options.maxWriteBytes ?? DEFAULT_MAX_WRITE;
  }

  async insert(ref: DatasetTableRef): Promise<DatasetWriter> {
    const table = await this.#table(ref);
    const target = schemaOf(await table.schema());
    return new LanceWriter(this.#maxWrite, null, async (schema, batches) => {
      if (schema === null || batches.length === 0) return;
      try {
        await (await this.#table(ref)).add(ipcFile(schema, batches), "append");
      } catch (error) {
        throw lanceError(error, `inserting into ${describe(ref)}`);
      }
    }, target);
  }

  async merge(ref: DatasetTableRef, on: string): Promise<DatasetWriter> {
    checkName(on, "merge's on column");
    const table = await this.#table(ref);
    const target = schemaOf(await table.schema());
    if (!target.fields.some((f) => f.name === on)) {
      throw invalid(`merge on ${JSON.stringify(on)}: ${describe(ref)} has no such column`);
    }
    return new LanceWriter(this.#maxWrite, null, async (schema, batches) => {
      if (schema === null || batches.length === 0) return;
      if (!schema.fields.some((f) => f.name === on)) {
        throw invalid(`merge on ${JSON.stringify(on)}: the rows sent have no such column`);
      }
      try {
        const t = await this.#table(ref);
        // deno-lint-ignore no-explicit-any
        const builder: any = t.mergeInsert([on]);
        await builder.whenMatchedUpdateAll(null).whenNotMatchedInsertAll().execute(
          ipcFile(schema, batches),
        );
      } catch (error) {
        throw lanceError(error, `merging into ${describe(ref)}`);
      }
    }, target);
  }

  async dropTable(ref: DatasetTableRef): Promise<boolean> {
    const conn = await this.#conn();
    if (!(await this.listTables(ref.namespace)).includes(ref.name)) return false;
    this.#forget(ref);
    try {
      await conn.dropTable(ref.name, namespacePath(ref.namespace));
    } catch (error) {
      throw lanceError(error, `dropping ${describe(ref)}`);
    }
    return true;
  }

  async renameTable(ref: DatasetTableRef, newName: string): Promise<void> {
    checkName(newName, "new_name");
    await this.#table(ref);
    const conn = await this.#conn();
    this.#forget(ref);
    const ns = namespacePath(ref.namespace);
    try {
      await conn.renameTable(ref.name, newName, ns, ns);
    } catch (error) {
      throw lanceError(error, `renaming ${describe(ref)}`);
    }
  }

  async inspect(ref: DatasetTableRef, version: number | null): Promise<Uint8Array> {
    return await this.#at(ref, version, async (table) => schemaStream(await table.schema()));
  }

  #query(table: NativeTable, query: DatasetQuery): NativeQuery {
    let q: NativeQuery;
    if (query.vector && query.vector.length > 0) {
      q = table.vectorSearch(Float32Array.from(query.vector));
      q.limit(query.limit ?? DEFAULT_VECTOR_LIMIT);
    } else {
      q = table.query();
      if (query.limit !== null && query.limit !== undefined) q.limit(query.limit);
    }
    if (query.text) {
      q.fullTextSearch({
        query: query.text,
        columns: query.textColumns ? [...query.textColumns] : null,
      });
    }
    if (query.where) q.onlyIf(query.where);
    if (query.select) q.selectColumns([...query.select]);
    if (query.offset) q.offset(query.offset);
    return q;
  }

  async *search(ref: DatasetTableRef, query: DatasetQuery): AsyncIterable<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let iterator: { next(): Promise<Uint8Array | null> } | undefined;
    let handle: NativeTable | undefined;
    if (query.version !== null && query.version !== undefined) {
      await this.#table(ref);
      handle = await (await this.#conn()).openTable(ref.name, namespacePath(ref.namespace));
    }
    try {
      const table = handle ?? await this.#table(ref);
      try {
        if (handle) await handle.checkout(query.version!);
        iterator = await this.#query(table, query).execute(this.#batchRows, this.#timeoutMs);
      } catch (error) {
        throw lanceError(error, `searching ${describe(ref)}`);
      }
      while (true) {
        let next: Uint8Array | null;
        try {
          next = await iterator.next();
        } catch (error) {
          throw lanceError(error, `searching ${describe(ref)}`);
        }
        if (next === null) break;
        if (ipcRows(next) === 0) continue;
        yield fileToStream(next);
      }
    } finally {
      handle?.close();
      chunks.length = 0;
    }
  }

  async count(ref: DatasetTableRef, query: DatasetQuery): Promise<number> {
    if (!query.vector?.length && !query.text) {
      return await this.#at(ref, query.version, async (table) => {
        try {
          return await table.countRows(query.where ?? undefined);
        } catch (error) {
          throw lanceError(error, `counting rows of ${describe(ref)}`);
        }
      });
    }
    let total = 0;
    for await (const chunk of this.search(ref, { ...query, select: null })) total += ipcRows(chunk);
    return total;
  }

  async update(
    ref: DatasetTableRef,
    where: string | null,
    values: readonly (readonly [string, string])[],
  ): Promise<number> {
    const table = await this.#table(ref);
    try {
      const result = await table.update(where || null, values.map(([c, v]) => [c, v]));
      return result.rowsUpdated;
    } catch (error) {
      throw lanceError(error, `updating ${describe(ref)}`);
    }
  }

  async delete(ref: DatasetTableRef, where: string | null): Promise<number> {
    const table = await this.#table(ref);
    try {
      const result = await table.delete(where || "true");
      return result.numDeletedRows;
    } catch (error) {
      throw lanceError(error, `deleting from ${describe(ref)}`);
    }
  }

  async addColumns(
    ref: DatasetTableRef,
    columns: readonly DatasetColumnExpression[] | Uint8Array,
  ): Promise<void> {
    const table = await this.#table(ref);
    try {
      if (columns instanceof Uint8Array) {
        const schema = readIpcStream(columns, "the add_columns schema").schema;
        // New columns are all null: LanceDB requires them nullable.
        const nullable = new arrow.Schema(
          schema.fields.map((f) => new arrow.Field(f.name, f.type, true, f.metadata)),
        );
        await table.addColumnsWithSchema(schemaFile(nullable));
      } else {
        await table.addColumns(columns.map((c) => ({ name: c.name, valueSql: c.sql })));
      }
    } catch (error) {
      throw lanceError(error, `adding columns to ${describe(ref)}`);
    }
  }

  async dropColumns(ref: DatasetTableRef, columns: readonly string[]): Promise<void> {
    const table = await this.#table(ref);
    try {
      await table.dropColumns([...columns]);
    } catch (error) {
      throw lanceError(error, `dropping columns of ${describe(ref)}`);
    }
  }

  async updateColumnMetadata(
    ref: DatasetTableRef,
    column: string,
    metadata: Readonly<Record<string, string>>,
  ): Promise<void> {
    const table = await this.#table(ref);
    try {
      await table.updateFieldMetadata([{ path: column, metadata: { ...metadata } }]);
    } catch (error) {
      throw lanceError(error, `updating the metadata of column ${column} of ${describe(ref)}`);
    }
  }

  async createIndex(ref: DatasetTableRef, config: DatasetIndexConfig): Promise<void> {
    const type = INDEX_TYPES[config.indexType.toUpperCase()];
    if (!type) {
      throw invalid(
        `index type ${config.indexType} is not supported here; use one of ${
          DATASET_INDEX_TYPES.join(", ")
        }`,
      );
    }
    const { lance } = await this.#connect();
    const table = await this.#table(ref);
    try {
      const index = lance.index(type.kind, defined(type.options(config.options)));
      await table.createIndex(index, config.column, config.replace, undefined, config.name);
    } catch (error) {
      throw lanceError(error, `creating index ${config.name} on ${describe(ref)}`);
    }
  }

  async dropIndex(ref: DatasetTableRef, name: string): Promise<void> {
    const table = await this.#table(ref);
    try {
      await table.dropIndex(name);
    } catch (error) {
      throw lanceError(error, `dropping index ${name} of ${describe(ref)}`);
    }
  }

  async listIndexes(ref: DatasetTableRef, version: number | null): Promise<DatasetIndexInfo[]> {
    return await this.#at(ref, version, async (table) => {
      const indexes = await table.listIndices();
      return indexes.map((index) => ({
        name: index.name,
        columns: index.columns,
        type: index.indexType,
        typeUrl: index.typeUrl ?? null,
        numRowsIndexed: index.numIndexedRows ?? null,
        numSegments: index.numSegments ?? null,
        totalSizeBytes: index.sizeBytes ?? null,
        details: typeof index.indexDetails === "object" && index.indexDetails !== null
          ? index.indexDetails as Record<string, unknown>
          : {},
        statistics: {
          num_indexed_rows: index.numIndexedRows ?? null,
          num_unindexed_rows: index.numUnindexedRows ?? null,
          index_version: index.indexVersion ?? null,
        },
      }));
    });
  }

  async optimize(
    ref: DatasetTableRef,
    config: Readonly<Record<string, unknown>> | null,
  ): Promise<{ compaction: Record<string, unknown>; cleanup: Record<string, unknown> }> {
    const table = await this.#table(ref);
    const c = config ?? {};
    const olderThan = typeof c.older_than_seconds === "number"
      ? c.older_than_seconds * 1000
      : undefined;
    try {
      const stats = await table.optimize(olderThan, bool(c, "delete_unverified"));
      return { compaction: snake(stats.compaction), cleanup: snake(stats.prune) };
    } catch (error) {
      throw lanceError(error, `optimizing ${describe(ref)}`);
    }
  }

  async stats(
    ref: DatasetTableRef,
    version: number | null,
  ): Promise<{ dataset: Record<string, unknown>; data: Record<string, unknown> }> {
    return await this.#at(ref, version, async (table) => {
      const stats = await table.stats();
      const { fragmentStats, ...rest } = stats as {
        fragmentStats: Record<string, unknown>;
      } & Record<string, unknown>;
      return {
        dataset: { ...snake(rest), version: await table.version() },
        data: snake(fragmentStats ?? {}),
      };
    });
  }

  async listVersions(ref: DatasetTableRef): Promise<DatasetVersion[]> {
    const table = await this.#table(ref);
    const versions = await table.listVersions();
    return versions.map((v) => ({
      version: v.version,
      // LanceDB gives microseconds since the epoch.
      timestamp: new Date(Math.floor(v.timestamp / 1000)),
      metadata: v.metadata,
    }));
  }

  async restore(ref: DatasetTableRef, version: number): Promise<void> {
    if (!Number.isInteger(version) || version < 1) {
      throw invalid(`version must be a positive integer, not ${version}`);
    }
    await this.#at(ref, version, async (table) => {
      try {
        await table.restore();
      } catch (error) {
        throw lanceError(error, `restoring version ${version} of ${describe(ref)}`);
      }
    });
  }

  async version(ref: DatasetTableRef): Promise<number> {
    return await (await this.#table(ref)).version();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const tables = [...this.#tables.values()];
    this.#tables.clear();
    for (const table of await Promise.allSettled(tables)) {
      if (table.status === "fulfilled") table.value.close();
    }
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection) {
      try {
        (await connection).conn.close();
      } catch { /* it failed to open */ }
    }
  }
}

/** `{numRows: 1}` → `{num_rows: 1}`, recursively. */
function snake(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [
      key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      v !== null && typeof v === "object" && !Array.isArray(v)
        ? snake(v as Record<string, unknown>)
        : v,
    ]),
  );
}

/**
 * Rows of one write, kept until commit. Every chunk is read and checked when it arrives (a bad
 * chunk fails the write at once); chunks are brought to the first chunk's column order.
 */
class LanceWriter implements DatasetWriter {
  #schema: arrow.Schema | null;
  readonly #batches: arrow.RecordBatch[] = [];
  #bytes = 0;
  #done = false;
  readonly #max: number;
  readonly #commit: (schema: arrow.Schema | null, batches: arrow.RecordBatch[]) => Promise<void>;
  readonly #target: arrow.Schema | undefined;

  constructor(
    max: number,
    schema: arrow.Schema | null,
    commit: (schema: arrow.Schema | null, batches: arrow.RecordBatch[]) => Promise<void>,
    target?: arrow.Schema,
  ) {
    this.#max = max;
    this.#schema = schema;
    this.#commit = commit;
    this.#target = target;
  }

  write(ipc: Uint8Array): Promise<void> {
    if (this.#done) {
      return Promise.reject(new RoomError("the write has ended", ErrorCode.INVALID_STATE));
    }
    const table = readIpcStream(ipc, "a data chunk");
    if (this.#target) checkColumns(table.schema, this.#target);
    if (this.#schema === null) this.#schema = table.schema;
    if (table.numRows === 0) return Promise.resolve();
    const schema = this.#schema;
    for (const batch of table.batches) {
      const aligned = align(batch, schema);
      this.#bytes += batchBytes(aligned);
      this.#batches.push(aligned);
    }
    if (this.#bytes > this.#max) {
      this.abort();
      return Promise.reject(
        invalid(
          `the write holds more than ${Math.round(this.#max / 1048576)} MiB of rows; one ` +
            `create/insert/merge is one table version kept in memory until it commits: split ` +
            `it into several inserts`,
        ),
      );
    }
    return Promise.resolve();
  }

  async commit(): Promise<void> {
    if (this.#done) throw new RoomError("the write has ended", ErrorCode.INVALID_STATE);
    this.#done = true;
    const batches = this.#batches.splice(0);
    await this.#commit(this.#schema, batches);
  }

  abort(): void {
    this.#done = true;
    this.#batches.length = 0;
  }
}

/** Refuses columns the table does not have (LanceDB would drop them silently). */
function checkColumns(incoming: arrow.Schema, target: arrow.Schema): void {
  const known = new Map(target.fields.map((f) => [f.name, f]));
  for (const field of incoming.fields) {
    const column = known.get(field.name);
    if (!column) {
      throw invalid(
        `the rows have a column ${JSON.stringify(field.name)} the table does not have (it has ${
          target.fields.map((f) => f.name).join(", ")
        })`,
      );
    }
    const size = (t: arrow.DataType) => arrow.DataType.isFixedSizeList(t) ? t.listSize : null;
    if (
      size(column.type) !== null && size(field.type) !== null &&
      size(column.type) !== size(field.type)
    ) {
      throw invalid(
        `column ${JSON.stringify(field.name)} holds vectors of ${size(column.type)} numbers; the ` +
          `rows sent have ${size(field.type)}`,
      );
    }
  }
}

/** A batch with the columns of `schema`, in its order (same names required). */
function align(batch: arrow.RecordBatch, schema: arrow.Schema): arrow.RecordBatch {
  const names = batch.schema.fields.map((f) => f.name);
  const wanted = schema.fields.map((f) => f.name);
  if (names.length === wanted.length && names.every((n, i) => n === wanted[i])) {
    if (batch.schema.fields.every((f, i) => String(f.type) === String(schema.fields[i].type))) {
      return batch;
    }
  }
  if (names.length !== wanted.length || !wanted.every((n) => names.includes(n))) {
    throw invalid(
      `every chunk of one write must have the same columns: the first had ${
        wanted.join(", ")
      }, this one ${names.join(", ")}`,
    );
  }
  const children = schema.fields.map((field) => {
    const child = batch.getChild(field.name)!;
    if (String(child.type) !== String(field.type)) {
      throw invalid(
        `column ${
          JSON.stringify(field.name)
        } is ${field.type} in the first chunk and ${child.type} ` +
          `in a later one; send one type per column`,
      );
    }
    return child.data[0];
  });
  const data = arrow.makeData({
    type: new arrow.Struct(schema.fields),
    length: batch.numRows,
    nullCount: 0,
    children,
  });
  return new arrow.RecordBatch(schema, data);
}
