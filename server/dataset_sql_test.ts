import assert from "node:assert/strict";
import { ApiScope, ArrowTable } from "@meshagent/api";
import { startTestServer } from "./testing.ts";

const coded = (code: number, pattern: RegExp) => (e: { code?: number; message: string }) => {
  assert.equal(e.code, code, e.message);
  assert.match(e.message, pattern);
  return true;
};

Deno.test("dataset sql: our DatasetsClient runs queries with params, versions and aliases", async () => {
  const server = await startTestServer();
  const room = await server.connect("sql-ours", "owner");
  try {
    await room.datasets.createTableFromData({
      name: "docs",
      namespace: ["team"],
      data: ArrowTable.fromRows([
        { id: 1, title: "a", embedding: [1, 0, 0] },
        { id: 2, title: "b", embedding: [0, 1, 0] },
      ]),
    });
    const rows = async (query: string, extra: Record<string, unknown> = {}) =>
      (await room.datasets.sql({
        query,
        tables: [{ name: "docs", alias: "d" }],
        namespace: ["team"],
        ...extra,
      })).flatMap((t) => t.toRows());
    assert.deepEqual(await rows("SELECT title FROM d WHERE id = $id", { params: { id: 2 } }), [
      { title: "b" },
    ]);
    assert.deepEqual(
      await rows("SELECT title FROM d WHERE id = ? OR id = ? ORDER BY id", {
        params: { first: 1, second: 2 },
      }),
      [{ title: "a" }, { title: "b" }],
    );
    // A vector column is a DuckDB array: distance functions work on it.
    assert.deepEqual(
      await rows(
        "SELECT title FROM d ORDER BY array_distance(embedding, [1, 0, 0]::FLOAT[3]) LIMIT 1",
      ),
      [{ title: "a" }],
    );
    const opened = await room.datasets.openSqlQuery({
      query: "SELECT id, title FROM d ORDER BY id",
      tables: [{ name: "docs", alias: "d", namespace: ["team"] }],
    });
    assert.deepEqual(opened.columns.map((c) => c.name), ["id", "title"]);
    const read = [];
    for await (const t of room.datasets.readSqlQuery({ queryId: opened.queryId })) {
      read.push(...t.toRows());
    }
    assert.equal(read.length, 2);
    await room.datasets.closeSqlQuery({ queryId: opened.queryId });
    await assert.rejects(
      (async () => {
        for await (const _ of room.datasets.readSqlQuery({ queryId: opened.queryId })) { /* */ }
      })(),
      coded(1006, /closed/),
    );
    await assert.rejects(
      room.datasets.cancelSqlQuery({ queryId: "never-opened" }),
      coded(1003, /never-opened/),
    );
  } finally {
    await room.dispose();
    await server.close();
  }
});

Deno.test("dataset sql: a query past the time limit is stopped; the room and others answer", async () => {
  const server = await startTestServer({
    server: { dataset: { sql: { timeoutMs: 300, batchRows: 1000 } } },
  });
  const room = await server.connect("sql-slow", "owner");
  const other = await server.connect("sql-other", "owner");
  try {
    const slow = room.datasets.sql({ query: "SELECT count(*) FROM range(100000000000)" });
    // While DuckDB works on its own thread, this room and another one keep answering.
    assert.deepEqual(await other.datasets.listTables(), []);
    assert.deepEqual(await room.datasets.listTables(), []);
    await assert.rejects(slow, coded(1009, /time limit \(300 ms\)/));
    const [t] = await room.datasets.sql({ query: "SELECT 42 AS answer" });
    assert.deepEqual(t.toRows(), [{ answer: 42 }]);
    // A result comes in chunks of batchRows rows.
    const chunks = await room.datasets.sql({ query: "SELECT * FROM range(2500)" });
    assert.deepEqual(chunks.map((c) => c.numRows), [1000, 1000, 500]);
  } finally {
    await room.dispose();
    await other.dispose();
    await server.close();
  }
});

Deno.test("dataset sql: a query cancelled while it is being read fails its read", async () => {
  // One read gathers up to batchRows rows: a huge batch keeps the read busy until cancelled.
  const server = await startTestServer({ server: { dataset: { sql: { batchRows: 1e9 } } } });
  const room = await server.connect("sql-cancel", "owner");
  try {
    const q = await room.datasets.openSqlQuery({
      query: "SELECT x FROM range(100000000000) t(x)",
    });
    const reading = (async () => {
      for await (const _ of room.datasets.readSqlQuery({ queryId: q.queryId })) { /* */ }
    })();
    assert.deepEqual(await room.datasets.cancelSqlQuery({ queryId: q.queryId }), {
      status: "cancelled",
    });
    await assert.rejects(reading, coded(1006, /cancelled/));
    assert.deepEqual(await room.datasets.cancelSqlQuery({ queryId: q.queryId }), {
      status: "not_cancellable",
    });
    await room.datasets.closeSqlQuery({ queryId: q.queryId });
  } finally {
    await room.dispose();
    await server.close();
  }
});

Deno.test("dataset sql: every table a query reads needs read in the grant (1001)", async () => {
  const server = await startTestServer();
  const owner = await server.connect("sql-grants", "owner");
  const reader = await server.connect("sql-grants", "reader", {
    api: ApiScope.fromJson({ dataset: { tables: [{ name: "docs" }] } }),
  });
  try {
    for (const name of ["docs", "secret"]) {
      await owner.datasets.createTableFromData({ name, data: ArrowTable.fromRows([{ id: 1 }]) });
    }
    const [t] = await reader.datasets.sql({ query: "SELECT id FROM docs", tables: ["docs"] });
    assert.deepEqual(t.toRows(), [{ id: 1 }]);
    await assert.rejects(
      reader.datasets.sql({
        query: "SELECT * FROM docs, secret",
        tables: ["docs", "secret"],
      }),
      coded(1001, /execute_sql.*"secret"/),
    );
    // A query opened by the owner over secret cannot be read by the reader.
    const q = await owner.datasets.openSqlQuery({
      query: "SELECT * FROM secret",
      tables: ["secret"],
    });
    await assert.rejects(
      (async () => {
        for await (const _ of reader.datasets.readSqlQuery({ queryId: q.queryId })) { /* */ }
      })(),
      coded(1001, /read_sql_query/),
    );
    await owner.datasets.closeSqlQuery({ queryId: q.queryId });
  } finally {
    await owner.dispose();
    await reader.dispose();
    await server.close();
  }
});
