// The `sqlite` toolkit over real sockets, driven by raw protocol messages so that every wire shape
// of protocol-data §3.1–§3.2 is checked exactly.
import assert from "node:assert/strict";
import {
  ApiScope,
  BinaryContent,
  type Content,
  ControlContent,
  decodeArrowSchema,
  decodeArrowStream,
  EmptyContent,
  encodeArrowSchema,
  encodeArrowStream,
  ErrorContent,
  JsonContent,
  type JsonObject,
  TextContent,
} from "@meshagent/api";
import { TestClient } from "./_test_helpers.ts";
import { startTestServer, type TestServer } from "./testing.ts";

const NO_BYTES = new Uint8Array(0);
const ARROW = "application/vnd.apache.arrow.stream";

async function join(
  server: TestServer,
  room: string,
  name: string,
  api?: ApiScope,
): Promise<TestClient> {
  return await TestClient.connect(server.roomUrl(room), await server.token(room, name, { api }));
}

async function withServer(fn: (server: TestServer) => Promise<void>): Promise<void> {
  const server = await startTestServer();
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

function json(content: Content): unknown {
  assert.ok(content instanceof JsonContent, `expected json, got ${content.type}`);
  return content.json;
}

function binaryInput(headers: JsonObject, data: Uint8Array = NO_BYTES): BinaryContent {
  return new BinaryContent(data, headers);
}

let callCounter = 0;

/** Opens a stream the way clients do: invoke, then the start chunk without waiting. */
async function openStream(
  c: TestClient,
  tool: string,
  start: JsonObject,
  data: Uint8Array = NO_BYTES,
): Promise<{ id: string; opened: Content }> {
  const id = `call-${++callCounter}`;
  const opened = c.openStream("sqlite", tool, id);
  opened.catch(() => {});
  await c.chunk(id, new BinaryContent(data, { kind: "start", ...start }));
  return { id, opened: await opened };
}

function isClose(content: Content): boolean {
  return content instanceof ControlContent && content.method === "close" &&
    content.statusCode === 1000;
}

/** Creates database `main` with table `notes (id INTEGER, title TEXT)` holding `rows`. */
async function seed(c: TestClient, rows: [bigint, string | null][] = []): Promise<void> {
  await c.invoke("sqlite", "create_database", { name: "main", namespace: null, mode: "create" });
  const columns = [{ name: "id", type: "int64" as const }, {
    name: "title",
    type: "utf8" as const,
  }];
  const { id, opened } = await openStream(
    c,
    "create_table",
    { database: "main", name: "notes", mode: "create", namespace: null },
    encodeArrowSchema(columns),
  );
  assert.ok(opened instanceof ControlContent && opened.method === "open");
  let pull = await c.responseChunk(id);
  assert.ok(pull instanceof BinaryContent);
  assert.deepEqual(pull.headers, { kind: "pull" });
  if (rows.length > 0) {
    await c.chunk(
      id,
      binaryInput({ kind: "data", content_type: ARROW }, encodeArrowStream(columns, rows)),
    );
    pull = await c.responseChunk(id);
    assert.deepEqual((pull as BinaryContent).headers, { kind: "pull" });
  }
  await c.chunk(id, ControlContent.close());
  assert.ok(isClose(await c.responseChunk(id)));
}

/** Reads a whole read stream: one pull per data chunk until close. */
async function readAll(c: TestClient, id: string): Promise<{ chunks: number; rows: unknown[][] }> {
  const rows: unknown[][] = [];
  let chunks = 0;
  while (true) {
    await c.chunk(id, binaryInput({ kind: "pull" }));
    const next = await c.responseChunk(id);
    if (isClose(next)) break;
    assert.ok(next instanceof BinaryContent, `expected data, got ${next.type}`);
    assert.deepEqual(next.headers, { kind: "data" });
    rows.push(...decodeArrowStream(next.data).rows);
    chunks++;
  }
  // The client still closes its input after the output close; that is answered.
  assert.ok((await c.chunk(id, ControlContent.close())) instanceof EmptyContent);
  return { chunks, rows };
}

Deno.test("sqlite: database tools answer with the exact shapes of the spec", async () => {
  await withServer(async (server) => {
    const c = await join(server, "db1", "alice");
    try {
      const created = await c.invoke("sqlite", "create_database", {
        name: "main",
        namespace: null,
        mode: "create",
      });
      assert.ok(created instanceof EmptyContent);
      await assert.rejects(
        c.invoke("sqlite", "create_database", { name: "main", namespace: null, mode: "create" }),
        { code: 1004 },
      );
      await c.invoke("sqlite", "create_database", { name: "other", namespace: ["a", "b"] });
      assert.deepEqual(json(await c.invoke("sqlite", "list_databases", { namespace: null })), {
        databases: ["main"],
      });
      assert.deepEqual(
        json(await c.invoke("sqlite", "list_databases", { namespace: ["a", "b"] })),
        {
          databases: ["other"],
        },
      );
      const info = json(
        await c.invoke("sqlite", "inspect_database", { name: "main", namespace: null }),
      ) as JsonObject;
      assert.deepEqual(Object.keys(info).sort(), ["name", "namespace", "size_bytes", "tables"]);
      assert.equal(info.tables, 0);
      assert.ok(Number.isInteger(info.size_bytes));
      assert.deepEqual(json(await c.invoke("sqlite", "list_tables", { database: "main" })), {
        tables: [],
      });
      const dropped = await c.invoke("sqlite", "drop_database", {
        name: "other",
        namespace: ["a", "b"],
        ignore_missing: false,
      });
      assert.ok(dropped instanceof EmptyContent);
      await assert.rejects(
        c.invoke("sqlite", "drop_database", { name: "other", namespace: ["a", "b"] }),
        { code: 1003 },
      );
      assert.ok(
        (await c.invoke("sqlite", "drop_database", {
          name: "gone",
          ignore_missing: true,
        })) instanceof
          EmptyContent,
      );
      await assert.rejects(c.invoke("sqlite", "nope", {}), { code: 1003 });
      await assert.rejects(c.invoke("sqlite", "list_tables", {}), { code: 1002 });
      await assert.rejects(
        c.invoke("sqlite", "list_tables", new TextContent("x")),
        { code: 1002 },
      );
    } finally {
      await c.close();
    }
  });
});

Deno.test("sqlite: create_table stream, schema-only and with rows; table tools", async () => {
  await withServer(async (server) => {
    const c = await join(server, "db2", "alice");
    try {
      await seed(c, [[1n, "a"], [2n, null]]);
      // schema-only create from the first data chunk's schema: start(empty) → pull → data → …
      {
        const { id } = await openStream(c, "create_table", {
          database: "main",
          name: "tags",
          mode: "create",
        });
        assert.deepEqual(((await c.responseChunk(id)) as BinaryContent).headers, { kind: "pull" });
        await c.chunk(
          id,
          binaryInput(
            { kind: "data", content_type: ARROW },
            encodeArrowStream([{ name: "tag", type: "utf8" }], [["x"], ["y"]]),
          ),
        );
        assert.deepEqual(((await c.responseChunk(id)) as BinaryContent).headers, { kind: "pull" });
        await c.chunk(id, ControlContent.close());
        assert.ok(isClose(await c.responseChunk(id)));
      }
      // mode create on an existing table fails at once, as the invoke's answer
      await assert.rejects(
        openStream(c, "create_table", { database: "main", name: "notes", mode: "create" }),
        { code: 1004 },
      );
      assert.deepEqual(json(await c.invoke("sqlite", "list_tables", { database: "main" })), {
        tables: ["notes", "tags"],
      });
      assert.deepEqual(
        json(await c.invoke("sqlite", "count", { database: "main", table: "tags" })),
        { count: 2 },
      );
      // inspect: binary Arrow schema, Int64 + Utf8
      const inspected = await c.invoke("sqlite", "inspect", { database: "main", table: "notes" });
      assert.ok(inspected instanceof BinaryContent);
      assert.deepEqual(
        decodeArrowSchema(inspected.data).map((col) => [col.name, col.type]),
        [["id", "int64"], ["title", "utf8"]],
      );
      // add_columns (binary input) and drop_columns answer EMPTY
      const added = await c.invoke(
        "sqlite",
        "add_columns",
        binaryInput(
          { database: "main", table: "notes", namespace: null, content_type: ARROW },
          encodeArrowSchema([{ name: "score", type: "float64" }]),
        ),
      );
      assert.ok(added instanceof EmptyContent);
      await assert.rejects(
        c.invoke(
          "sqlite",
          "add_columns",
          binaryInput(
            { database: "main", table: "notes" },
            encodeArrowSchema([
              { name: "score", type: "float64" },
            ]),
          ),
        ),
        { code: 1004 },
      );
      const droppedCols = await c.invoke("sqlite", "drop_columns", {
        database: "main",
        table: "notes",
        columns: ["score"],
      });
      assert.ok(droppedCols instanceof EmptyContent);
      const renamed = await c.invoke("sqlite", "rename_table", {
        database: "main",
        name: "tags",
        new_name: "labels",
      });
      assert.ok(renamed instanceof EmptyContent);
      const droppedTable = await c.invoke("sqlite", "drop_table", {
        database: "main",
        name: "labels",
        ignore_missing: false,
      });
      assert.ok(droppedTable instanceof EmptyContent);
      await assert.rejects(
        c.invoke("sqlite", "drop_table", { database: "main", name: "labels" }),
        { code: 1003 },
      );
      assert.deepEqual(json(await c.invoke("sqlite", "list_tables", { database: "main" })), {
        tables: ["notes"],
      });
    } finally {
      await c.close();
    }
  });
});

Deno.test("sqlite: insert, update, delete, count and search over the wire", async () => {
  await withServer(async (server) => {
    const c = await join(server, "db3", "alice");
    try {
      await seed(c, [[1n, "a"], [2n, "b"]]);
      const { id } = await openStream(c, "insert", { database: "main", table: "notes" });
      assert.deepEqual(((await c.responseChunk(id)) as BinaryContent).headers, { kind: "pull" });
      await c.chunk(
        id,
        binaryInput(
          { kind: "data", content_type: ARROW },
          encodeArrowStream([{ name: "id", type: "int64" }, { name: "title", type: "utf8" }], [
            [3n, "c"],
            [4n, "d"],
          ]),
        ),
      );
      await c.responseChunk(id);
      await c.chunk(id, ControlContent.close());
      assert.ok(isClose(await c.responseChunk(id)));

      assert.deepEqual(
        json(
          await c.invoke("sqlite", "update", {
            database: "main",
            table: "notes",
            where: "id >= ?",
            params: [3],
            values: [{ column: "title", value_json: JSON.stringify("new") }],
            namespace: null,
          }),
        ),
        { rows_affected: 2 },
      );
      assert.deepEqual(
        json(
          await c.invoke("sqlite", "delete", {
            database: "main",
            table: "notes",
            where: { id: 4 },
            params: null,
          }),
        ),
        { rows_affected: 1 },
      );
      assert.deepEqual(
        json(await c.invoke("sqlite", "count", { database: "main", table: "notes", where: null })),
        { count: 3 },
      );

      const search = await openStream(c, "search", {
        database: "main",
        table: "notes",
        where: "title = ?",
        params: ["new"],
        offset: null,
        limit: null,
        select: ["title", "id"],
        namespace: null,
      });
      assert.ok(search.opened instanceof ControlContent && search.opened.method === "open");
      const found = await readAll(c, search.id);
      assert.deepEqual(found.rows, [["new", 3n]]);

      // an empty result is answered with close only
      const none = await openStream(c, "search", {
        database: "main",
        table: "notes",
        where: { id: 99 },
      });
      assert.deepEqual(await readAll(c, none.id), { chunks: 0, rows: [] });

      // a search on a missing table fails as the invoke's answer
      await assert.rejects(
        openStream(c, "search", { database: "main", table: "missing" }),
        { code: 1003 },
      );
    } finally {
      await c.close();
    }
  });
});

Deno.test("sqlite: SQL tools — execute_sql, open/read/close/cancel, execute_sql_statement", async () => {
  await withServer(async (server) => {
    const c = await join(server, "db4", "alice");
    try {
      await seed(c);
      const statement = await c.invoke(
        "sqlite",
        "execute_sql_statement",
        binaryInput({
          database: "main",
          query: "INSERT INTO notes (id, title) VALUES (?, ?), (?, ?)",
          params: [1, "a", 2, "b"],
          namespace: null,
        }),
      );
      assert.deepEqual(json(statement), { rows_affected: 2 });
      const exec = await c.invoke(
        "sqlite",
        "execute_sql",
        binaryInput({
          database: "main",
          query: "DELETE FROM notes WHERE id = :id",
          params: {
            id: 2,
          },
        }),
      );
      assert.deepEqual(json(exec), { kind: "statement", rows_affected: 1 });

      const opened = await c.invoke(
        "sqlite",
        "execute_sql",
        binaryInput({ database: "main", query: "SELECT id, title FROM notes", params: null }),
      );
      assert.ok(opened instanceof BinaryContent);
      assert.equal(opened.headers.kind, "query");
      const queryId = opened.headers.query_id as string;
      assert.ok(typeof queryId === "string" && queryId.length > 0);
      assert.deepEqual(Object.keys(opened.headers).sort(), ["kind", "query_id"]);
      assert.deepEqual(
        decodeArrowSchema(opened.data).map((col) => [col.name, col.type]),
        [["id", "int64"], ["title", "utf8"]],
      );
      const read = await openStream(c, "read_sql_query", { query_id: queryId });
      assert.deepEqual((await readAll(c, read.id)).rows, [[1n, "a"]]);
      assert.deepEqual(
        json(await c.invoke("sqlite", "cancel_sql_query", { query_id: queryId })),
        { status: "not_cancellable" },
      );
      assert.ok(
        (await c.invoke("sqlite", "close_sql_query", { query_id: queryId })) instanceof
          EmptyContent,
      );
      assert.deepEqual(
        json(await c.invoke("sqlite", "cancel_sql_query", { query_id: queryId })),
        { status: "not_cancellable" },
      );

      const second = await c.invoke(
        "sqlite",
        "open_sql_query",
        binaryInput({ database: "main", query: "SELECT * FROM notes" }),
      ) as BinaryContent;
      const id2 = second.headers.query_id as string;
      assert.deepEqual(json(await c.invoke("sqlite", "cancel_sql_query", { query_id: id2 })), {
        status: "cancelled",
      });
      await assert.rejects(openStream(c, "read_sql_query", { query_id: id2 }), { code: 1006 });
      await assert.rejects(
        c.invoke("sqlite", "close_sql_query", { query_id: "never-opened" }),
        { code: 1003 },
      );
      await assert.rejects(
        c.invoke(
          "sqlite",
          "open_sql_query",
          binaryInput({ database: "main", query: "SELEC nonsense" }),
        ),
        (e: Error & { code?: number }) => e.code === 1002 && /syntax/i.test(e.message),
      );
    } finally {
      await c.close();
    }
  });
});

Deno.test("sqlite: a bad data chunk ends the write with an error chunk and keeps the table as it was", async () => {
  await withServer(async (server) => {
    const c = await join(server, "db5", "alice");
    try {
      await seed(c, [[1n, "a"]]);
      const { id } = await openStream(c, "insert", { database: "main", table: "notes" });
      await c.responseChunk(id); // pull
      await c.chunk(
        id,
        binaryInput(
          { kind: "data", content_type: ARROW },
          encodeArrowStream([{ name: "id", type: "int64" }], [[2n]]),
        ),
      );
      await c.responseChunk(id); // pull
      await c.chunk(id, binaryInput({ kind: "data", content_type: ARROW }, new Uint8Array([1, 2])));
      const error = await c.responseChunk(id);
      assert.ok(error instanceof ErrorContent);
      assert.equal(error.code, 1002);
      assert.match(error.text, /Arrow/);
      assert.ok(isClose(await c.responseChunk(id)));
      await c.chunk(id, ControlContent.close()); // the client's own close is answered quietly
      assert.deepEqual(
        json(await c.invoke("sqlite", "count", { database: "main", table: "notes" })),
        { count: 1 },
      );
    } finally {
      await c.close();
    }
  });
});

Deno.test("sqlite: a caller's disconnect rolls back its write and closes its search cursor", async () => {
  await withServer(async (server) => {
    const a = await join(server, "db6", "alice");
    const b = await join(server, "db6", "bob");
    try {
      const columns = [{ name: "id", type: "int64" as const }, {
        name: "title",
        type: "utf8" as const,
      }];
      await seed(b, [[1n, "kept"]]);
      await b.invoke(
        "sqlite",
        "execute_sql_statement",
        binaryInput({
          database: "main",
          query: "CREATE TABLE big AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 " +
            "FROM n WHERE x < 3000) SELECT x AS id FROM n",
        }),
      );
      // alice starts an insert, sends a row, and leaves without closing
      const write = await openStream(a, "insert", { database: "main", table: "notes" });
      await a.responseChunk(write.id);
      await a.chunk(
        write.id,
        binaryInput(
          { kind: "data", content_type: ARROW },
          encodeArrowStream(columns, [[9999n, "x"]]),
        ),
      );
      await a.responseChunk(write.id);
      // and a search of which she reads one batch
      const search = await openStream(a, "search", { database: "main", table: "big" });
      await a.chunk(search.id, binaryInput({ kind: "pull" }));
      assert.ok((await a.responseChunk(search.id)) instanceof BinaryContent);
      await a.close();

      // no cursor of alice's holds `big`: it can be dropped (an open one gives 1006)
      let dropped = false;
      for (let i = 0; i < 50 && !dropped; i++) {
        try {
          await b.invoke("sqlite", "drop_table", { database: "main", name: "big" });
          dropped = true;
        } catch (e) {
          if ((e as { code?: number }).code !== 1006) throw e;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      assert.ok(dropped, "the search cursor of the departed caller was not closed");
      // her disconnect has been handled by now: the row she sent was not committed
      assert.deepEqual(
        json(await b.invoke("sqlite", "count", { database: "main", table: "notes" })),
        { count: 1 },
      );
    } finally {
      await a.close();
      await b.close();
    }
  });
});

Deno.test("sqlite: grants — a read-only token reads and is denied every change with 1001", async () => {
  await withServer(async (server) => {
    const owner = await join(server, "db7", "owner");
    const readOnly = ApiScope.fromJson({
      sqlite: {
        create_database: false,
        databases: [{
          name: "main",
          create_table: false,
          execute: false,
          tables: [{ database: "main", table: "notes", read: true, write: false }],
        }],
      },
    });
    const reader = await join(server, "db7", "reader", readOnly);
    const none = await join(server, "db7", "nobody", ApiScope.fromJson({ messaging: {} }));
    try {
      await seed(owner, [[1n, "a"]]);
      assert.deepEqual(
        json(await reader.invoke("sqlite", "count", { database: "main", table: "notes" })),
        { count: 1 },
      );
      const search = await openStream(reader, "search", { database: "main", table: "notes" });
      assert.deepEqual((await readAll(reader, search.id)).rows, [[1n, "a"]]);
      const denied: (() => Promise<unknown>)[] = [
        () => reader.invoke("sqlite", "create_database", { name: "x" }),
        () => reader.invoke("sqlite", "delete", { database: "main", table: "notes" }),
        () =>
          reader.invoke("sqlite", "update", {
            database: "main",
            table: "notes",
            values: [{ column: "title", value_json: '"z"' }],
          }),
        () => reader.invoke("sqlite", "drop_table", { database: "main", name: "notes" }),
        () =>
          reader.invoke(
            "sqlite",
            "execute_sql_statement",
            binaryInput({ database: "main", query: "DELETE FROM notes" }),
          ),
        () => openStream(reader, "insert", { database: "main", table: "notes" }),
        () => openStream(reader, "create_table", { database: "main", name: "t2" }),
        () => none.invoke("sqlite", "list_databases", {}),
      ];
      for (const call of denied) await assert.rejects(call(), { code: 1001 });
      assert.deepEqual(
        json(await owner.invoke("sqlite", "count", { database: "main", table: "notes" })),
        { count: 1 },
      );
    } finally {
      await owner.close();
      await reader.close();
      await none.close();
    }
  });
});

Deno.test("sqlite: read_sql_query streams a large result in several batches", async () => {
  await withServer(async (server) => {
    const c = await join(server, "db8", "alice");
    try {
      await c.invoke("sqlite", "create_database", { name: "main" });
      const opened = await c.invoke(
        "sqlite",
        "open_sql_query",
        binaryInput({
          database: "main",
          query: "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?) " +
            "SELECT x FROM n",
          params: [5000],
        }),
      ) as BinaryContent;
      const queryId = opened.headers.query_id as string;
      const read = await openStream(c, "read_sql_query", { query_id: queryId });
      const { chunks, rows } = await readAll(c, read.id);
      assert.ok(chunks >= 2, `expected several batches, got ${chunks}`);
      assert.equal(rows.length, 5000);
      assert.equal(rows[4999][0], 5000n);
      await c.invoke("sqlite", "close_sql_query", { query_id: queryId });
    } finally {
      await c.close();
    }
  });
});

Deno.test("sqlite: rooms have separate databases", async () => {
  await withServer(async (server) => {
    const a = await join(server, "db9a", "alice");
    const b = await join(server, "db9b", "bob");
    try {
      await seed(a, [[1n, "room a"]]);
      assert.deepEqual(json(await b.invoke("sqlite", "list_databases", {})), { databases: [] });
      await seed(b, [[1n, "room b"], [2n, "room b"]]);
      assert.deepEqual(
        json(await a.invoke("sqlite", "count", { database: "main", table: "notes" })),
        { count: 1 },
      );
      assert.deepEqual(
        json(await b.invoke("sqlite", "count", { database: "main", table: "notes" })),
        { count: 2 },
      );
    } finally {
      await a.close();
      await b.close();
    }
  });
});
