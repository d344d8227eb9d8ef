import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { DatabaseSync } from "node:sqlite";
import * as arrow from "apache-arrow";
import { RoomError } from "@meshagent/api";
import {
  type ColumnSchema,
  encodeArrowSchema,
  encodeArrowStream,
  type SqlValue,
} from "./arrow_codec.ts";
import { RoomDatabase, type RoomDatabaseOptions } from "./room_database.ts";

// ---------------------------------------------------------------------------------------------
// helpers

function withDb(
  fn: (db: RoomDatabase, dir: string) => void,
  options: Omit<RoomDatabaseOptions, "dir"> = {},
): () => void {
  return () => {
    const dir = Deno.makeTempDirSync({ prefix: "room_db_test_" });
    const db = new RoomDatabase({ ...options, dir });
    try {
      fn(db, dir);
    } finally {
      db.close();
      Deno.removeSync(dir, { recursive: true });
    }
  };
}

function rejects(fn: () => unknown, code: number, pattern?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof RoomError, `expected a RoomError, got ${error}`);
    assert.equal(error.code, code, `code of: ${error.message}`);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

const DB = { database: "main" };

/** Creates database `main` and table `t` (id INTEGER, name TEXT, score REAL) with rows. */
function seed(
  db: RoomDatabase,
  rows: SqlValue[][] = [[1n, "a", 1.5], [2n, "b", null], [3n, "c", 3]],
) {
  db.createDatabase({ name: "main" });
  const writer = db.createTable(
    { database: "main", name: "t", mode: "create" },
    encodeArrowSchema([
      { name: "id", type: "int64" },
      { name: "name", type: "utf8" },
      { name: "score", type: "float64" },
    ]),
  );
  if (rows.length > 0) {
    writer.write(
      encodeArrowStream(
        [{ name: "id", type: "int64" }, { name: "name", type: "utf8" }, {
          name: "score",
          type: "float64",
        }],
        rows,
      ),
    );
  }
  writer.commit();
}

function all(db: RoomDatabase, query: string, params?: unknown[]): SqlValue[][] {
  const result = db.executeSql({ ...DB, query, params: params ?? null });
  assert.equal(result.kind, "query");
  if (result.kind !== "query") return [];
  const cursor = db.readSqlQuery({ query_id: result.query_id });
  const rows: SqlValue[][] = [];
  for (let batch = cursor.nextRows(); batch !== null; batch = cursor.nextRows()) {
    rows.push(...batch);
  }
  db.closeSqlQuery({ query_id: result.query_id });
  return rows;
}

function searchRows(db: RoomDatabase, request: Record<string, unknown>): SqlValue[][] {
  const cursor = db.search({ ...DB, table: "t", ...request } as never);
  const rows: SqlValue[][] = [];
  try {
    for (let batch = cursor.nextRows(); batch !== null; batch = cursor.nextRows()) {
      rows.push(...batch);
    }
  } finally {
    cursor.close();
  }
  return rows;
}

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(dir, path));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

// ---------------------------------------------------------------------------------------------
// databases

Deno.test(
  "databases: create, list, inspect, drop, and their errors",
  withDb((db, dir) => {
    assert.deepEqual(db.listDatabases({ namespace: null }), { databases: [] });
    db.createDatabase({ name: "main", namespace: null, mode: "create" });
    db.createDatabase({ name: "aux" });
    assert.deepEqual(db.listDatabases({}), { databases: ["aux", "main"] });
    assert.ok(existsSync(join(dir, "main.sqlite")));

    rejects(() => db.createDatabase({ name: "main", mode: "create" }), 1004, /already exists/);
    db.createDatabase({ name: "main", mode: "create_if_not_exists" });

    const info = db.inspectDatabase({ name: "main", namespace: null });
    assert.deepEqual(Object.keys(info).sort(), ["name", "namespace", "size_bytes", "tables"]);
    assert.equal(info.name, "main");
    assert.equal(info.namespace, null);
    assert.equal(info.tables, 0);
    assert.ok(Number.isInteger(info.size_bytes) && info.size_bytes > 0);

    db.executeSqlStatement({ ...DB, query: "CREATE TABLE x (a)" });
    assert.equal(db.inspectDatabase({ name: "main" }).tables, 1);
    db.createDatabase({ name: "main", mode: "overwrite" });
    assert.equal(db.inspectDatabase({ name: "main" }).tables, 0);

    db.dropDatabase({ name: "aux", namespace: null, ignore_missing: false });
    assert.deepEqual(db.listDatabases({}), { databases: ["main"] });
    assert.ok(!existsSync(join(dir, "aux.sqlite")));
    rejects(() => db.dropDatabase({ name: "aux" }), 1003, /does not exist/);
    db.dropDatabase({ name: "aux", ignore_missing: true });
    rejects(() => db.inspectDatabase({ name: "aux" }), 1003, /create_database/);
    rejects(() => db.listTables({ database: "nope" }), 1003);
    rejects(() => db.createDatabase({ name: "" }), 1002);
    rejects(() => db.createDatabase({ name: "x", mode: "sometimes" as never }), 1002, /mode/);
  }),
);

Deno.test(
  "databases: namespaces are separate, and list_databases matches the namespace exactly",
  withDb((db) => {
    db.createDatabase({ name: "main" });
    db.createDatabase({ name: "main", namespace: ["team"] });
    db.createDatabase({ name: "other", namespace: ["team", "sub"] });
    assert.deepEqual(db.listDatabases({ namespace: null }), { databases: ["main"] });
    assert.deepEqual(db.listDatabases({ namespace: [] }), { databases: ["main"] });
    assert.deepEqual(db.listDatabases({ namespace: ["team"] }), { databases: ["main"] });
    assert.deepEqual(db.listDatabases({ namespace: ["team", "sub"] }), { databases: ["other"] });
    db.executeSqlStatement({ ...DB, query: "CREATE TABLE root_only (a)" });
    assert.deepEqual(db.listTables({ database: "main", namespace: ["team"] }), { tables: [] });
    assert.deepEqual(db.listTables({ database: "main", namespace: null }), {
      tables: ["root_only"],
    });
    assert.deepEqual(db.inspectDatabase({ name: "main", namespace: ["team"] }).namespace, ["team"]);
    rejects(() => db.listDatabases({ namespace: "team" as never }), 1002, /namespace/);
  }),
);

Deno.test(
  "databases: any name stays a file inside the folder and round trips through list_databases",
  withDb((db, dir) => {
    const names = [
      "../escape",
      "a/b",
      "..",
      ".hidden",
      "back\\slash",
      "UPPER_lower-09",
      "ünïcødé ✓",
      "x".repeat(128),
      "con",
      "a.sqlite",
    ];
    for (const name of names) db.createDatabase({ name });
    db.createDatabase({ name: "db", namespace: ["..", "/etc"] });
    assert.deepEqual(db.listDatabases({}).databases, [...names].sort());
    assert.deepEqual(db.listDatabases({ namespace: ["..", "/etc"] }).databases, ["db"]);
    for (const file of files(dir)) {
      assert.ok(!file.startsWith(".."), file);
      assert.match(file, /^[A-Za-z0-9_~\-/]+\.sqlite(-wal|-shm)?$/);
    }
    assert.ok(!existsSync(join(dir, "..", "escape.sqlite")));
    rejects(() => db.createDatabase({ name: "nul\0byte" }), 1002, /NUL/);
    rejects(() => db.createDatabase({ name: "é".repeat(100) }), 1002, /too long/);
  }),
);

Deno.test("databases: two rooms have separate files under <dataDir>/rooms/<room>/databases", () => {
  const dataDir = Deno.makeTempDirSync({ prefix: "room_db_rooms_" });
  const one = RoomDatabase.forRoom(dataDir, "room-one");
  const two = RoomDatabase.forRoom(dataDir, "room-two");
  try {
    one.createDatabase({ name: "main" });
    two.createDatabase({ name: "main" });
    one.executeSqlStatement({ ...DB, query: "CREATE TABLE only_in_one (a)" });
    assert.deepEqual(one.listTables(DB), { tables: ["only_in_one"] });
    assert.deepEqual(two.listTables(DB), { tables: [] });
    assert.ok(existsSync(join(dataDir, "rooms", "room-one", "databases", "main.sqlite")));
    assert.ok(existsSync(join(dataDir, "rooms", "room-two", "databases", "main.sqlite")));
    two.dropDatabase({ name: "main" });
    assert.deepEqual(one.listDatabases({}), { databases: ["main"] });
    assert.throws(() => RoomDatabase.forRoom(dataDir, "../x"), RoomError);
  } finally {
    one.close();
    two.close();
    Deno.removeSync(dataDir, { recursive: true });
  }
});

Deno.test("databases: data survives closing and reopening; files are in WAL mode", () => {
  const dir = Deno.makeTempDirSync({ prefix: "room_db_reopen_" });
  try {
    const first = new RoomDatabase({ dir });
    seed(first);
    first.close();
    rejects(() => first.listDatabases({}), 1006, /closed/);

    const second = new RoomDatabase({ dir });
    assert.deepEqual(second.listDatabases({}), { databases: ["main"] });
    assert.deepEqual(searchRows(second, {}), [[1n, "a", 1.5], [2n, "b", null], [3n, "c", 3]]);
    second.close();

    const raw = new DatabaseSync(join(dir, "main.sqlite"));
    assert.equal(
      (raw.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode,
      "wal",
    );
    raw.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// tables

Deno.test(
  "create_table: schema from the start payload, from the first data chunk, or schema only",
  withDb((db) => {
    db.createDatabase({ name: "main" });
    const columns: ColumnSchema[] = [{ name: "id", type: "int64" }, { name: "v", type: "utf8" }];

    const a = db.createTable(
      { database: "main", name: "a", mode: "create" },
      encodeArrowSchema(columns),
    );
    a.write(encodeArrowStream(columns, [[1n, "x"]]));
    a.write(encodeArrowStream([{ name: "v", type: "utf8" }], [["only v"]]));
    assert.equal(a.pendingRows, 2);
    assert.deepEqual(db.listTables(DB), { tables: [] }); // nothing before commit
    assert.deepEqual(a.commit(), { rows: 2 });

    const b = db.createTable({ database: "main", name: "b" }, new Uint8Array());
    b.write(encodeArrowStream(columns, [[5n, "y"]]));
    b.commit();

    const c = db.createTable({ database: "main", name: "c" }, encodeArrowSchema(columns));
    assert.deepEqual(c.commit(), { rows: 0 });

    const d = db.createTable({ database: "main", name: "d" });
    rejects(() => d.commit(), 1002, /needs a schema/);

    assert.deepEqual(db.listTables(DB), { tables: ["a", "b", "c"] });
    assert.deepEqual(all(db, "SELECT * FROM a"), [[1n, "x"], [null, "only v"]]);
    assert.deepEqual(all(db, "SELECT * FROM b"), [[5n, "y"]]);
    assert.equal(db.count({ ...DB, table: "c" }).count, 0);

    const e = db.createTable({ database: "main", name: "e" }, encodeArrowSchema(columns));
    rejects(
      () => e.write(encodeArrowStream([{ name: "zzz", type: "utf8" }], [["?"]])),
      1002,
      /"zzz" does not exist/,
    );
    e.abort();
    rejects(
      () => db.createTable({ database: "main", name: "f" }, encodeArrowSchema([])),
      1002,
      /at least one/,
    );
    rejects(
      () =>
        db.createTable(
          { database: "main", name: "f" },
          encodeArrowSchema([{ name: "x", type: "int64" }, { name: "X", type: "int64" }]),
        ),
      1002,
      /twice/,
    );
    rejects(() => db.createTable({ database: "nope", name: "f" }), 1003);
  }),
);

Deno.test(
  "create_table: modes create, overwrite and create_if_not_exists",
  withDb((db) => {
    seed(db);
    const schema = encodeArrowSchema([{ name: "other", type: "utf8" }]);
    rejects(() => db.createTable({ database: "main", name: "t", mode: "create" }, schema), 1004);
    rejects(() => db.createTable({ database: "main", name: "T", mode: "create" }, schema), 1004);

    const keep = db.createTable(
      { database: "main", name: "t", mode: "create_if_not_exists" },
      schema,
    );
    keep.write(encodeArrowStream([{ name: "other", type: "utf8" }], [["ignored"]]));
    assert.deepEqual(keep.commit(), { rows: 0 });
    assert.equal(db.count({ ...DB, table: "t" }).count, 3);

    const replace = db.createTable({ database: "main", name: "t", mode: "overwrite" }, schema);
    replace.write(encodeArrowStream([{ name: "other", type: "utf8" }], [["new"]]));
    assert.deepEqual(replace.commit(), { rows: 1 });
    assert.deepEqual(searchRows(db, {}), [["new"]]);
  }),
);

Deno.test(
  "create_table: a race where the table appears before commit fails with 1004, nothing kept",
  withDb((db) => {
    db.createDatabase({ name: "main" });
    const writer = db.createTable(
      { database: "main", name: "t", mode: "create" },
      encodeArrowSchema([{ name: "a", type: "int64" }]),
    );
    writer.write(encodeArrowStream([{ name: "a", type: "int64" }], [[1n]]));
    db.executeSqlStatement({ ...DB, query: "CREATE TABLE t (b TEXT)" });
    rejects(() => writer.commit(), 1004);
    assert.deepEqual(all(db, "SELECT count(*) FROM t"), [[0n]]);
    rejects(() => writer.commit(), 1006);
  }),
);

Deno.test(
  "tables: drop, rename, inspect, add and drop columns",
  withDb((db) => {
    seed(db);
    db.executeSqlStatement({
      ...DB,
      query: "CREATE TABLE keyed (k INTEGER PRIMARY KEY, label TEXT NOT NULL, extra)",
    });

    const schema = arrow.tableFromIPC(db.inspect({ ...DB, table: "keyed" })).schema;
    assert.deepEqual(
      schema.fields.map((field) => [field.name, String(field.type), field.nullable]),
      [["k", "Int64", true], ["label", "Utf8", false], ["extra", "Utf8", true]],
    );
    const info = db.inspectTable({ ...DB, table: "keyed" });
    assert.deepEqual(
      info.columns.map((c) => [c.name, c.declared_type, c.nullable, c.primary_key]),
      [
        ["k", "INTEGER", true, 1],
        ["label", "TEXT", false, 0],
        ["extra", "", true, 0],
      ],
    );

    db.addColumns(
      { ...DB, table: "t" },
      encodeArrowSchema([
        { name: "flag", type: "bool", nullable: false },
        { name: "blob", type: "binary" },
      ]),
    );
    assert.deepEqual(
      arrow.tableFromIPC(db.inspect({ ...DB, table: "t" })).schema.fields.map((f) => [
        f.name,
        String(f.type),
        f.nullable,
      ]),
      [
        ["id", "Int64", true],
        ["name", "Utf8", true],
        ["score", "Float64", true],
        ["flag", "Bool", true],
        ["blob", "Binary", true],
      ],
    );
    rejects(
      () =>
        db.addColumns({ ...DB, table: "t" }, encodeArrowSchema([{ name: "NAME", type: "utf8" }])),
      1004,
    );
    db.dropColumns({ ...DB, table: "t", columns: ["flag", "score"] });
    assert.deepEqual(db.inspectTable({ ...DB, table: "t" }).columns.map((c) => c.name), [
      "id",
      "name",
      "blob",
    ]);
    rejects(() => db.dropColumns({ ...DB, table: "t", columns: ["nope"] }), 1003);
    rejects(() => db.dropColumns({ ...DB, table: "keyed", columns: ["k"] }), 1002, /SQLite/);

    db.renameTable({ ...DB, name: "t", new_name: "renamed" });
    assert.deepEqual(db.listTables(DB), { tables: ["keyed", "renamed"] });
    rejects(() => db.renameTable({ ...DB, name: "t", new_name: "x" }), 1003);
    rejects(() => db.renameTable({ ...DB, name: "renamed", new_name: "KEYED" }), 1004);
    assert.equal(db.count({ ...DB, table: "renamed" }).count, 3);

    db.dropTable({ ...DB, name: "renamed" });
    rejects(() => db.dropTable({ ...DB, name: "renamed" }), 1003);
    db.dropTable({ ...DB, name: "renamed", ignore_missing: true });
    assert.deepEqual(db.listTables(DB), { tables: ["keyed"] });
    rejects(() => db.inspect({ ...DB, table: "renamed" }), 1003, /does not exist/);
  }),
);

// ---------------------------------------------------------------------------------------------
// rows

Deno.test(
  "insert: rows from the official Arrow library, including dictionary strings and Float64",
  withDb((db) => {
    seed(db, []);
    const writer = db.insert({ ...DB, table: "t", namespace: null });
    const table = arrow.tableFromJSON([
      { id: 10, name: "ten", score: 0.5 },
      { id: 11, name: "eleven", score: null },
    ]);
    writer.write(arrow.tableToIPC(table, "stream"));
    writer.write(encodeArrowStream([{ name: "name", type: "utf8" }], [["name only"]]));
    assert.deepEqual(writer.commit(), { rows: 3 });
    assert.deepEqual(searchRows(db, {}), [[10n, "ten", 0.5], [11n, "eleven", null], [
      null,
      "name only",
      null,
    ]]);
    rejects(() => db.insert({ ...DB, table: "missing" }), 1003);
    const bad = db.insert({ ...DB, table: "t" });
    rejects(
      () => bad.write(encodeArrowStream([{ name: "nope", type: "utf8" }], [["x"]])),
      1002,
      /add_columns/,
    );
    bad.abort();
  }),
);

Deno.test(
  "insert: an aborted stream and a failing commit leave the table unchanged",
  withDb((db) => {
    seed(db);
    db.executeSqlStatement({ ...DB, query: "CREATE UNIQUE INDEX t_id ON t (id)" });
    const aborted = db.insert({ ...DB, table: "t" });
    aborted.write(encodeArrowStream([{ name: "id", type: "int64" }], [[100n]]));
    aborted.abort();
    assert.equal(db.count({ ...DB, table: "t" }).count, 3);

    const failing = db.insert({ ...DB, table: "t" });
    failing.write(encodeArrowStream([{ name: "id", type: "int64" }], [[200n], [1n]]));
    rejects(() => failing.commit(), 1005, /UNIQUE/);
    assert.equal(db.count({ ...DB, table: "t" }).count, 3);
    assert.deepEqual(searchRows(db, { where: "id = 200" }), []);
  }),
);

Deno.test(
  "insert: a large stream is committed in parts past maxBufferedBytes",
  withDb((db) => {
    seed(db, []);
    const writer = db.insert({ ...DB, table: "t" });
    for (let i = 0; i < 5; i++) {
      writer.write(encodeArrowStream([{ name: "name", type: "utf8" }], [["x".repeat(600)]]));
    }
    assert.ok(writer.rowsWritten >= 3, `rowsWritten ${writer.rowsWritten}`);
    assert.deepEqual(writer.commit(), { rows: 5 });
    assert.equal(db.count({ ...DB, table: "t" }).count, 5);
  }, { maxBufferedBytes: 1000 }),
);

Deno.test(
  "update: string where with params, object where, named params, expressions, wrappers",
  withDb((db) => {
    seed(db);
    assert.deepEqual(
      db.update({
        ...DB,
        table: "t",
        where: "id >= ? AND name <> ?",
        params: [2, "c"],
        values: [{ column: "name", value_json: JSON.stringify("B") }],
      }),
      { rows_affected: 1 },
    );
    assert.deepEqual(
      db.update({
        ...DB,
        table: "t",
        where: { id: 3 },
        values: [
          { column: "score", value_json: JSON.stringify({ expression: "score * 2 + id" }) },
          { column: "name", value_json: JSON.stringify({ json: { k: [1] } }) },
        ],
      }),
      { rows_affected: 1 },
    );
    assert.deepEqual(
      db.update({
        ...DB,
        table: "t",
        where: "id = :which",
        params: { which: 1 },
        values: [{ column: "name", value_json: "null" }, { column: "score", value_json: "7" }],
      }),
      { rows_affected: 1 },
    );
    assert.deepEqual(searchRows(db, {}), [[1n, null, 7], [2n, "B", null], [3n, '{"k":[1]}', 9]]);
    assert.deepEqual(
      db.update({ ...DB, table: "t", where: null, values: [{ column: "score", value_json: "0" }] }),
      { rows_affected: 3 },
    );
    assert.deepEqual(
      db.update({
        ...DB,
        table: "t",
        where: "id > 99",
        values: [{ column: "score", value_json: "1" }],
      }),
      { rows_affected: 0 },
    );
    rejects(
      () => db.update({ ...DB, table: "t", values: [{ column: "nope", value_json: "1" }] }),
      1002,
      /values\[0\]\.column/,
    );
    rejects(
      () => db.update({ ...DB, table: "t", values: [{ column: "id", value_json: "{oops" }] }),
      1002,
      /not JSON/,
    );
    rejects(() => db.update({ ...DB, table: "t", values: [] }), 1002);
    rejects(
      () =>
        db.update({
          ...DB,
          table: "t",
          values: [{ column: "id", value_json: JSON.stringify({ mystery: 1 }) }],
        }),
      1002,
      /unknown encoded value/,
    );
  }),
);

Deno.test(
  "delete and count: where strings, where objects (NULL, binary), all rows",
  withDb((db) => {
    seed(db);
    db.executeSqlStatement({ ...DB, query: "ALTER TABLE t ADD COLUMN data BLOB" });
    db.executeSqlStatement({
      ...DB,
      query: "UPDATE t SET data = ? WHERE id = 1",
      params: [{ binary: "AAEC" }],
    });
    assert.deepEqual(db.count({ ...DB, table: "t", where: { data: { binary: "AAEC" } } }), {
      count: 1,
    });
    assert.deepEqual(db.count({ ...DB, table: "t", where: { score: null } }), { count: 1 });
    assert.deepEqual(db.count({ ...DB, table: "t", where: "score > ?", params: [1.4] }), {
      count: 2,
    });
    assert.deepEqual(db.count({ ...DB, table: "t", where: "" }), { count: 3 });
    assert.deepEqual(db.delete({ ...DB, table: "t", where: { name: "b", id: 2 } }), {
      rows_affected: 1,
    });
    assert.deepEqual(db.delete({ ...DB, table: "t", where: "id = ?", params: [99] }), {
      rows_affected: 0,
    });
    assert.deepEqual(db.delete({ ...DB, table: "t", where: null }), { rows_affected: 2 });
    assert.deepEqual(db.count({ ...DB, table: "t" }), { count: 0 });
    rejects(() => db.count({ ...DB, table: "t", where: { nope: 1 } }), 1002, /"nope"/);
    rejects(() => db.count({ ...DB, table: "t", where: "nope = 1" }), 1002, /no such column/);
  }),
);

Deno.test(
  "search: select, where, offset/limit after filtering, insertion order, order_by",
  withDb((db) => {
    seed(db, [[3n, "c", 1], [1n, "a", 2], [2n, "b", 3], [4n, "d", 4]]);
    assert.deepEqual(searchRows(db, {}).map((r) => r[0]), [3n, 1n, 2n, 4n]);
    assert.deepEqual(searchRows(db, { select: ["name", "id"], limit: 2 }), [["c", 3n], ["a", 1n]]);
    assert.deepEqual(
      searchRows(db, { where: "id <> ?", params: [3], offset: 1, limit: 5, select: ["id"] }),
      [[2n], [4n]],
    );
    assert.deepEqual(
      searchRows(db, { order_by: [{ column: "id", descending: true }], select: ["id"] }),
      [[4n], [3n], [2n], [1n]],
    );
    assert.deepEqual(searchRows(db, { where: { name: "zzz" } }), []);
    rejects(() => db.search({ ...DB, table: "t", select: ["nope"] }), 1002, /"nope"/);
    rejects(() => db.search({ ...DB, table: "t", limit: -1 }), 1002, /limit/);
    rejects(() => db.search({ ...DB, table: "nope" }), 1003);
  }),
);

Deno.test(
  "search: batches are self-contained Arrow streams with the table's types; empty → no chunk",
  withDb((db) => {
    seed(db, [[1n, "a", 1.5], [2n, null, null], [3n, "c", 3], [4n, "d", 4], [5n, "e", 5]]);
    const cursor = db.search({
      ...DB,
      table: "t",
      where: null,
      params: null,
      offset: null,
      limit: null,
      select: null,
    });
    const chunks: Uint8Array[] = [];
    for (let chunk = cursor.next(); chunk !== null; chunk = cursor.next()) chunks.push(chunk);
    assert.equal(cursor.state, "finished");
    cursor.close();
    assert.equal(chunks.length, 3);
    const tables = chunks.map((chunk) => arrow.tableFromIPC(chunk));
    assert.deepEqual(tables.map((table) => table.numRows), [2, 2, 1]);
    for (const table of tables) {
      assert.deepEqual(table.schema.fields.map((f) => String(f.type)), [
        "Int64",
        "Utf8",
        "Float64",
      ]);
    }
    assert.equal(tables[0].getChild("name")!.get(1), null);
    assert.equal(tables[2].getChild("id")!.get(0), 5n);

    const empty = db.search({ ...DB, table: "t", where: "id > 100" });
    assert.equal(empty.next(), null);
    assert.equal(empty.state, "finished");
    empty.close();
  }, { batchRows: 2 }),
);

// ---------------------------------------------------------------------------------------------
// SQL

Deno.test(
  "execute_sql: statements report rows_affected, queries open a cursor with a schema",
  withDb((db) => {
    seed(db);
    assert.deepEqual(
      db.executeSql({
        ...DB,
        query: "UPDATE t SET score = 0 WHERE id < ?",
        params: [3],
        namespace: null,
      }),
      { kind: "statement", rows_affected: 2 },
    );
    assert.deepEqual(db.executeSql({ ...DB, query: "CREATE TABLE z (a)" }), {
      kind: "statement",
      rows_affected: 0,
    });
    assert.deepEqual(db.executeSqlStatement({ ...DB, query: "CREATE INDEX zi ON z (a)" }), {
      rows_affected: 0,
    });

    const result = db.executeSql({
      ...DB,
      query: "SELECT id, name, id * 2 AS twice, score / 4 AS quarter, 'x' || name AS label, " +
        "NULL AS nada FROM t ORDER BY id",
    });
    assert.equal(result.kind, "query");
    if (result.kind !== "query") return;
    assert.ok(result.query_id.length > 0);
    const schema = arrow.tableFromIPC(result.schema);
    assert.equal(schema.numRows, 0);
    assert.deepEqual(
      schema.schema.fields.map((f) => [f.name, String(f.type)]),
      [
        ["id", "Int64"],
        ["name", "Utf8"],
        ["twice", "Int64"],
        ["quarter", "Float64"],
        ["label", "Utf8"],
        ["nada", "Utf8"],
      ],
    );
    const chunk = db.readSqlQuery({ query_id: result.query_id }).next()!;
    const rows = arrow.tableFromIPC(chunk);
    assert.equal(rows.numRows, 3);
    assert.equal(rows.getChild("twice")!.get(2), 6n);
    assert.equal(rows.getChild("quarter")!.get(2), 0.75);
    assert.equal(db.readSqlQuery({ query_id: result.query_id }).next(), null);
    db.closeSqlQuery({ query_id: result.query_id });
  }),
);

Deno.test(
  "open/read/close/cancel_sql_query: a streaming cursor read in batches",
  withDb((db) => {
    db.createDatabase({ name: "main" });
    db.executeSqlStatement({
      ...DB,
      query: "CREATE TABLE n (x INTEGER); " +
        "WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s WHERE v < 10) " +
        "INSERT INTO n SELECT v FROM s",
    });
    const opened = db.openSqlQuery({
      ...DB,
      query: "SELECT x FROM n WHERE x > ? ORDER BY x",
      params: [2],
    });
    assert.deepEqual(Object.keys(opened).sort(), ["kind", "query_id", "schema"]);
    assert.deepEqual(db.queryTarget(opened.query_id), { database: "main", namespace: null });
    const seen: bigint[] = [];
    const first = db.readSqlQuery({ query_id: opened.query_id });
    seen.push(...arrow.tableFromIPC(first.next()!).getChild("x")!.toArray() as unknown as bigint[]);
    // a second read_sql_query stream continues where the first stopped
    const again = db.readSqlQuery({ query_id: opened.query_id });
    for (let chunk = again.next(); chunk !== null; chunk = again.next()) {
      const table = arrow.tableFromIPC(chunk);
      assert.ok(table.numRows <= 3);
      seen.push(...(table.getChild("x")!.toArray() as unknown as bigint[]));
    }
    assert.deepEqual(seen, [3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n]);
    assert.deepEqual(db.cancelSqlQuery({ query_id: opened.query_id }), {
      status: "not_cancellable",
    });
    db.closeSqlQuery({ query_id: opened.query_id });
    db.closeSqlQuery({ query_id: opened.query_id }); // closing twice is fine
    assert.deepEqual(db.cancelSqlQuery({ query_id: opened.query_id }), {
      status: "not_cancellable",
    });
    rejects(() => db.readSqlQuery({ query_id: opened.query_id }), 1006, /closed/);
    assert.equal(db.queryTarget(opened.query_id), null);

    const running = db.openSqlQuery({ ...DB, query: "SELECT x FROM n" });
    db.readSqlQuery({ query_id: running.query_id }).next();
    assert.deepEqual(db.cancelSqlQuery({ query_id: running.query_id }), { status: "cancelled" });
    assert.deepEqual(db.cancelSqlQuery({ query_id: running.query_id }), {
      status: "not_cancellable",
    });
    rejects(() => db.readSqlQuery({ query_id: running.query_id }), 1006, /cancelled/);
    db.closeSqlQuery({ query_id: running.query_id });

    rejects(() => db.readSqlQuery({ query_id: "never" }), 1003, /unknown query_id/);
    rejects(() => db.closeSqlQuery({ query_id: "never" }), 1003);
    rejects(() => db.cancelSqlQuery({ query_id: "" }), 1002);
    rejects(() => db.openSqlQuery({ ...DB, query: "CREATE TABLE q (a)" }), 1002, /returns rows/);
    rejects(() => db.openSqlQuery({ ...DB, query: "SELECT 1; SELECT 2" }), 1002, /one statement/);
    assert.equal(db.openQueries, 0);
  }, { batchRows: 3 }),
);

Deno.test(
  "SQL: named parameters and encoded values in params",
  withDb((db) => {
    seed(db);
    assert.deepEqual(all(db, "SELECT name FROM t WHERE id = ?", [2]), [["b"]]);
    const named = db.executeSql({
      ...DB,
      query: "SELECT :a + 1 AS a, @b AS b, $c AS c, ? AS d",
      params: { a: 41, b: "text", c: { binary: "AQI=" } },
    });
    assert.equal(named.kind, "query");
    if (named.kind !== "query") return;
    assert.deepEqual(db.readSqlQuery({ query_id: named.query_id }).nextRows(), [[
      42n,
      "text",
      new Uint8Array([1, 2]),
      null,
    ]]);
    db.closeSqlQuery({ query_id: named.query_id });
    rejects(
      () => db.executeSql({ ...DB, query: "SELECT ?", params: [1, 2] }),
      1002,
      /placeholders/,
    );
    rejects(() => db.executeSql({ ...DB, query: "SELECT :a", params: { zzz: 1 } }), 1002);
    rejects(
      () => db.executeSql({ ...DB, query: "SELECT 1", params: "1" as never }),
      1002,
      /params/,
    );
  }),
);

Deno.test(
  "SQL: a script runs in one transaction; an error anywhere leaves the database unchanged",
  withDb((db) => {
    seed(db);
    assert.deepEqual(
      db.executeSqlStatement({
        ...DB,
        query: "INSERT INTO t (id) VALUES (10); -- comment\nINSERT INTO t (id) VALUES (11);\n",
      }),
      { rows_affected: 2 },
    );
    rejects(
      () =>
        db.executeSqlStatement({
          ...DB,
          query: "INSERT INTO t (id) VALUES (12); DROP TABLE t; SELEC oops",
        }),
      1002,
      /syntax error/,
    );
    assert.equal(db.count({ ...DB, table: "t" }).count, 5);
    assert.deepEqual(db.listTables(DB), { tables: ["t"] });
    rejects(
      () =>
        db.executeSqlStatement({
          ...DB,
          query: "INSERT INTO t (id) VALUES (?); SELECT 1",
          params: [1],
        }),
      1002,
      /single statement/,
    );
    assert.deepEqual(db.executeSql({ ...DB, query: "DELETE FROM t WHERE id >= 10; SELECT 1" }), {
      kind: "statement",
      rows_affected: 2,
    });
  }),
);

Deno.test(
  "bad SQL: a clear 1002 with SQLite's message, and nothing changes",
  withDb((db) => {
    seed(db);
    const before = all(db, "SELECT * FROM t");
    rejects(
      () => db.executeSql({ ...DB, query: "SELEC * FROM t" }),
      1002,
      /near "SELEC": syntax error/,
    );
    rejects(
      () => db.executeSqlStatement({ ...DB, query: "UPDATE t SET nope = 1" }),
      1002,
      /no such column: nope/,
    );
    rejects(
      () => db.executeSql({ ...DB, query: "SELECT * FROM missing" }),
      1003,
      /no such table: missing/,
    );
    rejects(
      () => db.executeSqlStatement({ ...DB, query: "CREATE TABLE t (a)" }),
      1004,
      /already exists/,
    );
    rejects(
      () => db.executeSqlStatement({ ...DB, query: "INSERT INTO t (id) VALUES (1), ('x', 2)" }),
      1002,
    );
    rejects(() => db.executeSql({ ...DB, query: "   -- nothing\n" }), 1002, /query/);
    rejects(() => db.executeSql({ ...DB, query: ";;" }), 1002, /query/);
    // NUL bytes and blank tails must never reach node:sqlite (a null statement crashes it)
    rejects(
      () => db.executeSqlStatement({ ...DB, query: "SELECT 1\0; DROP TABLE t" }),
      1002,
      /NUL/,
    );
    rejects(() => db.executeSql({ ...DB, query: "\0" }), 1002, /NUL/);
    rejects(() => db.openSqlQuery({ ...DB, query: "SELECT 1;\0" }), 1002, /NUL/);
    assert.deepEqual(db.executeSqlStatement({ ...DB, query: "SELECT 1; ;; -- x\n/* y" }), {
      rows_affected: 0,
    });
    rejects(() => db.executeSql({ ...DB, query: "\v" }), 1002, /unrecognized token/);
    assert.deepEqual(all(db, "SELECT * FROM t"), before);
  }),
);

// ---------------------------------------------------------------------------------------------
// injection and isolation

Deno.test(
  "injection through values does nothing but store the text",
  withDb((db) => {
    seed(db, []);
    const evil = [
      "x'); DROP TABLE t; --",
      '"; DROP TABLE t; --',
      "1 OR 1=1",
      "'); ATTACH DATABASE '/tmp/evil.db' AS e; --",
    ];
    const writer = db.insert({ ...DB, table: "t" });
    writer.write(encodeArrowStream([{ name: "name", type: "utf8" }], evil.map((name) => [name])));
    writer.commit();
    assert.deepEqual(searchRows(db, { select: ["name"] }).map((r) => r[0]), evil);
    for (const name of evil) {
      assert.equal(db.count({ ...DB, table: "t", where: { name } }).count, 1);
      assert.equal(db.count({ ...DB, table: "t", where: "name = ?", params: [name] }).count, 1);
    }
    db.update({
      ...DB,
      table: "t",
      where: { name: evil[0] },
      values: [{ column: "name", value_json: JSON.stringify(evil[1]) }],
    });
    db.delete({ ...DB, table: "t", where: { name: evil[2] } });
    assert.equal(db.count({ ...DB, table: "t" }).count, 3);
    assert.deepEqual(db.listTables(DB), { tables: ["t"] });
  }),
);

Deno.test(
  "injection through identifiers: odd table and column names are just names",
  withDb((db) => {
    db.createDatabase({ name: "main" });
    const table = 't"; DROP TABLE victim; --';
    const column = 'c"); DROP TABLE victim; --';
    db.executeSqlStatement({ ...DB, query: "CREATE TABLE victim (a)" });
    const writer = db.createTable(
      { database: "main", name: table },
      encodeArrowSchema([{ name: column, type: "utf8" }, { name: "[x]", type: "int64" }]),
    );
    writer.write(
      encodeArrowStream([{ name: column, type: "utf8" }, { name: "[x]", type: "int64" }], [[
        "v",
        1n,
      ]]),
    );
    writer.commit();
    assert.deepEqual(db.listTables(DB), { tables: [table, "victim"] });
    assert.deepEqual(db.inspectTable({ ...DB, table }).columns.map((c) => c.name), [column, "[x]"]);
    const cursor = db.search({ ...DB, table, select: ["[x]", column], where: { [column]: "v" } });
    assert.deepEqual(cursor.nextRows(), [[1n, "v"]]);
    cursor.close();
    db.update({ ...DB, table, values: [{ column, value_json: '"w"' }] });
    db.renameTable({ ...DB, name: table, new_name: "a'b" });
    db.dropColumns({ ...DB, table: "a'b", columns: ["[x]"] });
    db.dropTable({ ...DB, name: "a'b" });
    assert.deepEqual(db.listTables(DB), { tables: ["victim"] });
    rejects(() => db.createTable({ database: "main", name: "bad\0name" }), 1002, /NUL/);
  }),
);

Deno.test(
  "injection through where strings: they cannot escape their parentheses or read other tables",
  withDb((db) => {
    seed(db);
    db.executeSqlStatement({
      ...DB,
      query: "CREATE TABLE secret (pw TEXT); INSERT INTO secret VALUES ('hunter2')",
    });
    const attempts: [string, number, RegExp][] = [
      ["1) UNION SELECT pw, pw, pw FROM secret --", 1002, /parenthesis/],
      ["1); DROP TABLE secret; --", 1002, /parenthesis|;/],
      ["1; DROP TABLE secret", 1002, /;/],
      ["1 /* unterminated", 1002, /comment/],
      ["name = 'open", 1002, /quote/],
      ["(1", 1002, /parenthesis/],
      ["EXISTS (SELECT 1 FROM secret WHERE pw LIKE 'h%')", 1001, /only use columns of table "t"/],
      ["id IN (SELECT rowid FROM secret)", 1001, /secret/],
      ["load_extension('x') IS NULL", 1001, /load_extension/],
    ];
    for (const [where, code, pattern] of attempts) {
      rejects(() => db.count({ ...DB, table: "t", where }), code, pattern);
      rejects(() => db.search({ ...DB, table: "t", where }), code, pattern);
      rejects(() => db.delete({ ...DB, table: "t", where }), code, pattern);
    }
    rejects(
      () =>
        db.update({
          ...DB,
          table: "t",
          values: [{
            column: "name",
            value_json: JSON.stringify({ expression: "(SELECT pw FROM secret)" }),
          }],
        }),
      1001,
    );
    // a line comment at the end is harmless: the server ends the fragment with a newline
    assert.equal(db.count({ ...DB, table: "t", where: "id = 1 -- comment" }).count, 1);
    assert.equal(
      db.count({ ...DB, table: "t", where: "name IN ('a', 'b') AND (id > 0)" }).count,
      2,
    );
    assert.equal(db.count({ ...DB, table: "t" }).count, 3);
    assert.deepEqual(all(db, "SELECT pw FROM secret"), [["hunter2"]]);
  }),
);

Deno.test(
  "client SQL cannot attach files, run transactions, change pragmas or VACUUM INTO a file",
  withDb((db, dir) => {
    seed(db);
    const outside = join(dir, "..", `outside_${crypto.randomUUID()}.db`);
    const attempts: [string, RegExp][] = [
      [`ATTACH DATABASE '${outside}' AS x`, /ATTACH/],
      ["DETACH DATABASE main", /DETACH/],
      ["BEGIN", /transactions/],
      ["SAVEPOINT s", /transactions/],
      ["PRAGMA journal_mode = DELETE", /PRAGMA journal_mode/],
      ["PRAGMA writable_schema = ON", /PRAGMA/],
      ["PRAGMA database_list", /PRAGMA/],
      [`VACUUM INTO '${outside}'`, /VACUUM INTO/],
      [`/* x */ vacuum main into '${outside}'`, /VACUUM INTO/],
    ];
    for (const [query, pattern] of attempts) {
      rejects(() => db.executeSqlStatement({ ...DB, query }), 1001, pattern);
      rejects(() => db.executeSql({ ...DB, query }), 1001, pattern);
    }
    assert.ok(!existsSync(outside));
    assert.deepEqual(all(db, "PRAGMA table_info(t)").map((row) => row[1]), ["id", "name", "score"]);
    assert.deepEqual(db.executeSqlStatement({ ...DB, query: "VACUUM" }), { rows_affected: 0 });
    // the server's own transactions still work after refusing the client's
    assert.deepEqual(
      db.executeSqlStatement({
        ...DB,
        query: "DELETE FROM t WHERE id = 1; DELETE FROM t WHERE id = 2",
      }),
      { rows_affected: 2 },
    );
  }),
);

// ---------------------------------------------------------------------------------------------
// lifetimes

Deno.test(
  "open queries: dropping their table waits for them; dropping the database ends them",
  withDb((db) => {
    seed(db);
    const opened = db.openSqlQuery({ ...DB, query: "SELECT * FROM t" });
    rejects(() => db.dropTable({ ...DB, name: "t" }), 1006, /close it first/);
    db.closeSqlQuery({ query_id: opened.query_id });
    db.dropTable({ ...DB, name: "t" });

    db.executeSqlStatement({
      ...DB,
      query: "CREATE TABLE t (id INTEGER); INSERT INTO t VALUES (1), (2)",
    });
    const live = db.openSqlQuery({ ...DB, query: "SELECT 1" });
    const search = db.search({ ...DB, table: "t" });
    const writer = db.insert({ ...DB, table: "t" });
    db.dropDatabase({ name: "main" });
    rejects(() => db.readSqlQuery({ query_id: live.query_id }), 1006, /dropped/);
    rejects(() => search.next(), 1006, /dropped/);
    rejects(() => writer.commit(), 1006, /dropped/);
    assert.deepEqual(db.listDatabases({}), { databases: [] });
  }, { batchRows: 1 }),
);

Deno.test("open queries: idle ones are closed, and their number is capped", () => {
  let now = 0;
  const dir = Deno.makeTempDirSync({ prefix: "room_db_idle_" });
  const db = new RoomDatabase({ dir, queryIdleMs: 1000, maxOpenQueries: 2, now: () => now });
  try {
    db.createDatabase({ name: "main" });
    const a = db.openSqlQuery({ ...DB, query: "SELECT 1" });
    now = 500;
    const b = db.openSqlQuery({ ...DB, query: "SELECT 2" });
    rejects(() => db.openSqlQuery({ ...DB, query: "SELECT 3" }), 1006, /too many/);
    now = 1200; // a is idle for 1200 ms, b for 700 ms
    const c = db.openSqlQuery({ ...DB, query: "SELECT 3" });
    assert.equal(db.openQueries, 2);
    rejects(() => db.readSqlQuery({ query_id: a.query_id }), 1006);
    assert.deepEqual(db.cancelSqlQuery({ query_id: a.query_id }), { status: "not_cancellable" });
    assert.deepEqual(db.readSqlQuery({ query_id: b.query_id }).nextRows(), [[2n]]);
    assert.deepEqual(db.readSqlQuery({ query_id: c.query_id }).nextRows(), [[3n]]);
  } finally {
    db.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("requests are validated: wrong JSON shapes are 1002 errors, never crashes", () => {
  const dir = Deno.makeTempDirSync({ prefix: "room_db_validate_" });
  const db = new RoomDatabase({ dir });
  try {
    seed(db);
    const bad: (() => unknown)[] = [
      () => db.listDatabases(null as never),
      () => db.createDatabase({ name: 5 } as never),
      () => db.listTables({ database: ["main"] } as never),
      () => db.search({ ...DB, table: "t", select: "id" } as never),
      () => db.search({ ...DB, table: "t", offset: 1.5 }),
      () => db.search({ ...DB, table: "t", where: 5 } as never),
      () => db.update({ ...DB, table: "t", values: "x" } as never),
      () => db.dropColumns({ ...DB, table: "t", columns: [] }),
      () => db.executeSql({ ...DB, query: 7 } as never),
      () => db.dropDatabase({ name: "main", ignore_missing: "yes" } as never),
      () => db.readSqlQuery({ query_id: 1 } as never),
      () => db.insert({ ...DB, table: "" }),
      () => db.insert({ ...DB, table: "t" }).write(new Uint8Array([1, 2, 3])),
    ];
    for (const fn of bad) rejects(fn, 1002);
  } finally {
    db.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test(
  "databases: idle files beyond maxOpenDatabases are closed and reopened on use",
  withDb((db) => {
    for (const name of ["a", "b", "c", "d"]) {
      db.createDatabase({ name });
      db.executeSqlStatement({
        database: name,
        query: `CREATE TABLE t (v); INSERT INTO t VALUES ('${name}')`,
      });
    }
    const open = db.openSqlQuery({ database: "a", query: "SELECT v FROM t" });
    for (const name of ["b", "c", "d", "b", "c"]) {
      assert.equal(db.count({ database: name, table: "t" }).count, 1);
      assert.ok(db.openDatabases <= 2, `open: ${db.openDatabases}`);
    }
    // "a" had an open query, so it stayed open
    assert.deepEqual(db.readSqlQuery({ query_id: open.query_id }).nextRows(), [["a"]]);
    db.closeSqlQuery({ query_id: open.query_id });
  }, { maxOpenDatabases: 2 }),
);

Deno.test(
  "writes and scripts still work while a query is half read",
  withDb((db) => {
    seed(db);
    const opened = db.openSqlQuery({ ...DB, query: "SELECT id FROM t ORDER BY id" });
    const cursor = db.readSqlQuery({ query_id: opened.query_id });
    assert.deepEqual(cursor.nextRows(), [[1n]]);
    const writer = db.insert({ ...DB, table: "t" });
    writer.write(encodeArrowStream([{ name: "id", type: "int64" }], [[4n]]));
    assert.deepEqual(writer.commit(), { rows: 1 });
    assert.deepEqual(
      db.executeSqlStatement({
        ...DB,
        query: "UPDATE t SET name = 'z' WHERE id = 4; DELETE FROM t WHERE id = 3",
      }),
      { rows_affected: 2 },
    );
    const rest: SqlValue[][] = [];
    for (let rows = cursor.nextRows(); rows !== null; rows = cursor.nextRows()) rest.push(...rows);
    assert.ok(rest.length >= 1);
    db.closeSqlQuery({ query_id: opened.query_id });
    assert.deepEqual(searchRows(db, { select: ["id", "name"] }), [[1n, "a"], [2n, "b"], [4n, "z"]]);
  }, { batchRows: 1 }),
);

Deno.test(
  "deeply nested encoded values are refused with 1002, not a stack overflow (found by fuzzing)",
  withDb((db) => {
    seed(db);
    const deep = "[".repeat(20_000) + "]".repeat(20_000);
    rejects(
      () =>
        db.update({
          ...DB,
          table: "t",
          where: { id: 1 },
          values: [{ column: "name", value_json: deep }],
        }),
      1002,
      /nests more than 64 levels/,
    );
    rejects(
      () => db.delete({ ...DB, table: "t", where: { name: JSON.parse(deep) } }),
      1002,
      /nests more than 64 levels/,
    );
  }),
);
