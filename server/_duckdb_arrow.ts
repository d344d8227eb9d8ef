// Private: Arrow ↔ DuckDB for the dataset SQL tools, as two type tables and one reader each.
// DuckDB's built-in extensions here have no Arrow IPC reader or writer (DATASETS.md), so values
// cross in JavaScript: a table's Arrow batches go in through DuckDB data chunks, a result's
// chunks come out as Arrow IPC streams.
import * as arrow from "apache-arrow";
import { ErrorCode, RoomError } from "@meshagent/api";
import type { DuckDb } from "./_duckdb.ts";

type DuckValue = import("@duckdb/node-api").DuckDBValue;
type DuckType = import("@duckdb/node-api").DuckDBType;
type Js = import("@duckdb/node-api").JS;

/** How one Arrow column becomes a DuckDB column: its SQL type and a value converter. */
export interface DuckColumn {
  /** The column name. */
  name: string;
  /** The DuckDB SQL type (`BIGINT`, `FLOAT[768]`, …). */
  sqlType: string;
  /** One Arrow value (as `Vector.get` gives it) → a DuckDB value. */
  toDuck: (value: unknown) => DuckValue;
}

function invalid(message: string): RoomError {
  return new RoomError(message, ErrorCode.INVALID_REQUEST);
}

function jsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v) => typeof v === "bigint" ? v.toString() : v) ?? "null";
}

function asMillis(value: unknown): number {
  return value instanceof Date ? value.getTime() : Number(value);
}

const DAY_MS = 86_400_000;

/**
 * Arrow type → DuckDB type. [impl] Types without a DuckDB counterpart here (maps, unions,
 * intervals, durations, …) become VARCHAR columns holding the value's JSON text.
 */
function duckType(type: arrow.DataType, duck: DuckDb): Omit<DuckColumn, "name"> {
  const same = (sqlType: string) => ({ sqlType, toDuck: (v: unknown) => v as DuckValue });
  if (arrow.DataType.isNull(type)) return same("VARCHAR");
  if (arrow.DataType.isBool(type)) return same("BOOLEAN");
  if (arrow.DataType.isInt(type)) {
    const bits = type.bitWidth;
    const name = { 8: "TINYINT", 16: "SMALLINT", 32: "INTEGER", 64: "BIGINT" }[bits] ?? "BIGINT";
    const sqlType = type.isSigned ? name : `U${name}`;
    return bits === 64
      ? { sqlType, toDuck: (v) => typeof v === "bigint" ? v : BigInt(v as number) }
      : same(sqlType);
  }
  if (arrow.DataType.isFloat(type)) {
    return same(type.precision === arrow.Precision.DOUBLE ? "DOUBLE" : "FLOAT");
  }
  if (arrow.DataType.isDecimal(type)) {
    return { sqlType: "DOUBLE", toDuck: (v) => Number(v) };
  }
  if (arrow.DataType.isUtf8(type) || arrow.DataType.isLargeUtf8(type)) return same("VARCHAR");
  if (arrow.DataType.isDictionary(type)) {
    const inner = duckType(type.dictionary, duck);
    return inner;
  }
  if (arrow.DataType.isBinary(type) || arrow.DataType.isLargeBinary(type)) {
    return { sqlType: "BLOB", toDuck: (v) => duck.blobValue(v as Uint8Array) };
  }
  if (arrow.DataType.isFixedSizeBinary(type)) {
    return { sqlType: "BLOB", toDuck: (v) => duck.blobValue(v as Uint8Array) };
  }
  if (arrow.DataType.isDate(type)) {
    return {
      sqlType: "DATE",
      toDuck: (v) => duck.dateValue(Math.floor(asMillis(v) / DAY_MS)),
    };
  }
  if (arrow.DataType.isTimestamp(type)) {
    return {
      sqlType: type.timezone ? "TIMESTAMPTZ" : "TIMESTAMP",
      toDuck: (v) =>
        type.timezone
          ? duck.timestampTZValue(BigInt(Math.round(asMillis(v) * 1000)))
          : duck.timestampValue(BigInt(Math.round(asMillis(v) * 1000))),
    };
  }
  if (arrow.DataType.isFixedSizeList(type)) {
    const item = duckType(type.children[0].type, duck);
    return {
      sqlType: `${item.sqlType}[${type.listSize}]`,
      toDuck: (v) => duck.arrayValue(Array.from(v as Iterable<unknown>, item.toDuck)),
    };
  }
  if (arrow.DataType.isList(type)) {
    const item = duckType(type.children[0].type, duck);
    return {
      sqlType: `${item.sqlType}[]`,
      toDuck: (v) => duck.listValue(Array.from(v as Iterable<unknown>, item.toDuck)),
    };
  }
  if (arrow.DataType.isStruct(type)) {
    const entries = type.children.map((f) => ({ name: f.name, ...duckType(f.type, duck) }));
    return {
      sqlType: `STRUCT(${entries.map((e) => `${quoteIdent(e.name)} ${e.sqlType}`).join(", ")})`,
      toDuck: (v) => {
        const row = v as Record<string, unknown>;
        const out: Record<string, DuckValue> = {};
        for (const e of entries) {
          const x = row[e.name];
          out[e.name] = x === null || x === undefined ? null : e.toDuck(x);
        }
        return duck.structValue(out);
      },
    };
  }
  return { sqlType: "VARCHAR", toDuck: (v) => jsonText(v) };
}

/** Quotes a DuckDB identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The DuckDB columns of an Arrow schema. */
export function duckColumns(schema: arrow.Schema, duck: DuckDb): DuckColumn[] {
  return schema.fields.map((field) => ({ name: field.name, ...duckType(field.type, duck) }));
}

/** One Arrow value → the value a DuckDB parameter is bound to (by its JavaScript kind). */
export function duckParam(value: unknown, duck: DuckDb): DuckValue {
  if (value === null || value === undefined) return null;
  if (
    typeof value === "number" || typeof value === "bigint" || typeof value === "string" ||
    typeof value === "boolean"
  ) return value;
  if (value instanceof Uint8Array) return duck.blobValue(value);
  if (value instanceof Date) return duck.timestampValue(BigInt(value.getTime()) * 1000n);
  if (value instanceof arrow.Vector) {
    return duck.listValue(value.toArray().map((v: unknown) => duckParam(v, duck)));
  }
  return jsonText(value);
}

/** How one DuckDB result column becomes an Arrow column. */
interface ArrowColumn {
  type: arrow.DataType;
  /** A JavaScript value (DuckDB's JS converter) → what `vectorFromArray` takes for `type`. */
  fromJs: (value: Js) => unknown;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function plain(type: arrow.DataType): ArrowColumn {
  return { type, fromJs: (v) => v };
}

/**
 * DuckDB type → Arrow type, by type id. [impl] Integers keep their width (a plain column keeps
 * its type, §3.1); HUGEINT (what `sum` of integers gives) comes back as Int64 (1002 if a value
 * does not fit); DECIMAL as Float64; timestamps as microsecond timestamps; types without an
 * Arrow counterpart here (INTERVAL, TIME, MAP, UNION, …) as Utf8 JSON text.
 */
const ARROW_TYPES: Readonly<Record<string, () => arrow.DataType>> = {
  BOOLEAN: () => new arrow.Bool(),
  TINYINT: () => new arrow.Int8(),
  SMALLINT: () => new arrow.Int16(),
  INTEGER: () => new arrow.Int32(),
  BIGINT: () => new arrow.Int64(),
  UTINYINT: () => new arrow.Uint8(),
  USMALLINT: () => new arrow.Uint16(),
  UINTEGER: () => new arrow.Uint32(),
  UBIGINT: () => new arrow.Uint64(),
  FLOAT: () => new arrow.Float32(),
  DOUBLE: () => new arrow.Float64(),
  DECIMAL: () => new arrow.Float64(),
  VARCHAR: () => new arrow.Utf8(),
  ENUM: () => new arrow.Utf8(),
  UUID: () => new arrow.Utf8(),
  BLOB: () => new arrow.Binary(),
  DATE: () => new arrow.DateDay(),
  TIMESTAMP: () => new arrow.TimestampMicrosecond(),
  TIMESTAMP_S: () => new arrow.TimestampMicrosecond(),
  TIMESTAMP_MS: () => new arrow.TimestampMicrosecond(),
  TIMESTAMP_NS: () => new arrow.TimestampMicrosecond(),
  TIMESTAMP_TZ: () => new arrow.TimestampMicrosecond("UTC"),
};

function arrowColumn(type: DuckType, duck: DuckDb): ArrowColumn {
  const id = duck.DuckDBTypeId[type.typeId];
  if (id === "HUGEINT" || id === "UHUGEINT" || id === "BIGNUM") {
    return {
      type: new arrow.Int64(),
      fromJs: (v) => {
        if (typeof v === "bigint" && (v < INT64_MIN || v > INT64_MAX)) {
          throw invalid(`an integer result (${v}) does not fit in Int64; cast it to DOUBLE`);
        }
        return v;
      },
    };
  }
  const simple = ARROW_TYPES[id];
  if (simple) return plain(simple());
  if (type instanceof duck.DuckDBArrayType) {
    const item = arrowColumn(type.valueType, duck);
    return {
      type: new arrow.FixedSizeList(type.length, new arrow.Field("item", item.type, true)),
      fromJs: (v) => v === null ? null : (v as Js[]).map(item.fromJs),
    };
  }
  if (type instanceof duck.DuckDBListType) {
    const item = arrowColumn(type.valueType, duck);
    return {
      type: new arrow.List(new arrow.Field("item", item.type, true)),
      fromJs: (v) => v === null ? null : (v as Js[]).map(item.fromJs),
    };
  }
  if (type instanceof duck.DuckDBStructType) {
    const entries = type.entryNames.map((name, i) => ({
      name,
      ...arrowColumn(type.entryTypes[i], duck),
    }));
    return {
      type: new arrow.Struct(entries.map((e) => new arrow.Field(e.name, e.type, true))),
      fromJs: (v) => {
        if (v === null) return null;
        const row = v as Record<string, Js>;
        return Object.fromEntries(entries.map((e) => [e.name, e.fromJs(row[e.name] ?? null)]));
      },
    };
  }
  return {
    type: new arrow.Utf8(),
    fromJs: (v) => v === null ? null : typeof v === "string" ? v : jsonText(v),
  };
}

/** Turns DuckDB result chunks into Arrow IPC streams, for one result's columns. */
export class DuckResultEncoder {
  readonly #fields: arrow.Field[];
  readonly #columns: ArrowColumn[];
  readonly #schema: arrow.Schema;

  /**
   * @param names The result's column names.
   * @param types Their DuckDB types.
   * @param duck The DuckDB module.
   */
  constructor(names: readonly string[], types: readonly DuckType[], duck: DuckDb) {
    this.#columns = types.map((t) => arrowColumn(t, duck));
    this.#fields = names.map((n, i) => new arrow.Field(n, this.#columns[i].type, true));
    this.#schema = new arrow.Schema(this.#fields);
  }

  /** One entry per column. */
  schemaWidth(): unknown[] {
    return this.#columns.map(() => null);
  }

  /** The result's schema alone: an IPC stream with no batches. */
  schema(): Uint8Array {
    return arrow.tableToIPC(new arrow.Table(this.#schema), "stream");
  }

  /** One IPC stream of the given columns (DuckDB JS values, column-major), one batch. */
  encode(columns: readonly (readonly Js[])[], rows: number): Uint8Array {
    const children = this.#columns.map((column, i) => {
      const builder = arrow.makeBuilder({ type: column.type, nullValues: [null, undefined] });
      for (const value of columns[i]) builder.append(column.fromJs(value));
      return builder.finish().flush();
    });
    const data = arrow.makeData({
      type: new arrow.Struct(this.#fields),
      length: rows,
      nullCount: 0,
      children,
    });
    return arrow.tableToIPC(
      new arrow.Table(this.#schema, [new arrow.RecordBatch(this.#schema, data)]),
      "stream",
    );
  }
}

/**
 * Reads a DuckDB result in Arrow batches of exactly `batchRows` rows (the last one fewer):
 * DuckDB's chunks (up to 2048 rows) are gathered, and the rows past a batch carried over.
 */
export class DuckBatchReader {
  readonly #encoder: DuckResultEncoder;
  readonly #fetch: () => Promise<import("@duckdb/node-api").DuckDBDataChunk | null>;
  readonly #duck: DuckDb;
  readonly #batchRows: number;
  #pending: Js[][];
  #rows = 0;
  #exhausted = false;
  readonly #expected: number | undefined;
  #fetched = 0;

  /**
   * @param encoder The result's encoder.
   * @param fetch Gives DuckDB's next chunk (null or empty at the end).
   * @param duck The DuckDB module.
   * @param batchRows Rows per batch.
   * @param expectedRows The rows the result must have, when known. [impl] A streamed DuckDB
   *   result that meets an error part way ends as if it were complete (`fetchChunk` gives null;
   *   the node binding does not expose `duckdb_result_error`): measured, a query failing at row
   *   1,000,000 ended quietly after 872,448. With the count known, a short result throws instead
   *   of passing for the whole input.
   */
  constructor(
    encoder: DuckResultEncoder,
    fetch: () => Promise<import("@duckdb/node-api").DuckDBDataChunk | null>,
    duck: DuckDb,
    batchRows: number,
    expectedRows?: number,
  ) {
    this.#expected = expectedRows;
    this.#encoder = encoder;
    this.#fetch = fetch;
    this.#duck = duck;
    this.#batchRows = Math.max(1, Math.floor(batchRows));
    this.#pending = encoder.schemaWidth().map(() => []);
  }

  /** True once every row was given out. */
  get done(): boolean {
    return this.#exhausted && this.#rows === 0;
  }

  /**
   * The next batch as one Arrow IPC stream, or null at the end (or when `stop` says so).
   *
   * @param stop Checked between DuckDB chunks.
   */
  async next(stop: () => boolean = () => false): Promise<Uint8Array | null> {
    while (!this.#exhausted && this.#rows < this.#batchRows) {
      if (stop()) return null;
      const chunk = await this.#fetch();
      if (chunk === null || chunk.rowCount === 0) {
        this.#exhausted = true;
        if (this.#expected !== undefined && this.#fetched !== this.#expected) {
          throw new Error(
            `DuckDB stopped reading after ${this.#fetched} of ${this.#expected} rows without ` +
              `saying why; the input cannot be read past that point`,
          );
        }
        break;
      }
      this.#fetched += chunk.rowCount;
      chunk.convertColumns(this.#duck.JSDuckDBValueConverter).forEach((column, i) => {
        for (const value of column) this.#pending[i].push(value);
      });
      this.#rows += chunk.rowCount;
    }
    if (this.#rows === 0 || stop()) return null;
    const take = Math.min(this.#batchRows, this.#rows);
    const columns = this.#pending.map((column) => column.splice(0, take));
    this.#rows -= take;
    return this.#encoder.encode(columns, take);
  }
}
