import assert from "node:assert/strict";
import {
  encodePackets,
  PACKET_DATA_SIZE,
  PacketAssembler,
  type ProtocolMessage,
} from "./framing.ts";
import { ProtocolError } from "./errors.ts";

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
