import assert from "node:assert/strict";
import http from "node:http";
import { maskInto, unmaskInPlace } from "./_ws_masking.ts";
import "./_http_front.ts";

function byteLoop(data: Uint8Array, mask: Uint8Array): Uint8Array {
  return data.map((b, i) => b ^ mask[i & 3]);
}

Deno.test("unmaskInPlace matches RFC 6455 masking at every length and alignment", () => {
  const backing = crypto.getRandomValues(new Uint8Array(4096));
  const mask = new Uint8Array([0x12, 0x9a, 0xff, 0x01]);
  for (const offset of [0, 1, 2, 3, 5, 8]) {
    for (const length of [0, 1, 3, 4, 5, 7, 8, 23, 24, 25, 64, 1000, 4081]) {
      if (offset + length > backing.length) continue;
      const data = backing.slice().subarray(offset, offset + length);
      const expected = byteLoop(data, mask);
      unmaskInPlace(data, mask);
      assert.deepEqual(data, expected, `offset ${offset}, length ${length}`);
      // Masking twice gives the payload back.
      unmaskInPlace(data, mask);
      assert.deepEqual(data, backing.subarray(offset, offset + length));
    }
  }
});

Deno.test("maskInto writes the masked payload at the offset and leaves the rest alone", () => {
  const source = crypto.getRandomValues(new Uint8Array(100));
  const mask = new Uint8Array([1, 2, 3, 4]);
  const output = new Uint8Array(110).fill(0xee);
  maskInto(source, mask, output, 7, 90);
  assert.deepEqual(output.subarray(7, 97), byteLoop(source.subarray(0, 90), mask));
  assert.ok(output.subarray(0, 7).every((b) => b === 0xee));
  assert.ok(output.subarray(97).every((b) => b === 0xee));
});

Deno.test("the server's front installs the hook ws reads when it loads", () => {
  const hooks = http as unknown as { websocketUnmask?: unknown; websocketMask?: unknown };
  assert.equal(hooks.websocketUnmask, unmaskInPlace);
  assert.equal(hooks.websocketMask, maskInto);
});

Deno.test("ws, loaded after the hook, unmasks client frames through it correctly", async () => {
  // A fresh process: ws reads the hook once, when it loads, after server/_http_front.ts set it.
  const script = `
    import "${new URL("./_http_front.ts", import.meta.url).href}";
    import { Receiver } from "ws";
    const payload = new Uint8Array(70001).map((_, i) => (i * 7) & 0xff);
    const mask = new Uint8Array([9, 8, 7, 6]);
    const frame = new Uint8Array(14 + payload.length);
    frame.set([0x82, 0x80 | 127, 0, 0, 0, 0, 0, 1, 0x11, 0x71], 0);
    frame.set(mask, 10);
    frame.set(payload.map((b, i) => b ^ mask[i & 3]), 14);
    const receiver = new Receiver({ isServer: true, maxPayload: 1 << 20 });
    const got = await new Promise((resolve) => {
      receiver.on("message", (data) => resolve(new Uint8Array(data)));
      receiver.write(Buffer.from(frame));
    });
    console.log(got.length === payload.length && got.every((b, i) => b === payload[i]));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(
    new TextDecoder().decode(out.stdout).trim(),
    "true",
    new TextDecoder().decode(out.stderr),
  );
});
