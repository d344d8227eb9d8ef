import {
  ArrowTable,
  type DatasetColumn,
  type DatasetRow,
  type DatasetValue,
  type RoomClient,
} from "@meshagent/api";
import { connectRoom, type Env, type RoomConnectionOptions } from "./room_connection.ts";
import type { Output } from "./output.ts";

/** Flags every `meshagent room dataset …` command shares. */
export interface DatasetCommandOptions extends RoomConnectionOptions {
  /** The table. */
  table?: string;
  /** The namespace, segments joined by `/` (default: the root). */
  namespace?: string;
  /** The branch (default: main). */
  branch?: string;
  /** Print JSON, one object per line, instead of a table. */
  json?: boolean;
}

/** Flags of `room dataset search`. */
export interface DatasetSearchCommandOptions extends DatasetCommandOptions {
  /** An SQL filter. */
  where?: string;
  /** A query vector (JSON array). */
  vector?: string;
  /** A full-text query. */
  text?: string;
  /** Columns, comma-separated. */
  select?: string;
  /** Most rows. */
  limit?: number;
  /** Rows to skip. */
  offset?: number;
  /** An older version (`--table-version`). */
  tableVersion?: number;
}

/** Flags of `room dataset create` / `import`. */
export interface DatasetImportCommandOptions extends DatasetCommandOptions {
  /** Columns `name:type,…` (types as in `ArrowTable`: int64, utf8, vector[768], …). */
  columns?: string;
  /** `create` (default for create), `overwrite`, `create_if_not_exists`, or `append` (import). */
  mode?: string;
  /** The file format: `csv`, `jsonl`, `json` (default: from the extension). */
  format?: string;
  /** Rows per chunk sent (default 10000). */
  batchRows?: number;
}

/** Flags of `room dataset sql`. */
export interface DatasetSqlCommandOptions extends RoomConnectionOptions {
  /** The tables the query reads, `NAME` or `NAME=ALIAS`; repeatable. */
  table?: readonly string[];
  /** The namespace of the tables, segments joined by `/` (default: the root). */
  namespace?: string;
  /** The branch (default: main). */
  branch?: string;
  /** Print JSON, one object per line, instead of a table. */
  json?: boolean;
}

/** Where the table of a command is. */
function target(options: DatasetCommandOptions): {
  table: string;
  namespace?: string[];
  branch?: string;
} {
  if (!options.table) throw new Error("give the table with --table <name>");
  return { table: options.table, ...scope(options) };
}

function scope(options: DatasetCommandOptions): { namespace?: string[]; branch?: string } {
  const namespace = options.namespace?.split("/").filter((s) => s !== "");
  return {
    ...(namespace && namespace.length > 0 ? { namespace } : {}),
    ...(options.branch ? { branch: options.branch } : {}),
  };
}

async function withRoom<T>(
  options: RoomConnectionOptions,
  env: Env | undefined,
  fn: (room: RoomClient) => Promise<T>,
): Promise<T> {
  const room = await connectRoom(options, env);
  try {
    return await fn(room);
  } finally {
    await room.dispose();
  }
}

function jsonValue(value: DatasetValue): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) {
    let text = "";
    for (const byte of value) text += String.fromCharCode(byte);
    return btoa(text);
  }
  if (Array.isArray(value)) return value.map(jsonValue);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonValue(v)]));
  }
  return value;
}

function cellText(value: DatasetValue): string {
  if (value === null) return "NULL";
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (typeof value === "object") {
    const text = JSON.stringify(jsonValue(value));
    return text.length > 60 ? text.slice(0, 57) + "..." : text;
  }
  return String(value).replace(/\r?\n/g, "\\n");
}

/**
 * Formats dataset rows as a plain-text table (vectors and objects as short JSON, times as
 * ISO-8601, bytes as their length).
 *
 * @param columns The column names, in order.
 * @param rows The rows.
 * @returns The lines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDatasetTable } from "@meshagent/cli";
 * const lines = formatDatasetTable(["id", "v"], [{ id: 1, v: [0.5, 1] }]);
 * assert.equal(lines.join("\n"), "id  v\n--  -------\n1   [0.5,1]");
 * ```
 */
export function formatDatasetTable(
  columns: readonly string[],
  rows: readonly DatasetRow[],
): string[] {
  const cells = rows.map((row) => columns.map((column) => cellText(row[column] ?? null)));
  const widths = columns.map((column, i) =>
    Math.max(column.length, ...cells.map((line) => line[i].length))
  );
  const line = (values: readonly string[]) =>
    values.map((value, i) => i === values.length - 1 ? value : value.padEnd(widths[i])).join("  ");
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)];
}

function printRows(output: Output, rows: readonly DatasetRow[], json: boolean | undefined): void {
  if (json) {
    for (const row of rows) output.out(JSON.stringify(jsonValue(row as DatasetValue)));
    return;
  }
  const columns: string[] = [];
  for (const row of rows) {
    for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  }
  if (rows.length === 0) {
    output.err("no rows");
    return;
  }
  for (const line of formatDatasetTable(columns, rows)) output.out(line);
  output.err(`${rows.length} row${rows.length === 1 ? "" : "s"}`);
}

/**
 * Parses a column list `name:type,name:type` (types as {@linkcode ArrowTable} names them; a `!`
 * after the type makes the column non-nullable).
 *
 * @param spec The list.
 * @returns The columns.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDatasetColumns } from "@meshagent/cli";
 * assert.deepEqual(parseDatasetColumns("id:int64!,v:vector[3]"), [
 *   { name: "id", type: "int64", nullable: false },
 *   { name: "v", type: "vector[3]", nullable: true },
 * ]);
 * ```
 */
export function parseDatasetColumns(spec: string): DatasetColumn[] {
  return spec.split(/,(?![^\[]*\])/).map((part) => part.trim()).filter((p) => p !== "").map(
    (part) => {
      const colon = part.indexOf(":");
      if (colon <= 0) throw new Error(`a column is name:type, not ${JSON.stringify(part)}`);
      const type = part.slice(colon + 1).trim();
      const required = type.endsWith("!");
      return {
        name: part.slice(0, colon).trim(),
        type: required ? type.slice(0, -1) : type,
        nullable: !required,
      };
    },
  );
}

/**
 * Splits CSV text into records (RFC 4180: quoted fields, doubled quotes, newlines in quotes).
 *
 * @param text The CSV text.
 * @returns The records (the first is the header).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCsv } from "@meshagent/cli";
 * assert.deepEqual(parseCsv('a,b\n1,"x, ""y"""\n'), [["a", "b"], ["1", 'x, "y"']]);
 * ```
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      record.push(field);
      field = "";
      if (record.length > 1 || record[0] !== "") records.push(record);
      record = [];
    } else field += c;
  }
  if (field !== "" || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

/** CSV cells → typed values: numbers when every value of the column is one, else text. */
function csvRows(records: string[][]): Record<string, unknown>[] {
  const [header, ...body] = records;
  if (!header) return [];
  const numeric = header.map((_, c) =>
    body.every((r) =>
      r[c] === undefined || r[c] === "" || /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(r[c])
    )
  );
  return body.map((r) =>
    Object.fromEntries(
      header.map((name, c) => {
        const cell = r[c];
        if (cell === undefined || cell === "") return [name, null];
        return [name, numeric[c] ? Number(cell) : cell];
      }),
    )
  );
}

function parseRows(text: string, format: string): Record<string, unknown>[] {
  if (format === "csv") return csvRows(parseCsv(text));
  if (format === "json") {
    const value = JSON.parse(text);
    if (!Array.isArray(value)) throw new Error("a JSON import holds an array of row objects");
    return value;
  }
  if (format === "jsonl") {
    return text.split(/\r?\n/).filter((l) => l.trim() !== "").map((line, i) => {
      try {
        return JSON.parse(line);
      } catch {
        throw new Error(`line ${i + 1} is not JSON`);
      }
    });
  }
  throw new Error(
    `format ${format} cannot be imported; use csv, jsonl, json or parquet`,
  );
}

function formatOf(path: string, format: string | undefined): string {
  if (format) return format;
  if (/\.csv$/i.test(path)) return "csv";
  if (/\.(jsonl|ndjson)$/i.test(path)) return "jsonl";
  if (/\.json$/i.test(path)) return "json";
  if (/\.parquet$/i.test(path)) return "parquet";
  throw new Error(`cannot tell the format of ${path}; give --format csv|jsonl|json|parquet`);
}

/** `room dataset table`: lists the tables of a namespace. */
export async function datasetTablesCommand(
  options: DatasetCommandOptions,
  output: Output,
  env?: Env,
): Promise<string[]> {
  return await withRoom(options, env, async (room) => {
    const tables = await room.datasets.listTables(scope(options));
    for (const table of tables) output.out(options.json ? JSON.stringify({ name: table }) : table);
    return tables;
  });
}

/** `room dataset inspect`: the columns of a table. */
export async function datasetInspectCommand(
  options: DatasetCommandOptions,
  output: Output,
  env?: Env,
): Promise<DatasetColumn[]> {
  return await withRoom(options, env, async (room) => {
    const columns = await room.datasets.inspect(target(options));
    const rows = columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable ?? true }));
    printRows(output, rows, options.json);
    return columns;
  });
}

/**
 * `room dataset search`: the rows that match, as a table (or JSON lines with `--json`).
 *
 * @param options The table, filter, vector, text, columns, limit.
 * @param output Where the rows go.
 * @param env Reads environment variables.
 * @returns The rows.
 *
 * @example (needs a running room, so shown without running it)
 * ```ts
 * import assert from "node:assert/strict";
 * import { datasetSearchCommand } from "@meshagent/cli";
 * assert(typeof datasetSearchCommand === "function");
 * // meshagent room dataset search --room demo --table docs --where "id > 3" --json
 * ```
 */
export async function datasetSearchCommand(
  options: DatasetSearchCommandOptions,
  output: Output,
  env?: Env,
): Promise<DatasetRow[]> {
  return await withRoom(options, env, async (room) => {
    const rows = await room.datasets.searchRows({
      ...target(options),
      where: options.where,
      vector: options.vector ? JSON.parse(options.vector) : undefined,
      text: options.text,
      select: options.select?.split(",").map((s) => s.trim()).filter((s) => s !== ""),
      limit: options.limit,
      offset: options.offset,
      version: options.tableVersion,
    });
    printRows(output, rows, options.json);
    return rows;
  });
}

/**
 * `room dataset import FILE`: reads CSV, JSON lines or a JSON array and streams it into a table
 * (created from the data unless `--mode append`), printing progress on stderr.
 *
 * @param path The local file.
 * @param options The table, mode, format and chunk size.
 * @param output Where progress goes.
 * @param env Reads environment variables.
 * @returns The number of rows imported.
 */
export async function datasetImportCommand(
  path: string,
  options: DatasetImportCommandOptions,
  output: Output,
  env?: Env,
): Promise<number> {
  const format = formatOf(path, options.format);
  const batch = options.batchRows ?? 10_000;
  if (format === "parquet") return await importParquet(path, options, batch, output, env);
  const rows = parseRows(await Deno.readTextFile(path), format);
  return await withRoom(options, env, async (room) => {
    const t = target(options);
    const columns = options.columns ? parseDatasetColumns(options.columns) : undefined;
    let sent = 0;
    const started = performance.now();
    const chunks = async function* (types: DatasetColumn[] | undefined) {
      for (let i = 0; i < rows.length; i += batch) {
        const chunk = ArrowTable.fromRows(rows.slice(i, i + batch), types);
        yield chunk;
        sent += chunk.numRows;
        output.err(`imported ${sent}/${rows.length} rows`);
      }
    };
    if (options.mode === "append") {
      const types = await room.datasets.inspect(t);
      await room.datasets.insertStream({ ...t, chunks: chunks(types) });
    } else {
      // Column types from the whole file (a chunk alone may see only nulls in a column).
      const types = columns ?? (rows.length > 0 ? ArrowTable.fromRows(rows).columns : undefined);
      await room.datasets.createTableFromDataStream({
        name: t.table,
        namespace: t.namespace,
        branch: t.branch,
        mode: (options.mode ?? "create") as "create",
        schema: types,
        chunks: chunks(types),
      });
    }
    const seconds = (performance.now() - started) / 1000;
    output.err(`${rows.length} rows into ${t.table} in ${seconds.toFixed(1)} s`);
    return rows.length;
  });
}

/**
 * A Parquet import: the file read with DuckDB (loaded now) into Arrow chunks of `batch` rows,
 * streamed into the table like any import, with progress.
 */
async function importParquet(
  path: string,
  options: DatasetImportCommandOptions,
  batch: number,
  output: Output,
  env: Env | undefined,
): Promise<number> {
  const { openParquet } = await import("@meshagent/server");
  const file = await openParquet(path, { batchRows: batch });
  try {
    return await withRoom(options, env, async (room) => {
      const t = target(options);
      let sent = 0;
      const started = performance.now();
      const chunks = async function* () {
        for await (const ipc of file.chunks()) {
          const chunk = ArrowTable.fromIpc(ipc);
          yield chunk;
          sent += chunk.numRows;
          output.err(`imported ${sent}/${file.rows} rows`);
        }
      };
      if (options.mode === "append") {
        await room.datasets.insertStream({ ...t, chunks: chunks() });
      } else {
        await room.datasets.createTableFromDataStream({
          name: t.table,
          namespace: t.namespace,
          branch: t.branch,
          mode: (options.mode ?? "create") as "create",
          schema: ArrowTable.fromIpc(file.schema),
          chunks: chunks(),
        });
      }
      const seconds = (performance.now() - started) / 1000;
      output.err(`${sent} rows into ${t.table} in ${seconds.toFixed(1)} s`);
      return sent;
    });
  } finally {
    file.close();
  }
}

/**
 * `room dataset sql QUERY`: runs a read-only SQL query over the tables named with `--table
 * NAME[=ALIAS]` and prints its rows (a table, or JSON lines with `--json`).
 *
 * @param query The SQL query.
 * @param options The tables, namespace and output format.
 * @param output Where the rows go.
 * @param env Reads environment variables.
 * @returns The rows.
 *
 * @example (needs a running room, so shown without running it)
 * ```ts
 * import assert from "node:assert/strict";
 * import { datasetSqlCommand } from "@meshagent/cli";
 * assert(typeof datasetSqlCommand === "function");
 * // meshagent room dataset sql --room demo --table docs=d "SELECT count(*) FROM d"
 * ```
 */
export async function datasetSqlCommand(
  query: string,
  options: DatasetSqlCommandOptions,
  output: Output,
  env?: Env,
): Promise<DatasetRow[]> {
  const tables = (options.table ?? []).map((spec) => {
    const eq = spec.indexOf("=");
    if (eq === 0 || eq === spec.length - 1) {
      throw new Error(`--table takes NAME or NAME=ALIAS, not ${JSON.stringify(spec)}`);
    }
    return eq < 0 ? { name: spec } : { name: spec.slice(0, eq), alias: spec.slice(eq + 1) };
  });
  return await withRoom(options, env, async (room) => {
    const where = scope({ namespace: options.namespace, branch: options.branch });
    const rows = (await room.datasets.sql({ query, tables, ...where }))
      .flatMap((t) => t.toRows());
    printRows(output, rows, options.json);
    return rows;
  });
}

/** `room dataset create`: a table from `--columns`. */
export async function datasetCreateCommand(
  options: DatasetImportCommandOptions,
  output: Output,
  env?: Env,
): Promise<void> {
  if (!options.columns) throw new Error("give the columns with --columns name:type,…");
  const columns = parseDatasetColumns(options.columns);
  await withRoom(options, env, async (room) => {
    const t = target(options);
    await room.datasets.createTableWithSchema({
      name: t.table,
      namespace: t.namespace,
      branch: t.branch,
      schema: columns,
      mode: (options.mode ?? "create") as "create",
    });
    output.err(`created ${t.table}`);
  });
}

/** The other table commands: one room call each, its result printed. */
export async function datasetTableCommand(
  action:
    | "drop"
    | "insert"
    | "merge"
    | "update"
    | "delete"
    | "add-columns"
    | "drop-columns"
    | "optimize"
    | "stats"
    | "version"
    | "restore"
    | "index"
    | "index-create"
    | "index-drop"
    | "count",
  options: DatasetCommandOptions & {
    rows?: string;
    on?: string;
    where?: string;
    set?: readonly string[];
    column?: readonly string[];
    tableVersion?: number;
    type?: string;
    name?: string;
  },
  output: Output,
  env?: Env,
): Promise<void> {
  await withRoom(options, env, async (room) => {
    const t = target(options);
    const ds = room.datasets;
    const rows = () => {
      if (!options.rows) throw new Error("give the rows as a JSON array (or one object)");
      const value = JSON.parse(options.rows);
      return Array.isArray(value) ? value : [value];
    };
    const pairs = (list: readonly string[] | undefined, flag: string) =>
      (list ?? []).map((item) => {
        const eq = item.indexOf("=");
        if (eq <= 0) throw new Error(`${flag} takes name=value, not ${JSON.stringify(item)}`);
        return [item.slice(0, eq), item.slice(eq + 1)] as const;
      });
    const print = (value: unknown) =>
      output.out(options.json ? JSON.stringify(value) : JSON.stringify(value, null, 2));
    switch (action) {
      case "drop":
        await ds.dropTable({ name: t.table, namespace: t.namespace, branch: t.branch });
        return output.err(`dropped ${t.table}`);
      case "insert":
        await ds.insert({ ...t, records: rows() });
        return output.err(`inserted ${rows().length} rows`);
      case "merge":
        if (!options.on) throw new Error("give the key column with --on <column>");
        await ds.merge({ ...t, on: options.on, records: rows() });
        return output.err(`merged ${rows().length} rows`);
      case "update": {
        const values = Object.fromEntries(
          pairs(options.set, "--set").map(([k, v]) => {
            try {
              return [k, JSON.parse(v)];
            } catch {
              return [k, v];
            }
          }),
        );
        await ds.update({ ...t, where: options.where, values });
        return output.err("updated");
      }
      case "delete":
        if (!options.where) throw new Error("give the rows to delete with --where <sql>");
        await ds.delete({ ...t, where: options.where });
        return output.err("deleted");
      case "count":
        return output.out(String(await ds.count({ ...t, where: options.where })));
      case "add-columns":
        await ds.addColumns({
          ...t,
          newColumns: Object.fromEntries(pairs(options.column, "--column")),
        });
        return output.err("added");
      case "drop-columns":
        await ds.dropColumns({ ...t, columns: options.column ?? [] });
        return output.err("dropped");
      case "optimize":
        return print(await ds.optimize(t));
      case "stats":
        return print(await ds.stats(t));
      case "version":
        return printRows(
          output,
          (await ds.listVersions(t)).map((v) => ({
            version: v.version,
            timestamp: v.timestamp,
            rows: (v.metadata.total_rows as string | undefined) ?? null,
          })),
          options.json,
        );
      case "restore":
        if (options.tableVersion === undefined) throw new Error("give --table-version <n>");
        await ds.restore({ ...t, version: options.tableVersion });
        return output.err(`restored version ${options.tableVersion}`);
      case "index":
        return printRows(
          output,
          (await ds.listIndexes(t)).map((i) => ({
            name: i.name,
            type: i.type,
            columns: i.columns.join(","),
            rows: i.numRowsIndexed,
          })),
          options.json,
        );
      case "index-create": {
        const column = options.column?.[0];
        if (!column || !options.type) {
          throw new Error("give --column <name> and --type BTREE|BITMAP|IVF_PQ|INVERTED|…");
        }
        await ds.createIndex({
          ...t,
          config: {
            column,
            index_type: options.type,
            ...(options.name ? { name: options.name } : {}),
          },
        });
        return output.err(`created index ${options.name ?? `${column}_idx`}`);
      }
      case "index-drop":
        if (!options.name) throw new Error("give the index with --name <name>");
        await ds.dropIndex({ ...t, name: options.name });
        return output.err(`dropped index ${options.name}`);
    }
  });
}
