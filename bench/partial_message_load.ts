// Inbound memory under partial messages: a room server in its own process, and sockets that each
// send a header packet declaring `--packets` data packets and then all of them but the last, so
// every message stays incomplete. Reports the server's RSS (VmRSS from /proc) before, at the peak,
// and after the sockets left, and how the sockets were closed. A socket the server has not closed
// leaves by itself `--hold` seconds after it sent its packets.
//
//   deno run -A bench/partial_message_load.ts [--sockets 60] [--packets 16000] [--hold 10]
//     [-- <meshagent server flags>]
import { parseArgs } from "node:util";
import { WebSocket as WS } from "ws";
import {
  ApiScope,
  encodePackets,
  formatApiKey,
  generateApiKey,
  ParticipantToken,
} from "@meshagent/api";
import { spawnServer } from "./_load_support.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    sockets: { type: "string", default: "60" },
    packets: { type: "string", default: "16000" },
    hold: { type: "string", default: "10" },
  },
});
const SOCKETS = Number(values.sockets);
const PACKETS = Number(values.packets);
/** Seconds a socket waits for the server to close it before it leaves by itself. */
const HOLD = Number(values.hold);
const ROOT = new URL("..", import.meta.url).pathname;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function rss(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;

const key = generateApiKey();
const dataDir = await Deno.makeTempDir();
const server = await spawnServer(
  ["run", "-A", "cli/main.ts", "server", "--port", "0", "--data-dir", dataDir, ...positionals],
  {
    cwd: ROOT,
    env: { MESHAGENT_API_KEY: formatApiKey(key) },
    portLine: /listening on http:\/\/127\.0\.0\.1:(\d+)/,
  },
);
const jwt = await new ParticipantToken({
  name: "flood",
  projectId: key.projectId,
  apiKeyId: key.id,
})
  .addRoomGrant("flood").addApiGrant(ApiScope.agentDefault()).toJwt({ secret: key.secret });

await sleep(500);
const before = await rss(server.pid);
let peak = before;
const sampler = setInterval(async () => {
  peak = Math.max(peak, await rss(server.pid).catch(() => 0));
}, 100);

const header = encodePackets({ id: 1, type: "room.invoke_tool", data: new Uint8Array(1) })[0];
new DataView(header.buffer, header.byteOffset).setUint32(12, PACKETS);
const closes = new Map<string, number>();
const t0 = performance.now();
await Promise.all(Array.from({ length: SOCKETS }, async () => {
  const ws = new WS(`ws://127.0.0.1:${server.port}/rooms/flood`, {
    headers: { authorization: `Bearer ${jwt}` },
    perMessageDeflate: false,
  });
  ws.on("error", () => {});
  ws.on("message", () => {});
  const closed = new Promise<void>((resolve) =>
    ws.on("close", (code: number, reason: Uint8Array) => {
      const text = `${code} ${new TextDecoder().decode(reason)}`;
      closes.set(text, (closes.get(text) ?? 0) + 1);
      resolve();
    })
  );
  await new Promise((resolve) => ws.on("open", resolve));
  ws.send(header);
  const packet = new Uint8Array(12 + 1024);
  const view = new DataView(packet.buffer);
  view.setUint32(4, 1);
  for (let i = 1; i < PACKETS && ws.readyState === WS.OPEN; i++) {
    view.setUint32(8, i);
    ws.send(packet.slice());
    // Yield every 64 packets: the other sockets send meanwhile, and a close from the server is
    // seen (a loop that never yields sends its 16 MB into a socket the server is closing).
    if (i % 64 === 0) await sleep(0);
    while (ws.bufferedAmount > 1 << 20 && ws.readyState === WS.OPEN) await sleep(1);
  }
  const timer = setTimeout(() => ws.close(1000, "left by itself"), HOLD * 1000);
  await closed;
  clearTimeout(timer);
}));
const held = performance.now() - t0;
clearInterval(sampler);
// The server hands freed memory back 1 s and 6 s after the last incomplete input was dropped.
const settled = performance.now();
let after = await rss(server.pid);
const series: string[] = [];
while (performance.now() - settled < 12_000) {
  await sleep(1000);
  after = await rss(server.pid);
  series.push(mb(after));
}
console.log(`RSS each second after: ${series.join(", ")}`);
// Where the server's resident memory is now, by mapping ([heap]: the C heap; anon: V8's heap and
// other anonymous mappings; the deno binary's pages).
const smaps = await Deno.readTextFile(`/proc/${server.pid}/smaps`);
const byMapping = new Map<string, number>();
let mapping = "";
for (const line of smaps.split("\n")) {
  const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
  if (m) mapping = m[1] || "anon";
  const r = /^Rss:\s+(\d+) kB/.exec(line);
  if (r) byMapping.set(mapping, (byMapping.get(mapping) ?? 0) + Number(r[1]) * 1024);
}
const largest = [...byMapping].filter(([, n]) => n > 2e6).sort((a, b) => b[1] - a[1]);
console.log(`server RSS by mapping after: ${largest.map(([k, n]) => `${k} ${mb(n)}`).join(", ")}`);
console.log(`sockets ${SOCKETS}, each ${PACKETS - 1} of ${PACKETS} packets of 1024 bytes`);
console.log(`server RSS before ${mb(before)}, peak ${mb(peak)}, after ${mb(after)}`);
console.log(`all closed after ${(held / 1000).toFixed(1)} s:`);
for (const [text, n] of closes) console.log(`  ${n} × ${text}`);
await server.stop();
await Deno.remove(dataDir, { recursive: true });
