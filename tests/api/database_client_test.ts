// Integration tests of DatabaseClient (`room.database`) against our real room server.
import assert from "node:assert/strict";
import { ApiScope, DatabaseClient, type RoomClient, RoomError, SqlQuery } from "@meshagent/api";
import { connect, roomName, type TestServer, withServer } from "./testdata/test_room.ts";

const NOTES = [{ name: "id", type: "int64" as const }, { name: "title", type: "utf8" as const }];

async function withRoom(
  fn: (room: RoomClient, server: TestServer, name: string) => Promise<void>,
): Promise<void> {
  await withServer(async (server) => {
    const name = roomName();
    const room = await connect(server, name, "alice");
    try {
      await fn(room, server, name);
    } finally {
      await room.dispose();
    }
  });
}

/** Creates database `main` and table `notes (id, title)` with `rows`. */
async function seed(
  room: RoomClient,
  rows: Record<string, unknown>[] = [],
): Promise<void> {
  await room.database.createDatabase({ name: "main" });
  await room.database.createTable({ database: "main", name: "notes", columns: NOTES, rows });
}

function code(expected: number, text?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof RoomError, `expected a RoomError, got ${e}`);
    assert.equal(e.code, expected, e.message);
    if (text) assert.match(e.message, text);
    return true;
  };
}

Deno.test("room.database and room.sqlite are the same DatabaseClient", async () => {
  await withRoom((room) => {
    assert.ok(room.database instanceof DatabaseClient);
    assert.equal(room.sqlite, room.database);
    return Promise.resolve();
  });
});

Deno.test("databases: create, list (by namespace), inspect, drop", async () => {
  await withRoom(async (room) => {
    const db = room.database;
    assert.deepEqual(await db.listDatabases(), []);
    await db.createDatabase({ name: "main" });
    await db.createDatabase({ name: "main", namespace: ["team", "a"] });
    await assert.rejects(db.createDatabase({ name: "main" }), code(1004, /already exists/));
    await db.createDatabase({ name: "main", mode: "create_if_not_exists" });
    assert.deepEqual(await db.listDatabases(), ["main"]);
    assert.deepEqual(await db.listDatabases({ namespace: ["team", "a"] }), ["main"]);
    assert.deepEqual(await db.listDatabases({ namespace: ["team"] }), []);

    await db.createTable({ database: "main", name: "t", columns: NOTES });
    const info = await db.inspectDatabase({ name: "main" });
    assert.equal(info.name, "main");
    assert.equal(info.tables, 1);
    assert.ok(info.sizeBytes > 0);
    // the same name in another namespace is another database
    assert.equal((await db.inspectDatabase({ name: "main", namespace: ["team", "a"] })).tables, 0);

    await db.createDatabase({ name: "main", mode: "overwrite" });
    assert.equal((await db.inspectDatabase({ name: "main" })).tables, 0);

    await db.dropDatabase({ name: "main", namespace: ["team", "a"] });
    await assert.rejects(
      db.dropDatabase({ name: "main", namespace: ["team", "a"] }),
      code(1003, /does not exist/),
    );
    await db.dropDatabase({ name: "main", namespace: ["team", "a"], ignoreMissing: true });
    assert.deepEqual(await db.listDatabases({ namespace: ["team", "a"] }), []);
    await assert.rejects(db.listTables({ database: "nope" }), code(1003, /create_database/));
  });
});

Deno.test("tables: create from columns or rows, list, rename, inspect, add/drop columns, drop", async () => {
  await withRoom(async (room) => {
    const db = room.database;
    await db.createDatabase({ name: "main" });
    await db.createTable({ database: "main", name: "notes", columns: NOTES });
    // columns inferred from rows
    await db.createTable({
      database: "main",
      name: "mixed",
      rows: [
        { n: 1, x: 1.5, s: "a", ok: true, b: new Uint8Array([1, 2]), j: { k: [1] }, z: null },
        { n: 2, x: 2, s: null, ok: false, b: null, j: null, z: null },
      ],
    });
    assert.deepEqual(await db.listTables({ database: "main" }), ["mixed", "notes"]);
    assert.deepEqual(
      (await db.inspect({ database: "main", table: "mixed" })).map((c) => [c.name, c.type]),
      [["n", "int64"], ["x", "float64"], ["s", "utf8"], ["ok", "bool"], ["b", "binary"], [
        "j",
        "utf8",
      ], ["z", "utf8"]],
    );
    assert.deepEqual(await db.search({ database: "main", table: "mixed" }), [
      { n: 1, x: 1.5, s: "a", ok: true, b: new Uint8Array([1, 2]), j: '{"k":[1]}', z: null },
      { n: 2, x: 2, s: null, ok: false, b: null, j: null, z: null },
    ]);
    await assert.rejects(
      db.createTable({ database: "main", name: "notes", columns: NOTES }),
      code(1004, /already exists/),
    );
    await assert.rejects(
      db.createTable({ database: "main", name: "empty" }),
      code(1002, /columns/),
    );
    // create_if_not_exists keeps the table and ignores the rows; overwrite replaces it
    await db.insert({ database: "main", table: "notes", rows: [{ id: 1, title: "a" }] });
    await db.createTable({
      database: "main",
      name: "notes",
      columns: NOTES,
      rows: [{ id: 9, title: "ignored" }],
      mode: "create_if_not_exists",
    });
    assert.equal(await db.count({ database: "main", table: "notes" }), 1);
    await db.createTable({
      database: "main",
      name: "mixed",
      columns: [{ name: "only", type: "utf8" }],
      mode: "overwrite",
    });
    assert.deepEqual(
      (await db.inspect({ database: "main", table: "mixed" })).map((c) => c.name),
      ["only"],
    );

    await db.addColumns({
      database: "main",
      table: "notes",
      columns: [{ name: "score", type: "float64" }, { name: "done", type: "bool" }],
    });
    assert.deepEqual(
      (await db.inspect({ database: "main", table: "notes" })).map((c) => [c.name, c.type]),
      [["id", "int64"], ["title", "utf8"], ["score", "float64"], ["done", "bool"]],
    );
    await assert.rejects(
      db.addColumns({
        database: "main",
        table: "notes",
        columns: [{ name: "score", type: "utf8" }],
      }),
      code(1004),
    );
    await db.dropColumns({ database: "main", table: "notes", columns: ["score"] });
    await assert.rejects(
      db.dropColumns({ database: "main", table: "notes", columns: ["missing"] }),
      code(1003),
    );
    assert.deepEqual(await db.search({ database: "main", table: "notes" }), [
      { id: 1, title: "a", done: null },
    ]);

    await db.renameTable({ database: "main", name: "notes", newName: "memos" });
    await assert.rejects(
      db.renameTable({ database: "main", name: "memos", newName: "mixed" }),
      code(1004),
    );
    assert.deepEqual(await db.listTables({ database: "main" }), ["memos", "mixed"]);
    await db.dropTable({ database: "main", name: "mixed" });
    await assert.rejects(db.dropTable({ database: "main", name: "mixed" }), code(1003));
    await db.dropTable({ database: "main", name: "mixed", ignoreMissing: true });
    assert.deepEqual(await db.listTables({ database: "main" }), ["memos"]);
  });
});

Deno.test("rows: insert, search (where/params/select/limit/offset), update, delete, count", async () => {
  await withRoom(async (room) => {
    const db = room.database;
    await seed(room);
    assert.equal(
      await db.insert({
        database: "main",
        table: "notes",
        rows: [{ id: 1, title: "one" }, { id: 2, title: "two" }, { id: 3 }, { ID: 4, Title: "x" }],
      }),
      4,
    );
    assert.equal(await db.insert({ database: "main", table: "notes", rows: [] }), 0);
    const t = { database: "main", table: "notes" };
    assert.deepEqual(await db.search(t), [
      { id: 1, title: "one" },
      { id: 2, title: "two" },
      { id: 3, title: null },
      { id: 4, title: "x" },
    ]);
    assert.deepEqual(
      await db.search({ ...t, where: "id > ? AND title IS NOT NULL", params: [1] }),
      [
        { id: 2, title: "two" },
        { id: 4, title: "x" },
      ],
    );
    assert.deepEqual(await db.search({ ...t, where: "id = :id", params: { id: 2 } }), [
      { id: 2, title: "two" },
    ]);
    assert.deepEqual(await db.search({ ...t, where: { title: "one" } }), [{ id: 1, title: "one" }]);
    assert.deepEqual(await db.search({ ...t, where: { title: null } }), [{ id: 3, title: null }]);
    assert.deepEqual(await db.search({ ...t, select: ["title", "id"], limit: 2, offset: 1 }), [
      { title: "two", id: 2 },
      { title: null, id: 3 },
    ]);
    assert.equal(await db.count(t), 4);
    assert.equal(await db.count({ ...t, where: "title LIKE ?", params: ["t%"] }), 1);

    assert.equal(
      await db.update({ ...t, where: "id <= ?", params: [2], values: { title: "low" } }),
      2,
    );
    assert.equal(
      await db.update({ ...t, where: { id: 3 }, expressions: { title: "'n' || id" } }),
      1,
    );
    assert.deepEqual(await db.search({ ...t, select: ["title"] }), [
      { title: "low" },
      { title: "low" },
      { title: "n3" },
      { title: "x" },
    ]);
    await assert.rejects(db.update({ ...t, where: { id: 1 } }), code(1002, /values/));
    assert.equal(await db.delete({ ...t, where: "title = ?", params: ["low"] }), 2);
    assert.equal(await db.delete({ ...t, where: { id: 42 } }), 0);
    assert.equal(await db.count(t), 2);
    assert.equal(await db.delete(t), 2);
    assert.equal(await db.count(t), 0);
  });
});

Deno.test("rows: value types round trip (big integers, floats, blobs, booleans, dates)", async () => {
  await withRoom(async (room) => {
    const db = room.database;
    await db.createDatabase({ name: "main" });
    await db.createTable({
      database: "main",
      name: "v",
      columns: [
        { name: "i", type: "int64" },
        { name: "f", type: "float64" },
        { name: "b", type: "binary" },
        { name: "ok", type: "bool" },
        { name: "d", type: "date" },
        { name: "at", type: "timestamp" },
      ],
    });
    const big = 2n ** 62n + 1n;
    await db.insert({
      database: "main",
      table: "v",
      rows: [
        {
          i: big,
          f: 0.25,
          b: new Uint8Array([0, 255]),
          ok: true,
          d: "2024-02-29",
          at: new Date("2024-02-29T12:00:00Z"),
        },
        { i: -5, f: 3, b: null, ok: false, d: null, at: null },
      ],
    });
    const rows = await db.search({ database: "main", table: "v" });
    assert.deepEqual(rows, [
      {
        i: big,
        f: 0.25,
        b: new Uint8Array([0, 255]),
        ok: true,
        d: "2024-02-29",
        at: "2024-02-29T12:00:00.000Z",
      },
      { i: -5, f: 3, b: null, ok: false, d: null, at: null },
    ]);
    // bound parameters of every kind
    assert.deepEqual(
      (await db.executeSql({
        database: "main",
        query: "SELECT count(*) AS n FROM v WHERE b = ? AND ok = ? AND f = ?",
        params: [new Uint8Array([0, 255]), true, 0.25],
      })).rows,
      [{ n: 1 }],
    );
    await assert.rejects(
      db.executeSql({ database: "main", query: "SELECT ?", params: [2n ** 60n] }),
      code(1002, /CAST/),
    );
    await assert.rejects(
      db.insert({ database: "main", table: "v", rows: [{ i: 1.5 }] }),
      code(1002, /rows\[0\].*"i"/),
    );
    await assert.rejects(
      db.insert({ database: "main", table: "v", rows: [{ nope: 1 }] }),
      code(1002, /addColumns/),
    );
  });
});

Deno.test("SQL: executeSql (rows and statements), executeSqlStatement, scripts, named params", async () => {
  await withRoom(async (room) => {
    const db = room.database;
    await seed(room);
    assert.equal(
      await db.executeSqlStatement({
        database: "main",
        query: "INSERT INTO notes (id, title) VALUES (?, ?), (?, ?)",
        params: [1, "a", 2, "b"],
      }),
      2,
    );
    assert.equal(
      await db.executeSqlStatement({
        database: "main",
        query: "INSERT INTO notes (id, title) VALUES (:id, @title)",
        params: { id: 3, title: "c" },
      }),
      1,
    );
    const statement = await db.executeSql({
      database: "main",
      query: "UPDATE notes SET title = upper(title) WHERE id >= $min",
      params: { min: 2 },
    });
    assert.deepEqual(statement, { kind: "statement", columns: [], rows: [], rowsAffected: 2 });
    const result = await db.executeSql({
      database: "main",
      query: "SELECT n.id, n.title, m.id FROM notes n JOIN notes m ON m.id = n.id + 1 ORDER BY 1",
    });
    assert.equal(result.kind, "rows");
    assert.deepEqual(result.columns.map((c) => [c.name, c.type]), [
      ["id", "int64"],
      ["title", "utf8"],
      ["id", "int64"],
    ]);
    // a repeated column name gets a suffix in row objects
    assert.deepEqual(result.rows, [{ id: 1, title: "a", id_2: 2 }, { id: 2, title: "B", id_2: 3 }]);
    assert.equal(
      await db.executeSqlStatement({
        database: "main",
        query: "CREATE TABLE extra (k TEXT); INSERT INTO extra VALUES ('x'); " +
          "INSERT INTO extra VALUES ('y');",
      }),
      2,
    );
    assert.deepEqual(await db.listTables({ database: "main" }), ["extra", "notes"]);
    // nothing found is an empty result
    assert.deepEqual(
      (await db.executeSql({ database: "main", query: "SELECT * FROM notes WHERE id < 0" })).rows,
      [],
    );
  });
});

Deno.test("SQL errors are clear RoomErrors and leave the data unchanged", async () => {
  await withRoom(async (room) => {
    const db = room.database;
    await db.createDatabase({ name: "main" });
    await db.executeSqlStatement({
      database: "main",
      query: "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL)",
    });
    await db.insert({ database: "main", table: "notes", rows: [{ id: 1, title: "a" }] });
    const t = { database: "main", table: "notes" };

    await assert.rejects(
      db.executeSql({ database: "main", query: "SELEC * FROM notes" }),
      code(1002, /syntax error/),
    );
    await assert.rejects(
      db.executeSql({ database: "main", query: "SELECT * FROM missing" }),
      code(1003, /no such table/),
    );
    // a constraint violation in the middle of an insert keeps none of its rows
    await assert.rejects(
      db.insert({ ...t, rows: [{ id: 2, title: "b" }, { id: 1, title: "dup" }] }),
      (e: unknown) => e instanceof RoomError && (e.code === 1005 || e.code === 1002),
    );
    // a failing statement in a script rolls back the whole script
    await assert.rejects(
      db.executeSqlStatement({
        database: "main",
        query: "INSERT INTO notes VALUES (5, 'e'); INSERT INTO notes VALUES (6, NULL);",
      }),
      (e: unknown) => e instanceof RoomError && /NOT NULL/i.test(e.message),
    );
    await assert.rejects(
      db.update({ ...t, values: { title: null } }),
      (e: unknown) => e instanceof RoomError && /NOT NULL/i.test(e.message),
    );
    await assert.rejects(db.search({ ...t, where: "nope = 1" }), code(1002, /no such column/));
    await assert.rejects(db.search({ ...t, select: ["nope"] }), code(1002, /nope/));
    await assert.rejects(db.count({ ...t, where: { nope: 1 } }), code(1002, /nope/));
    await assert.rejects(
      db.executeSql({ database: "main", query: "SELECT ?", params: [1, 2] }),
      (e: unknown) => e instanceof RoomError && e.code === 1002,
    );
    assert.deepEqual(await db.search(t), [{ id: 1, title: "a" }]);
  });
});

Deno.test("injection attempts are bound or refused, never run", async () => {
  await withRoom(async (room) => {
    const db = room.database;
    await seed(room, [{ id: 1, title: "a" }]);
    const t = { database: "main", table: "notes" };
    const evil = "x'); DROP TABLE notes; --";
    // values are bound: stored as text, never run
    await db.insert({ ...t, rows: [{ id: 2, title: evil }] });
    await db.executeSqlStatement({
      database: "main",
      query: "INSERT INTO notes (id, title) VALUES (?, ?)",
      params: [3, evil],
    });
    assert.equal(await db.count({ ...t, where: { title: evil } }), 2);
    assert.equal(await db.count({ ...t, where: "title = ?", params: [evil] }), 2);
    await db.update({ ...t, where: { id: 1 }, values: { title: "'; DELETE FROM notes; --" } });
    assert.equal(await db.count(t), 3);
    // identifiers are quoted: a table name with quotes is just a name
    const weird = 'n"; DROP TABLE notes; --';
    await db.createTable({ database: "main", name: weird, columns: NOTES }).catch((e) => {
      assert.ok(e instanceof RoomError && e.code === 1002, String(e));
    });
    // a where string cannot smuggle a second statement
    await assert.rejects(
      db.delete({ ...t, where: "1 = 1; DROP TABLE notes" }),
      (e: unknown) => e instanceof RoomError && e.code !== undefined && e.code >= 1001,
    );
    await assert.rejects(
      db.search({ ...t, where: "1) UNION SELECT name, sql FROM sqlite_master --" }),
    );
    // a column name from a row object cannot reach the SQL
    await assert.rejects(
      db.insert({ ...t, rows: [{ 'title") VALUES (1); DROP TABLE notes; --': "x" }] }),
      code(1002),
    );
    // client SQL cannot attach other files
    await assert.rejects(
      db.executeSqlStatement({ database: "main", query: "ATTACH DATABASE '/tmp/x.db' AS x" }),
      (e: unknown) => e instanceof RoomError && (e.code === 1001 || e.code === 1002),
    );
    assert.ok((await db.listTables({ database: "main" })).includes("notes"));
    assert.equal(await db.count(t), 3);
  });
});

Deno.test("openSqlQuery streams a large result in batches; close and cancel", async () => {
  await withRoom(async (room) => {
    const db = room.database;
    await seed(room);
    const rows = Array.from({ length: 5000 }, (_, i) => ({ id: i, title: `t${i}` }));
    assert.equal(await db.insert({ database: "main", table: "notes", rows, batchRows: 700 }), 5000);

    const query = await db.openSqlQuery({
      database: "main",
      query: "SELECT id, title FROM notes WHERE id >= ? ORDER BY id",
      params: [0],
    });
    assert.ok(query instanceof SqlQuery);
    assert.deepEqual(query.columns.map((c) => [c.name, c.type]), [["id", "int64"], [
      "title",
      "utf8",
    ]]);
    const sizes: number[] = [];
    let next = 0;
    for await (const batch of query) {
      sizes.push(batch.length);
      for (const row of batch) assert.equal(row.id, next++);
      if (sizes.length === 2) break; // stop early: the rest stays for the next loop
    }
    for await (const batch of query) {
      sizes.push(batch.length);
      for (const row of batch) assert.equal(row.id, next++);
    }
    assert.equal(next, 5000);
    assert.ok(sizes.length >= 3, `expected several batches, got ${sizes}`);
    assert.equal(await query.cancel(), "not_cancellable");
    await query.close();
    await query.close(); // idempotent

    // searchBatches streams too
    let batches = 0;
    let count = 0;
    for await (const batch of db.searchBatches({ database: "main", table: "notes" })) {
      batches++;
      count += batch.length;
    }
    assert.equal(count, 5000);
    assert.ok(batches >= 2);

    // cancel stops a running query; reads then fail
    const cancelled = await db.openSqlQuery({ database: "main", query: "SELECT * FROM notes" });
    assert.equal(await cancelled.cancel(), "cancelled");
    await assert.rejects(cancelled.all(), code(1006));
    await cancelled.close();

    // `await using` closes
    {
      await using q = await db.openSqlQuery({ database: "main", query: "SELECT 1 AS one" });
      assert.deepEqual(await q.all(), [{ one: 1 }]);
    }
    await assert.rejects(
      db.openSqlQuery({ database: "main", query: "DELETE FROM notes" }),
      code(1002, /returns rows/),
    );
    assert.equal(await db.count({ database: "main", table: "notes" }), 5000);
  });
});

Deno.test("grants: a token whose sqlite grant is read-only can read and nothing else", async () => {
  await withServer(async (server) => {
    const name = roomName();
    const owner = await connect(server, name, "owner");
    const readOnly = ApiScope.fromJson({
      sqlite: {
        create_database: false,
        databases: [{
          name: "main",
          create_table: false,
          drop: false,
          execute: false,
          tables: [{ database: "main", table: "notes", read: true, write: false, alter: false }],
        }],
      },
    });
    const reader = await connect(server, name, "reader", {
      token: await server.token(name, "reader", { api: readOnly }),
    });
    try {
      await seed(owner, [{ id: 1, title: "a" }]);
      const db = reader.database;
      const t = { database: "main", table: "notes" };
      assert.deepEqual(await db.search(t), [{ id: 1, title: "a" }]);
      assert.equal(await db.count(t), 1);
      assert.deepEqual(await db.listTables({ database: "main" }), ["notes"]);
      const denied: [string, () => Promise<unknown>][] = [
        ["insert", () => db.insert({ ...t, rows: [{ id: 2, title: "b" }] })],
        ["update", () => db.update({ ...t, values: { title: "z" } })],
        ["delete", () => db.delete(t)],
        ["createTable", () => db.createTable({ database: "main", name: "x", columns: NOTES })],
        ["dropTable", () => db.dropTable({ database: "main", name: "notes" })],
        ["renameTable", () => db.renameTable({ database: "main", name: "notes", newName: "y" })],
        ["addColumns", () => db.addColumns({ ...t, columns: [{ name: "c", type: "utf8" }] })],
        ["dropColumns", () => db.dropColumns({ ...t, columns: ["title"] })],
        ["executeSql", () => db.executeSql({ database: "main", query: "SELECT 1" })],
        [
          "executeSqlStatement",
          () => db.executeSqlStatement({ database: "main", query: "DELETE FROM notes" }),
        ],
        ["openSqlQuery", () => db.openSqlQuery({ database: "main", query: "SELECT 1" })],
        ["createDatabase", () => db.createDatabase({ name: "other" })],
        ["dropDatabase", () => db.dropDatabase({ name: "main" })],
        ["search other db", () => db.search({ database: "other", table: "notes" })],
      ];
      for (const [what, call] of denied) {
        await assert.rejects(call(), code(1001, /not allowed/), what);
      }
      assert.deepEqual(await owner.database.search(t), [{ id: 1, title: "a" }]);
    } finally {
      await owner.dispose();
      await reader.dispose();
    }
  });
});

Deno.test("databases are room-wide: shared by participants, separate between rooms", async () => {
  await withServer(async (server) => {
    const one = roomName();
    const two = roomName();
    const a = await connect(server, one, "alice");
    const b = await connect(server, one, "bob");
    const c = await connect(server, two, "carol");
    try {
      await seed(a, [{ id: 1, title: "from alice" }]);
      assert.deepEqual(await b.database.search({ database: "main", table: "notes" }), [
        { id: 1, title: "from alice" },
      ]);
      await b.database.insert({
        database: "main",
        table: "notes",
        rows: [{ id: 2, title: "from bob" }],
      });
      assert.equal(await a.database.count({ database: "main", table: "notes" }), 2);
      // a query opened by one participant can be read by another
      const query = await a.database.openSqlQuery({
        database: "main",
        query: "SELECT title FROM notes ORDER BY id",
      });
      const shared = new SqlQuery(b.database, query.id, query.columns);
      assert.deepEqual(await shared.all(), [{ title: "from alice" }, { title: "from bob" }]);
      await query.close();

      assert.deepEqual(await c.database.listDatabases(), []);
      await seed(c, [{ id: 7, title: "room two" }]);
      assert.deepEqual(await c.database.search({ database: "main", table: "notes" }), [
        { id: 7, title: "room two" },
      ]);
      assert.equal(await a.database.count({ database: "main", table: "notes" }), 2);
    } finally {
      await a.dispose();
      await b.dispose();
      await c.dispose();
    }
  });
});

Deno.test("an aborted signal or a timeout stops a call", async () => {
  await withRoom(async (room) => {
    const db = room.database;
    await seed(room, [{ id: 1, title: "a" }]);
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await assert.rejects(
      db.search({ database: "main", table: "notes", signal: controller.signal }),
      /stop/,
    );
    await assert.rejects(
      db.count({ database: "main", table: "notes", signal: controller.signal }),
      /stop/,
    );
    // a generous timeout does not get in the way
    assert.equal(await db.count({ database: "main", table: "notes", timeout: 10_000 }), 1);
    assert.deepEqual(await db.search({ database: "main", table: "notes", timeout: 10_000 }), [
      { id: 1, title: "a" },
    ]);
  });
});
