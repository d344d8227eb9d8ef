// The client's CPU per message on the messaging path, without sockets: `deno bench
// bench/client_cpu_bench.ts`. A RoomClient runs on a Protocol whose channel keeps the frames it
// is given, and the bench feeds it the frames the room would send. Each group measures one side
// of what bench/messaging_load.ts does per message:
// - send: `messaging.sendMessage` (a `room.invoke_tool` request) up to its resolved promise,
//   including receiving the `__response__`;
// - receive: one `messaging.send` delivery, from its two frames to the `message` event.
import { encodePackets, packMessage, Protocol, RoomClient } from "@meshagent/api";

const FILL = "x".repeat(80);
const TO = "0f0e1d2c-aaaa-bbbb-cccc-1234567890ab";

function frames(id: number, type: string, header: Record<string, unknown>): Uint8Array[] {
  return encodePackets({ id, type, data: packMessage(header) }).map((f) => f.slice());
}

// ------------------------------------------------------------------------------- send side

let sent = 0;
const sender = new Protocol({ send: () => sent++, close: () => {} });
const tx = new RoomClient({ protocol: sender });
// The `__response__` (empty) to request id `id`: header packet and data packet.
const response = frames(0, "__response__", { type: "empty" });

function respond(id: number): void {
  for (const f of response) {
    // Rewrite the id in place (low 32 bits are enough here).
    new DataView(f.buffer, f.byteOffset).setUint32(4, id);
    sender.receive(f);
  }
}

let nextRequest = 0;

Deno.bench("sendMessage + __response__", { group: "send", baseline: true }, async () => {
  const p = tx.messaging.sendMessage({
    to: TO,
    type: "m",
    message: { t: performance.now(), f: FILL },
  });
  respond(nextRequest++);
  await p;
});

Deno.bench("100 sendMessage in flight + __response__s", { group: "send" }, async () => {
  const ps: Promise<void>[] = [];
  const first = nextRequest;
  for (let i = 0; i < 100; i++) {
    ps.push(tx.messaging.sendMessage({ to: TO, type: "m", message: { t: i, f: FILL } }));
    nextRequest++;
  }
  for (let i = 0; i < 100; i++) respond(first + i);
  await Promise.all(ps);
});

// ---------------------------------------------------------------------------- receive side

const receiver = new Protocol({ send: () => {}, close: () => {} });
const rx = new RoomClient({ protocol: receiver });
let received = 0;
rx.on("message", () => received++);
const delivery = frames(7, "messaging.send", {
  from_participant_id: "5e0c4a8e-1111-2222-3333-444455556666",
  type: "m",
  message: { t: 1234.5678, f: FILL },
});

Deno.bench("messaging.send delivery to the message event", { group: "receive" }, () => {
  // The same frames each time: nothing on this path modifies or keeps them.
  receiver.receive(delivery[0]);
  receiver.receive(delivery[1]);
});

globalThis.addEventListener("unload", () => {
  if (received === 0 || sent === 0) throw new Error("the bench did not run");
});
