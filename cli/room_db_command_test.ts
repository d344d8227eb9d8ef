// `meshagent room db query|tables|databases|create`, run as the real CLI in a subprocess against a
// real server.
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import { formatTable, parseParamValue, rowToJsonLine } from "./room_db_command.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(server: TestServer, room: string, ...args: string[]): Promise<Run> {
  // Nothing hangs: a stuck subprocess is killed after a minute (and the test fails).
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 60_000);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "room",
      "db",
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

Deno.test("cli room db: create, query with bound params, tables, databases, errors", async () => {
  const server = await startTestServer();
  try {
    const room = "cli-db";
    let r = await cli(server, room, "create", "--database", "main");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /created database main/);
    r = await cli(server, room, "create", "--database", "main");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: .*already exists/m);
    r = await cli(server, room, "create", "--database", "main", "--if-not-exists");
    assert.equal(r.code, 0, r.stderr);

    r = await cli(
      server,
      room,
      "query",
      "--database",
      "main",
      "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT, data BLOB)",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "0 rows affected");
    const evil = "x'); DROP TABLE notes; --";
    r = await cli(
      server,
      room,
      "query",
      "--database",
      "main",
      "INSERT INTO notes (id, title, data) VALUES (?, ?, NULL), (?, ?, x'00ff')",
      "--param",
      "1",
      "--param",
      evil,
      "--param",
      "2",
      "--param",
      '"42"',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "2 rows affected");

    r = await cli(server, room, "query", "--database", "main", "SELECT * FROM notes ORDER BY id");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split("\n"), [
      "id  title                      data",
      "--  -------------------------  -------",
      "1   x'); DROP TABLE notes; --  NULL",
      "2   42                         x'00ff'",
    ]);
    assert.match(r.stderr, /\(2 rows\)/);

    r = await cli(
      server,
      room,
      "query",
      "--database",
      "main",
      "SELECT id, title FROM notes WHERE title = :t",
      "--named",
      `t=${evil}`,
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n").map((line) => JSON.parse(line)), [
      { id: 1, title: evil },
    ]);

    r = await cli(server, room, "query", "--database", "main", "SELEC nope");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: .*syntax error/m);

    r = await cli(server, room, "tables", "--database", "main");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "table\n-----\nnotes\n");
    r = await cli(server, room, "tables", "--database", "missing");
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: database "missing" does not exist\. Create it: meshagent room sqlite database create --database "missing"$/m,
    );

    r = await cli(server, room, "create", "--database", "other", "--namespace", "team/a");
    assert.equal(r.code, 0, r.stderr);
    r = await cli(server, room, "databases", "--json");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '{"name":"main"}\n');
    r = await cli(server, room, "databases", "--namespace", "team/a");
    assert.equal(r.stdout, "database\n--------\nother\n");
    r = await cli(server, room, "databases", "--namespace", "team/none");
    assert.match(
      r.stdout,
      /^no databases in namespace team\/none yet \(create one: meshagent room sqlite database create --database NAME\)\n$/,
    );
  } finally {
    await server.close();
  }
});

Deno.test("cli room db helpers: parameter parsing, JSON lines, tables", () => {
  assert.equal(parseParamValue("1.5"), 1.5);
  assert.equal(parseParamValue("null"), null);
  assert.equal(parseParamValue("hello world"), "hello world");
  assert.equal(
    rowToJsonLine({ b: new Uint8Array([0, 255]), n: null }),
    '{"b":"AP8=","n":null}',
  );
  assert.deepEqual(formatTable(["a"], []), ["a", "-"]);
  assert.deepEqual(formatTable(["t"], [{ t: "two\nlines" }]), ["t", "----------", "two\\nlines"]);
});
