// `meshagent room dataset …`, run as the real CLI in a subprocess against a real server.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import { parseCsv, parseDatasetColumns } from "./room_dataset_command.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

async function cli(
  server: TestServer,
  room: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 60_000);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "room",
      "dataset",
      ...args,
      "--room",
      room,
      "--api-url",
      server.url,
      "--key",
      server.apiKey,
    ],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    signal: controller.signal,
  }).output().finally(() => clearTimeout(timer));
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test("cli room dataset: import with progress, search as a table and as JSON, versions, indexes", async () => {
  const server = await startTestServer();
  const dir = await Deno.makeTempDir();
  try {
    const room = "cli-ds";
    const csv = join(dir, "people.csv");
    const lines = ["id,name,score"];
    for (let i = 1; i <= 25; i++) lines.push(`${i},"person ${i}, esq.",${i / 2}`);
    await Deno.writeTextFile(csv, lines.join("\n") + "\n");
    let r = await cli(server, room, "import", "--table", "people", csv, "--batch-rows", "10");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /imported 10\/25 rows/);
    assert.match(r.stderr, /imported 25\/25 rows/);

    r = await cli(server, room, "table");
    assert.equal(r.stdout, "people\n");
    r = await cli(server, room, "inspect", "--table", "people");
    assert.match(r.stdout, /id\s+int64/);
    assert.match(r.stdout, /score\s+float64/);

    r = await cli(server, room, "search", "--table", "people", "--where", "id <= 2");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split("\n"), [
      "id  name            score",
      "--  --------------  -----",
      "1   person 1, esq.  0.5",
      "2   person 2, esq.  1",
    ]);
    r = await cli(server, room, "search", "--table", "people", "--where", "id = 3", "--json");
    assert.deepEqual(JSON.parse(r.stdout), { id: 3, name: "person 3, esq.", score: 1.5 });

    r = await cli(server, room, "insert", "--table", "people", '[{"id": 26, "name": "late"}]');
    assert.equal(r.code, 0, r.stderr);
    r = await cli(server, room, "count", "--table", "people");
    assert.equal(r.stdout.trim(), "26");
    r = await cli(
      server,
      room,
      "index-create",
      "--table",
      "people",
      "--column",
      "id",
      "--type",
      "BTREE",
    );
    assert.equal(r.code, 0, r.stderr);
    r = await cli(server, room, "index", "--table", "people", "--json");
    assert.equal(JSON.parse(r.stdout).name, "id_idx");

    r = await cli(server, room, "version", "--table", "people", "--json");
    const versions = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert(versions.length >= 2);
    r = await cli(
      server,
      room,
      "restore",
      "--table",
      "people",
      "--table-version",
      String(versions[0].version),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /restored version 1/);
    r = await cli(server, room, "count", "--table", "people");
    assert.equal(r.stdout.trim(), "25");

    // Errors are one line a person can act on, with exit code 1.
    r = await cli(server, room, "search", "--table", "nope");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /"nope" was not found/);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await server.close();
  }
});

Deno.test("cli room dataset: CSV and column parsing", () => {
  assert.deepEqual(parseCsv('a,b\r\n"x\ny",2'), [["a", "b"], ["x\ny", "2"]]);
  assert.deepEqual(parseDatasetColumns("v:vector[3,float64],t:timestamp"), [
    { name: "v", type: "vector[3,float64]", nullable: true },
    { name: "t", type: "timestamp", nullable: true },
  ]);
});

Deno.test("cli room dataset: sql over tables (aliases, --json, bad SQL) and a Parquet import", async () => {
  const server = await startTestServer();
  const dir = await Deno.makeTempDir();
  try {
    const room = "cli-ds-sql";
    // A Parquet file made with DuckDB: 2500 rows over two row groups' worth of chunks.
    const parquet = join(dir, "events.parquet");
    const { DuckDBInstance } = await import("@duckdb/node-api");
    const db = await DuckDBInstance.create(":memory:");
    const conn = await db.connect();
    await conn.run(
      `COPY (SELECT i::BIGINT AS id, 'kind ' || (i % 3) AS kind, i / 4 AS weight ` +
        `FROM range(2500) t(i)) TO '${parquet}' (FORMAT parquet)`,
    );
    conn.closeSync();
    db.closeSync();

    let r = await cli(server, room, "import", "--table", "events", parquet, "--batch-rows", "1000");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /imported 1000\/2500 rows/);
    assert.match(r.stderr, /imported 2500\/2500 rows/);
    r = await cli(server, room, "inspect", "--table", "events");
    assert.match(r.stdout, /id\s+int64/);
    assert.match(r.stdout, /kind\s+utf8/);

    r = await cli(
      server,
      room,
      "sql",
      "SELECT kind, count(*) AS n FROM e GROUP BY kind ORDER BY kind",
      "--table",
      "events=e",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split("\n"), [
      "kind    n",
      "------  ---",
      "kind 0  834",
      "kind 1  833",
      "kind 2  833",
    ]);
    r = await cli(
      server,
      room,
      "sql",
      "SELECT max(id) AS top FROM events",
      "--table",
      "events",
      "--json",
    );
    assert.deepEqual(JSON.parse(r.stdout), { top: 2499 });

    r = await cli(server, room, "sql", "SELEKT 1");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /syntax error/);
    r = await cli(server, room, "sql", "DELETE FROM events", "--table", "events");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /read-only/);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await server.close();
  }
});
