// The official client (npm @meshagent/meshagent 0.39.9) has no sqlite sub-client (only `dataset`,
// another toolkit), so it reaches our `sqlite` toolkit the way any of its users would: through
// its generic `room.agents.invokeTool`. Its calls and ours see the same database.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { RoomClient } from "@meshagent/api";
import { startTestServer } from "@meshagent/server/testing";

// deno-lint-ignore no-explicit-any
const mesh: any = createRequire(import.meta.url)("@meshagent/meshagent");

Deno.test("interop: the official client's sqlite calls work and share data with ours", async () => {
  const server = await startTestServer();
  const official = new mesh.RoomClient({
    protocolFactory: mesh.WebSocketClientProtocol.createFactory({
      url: server.roomUrl("db-interop"),
      token: await server.token("db-interop", "official"),
    }),
    reconnectTimeout: 0,
  });
  official.ready.catch(() => {}); // an orphaned rejection otherwise (official client notes)
  const ours = new RoomClient({
    url: server.roomUrl("db-interop"),
    token: await server.token("db-interop", "ours"),
    reconnectTimeout: 0,
  });
  try {
    await official.start();
    await ours.start();
    // deno-lint-ignore no-explicit-any
    const call = (tool: string, input: any) =>
      official.agents.invokeTool({ toolkit: "sqlite", tool, arguments: input });
    // deno-lint-ignore no-explicit-any
    const sql = (query: string, params: unknown[] | null = null): Promise<any> =>
      official.invoke({
        toolkit: "sqlite",
        tool: "execute_sql_statement",
        input: new mesh.BinaryContent({
          data: new Uint8Array(0),
          headers: { database: "main", query, params, namespace: null },
        }),
      });

    await call("create_database", { name: "main", namespace: null, mode: "create" });
    const listed = await call("list_databases", { namespace: null });
    assert.deepEqual(listed.json.databases, ["main"]);
    await sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
    const inserted = await sql("INSERT INTO notes (id, body) VALUES (?, ?), (?, ?)", [
      1,
      "from the official client",
      2,
      "'); DROP TABLE notes; --",
    ]);
    assert.equal(inserted.json.rows_affected, 2);
    const tables = await call("list_tables", { database: "main", namespace: null });
    assert.deepEqual(tables.json.tables, ["notes"]);
    const count = await call("count", {
      database: "main",
      table: "notes",
      where: null,
      params: null,
      namespace: null,
    });
    assert.equal(count.json.count, 2);

    // Our client reads what theirs wrote (the bound value stayed a value), and the reverse.
    const rows = await ours.database.search({ database: "main", table: "notes" });
    assert.deepEqual(rows, [
      { id: 1, body: "from the official client" },
      { id: 2, body: "'); DROP TABLE notes; --" },
    ]);
    await ours.database.insert({
      database: "main",
      table: "notes",
      rows: [{ id: 3, body: "ours" }],
    });
    const after = await call("count", {
      database: "main",
      table: "notes",
      where: "body = 'ours'",
      params: null,
      namespace: null,
    });
    assert.equal(after.json.count, 1);

    // A SQL error reaches it as a RoomServerException with our code, and changes nothing.
    await assert.rejects(
      sql("INSERT INTO nope VALUES (1)"),
      (e: { code?: number; message: string }) => {
        assert.equal(e.code, 1003); // NOT_FOUND: an unknown table
        assert.match(e.message, /no such table: nope/);
        return true;
      },
    );
    assert.equal(await ours.database.count({ database: "main", table: "notes" }), 3);
  } finally {
    await ours.dispose();
    official.dispose();
    await new Promise((r) => setTimeout(r, 50));
    await server.close();
  }
});
