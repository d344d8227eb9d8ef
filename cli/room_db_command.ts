import type { Row, RowValue } from "@meshagent/api";
import type { Env, RoomConnectionOptions } from "./room_connection.ts";
import type { Output } from "./output.ts";
import { withRoom } from "./_with_room.ts";
import { plural, printDone, printList, printObject, tableLines } from "./_format.ts";

/** Flags every `meshagent room sqlite …` command shares. */
export interface DbCommandOptions extends RoomConnectionOptions {
  /** The namespace of the database, segments joined by `/` (default: none). */
  namespace?: string;
  /** Print JSON (one line per row for `query`) instead of a table. */
  json?: boolean;
}

/** Flags of `meshagent room sqlite query`. */
export interface DbQueryCommandOptions extends DbCommandOptions {
  /** The database name. */
  database: string;
  /** The SQL. */
  sql: string;
  /** Positional parameters for `?` placeholders (each JSON, or else plain text). */
  param?: readonly string[];
  /** Named parameters `name=value` for `:name` placeholders (value JSON, or else plain text). */
  named?: readonly string[];
}

/** Flags of `meshagent room sqlite tables`. */
export interface DbTablesCommandOptions extends DbCommandOptions {
  /** The database name. */
  database: string;
}

/** Flags of `meshagent room sqlite create`. */
export interface DbCreateCommandOptions extends DbCommandOptions {
  /** The database name. */
  database: string;
  /** No error when it exists already. */
  ifNotExists?: boolean;
}

/**
 * Parses a parameter given on the command line: JSON when it is valid JSON (`42`, `true`,
 * `null`, `"42"`, `{"a":1}`), plain text otherwise (`hello`).
 *
 * @param text The argument.
 * @returns The value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseParamValue } from "@meshagent/cli";
 * assert(parseParamValue("42") === 42);
 * assert(parseParamValue('"42"') === "42");
 * assert(parseParamValue("it's") === "it's");
 * ```
 */
export function parseParamValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function namespaceOf(options: DbCommandOptions): string[] | null {
  if (options.namespace === undefined || options.namespace === "") return null;
  return options.namespace.split("/").filter((segment) => segment !== "");
}

function paramsOf(options: DbQueryCommandOptions): unknown[] | Record<string, unknown> | undefined {
  const positional = options.param ?? [];
  const named = options.named ?? [];
  if (positional.length > 0 && named.length > 0) {
    throw new Error("use either --param (for ? placeholders) or --named (for :name), not both");
  }
  if (named.length > 0) {
    const out: Record<string, unknown> = {};
    for (const item of named) {
      const eq = item.indexOf("=");
      if (eq <= 0) throw new Error(`--named takes name=value, not ${JSON.stringify(item)}`);
      out[item.slice(0, eq)] = parseParamValue(item.slice(eq + 1));
    }
    return out;
  }
  return positional.length > 0 ? positional.map(parseParamValue) : undefined;
}

function jsonValue(value: RowValue): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) {
    let text = "";
    for (const byte of value) text += String.fromCharCode(byte);
    return btoa(text);
  }
  return value;
}

/**
 * A row as one JSON line: big integers as strings, blobs as base64.
 *
 * @param row The row.
 * @returns The JSON text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rowToJsonLine } from "@meshagent/cli";
 * assert(rowToJsonLine({ id: 1, big: 2n ** 60n }) === '{"id":1,"big":"1152921504606846976"}');
 * ```
 */
export function rowToJsonLine(row: Row): string {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[key] = jsonValue(value);
  return JSON.stringify(out);
}

function cellText(value: RowValue): string {
  if (value === null) return "NULL";
  if (value instanceof Uint8Array) {
    return `x'${Array.from(value, (b) => b.toString(16).padStart(2, "0")).join("")}'`;
  }
  return String(value).replace(/\r?\n/g, "\\n");
}

/**
 * Formats rows as a plain-text table: a header, a rule, one line per row (NULL for nulls, blobs
 * as `x'…'` hex).
 *
 * @param columns The column names, in order.
 * @param rows The rows.
 * @returns The lines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTable } from "@meshagent/cli";
 * const lines = formatTable(["id", "title"], [{ id: 1, title: "a" }, { id: 22, title: null }]);
 * assert(lines.join("\n") === "id  title\n--  -----\n1   a\n22  NULL");
 * ```
 */
export function formatTable(columns: readonly string[], rows: readonly Row[]): string[] {
  const cells = rows.map((row) => columns.map((column) => cellText(row[column] ?? null)));
  return tableLines(columns, cells);
}

/**
 * `meshagent room sqlite query` (alias `sql`; `room db` is the old name of the group): runs one SQL statement with bound parameters and prints the rows as
 * a table (or JSON lines with `--json`), or the number of rows changed.
 *
 * @param options The command's flags.
 * @param output Where the result goes.
 * @param env Reads environment variables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dbCreateCommand, dbQueryCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key), database: "main" };
 * const lines: string[] = [];
 * const out = { out: (l: string) => lines.push(l), err: () => {} };
 * await dbCreateCommand(flags, out);
 * await dbQueryCommand({ ...flags, sql: "SELECT ? + 1 AS n", param: ["41"], json: true }, out);
 * assert(lines.at(-1) === '{"n":42}');
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function dbQueryCommand(
  options: DbQueryCommandOptions,
  output: Output,
  env?: Env,
): Promise<void> {
  const params = paramsOf(options);
  await withRoom(options, env, async (room) => {
    const result = await room.database.executeSql({
      database: options.database,
      query: options.sql,
      params,
      namespace: namespaceOf(options),
    });
    if (result.kind === "statement") {
      if (options.json) output.out(JSON.stringify({ rows_affected: result.rowsAffected }));
      else output.out(`${result.rowsAffected} row${result.rowsAffected === 1 ? "" : "s"} affected`);
      return;
    }
    if (options.json) {
      for (const row of result.rows) output.out(rowToJsonLine(row));
      return;
    }
    const names = result.rows.length > 0
      ? Object.keys(result.rows[0])
      : result.columns.map((column) => column.name);
    if (result.rows.length === 0) {
      output.out(`no rows (columns: ${names.join(", ") || "none"})`);
      return;
    }
    for (const line of formatTable(names, result.rows)) output.out(line);
    output.err(`(${plural(result.rows.length, "row")})`);
  });
}

/**
 * `meshagent room sqlite tables`: lists the tables of a database as a table, a sentence when
 * there are none, or one `{"name"}` object per line with `--json`.
 *
 * @param options The command's flags.
 * @param output Where the list goes.
 * @param env Reads environment variables.
 * @returns The table names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dbCreateCommand, dbTablesCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key), database: "main" };
 * const quiet = { out: () => {}, err: () => {} };
 * await dbCreateCommand(flags, quiet);
 * assert((await dbTablesCommand(flags, quiet)).length === 0);
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function dbTablesCommand(
  options: DbTablesCommandOptions,
  output: Output,
  env?: Env,
): Promise<string[]> {
  return await withRoom(options, env, async (room) => {
    const tables = await room.database.listTables({
      database: options.database,
      namespace: namespaceOf(options),
    });
    printList(output, tables, {
      json: options.json,
      toJson: (name) => ({ name }),
      columns: [{ header: "table", value: (name) => name }],
      empty: `database ${options.database} has no tables yet (create one: meshagent room sqlite ` +
        `query --database ${options.database} "CREATE TABLE …")`,
    });
    return tables;
  });
}

/**
 * `meshagent room sqlite databases` (or `database list`): lists the room's databases (of
 * `--namespace`) as a table, a sentence when there are none, or one `{"name"}` object per line
 * with `--json`.
 *
 * @param options The command's flags.
 * @param output Where the list goes.
 * @param env Reads environment variables.
 * @returns The database names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dbDatabasesCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key) };
 * assert((await dbDatabasesCommand(flags, { out: () => {}, err: () => {} })).length === 0);
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function dbDatabasesCommand(
  options: DbCommandOptions,
  output: Output,
  env?: Env,
): Promise<string[]> {
  return await withRoom(options, env, async (room) => {
    const databases = await room.database.listDatabases({ namespace: namespaceOf(options) });
    printList(output, databases, {
      json: options.json,
      toJson: (name) => ({ name }),
      columns: [{ header: "database", value: (name) => name }],
      empty: `no databases${options.namespace ? ` in namespace ${options.namespace}` : ""} yet ` +
        "(create one: meshagent room sqlite database create --database NAME)",
    });
    return databases;
  });
}

/**
 * `meshagent room sqlite create` (or `database create`): creates a database (an error when it
 * exists, unless `--if-not-exists`).
 *
 * @param options The command's flags.
 * @param output Where the confirmation goes (stderr).
 * @param env Reads environment variables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dbCreateCommand, dbDatabasesCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key) };
 * const quiet = { out: () => {}, err: () => {} };
 * await dbCreateCommand({ ...flags, database: "main" }, quiet);
 * assert((await dbDatabasesCommand(flags, quiet))[0] === "main");
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function dbCreateCommand(
  options: DbCreateCommandOptions,
  output: Output,
  env?: Env,
): Promise<void> {
  await withRoom(options, env, async (room) => {
    await room.database.createDatabase({
      name: options.database,
      namespace: namespaceOf(options),
      mode: options.ifNotExists ? "create_if_not_exists" : "create",
    });
    printDone(output, options.json, `created database ${options.database}`, {
      created: options.database,
      namespace: namespaceOf(options),
    });
  });
}

/** Flags of `meshagent room sqlite database drop`. */
export interface DbDropCommandOptions extends DbCommandOptions {
  /** The database name. */
  database: string;
  /** No error when it does not exist. */
  ifExists?: boolean;
}

/**
 * `meshagent room sqlite database drop`: deletes a database and all its tables.
 *
 * @param options The command's flags.
 * @param output Where the confirmation goes (stderr; stdout with `--json`).
 * @param env Reads environment variables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dbCreateCommand, dbDatabasesCommand, dbDropCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key), database: "main" };
 * const quiet = { out: () => {}, err: () => {} };
 * await dbCreateCommand(flags, quiet);
 * await dbDropCommand(flags, quiet);
 * assert((await dbDatabasesCommand(flags, quiet)).length === 0);
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function dbDropCommand(
  options: DbDropCommandOptions,
  output: Output,
  env?: Env,
): Promise<void> {
  await withRoom(options, env, async (room) => {
    await room.database.dropDatabase({
      name: options.database,
      namespace: namespaceOf(options),
      ignoreMissing: options.ifExists ?? false,
    });
    printDone(output, options.json, `dropped database ${options.database}`, {
      dropped: options.database,
      namespace: namespaceOf(options),
    });
  });
}

/** Flags of `meshagent room sqlite database inspect`. */
export interface DbInspectCommandOptions extends DbCommandOptions {
  /** The database name. */
  database: string;
}

/**
 * `meshagent room sqlite database inspect`: a database's table count and size.
 *
 * @param options The command's flags.
 * @param output Where the details go.
 * @param env Reads environment variables.
 * @returns The details.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dbCreateCommand, dbInspectCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key), database: "main" };
 * const quiet = { out: () => {}, err: () => {} };
 * await dbCreateCommand(flags, quiet);
 * assert((await dbInspectCommand(flags, quiet)).tables === 0);
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function dbInspectCommand(
  options: DbInspectCommandOptions,
  output: Output,
  env?: Env,
): Promise<{ name: string; tables: number; sizeBytes: number }> {
  return await withRoom(options, env, async (room) => {
    const info = await room.database.inspectDatabase({
      name: options.database,
      namespace: namespaceOf(options),
    });
    printObject(output, {
      name: info.name,
      namespace: info.namespace,
      tables: info.tables,
      size_bytes: info.sizeBytes,
    }, options.json);
    return info;
  });
}
