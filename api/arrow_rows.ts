/**
 * Rows ⇄ Apache Arrow IPC stream bytes: the one Arrow codec of the room database (`sqlite`
 * toolkit, protocol-data §3.1), used by the server's store and by the client's
 * `DatabaseClient`. Arrow objects never leave this file: callers see `Uint8Array` payloads and
 * plain positional rows. Browser-safe (only `apache-arrow`).
 *
 * Type policy:
 *
 * | {@linkcode ColumnType} | Arrow type (out) | row value |
 * |---|---|---|
 * | `int64` | Int64 | `bigint` (always, never `number`) |
 * | `float64` | Float64 | `number` |
 * | `utf8` | Utf8 | `string` |
 * | `binary` | Binary | `Uint8Array` |
 * | `bool` | Bool | `boolean` |
 * | `date` | Date32 (days) | `string` `YYYY-MM-DD` |
 * | `timestamp` | Timestamp(µs, "UTC") | `string` ISO-8601 |
 *
 * Arrow input accepts every integer width (as Int64), Float16/32/64, Utf8/LargeUtf8/Utf8View,
 * dictionary-encoded strings, Binary/LargeBinary/FixedSizeBinary/BinaryView, Bool, dates,
 * timestamps, Null, and nested types (List, FixedSizeList, Struct, Map), which come out as
 * JSON text. NULLs stay `null` everywhere.
 *
 * @module
 */

import * as arrow from "apache-arrow";
import { ErrorCode, RoomError } from "./errors.ts";
import { checkArrowIpc } from "./_arrow_ipc_guard.ts";

/** The column types the room database speaks (see the module table of `arrow_rows.ts`). */
export type ColumnType = "int64" | "float64" | "utf8" | "binary" | "bool" | "date" | "timestamp";

/** One value of a row, as SQLite stores it or as it travels in Arrow. */
export type SqlValue = null | bigint | number | string | boolean | Uint8Array;

/**
 * One value of a row read from the database: integers are `number` when they are safe integers
 * and `bigint` beyond, REAL is `number`, TEXT `string`, BLOB `Uint8Array`, BOOLEAN `boolean`,
 * DATE `YYYY-MM-DD` and TIMESTAMP ISO-8601 strings, and NULL `null`.
 */
export type RowValue = null | number | bigint | string | boolean | Uint8Array;

/** One row read from the database: column name → value. */
export type Row = Record<string, RowValue>;

/** One column of a table or a query result. */
export interface ColumnSchema {
  /** The column name (duplicates are allowed in query results). */
  name: string;
  /**
   * The column type; `null` for a column without a declared type (its Arrow type is then
   * inferred from the values, see {@linkcode inferColumnTypes}).
   */
  type: ColumnType | null;
  /** Whether NULLs are allowed (default true). */
  nullable?: boolean;
}

/** Columns and positional rows (each row has one value per column, in column order). */
export interface RowSet {
  /** The columns. */
  columns: ColumnSchema[];
  /** The rows. */
  rows: SqlValue[][];
}

/** The IPC stream MIME type that goes in `content_type` headers. */
export const ARROW_STREAM_CONTENT_TYPE = "application/vnd.apache.arrow.stream";

// ---------------------------------------------------------------------------------------------
// values

function isIntegral(value: number): boolean {
  return Number.isInteger(value) && Number.isSafeInteger(value);
}

const DAY_MS = 86_400_000;

function parseTime(value: string): number | null {
  // SQLite's own CURRENT_TIMESTAMP form is "YYYY-MM-DD HH:MM:SS" (UTC, no zone).
  let text = value.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) text += "T00:00:00Z";
  else if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)) {
    text = text.replace(" ", "T") + "Z";
  }
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

function describeValue(value: SqlValue): string {
  if (value instanceof Uint8Array) return `a ${value.length}-byte blob`;
  if (typeof value === "string") {
    return `the text ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  }
  return `the ${typeof value} ${String(value)}`;
}

/**
 * Converts a value to what an Arrow column of `type` holds (`int64` → bigint, `date` and
 * `timestamp` → milliseconds since the epoch, …).
 *
 * @throws {RoomError} 1008 when the value does not fit, naming the column and what to do.
 */
function toArrowValue(
  value: SqlValue,
  type: ColumnType,
  column: string,
): bigint | number | string | boolean | Uint8Array | null {
  if (value === null || value === undefined) return null;
  const fail = (): never => {
    throw new RoomError(
      `column ${JSON.stringify(column)} is ${type} but holds ${describeValue(value)}; ` +
        `CAST the column in the query or fix the stored value`,
      ErrorCode.OPERATION_FAILED,
    );
  };
  switch (type) {
    case "int64":
      if (typeof value === "bigint") return value;
      if (typeof value === "number" && isIntegral(value)) return BigInt(value);
      if (typeof value === "boolean") return value ? 1n : 0n;
      return fail();
    case "float64":
      if (typeof value === "number") return value;
      if (typeof value === "bigint") return Number(value);
      if (typeof value === "boolean") return value ? 1 : 0;
      return fail();
    case "utf8":
      if (typeof value === "string") return value;
      if (typeof value === "bigint" || typeof value === "number" || typeof value === "boolean") {
        return String(value);
      }
      return fail();
    case "binary":
      if (value instanceof Uint8Array) return value;
      if (typeof value === "string") return new TextEncoder().encode(value);
      return fail();
    case "bool":
      if (typeof value === "boolean") return value;
      if (typeof value === "bigint") return value !== 0n;
      if (typeof value === "number") return value !== 0;
      return fail();
    case "date": {
      if (typeof value !== "string") return fail();
      const ms = parseTime(value);
      return ms === null ? fail() : Math.floor(ms / DAY_MS) * DAY_MS;
    }
    case "timestamp": {
      if (typeof value !== "string") return fail();
      const ms = parseTime(value);
      return ms === null ? fail() : ms;
    }
  }
}

/**
 * Whether `value` can be written to an Arrow column of `type` without an error.
 *
 * @param value The value.
 * @param type The column type.
 * @returns The decision.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(valueFits(1.5, "int64"), false);
 * assert.equal(valueFits(2n, "float64"), true);
 * ```
 */
export function valueFits(value: SqlValue, type: ColumnType): boolean {
  try {
    toArrowValue(value, type, "");
    return true;
  } catch {
    return false;
  }
}

function inferType(values: Iterable<SqlValue>): ColumnType {
  let ints = 0, floats = 0, texts = 0, blobs = 0, bools = 0;
  for (const value of values) {
    if (value === null || value === undefined) continue;
    if (typeof value === "bigint") ints++;
    else if (typeof value === "number") isIntegral(value) ? ints++ : floats++;
    else if (typeof value === "string") texts++;
    else if (typeof value === "boolean") bools++;
    else blobs++;
  }
  if (blobs > 0) return texts + ints + floats + bools === 0 ? "binary" : "utf8";
  if (texts > 0) return "utf8";
  if (floats > 0) return "float64";
  if (ints > 0) return "int64";
  if (bools > 0) return "bool";
  return "utf8";
}

/**
 * Gives every column a concrete type: a column without a type gets one from its values (all
 * integers → `int64`, any non-integer number → `float64`, text → `utf8`, blobs → `binary`, all
 * NULL → `utf8`); a typed column whose values do not fit its type (SQLite's flexible typing) is
 * widened the same way.
 *
 * @param columns The columns.
 * @param rows Sample rows (usually the first batch of a result).
 * @returns New column objects with concrete types.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const [a, b] = inferColumnTypes(
 *   [{ name: "a", type: null }, { name: "b", type: "int64" }],
 *   [[1n, 2.5], [2n, 3n]],
 * );
 * assert.equal(a.type, "int64");
 * assert.equal(b.type, "float64");
 * ```
 */
export function inferColumnTypes(
  columns: readonly ColumnSchema[],
  rows: readonly (readonly SqlValue[])[],
): ColumnSchema[] {
  return columns.map((column, index) => {
    const values = rows.map((row) => row[index]);
    if (column.type !== null && values.every((value) => valueFits(value, column.type!))) {
      return { ...column };
    }
    return { ...column, type: inferType(values) };
  });
}

// ---------------------------------------------------------------------------------------------
// encoding

function arrowType(type: ColumnType): arrow.DataType {
  switch (type) {
    case "int64":
      return new arrow.Int64();
    case "float64":
      return new arrow.Float64();
    case "utf8":
      return new arrow.Utf8();
    case "binary":
      return new arrow.Binary();
    case "bool":
      return new arrow.Bool();
    case "date":
      return new arrow.DateDay();
    case "timestamp":
      return new arrow.TimestampMicrosecond("UTC");
  }
}

function arrowSchema(columns: readonly ColumnSchema[]): arrow.Schema {
  return new arrow.Schema(
    columns.map((column) =>
      new arrow.Field(column.name, arrowType(column.type ?? "utf8"), column.nullable ?? true)
    ),
  );
}

/**
 * Encodes rows as one self-contained Arrow IPC stream: the schema message, one record batch
 * (none when there are no rows) and the end-of-stream marker. Columns without a type get one
 * from the rows ({@linkcode inferColumnTypes}).
 *
 * @param columns The columns.
 * @param rows The rows, one value per column.
 * @returns The IPC stream bytes.
 * @throws {RoomError} 1008 when a value does not fit its column type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bytes = encodeArrowStream(
 *   [{ name: "id", type: "int64" }, { name: "name", type: "utf8" }],
 *   [[1n, "a"], [2n, null]],
 * );
 * assert.deepEqual(decodeArrowStream(bytes).rows, [[1n, "a"], [2n, null]]);
 * ```
 */
export function encodeArrowStream(
  columns: readonly ColumnSchema[],
  rows: readonly (readonly SqlValue[])[],
): Uint8Array {
  const typed = columns.some((column) => column.type === null)
    ? inferColumnTypes(columns, rows)
    : columns;
  const schema = arrowSchema(typed);
  const writer = new arrow.RecordBatchStreamWriter();
  writer.reset(undefined, schema);
  if (rows.length > 0) {
    const children = typed.map((column, index) => {
      const type = column.type!;
      const builder = arrow.makeBuilder({
        type: arrowType(type),
        nullValues: [null, undefined],
      });
      for (const row of rows) builder.append(toArrowValue(row[index], type, column.name));
      return builder.finish().toVector().data[0];
    });
    const data = arrow.makeData({
      type: new arrow.Struct(schema.fields),
      length: rows.length,
      nullCount: 0,
      children,
    });
    writer.write(new arrow.RecordBatch(schema, data));
  }
  writer.finish();
  return writer.toUint8Array(true);
}

/**
 * Encodes a schema alone: an IPC stream with the schema message and zero record batches.
 *
 * @param columns The columns (untyped columns become Utf8).
 * @returns The IPC stream bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bytes = encodeArrowSchema([{ name: "id", type: "int64", nullable: false }]);
 * assert.deepEqual(decodeArrowSchema(bytes), [{ name: "id", type: "int64", nullable: false }]);
 * ```
 */
export function encodeArrowSchema(columns: readonly ColumnSchema[]): Uint8Array {
  return encodeArrowStream(
    columns.map((column) => ({ ...column, type: column.type ?? "utf8" })),
    [],
  );
}

// ---------------------------------------------------------------------------------------------
// decoding

type Reader = (value: unknown) => SqlValue;

function plainJson(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") {
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  }
  if (value instanceof Uint8Array) return btoa(String.fromCharCode(...value));
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plainJson);
  if (ArrayBuffer.isView(value)) {
    return Array.from(value as unknown as ArrayLike<unknown>, plainJson);
  }
  if (typeof value === "object") {
    const candidate = value as { toJSON?: () => unknown; toArray?: () => unknown };
    if (typeof candidate.toJSON === "function") {
      const json = candidate.toJSON();
      if (json !== value) return plainJson(json);
    }
    if (typeof candidate.toArray === "function") return plainJson(candidate.toArray());
    if (value instanceof Map) {
      return Object.fromEntries([...value].map(([k, v]) => [String(k), plainJson(v)]));
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = plainJson(v);
    return out;
  }
  return value;
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function columnReader(field: arrow.Field): { type: ColumnType | null; read: Reader } {
  const t = field.type;
  const where = `column ${JSON.stringify(field.name)}`;
  if (arrow.DataType.isDictionary(t)) {
    const inner = columnReader(new arrow.Field(field.name, t.dictionary, field.nullable));
    return inner;
  }
  if (arrow.DataType.isNull(t)) return { type: null, read: () => null };
  if (arrow.DataType.isInt(t)) {
    return {
      type: "int64",
      read: (v) => {
        if (v === null || v === undefined) return null;
        const big = typeof v === "bigint" ? v : BigInt(v as number);
        if (big > 9223372036854775807n) {
          throw new RoomError(
            `${where}: ${big} does not fit a signed 64-bit integer`,
            ErrorCode.INVALID_REQUEST,
          );
        }
        return big;
      },
    };
  }
  if (arrow.DataType.isFloat(t)) {
    return { type: "float64", read: (v) => (v === null || v === undefined ? null : Number(v)) };
  }
  if (arrow.DataType.isUtf8(t) || arrow.DataType.isLargeUtf8(t) || arrow.DataType.isUtf8View(t)) {
    return { type: "utf8", read: (v) => (v === null || v === undefined ? null : String(v)) };
  }
  if (
    arrow.DataType.isBinary(t) || arrow.DataType.isLargeBinary(t) ||
    arrow.DataType.isFixedSizeBinary(t) || arrow.DataType.isBinaryView(t)
  ) {
    return {
      type: "binary",
      read: (v) => (v === null || v === undefined ? null : new Uint8Array(v as Uint8Array)),
    };
  }
  if (arrow.DataType.isBool(t)) {
    return { type: "bool", read: (v) => (v === null || v === undefined ? null : Boolean(v)) };
  }
  if (arrow.DataType.isDate(t)) {
    return {
      type: "date",
      read: (v) => (v === null || v === undefined ? null : isoDate(Number(v))),
    };
  }
  if (arrow.DataType.isTimestamp(t)) {
    return {
      type: "timestamp",
      read: (v) => (v === null || v === undefined ? null : new Date(Number(v)).toISOString()),
    };
  }
  if (
    arrow.DataType.isList(t) || arrow.DataType.isLargeList(t) ||
    arrow.DataType.isFixedSizeList(t) || arrow.DataType.isStruct(t) || arrow.DataType.isMap(t)
  ) {
    return {
      type: "utf8",
      read: (v) => (v === null || v === undefined ? null : JSON.stringify(plainJson(v))),
    };
  }
  throw new RoomError(
    `${where} has Arrow type ${String(t)}, which the room database cannot store; send it as ` +
      `Int64, Float64, Utf8, Binary, Bool, Date, Timestamp or a List/Struct (stored as JSON text)`,
    ErrorCode.INVALID_REQUEST,
  );
}

function openReader(bytes: Uint8Array): arrow.RecordBatchReader {
  // Before apache-arrow reads it: crafted messages can make it allocate without bound.
  checkArrowIpc(bytes);
  try {
    const reader = arrow.RecordBatchReader.from(bytes);
    reader.open();
    if (!reader.schema) throw new Error("no schema message");
    return reader;
  } catch (error) {
    throw new RoomError(
      `the payload is not an Arrow IPC stream (${
        error instanceof Error ? error.message : String(error)
      }); send application/vnd.apache.arrow.stream bytes`,
      ErrorCode.INVALID_REQUEST,
    );
  }
}

function schemaColumns(schema: arrow.Schema): { columns: ColumnSchema[]; readers: Reader[] } {
  const columns: ColumnSchema[] = [];
  const readers: Reader[] = [];
  for (const [index, field] of schema.fields.entries()) {
    // A FlatBuffer field may leave its name out; apache-arrow then gives null (found by fuzzing
    // the sqlite insert stream: a writer failed on it with a TypeError).
    if (typeof field.name !== "string") {
      throw new RoomError(
        `Arrow field ${index} has no name; every column needs one`,
        ErrorCode.INVALID_REQUEST,
      );
    }
    const { type, read } = columnReader(field);
    columns.push({ name: field.name, type, nullable: field.nullable });
    readers.push(read);
  }
  return { columns, readers };
}

/**
 * Decodes one Arrow IPC stream (schema, optional dictionary and record batches) into columns
 * and rows. Dictionary-encoded strings come out as plain strings; nested values as JSON text.
 *
 * @param bytes The IPC stream bytes.
 * @returns The columns (in schema order) and all rows of all batches.
 * @throws {RoomError} 1002 when the bytes are not an IPC stream or hold an unsupported type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bytes = encodeArrowStream([{ name: "ok", type: "bool" }], [[true], [null]]);
 * const { columns, rows } = decodeArrowStream(bytes);
 * assert.equal(columns[0].type, "bool");
 * assert.deepEqual(rows, [[true], [null]]);
 * ```
 */
export function decodeArrowStream(bytes: Uint8Array): RowSet {
  const reader = openReader(bytes);
  const { columns, readers } = schemaColumns(reader.schema);
  const rows: SqlValue[][] = [];
  try {
    for (const batch of reader) {
      const vectors = columns.map((_, index) => batch.getChildAt(index));
      for (let r = 0; r < batch.numRows; r++) {
        rows.push(readers.map((read, c) => read(vectors[c]?.get(r) ?? null)));
      }
    }
  } catch (error) {
    if (error instanceof RoomError) throw error;
    throw new RoomError(
      `the Arrow IPC stream could not be read (${
        error instanceof Error ? error.message : String(error)
      })`,
      ErrorCode.INVALID_REQUEST,
    );
  }
  return { columns, rows };
}

/**
 * Decodes the schema of an Arrow IPC stream (record batches, if any, are ignored).
 *
 * @param bytes The IPC stream bytes.
 * @returns The columns in schema order.
 * @throws {RoomError} 1002 when the bytes are not an IPC stream or hold an unsupported type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bytes = encodeArrowSchema([{ name: "blob", type: "binary" }]);
 * assert.deepEqual(decodeArrowSchema(bytes), [{ name: "blob", type: "binary", nullable: true }]);
 * ```
 */
export function decodeArrowSchema(bytes: Uint8Array): ColumnSchema[] {
  return schemaColumns(openReader(bytes).schema).columns;
}
