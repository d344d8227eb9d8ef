// Storage throughput: a 100 MiB file through the room (our RoomClient → our RoomServer, upload
// and download over the room WebSocket) next to a plain loopback HTTP PUT/GET of the same bytes
// to a trivial Deno.serve server writing to / reading from disk, in the same run.
//
//   deno run -A bench/storage_load.ts [--mib 100] [--runs 3]
//
// Prints MB/s (best of the runs) and the ratio room / HTTP. Both sides fsync an upload before
// acknowledging it (the room store always does).
import { parseArgs } from "node:util";
import { RoomClient } from "@meshagent/api";
import { startTestServer } from "@meshagent/server/testing";

const { values } = parseArgs({
  args: Deno.args,
  options: { mib: { type: "string", default: "100" }, runs: { type: "string", default: "3" } },
});
const SIZE = Number(values.mib) * 1024 * 1024;
const RUNS = Number(values.runs);

const data = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));

function mbps(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}

async function time(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

// ---------------------------------------------------------------- plain HTTP baseline
const httpDir = await Deno.makeTempDir({ prefix: "meshagent-bench-http-" });
const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
  const file = `${httpDir}/${new URL(req.url).pathname.slice(1)}`;
  if (req.method === "PUT") {
    const f = await Deno.open(file, { write: true, create: true, truncate: true });
    for await (const chunk of req.body!) {
      let written = 0;
      while (written < chunk.length) written += await f.write(chunk.subarray(written));
    }
    await f.sync();
    f.close();
    return new Response(null, { status: 201 });
  }
  const f = await Deno.open(file, { read: true });
  const { size } = await f.stat();
  return new Response(f.readable, { headers: { "content-length": String(size) } });
});
const httpUrl = `http://127.0.0.1:${http.addr.port}/file.bin`;

async function httpPut(): Promise<void> {
  const res = await fetch(httpUrl, { method: "PUT", body: data });
  await res.body?.cancel();
  if (res.status !== 201) throw new Error(`PUT ${res.status}`);
}

async function httpGet(): Promise<void> {
  const res = await fetch(httpUrl);
  const got = new Uint8Array(await res.arrayBuffer());
  if (got.length !== SIZE) throw new Error("GET size");
}

// ---------------------------------------------------------------- the room
const server = await startTestServer();
const room = new RoomClient({
  url: server.roomUrl("bench"),
  token: await server.token("bench", "bench"),
  reconnectTimeout: 0,
});
await room.start({ timeout: 10_000 });

async function roomUpload(): Promise<void> {
  await room.storage.upload("bench/file.bin", data, { overwrite: true });
}

async function roomDownload(): Promise<void> {
  const file = await room.storage.download("bench/file.bin");
  if (file.data.length !== SIZE) throw new Error("download size");
}

const best = { httpPut: Infinity, httpGet: Infinity, roomUp: Infinity, roomDown: Infinity };
try {
  for (let run = 0; run < RUNS; run++) {
    best.httpPut = Math.min(best.httpPut, await time(httpPut));
    best.httpGet = Math.min(best.httpGet, await time(httpGet));
    best.roomUp = Math.min(best.roomUp, await time(roomUpload));
    best.roomDown = Math.min(best.roomDown, await time(roomDownload));
  }
} finally {
  await room.dispose();
  await server.close();
  await http.shutdown();
  await Deno.remove(httpDir, { recursive: true });
}

const rows = [
  ["upload", mbps(SIZE, best.roomUp), mbps(SIZE, best.httpPut)],
  ["download", mbps(SIZE, best.roomDown), mbps(SIZE, best.httpGet)],
] as const;
console.log(`${values.mib} MiB, best of ${RUNS} runs (MB/s)`);
console.log("| direction | room (WebSocket) | HTTP PUT/GET | ratio |");
console.log("|---|---:|---:|---:|");
for (const [name, roomRate, httpRate] of rows) {
  console.log(
    `| ${name} | ${roomRate.toFixed(0)} | ${httpRate.toFixed(0)} | ${
      (roomRate / httpRate).toFixed(2)
    }x |`,
  );
}
