// The official client's codec (npm @meshagent/meshagent 0.39.9) and ours, byte for byte.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import {
  BinaryContent,
  ControlContent,
  EmptyContent,
  ErrorContent,
  FileContent,
  JsonContent,
  LinkContent,
  TextContent,
  unpackContent,
} from "./content.ts";
import { packMessage, unpackMessage } from "./packing.ts";
import { Protocol } from "./protocol.ts";

// deno-lint-ignore no-explicit-any
const mesh: any = createRequire(import.meta.url)("@meshagent/meshagent");

const data = new Uint8Array([1, 2, 3, 250]);

Deno.test("interop: packMessage/unpackMessage agree with the official client", () => {
  const header = { a: 1, b: "x", nested: { c: [1, 2] } };
  // The same bytes but for the spaces that pad our header to a multiple of 8 (see packJson).
  const ours = packMessage(header, data);
  const theirs = mesh.packMessage(header, data) as Uint8Array;
  const json = theirs.length - 8 - data.length;
  assert.equal(new DataView(ours.buffer, ours.byteOffset).getUint32(4), (json + 7) & ~7);
  assert.deepEqual(ours.subarray(8, 8 + json), theirs.subarray(8, 8 + json));
  assert.equal(
    new TextDecoder().decode(ours.subarray(8 + json, ours.length - data.length)).trim(),
    "",
  );
  assert.equal((ours.length - data.length) % 8, 0);
  assert.deepEqual(packMessage(header), mesh.packMessage(header)); // no payload, no padding
  const [h, p] = mesh.unpackMessage(ours);
  assert.deepEqual(h, header);
  assert.deepEqual(new Uint8Array(p), data);
});

Deno.test("interop: every content type decodes on both sides", () => {
  const ours = [
    new JsonContent({ x: [1, { y: null }] }),
    new TextContent("text ✓"),
    new FileContent(data, "f.bin", "application/octet-stream"),
    new BinaryContent(data, { kind: "data", n: 1 }),
    new LinkContent("l", "https://example.test"),
    new EmptyContent(),
    new ErrorContent("bad", 1002),
    ControlContent.open(),
    ControlContent.close(1007, "invalid"),
  ];
  for (const content of ours) {
    const theirs = mesh.unpackContent(content.pack());
    // Their re-pack must decode back to the same header and payload on our side.
    const back = unpackContent(theirs.pack());
    assert.deepEqual(back.toJson(), content.toJson(), `type ${content.type}`);
    assert.deepEqual(back.payload, content.payload);
  }
  const theirs = [
    new mesh.JsonContent({ json: { a: 1 } }),
    new mesh.TextContent({ text: "t" }),
    new mesh.FileContent({ data, name: "n", mimeType: "text/plain" }),
    new mesh.BinaryContent({ data, headers: { k: 1 } }),
    new mesh.LinkContent({ name: "n", url: "u" }),
    new mesh.EmptyContent(),
    new mesh.ErrorContent({ text: "e", code: 1003 }),
    new mesh.ControlContent({ method: "close", statusCode: 1000 }),
  ];
  const expected = [
    { type: "json", json: { a: 1 } },
    { type: "text", text: "t" },
    { type: "file", name: "n", mime_type: "text/plain" },
    { type: "binary", headers: { k: 1 } },
    { type: "link", name: "n", url: "u" },
    { type: "empty" },
    { type: "error", text: "e", code: 1003 },
    { type: "control", method: "close", status_code: 1000 },
  ];
  theirs.forEach((c, i) => assert.deepEqual(unpackContent(c.pack()).toJson(), expected[i]));
});

Deno.test("interop: our Protocol and the official Protocol talk over one channel", async () => {
  // deno-lint-ignore no-explicit-any
  const peer: { theirs?: any } = {};
  const ours = new Protocol({
    send: (frame) => queueMicrotask(() => peer.theirs.onDataReceived(frame)),
    close: () => {},
  });
  const channel = {
    start() {},
    dispose() {},
    sendData(frame: Uint8Array): Promise<void> {
      ours.receive(new Uint8Array(frame));
      return Promise.resolve();
    },
  };
  const theirs = new mesh.Protocol({ channel });
  peer.theirs = theirs;
  const big = new Uint8Array(5000).map((_, i) => i & 0xff);
  theirs.addHandler(
    "echo",
    // deno-lint-ignore no-explicit-any
    async (protocol: any, id: number, _type: string, bytes: Uint8Array) => {
      const [header, payload] = mesh.unpackMessage(bytes);
      const reply = new mesh.BinaryContent({ data: payload, headers: header });
      await protocol.send("__response__", reply.pack(), id);
    },
  );
  theirs.start();
  const reply = await ours.request("echo", packMessage({ hello: "there" }, big));
  assert.ok(reply instanceof BinaryContent);
  assert.deepEqual(reply.headers, { hello: "there" });
  assert.deepEqual(reply.data, big);

  const got = Promise.withResolvers<[string, Record<string, unknown>, number]>();
  ours.on("ping", (m) => {
    got.resolve([m.type, unpackMessage(m.data).header, unpackMessage(m.data).payload.length]);
  });
  await theirs.send("ping", mesh.packMessage({ n: 7 }, big));
  assert.deepEqual(await got.promise, ["ping", { n: 7 }, 5000]);
  theirs.dispose();
});
