// The server's own frame writer, checked by npm ws' frame parser (the one browsers' peers and our
// client use), at every length boundary of RFC 6455's three length encodings.
import assert from "node:assert/strict";
import { Receiver } from "ws";
import { binaryFrames, frameHeaderSize } from "./_server_web_socket.ts";

Deno.test("binaryFrames writes frames that ws parses back byte for byte", async () => {
  const lengths = [0, 1, 125, 126, 127, 65535, 65536, 65548, 200_000];
  const payloads = lengths.map((n) => {
    const data = new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = (i * 31 + n) & 0xff;
    return data;
  });
  const size = payloads.reduce((sum, p) => sum + frameHeaderSize(p.length) + p.length, 0);
  const bytes = binaryFrames(payloads, size);
  assert.equal(bytes.length, size);

  const received: Uint8Array[] = [];
  const receiver = new Receiver({ isServer: false, maxPayload: 0 });
  const done = new Promise<void>((resolve, reject) => {
    receiver.on("message", (data: Uint8Array, isBinary: boolean) => {
      assert.ok(isBinary);
      received.push(new Uint8Array(data));
      if (received.length === payloads.length) resolve();
    });
    receiver.on("error", reject);
  });
  // In uneven pieces, as TCP may deliver them.
  for (let o = 0; o < bytes.length; o += 4093) receiver.write(bytes.subarray(o, o + 4093));
  await done;
  assert.deepEqual(received.map((r) => r.length), lengths);
  for (let i = 0; i < payloads.length; i++) assert.deepEqual(received[i], payloads[i]);
});
