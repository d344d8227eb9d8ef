// Messaging load: our room server next to a raw Deno WebSocket relay, in the same run, on
// loopback. Both servers run in their own processes; the clients run here, on npm `ws` sockets
// (the same transport our RoomClient uses on Deno).
//
//   deno run -A bench/messaging_load.ts [--messages 20000] [--fanout 100] [--rate 2000] [--rounds 3]
//     [--front node|deno]   (the room server's HTTP + WebSocket front)
//
// Every phase first runs unmeasured on the same connections (5000 messages, or 1 s of paced
// sending) so both servers and the clients are JIT-warm; the run repeats all phases --rounds times
// and reports the median of each measure, the ratio of every round (the two servers measured back
// to back) and the median of those ratios.
// 1. throughput: one sender, one receiver, 100-byte messages, as fast as they go (our client
//    keeps up to 1000 sends in flight); messages per second until the last one arrived.
// 2. latency: one sender, one receiver, 2000 messages/s for 3 s; delivery latency p50/p99.
// 3. fan-out: one sender, 100 receivers, 500 broadcasts at 200/s; deliveries per second and p99.
import { parseArgs } from "node:util";
import { WebSocket as WS } from "ws";
import { formatApiKey, generateApiKey, type RoomClient } from "@meshagent/api";
import { messagingClient, percentile, spawnServer } from "./_load_support.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    messages: { type: "string", default: "20000" },
    fanout: { type: "string", default: "100" },
    rate: { type: "string", default: "2000" },
    rounds: { type: "string", default: "5" },
    front: { type: "string", default: "node" },
  },
});
const N = Number(values.messages);
const FANOUT = Number(values.fanout);
const RATE = Number(values.rate);
const ROUNDS = Number(values.rounds);
/** Messages sent (throughput) or milliseconds of paced sending (latency, fan-out) before the
 * measured part, on the same connections: JIT warm-up of clients and servers alike. */
const WARMUP = 5000;
const WARMUP_MS = 1000;
const ROOT = new URL("..", import.meta.url).pathname;

const spawn = (args: string[], env: Record<string, string>, portLine: RegExp) =>
  spawnServer(args, { cwd: ROOT, env, portLine });

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------
// Raw relay clients
// ---------------------------------------------------------------------------------------------

// deno-lint-ignore no-explicit-any
type RawSocket = any;

function rawConnect(
  port: number,
  path: string,
  onMessage: (data: ArrayBuffer) => void,
): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WS(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false });
    ws.binaryType = "arraybuffer";
    ws.on("message", (data: ArrayBuffer) => onMessage(data));
    ws.on("open", () => resolve(ws));
    ws.on("error", reject);
  });
}

function rawPayload(): Uint8Array {
  const b = new Uint8Array(100);
  new DataView(b.buffer).setFloat64(0, performance.now());
  return b;
}

function rawStamp(data: ArrayBuffer): number {
  return new DataView(data).getFloat64(0);
}

/**
 * Raw relay throughput. With `frames` = 1 a message is one 100-byte frame. With `frames` = 2 each
 * message is sent as the room protocol sends it — a header packet and a data packet — and the
 * relay echoes both back to the sender the way the room answers every request: the same six
 * frames per message as the room protocol, without any of its processing.
 */
async function rawThroughput(port: number, frames: 1 | 2 = 1): Promise<number> {
  let got = 0;
  let want = 0;
  let done = Promise.withResolvers<void>();
  const path = frames === 1 ? "/t" : "/echo-t";
  const rx = await rawConnect(port, path, () => {
    if (++got === want) done.resolve();
  });
  const tx = await rawConnect(port, path, () => {});
  await sleep(100);
  const head = new Uint8Array(36);
  const run = async (n: number) => {
    got = 0;
    want = n * frames;
    done = Promise.withResolvers<void>();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      if (frames === 2) tx.send(head);
      tx.send(rawPayload());
      if (i % 1000 === 999) await new Promise((r) => setTimeout(r, 0));
    }
    await done.promise;
    return n / ((performance.now() - t0) / 1000);
  };
  await run(WARMUP); // JIT warm-up of both ends, not measured
  const rate = await run(N);
  tx.close();
  rx.close();
  return rate;
}

async function rawLatency(port: number): Promise<number[]> {
  let lat: number[] = [];
  const rx = await rawConnect(port, "/l", (d) => lat.push(performance.now() - rawStamp(d)));
  const tx = await rawConnect(port, "/l", () => {});
  await sleep(100);
  await paced(RATE, WARMUP_MS, () => tx.send(rawPayload()));
  await sleep(50);
  lat = [];
  await paced(RATE, 3000, () => tx.send(rawPayload()));
  await sleep(200);
  tx.close();
  rx.close();
  return lat.sort((a, b) => a - b);
}

async function rawFanout(port: number): Promise<{ rate: number; lat: number[] }> {
  const lat: number[] = [];
  let total = Infinity;
  const done = Promise.withResolvers<void>();
  const receivers: RawSocket[] = [];
  for (let i = 0; i < FANOUT; i++) {
    receivers.push(
      await rawConnect(port, "/f", (d) => {
        lat.push(performance.now() - rawStamp(d));
        if (lat.length === total) done.resolve();
      }),
    );
  }
  const tx = await rawConnect(port, "/f", () => {});
  await sleep(200);
  await paced(200, WARMUP_MS, () => tx.send(rawPayload()));
  await sleep(100);
  lat.length = 0;
  const t0 = performance.now();
  const n = await paced(200, 2500, () => tx.send(rawPayload()));
  total = n * FANOUT;
  if (lat.length >= total) done.resolve();
  await Promise.race([done.promise, sleep(10_000)]);
  const rate = lat.length / ((performance.now() - t0) / 1000);
  tx.close();
  for (const r of receivers) r.close();
  return { rate, lat: lat.sort((a, b) => a - b) };
}

// ---------------------------------------------------------------------------------------------
// Our room server clients
// ---------------------------------------------------------------------------------------------

const key = generateApiKey();

const roomClient = (port: number, room: string, name: string): Promise<RoomClient> =>
  messagingClient(key, port, room, name);

const FILL = "x".repeat(80);

async function oursThroughput(port: number): Promise<number> {
  let got = 0;
  let want = 0;
  let done = Promise.withResolvers<void>();
  const rx = await roomClient(port, "t", "rx");
  rx.on("message", () => {
    if (++got === want) done.resolve();
  });
  const tx = await roomClient(port, "t", "tx");
  await sleep(100);
  const to = rx.localParticipant!.id;
  const run = async (n: number) => {
    got = 0;
    want = n;
    done = Promise.withResolvers<void>();
    const t0 = performance.now();
    // At most WINDOW sends in flight: a counter and one waiter (a Promise.race over the
    // in-flight set would cost O(window) per send and measure the benchmark, not the room).
    const WINDOW = 1000;
    let inflight = 0;
    let wake: (() => void) | undefined;
    // Completions are counted, not kept: holding every send's promise would cost the client GC
    // work the raw relay's clients do not have.
    let failure: unknown;
    const settled = Promise.withResolvers<void>();
    let sending = true;
    const settle = () => {
      inflight--;
      if (wake && inflight < WINDOW) {
        const w = wake;
        wake = undefined;
        w();
      }
      if (!sending && inflight === 0) settled.resolve();
    };
    const fail = (e: unknown) => {
      failure ??= e;
      settle();
    };
    for (let i = 0; i < n; i++) {
      inflight++;
      tx.messaging.sendMessage({ to, type: "m", message: { t: performance.now(), f: FILL } })
        .then(settle, fail);
      if (inflight >= WINDOW) await new Promise<void>((r) => wake = r);
    }
    sending = false;
    if (inflight === 0) settled.resolve();
    await done.promise;
    const rate = n / ((performance.now() - t0) / 1000);
    await settled.promise;
    if (failure !== undefined) throw failure;
    return rate;
  };
  await run(WARMUP); // JIT warm-up of client and server, not measured
  const rate = await run(N);
  await tx.dispose();
  await rx.dispose();
  return rate;
}

async function oursLatency(port: number): Promise<number[]> {
  let lat: number[] = [];
  const rx = await roomClient(port, "l", "rx");
  rx.on("message", (m) => lat.push(performance.now() - (m.message.t as number)));
  const tx = await roomClient(port, "l", "tx");
  await sleep(100);
  const to = rx.localParticipant!.id;
  const sends: Promise<void>[] = [];
  const send = () =>
    sends.push(
      tx.messaging.sendMessage({ to, type: "m", message: { t: performance.now(), f: FILL } }),
    );
  await paced(RATE, WARMUP_MS, send);
  await Promise.all(sends);
  await sleep(50);
  lat = [];
  await paced(RATE, 3000, () => {
    sends.push(
      tx.messaging.sendMessage({ to, type: "m", message: { t: performance.now(), f: FILL } }),
    );
  });
  await Promise.all(sends);
  await sleep(200);
  await tx.dispose();
  await rx.dispose();
  return lat.sort((a, b) => a - b);
}

async function oursFanout(port: number): Promise<{ rate: number; lat: number[] }> {
  const lat: number[] = [];
  let total = Infinity;
  const done = Promise.withResolvers<void>();
  const receivers: RoomClient[] = [];
  for (let i = 0; i < FANOUT; i++) {
    const c = await roomClient(port, "f", `rx${i}`);
    c.on("message", (m) => {
      if (m.type !== "m") return;
      lat.push(performance.now() - (m.message.t as number));
      if (lat.length === total) done.resolve();
    });
    receivers.push(c);
  }
  const tx = await roomClient(port, "f", "tx");
  await sleep(300);
  const sends: Promise<void>[] = [];
  await paced(200, WARMUP_MS, () => {
    sends.push(
      tx.messaging.broadcastMessage({ type: "m", message: { t: performance.now(), f: FILL } }),
    );
  });
  await Promise.all(sends);
  await sleep(100);
  lat.length = 0;
  const t0 = performance.now();
  const n = await paced(200, 2500, () => {
    sends.push(
      tx.messaging.broadcastMessage({ type: "m", message: { t: performance.now(), f: FILL } }),
    );
  });
  total = n * FANOUT;
  if (lat.length >= total) done.resolve();
  await Promise.all(sends);
  await Promise.race([done.promise, sleep(10_000)]);
  if (lat.length < total) console.error(`fan-out: ${lat.length} of ${total} deliveries arrived`);
  const rate = lat.length / ((performance.now() - t0) / 1000);
  await tx.dispose();
  await Promise.all(receivers.map((r) => r.dispose()));
  return { rate, lat: lat.sort((a, b) => a - b) };
}

/**
 * Calls `send` at `rate` per second for `ms` milliseconds (batched per 5 ms tick).
 * Returns how many times it called `send`.
 */
async function paced(rate: number, ms: number, send: () => void): Promise<number> {
  const t0 = performance.now();
  let sent = 0;
  while (performance.now() - t0 < ms) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    while (sent < due) {
      send();
      sent++;
    }
    await sleep(5);
  }
  return sent;
}

// ---------------------------------------------------------------------------------------------

const dataDir = await Deno.makeTempDir();
const raw = await spawn(["run", "-A", "bench/_raw_relay.ts"], {}, /^(\d+)\n/m);
const ours = await spawn(
  [
    "run",
    "-A",
    "cli/main.ts",
    "server",
    "--port",
    "0",
    "--data-dir",
    dataDir,
    "--front",
    values.front!,
  ],
  { MESHAGENT_API_KEY: formatApiKey(key) },
  /listening on http:\/\/127\.0\.0\.1:(\d+)/,
);

const fmt = (n: number) => n.toFixed(n >= 100 ? 0 : 2);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One measure: its per-round values for the raw relay and for the room server. */
interface Measure {
  name: string;
  raw: number[];
  ours: number[];
}
const measures = new Map<string, Measure>();
const record = (name: string, raw: number, ours: number) => {
  let m = measures.get(name);
  if (!m) measures.set(name, m = { name, raw: [], ours: [] });
  m.raw.push(raw);
  m.ours.push(ours);
};

try {
  for (let round = 0; round < ROUNDS; round++) {
    const rt = await rawThroughput(raw.port);
    const ot = await oursThroughput(ours.port);
    record("throughput 1→1 (msg/s)", rt, ot);
    const rt6 = await rawThroughput(raw.port, 2);
    record(
      "throughput 1→1, raw relay carrying the protocol's 6 frames per message (msg/s)",
      rt6,
      ot,
    );

    const rl = await rawLatency(raw.port);
    const ol = await oursLatency(ours.port);
    record(`latency p50 at ${RATE}/s (ms)`, percentile(rl, 50), percentile(ol, 50));
    record(`latency p99 at ${RATE}/s (ms)`, percentile(rl, 99), percentile(ol, 99));

    const rf = await rawFanout(raw.port);
    const of = await oursFanout(ours.port);
    record(`fan-out to ${FANOUT}: deliveries/s`, rf.rate, of.rate);
    record(`fan-out to ${FANOUT}: p99 (ms)`, percentile(rf.lat, 99), percentile(of.lat, 99));
    console.error(`round ${round + 1} of ${ROUNDS} done`);
  }
} finally {
  await raw.stop();
  await ours.stop();
  await Deno.remove(dataDir, { recursive: true });
}

console.log(
  `\nmessaging, ${N} messages of ~100 bytes (after ${WARMUP} / ${WARMUP_MS} ms of warm-up), ` +
    `loopback, Deno ${Deno.version.deno}, room server front ${values.front}, median of ` +
    `${ROUNDS} rounds\n`,
);
console.log("| measure | raw relay | room server | ratio (median of rounds) | ratio per round |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const m of measures.values()) {
  // Each round compares the two servers measured back to back: the median of those paired
  // ratios, not the ratio of two medians taken from different rounds.
  const ratios = m.ours.map((o, i) => o / m.raw[i]);
  const list = ratios.map((r) => r.toFixed(2)).join(", ");
  const ratio = median(ratios).toFixed(2) + "x";
  console.log(
    `| ${m.name} | ${fmt(median(m.raw))} | ${fmt(median(m.ours))} | ${ratio} | ${list} |`,
  );
}
