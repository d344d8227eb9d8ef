// Client CPU per message on the messaging path: two RoomClients in this process (sender and
// receiver, both on npm `ws`), the room server in its own process, loopback. The sender keeps up
// to 1000 `messaging.sendMessage`s in flight; each message is ~100 bytes, as in
// `messaging_load.ts`. Reports msg/s and the CPU time of this process (user + system) per
// delivered message, and the server process's CPU per message (from /proc, Linux only).
//
//   deno run -A bench/client_cpu_load.ts [--messages 20000] [--runs 5] [--server-dir <checkout>]
//     [--mock]
//
// `--server-dir` runs the server from another checkout (for example a `git archive` of a fixed
// commit), so that client changes are measured against the same server. `--mock` runs
// `_mock_room_server.ts` instead of the room server: a minimal server with a codec of its own
// that costs little CPU, so the client is the bottleneck and its figures move only with client
// changes.
import { parseArgs } from "node:util";
import process from "node:process";
import { formatApiKey, generateApiKey, type RoomClient } from "@meshagent/api";
import { messagingClient, spawnServer } from "./_load_support.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    messages: { type: "string", default: "20000" },
    runs: { type: "string", default: "5" },
    window: { type: "string", default: "1000" },
    "server-dir": { type: "string" },
    mock: { type: "boolean", default: false },
  },
});
const N = Number(values.messages);
const RUNS = Number(values.runs);
const WINDOW = Number(values.window);
const ROOT = new URL("..", import.meta.url).pathname;
const SERVER_DIR = values["server-dir"] ?? ROOT;

const key = generateApiKey();
const dataDir = await Deno.makeTempDir();
const server = await spawnServer(
  values.mock
    ? ["run", "-A", "bench/_mock_room_server.ts"]
    : ["run", "-A", "cli/main.ts", "server", "--port", "0", "--data-dir", dataDir],
  {
    cwd: values.mock ? ROOT : SERVER_DIR,
    env: { MESHAGENT_API_KEY: formatApiKey(key) },
    portLine: /listening on http:\/\/127\.0\.0\.1:(\d+)/,
  },
);
const port = server.port;

/** CPU seconds (user + system) of the server process, from /proc. */
function serverCpu(): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${server.pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks
  } catch {
    return NaN;
  }
}

const connect = (room: string, name: string): Promise<RoomClient> =>
  messagingClient(key, port, room, name);

const FILL = "x".repeat(80);

interface Result {
  rate: number;
  clientUs: number;
  serverUs: number;
}

async function run(room: string): Promise<Result> {
  let got = 0;
  const done = Promise.withResolvers<void>();
  const rx = await connect(room, "rx");
  rx.on("message", () => {
    if (++got === N) done.resolve();
  });
  const tx = await connect(room, "tx");
  await new Promise((r) => setTimeout(r, 100));
  const to = rx.localParticipant!.id;
  let inflight = 0;
  let wake: (() => void) | undefined;
  let failed = 0;
  const settle = () => {
    inflight--;
    if (wake && inflight < WINDOW) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  const fail = () => {
    failed++;
    settle();
  };
  const cpu0 = process.cpuUsage();
  const s0 = serverCpu();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    inflight++;
    tx.messaging.sendMessage({ to, type: "m", message: { t: performance.now(), f: FILL } })
      .then(settle, fail);
    if (inflight >= WINDOW) await new Promise<void>((r) => wake = r);
  }
  await done.promise;
  while (inflight > 0) await new Promise<void>((r) => wake = r);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const server = serverCpu() - s0;
  if (failed > 0) throw new Error(`${failed} sends failed`);
  await tx.dispose();
  await rx.dispose();
  return {
    rate: N / elapsed,
    clientUs: (cpu.user + cpu.system) / N,
    serverUs: (server * 1e6) / N,
  };
}

const results: Result[] = [];
try {
  await run("warmup");
  for (let i = 0; i < RUNS; i++) {
    const r = await run(`r${i}`);
    results.push(r);
    console.log(
      `run ${i + 1}: ${r.rate.toFixed(0)} msg/s, client ${r.clientUs.toFixed(1)} µs/msg, ` +
        `server ${r.serverUs.toFixed(1)} µs/msg`,
    );
  }
} finally {
  await server.stop();
  await Deno.remove(dataDir, { recursive: true });
}
const range = (xs: number[], digits: number) =>
  `${Math.min(...xs).toFixed(digits)} – ${Math.max(...xs).toFixed(digits)}`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `\n${N} messages x ${RUNS} runs: ${range(results.map((r) => r.rate), 0)} msg/s ` +
    `(median ${median(results.map((r) => r.rate)).toFixed(0)}), client CPU ` +
    `${range(results.map((r) => r.clientUs), 1)} µs/msg (median ${
      median(results.map((r) => r.clientUs)).toFixed(1)
    }), server CPU ${range(results.map((r) => r.serverUs), 1)} µs/msg`,
);
