import assert from "node:assert/strict";
import { frameHeaderSize, maskedFrames } from "./_node_websocket.ts";

/** Parses masked client frames back (RFC 6455 §5.2) and unmasks them byte by byte. */
function parse(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < bytes.length) {
    assert.equal(bytes[o++], 0x82, "FIN + binary");
    assert.ok(bytes[o] & 0x80, "masked");
    let n = bytes[o++] & 0x7f;
    if (n === 126) {
      n = (bytes[o] << 8) | bytes[o + 1];
      o += 2;
    } else if (n === 127) {
      let v = 0;
      for (let i = 0; i < 8; i++) v = v * 256 + bytes[o + i];
      n = v;
      o += 8;
    }
    const mask = bytes.slice(o, o + 4);
    o += 4;
    const data = new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = bytes[o + i] ^ mask[i & 3];
    out.push(data);
    o += n;
  }
  return out;
}

Deno.test("maskedFrames writes masked binary frames that unmask to the payloads", () => {
  const sizes = [0, 1, 2, 3, 4, 5, 7, 12, 13, 31, 125, 126, 127, 300, 1036, 65535, 65536, 70001];
  // Frames at every alignment: prefix runs of 0..3 small frames before each size.
  for (let shift = 0; shift < 4; shift++) {
    const frames: Uint8Array[] = [];
    for (let i = 0; i < shift; i++) frames.push(Uint8Array.of(i + 1));
    for (const n of sizes) {
      const data = new Uint8Array(n);
      for (let i = 0; i < n; i++) data[i] = (i * 7 + n + shift) & 0xff;
      frames.push(data);
    }
    const size = frames.reduce((a, f) => a + frameHeaderSize(f.length) + f.length, 0);
    const copies = frames.map((f) => f.slice());
    const bytes = maskedFrames(frames, size);
    assert.equal(bytes.length, size);
    assert.deepEqual(parse(bytes), copies);
    assert.deepEqual(frames, copies, "the payloads are not modified");
  }
});

Deno.test("maskedFrames draws a fresh mask per frame", () => {
  const frames = Array.from({ length: 64 }, () => new Uint8Array(4));
  const bytes = maskedFrames(frames, 64 * (frameHeaderSize(4) + 4));
  const masks = new Set<string>();
  for (let i = 0; i < 64; i++) masks.add(bytes.slice(i * 10 + 2, i * 10 + 6).join());
  assert.ok(masks.size > 60);
});

Deno.test("maskedFrames joins a frame given as pieces", () => {
  const pieces = [
    Uint8Array.of(1, 2, 3),
    new Uint8Array(0),
    new Uint8Array(70000).fill(9),
    Uint8Array.of(4),
  ];
  const whole = new Uint8Array([...pieces.flatMap((p) => [...p])]);
  const frames = [Uint8Array.of(7), pieces, whole];
  const size = frameHeaderSize(1) + 1 + 2 * (frameHeaderSize(whole.length) + whole.length);
  assert.deepEqual(parse(maskedFrames(frames, size)), [Uint8Array.of(7), whole, whole]);
});

Deno.test("maskedFrames writes into a given buffer when it is big enough, else into a new one", () => {
  const frames = [new Uint8Array(3000).fill(1), Uint8Array.of(2, 3)];
  const size = frameHeaderSize(3000) + 3000 + frameHeaderSize(2) + 2;
  const slot = new ArrayBuffer(8192);
  const into = maskedFrames(frames, size, slot);
  assert.equal(into.buffer, slot);
  assert.deepEqual(parse(into), frames);
  const small = new ArrayBuffer(16);
  const fresh = maskedFrames(frames, size, small);
  assert.notEqual(fresh.buffer, small);
  assert.deepEqual(parse(fresh), frames);
});
