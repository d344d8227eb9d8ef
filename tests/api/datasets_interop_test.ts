// The official client (npm @meshagent/meshagent 0.39.9) has a `DatasetsClient` (`room.datasets`):
// these tests run its calls unchanged against our `dataset` toolkit, then read its tables with
// ours and the reverse. Its Arrow objects come from the same CommonJS apache-arrow it uses.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { ArrowTable, RoomClient } from "@meshagent/api";
import { startTestServer, type TestServer } from "@meshagent/server/testing";

const require = createRequire(import.meta.url);
// deno-lint-ignore no-explicit-any
const mesh: any = require("@meshagent/meshagent");
// deno-lint-ignore no-explicit-any
const arrow: any = createRequire(require.resolve("@meshagent/meshagent"))("apache-arrow");

// deno-lint-ignore no-explicit-any
type Official = any;

async function clients(
  server: TestServer,
  room: string,
): Promise<{ official: Official; ours: RoomClient }> {
  const official = new mesh.RoomClient({
    protocolFactory: mesh.WebSocketClientProtocol.createFactory({
      url: server.roomUrl(room),
      token: await server.token(room, "official"),
    }),
    reconnectTimeout: 0,
  });
  official.ready.catch(() => {}); // an orphaned rejection otherwise (official client notes)
  await official.start();
  const ours = new RoomClient({
    url: server.roomUrl(room),
    token: await server.token(room, "ours"),
    reconnectTimeout: 0,
  });
  await ours.start();
  return { official, ours };
}

// deno-lint-ignore no-explicit-any
async function close(server: TestServer, official: any, ours: RoomClient): Promise<void> {
  // The official client still acks its input close after a stream's output close: let it land.
  await new Promise((r) => setTimeout(r, 100));
  await ours.dispose();
  official.dispose();
  await new Promise((r) => setTimeout(r, 50));
  await server.close();
}

// deno-lint-ignore no-explicit-any
function rows(tables: any[]): Record<string, unknown>[] {
  return tables.flatMap((t) =>
    t.toArray().map((r: { toJSON(): Record<string, unknown> }) => r.toJSON())
  );
}

Deno.test("interop: the official DatasetsClient's calls work against our dataset toolkit", async () => {
  const server = await startTestServer();
  const { official, ours } = await clients(server, "ds-interop");
  const ds = official.datasets;
  try {
    assert.deepEqual(await ds.listTables(), []);

    // From a schema (non-nullable fields, a Float64 vector), then inserts.
    const vectorType = new arrow.FixedSizeList(
      3,
      new arrow.Field("item", new arrow.Float64(), true),
    );
    const schema = new arrow.Schema([
      new arrow.Field("id", new arrow.Float64(), false),
      new arrow.Field("name", new arrow.Utf8(), true),
      new arrow.Field("embedding", vectorType, true),
    ]);
    await ds.createTableWithSchema({ name: "docs", schema });
    assert.deepEqual(await ds.listTables(), ["docs"]);
    assert.equal(await ds.count({ table: "docs" }), 0);
    // An empty result has no data chunk (the client returns one table per chunk).
    assert.deepEqual(await ds.search({ table: "docs" }), []);

    const batch = (ids: number[], names: string[], vectors: number[][]) =>
      new arrow.Table({
        id: arrow.vectorFromArray(ids, new arrow.Float64()),
        // Dictionary-encoded, as the client's Arrow infers strings.
        name: arrow.vectorFromArray(names),
        embedding: arrow.vectorFromArray(vectors, vectorType),
      });
    await ds.insert({
      table: "docs",
      records: batch([1, 2, 3], ["alpha", "beta", "gamma"], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]),
    });
    await ds.insertStream({
      table: "docs",
      chunks: [batch([4], ["delta"], [[1, 1, 0]]), batch([5], ["eps"], [[0, 1, 1]])],
    });
    assert.equal(await ds.count({ table: "docs" }), 5);

    // Filters: an object (the client turns it into `name = "beta"`), SQL, a Float64 id as 2.
    assert.deepEqual(
      rows(await ds.search({ table: "docs", where: { name: "beta" } })).map((r) => r.id),
      [2],
    );
    assert.deepEqual(
      rows(await ds.search({ table: "docs", where: "id >= 4", select: ["name"] })),
      [{ name: "delta" }, { name: "eps" }],
    );
    assert.equal(await ds.count({ table: "docs", where: { id: 2 } }), 1);

    // Vector search with a limit: the nearest rows first, with LanceDB's _distance column.
    const nearest = rows(await ds.search({ table: "docs", vector: [0, 0.9, 0.1], limit: 2 }));
    assert.deepEqual(nearest.map((r) => r.id), [2, 5]);
    assert(typeof nearest[0]._distance === "number");

    // update (values as encoded JSON) and delete.
    await ds.update({ table: "docs", where: "id = 1", values: { name: "ALPHA" } });
    assert.deepEqual(rows(await ds.search({ table: "docs", where: "id = 1" }))[0].name, "ALPHA");
    await ds.delete({ table: "docs", where: "id = 5" });
    assert.equal(await ds.count({ table: "docs" }), 4);

    // merge: an upsert on id.
    await ds.merge({
      table: "docs",
      on: "id",
      records: batch([2, 6], ["BETA", "zeta"], [[0, 1, 0], [1, 0, 1]]),
    });
    const merged = rows(await ds.search({ table: "docs" })).sort((a, b) =>
      Number(a.id) - Number(b.id)
    );
    assert.deepEqual(merged.map((r) => [r.id, r.name]), [
      [1, "ALPHA"],
      [2, "BETA"],
      [3, "gamma"],
      [4, "delta"],
      [6, "zeta"],
    ]);

    // Columns: add by SQL and by schema, drop; inspect sees it.
    await ds.addColumns({ table: "docs", newColumns: { greeting: "'hello'" } });
    await ds.addColumns({
      table: "docs",
      newColumns: new arrow.Schema([new arrow.Field("note", new arrow.Utf8(), true)]),
    });
    assert.deepEqual(
      rows(await ds.search({ table: "docs", where: "id = 3" }))[0].greeting,
      "hello",
    );
    await ds.dropColumns({ table: "docs", columns: ["greeting"] });
    const inspected = await ds.inspect({ table: "docs" });
    assert.deepEqual(inspected.fields.map((f: { name: string }) => f.name), [
      "id",
      "name",
      "embedding",
      "note",
    ]);

    // Indexes: a scalar one named <column>_idx by default, listed, dropped.
    await ds.createIndex({ table: "docs", config: { column: "id", index_type: "BTREE" } });
    const indexes = await ds.listIndexes({ table: "docs" });
    assert.deepEqual(indexes.map((i: { name: string }) => i.name), ["id_idx"]);
    assert.deepEqual(indexes[0].columns, ["id"]);
    await ds.dropIndex({ table: "docs", name: "id_idx" });
    assert.deepEqual(await ds.listIndexes({ table: "docs" }), []);

    // optimize answers json; stats both objects.
    const optimized = await ds.optimize("docs");
    assert.equal(optimized.optimizedIndices, true);
    assert(optimized.compaction !== null);
    const stats = await ds.stats({ table: "docs" });
    assert.equal(stats.dataset.num_rows, 5);

    // Versions: list, read an old one, restore it.
    const versions = await ds.listVersions({ table: "docs" });
    assert(versions.length >= 5);
    assert(
      versions.every((v: { timestamp: Date; metadata: object }) =>
        v.timestamp instanceof Date && typeof v.metadata === "object"
      ),
    );
    const afterFirstInsert = versions[1].version;
    assert.equal(await ds.count({ table: "docs", version: afterFirstInsert }), 3);
    await ds.restore({ table: "docs", version: afterFirstInsert });
    assert.equal(await ds.count({ table: "docs" }), 3);
    assert.deepEqual(
      (await ds.inspect({ table: "docs" })).fields.map((f: { name: string }) => f.name),
      ["id", "name", "embedding"],
    );

    // From data, JSON rows, namespaces; drop.
    await ds.createTableFromData({
      name: "people",
      namespace: ["team"],
      data: arrow.tableFromArrays({ id: Float64Array.from([1, 2]), who: ["ann", "bob"] }),
    });
    await ds.createTableFromJsonData({
      name: "events",
      data: [{ id: 1, kind: "start" }, { id: 2, kind: "stop" }],
    });
    assert.deepEqual(await ds.listTables(), ["docs", "events"]);
    assert.deepEqual(await ds.listTables({ namespace: ["team"] }), ["people"]);
    assert.equal(await ds.count({ table: "people", namespace: ["team"] }), 2);
    await ds.dropTable({ name: "events" });
    assert.deepEqual(await ds.listTables(), ["docs"]);

    // Ours reads theirs, and theirs reads ours.
    const theirs = await ours.datasets.search({ table: "people", namespace: ["team"] });
    assert.deepEqual(theirs.flatMap((t) => t.toRows()), [{ id: 1, who: "ann" }, {
      id: 2,
      who: "bob",
    }]);
    await ours.datasets.createTableFromData({
      name: "ours",
      data: ArrowTable.fromRows([{ id: 7, label: "from deno" }]),
    });
    assert.deepEqual(rows(await ds.search({ table: "ours" })), [{ id: 7n, label: "from deno" }]);
  } finally {
    await close(server, official, ours);
  }
});

Deno.test("interop: bad dataset input is refused with the protocol's code and changes nothing", async () => {
  const server = await startTestServer();
  const { official, ours } = await clients(server, "ds-errors");
  const ds = official.datasets;
  const code = (expected: number, pattern: RegExp) => (e: { code?: number; message: string }) => {
    assert.equal(e.code, expected, e.message);
    assert.match(e.message, pattern);
    return true;
  };
  try {
    const vectorType = new arrow.FixedSizeList(
      2,
      new arrow.Field("item", new arrow.Float32(), true),
    );
    await ds.createTableFromData({
      name: "t",
      data: new arrow.Table({
        id: arrow.vectorFromArray([1, 2], new arrow.Float64()),
        v: arrow.vectorFromArray([[1, 0], [0, 1]], vectorType),
      }),
    });
    await assert.rejects(ds.search({ table: "nope" }), code(1003, /"nope" was not found/));
    await assert.rejects(ds.count({ table: "nope" }), code(1003, /was not found/));
    await assert.rejects(ds.search({ table: "t", where: "nope = 1" }), code(1002, /nope/));
    await assert.rejects(ds.search({ table: "t", vector: [1, 2, 3] }), code(1002, /3 numbers/));
    await assert.rejects(
      ds.insert({ table: "t", records: arrow.tableFromArrays({ other: ["x"] }) }),
      code(1002, /column "other" the table does not have/),
    );
    await assert.rejects(
      ds.createTableWithSchema({
        name: "t",
        schema: new arrow.Schema([new arrow.Field("a", new arrow.Utf8())]),
      }),
      code(1004, /exists already/),
    );
    // A stream cut mid-insert (the writer's connection drops after one chunk): nothing is
    // committed.
    const cutter = await server.connect("ds-errors", "cutter");
    let firstTaken!: () => void;
    const taken = new Promise<void>((resolve) => firstTaken = resolve);
    const source = async function* (): AsyncGenerator<ArrowTable> {
      yield ArrowTable.fromRows([{ id: 3, v: [1, 1] }], [
        { name: "id", type: "float64" },
        { name: "v", type: "vector[2]" },
      ]);
      firstTaken(); // the first chunk is on its way
      await new Promise(() => {}); // the source stalls; the connection goes
    };
    const cutInsert = cutter.datasets.insertStream({ table: "t", chunks: source() }).catch((e) =>
      e
    );
    await taken;
    await cutter.dispose();
    assert(await cutInsert instanceof Error);
    assert.equal(await ds.count({ table: "t" }), 2);
    // The room still works.
    assert.deepEqual(await ds.listTables(), ["t"]);
  } finally {
    await close(server, official, ours);
  }
});

Deno.test("interop: our client's windowed inserts (3 pulls ahead) and the official client's (one pull per chunk) land whole and in order", async () => {
  const server = await startTestServer();
  const { official, ours } = await clients(server, "ds-window");
  try {
    const fields = [{ name: "id", type: "float64" as const }];
    await ours.datasets.createTableWithSchema({ name: "t", schema: fields });
    const chunk = (from: number) =>
      ArrowTable.fromRows(Array.from({ length: 100 }, (_, i) => ({ id: from + i })), fields);
    // Ours: 30 chunks through a window of 3 pulls.
    await ours.datasets.insertStream({
      table: "t",
      chunks: (async function* () {
        for (let c = 0; c < 30; c++) yield chunk(c * 100);
      })(),
    });
    // The official client, one chunk per pull, on the same table.
    const ds = official.datasets;
    await ds.insert({
      table: "t",
      records: arrow.tableFromArrays({
        id: Float64Array.from({ length: 100 }, (_, i) => 3000 + i),
      }),
    });
    assert.equal(await ours.datasets.count({ table: "t" }), 3100);
    const ids = (await ours.datasets.searchRows({ table: "t", limit: 5000 })).map((r) => r.id);
    assert.deepEqual(ids, Array.from({ length: 3100 }, (_, i) => i));
  } finally {
    await close(server, official, ours);
  }
});
