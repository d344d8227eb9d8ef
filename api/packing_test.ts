import assert from "node:assert/strict";
import { packMessage, unpackMessage } from "./packing.ts";
import { ProtocolError } from "./errors.ts";

Deno.test("packing round trips a header and a payload", () => {
  const payload = new Uint8Array([0, 1, 2, 255]);
  const packed = packMessage({ a: 1, nested: { b: [true, null] }, s: "ünïcødé" }, payload);
  const { header, payload: back } = unpackMessage(packed);
  assert.deepEqual(header, { a: 1, nested: { b: [true, null] }, s: "ünïcødé" });
  assert.deepEqual(back, payload);
});

Deno.test("packing writes the 8-byte big-endian length then JSON", () => {
  const packed = packMessage({});
  assert.deepEqual(packed, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 2, 0x7b, 0x7d]));
});

Deno.test("packing omits undefined keys", () => {
  const { header } = unpackMessage(packMessage({ a: undefined, b: 2 }));
  assert.deepEqual(header, { b: 2 });
});

Deno.test("unpacking strips the Python SDK's __meshagent__ trace key", () => {
  const { header } = unpackMessage(
    packMessage({ status: "ready", __meshagent__: { v: 1, otel: { traceparent: "00-x" } } }),
  );
  assert.deepEqual(header, { status: "ready" });
});

Deno.test("unpacking rejects malformed input with a ProtocolError", () => {
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(3), /at least 8/],
    [new Uint8Array([0, 0, 0, 0, 0, 0, 0, 50, 0x7b]), /exceeds/],
    [new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), /exceeds/],
    [packRaw("[1,2]"), /JSON object/],
    [packRaw("null"), /JSON object/],
    [packRaw("{nope"), /not valid UTF-8 JSON/],
    [packRawBytes(new Uint8Array([0xc3, 0x28])), /not valid UTF-8 JSON/],
  ];
  for (const [data, pattern] of cases) {
    assert.throws(() => unpackMessage(data), (e: unknown) => {
      assert.ok(e instanceof ProtocolError);
      assert.match((e as Error).message, pattern);
      return true;
    });
  }
});

function packRaw(text: string): Uint8Array {
  return packRawBytes(new TextEncoder().encode(text));
}

function packRawBytes(json: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + json.length);
  new DataView(out.buffer).setUint32(4, json.length);
  out.set(json, 8);
  return out;
}

Deno.test("packing round trips non-ASCII, long and lone-surrogate-free strings exactly", () => {
  for (
    const s of ["ascii", "ünïcødé ✓ 😀", "a".repeat(10_000), "€".repeat(3_000), "\u0000\u007f"]
  ) {
    const packed = packMessage({ s });
    // The header bytes are standard UTF-8 JSON.
    const length = new DataView(packed.buffer).getUint32(4);
    assert.equal(new TextDecoder().decode(packed.subarray(8, 8 + length)), JSON.stringify({ s }));
    assert.equal(unpackMessage(packed).header.s, s);
  }
  // Invalid UTF-8 in a short header is still refused.
  const bad = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 4, 0x22, 0xff, 0x22, 0x20]);
  assert.throws(() => unpackMessage(bad), /not valid UTF-8 JSON/);
});

Deno.test("unpacking keeps a real U+FFFD and refuses invalid bytes next to it", () => {
  const packed = packMessage({ s: "a\uFFFDb" });
  assert.equal(unpackMessage(packed).header.s, "a\uFFFDb");
  // "\xEF\xBF\xBD" is U+FFFD; a lone 0xBF after it is invalid.
  const json = [0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xef, 0xbf, 0xbd, 0xbf, 0x22, 0x7d];
  const bad = new Uint8Array(8 + json.length);
  bad[7] = json.length;
  bad.set(json, 8);
  assert.throws(() => unpackMessage(bad), /not valid UTF-8 JSON/);
});

Deno.test("a payload starts 8-byte aligned after a header padded with JSON whitespace", () => {
  for (const header of [{}, { a: 1 }, { text: "héllo ✓" }, { k: "x".repeat(13) }]) {
    for (const size of [0, 1, 9, 4096]) {
      const payload = new Uint8Array(size).fill(5);
      const packed = packMessage(header, payload);
      const headerLength = new DataView(packed.buffer, packed.byteOffset).getUint32(4);
      if (size > 0) assert.equal((8 + headerLength) % 8, 0, JSON.stringify(header));
      const back = unpackMessage(packed);
      assert.deepEqual(back.header, header);
      assert.deepEqual(back.payload, payload);
    }
  }
  // Without a payload nothing is added.
  assert.equal(packMessage({ a: 1 }).length, 8 + '{"a":1}'.length);
});
