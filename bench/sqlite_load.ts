// The cost of running a room's SQL in its own process: sqlite round trips through the room server
// with `isolation: "inline"` (on the server's event loop, as before) and `"process"` (the room's
// database process, the default), in the same run, alternating rounds.
// Run: deno run -A bench/sqlite_load.ts [--calls N] [--rounds R]
//
// - unary: `execute_sql_statement` of an UPDATE of one row by primary key (one request, one reply);
// - query: `execute_sql` of a SELECT of 100 rows (invoke + read stream: several round trips);
// - insert: `insert` of 100 rows through a write stream (start, pull, data, close, commit).
// Server and client share this process; numbers are per call, sequential.
import { parseArgs } from "node:util";
import type { RoomClient } from "@meshagent/api";
import { startTestServer } from "@meshagent/server/testing";
import { percentile } from "./_load_support.ts";

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "2000" },
    rounds: { type: "string", default: "3" },
  },
});
const CALLS = Number(values.calls);
const ROUNDS = Number(values.rounds);

type Isolation = "inline" | "process";
interface Figures {
  p50: number;
  p99: number;
  perSecond: number;
}

async function measure(once: () => Promise<unknown>, calls: number): Promise<Figures> {
  for (let i = 0; i < Math.min(200, calls); i++) await once();
  const latencies: number[] = [];
  const started = performance.now();
  for (let i = 0; i < calls; i++) {
    const t = performance.now();
    await once();
    latencies.push(performance.now() - t);
  }
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    perSecond: calls / (elapsed / 1000),
  };
}

async function run(isolation: Isolation): Promise<Record<string, Figures>> {
  const server = await startTestServer({ server: { sqlite: { isolation } } });
  let room: RoomClient | undefined;
  try {
    room = await server.connect("bench", "alice");
    const db = room.database;
    await db.createDatabase({ name: "main" });
    await db.executeSqlStatement({
      database: "main",
      query: "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, name TEXT)",
    });
    const rows = Array.from({ length: 100 }, (_, i) => ({ id: i, n: i, name: `row ${i}` }));
    await db.insert({ database: "main", table: "t", rows });
    let next = 1000;
    return {
      unary: await measure(
        () =>
          db.executeSqlStatement({
            database: "main",
            query: "UPDATE t SET n = n + 1 WHERE id = ?",
            params: [7],
          }),
        CALLS,
      ),
      query: await measure(
        () => db.executeSql({ database: "main", query: "SELECT * FROM t LIMIT 100" }),
        Math.ceil(CALLS / 4),
      ),
      insert: await measure(
        () =>
          db.insert({
            database: "main",
            table: "t",
            rows: rows.map((row) => ({ ...row, id: next++ })),
          }),
        Math.ceil(CALLS / 4),
      ),
    };
  } finally {
    await room?.dispose();
    await server.close();
  }
}

const results: Record<Isolation, Record<string, Figures>[]> = { inline: [], process: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (
    const isolation
      of (round % 2 === 0 ? ["inline", "process"] : ["process", "inline"]) as Isolation[]
  ) {
    results[isolation].push(await run(isolation));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`sqlite round trips, ${CALLS} unary calls per round, ${ROUNDS} rounds (medians)`);
console.log(
  "request | inline p50 / p99 ms | process p50 / p99 ms | calls/s inline → process | ratio",
);
for (const kind of ["unary", "query", "insert"]) {
  const pick = (isolation: Isolation, key: keyof Figures) =>
    median(results[isolation].map((r) => r[kind][key]));
  const ratio = pick("process", "perSecond") / pick("inline", "perSecond");
  console.log(
    `${kind} | ${pick("inline", "p50").toFixed(3)} / ${pick("inline", "p99").toFixed(3)} | ` +
      `${pick("process", "p50").toFixed(3)} / ${pick("process", "p99").toFixed(3)} | ` +
      `${pick("inline", "perSecond").toFixed(0)} → ${pick("process", "perSecond").toFixed(0)} | ` +
      `${ratio.toFixed(2)}x`,
  );
}
