import assert from "node:assert/strict";
import { EmptyContent, ErrorContent, JsonContent, TextContent, unpackContent } from "./content.ts";
import {
  ConnectionClosedError,
  ProtocolError,
  RequestTimeoutError,
  RoomError,
  UnsupportedMessageIdError,
} from "./errors.ts";
import { encodePackets } from "./framing.ts";
import { packMessage, unpackMessage } from "./packing.ts";
import { Protocol } from "./protocol.ts";

function pair(): [Protocol, Protocol] {
  const peer: { b?: Protocol } = {};
  const a = new Protocol({
    send: (f) => queueMicrotask(() => peer.b!.receive(f)),
    close: () => peer.b!.closed(1000),
  });
  const b = new Protocol({
    send: (f) => queueMicrotask(() => a.receive(f)),
    close: () => a.closed(1000),
  });
  peer.b = b;
  return [a, b];
}

Deno.test("protocol correlates responses by id, in any order", async () => {
  const [client, server] = pair();
  const held: number[] = [];
  server.on("slow", (m) => {
    held.push(m.id);
  });
  server.on("fast", (m) => server.respond(m.id, new TextContent("fast")));
  const slow = client.request("slow", packMessage({}));
  const fast = await client.request("fast", packMessage({}));
  assert.ok(fast instanceof TextContent && fast.text === "fast");
  assert.equal(held.length, 1);
  server.respond(held[0], new JsonContent({ ok: true }));
  const slowResult = await slow;
  assert.deepEqual((slowResult as JsonContent).json, { ok: true });
  assert.equal(client.pendingRequests, 0);
});

Deno.test("protocol ids start at 0 and increase", async () => {
  const [client, server] = pair();
  const ids: number[] = [];
  server.on("x", (m) => {
    ids.push(m.id);
    server.respond(m.id, new EmptyContent());
  });
  await client.request("x", packMessage({}));
  await client.request("x", packMessage({}));
  assert.deepEqual(ids, [0, 1]);
});

Deno.test("protocol turns an error response into a RoomError with its code", async () => {
  const [client, server] = pair();
  server.on("fail", (m) => {
    server.send("__response__", packMessage({ type: "error", text: "nope", code: 1003 }), m.id);
  });
  await assert.rejects(client.request("fail", packMessage({})), (e: unknown) => {
    assert.ok(e instanceof RoomError);
    assert.equal((e as RoomError).code, 1003);
    assert.equal((e as Error).message, "nope");
    return true;
  });
});

Deno.test("protocol request times out and ignores the late answer", async () => {
  const [client, server] = pair();
  let id = -1;
  server.on("x", (m) => {
    id = m.id;
  });
  await assert.rejects(client.request("x", packMessage({}), { timeout: 20 }), RequestTimeoutError);
  server.respond(id, new EmptyContent()); // late; must be ignored without error
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(client.pendingRequests, 0);
});

Deno.test("protocol request can be cancelled with a signal", async () => {
  const [client, server] = pair();
  server.on("x", () => {});
  const controller = new AbortController();
  const p = client.request("x", packMessage({}), { signal: controller.signal });
  controller.abort(new Error("user cancelled"));
  await assert.rejects(p, /user cancelled/);
  assert.equal(client.pendingRequests, 0);
});

Deno.test("protocol fails pending requests when the channel closes", async () => {
  const [client, server] = pair();
  server.on("x", () => {});
  const p = client.request("x", packMessage({}));
  await new Promise((r) => setTimeout(r, 1));
  client.closed(1006, "network lost");
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ConnectionClosedError);
    assert.equal((e as ConnectionClosedError).closeCode, 1006);
    assert.match((e as Error).message, /network lost/);
    return true;
  });
  await assert.rejects(client.request("x", packMessage({})), ConnectionClosedError);
  assert.throws(() => client.send("x", new Uint8Array()), ConnectionClosedError);
});

Deno.test("protocol reports malformed frames and unknown types without throwing", async () => {
  const errors: unknown[] = [];
  const p = new Protocol({ send: () => {}, close: () => {} });
  p.onError((e) => errors.push(e));
  p.receive(new Uint8Array(3));
  for (const f of encodePackets({ id: 1, type: "nobody.handles.this", data: new Uint8Array() })) {
    p.receive(f);
  }
  p.on("boom", () => {
    throw new Error("handler failed");
  });
  p.on("async-boom", () => Promise.reject(new Error("async handler failed")));
  for (const type of ["boom", "async-boom"]) {
    for (const f of encodePackets({ id: 2, type, data: new Uint8Array() })) p.receive(f);
  }
  await new Promise((r) => setTimeout(r, 1));
  assert.equal(errors.length, 4);
  assert.ok(errors[0] instanceof ProtocolError);
  assert.match(String(errors[1]), /no handler for message type nobody.handles.this/);
  assert.match(String(errors[2]), /handler failed/);
  assert.match(String(errors[3]), /async handler failed/);
});

Deno.test("protocol keeps dispatching while a handler awaits", async () => {
  const [client, server] = pair();
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  server.on("wait", async (m) => {
    await gate;
    server.respond(m.id, new TextContent("waited"));
  });
  server.on("now", (m) => server.respond(m.id, new TextContent("now")));
  const waiting = client.request("wait", packMessage({}));
  const now = await client.request("now", packMessage({}));
  assert.equal((now as TextContent).text, "now");
  release();
  assert.equal(((await waiting) as TextContent).text, "waited");
});

Deno.test("protocol carries large messages across many packets", async () => {
  const [client, server] = pair();
  const big = new Uint8Array(300_000).map((_, i) => i % 251);
  server.on("echo", (m) => {
    const { payload } = unpackMessage(m.data);
    server.send("__response__", packMessage({ type: "binary", headers: {} }, payload), m.id);
  });
  const reply = await client.request("echo", packMessage({}, big));
  assert.deepEqual(reply.payload, big);
  assert.ok(unpackContent(reply.pack()).payload.length === big.length);
});

Deno.test("sendPacked, requestPacked and respond send the same frames as packMessage + send", () => {
  const headers = [
    {},
    { s: "x".repeat(1000) }, // 1016 bytes packed: one packet
    { s: "x".repeat(1008) }, // 1024 bytes packed: exactly one packet
    { s: "x".repeat(1009) }, // 1025 bytes packed: two packets
    { s: "é".repeat(504) }, // ASCII length fits, UTF-8 length (1008 + …) does not
    { s: "é".repeat(300), n: 1 },
    { s: "😀".repeat(2000) },
  ];
  const big = new Uint8Array(5000).map((_, i) => i & 0xff);
  // A channel with sendParts gets big messages as pieces: joined, they are the same frames.
  for (const withParts of [false, true]) {
    for (const chunkSize of [1024, 64]) {
      for (const header of headers) {
        for (const payload of [undefined, new Uint8Array([1, 2, 3]), big]) {
          const frames: Uint8Array[] = [];
          const channel = {
            send: (f: Uint8Array) => frames.push(f.slice()),
            close: () => {},
            sendParts: withParts
              ? (pieces: Uint8Array[]) => frames.push(new Uint8Array(pieces.flatMap((x) => [...x])))
              : undefined,
          };
          const p = new Protocol(channel, { chunkSize });
          p.sendPacked("t", header, payload, 5);
          assert.deepEqual(
            frames,
            encodePackets({ id: 5, type: "t", data: packMessage(header, payload) }, chunkSize),
          );
          frames.length = 0;
          p.requestPacked("t", header, payload).catch(() => {}); // takes id 0
          assert.deepEqual(
            frames,
            encodePackets({ id: 0, type: "t", data: packMessage(header, payload) }, chunkSize),
          );
          frames.length = 0;
          const content = new JsonContent(header);
          p.respond(9, content);
          assert.deepEqual(
            frames,
            encodePackets({ id: 9, type: "__response__", data: content.pack() }, chunkSize),
          );
          p.closed(); // fails the request above
        }
      }
    }
  }
});

Deno.test("requestPacked refuses a header JSON cannot encode, before taking an id", async () => {
  const p = new Protocol({ send: () => {}, close: () => {} });
  await assert.rejects(p.requestPacked("t", { n: 1n }), TypeError);
  assert.equal(p.nextId(), 0);
});

Deno.test("protocol answers a request with an id past 2^53-1 with an error carrying the exact id; a response with one is not answered", () => {
  const sent: Uint8Array[] = [];
  const errors: unknown[] = [];
  const protocol = new Protocol({ send: (f) => sent.push(f.slice()), close: () => {} });
  protocol.onError((e) => errors.push(e));
  let handled = 0;
  protocol.on("room.invoke_tool", () => void handled++);
  const header = (id: bigint, type: string, count: number) => {
    const frame = encodePackets({ id: 0, type, data: new Uint8Array(0) })[0].slice();
    const view = new DataView(frame.buffer, frame.byteOffset);
    view.setBigUint64(0, id);
    view.setUint32(12, count);
    return frame;
  };
  for (const id of [2n ** 64n - 1n, 2n ** 53n + 1n]) {
    sent.length = 0;
    protocol.receive(header(id, "room.invoke_tool", 1));
    const data = new Uint8Array(12 + 8);
    new DataView(data.buffer).setBigUint64(0, id);
    new DataView(data.buffer).setUint32(8, 1);
    protocol.receive(data); // its data packet is skipped
    assert.equal(sent.length, 2, "one error response: a header and a data packet");
    for (const frame of sent) assert.equal(new DataView(frame.buffer).getBigUint64(0), id);
    assert.equal(new TextDecoder().decode(sent[0].subarray(16)), "__response__");
    const content = unpackContent(sent[1].subarray(12));
    assert.ok(content instanceof ErrorContent);
    assert.equal(content.code, 1002);
    assert.match(content.text, new RegExp(`message id ${id} is beyond 2\\^53-1`));
  }
  sent.length = 0;
  protocol.receive(header(2n ** 60n, "__response__", 0));
  assert.equal(sent.length, 0);
  assert.equal(handled, 0);
  assert.equal(errors.length, 3);
  assert.ok(errors.every((e) => e instanceof UnsupportedMessageIdError));
});
