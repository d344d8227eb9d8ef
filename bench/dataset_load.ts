// Datasets through the room next to LanceDB called directly in the same process, in one run:
// - insert: N rows of 8 columns (6 float64, an int64 id, a utf8 label) in chunks of C rows, as one
//   insert stream through the room (client encode → WebSocket → server → LanceDB) vs the store
//   (`openLanceDatasetStore`, the server's own code without the room) fed the same IPC chunks;
// - search: vector search (D dimensions, V rows, k=10, no index) through the room vs the store;
// - the event loop: the worst lateness of a 5 ms timer in the process that runs the store (this
//   one for direct; the client's for the room, whose server is a process of its own).
// Run: deno run -A bench/dataset_load.ts [--rows 1000000] [--chunk 50000] [--vectors 100000]
//   [--dim 768] [--searches 50] [--rounds 5] [--dir /dev/shm]
// Inserts run in rounds (direct, then room, each into a new table) and the medians are compared:
// one insert's time varies by ±30 % from run to run on a 2-core machine.
import { parseArgs } from "node:util";
import { ApiScope, ArrowTable, ParticipantToken, RoomClient } from "@meshagent/api";
import { openLanceDatasetStore } from "@meshagent/server";
import * as arrow from "apache-arrow";
import { percentile } from "./_load_support.ts";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    chunk: { type: "string", default: "50000" },
    vectors: { type: "string", default: "100000" },
    dim: { type: "string", default: "768" },
    searches: { type: "string", default: "50" },
    rounds: { type: "string", default: "5" },
    dir: { type: "string" },
  },
});
const ROWS = Number(values.rows);
const CHUNK = Number(values.chunk);
const VECTORS = Number(values.vectors);
const DIM = Number(values.dim);
const SEARCHES = Number(values.searches);
const ROUNDS = Number(values.rounds);
// Where both sides keep their tables (default: the system's temp folder). `--dir /dev/shm` takes
// the disk's own variance out of the comparison.
const DIR = values.dir;

function rowsChunk(offset: number, n: number): ArrowTable {
  const cols: Record<string, arrow.Vector> = {
    id: arrow.makeVector(BigInt64Array.from({ length: n }, (_, i) => BigInt(offset + i))),
    label: arrow.vectorFromArray(
      Array.from({ length: n }, (_, i) => `row ${offset + i}`),
      new arrow.Utf8(),
    ),
  };
  for (let c = 0; c < 6; c++) {
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = offset + i + c / 10;
    cols[`f${c}`] = arrow.makeVector(a);
  }
  return new ArrowTable(arrow.tableToIPC(new arrow.Table(cols), "stream"));
}

function vectorChunk(offset: number, n: number): ArrowTable {
  const values = new Float32Array(n * DIM);
  for (let i = 0; i < values.length; i++) values[i] = Math.random();
  const type = new arrow.FixedSizeList(DIM, new arrow.Field("item", new arrow.Float32(), true));
  const child = arrow.makeData({ type: new arrow.Float32(), data: values });
  const data = arrow.makeData({ type, length: n, nullCount: 0, child });
  const table = new arrow.Table({
    id: arrow.makeVector(Int32Array.from({ length: n }, (_, i) => offset + i)),
    embedding: arrow.makeVector(data),
  });
  return new ArrowTable(arrow.tableToIPC(table, "stream"));
}

function query(): number[] {
  return Array.from({ length: DIM }, () => Math.random());
}

/** The worst lateness of a 5 ms timer while `fn` runs. */
async function lag<T>(fn: () => Promise<T>): Promise<{ value: T; worstMs: number }> {
  let worst = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 5);
    last = now;
  }, 5);
  try {
    return { value: await fn(), worstMs: worst };
  } finally {
    clearInterval(timer);
  }
}

const chunks: ArrowTable[] = [];
for (let i = 0; i < ROWS; i += CHUNK) chunks.push(rowsChunk(i, Math.min(CHUNK, ROWS - i)));

// The room: our client → WebSocket → a server process (`meshagent server`) → the same store code.
const serverDir = await Deno.makeTempDir({ dir: DIR });
const env = Deno.env.toObject();
for (const name of ["MESHAGENT_API_KEY", "MESHAGENT_SECRET"]) delete env[name];
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    new URL("../cli/main.ts", import.meta.url).pathname,
    "server",
    "--port",
    "0",
    "--data-dir",
    serverDir,
  ],
  env,
  clearEnv: true,
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
let banner = "";
while (!/^export MESHAGENT_API_KEY=\S+$/m.test(banner) || !/listening on \S+/.test(banner)) {
  const { value, done } = await reader.read();
  if (done) throw new Error(`the server exited: ${banner}`);
  banner += value;
}
const drained = (async () => {
  while (!(await reader.read()).done) { /* keep the pipe flowing */ }
})();
const url = /listening on (\S+)/.exec(banner)![1];
const token = new ParticipantToken({ name: "client" });
token.addRoomGrant("bench");
token.addApiGrant(ApiScope.agentDefault());
const room = new RoomClient({
  url: `${url.replace(/^http/, "ws")}/rooms/bench`,
  token: await token.toJwt({ apiKey: /^export MESHAGENT_API_KEY=(\S+)$/m.exec(banner)![1] }),
  reconnectTimeout: 0,
  requestTimeout: 600_000,
});
await room.start();

// Direct: the store in this process.
const directDir = await Deno.makeTempDir({ dir: DIR });
const store = openLanceDatasetStore({ dir: directDir });

// Both warmed up the same way outside the measurements: LanceDB's addon loads, and one full-size
// insert each brings the allocators and the JIT to where the measured rounds find them.
const warm = await store.createTable({ namespace: null, name: "warm" }, {
  mode: "create",
  schema: null,
  metadata: null,
});
for (const chunk of chunks) await warm.write(chunk.ipc);
await warm.commit();
await room.datasets.createTableFromDataStream({ name: "warm", chunks });

// Rounds of direct then room, each into a new table: the medians and their ratio are reported.
const directMs: number[] = [];
const roomMs: number[] = [];
let directLag = 0;
let roomLag = 0;
for (let round = 0; round < ROUNDS; round++) {
  const name = `rows_${round}`;
  const direct = await lag(async () => {
    const started = performance.now();
    const writer = await store.createTable({ namespace: null, name }, {
      mode: "create",
      schema: null,
      metadata: null,
    });
    for (const chunk of chunks) await writer.write(chunk.ipc);
    await writer.commit();
    return performance.now() - started;
  });
  directMs.push(direct.value);
  directLag = Math.max(directLag, direct.worstMs);
  const viaRoom = await lag(async () => {
    const started = performance.now();
    await room.datasets.createTableFromDataStream({ name, chunks });
    return performance.now() - started;
  });
  roomMs.push(viaRoom.value);
  roomLag = Math.max(roomLag, viaRoom.worstMs);
  if (await room.datasets.count({ table: name }) !== ROWS) throw new Error("rows missing");
}

// The vectors are made only now: their ~300 MB are not in the process while the inserts run.
const vectorChunks: ArrowTable[] = [];
for (let i = 0; i < VECTORS; i += 4000) {
  vectorChunks.push(vectorChunk(i, Math.min(4000, VECTORS - i)));
}
const vref = { namespace: null, name: "vectors" };
const vw = await store.createTable(vref, { mode: "create", schema: null, metadata: null });
for (const chunk of vectorChunks) await vw.write(chunk.ipc);
await vw.commit();
const directSearch: number[] = [];
for (let i = 0; i < SEARCHES + 3; i++) {
  const q = query();
  const t = performance.now();
  let n = 0;
  for await (const part of store.search(vref, { vector: q, limit: 10 })) n += part.length;
  if (i >= 3) directSearch.push(performance.now() - t);
  if (n === 0) throw new Error("no results");
}
await store.close();
await Deno.remove(directDir, { recursive: true });

await room.datasets.createTableFromDataStream({ name: "vectors", chunks: vectorChunks });
const roomSearch: number[] = [];
const searchLag = await lag(async () => {
  for (let i = 0; i < SEARCHES + 3; i++) {
    const q = query();
    const t = performance.now();
    const rows = await room.datasets.search({ table: "vectors", vector: q, limit: 10 });
    if (i >= 3) roomSearch.push(performance.now() - t);
    if (rows.length === 0) throw new Error("no results");
  }
});
await room.dispose();
child.kill("SIGTERM");
await child.status;
await drained;
await Deno.remove(serverDir, { recursive: true });

const rate = (ms: number) => Math.round(ROWS / (ms / 1000));
const median = (list: number[]) => percentile([...list].sort((a, b) => a - b), 50);
const directMedian = median(directMs);
const roomMedian = median(roomMs);
directSearch.sort((a, b) => a - b);
roomSearch.sort((a, b) => a - b);
const p = (list: number[], q: number) => percentile(list, q).toFixed(1);
const list = (values: number[]) => values.map((v) => v.toFixed(0)).join(", ");
console.log(`insert ${ROWS} rows x 8 columns in chunks of ${CHUNK}, ${ROUNDS} rounds:`);
console.log(
  `  direct median ${directMedian.toFixed(0)} ms (${rate(directMedian)} rows/s; ${
    list(directMs)
  }), room median ${roomMedian.toFixed(0)} ms (${rate(roomMedian)} rows/s; ${
    list(roomMs)
  }): room/direct throughput ${(directMedian / roomMedian).toFixed(2)}x`,
);
console.log(
  `  worst event-loop lateness: direct ${directLag.toFixed(0)} ms, room ${roomLag.toFixed(0)} ms`,
);
console.log(`vector search ${VECTORS} x ${DIM}-d, k=10, ${SEARCHES} queries (no index):`);
console.log(
  `  direct p50 ${p(directSearch, 50)} ms p99 ${p(directSearch, 99)} ms; room p50 ${
    p(roomSearch, 50)
  } ms p99 ${p(roomSearch, 99)} ms: p99 room/direct ${
    (percentile(roomSearch, 99) / percentile(directSearch, 99)).toFixed(2)
  }x; worst event-loop lateness ${searchLag.worstMs.toFixed(0)} ms`,
);
