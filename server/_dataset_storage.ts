// Private: the dataset toolkit's `import_storage` / `export_storage` (protocol-data §3.3.2, TS
// client only): a table ↔ a file in the room's storage. CSV, TSV, JSON and Parquet go through
// DuckDB (its built-in readers and COPY) in a sandbox that may touch one private temp folder
// only; Arrow IPC is read and written with apache-arrow. Notes in DATASETS.md.
import * as arrow from "apache-arrow";
import { type ApiScope, ErrorCode, type JsonObject, RoomError } from "@meshagent/api";
import { duckMessage, loadDuckDb, openDuckSandbox } from "./_duckdb.ts";
import { DuckBatchReader, duckColumns, DuckResultEncoder, quoteIdent } from "./_duckdb_arrow.ts";
import { appendTable } from "./_dataset_sql.ts";
import { checkDatasetGrant } from "./dataset_grants.ts";
import type { DatasetStore, DatasetTableRef, DatasetWriter } from "./dataset_store.ts";
import type { FileStore } from "./file_store.ts";
import { normalizeStoragePath } from "./storage_path.ts";

/** [impl] Rows per chunk of an import when the caller sends no `batch_size` (the CLI's default). */
export const DEFAULT_IMPORT_BATCH_ROWS = 10_000;
/** [impl] The largest file an import reads and table an export writes, without a store limit. */
export const DEFAULT_MAX_TRANSFER_BYTES = 1024 * 1024 * 1024;
/** [impl] DuckDB's limits while it parses or writes a file. */
const DUCK_LIMITS = { memoryLimit: "512MB", threads: 2 } as const;
const COPY_CHUNK = 1024 * 1024;

/** The file formats of the wire, without `auto`. */
type Format = "json" | "arrow" | "csv" | "tsv" | "parquet" | "excel";

/** File name endings → format, for `format: "auto"` (lowercased). */
const EXTENSIONS: Readonly<Record<string, Format>> = {
  csv: "csv",
  tsv: "tsv",
  tab: "tsv",
  json: "json",
  jsonl: "json",
  ndjson: "json",
  parquet: "parquet",
  pq: "parquet",
  arrow: "arrow",
  ipc: "arrow",
  feather: "arrow",
  arrows: "arrow",
  xlsx: "excel",
  xls: "excel",
};

/** How DuckDB reads (`read`, `$path` bound) and writes (`COPY … TO` options) each format. */
const DUCK_FORMATS: Readonly<
  Record<"csv" | "tsv" | "json" | "parquet", {
    read: string;
    copy: string;
  }>
> = {
  csv: { read: "read_csv($path, header = true)", copy: "FORMAT csv, HEADER true" },
  tsv: {
    read: "read_csv($path, header = true, delim = '\t')",
    copy: "FORMAT csv, HEADER true, DELIMITER '\t'",
  },
  json: { read: "read_json_auto($path, format = 'auto')", copy: "FORMAT json" },
  parquet: { read: "read_parquet($path)", copy: "FORMAT parquet" },
};

/** What an import or export needs besides its request. */
export interface StorageTransfer {
  /** The room's tables. */
  readonly store: DatasetStore;
  /** The room's files. */
  readonly files: FileStore;
  /** The caller's grants. */
  readonly scope: ApiScope;
  /** The most bytes a file (import) or a table's rows (export) may have. */
  readonly maxBytes: number;
}

function invalid(message: string): RoomError {
  return new RoomError(message, ErrorCode.INVALID_REQUEST);
}

function denied(message: string): RoomError {
  return new RoomError(message, ErrorCode.PERMISSION_DENIED);
}

/** The request's format (by the file name for `auto`); excel is refused here. */
function formatOf(request: JsonObject, path: string, tool: string): Exclude<Format, "excel"> {
  const format = askedFormat(request, path, tool);
  if (format === "excel") {
    // [impl] DuckDB's excel extension is not installed here.
    throw invalid(
      "excel files are not supported by this server; save the sheet as CSV and import that",
    );
  }
  return format;
}

function askedFormat(request: JsonObject, path: string, tool: string): Format {
  const asked = request.format ?? "auto";
  if (asked !== "auto") {
    if (typeof asked !== "string" || !Object.values(EXTENSIONS).includes(asked as Format)) {
      throw invalid(
        `datasets.${tool}: format must be auto, json, arrow, csv, tsv, parquet or excel, not ` +
          JSON.stringify(asked),
      );
    }
    return asked as Format;
  }
  const dot = path.lastIndexOf(".");
  const found = dot < 0 ? undefined : EXTENSIONS[path.slice(dot + 1).toLowerCase()];
  if (found === undefined) {
    throw invalid(
      `datasets.${tool}: cannot tell the format of ${JSON.stringify(path)} from its name; send ` +
        `format (json, arrow, csv, tsv or parquet)`,
    );
  }
  return found;
}

function storagePath(request: JsonObject, scope: ApiScope, write: boolean, tool: string): string {
  const path = normalizeStoragePath(request.path);
  const grant = scope.storage;
  if (!grant || !(write ? grant.canWrite(path) : grant.canRead(path))) {
    throw denied(
      `datasets.${tool} is not allowed: the storage grant does not allow ${
        write ? "writing" : "reading"
      } '${path}'`,
    );
  }
  return path;
}

/** A DuckDB error without our temp folder in it (the user sees their storage path instead). */
function duckError(error: unknown, dir: string, path: string, doing: string): RoomError {
  if (error instanceof RoomError) return error;
  const message = duckMessage(error).replaceAll(`${dir}/file`, path).replaceAll(dir, "");
  return invalid(`${doing} ${JSON.stringify(path)} failed: ${message}`);
}

/** Runs `body` with a private temp folder, removed afterwards. */
async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "meshagent-dataset-" });
  try {
    return await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** A DuckDB sandbox that may read and write `dir` only, closed after `body`. */
async function withDuck<T>(
  dir: string,
  body: (
    duck: Awaited<ReturnType<typeof loadDuckDb>>,
    c: Awaited<ReturnType<typeof openDuckSandbox>>["connection"],
  ) => Promise<T>,
): Promise<T> {
  const duck = await loadDuckDb();
  const { instance, connection } = await openDuckSandbox({ ...DUCK_LIMITS, files: false, dir });
  try {
    return await body(duck, connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * `import_storage`: reads the storage file at `path`, parses it by `format` and writes its rows
 * into `table` as one new version: `create` makes the table (1002 when it exists), `replace`
 * overwrites it, `merge` upserts on column `on`. Rows go to the store in chunks of `batch_size`.
 */
export async function importStorage(t: StorageTransfer, request: JsonObject): Promise<void> {
  const ref = tableRefOf(request, "import_storage");
  const mode = request.mode ?? "create";
  if (mode !== "create" && mode !== "replace" && mode !== "merge") {
    throw invalid(`datasets.import_storage: mode must be create, replace or merge`);
  }
  const on = request.on ?? null;
  if (mode === "merge" && (typeof on !== "string" || on === "")) {
    throw invalid(`datasets.import_storage: mode merge needs on: the key column`);
  }
  const batch = request.batch_size ?? DEFAULT_IMPORT_BATCH_ROWS;
  if (typeof batch !== "number" || !Number.isSafeInteger(batch) || batch < 1) {
    throw invalid(`datasets.import_storage: batch_size must be an integer >= 1`);
  }
  if (mode !== "merge") {
    const alter = checkDatasetGrant(t.scope, "create_table", { ...request, name: ref.name });
    if (alter) throw denied(alter.message.replace("create_table", "import_storage"));
  }
  const path = storagePath(request, t.scope, false, "import_storage");
  const format = formatOf(request, path, "import_storage");
  const info = await t.files.stat(path);
  if (info === undefined || info.isFolder) {
    throw new RoomError(`no file at ${JSON.stringify(path)} in the room's storage`, 1003);
  }
  if ((info.size ?? 0) > t.maxBytes) {
    throw invalid(
      `${JSON.stringify(path)} is ${info.size} bytes, more than the ${t.maxBytes} bytes one ` +
        `dataset write may hold; split the file`,
    );
  }
  const start = (schema: Uint8Array): Promise<DatasetWriter> =>
    mode === "merge" ? t.store.merge(ref, on as string) : t.store.createTable(ref, {
      mode: mode === "replace" ? "overwrite" : "create",
      schema,
      metadata: null,
    });
  const write = async (
    schema: Uint8Array,
    chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  ) => {
    const writer = await start(schema);
    try {
      for await (const chunk of chunks) await writer.write(chunk);
      await writer.commit();
    } finally {
      writer.abort();
    }
  };
  if (format === "arrow") {
    let table: arrow.Table;
    try {
      table = arrow.tableFromIPC(await t.files.readFile(path));
    } catch (error) {
      throw invalid(
        `${JSON.stringify(path)} is not an Arrow IPC file or stream: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    }
    await write(arrow.tableToIPC(table.slice(0, 0), "stream"), arrowChunks(table, batch));
    return;
  }
  const duckFormat = DUCK_FORMATS[format];
  await withTempDir(async (dir) => {
    const local = `${dir}/file`;
    const reader = await t.files.openRead(path);
    const file = await Deno.open(local, { write: true, createNew: true });
    await reader.stream.pipeTo(file.writable);
    await withDuck(dir, async (duck, connection) => {
      let encoder: DuckResultEncoder;
      let result: import("@duckdb/node-api").DuckDBResult;
      let rows: number;
      try {
        // Counted first: a streamed result that fails part way ends quietly (DuckBatchReader).
        const counted = await connection.runAndReadAll(
          `SELECT count(*) FROM ${duckFormat.read}`,
          { path: local },
        );
        rows = Number(counted.getRows()[0][0]);
        result = await connection.stream(`SELECT * FROM ${duckFormat.read}`, { path: local });
        encoder = new DuckResultEncoder(
          result.deduplicatedColumnNames(),
          result.columnTypes(),
          duck,
        );
      } catch (error) {
        throw duckError(error, dir, path, `reading ${format}`);
      }
      const reader = new DuckBatchReader(encoder, () => result.fetchChunk(), duck, batch, rows);
      await write(
        encoder.schema(),
        (async function* () {
          while (true) {
            let next: Uint8Array | null;
            try {
              next = await reader.next();
            } catch (error) {
              throw duckError(error, dir, path, `reading ${format}`);
            }
            if (next === null) return;
            yield next;
          }
        })(),
      );
    });
  });
}

function* arrowChunks(table: arrow.Table, batch: number): Generator<Uint8Array> {
  for (let i = 0; i < table.numRows; i += batch) {
    yield arrow.tableToIPC(table.slice(i, i + batch), "stream");
  }
}

function tableRefOf(request: JsonObject, tool: string): DatasetTableRef {
  const name = request.table;
  if (typeof name !== "string" || name === "") {
    throw invalid(`datasets.${tool} needs table: a non-empty string`);
  }
  const ns = request.namespace ?? null;
  if (ns !== null && (!Array.isArray(ns) || !ns.every((s) => typeof s === "string"))) {
    throw invalid("namespace must be a list of strings or null");
  }
  return { name, namespace: ns as string[] | null };
}

/**
 * `export_storage`: reads `table` (at `version`, default the latest) and writes it to the
 * storage file at `path` in `format` (Arrow = an IPC file; JSON = one object per line), replacing
 * a file there [impl]. The file appears whole or not at all.
 */
export async function exportStorage(t: StorageTransfer, request: JsonObject): Promise<void> {
  const ref = tableRefOf(request, "export_storage");
  const version = request.version ?? null;
  if (version !== null && (typeof version !== "number" || !Number.isSafeInteger(version))) {
    throw invalid("datasets.export_storage: version must be an integer or null");
  }
  const path = storagePath(request, t.scope, true, "export_storage");
  const format = formatOf(request, path, "export_storage");
  const schema = arrow.tableFromIPC(await t.store.inspect(ref, version)).schema;
  let bytes = 0;
  const batches = async function* (): AsyncGenerator<arrow.Table> {
    for await (const ipc of t.store.search(ref, { version })) {
      bytes += ipc.length;
      if (bytes > t.maxBytes) {
        // [impl] The store's write limit bounds an export too.
        throw invalid(
          `table ${JSON.stringify(ref.name)} holds more than ${t.maxBytes} bytes, the most one ` +
            `export writes; export a smaller table`,
        );
      }
      yield arrow.tableFromIPC(ipc);
    }
  };
  if (format === "arrow") {
    const parts: arrow.RecordBatch[] = [];
    for await (const table of batches()) parts.push(...table.batches);
    const table = parts.length === 0 ? new arrow.Table(schema) : new arrow.Table(parts);
    await t.files.writeFile(path, arrow.tableToIPC(table, "file"), { overwrite: true });
    return;
  }
  const duckFormat = DUCK_FORMATS[format];
  await withTempDir(async (dir) => {
    const local = `${dir}/file`;
    await withDuck(dir, async (duck, connection) => {
      try {
        const columns = duckColumns(schema, duck);
        await connection.run(
          `CREATE TABLE t (${columns.map((c) => `${quoteIdent(c.name)} ${c.sqlType}`).join(", ")})`,
        );
        const appender = await connection.createAppender("t");
        try {
          const types = columns.map((_, i) => appender.columnType(i));
          for await (const table of batches()) {
            appendTable(duck, appender, table, types, columns.map((c) => c.toDuck));
          }
          appender.flushSync();
        } finally {
          appender.closeSync();
        }
        const target = `'${local.replaceAll("'", "''")}'`;
        await connection.run(`COPY t TO ${target} (${duckFormat.copy})`);
      } catch (error) {
        throw duckError(error, dir, path, `writing ${format}`);
      }
    });
    await copyToStorage(local, t.files, path);
  });
}

/** Streams a local file into storage; nothing appears at `path` unless every byte was written. */
async function copyToStorage(local: string, files: FileStore, path: string): Promise<void> {
  const size = (await Deno.stat(local)).size;
  const writer = await files.openWrite(path, { overwrite: true, size });
  try {
    using file = await Deno.open(local, { read: true });
    const buffer = new Uint8Array(COPY_CHUNK);
    while (true) {
      const n = await file.read(buffer);
      if (n === null) break;
      await writer.write(buffer.subarray(0, n));
    }
    await writer.commit();
  } finally {
    await writer.abort();
  }
}
