import assert from "node:assert/strict";
import * as arrow from "apache-arrow";
import { RoomError } from "@meshagent/api";
import {
  type ColumnSchema,
  columnTypeFromSql,
  decodeArrowSchema,
  decodeArrowStream,
  encodeArrowSchema,
  encodeArrowStream,
  inferColumnTypes,
  sqlTypeFor,
  type SqlValue,
} from "./arrow_codec.ts";

const MIXED: ColumnSchema[] = [
  { name: "id", type: "int64", nullable: false },
  { name: "score", type: "float64" },
  { name: "name", type: "utf8" },
  { name: "data", type: "binary" },
  { name: "ok", type: "bool" },
  { name: "day", type: "date" },
  { name: "at", type: "timestamp" },
];

const MIXED_ROWS: SqlValue[][] = [
  [1n, 1.5, "alpha", new Uint8Array([0, 1, 255]), true, "2024-02-29", "2024-02-29T12:34:56.789Z"],
  [2n, null, null, null, null, null, null],
  [-(2n ** 63n), -0.25, "", new Uint8Array(), false, "1970-01-01", "1970-01-01T00:00:00.000Z"],
];

function messageTypes(bytes: Uint8Array): number[] {
  const reader = new arrow.MessageReader(bytes);
  const types: number[] = [];
  for (let message = reader.readMessage(); message !== null; message = reader.readMessage()) {
    types.push(message.headerType);
    reader.readMessageBody(message.bodyLength);
  }
  return types;
}

Deno.test("encodeArrowStream: mixed types and NULLs decode with apache-arrow itself", () => {
  const bytes = encodeArrowStream(MIXED, MIXED_ROWS);
  const table = arrow.tableFromIPC(bytes);
  assert.deepEqual(
    table.schema.fields.map((field) => [field.name, String(field.type), field.nullable]),
    [
      ["id", "Int64", false],
      ["score", "Float64", true],
      ["name", "Utf8", true],
      ["data", "Binary", true],
      ["ok", "Bool", true],
      ["day", "Date32<DAY>", true],
      ["at", "Timestamp<MICROSECOND, UTC>", true],
    ],
  );
  assert.equal(table.numRows, 3);
  const id = table.getChild("id")!;
  assert.equal(id.get(0), 1n);
  assert.equal(id.get(2), -(2n ** 63n));
  assert.equal(table.getChild("score")!.get(1), null);
  assert.equal(table.getChild("name")!.get(0), "alpha");
  assert.equal(table.getChild("name")!.get(2), "");
  assert.deepEqual(table.getChild("data")!.get(0), new Uint8Array([0, 1, 255]));
  assert.equal(table.getChild("data")!.get(1), null);
  assert.equal(table.getChild("ok")!.get(0), true);
  assert.equal(table.getChild("ok")!.get(2), false);
  assert.equal(table.getChild("day")!.get(0), Date.UTC(2024, 1, 29));
  assert.equal(table.getChild("at")!.get(0), Date.parse("2024-02-29T12:34:56.789Z"));
  // one self-contained stream: schema, one batch (then end of stream)
  assert.deepEqual(messageTypes(bytes), [
    arrow.MessageHeader.Schema,
    arrow.MessageHeader.RecordBatch,
  ]);
});

Deno.test("encodeArrowStream → decodeArrowStream round trips every type", () => {
  const { columns, rows } = decodeArrowStream(encodeArrowStream(MIXED, MIXED_ROWS));
  assert.deepEqual(
    columns,
    MIXED.map((column) => ({ ...column, nullable: column.nullable ?? true })),
  );
  assert.deepEqual(rows, MIXED_ROWS);
});

Deno.test("encodeArrowSchema writes the schema message and no record batch", () => {
  const bytes = encodeArrowSchema([{ name: "a", type: "int64" }, { name: "b", type: null }]);
  assert.deepEqual(messageTypes(bytes), [arrow.MessageHeader.Schema]);
  assert.deepEqual(decodeArrowSchema(bytes), [
    { name: "a", type: "int64", nullable: true },
    { name: "b", type: "utf8", nullable: true },
  ]);
  // no rows: no batch either
  assert.deepEqual(messageTypes(encodeArrowStream([{ name: "a", type: "utf8" }], [])), [
    arrow.MessageHeader.Schema,
  ]);
});

Deno.test("decodeArrowStream reads what the TypeScript client's Arrow library makes", () => {
  const table = arrow.tableFromArrays({
    num: [1, 2.5], // Float64
    word: ["x", "y"], // Dictionary<Int32, Utf8>
    small: new Int32Array([7, 8]),
    big: new BigInt64Array([9n, 10n]),
  });
  const { columns, rows } = decodeArrowStream(arrow.tableToIPC(table, "stream"));
  assert.deepEqual(columns.map((column) => [column.name, column.type]), [
    ["num", "float64"],
    ["word", "utf8"],
    ["small", "int64"],
    ["big", "int64"],
  ]);
  assert.deepEqual(rows, [[1, "x", 7n, 9n], [2.5, "y", 8n, 10n]]);
});

Deno.test("decodeArrowStream stores nested values as JSON text and Null columns untyped", () => {
  const list = arrow.vectorFromArray(
    [[1, 2], null],
    new arrow.List(new arrow.Field("item", new arrow.Float64(), true)),
  );
  const vector = arrow.vectorFromArray(
    [[0.5, 1], [2, 3]],
    new arrow.FixedSizeList(2, new arrow.Field("item", new arrow.Float64(), true)),
  );
  const struct = arrow.vectorFromArray(
    [{ a: 1, b: "z" }, null],
    new arrow.Struct([
      new arrow.Field("a", new arrow.Int32(), true),
      new arrow.Field("b", new arrow.Utf8(), true),
    ]),
  );
  const nothing = arrow.vectorFromArray([null, null], new arrow.Null());
  const table = new arrow.Table({ list, vector, struct, nothing });
  const { columns, rows } = decodeArrowStream(arrow.tableToIPC(table, "stream"));
  assert.deepEqual(columns.map((column) => column.type), ["utf8", "utf8", "utf8", null]);
  assert.deepEqual(rows[0], ["[1,2]", "[0.5,1]", '{"a":1,"b":"z"}', null]);
  assert.deepEqual(rows[1], [null, "[2,3]", null, null]);
});

Deno.test("decodeArrowStream rejects bytes that are not Arrow with 1002", () => {
  assert.throws(
    () => decodeArrowStream(new TextEncoder().encode("not arrow at all")),
    (error: unknown) =>
      error instanceof RoomError && error.code === 1002 && /Arrow IPC stream/.test(error.message),
  );
});

Deno.test("decodeArrowStream rejects unsupported Arrow types naming the column", () => {
  const table = new arrow.Table({
    t: arrow.vectorFromArray([1000], new arrow.TimeMillisecond()),
  });
  assert.throws(
    () => decodeArrowStream(arrow.tableToIPC(table, "stream")),
    (error: unknown) =>
      error instanceof RoomError && error.code === 1002 && /"t"/.test(error.message),
  );
});

Deno.test("a value that does not fit its column type is a 1008 naming the column", () => {
  assert.throws(
    () => encodeArrowStream([{ name: "n", type: "int64" }], [["abc"]]),
    (error: unknown) =>
      error instanceof RoomError && error.code === 1008 && /"n"/.test(error.message) &&
      /CAST/.test(error.message),
  );
});

Deno.test("inferColumnTypes: untyped columns from values, typed ones widened only when needed", () => {
  const columns = inferColumnTypes(
    [
      { name: "ints", type: null },
      { name: "mixed", type: null },
      { name: "text", type: null },
      { name: "blob", type: null },
      { name: "nulls", type: null },
      { name: "declared", type: "int64" },
      { name: "flex", type: "int64" },
    ],
    [
      [1n, 1n, "a", new Uint8Array([1]), null, 1n, 1n],
      [2n, 2.5, 3n, null, null, null, "x"],
    ],
  );
  assert.deepEqual(columns.map((column) => column.type), [
    "int64",
    "float64",
    "utf8",
    "binary",
    "utf8",
    "int64",
    "utf8",
  ]);
});

Deno.test("SQLite declared types map to column types and back", () => {
  const cases: [string, string | null][] = [
    ["INTEGER", "int64"],
    ["bigint", "int64"],
    ["REAL", "float64"],
    ["NUMERIC(10,2)", "float64"],
    ["TEXT", "utf8"],
    ["VARCHAR(255)", "utf8"],
    ["JSON", "utf8"],
    ["BLOB", "binary"],
    ["BOOLEAN", "bool"],
    ["DATE", "date"],
    ["DATETIME", "timestamp"],
    ["TIMESTAMP", "timestamp"],
    ["", null],
    ["WHATEVER", null],
  ];
  for (const [declared, type] of cases) {
    assert.equal(columnTypeFromSql(declared), type, declared);
  }
  for (const type of ["int64", "float64", "utf8", "binary", "bool", "date", "timestamp"] as const) {
    assert.equal(columnTypeFromSql(sqlTypeFor(type)), type);
  }
});
