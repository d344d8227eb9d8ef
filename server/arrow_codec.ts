/**
 * SQLite declared types ⇄ column types for the room database, and the Arrow row codec it uses.
 * The codec itself lives once, in `@meshagent/api` (`arrow_rows.ts`), shared with the client's
 * `DatabaseClient`; it is re-exported here so server code keeps one import.
 *
 * | {@linkcode ColumnType} | SQLite declared type |
 * |---|---|
 * | `int64` | `INTEGER` |
 * | `float64` | `REAL` |
 * | `utf8` | `TEXT` |
 * | `binary` | `BLOB` |
 * | `bool` | `BOOLEAN` (stored 0/1) |
 * | `date` | `DATE` (stored `YYYY-MM-DD`) |
 * | `timestamp` | `TIMESTAMP` (stored ISO-8601, UTC) |
 *
 * @module
 */

import type { ColumnType } from "@meshagent/api";

export {
  ARROW_STREAM_CONTENT_TYPE,
  type ColumnSchema,
  type ColumnType,
  decodeArrowSchema,
  decodeArrowStream,
  encodeArrowSchema,
  encodeArrowStream,
  inferColumnTypes,
  type RowSet,
  type SqlValue,
  valueFits,
} from "@meshagent/api";

// ---------------------------------------------------------------------------------------------
// SQLite declared types

/**
 * The SQLite declared type used when a column of `type` is created.
 *
 * @param type The column type (null = no declared type).
 * @returns `INTEGER`, `REAL`, `TEXT`, `BLOB`, `BOOLEAN`, `DATE`, `TIMESTAMP` or `""`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(sqlTypeFor("int64"), "INTEGER");
 * assert.equal(sqlTypeFor(null), "");
 * ```
 */
export function sqlTypeFor(type: ColumnType | null): string {
  switch (type) {
    case "int64":
      return "INTEGER";
    case "float64":
      return "REAL";
    case "utf8":
      return "TEXT";
    case "binary":
      return "BLOB";
    case "bool":
      return "BOOLEAN";
    case "date":
      return "DATE";
    case "timestamp":
      return "TIMESTAMP";
    default:
      return "";
  }
}

/**
 * The column type for an SQLite declared type, following SQLite's affinity rules with a few
 * names of its own (`BOOL…`, `DATE`, `DATETIME`/`TIMESTAMP`, `JSON`, `UUID`).
 *
 * @param declared The declared type (`PRAGMA table_xinfo` or a result column's type).
 * @returns The column type, or null when the column has no usable declared type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(columnTypeFromSql("BIGINT"), "int64");
 * assert.equal(columnTypeFromSql("varchar(20)"), "utf8");
 * assert.equal(columnTypeFromSql("DOUBLE PRECISION"), "float64");
 * assert.equal(columnTypeFromSql(""), null);
 * ```
 */
export function columnTypeFromSql(declared: string | null | undefined): ColumnType | null {
  const t = (declared ?? "").trim().toUpperCase();
  if (t === "") return null;
  if (t.includes("BOOL")) return "bool";
  if (t.includes("TIMESTAMP") || t.includes("DATETIME")) return "timestamp";
  if (t === "DATE") return "date";
  if (t.includes("INT")) return "int64";
  if (
    t.includes("CHAR") || t.includes("CLOB") || t.includes("TEXT") || t.includes("JSON") ||
    t.includes("UUID")
  ) return "utf8";
  if (t.includes("BLOB") || t.includes("BINARY")) return "binary";
  if (
    t.includes("REAL") || t.includes("FLOA") || t.includes("DOUB") || t.includes("NUMERIC") ||
    t.includes("DECIMAL")
  ) return "float64";
  return null;
}
