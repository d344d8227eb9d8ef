import type { Row, RowValue } from "@meshagent/api";
import type { RoomClient } from "@meshagent/api";
import { connectRoom, type Env, type RoomConnectionOptions } from "./room_connection.ts";
import type { Output } from "./output.ts";

/** Flags every `meshagent room db …` command shares. */
export interface DbCommandOptions extends RoomConnectionOptions {
  /** The namespace of the database, segments joined by `/` (default: none). */
  namespace?: string;
  /** Print JSON (one line per row for `query`) instead of a table. */
  json?: boolean;
}

/** Flags of `meshagent room db query`. */
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

/** Flags of `meshagent room db tables`. */
export interface DbTablesCommandOptions extends DbCommandOptions {
  /** The database name. */
  database: string;
}

/** Flags of `meshagent room db create`. */
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
  const widths = columns.map((column, i) =>
    Math.max(column.length, ...cells.map((line) => line[i].length))
  );
  const line = (values: readonly string[]) =>
    values.map((value, i) => i === values.length - 1 ? value : value.padEnd(widths[i]))
      .join("  ");
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)];
}

/**
 * `meshagent room db query`: runs one SQL statement with bound parameters and prints the rows as
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
    for (const line of formatTable(names, result.rows)) output.out(line);
    output.err(`(${result.rows.length} row${result.rows.length === 1 ? "" : "s"})`);
  });
}

/**
 * `meshagent room db tables`: lists the tables of a database, one per line (a JSON array with
 * `--json`).
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
    if (options.json) output.out(JSON.stringify(tables));
    else for (const table of tables) output.out(table);
    return tables;
  });
}

/**
 * `meshagent room db databases`: lists the room's databases (of `--namespace`), one per line (a
 * JSON array with `--json`).
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
    if (options.json) output.out(JSON.stringify(databases));
    else for (const name of databases) output.out(name);
    return databases;
  });
}

/**
 * `meshagent room db create`: creates a database (an error when it exists, unless
 * `--if-not-exists`).
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
    output.err(`created database ${options.database}`);
  });
}
