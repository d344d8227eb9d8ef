// The official client's `importFromStorage` / `exportToStorage` (npm @meshagent/meshagent
// 0.39.9, tools import_storage / export_storage) against our dataset toolkit: round trips
// through storage files in each format, then bad input and grants.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { ApiScope, RoomClient } from "@meshagent/api";
import { startTestServer, type TestServer } from "@meshagent/server/testing";

const require = createRequire(import.meta.url);
// deno-lint-ignore no-explicit-any
const mesh: any = require("@meshagent/meshagent");
// deno-lint-ignore no-explicit-any
const arrow: any = createRequire(require.resolve("@meshagent/meshagent"))("apache-arrow");

// deno-lint-ignore no-explicit-any
type Official = any;

async function official(server: TestServer, room: string, api?: ApiScope): Promise<Official> {
  const client = new mesh.RoomClient({
    protocolFactory: mesh.WebSocketClientProtocol.createFactory({
      url: server.roomUrl(room),
      token: await server.token(room, "official", api ? { api } : {}),
    }),
    reconnectTimeout: 0,
  });
  client.ready.catch(() => {}); // an orphaned rejection otherwise (official client notes)
  await client.start();
  return client;
}

async function ourClient(server: TestServer, room: string): Promise<RoomClient> {
  const client = new RoomClient({
    url: server.roomUrl(room),
    token: await server.token(room, "ours"),
    reconnectTimeout: 0,
  });
  await client.start();
  return client;
}

async function closeAll(server: TestServer, ours: RoomClient, ...others: Official[]) {
  await new Promise((r) => setTimeout(r, 100)); // the official client's last acks land
  await ours.dispose();
  for (const o of others) o.dispose();
  await new Promise((r) => setTimeout(r, 50));
  await server.close();
}

// deno-lint-ignore no-explicit-any
function rows(tables: any[]): Record<string, unknown>[] {
  return tables.flatMap((t) =>
    t.toArray().map((r: { toJSON(): Record<string, unknown> }) => ({ ...r.toJSON() }))
  ).sort((a, b) => Number(a.id) - Number(b.id));
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const encode = (s: string) => new TextEncoder().encode(s);

const code = (expected: number, pattern: RegExp) => (e: { code?: number; message: string }) => {
  assert.equal(e.code, expected, e.message);
  assert.match(e.message, pattern);
  return true;
};

Deno.test("interop: the official client's exportToStorage / importFromStorage round-trip csv, tsv, json, parquet and arrow", async () => {
  const server = await startTestServer();
  const room = "ds-storage";
  const client = await official(server, room);
  const ds = client.datasets;
  const ours = await ourClient(server, room);
  try {
    await ds.createTableFromData({
      name: "people",
      data: new arrow.Table({
        id: arrow.vectorFromArray([1n, 2n, 3n], new arrow.Int64()),
        name: arrow.vectorFromArray(["ada", "bob, jr", null], new arrow.Utf8()),
        score: arrow.vectorFromArray([1.5, 2.25, -3], new arrow.Float64()),
      }),
    });
    await ds.insert({
      table: "people",
      records: new arrow.Table({
        id: arrow.vectorFromArray([4n], new arrow.Int64()),
        name: arrow.vectorFromArray(["eve"], new arrow.Utf8()),
        score: arrow.vectorFromArray([0], new arrow.Float64()),
      }),
    });
    const expected = [
      { id: 1, name: "ada", score: 1.5 },
      { id: 2, name: "bob, jr", score: 2.25 },
      { id: 3, name: null, score: -3 },
      { id: 4, name: "eve", score: 0 },
    ];
    const plain = (list: Record<string, unknown>[]) =>
      list.map((r) => ({ id: Number(r.id), name: r.name, score: Number(r.score) }));

    for (const format of ["csv", "tsv", "json", "parquet", "arrow"]) {
      const path = `exports/people.${format}`;
      await ds.exportToStorage({ table: "people", path, format });
      const file = (await ours.storage.download(path)).data;
      if (format === "csv") {
        assert.equal(
          text(file),
          'id,name,score\n1,ada,1.5\n2,"bob, jr",2.25\n3,,-3.0\n4,eve,0.0\n',
        );
      } else if (format === "tsv") assert.match(text(file), /^id\tname\tscore\n1\tada\t1.5\n/);
      else if (format === "json") {
        assert.deepEqual(text(file).trim().split("\n").map((l) => JSON.parse(l))[1], {
          id: 2,
          name: "bob, jr",
          score: 2.25,
        });
      } else if (format === "arrow") {
        // An Arrow IPC *file* (magic ARROW1 at both ends) that apache-arrow reads back.
        assert.equal(text(file.subarray(0, 6)), "ARROW1");
        assert.deepEqual(plain(rows([arrow.tableFromIPC(file)])), expected);
      } else assert.equal(text(file.subarray(0, 4)), "PAR1");

      // Back into a new table (format auto: by the extension), in chunks of 3 rows.
      await ds.importFromStorage({ table: `copy_${format}`, path, batchSize: 3 });
      assert.deepEqual(plain(rows(await ds.search({ table: `copy_${format}` }))), expected);
      // One import = one table version.
      assert.equal((await ds.listVersions({ table: `copy_${format}` })).length, 1);
    }

    // An older version exports as it was.
    await ds.exportToStorage({ table: "people", path: "v1.json", format: "json", version: 1 });
    assert.equal(text((await ours.storage.download("v1.json")).data).trim().split("\n").length, 3);

    // JSON arrays and JSON lines files written by hand; replace and merge.
    await ours.storage.upload("in/array.json", encode('[{"id": 1, "name": "x"}, {"id": 2}]'));
    await ds.importFromStorage({ table: "hand", path: "in/array.json" });
    assert.deepEqual(rows(await ds.search({ table: "hand" })).map((r) => r.name), ["x", null]);
    await ours.storage.upload(
      "in/lines.jsonl",
      encode('{"id": 2, "name": "two"}\n{"id": 3, "name": "three"}\n'),
    );
    await ds.importFromStorage({ table: "hand", path: "in/lines.jsonl", mode: "merge", on: "id" });
    assert.deepEqual(rows(await ds.search({ table: "hand" })).map((r) => r.name), [
      "x",
      "two",
      "three",
    ]);
    await ds.importFromStorage({ table: "hand", path: "in/array.json", mode: "replace" });
    assert.equal(await ds.count({ table: "hand" }), 2);
    // An Arrow IPC stream (not a file) imports too.
    const stream = arrow.tableToIPC(
      new arrow.Table({ id: arrow.vectorFromArray([7, 8], new arrow.Int32()) }),
      "stream",
    );
    await ours.storage.upload("in/s.arrows", stream);
    await ds.importFromStorage({ table: "streamed", path: "in/s.arrows", format: "arrow" });
    assert.equal(await ds.count({ table: "streamed" }), 2);

    // Our DatasetsClient makes the same calls; the official client reads what it imported.
    await ours.datasets.exportToStorage({
      table: "people",
      path: "ours/p.parquet",
      format: "auto",
    });
    await ours.datasets.importFromStorage({ table: "ours", path: "ours/p.parquet", batchSize: 2 });
    assert.deepEqual(plain(rows(await ds.search({ table: "ours" }))), expected);
    await ours.datasets.importFromStorage({
      table: "ours",
      path: "in/lines.jsonl",
      mode: "replace",
      format: "json",
    });
    assert.equal(await ours.datasets.count({ table: "ours" }), 2);
    await assert.rejects(
      ours.datasets.exportToStorage({ table: "nope", path: "x.csv", format: "csv" }),
      (e: { code?: number }) => e.code === 1003,
    );
  } finally {
    await closeAll(server, ours, client);
  }
});

Deno.test("interop: bad import_storage / export_storage input is refused with the protocol's code", async () => {
  const server = await startTestServer();
  const room = "ds-storage-bad";
  const client = await official(server, room);
  const ds = client.datasets;
  const ours = await ourClient(server, room);
  try {
    await ours.storage.upload("in/a.csv", encode("id,name\n1,a\n2,b\n"));
    await ds.importFromStorage({ table: "t", path: "in/a.csv" });

    await assert.rejects(
      ds.importFromStorage({ table: "u", path: "in/missing.csv" }),
      code(1003, /no file at "in\/missing.csv"/),
    );
    await assert.rejects(
      ds.exportToStorage({ table: "nope", path: "out/x.csv", format: "csv" }),
      code(1003, /"nope" was not found/),
    );
    assert.equal(await ours.storage.exists("out/x.csv"), false);
    // create on an existing table: refused, the table unchanged.
    await assert.rejects(
      ds.importFromStorage({ table: "t", path: "in/a.csv" }),
      code(1004, /exists already/),
    );
    assert.equal(await ds.count({ table: "t" }), 2);
    // Broken content: a clear 1002 naming the storage path, never our temp folder.
    await ours.storage.upload("in/broken.json", encode('{"id": 1,,,'));
    await assert.rejects(ds.importFromStorage({ table: "u", path: "in/broken.json" }), (e: {
      code?: number;
      message: string;
    }) => {
      assert.equal(e.code, 1002, e.message);
      assert.match(e.message, /"in\/broken.json"/);
      assert.doesNotMatch(e.message, /meshagent-dataset-|\/tmp\//);
      return true;
    });
    // A replace from a broken file leaves the table as it was; a merge needs the table.
    await assert.rejects(
      ds.importFromStorage({ table: "t", path: "in/broken.json", mode: "replace" }),
      code(1002, /reading json/),
    );
    assert.equal(await ds.count({ table: "t" }), 2);
    await assert.rejects(
      ds.importFromStorage({ table: "nope", path: "in/a.csv", mode: "merge", on: "id" }),
      code(1003, /"nope" was not found/),
    );
    await ours.storage.upload("in/bad.parquet", encode("not parquet at all"));
    await assert.rejects(
      ds.importFromStorage({ table: "u", path: "in/bad.parquet" }),
      code(1002, /reading parquet "in\/bad.parquet" failed/),
    );
    await ours.storage.upload("in/bad.arrow", encode("not arrow"));
    await assert.rejects(
      ds.importFromStorage({ table: "u", path: "in/bad.arrow" }),
      code(1002, /not an Arrow IPC file or stream/),
    );
    assert.deepEqual(await ds.listTables(), ["t"]);
    await assert.rejects(
      ds.importFromStorage({ table: "u", path: "in/a.csv", format: "excel" }),
      code(1002, /excel files are not supported/),
    );
    await assert.rejects(
      ds.importFromStorage({ table: "u", path: "in/a.txt" }),
      code(1002, /cannot tell the format/),
    );
    await assert.rejects(
      ds.importFromStorage({ table: "t", path: "in/a.csv", mode: "merge" }),
      code(1002, /merge needs on/),
    );
    // Path traversal is refused as storage refuses it.
    await assert.rejects(
      ds.exportToStorage({ table: "t", path: "../../etc/x.csv", format: "csv" }),
      (e: { code?: number }) => e.code === 3004,
    );
    await assert.rejects(
      ds.importFromStorage({ table: "u", path: "../outside.csv" }),
      (e: { code?: number }) => e.code === 3004,
    );
    // The room still works.
    assert.equal(await ds.count({ table: "t" }), 2);
  } finally {
    await closeAll(server, ours, client);
  }
});

Deno.test("interop: import_storage / export_storage check the dataset and storage grants", async () => {
  const server = await startTestServer();
  const room = "ds-storage-grants";
  const ours = await ourClient(server, room);
  const admin = await official(server, room);
  const limited = await official(
    server,
    room,
    ApiScope.fromJson({
      dataset: { tables: [{ name: "t", read: true }, { name: "w", write: true }] },
      storage: { paths: [{ path: "open/" }, { path: "ro/", read_only: true }] },
    }),
  );
  try {
    await ours.storage.upload("open/a.csv", encode("id\n1\n"));
    await ours.storage.upload("secret/a.csv", encode("id\n1\n"));
    await admin.datasets.importFromStorage({ table: "t", path: "open/a.csv" });
    await admin.datasets.importFromStorage({ table: "w", path: "open/a.csv" });
    const ds = limited.datasets;
    // Export: read on the table plus storage write on the path.
    await ds.exportToStorage({ table: "t", path: "open/t.csv", format: "csv" });
    await assert.rejects(
      ds.exportToStorage({ table: "t", path: "ro/t.csv", format: "csv" }),
      code(1001, /storage grant does not allow writing 'ro\/t.csv'/),
    );
    await assert.rejects(
      ds.exportToStorage({ table: "x", path: "open/x.csv", format: "csv" }),
      code(1001, /read on table "x"/),
    );
    // Import: write on the table (alter to create it) plus storage read on the path.
    await ds.importFromStorage({ table: "w", path: "open/a.csv", mode: "merge", on: "id" });
    await assert.rejects(
      ds.importFromStorage({ table: "w", path: "secret/a.csv", mode: "merge", on: "id" }),
      code(1001, /storage grant does not allow reading 'secret\/a.csv'/),
    );
    await assert.rejects(
      ds.importFromStorage({ table: "t", path: "open/a.csv", mode: "merge", on: "id" }),
      code(1001, /write on table "t"/),
    );
    await assert.rejects(
      ds.importFromStorage({ table: "w", path: "open/a.csv", mode: "replace" }),
      code(1001, /alter on table "w"/),
    );
  } finally {
    await closeAll(server, ours, admin, limited);
  }
});

Deno.test("interop: import_storage refuses a file over the store's maxWriteBytes, and export of a table over it", async () => {
  const server = await startTestServer({ server: { dataset: { maxWriteBytes: 4096 } } });
  const room = "ds-storage-limit";
  const client = await official(server, room);
  const ours = await ourClient(server, room);
  try {
    const big = "id,name\n" + Array.from({ length: 600 }, (_, i) => `${i},name${i}`).join("\n");
    await ours.storage.upload("big.csv", encode(big));
    await assert.rejects(
      client.datasets.importFromStorage({ table: "big", path: "big.csv" }),
      code(1002, /"big.csv" is \d+ bytes, more than the 4096 bytes/),
    );
    assert.deepEqual(await client.datasets.listTables(), []);
    await ours.storage.upload("small.csv", encode(big.slice(0, 1000).replace(/\n[^\n]*$/, "")));
    await client.datasets.importFromStorage({ table: "small", path: "small.csv" });
    await client.datasets.exportToStorage({
      table: "small",
      path: "small.parquet",
      format: "parquet",
    });
    assert(await ours.storage.exists("small.parquet"));
    // Three imports that each fit make a table that does not: its export is refused whole.
    for (const part of [1, 2]) {
      const csv = "id,name\n" +
        Array.from({ length: 80 }, (_, i) => `${part * 1000 + i},name${i}`).join("\n");
      await ours.storage.upload(`part${part}.csv`, encode(csv));
      await client.datasets.importFromStorage({
        table: "small",
        path: `part${part}.csv`,
        mode: "merge",
        on: "id",
      });
    }
    await assert.rejects(
      client.datasets.exportToStorage({ table: "small", path: "all.csv", format: "csv" }),
      code(1002, /more than 4096 bytes, the most one export writes/),
    );
    assert.equal(await ours.storage.exists("all.csv"), false);
  } finally {
    await closeAll(server, ours, client);
  }
});

Deno.test("interop: an import that fails far into its file leaves the table as it was", async () => {
  const server = await startTestServer();
  const room = "ds-storage-late-failure";
  const client = await official(server, room);
  const ds = client.datasets;
  const ours = await ourClient(server, room);
  try {
    await ours.storage.upload("in/good.csv", encode("id,name\n1,a\n2,b\n"));
    await ds.importFromStorage({ table: "t", path: "in/good.csv" });
    // 30,000 good JSON lines, then a broken one: DuckDB reads the file in pieces, so the import
    // has sent batches by the time it meets the broken line.
    const lines: string[] = [];
    for (let i = 0; i < 30_000; i++) lines.push(JSON.stringify({ id: i, name: `row ${i}` }));
    lines.push('{"id": 30000, "name": ');
    await ours.storage.upload("in/late.json", encode(lines.join("\n") + "\n"));
    for (const mode of ["replace", "create"]) {
      const table = mode === "replace" ? "t" : "fresh";
      await assert.rejects(
        ds.importFromStorage({ table, path: "in/late.json", mode, batchSize: 1000 }),
        (e: { code?: number; message: string }) => {
          assert.equal(e.code, 1002, e.message);
          assert.match(e.message, /"in\/late.json"/);
          return true;
        },
      );
    }
    assert.equal(await ds.count({ table: "t" }), 2);
    assert.deepEqual(await ds.listTables({}), ["t"]);
  } finally {
    await closeAll(server, ours, client);
  }
});
