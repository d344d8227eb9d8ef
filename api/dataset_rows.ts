/**
 * Rows ⇄ Apache Arrow IPC streams for the room's datasets (toolkit `dataset`, protocol-data
 * §3.3): {@linkcode ArrowTable} holds the bytes that travel, and turns them into plain rows and
 * back. Arrow objects never leave this file (callers see bytes, {@linkcode DatasetColumn}s and
 * rows), so the same code serves the client, the CLI and the thread storage. Browser-safe.
 *
 * | {@linkcode DatasetColumnType} | Arrow type | row value |
 * |---|---|---|
 * | `int8` … `int64`, `uint8` … `uint64` | that integer | `number` (`bigint` past 2^53) |
 * | `float16`, `float32`, `float64` | that float | `number` |
 * | `utf8`, `large_utf8` | Utf8 / LargeUtf8 | `string` |
 * | `binary`, `large_binary` | Binary / LargeBinary | `Uint8Array` |
 * | `bool` | Bool | `boolean` |
 * | `date` | Date32 (days) | `string` `YYYY-MM-DD` |
 * | `timestamp` | Timestamp(µs, "UTC") | `Date` |
 * | `vector[N]`, `vector[N,float64]` | FixedSizeList<Float32/Float64>[N] | `number[]` |
 * | `list<T>` (T one of the above but vectors) | List<T> | an array |
 * | `json` | LargeUtf8 holding JSON text | any JSON value |
 *
 * Other Arrow types (structs, maps, other timestamp units…) are read as plain JSON-like values
 * and reported with their Arrow type name.
 *
 * @module
 */

import * as arrow from "apache-arrow";
import { checkArrowIpc } from "./_arrow_ipc_guard.ts";
import { ErrorCode, RoomError } from "./errors.ts";

/** A scalar column type (see the module table). */
export type DatasetScalarType =
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "uint8"
  | "uint16"
  | "uint32"
  | "uint64"
  | "float16"
  | "float32"
  | "float64"
  | "utf8"
  | "large_utf8"
  | "binary"
  | "large_binary"
  | "bool"
  | "date"
  | "timestamp"
  | "json";

/**
 * A column type: a scalar, `vector[N]` (float32) or `vector[N,float64]`, or `list<scalar>`.
 * Columns read from a table may also carry another Arrow type's name (e.g. `Struct<{…}>`).
 */
export type DatasetColumnType =
  | DatasetScalarType
  | `vector[${number}]`
  | `vector[${number},float64]`
  | `list<${DatasetScalarType}>`
  | (string & Record<never, never>);

/** One column of a dataset table. */
export interface DatasetColumn {
  /** The column name. */
  name: string;
  /** The column type. */
  type: DatasetColumnType;
  /** Whether NULLs are allowed (default true). */
  nullable?: boolean;
  /**
   * Field metadata, e.g. `{"lance-encoding:compression": "zstd"}` (LanceDB's per-column
   * compression).
   */
  metadata?: Readonly<Record<string, string>>;
}

/** One value of a dataset row. */
export type DatasetValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | Date
  | readonly DatasetValue[]
  | { readonly [key: string]: DatasetValue };

/** One row: column name → value. */
export type DatasetRow = Record<string, DatasetValue>;

/**
 * Checks an Arrow IPC stream before apache-arrow reads it (bounds of every message, schema size,
 * rows per body byte): crafted bytes otherwise make the reader allocate without bound.
 *
 * @param bytes The IPC stream bytes.
 * @throws {RoomError} 1002 when a message is malformed or too large.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * checkArrowPayload(ArrowTable.fromRows([{ a: 1 }]).ipc);
 * // a message claiming 2 GiB of metadata in 8 bytes
 * assert.throws(() => checkArrowPayload(new Uint8Array([255, 255, 255, 255, 255, 255, 255, 127])));
 * ```
 */
export function checkArrowPayload(bytes: Uint8Array): void {
  checkArrowIpc(bytes);
}

function invalid(message: string): RoomError {
  return new RoomError(message, ErrorCode.INVALID_REQUEST);
}

// ---------------------------------------------------------------------------------------------
// types

const SCALARS: Readonly<Record<string, () => arrow.DataType>> = {
  int8: () => new arrow.Int8(),
  int16: () => new arrow.Int16(),
  int32: () => new arrow.Int32(),
  int64: () => new arrow.Int64(),
  uint8: () => new arrow.Uint8(),
  uint16: () => new arrow.Uint16(),
  uint32: () => new arrow.Uint32(),
  uint64: () => new arrow.Uint64(),
  float16: () => new arrow.Float16(),
  float32: () => new arrow.Float32(),
  float64: () => new arrow.Float64(),
  utf8: () => new arrow.Utf8(),
  large_utf8: () => new arrow.LargeUtf8(),
  binary: () => new arrow.Binary(),
  large_binary: () => new arrow.LargeBinary(),
  bool: () => new arrow.Bool(),
  date: () => new arrow.DateDay(),
  timestamp: () => new arrow.TimestampMicrosecond("UTC"),
  json: () => new arrow.LargeUtf8(),
};

const JSON_KEY = "meshagent:type";

function arrowType(type: string): arrow.DataType {
  const scalar = SCALARS[type];
  if (scalar) return scalar();
  const vector = /^vector\[(\d+)(?:,\s*(float32|float64))?\]$/.exec(type);
  if (vector) {
    const item = vector[2] === "float64" ? new arrow.Float64() : new arrow.Float32();
    return new arrow.FixedSizeList(Number(vector[1]), new arrow.Field("item", item, true));
  }
  const list = /^list<(\w+)>$/.exec(type);
  if (list && SCALARS[list[1]]) {
    return new arrow.List(new arrow.Field("item", SCALARS[list[1]](), true));
  }
  throw invalid(
    `unknown dataset column type ${JSON.stringify(type)}; use ${
      Object.keys(SCALARS).join(", ")
    }, vector[N], vector[N,float64] or list<T>`,
  );
}

function arrowField(column: DatasetColumn): arrow.Field {
  const metadata = new Map(Object.entries(column.metadata ?? {}));
  if (column.type === "json") metadata.set(JSON_KEY, "json");
  return new arrow.Field(column.name, arrowType(column.type), column.nullable ?? true, metadata);
}

function typeName(field: arrow.Field): DatasetColumnType {
  const t = field.type;
  if (field.metadata.get(JSON_KEY) === "json") return "json";
  if (arrow.DataType.isDictionary(t)) {
    return typeName(new arrow.Field(field.name, t.dictionary, field.nullable));
  }
  if (arrow.DataType.isInt(t)) return `${t.isSigned ? "int" : "uint"}${t.bitWidth}` as never;
  if (arrow.DataType.isFloat(t)) return (["float16", "float32", "float64"] as const)[t.precision];
  if (arrow.DataType.isUtf8(t)) return "utf8";
  if (arrow.DataType.isLargeUtf8(t)) return "large_utf8";
  if (arrow.DataType.isBinary(t)) return "binary";
  if (arrow.DataType.isLargeBinary(t)) return "large_binary";
  if (arrow.DataType.isBool(t)) return "bool";
  if (arrow.DataType.isDate(t)) return "date";
  if (arrow.DataType.isTimestamp(t) && t.unit === arrow.TimeUnit.MICROSECOND) return "timestamp";
  if (arrow.DataType.isFixedSizeList(t) && arrow.DataType.isFloat(t.children[0].type)) {
    const f64 = t.children[0].type.precision === arrow.Precision.DOUBLE;
    return `vector[${t.listSize}${f64 ? ",float64" : ""}]`;
  }
  if (arrow.DataType.isList(t)) {
    const inner = typeName(t.children[0]);
    if (inner in SCALARS) return `list<${inner as DatasetScalarType}>`;
  }
  return String(t);
}

// ---------------------------------------------------------------------------------------------
// values

function plain(value: unknown): DatasetValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") {
    return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  }
  if (value instanceof Uint8Array || value instanceof Date) return value;
  if (Array.isArray(value)) return value.map(plain);
  if (ArrayBuffer.isView(value)) {
    return Array.from(value as unknown as ArrayLike<unknown>, plain);
  }
  if (typeof value === "object") {
    const v = value as { toArray?: () => unknown; toJSON?: () => unknown };
    if (value instanceof arrow.Vector) return Array.from(value, plain);
    if (typeof v.toJSON === "function") {
      const json = v.toJSON();
      if (json !== value) return plain(json);
    }
    if (value instanceof Map) {
      return Object.fromEntries([...value].map(([k, x]) => [String(k), plain(x)]));
    }
    return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, plain(x)]));
  }
  return value as DatasetValue;
}

function reader(field: arrow.Field): (value: unknown) => DatasetValue {
  const type = typeName(field);
  if (type === "json") {
    return (v) => (v === null || v === undefined ? null : JSON.parse(String(v)));
  }
  if (type === "timestamp") {
    return (v) => (v === null || v === undefined ? null : new Date(Number(v)));
  }
  if (type === "date") {
    return (v) =>
      v === null || v === undefined ? null : new Date(Number(v)).toISOString().slice(0, 10);
  }
  if (arrow.DataType.isTimestamp(field.type)) {
    return (v) => (v === null || v === undefined ? null : new Date(Number(v)));
  }
  if (type === "binary" || type === "large_binary") {
    return (v) => (v === null || v === undefined ? null : new Uint8Array(v as Uint8Array));
  }
  return plain;
}

function writerValue(value: unknown, type: string, column: string): unknown {
  if (value === null || value === undefined) return null;
  const fail = (): never => {
    throw invalid(
      `column ${JSON.stringify(column)} is ${type} but the row holds ${
        typeof value === "object" ? Object.prototype.toString.call(value) : typeof value
      } ${String(value).slice(0, 40)}`,
    );
  };
  if (type === "json") return JSON.stringify(value);
  if (/^u?int64$/.test(type)) {
    if (typeof value === "bigint") return value;
    if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
    return fail();
  }
  if (/^u?int/.test(type) || /^float/.test(type)) {
    if (typeof value === "number") return value;
    if (typeof value === "bigint") return Number(value);
    if (typeof value === "boolean") return value ? 1 : 0;
    return fail();
  }
  if (type === "utf8" || type === "large_utf8") {
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") {
      return String(value);
    }
    return JSON.stringify(plain(value));
  }
  if (type === "binary" || type === "large_binary") {
    if (value instanceof Uint8Array) return value;
    if (typeof value === "string") return new TextEncoder().encode(value);
    return fail();
  }
  if (type === "bool") return typeof value === "boolean" ? value : fail();
  if (type === "timestamp" || type === "date") {
    const ms = value instanceof Date
      ? value.getTime()
      : typeof value === "string"
      ? Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? value + "T00:00:00Z" : value)
      : typeof value === "number"
      ? value
      : NaN;
    if (Number.isNaN(ms)) return fail();
    return type === "date" ? new Date(ms) : ms;
  }
  if (type.startsWith("vector[")) {
    const size = Number(/^vector\[(\d+)/.exec(type)![1]);
    if (!Array.isArray(value) && !ArrayBuffer.isView(value)) return fail();
    const list = Array.from(value as ArrayLike<unknown>);
    if (list.length !== size) {
      throw invalid(
        `column ${
          JSON.stringify(column)
        } holds vectors of ${size} numbers; a row has ${list.length}`,
      );
    }
    return list.map(Number);
  }
  if (type.startsWith("list<")) {
    if (!Array.isArray(value)) return fail();
    const inner = /^list<(\w+)>$/.exec(type)![1];
    return value.map((item) => writerValue(item, inner, column));
  }
  return fail();
}

/** The column type a value suggests when no schema is given. */
function inferType(values: readonly unknown[]): DatasetColumnType {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length === 0) return "utf8";
  if (present.every((v) => typeof v === "bigint" || Number.isInteger(v))) return "int64";
  if (present.every((v) => typeof v === "number" || typeof v === "bigint")) return "float64";
  if (present.every((v) => typeof v === "boolean")) return "bool";
  if (present.every((v) => v instanceof Uint8Array)) return "binary";
  if (present.every((v) => v instanceof Date)) return "timestamp";
  if (
    present.every((v) =>
      (Array.isArray(v) || v instanceof Float32Array || v instanceof Float64Array) &&
      Array.from(v as ArrayLike<unknown>).every((x) => typeof x === "number")
    )
  ) {
    const sizes = new Set(present.map((v) => (v as ArrayLike<unknown>).length));
    if (sizes.size === 1) return `vector[${[...sizes][0]}]`;
    return "list<float64>";
  }
  if (present.every((v) => typeof v === "string")) return "utf8";
  return "json";
}

// ---------------------------------------------------------------------------------------------
// the table

function decode(bytes: Uint8Array): arrow.Table {
  checkArrowIpc(bytes);
  try {
    return arrow.tableFromIPC(bytes);
  } catch (error) {
    throw invalid(
      `the payload is not an Arrow IPC stream (${
        error instanceof Error ? error.message : String(error)
      })`,
    );
  }
}

/**
 * Rows in Arrow IPC stream form: what dataset calls send and receive. Build one from rows (types
 * from `columns`, or inferred), from a schema alone, or from IPC bytes; read its rows back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const table = ArrowTable.fromRows(
 *   [{ id: 1, name: "a", embedding: [0.5, 1] }, { id: 2, name: null, embedding: [1, 0] }],
 * );
 * assert.deepEqual(table.columns.map((c) => c.type), ["int64", "utf8", "vector[2]"]);
 * assert.equal(table.numRows, 2);
 * const again = ArrowTable.fromIpc(table.ipc);
 * assert.deepEqual(again.toRows()[1], { id: 2, name: null, embedding: [1, 0] });
 * ```
 */
export class ArrowTable {
  /** The Arrow IPC stream bytes. */
  readonly ipc: Uint8Array;
  #table: arrow.Table | undefined;

  /**
   * Wraps IPC stream bytes (checked when first read); see {@linkcode ArrowTable.fromIpc}.
   *
   * @param ipc The Arrow IPC stream bytes.
   */
  constructor(ipc: Uint8Array) {
    this.ipc = ipc;
  }

  #decoded(): arrow.Table {
    return this.#table ??= decode(this.ipc);
  }

  /**
   * Wraps Arrow IPC stream bytes, checking them now.
   *
   * @param ipc The bytes.
   * @returns The table.
   * @throws {RoomError} 1002 when they are not an IPC stream.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * const bytes = ArrowTable.fromRows([{ ok: true }]).ipc;
   * assert.deepEqual(ArrowTable.fromIpc(bytes).toRows(), [{ ok: true }]);
   * ```
   */
  static fromIpc(ipc: Uint8Array): ArrowTable {
    const table = new ArrowTable(ipc);
    table.#decoded();
    return table;
  }

  /**
   * A table with columns and no rows (what `createTableWithSchema` sends).
   *
   * @param columns The columns, in order.
   * @returns The table.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * const schema = ArrowTable.fromColumns([{ name: "v", type: "vector[3]", nullable: false }]);
   * assert.deepEqual(schema.columns, [{ name: "v", type: "vector[3]", nullable: false }]);
   * ```
   */
  static fromColumns(columns: readonly DatasetColumn[]): ArrowTable {
    return ArrowTable.fromRows([], columns);
  }

  /**
   * Encodes rows: with `columns`, in those types (a row's missing column is null; a column the
   * schema lacks is refused); without, in types inferred from the values (integers → `int64`,
   * other numbers → `float64`, equal-length number arrays → `vector[N]`, strings → `utf8`,
   * `Date` → `timestamp`, bytes → `binary`, other objects → `json`).
   *
   * @param rows The rows.
   * @param columns The column types (default: inferred).
   * @returns The table.
   * @throws {RoomError} 1002 when a value does not fit its column.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * const t = ArrowTable.fromRows([{ at: new Date(0) }], [{ name: "at", type: "timestamp" }]);
   * assert.deepEqual(t.toRows(), [{ at: new Date(0) }]);
   * ```
   */
  static fromRows(
    rows: readonly Readonly<Record<string, unknown>>[],
    columns?: readonly DatasetColumn[],
  ): ArrowTable {
    let cols: DatasetColumn[];
    if (columns) {
      cols = [...columns];
      const known = new Set(cols.map((c) => c.name));
      for (const row of rows) {
        for (const key of Object.keys(row)) {
          if (!known.has(key)) {
            throw invalid(
              `the row has a column ${JSON.stringify(key)} the table does not have (it has ${
                [...known].join(", ")
              })`,
            );
          }
        }
      }
    } else {
      const names: string[] = [];
      for (const row of rows) {
        for (const key of Object.keys(row)) if (!names.includes(key)) names.push(key);
      }
      cols = names.map((name) => ({ name, type: inferType(rows.map((row) => row[name])) }));
    }
    const fields = cols.map(arrowField);
    const schema = new arrow.Schema(fields);
    const writer = new arrow.RecordBatchStreamWriter();
    writer.reset(undefined, schema);
    if (rows.length > 0) {
      const children = cols.map((column, index) => {
        const builder = arrow.makeBuilder({
          type: fields[index].type,
          nullValues: [null, undefined],
        });
        for (const row of rows) {
          const value = writerValue(row[column.name], column.type, column.name);
          if (value === null && column.nullable === false) {
            throw invalid(`column ${JSON.stringify(column.name)} may not be null`);
          }
          builder.append(value as never);
        }
        return builder.finish().toVector().data[0];
      });
      const data = arrow.makeData({
        type: new arrow.Struct(fields),
        length: rows.length,
        nullCount: 0,
        children,
      });
      writer.write(new arrow.RecordBatch(schema, data));
    }
    writer.finish();
    return new ArrowTable(writer.toUint8Array(true));
  }

  /** The columns, in order. */
  get columns(): DatasetColumn[] {
    return this.#decoded().schema.fields.map((field) => {
      const metadata = Object.fromEntries([...field.metadata].filter(([k]) => k !== JSON_KEY));
      return {
        name: field.name,
        type: typeName(field),
        nullable: field.nullable,
        ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
      };
    });
  }

  /** The number of rows. */
  get numRows(): number {
    return this.#decoded().numRows;
  }

  /**
   * Decodes every row.
   *
   * @returns The rows, as `{column: value}` objects.
   */
  toRows(): DatasetRow[] {
    const table = this.#decoded();
    const fields = table.schema.fields;
    const readers = fields.map(reader);
    const out: DatasetRow[] = [];
    for (const batch of table.batches) {
      const vectors = fields.map((_, index) => batch.getChildAt(index));
      for (let r = 0; r < batch.numRows; r++) {
        const row: DatasetRow = {};
        fields.forEach((field, c) => row[field.name] = readers[c](vectors[c]?.get(r) ?? null));
        out.push(row);
      }
    }
    return out;
  }
}
