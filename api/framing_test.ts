import assert from "node:assert/strict";
import {
  encodePackets,
  MAX_MESSAGE_ID,
  PACKET_DATA_SIZE,
  PacketAssembler,
  type ProtocolMessage,
} from "./framing.ts";
import { ProtocolError, UnsupportedMessageIdError } from "./errors.ts";

function roundTrip(message: ProtocolMessage): ProtocolMessage {
  const assembler = new PacketAssembler({ maxMessageSize: 16 * 1024 * 1024 });
  const frames = encodePackets(message);
  let out: ProtocolMessage | null = null;
  frames.forEach((frame, i) => {
    const result = assembler.push(frame);
    if (i < frames.length - 1) assert.equal(result, null, `frame ${i} must not complete`);
    else out = result;
  });
  assert.ok(out, "the last frame completes the message");
  return out;
}

function bytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

for (const size of [0, 1, 1023, 1024, 1025, 2048, 5 * 1024 * 1024]) {
  Deno.test(`framing round trip of ${size} bytes`, () => {
    const data = bytes(size);
    const frames = encodePackets({ id: 42, type: "room.invoke_tool", data });
    assert.equal(frames.length, 1 + Math.ceil(size / PACKET_DATA_SIZE));
    for (const frame of frames.slice(1)) assert.ok(frame.length <= 12 + PACKET_DATA_SIZE);
    const back = roundTrip({ id: 42, type: "room.invoke_tool", data });
    assert.equal(back.id, 42);
    assert.equal(back.type, "room.invoke_tool");
    assert.deepEqual(back.data, data);
  });
}

Deno.test("framing header packet layout matches the spec's worked example", () => {
  // protocol-core.md §2.6: id 0, one data packet, type room.list_toolkits, data = pack({}).
  const data = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 2, 0x7b, 0x7d]);
  const [head, packet] = encodePackets({ id: 0, type: "room.list_toolkits", data });
  assert.deepEqual(
    head,
    new Uint8Array([
      ...[0, 0, 0, 0, 0, 0, 0, 0],
      ...[0, 0, 0, 0],
      ...[0, 0, 0, 1],
      ...new TextEncoder().encode("room.list_toolkits"),
    ]),
  );
  assert.deepEqual(packet, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, ...data]));
});

Deno.test("framing keeps ids above 2^32 intact", () => {
  const id = 2 ** 40 + 5;
  assert.equal(roundTrip({ id, type: "x", data: bytes(10) }).id, id);
  assert.throws(() => encodePackets({ id: 2 ** 53, type: "x", data: bytes(1) }), ProtocolError);
  assert.throws(() => encodePackets({ id: -1, type: "x", data: bytes(1) }), ProtocolError);
});

Deno.test("framing rejects out-of-order and foreign packets, then recovers", () => {
  const assembler = new PacketAssembler();
  const a = encodePackets({ id: 1, type: "a", data: bytes(3000) });
  const b = encodePackets({ id: 2, type: "b", data: bytes(10) });
  assert.equal(assembler.push(a[0]), null);
  // A data packet of another message in the middle of message 1.
  assert.throws(() => assembler.push(b[1]), /expected packet 1 of message 1/);
  // Skipped packet index.
  assert.equal(assembler.push(a[0]), null);
  assert.equal(assembler.push(a[1]), null);
  assert.throws(() => assembler.push(a[3]), /expected packet 2/);
  // A data packet without a header.
  assert.throws(() => assembler.push(a[2]), /without a header packet/);
  // Too short.
  assert.throws(() => assembler.push(new Uint8Array(5)), /shorter than 12/);
  // It recovers at the next header packet.
  assert.equal(assembler.push(b[0]), null);
  const message = assembler.push(b[1]);
  assert.equal(message?.type, "b");
  assert.equal(message?.data.length, 10);
});

Deno.test("framing drops an incomplete message cut off by a new header packet", () => {
  const assembler = new PacketAssembler();
  const a = encodePackets({ id: 1, type: "a", data: bytes(3000) });
  const b = encodePackets({ id: 2, type: "b", data: new Uint8Array(0) });
  assert.equal(assembler.push(a[0]), null);
  assert.equal(assembler.push(a[1]), null);
  const message = assembler.push(b[0]);
  assert.equal(message?.type, "b");
  assert.equal(assembler.dropped, 1);
});

Deno.test("framing enforces the message size limit", () => {
  const assembler = new PacketAssembler({ maxMessageSize: 2000 });
  const big = encodePackets({ id: 1, type: "big", data: bytes(3000) });
  assert.equal(assembler.push(big[0]), null);
  assert.equal(assembler.push(big[1]), null);
  assert.throws(() => assembler.push(big[2]), /exceeds the limit of 2000 bytes/);
  // A header that announces more packets than the limit can hold is refused at once.
  const huge = encodePackets({ id: 2, type: "huge", data: bytes(3000) }, 1);
  assert.throws(() => assembler.push(huge[0]), /exceeds the limit/);
  // The assembler still works for messages within the limit.
  const ok = encodePackets({ id: 3, type: "ok", data: bytes(100) });
  assert.equal(assembler.push(ok[0]), null);
  assert.equal(assembler.push(ok[1])?.data.length, 100);
});

Deno.test("framing rejects a type that is not UTF-8", () => {
  const frame = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe]);
  assert.throws(() => new PacketAssembler().push(frame), /not valid UTF-8/);
});

Deno.test("framing and packing keep non-ASCII and long text exact", () => {
  const texts = ["plain", "ünïcødé ✓ 😀", "x".repeat(5000), "é".repeat(3000), ""];
  for (const text of texts) {
    const type = `type.${text.slice(0, 40)}`;
    const assembler = new PacketAssembler();
    let message: ProtocolMessage | null = null;
    const data = new TextEncoder().encode(text);
    for (const frame of encodePackets({ id: 3, type, data })) message = assembler.push(frame);
    assert.equal(message?.type, type);
    assert.equal(new TextDecoder().decode(message!.data), text);
  }
});

Deno.test("framing decodes types of the same length apart, and the same type again", () => {
  const assembler = new PacketAssembler();
  for (const type of ["type.aaa", "type.aab", "type.aaa", "ünïcødé", "type.aab", "ünïcødé"]) {
    const frames = encodePackets({ id: 1, type, data: new Uint8Array(1) });
    assert.equal(assembler.push(frames[0]), null);
    // The frame's bytes change after the push: the type was copied, not kept as a view.
    frames[0].fill(0x41, 16);
    assert.equal(assembler.push(frames[1])?.type, type);
  }
});

/** A header packet with the given 8 id bytes (as a bigint) and packet count. */
function headerWithId(id: bigint, count: number, type = "room.invoke_tool"): Uint8Array {
  const frame = encodePackets({ id: 0, type, data: new Uint8Array(0) })[0].slice();
  const view = new DataView(frame.buffer, frame.byteOffset);
  view.setBigUint64(0, id);
  view.setUint32(12, count);
  return frame;
}

function dataWithId(id: bigint, index: number, size: number): Uint8Array {
  const frame = new Uint8Array(12 + size);
  const view = new DataView(frame.buffer);
  view.setBigUint64(0, id);
  view.setUint32(8, index);
  return frame;
}

Deno.test("framing: an id of 2^53 or more throws UnsupportedMessageIdError with the exact id, and its data packets are skipped", () => {
  for (const id of [2n ** 64n - 1n, 2n ** 53n, 2n ** 53n + 1n]) {
    const assembler = new PacketAssembler();
    assert.throws(() => assembler.push(headerWithId(id, 2)), (e: unknown) => {
      assert.ok(e instanceof UnsupportedMessageIdError);
      assert.equal(e.messageId, id);
      assert.equal(e.messageType, "room.invoke_tool");
      assert.match(e.message, new RegExp(`message id ${id} is beyond 2\\^53-1`));
      return true;
    });
    assert.equal(assembler.push(dataWithId(id, 1, 1024)), null);
    assert.equal(assembler.push(dataWithId(id, 2, 10)), null);
    assert.equal(assembler.bufferedBytes, 0, "skipped data is not kept");
    assert.ok(!assembler.busy);
    // A message without data packets throws too, and the next message is read normally.
    assert.throws(() => assembler.push(headerWithId(id, 0)), UnsupportedMessageIdError);
    const ok = encodePackets({ id: MAX_MESSAGE_ID, type: "ok", data: bytes(2000) });
    assert.equal(assembler.push(ok[0]), null);
    assert.equal(assembler.push(ok[1]), null);
    assert.equal(assembler.push(ok[2])?.id, MAX_MESSAGE_ID);
  }
});

Deno.test("framing copies the packets of an incomplete message: frames may change, discard frees it", () => {
  for (const size of [3000, 600 * 1024]) { // an ordinary buffer, then a paged one
    const assembler = new PacketAssembler();
    const data = bytes(size);
    const frames = encodePackets({ id: 5, type: "x", data });
    let message: ProtocolMessage | null = null;
    const started = assembler.messagesStarted;
    for (const frame of frames) {
      message = assembler.push(frame);
      frame.fill(0xee); // a socket reusing its read buffer, or a retained frame being freed
      if (!message && frame !== frames[0]) assert.ok(assembler.bufferedBytes > 0);
    }
    assert.equal(assembler.messagesStarted, started + 1);
    assert.equal(assembler.bufferedBytes, 0);
    assert.deepEqual(message?.data, data);
    // Its buffer holds the message and little else (a big one's pages were cut to its size).
    const held = message!.data.buffer.byteLength;
    assert.ok(size > 256 * 1024 ? held === size : held <= size * 1.125, `${held} for ${size}`);

    // Half a message, then discard: nothing is held and the next message is read normally.
    const again = encodePackets({ id: 6, type: "y", data });
    for (const frame of again.slice(0, again.length >> 1)) {
      assert.equal(assembler.push(frame), null);
    }
    assert.equal(assembler.bufferedBytes, ((again.length >> 1) - 1) * PACKET_DATA_SIZE);
    assembler.discard();
    assert.ok(!assembler.busy);
    assert.equal(assembler.bufferedBytes, 0);
    assert.deepEqual(roundTrip({ id: 7, type: "z", data }).data, data);
  }
});

Deno.test("framing assembles packets of uneven sizes (the first guess of the size is wrong)", () => {
  const assembler = new PacketAssembler({ maxMessageSize: 4 * 1024 * 1024 });
  const parts = [
    bytes(1),
    bytes(100),
    bytes(300 * 1024),
    bytes(1),
    bytes(2 * 1024 * 1024),
    bytes(7),
  ];
  const header = headerWithId(9n, parts.length, "uneven");
  assert.equal(assembler.push(header), null);
  parts.forEach((part, i) => {
    const frame = dataWithId(9n, i + 1, part.length);
    frame.set(part, 12);
    const message = assembler.push(frame);
    if (i < parts.length - 1) return assert.equal(message, null);
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      all.set(p, offset);
      offset += p.length;
    }
    assert.deepEqual(message?.data, all);
  });
});
