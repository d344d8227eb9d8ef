// Tool-call round trips through the room server, next to raw messaging round trips in the same
// run. Run: deno run -A bench/tool_call_load.ts [--calls N] [--concurrency C]
//
// - tool call: our RoomClient → our server → a toolkit hosted by our RoomClient (startHostedToolkit)
//   → back (room.invoke_tool, room.tool_call.<tk>, room.tool_call_response, __response__).
// - messaging: client A sends B a message, B answers A with a message, A receives it
//   (messaging.send request + event each way).
// Both are measured sequentially (one at a time: latency percentiles and round trips/s) and with C
// in flight (throughput). Server and clients share this process.
import { parseArgs } from "node:util";
import { JsonContent, RoomClient, type RoomMessage } from "@meshagent/api";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import { FunctionTool, startHostedToolkit, Toolkit } from "@meshagent/tools";

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "3000" },
    concurrency: { type: "string", default: "32" },
    warmup: { type: "string", default: "300" },
  },
});
const CALLS = Number(values.calls);
const CONCURRENCY = Number(values.concurrency);
const WARMUP = Number(values.warmup);
const ROOM = "bench";

async function client(server: TestServer, name: string): Promise<RoomClient> {
  const room = new RoomClient({
    url: server.roomUrl(ROOM),
    token: await server.token(ROOM, name),
    reconnectTimeout: 0,
  });
  await room.start({ timeout: 10_000 });
  return room;
}

interface Result {
  name: string;
  sequentialPerSecond: number;
  p50: number;
  p99: number;
  concurrentPerSecond: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function measure(name: string, once: () => Promise<void>): Promise<Result> {
  for (let i = 0; i < WARMUP; i++) await once();
  const latencies: number[] = [];
  const started = performance.now();
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    await once();
    latencies.push(performance.now() - t);
  }
  const sequentialMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  let next = 0;
  const concurrentStarted = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < CALLS) await once();
    }),
  );
  const concurrentMs = performance.now() - concurrentStarted;
  return {
    name,
    sequentialPerSecond: CALLS / (sequentialMs / 1000),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    concurrentPerSecond: CALLS / (concurrentMs / 1000),
  };
}

const server = await startTestServer();
const host = await client(server, "host");
const caller = await client(server, "caller");
const a = await client(server, "a");
const b = await client(server, "b");
try {
  const hosted = await startHostedToolkit(
    host,
    new Toolkit({
      name: "bench",
      tools: [
        new FunctionTool<{ n: number }>({
          name: "echo",
          inputSchema: {
            type: "object",
            properties: { n: { type: "number" } },
            required: ["n"],
          },
          run: (_ctx, { n }) => ({ n }),
        }),
      ],
    }),
    { public: true },
  );

  let n = 0;
  const tool = await measure("tool call (caller → server → host → back)", async () => {
    const out = await caller.agents.invokeTool({
      toolkit: "bench",
      tool: "echo",
      arguments: { n: ++n },
    });
    if (!(out instanceof JsonContent)) throw new Error("unexpected result");
  });

  // Messaging: B answers every ping with a pong carrying the same sequence number.
  await a.messaging.enable();
  await b.messaging.enable();
  const aId = a.localParticipant!.id;
  const bId = b.localParticipant!.id;
  b.on("message", (m: RoomMessage) => {
    if (m.type === "ping") {
      b.messaging.sendMessage({ to: aId, type: "pong", message: m.message }).catch(() => {});
    }
  });
  const waiting = new Map<number, () => void>();
  a.on("message", (m: RoomMessage) => {
    if (m.type === "pong") waiting.get(m.message.seq as number)?.();
  });
  let seq = 0;
  const messaging = await measure("messaging (A → B → A)", async () => {
    const s = ++seq;
    const back = new Promise<void>((resolve) => waiting.set(s, resolve));
    await a.messaging.sendMessage({ to: bId, type: "ping", message: { seq: s } });
    await back;
    waiting.delete(s);
  });

  await hosted.stop();

  const f = (x: number) => x.toFixed(0);
  const ms = (x: number) => x.toFixed(2);
  console.log(
    `calls per measurement: ${CALLS} (after ${WARMUP} warm-up), concurrency ${CONCURRENCY}\n`,
  );
  console.log("| round trip | sequential /s | p50 ms | p99 ms | concurrent /s |");
  console.log("|---|---:|---:|---:|---:|");
  for (const r of [tool, messaging]) {
    console.log(
      `| ${r.name} | ${f(r.sequentialPerSecond)} | ${ms(r.p50)} | ${ms(r.p99)} | ${
        f(r.concurrentPerSecond)
      } |`,
    );
  }
  console.log(
    `\nratios tool/messaging: sequential ${
      (tool.sequentialPerSecond / messaging.sequentialPerSecond).toFixed(2)
    }x, p99 ${(tool.p99 / messaging.p99).toFixed(2)}x, concurrent ${
      (tool.concurrentPerSecond / messaging.concurrentPerSecond).toFixed(2)
    }x`,
  );
} finally {
  for (const c of [b, a, caller, host]) await c.dispose();
  await server.close();
}
