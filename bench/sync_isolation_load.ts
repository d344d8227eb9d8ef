// Yjs off the event loop: what one room's huge update does to the other rooms, and what the
// worker hop costs a small update, with the sync toolkit's `inline` isolation (the Yjs work on the
// server's event loop, as before) next to `worker` (a Worker per room), in the same run.
//
//   deno run -A bench/sync_isolation_load.ts [--keys 200000] [--edits 300] [--runs 3]
//
// (a) stall: in room "hot" a participant sends one sync chunk of `keys` root attributes (4.4 MB
//     for 200,000; Yjs integrates it all, then the schema check refuses it). Meanwhile, in room
//     "calm", bob sends carol messages one after the other (2 ms apart): the worst and the 99th
//     percentile round trip while the hot update is in the server, and the longest the event
//     loop went without running a 1 ms timer (clients and server share this process: the
//     sender's packing is left out, the rest is the server's receiving and relaying).
// (b) small updates: bob sets an attribute, `edits` times one after the other; the time until
//     carol has it (relayed by the server) and until bob's answer (logged durably, an fsync).
// (c) the first open of a document in a fresh room (for `worker`: with no idle worker kept, so
//     it includes starting one; and with one that another room handed back).
// (d) raw Yjs (no server): how long applying such updates takes, and how a crafted one of
//     concurrent inserts grows with the square of its size (what the time limit is for).
import { parseArgs } from "node:util";
import * as Y from "yjs";
import { BinaryContent, MeshSchema, packMessage, toWireUpdate } from "@meshagent/api";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import { TestClient } from "../server/_test_helpers.ts";
import { idleDocumentWorkers, stopIdleDocumentWorkers } from "../server/_document_worker_pool.ts";
import {
  concurrentInsertsUpdate,
  hostileAttributesUpdate,
} from "../server/testdata/hostile_update.ts";

const args = parseArgs({
  options: {
    keys: { type: "string", default: "200000" },
    edits: { type: "string", default: "300" },
    runs: { type: "string", default: "3" },
  },
});
const KEYS = Number(args.values.keys);
const EDITS = Number(args.values.edits);
const RUNS = Number(args.values.runs);

const SCHEMA_JSON = {
  $root_tag_ref: "#/$defs/page",
  $defs: {
    page: {
      type: "object",
      properties: { page: { type: "object", properties: { title: { type: ["string", "null"] } } } },
    },
  },
};
const schema = MeshSchema.fromJson(SCHEMA_JSON);

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/** The longest gap between runs of a 1 ms interval timer (how long the event loop was busy). */
function loopWatch(): { stop(): number } {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      return worst;
    },
  };
}

let roomSeq = 0;

async function calmPair(server: TestServer) {
  const room = `calm-${++roomSeq}`;
  const bob = await server.connect(room, "bob");
  const carol = await server.connect(room, "carol");
  let wake: (() => void) | undefined;
  let received = 0;
  carol.on("message", () => {
    received++;
    wake?.();
  });
  const carolId = carol.localParticipant!.id;
  return {
    bob,
    carol,
    wake: () => wake?.(),
    async roundTrip(): Promise<number> {
      const t0 = performance.now();
      const before = received;
      const arrived = new Promise<void>((resolve) => wake = resolve);
      await bob.messaging.sendMessage({ to: carolId, type: "ping", message: {} });
      while (received === before) await arrived;
      return performance.now() - t0;
    },
    waitChange(): Promise<void> {
      return new Promise<void>((resolve) => wake = resolve);
    },
    async dispose(): Promise<void> {
      await bob.dispose();
      await carol.dispose();
    },
  };
}

async function openRaw(client: TestClient, id: string, path: string): Promise<void> {
  const opened = client.openStream("sync", "open", id);
  opened.catch(() => {});
  client.chunk(
    id,
    new BinaryContent(new Uint8Array(0), { kind: "start", path, schema: SCHEMA_JSON }),
  )
    .catch(() => {});
  await opened;
  await client.responseChunk(id, 30_000);
}

async function stall(server: TestServer, wire: Uint8Array) {
  const room = `hot-${++roomSeq}`;
  const alice = await TestClient.connect(server.roomUrl(room), await server.token(room, "alice"));
  const calm = await calmPair(server);
  try {
    await openRaw(alice, "a1", "big.page");
    for (let i = 0; i < 20; i++) await calm.roundTrip(); // warm
    const t0 = performance.now();
    const answered = alice.protocol.request(
      "room.tool_call_request_chunk",
      packMessage(
        { tool_call_id: "a1", chunk: new BinaryContent(wire, { kind: "sync" }).toJson() },
        wire,
      ),
      { timeout: 600_000 },
    );
    // Watched from here: packing the message into packets above is the sender's work (this
    // process is both), receiving and applying it the server's.
    const watch = loopWatch();
    let done = false;
    answered.then(() => done = true, () => done = true);
    const trips: number[] = [];
    while (!done) {
      // A round trip counts from when it was due: a loop stalled during the pause shows too.
      const due = performance.now() + 2;
      await new Promise((resolve) => setTimeout(resolve, 2));
      const late = Math.max(0, performance.now() - due);
      trips.push(late + await calm.roundTrip());
    }
    const took = performance.now() - t0;
    const loop = watch.stop();
    return { took, worst: Math.max(...trips), p99: quantile(trips, 0.99), n: trips.length, loop };
  } finally {
    await alice.close();
    await calm.dispose();
  }
}

async function smallUpdates(server: TestServer) {
  const calm = await calmPair(server);
  try {
    const path = "small.page";
    const doc = await calm.bob.sync.open(path, { schema });
    const seen = await calm.carol.sync.open(path);
    seen.on("update", () => calm.wake());
    const relayed: number[] = [];
    const acked: number[] = [];
    for (let i = 0; i < EDITS; i++) {
      const t0 = performance.now();
      const changed = calm.waitChange();
      doc.root.setAttribute("title", `t${i}`);
      while (seen.root.getAttribute("title") !== `t${i}`) await changed;
      relayed.push(performance.now() - t0);
      await calm.bob.sync.flush(path);
      acked.push(performance.now() - t0);
    }
    return { relayed: median(relayed), relayedP99: quantile(relayed, 0.99), acked: median(acked) };
  } finally {
    await calm.dispose();
  }
}

async function firstOpen(server: TestServer): Promise<number> {
  const room = `first-${++roomSeq}`;
  const client = await server.connect(room, "reader");
  try {
    const t0 = performance.now();
    await client.sync.open("first.page", { schema });
    return performance.now() - t0;
  } finally {
    await client.dispose();
  }
}

/** The first open in a fresh room: with no idle worker kept (a new one), and with one. */
async function firstOpens(
  server: TestServer,
  isolation: string,
): Promise<{ fresh: number; kept: number }> {
  stopIdleDocumentWorkers();
  const fresh = await firstOpen(server); // its room ends after: its worker is kept
  const deadline = Date.now() + 5000;
  while (isolation === "worker" && idleDocumentWorkers() === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const kept = await firstOpen(server);
  return { fresh, kept };
}

const wire = toWireUpdate(hostileAttributesUpdate(KEYS));
console.log(`hostile update: ${KEYS} attributes, ${wire.length} bytes on the wire`);

type Row = {
  took: number[];
  worst: number[];
  p99: number[];
  loop: number[];
  relayed: number[];
  relayedP99: number[];
  acked: number[];
  first: number[];
  kept: number[];
};
const rows: Record<string, Row> = {};
for (let run = 0; run <= RUNS; run++) {
  for (const isolation of ["inline", "worker"] as const) {
    const server = await startTestServer({ server: { sync: { isolation } } });
    try {
      const s = await stall(server, wire);
      const u = await smallUpdates(server);
      const first = await firstOpens(server, isolation);
      if (run === 0) continue; // warm-up round
      const row = rows[isolation] ??= {
        took: [],
        worst: [],
        p99: [],
        loop: [],
        relayed: [],
        relayedP99: [],
        acked: [],
        first: [],
        kept: [],
      };
      row.took.push(s.took);
      row.worst.push(s.worst);
      row.p99.push(s.p99);
      row.loop.push(s.loop);
      row.relayed.push(u.relayed);
      row.relayedP99.push(u.relayedP99);
      row.acked.push(u.acked);
      row.first.push(first.fresh);
      row.kept.push(first.kept);
      console.log(
        `${isolation} run ${run}: hot update answered in ${s.took.toFixed(0)} ms; calm round ` +
          `trips meanwhile: ${s.n}, worst ${s.worst.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms; ` +
          `loop busy at most ${s.loop.toFixed(0)} ms; small update relayed ${
            u.relayed.toFixed(2)
          } ms (p99 ${u.relayedP99.toFixed(2)}), answered ${u.acked.toFixed(2)} ms; first open ${
            first.fresh.toFixed(0)
          } ms (with a kept worker ${first.kept.toFixed(0)} ms)`,
      );
    } finally {
      await server.close();
    }
  }
}

console.log(`\nmedian of ${RUNS} runs after a warm-up:`);
console.log(
  "| isolation | hot update answered | calm round trip worst | p99 | event loop busy at most | " +
    "small update relayed (p99) | answered (durable) | first open in a room (kept worker) |",
);
for (const [isolation, r] of Object.entries(rows)) {
  console.log(
    `| ${isolation} | ${median(r.took).toFixed(0)} ms | ${median(r.worst).toFixed(1)} ms | ${
      median(r.p99).toFixed(1)
    } ms | ${median(r.loop).toFixed(0)} ms | ${median(r.relayed).toFixed(2)} ms (${
      median(r.relayedP99).toFixed(2)
    }) | ${median(r.acked).toFixed(2)} ms | ${median(r.first).toFixed(0)} ms (${
      median(r.kept).toFixed(0)
    } ms) |`,
  );
}

console.log("\nraw Yjs, no server:");
{
  const doc = new Y.Doc();
  doc.get("xml", Y.XmlElement);
  const update = hostileAttributesUpdate(KEYS);
  const t0 = performance.now();
  Y.applyUpdate(doc, update);
  const ms = (performance.now() - t0).toFixed(0);
  console.log(`${KEYS} root attributes: ${update.length} bytes, applied in ${ms} ms`);
  doc.destroy();
}
for (const n of [2_500, 5_000, 10_000]) {
  const doc = new Y.Doc();
  doc.get("xml", Y.XmlElement);
  Y.applyUpdate(doc, concurrentInsertsUpdate(1, n));
  const update = concurrentInsertsUpdate(n + 1, n);
  const t0 = performance.now();
  Y.applyUpdate(doc, update);
  const ms = (performance.now() - t0).toFixed(0);
  console.log(`${n} concurrent inserts after ${n}: ${update.length} bytes, applied in ${ms} ms`);
  doc.destroy();
}
