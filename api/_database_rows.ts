// Private: plain JS row objects ⇄ the Arrow IPC chunks and encoded JSON values of the `sqlite`
// toolkit (protocol-data §3.1), for DatabaseClient. Browser-safe.
import {
  type ColumnSchema,
  decodeArrowStream,
  encodeArrowStream,
  inferColumnTypes,
  type Row,
  type RowValue,
  type SqlValue,
} from "./arrow_rows.ts";
import { bytesToBase64 } from "./_base64.ts";
import { ErrorCode, RoomError } from "./errors.ts";

function invalid(message: string): RoomError {
  return new RoomError(message, ErrorCode.INVALID_REQUEST);
}

/** A JS value of an input row → the value the Arrow codec writes. */
export function toSqlValue(value: unknown, what: string): SqlValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case "string":
    case "boolean":
    case "bigint":
      return value;
    case "number":
      if (!Number.isFinite(value)) throw invalid(`${what}: numbers must be finite, not ${value}`);
      return value;
  }
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw invalid(`${what}: an invalid Date`);
    return value.toISOString();
  }
  if (typeof value === "object") {
    try {
      return JSON.stringify(value);
    } catch (e) {
      throw invalid(`${what}: the object cannot be stored as JSON text (${(e as Error).message})`);
    }
  }
  throw invalid(
    `${what}: a ${typeof value} cannot be stored; use a number, string, boolean, ` +
      `bigint, Uint8Array, Date, null, or a JSON object`,
  );
}

/**
 * A JS value → an encoded JSON value for `params`, `where` objects and `value_json`
 * (protocol-data §3.1): scalars as is, bytes as `{"binary"}`, a Date as `{"timestamp"}`, other
 * objects and arrays as `{"json"}` (stored as JSON text).
 */
export function encodeValue(value: unknown, what: string): unknown {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value)) throw invalid(`${what}: numbers must be finite, not ${value}`);
      return value;
    case "bigint":
      if (value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) {
        return Number(value);
      }
      throw invalid(
        `${what}: the bigint ${value} is beyond 2^53 and cannot travel as a JSON parameter; ` +
          `pass it as a string and write CAST(? AS INTEGER) in the SQL`,
      );
  }
  if (value instanceof Uint8Array) return { binary: bytesToBase64(value) };
  if (value instanceof ArrayBuffer) return { binary: bytesToBase64(new Uint8Array(value)) };
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw invalid(`${what}: an invalid Date`);
    return { timestamp: value.toISOString() };
  }
  if (typeof value === "object") {
    try {
      return { json: JSON.parse(JSON.stringify(value)) };
    } catch (e) {
      throw invalid(`${what}: the object is not JSON (${(e as Error).message})`);
    }
  }
  throw invalid(`${what}: a ${typeof value} cannot be sent as a value`);
}

/** Encodes bound parameters: an array for `?` placeholders or an object for named ones. */
export function encodeParams(params: unknown): unknown[] | Record<string, unknown> | null {
  if (params === null || params === undefined) return null;
  if (Array.isArray(params)) return params.map((v, i) => encodeValue(v, `params[${i}]`));
  if (typeof params === "object" && Object.getPrototypeOf(params) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(params)) {
      out[key] = encodeValue(value, `params.${key}`);
    }
    return out;
  }
  throw invalid(
    "params must be an array (for ? placeholders) or a plain object (for :name placeholders)",
  );
}

/** Encodes a `where`: SQL text as is, or `{column: value}` equality with encoded values. */
export function encodeWhere(where: unknown): string | Record<string, unknown> | null {
  if (where === null || where === undefined) return null;
  if (typeof where === "string") return where;
  if (typeof where === "object" && !Array.isArray(where)) {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(where)) {
      out[key] = encodeValue(value, `where.${key}`);
    }
    return out;
  }
  throw invalid("where must be an SQL condition string or an object {column: value}");
}

function approxBytes(row: readonly SqlValue[]): number {
  let size = 16;
  for (const value of row) {
    if (typeof value === "string") size += value.length * 2;
    else if (value instanceof Uint8Array) size += value.length;
    else size += 8;
  }
  return size;
}

/** Limits of one `data` chunk. */
export interface ChunkLimits {
  /** Most rows per chunk. */
  rows: number;
  /** A chunk ends once its values reach about this many bytes. */
  bytes: number;
}

/**
 * Row objects → columns and positional rows. With `table` (the table's columns, from `inspect`)
 * the row keys are matched to its columns case-insensitively and take their types; without it
 * the columns are the row keys in first-seen order with types inferred from the values.
 * Only the columns that some row names are sent, so the others keep their defaults.
 */
export function rowsToColumns(
  rows: readonly Readonly<Record<string, unknown>>[],
  table: readonly ColumnSchema[] | null,
): { columns: ColumnSchema[]; rows: SqlValue[][] } {
  const byName = new Map<string, ColumnSchema>();
  for (const column of table ?? []) byName.set(column.name.toLowerCase(), column);
  const keys: string[] = [];
  const index = new Map<string, number>(); // lower-case key → position
  const columns: ColumnSchema[] = [];
  rows.forEach((row, r) => {
    if (row === null || typeof row !== "object" || Array.isArray(row)) {
      throw invalid(`rows[${r}] must be an object {column: value}`);
    }
    for (const key of Object.keys(row)) {
      const lower = key.toLowerCase();
      if (index.has(lower)) continue;
      if (table !== null) {
        const column = byName.get(lower);
        if (column === undefined) {
          throw invalid(
            `rows[${r}] has the column ${JSON.stringify(key)}, which the table does not have; ` +
              `add it with addColumns first`,
          );
        }
        columns.push({ name: column.name, type: column.type, nullable: true });
      } else {
        columns.push({ name: key, type: null, nullable: true });
      }
      index.set(lower, keys.length);
      keys.push(key);
    }
  });
  const positional = rows.map((row, r) => {
    const values: SqlValue[] = new Array(keys.length).fill(null);
    for (const [key, value] of Object.entries(row)) {
      values[index.get(key.toLowerCase())!] = toSqlValue(value, `rows[${r}].${key}`);
    }
    return values;
  });
  const typed = table === null ? inferColumnTypes(columns, positional) : columns;
  return { columns: typed, rows: positional };
}

/** Positional rows → self-contained Arrow IPC chunks of at most `limits` each. */
export function encodeChunks(
  columns: readonly ColumnSchema[],
  rows: readonly SqlValue[][],
  limits: ChunkLimits,
): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let start = 0;
  while (start < rows.length) {
    let end = start;
    let bytes = 0;
    while (
      end < rows.length && end - start < limits.rows && (end === start || bytes < limits.bytes)
    ) {
      bytes += approxBytes(rows[end]);
      end++;
    }
    const part = rows.slice(start, end);
    try {
      chunks.push(encodeArrowStream(columns, part));
    } catch (e) {
      if (!(e instanceof RoomError)) throw e;
      // Name the row: the codec names the column and the value.
      const bad = part.findIndex((row) => {
        try {
          encodeArrowStream(columns, [row]);
          return false;
        } catch {
          return true;
        }
      });
      throw invalid(
        `rows[${start + Math.max(bad, 0)}]: ${e.message.replace(/; CAST.*$/, "")}; convert the ` +
          `value to the column's type`,
      );
    }
    start = end;
  }
  return chunks;
}

/** Makes column names unique for row objects: a repeated `id` becomes `id_2`, `id_3`, … */
function uniqueNames(columns: readonly ColumnSchema[]): string[] {
  const seen = new Map<string, number>();
  const taken = new Set(columns.map((c) => c.name));
  return columns.map((column) => {
    const count = (seen.get(column.name) ?? 0) + 1;
    seen.set(column.name, count);
    if (count === 1) return column.name;
    let n = count;
    while (taken.has(`${column.name}_${n}`)) n++;
    const name = `${column.name}_${n}`;
    taken.add(name);
    return name;
  });
}

/** A positional value → a row value (safe int64 as number). */
export function toRowValue(value: SqlValue): RowValue {
  if (typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value;
  }
  return value;
}

/** One Arrow IPC chunk → its columns and row objects. */
export function decodeRows(bytes: Uint8Array): { columns: ColumnSchema[]; rows: Row[] } {
  const { columns, rows } = decodeArrowStream(bytes);
  const names = uniqueNames(columns);
  return {
    columns,
    rows: rows.map((values) => {
      const row: Row = {};
      names.forEach((name, i) => row[name] = toRowValue(values[i]));
      return row;
    }),
  };
}
