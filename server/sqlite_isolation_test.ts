// Each room's SQL runs in a database process of its own: a runaway statement is stopped at the
// time limit with a clear error to its caller, while other rooms (and the same room afterwards)
// keep being answered. Real server, real client, real processes.
import assert from "node:assert/strict";
import { type RoomClient, RoomError } from "@meshagent/api";
import { startTestServer, type TestServer } from "./testing.ts";

/** What a participant with the default sqlite grant can send: it never ends on its own. */
const RUNAWAY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) " +
  "SELECT count(*) FROM c WHERE x < 2000000000";

async function withServer(
  sqlite: { statementTimeoutMs?: number; isolation?: "process" | "inline" },
  fn: (server: TestServer) => Promise<void>,
): Promise<void> {
  const server = await startTestServer({ server: { sqlite } });
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

function code(expected: number, text?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof RoomError, `expected a RoomError, got ${e}`);
    assert.equal(e.code, expected, e.message);
    if (text) assert.match(e.message, text);
    return true;
  };
}

/** The pids of the database processes serving `dir` (Linux: from /proc). */
function hostPids(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      if (cmdline.includes("_sqlite_host.ts") && cmdline.includes(dir)) pids.push(+entry.name);
    } catch { /* gone */ }
  }
  return pids;
}

async function seed(room: RoomClient): Promise<void> {
  await room.database.createDatabase({ name: "main" });
  await room.database.executeSqlStatement({
    database: "main",
    query: "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT)",
  });
  await room.database.executeSqlStatement({
    database: "main",
    query: "INSERT INTO notes (title) VALUES (?), (?)",
    params: ["kept", "also kept"],
  });
}

Deno.test("sqlite: a runaway statement gets 1009 at the time limit; another room answers within 100 ms throughout", async () => {
  await withServer({ statementTimeoutMs: 1500 }, async (server) => {
    const alice = await server.connect("hog", "alice");
    const bob = await server.connect("calm", "bob");
    try {
      await seed(alice);
      await seed(bob); // bob's room has its own process, started now
      const dir = `${server.dataDir}/rooms/hog/databases`;
      assert.equal(hostPids(dir).length, 1);

      const started = performance.now();
      const runaway = alice.database.executeSqlStatement({ database: "main", query: RUNAWAY });
      runaway.catch(() => {});
      let settled = false;
      runaway.finally(() => settled = true).catch(() => {});

      // While it runs: bob's SQL, bob's messaging round trips and GET / all answer promptly.
      const latencies: number[] = [];
      while (!settled) {
        const t0 = performance.now();
        const rows = await bob.database.search({ database: "main", table: "notes" });
        assert.equal(rows.length, 2);
        const banner = await fetch(server.url);
        assert.equal(banner.status, 200);
        await banner.body?.cancel();
        latencies.push(performance.now() - t0);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await assert.rejects(runaway, code(1009, /1\.5 s statement time limit/));
      const took = performance.now() - started;
      assert.ok(took >= 1400 && took < 10_000, `stopped after ${took.toFixed(0)} ms`);
      assert.ok(latencies.length >= 10, `only ${latencies.length} answers while it ran`);
      const worst = Math.max(...latencies);
      assert.ok(worst < 100, `another room waited ${worst.toFixed(1)} ms (all: ${latencies})`);

      // The runaway process is gone (its core is free again) and the room works on, data intact.
      assert.equal(hostPids(dir).length, 0);
      const rows = await alice.database.search({ database: "main", table: "notes" });
      assert.deepEqual(rows.map((row) => row.title), ["kept", "also kept"]);
      assert.equal(hostPids(dir).length, 1);
    } finally {
      await alice.dispose();
      await bob.dispose();
    }
  });
});

Deno.test("sqlite: queries open when the room's process was restarted say why they are gone", async () => {
  await withServer({ statementTimeoutMs: 1000 }, async (server) => {
    const alice = await server.connect("restart", "alice");
    try {
      await seed(alice);
      const query = await alice.database.openSqlQuery({
        database: "main",
        query: "SELECT title FROM notes",
      });
      await assert.rejects(
        alice.database.executeSqlStatement({ database: "main", query: RUNAWAY }),
        code(1009),
      );
      await assert.rejects(query.all(), code(1006, /time limit.*restarted|open SQL queries/));
      // A new query works on the new process.
      const again = await alice.database.openSqlQuery({
        database: "main",
        query: "SELECT count(*) AS n FROM notes",
      });
      assert.deepEqual(await again.all(), [{ n: 2 }]);
      await again.close();
    } finally {
      await alice.dispose();
    }
  });
});

Deno.test("sqlite: a database process that dies fails the call in flight clearly; the next one works", async () => {
  await withServer({ statementTimeoutMs: 60_000 }, async (server) => {
    const alice = await server.connect("crash", "alice");
    try {
      await seed(alice);
      const dir = `${server.dataDir}/rooms/crash/databases`;
      const running = alice.database.executeSqlStatement({ database: "main", query: RUNAWAY });
      running.catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 300));
      const [pid] = hostPids(dir);
      assert.ok(pid !== undefined);
      Deno.kill(pid, "SIGKILL"); // an OOM kill, say
      await assert.rejects(running, code(1008, /database process was killed \(SIGKILL\)/));
      const rows = await alice.database.search({ database: "main", table: "notes" });
      assert.equal(rows.length, 2);
    } finally {
      await alice.dispose();
    }
  });
});

Deno.test("sqlite: a value bigger than a message can carry is refused, not built", async () => {
  await withServer({}, async (server) => {
    const alice = await server.connect("big", "alice");
    try {
      await alice.database.createDatabase({ name: "main" });
      await assert.rejects(
        alice.database.executeSqlStatement({
          database: "main",
          query: "SELECT randomblob(40000000)",
        }),
        code(1002, /too big/),
      );
      const fine = await alice.database.executeSql({
        database: "main",
        query: "SELECT length(randomblob(1000000)) AS n",
      });
      assert.deepEqual(fine.rows, [{ n: 1000000 }]);
    } finally {
      await alice.dispose();
    }
  });
});

Deno.test("sqlite: the room's process ends with the room", async () => {
  await withServer({}, async (server) => {
    const alice = await server.connect("ends", "alice");
    await seed(alice);
    const dir = `${server.dataDir}/rooms/ends/databases`;
    assert.equal(hostPids(dir).length, 1);
    await alice.dispose();
    for (let i = 0; i < 100 && hostPids(dir).length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(hostPids(dir).length, 0);
  });
});

Deno.test("sqlite: inline isolation serves the same requests on the event loop", async () => {
  await withServer({ isolation: "inline" }, async (server) => {
    const alice = await server.connect("inline", "alice");
    try {
      await seed(alice);
      assert.equal(hostPids(`${server.dataDir}/rooms/inline/databases`).length, 0);
      const rows = await alice.database.search({ database: "main", table: "notes" });
      assert.deepEqual(rows.map((row) => row.title), ["kept", "also kept"]);
    } finally {
      await alice.dispose();
    }
  });
});
