// The official client's SQL calls on `room.datasets` (npm @meshagent/meshagent 0.39.9:
// sql, sqlStream, openSqlQuery, executeSql, readSqlQuery, closeSqlQuery, cancelSqlQuery,
// executeSqlStatement) against our dataset toolkit, which runs them on DuckDB.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { startTestServer, type TestServer } from "@meshagent/server/testing";

const require = createRequire(import.meta.url);
// deno-lint-ignore no-explicit-any
const mesh: any = require("@meshagent/meshagent");
// deno-lint-ignore no-explicit-any
const arrow: any = createRequire(require.resolve("@meshagent/meshagent"))("apache-arrow");

// deno-lint-ignore no-explicit-any
async function official(server: TestServer, room: string): Promise<any> {
  const client = new mesh.RoomClient({
    protocolFactory: mesh.WebSocketClientProtocol.createFactory({
      url: server.roomUrl(room),
      token: await server.token(room, "official"),
    }),
    reconnectTimeout: 0,
  });
  client.ready.catch(() => {});
  await client.start();
  return client;
}

// deno-lint-ignore no-explicit-any
async function close(server: TestServer, client: any): Promise<void> {
  await new Promise((r) => setTimeout(r, 100)); // its input close after the output close
  client.dispose();
  await new Promise((r) => setTimeout(r, 50));
  await server.close();
}

// deno-lint-ignore no-explicit-any
function rows(tables: any[]): Record<string, unknown>[] {
  return tables.flatMap((t) =>
    t.toArray().map((r: { toJSON(): Record<string, unknown> }) => ({ ...r.toJSON() }))
  );
}

Deno.test("interop: the official DatasetsClient's SQL calls run on our dataset toolkit", async () => {
  const server = await startTestServer();
  const client = await official(server, "sql-interop");
  const ds = client.datasets;
  try {
    await ds.createTableFromData({
      name: "people",
      data: arrow.tableFromArrays({
        id: new BigInt64Array([1n, 2n, 3n]),
        name: ["ada", "bob", "cy"],
        score: new Float64Array([1.5, 2.5, 3.5]),
      }),
    });
    await ds.createTableFromData({
      name: "pets",
      data: arrow.tableFromArrays({
        owner: new BigInt64Array([1n, 1n, 3n]),
        pet: ["cat", "dog", "fish"],
      }),
    });

    // sql(): a join over two tables, one under an alias; Int64 stays Int64.
    const joined = await ds.sql({
      query: "SELECT p.name, count(*) AS pets FROM people p JOIN animals a ON a.owner = p.id " +
        "GROUP BY p.name ORDER BY p.name",
      tables: ["people", { name: "pets", alias: "animals" }],
    });
    assert.deepEqual(rows(joined), [{ name: "ada", pets: 2n }, { name: "cy", pets: 1n }]);
    assert.equal(String(joined[0].schema.fields[1].type), "Int64");

    // executeSql → a query with its schema; readSqlQuery in batches; closeSqlQuery.
    const opened = await ds.executeSql({
      query: "SELECT id, score * 2 AS doubled FROM people WHERE id >= $min ORDER BY id",
      tables: ["people"],
      params: arrow.tableFromArrays({ min: new BigInt64Array([2n]) }),
    });
    assert.equal(opened.kind, "query");
    assert.deepEqual(opened.schema.fields.map((f: { name: string }) => f.name), ["id", "doubled"]);
    const read = [];
    for await (const t of ds.readSqlQuery({ queryId: opened.queryId })) read.push(t);
    assert.deepEqual(rows(read), [{ id: 2n, doubled: 5 }, { id: 3n, doubled: 7 }]);
    assert.deepEqual(await ds.cancelSqlQuery({ queryId: opened.queryId }), {
      status: "not_cancellable",
    });
    await ds.closeSqlQuery({ queryId: opened.queryId });

    // openSqlQuery + cancel before reading: cancelled, then reads fail clearly.
    const q = await ds.openSqlQuery({ query: "SELECT * FROM range(100000000) t(x)" });
    assert.deepEqual(await ds.cancelSqlQuery({ queryId: q.queryId }), { status: "cancelled" });
    await assert.rejects(
      (async () => {
        for await (const _ of ds.readSqlQuery({ queryId: q.queryId })) { /* none */ }
      })(),
      (e: { code?: number; message: string }) => e.code === 1006 && /cancelled/.test(e.message),
    );
    await ds.closeSqlQuery({ queryId: q.queryId });

    // A result with no rows: no data chunk at all.
    assert.deepEqual(
      await ds.sql({ query: "SELECT * FROM people WHERE id > 99", tables: ["people"] }),
      [],
    );
    // An old version.
    await ds.insert({
      table: "people",
      records: arrow.tableFromArrays({
        id: new BigInt64Array([4n]),
        name: ["dee"],
        score: new Float64Array([4.5]),
      }),
    });
    const [v2] = rows(
      await ds.sql({
        query: "SELECT count(*) AS n FROM people",
        tables: [{ name: "people", version: 1 }],
      }),
    );
    assert.deepEqual(v2, { n: 3n });
    assert.equal(
      await ds.executeSqlStatement({ query: "SELECT 1", tables: [] }),
      0,
    );
  } finally {
    await close(server, client);
  }
});

Deno.test("interop: bad SQL over datasets is refused with a clear error", async () => {
  const server = await startTestServer();
  const client = await official(server, "sql-bad");
  const ds = client.datasets;
  const code = (n: number, pattern: RegExp) => (e: { code?: number; message: string }) => {
    assert.equal(e.code, n, e.message);
    assert.match(e.message, pattern);
    assert.doesNotMatch(e.message, /\/work\/|\.rs:|node_modules/);
    return true;
  };
  try {
    await ds.createTableFromData({
      name: "t",
      data: arrow.tableFromArrays({ id: new BigInt64Array([1n]) }),
    });
    await assert.rejects(
      ds.sql({ query: "SELEC id FROM t", tables: ["t"] }),
      code(1002, /syntax error/i),
    );
    await assert.rejects(ds.sql({ query: "SELECT 1", tables: ["nope"] }), code(1003, /nope/));
    await assert.rejects(
      ds.sql({ query: "SELECT * FROM other", tables: ["t"] }),
      code(1002, /other.*name every table/s),
    );
    await assert.rejects(
      ds.executeSql({ query: "DELETE FROM t", tables: ["t"] }),
      code(1002, /read-only.*insert, update, delete or merge/s),
    );
    await assert.rejects(
      ds.executeSqlStatement({ query: "INSERT INTO t VALUES (2)", tables: ["t"] }),
      code(1002, /read-only/),
    );
    await assert.rejects(
      ds.sql({ query: "SELECT * FROM read_csv('/etc/passwd')", tables: [] }),
      code(1002, /disabled/),
    );
    await assert.rejects(
      ds.sql({ query: "SET threads = 8", tables: [] }),
      code(1002, /read-only/),
    );
    assert.deepEqual(rows(await ds.sql({ query: "SELECT id FROM t", tables: ["t"] })), [
      { id: 1n },
    ]);
  } finally {
    await close(server, client);
  }
});
