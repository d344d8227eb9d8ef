import assert from "node:assert/strict";
import {
  BinaryContent,
  chunkContent,
  type Content,
  contentFromJson,
  ControlContent,
  EmptyContent,
  ErrorContent,
  FileContent,
  JsonContent,
  LinkContent,
  TextContent,
  unpackContent,
} from "./content.ts";
import { ProtocolError } from "./errors.ts";

const bytes = new Uint8Array([9, 8, 7, 0, 255]);

const cases: [Content, Record<string, unknown>, number][] = [
  [new JsonContent({ tools: {}, n: [1, 2] }), { type: "json", json: { tools: {}, n: [1, 2] } }, 0],
  [new JsonContent(null), { type: "json", json: null }, 0],
  [new TextContent("héllo"), { type: "text", text: "héllo" }, 0],
  [new FileContent(bytes, "a.bin", "application/octet-stream"), {
    type: "file",
    name: "a.bin",
    mime_type: "application/octet-stream",
  }, 5],
  [new BinaryContent(bytes, { kind: "data" }), { type: "binary", headers: { kind: "data" } }, 5],
  [new LinkContent("docs", "https://x.test/a"), {
    type: "link",
    name: "docs",
    url: "https://x.test/a",
  }, 0],
  [new EmptyContent(), { type: "empty" }, 0],
  [new ErrorContent("the participant was not found", 1003), {
    type: "error",
    text: "the participant was not found",
    code: 1003,
  }, 0],
  [new ErrorContent("no code"), { type: "error", text: "no code" }, 0],
  [ControlContent.open(), { type: "control", method: "open" }, 0],
  [ControlContent.close(), { type: "control", method: "close", status_code: 1000 }, 0],
  [ControlContent.close(1007, "bad"), {
    type: "control",
    method: "close",
    status_code: 1007,
    message: "bad",
  }, 0],
];

for (const [content, header, payloadLength] of cases) {
  Deno.test(`content ${content.type} ${JSON.stringify(header)} round trips`, () => {
    assert.deepEqual(content.toJson(), header);
    const back = unpackContent(content.pack());
    assert.equal(back.constructor, content.constructor);
    assert.deepEqual(back.toJson(), header);
    assert.equal(back.payload.length, payloadLength);
    assert.deepEqual(back.payload, content.payload);
  });
}

Deno.test("content decoding is lenient where the clients are", () => {
  const e = contentFromJson({ type: "error", text: "x", code: "1003" });
  assert.ok(e instanceof ErrorContent && e.code === 1003);
  const e2 = contentFromJson({ type: "error", text: "x", code: true });
  assert.ok(e2 instanceof ErrorContent && e2.code === undefined);
  const c = contentFromJson({ type: "control", method: "close" });
  assert.ok(c instanceof ControlContent && c.statusCode === 1000 && !c.abnormal);
  // Codes past 2^53 (or Infinity, as 400 digits are) count as absent, so decoding round-trips.
  const big = contentFromJson({ type: "control", method: "close", status_code: "9".repeat(400) });
  assert.ok(big instanceof ControlContent && big.statusCode === 1000);
  assert.deepEqual(unpackContent(big.pack()).toJson(), big.toJson());
  const e3 = contentFromJson({ type: "error", text: "x", code: 2 ** 53 });
  assert.ok(e3 instanceof ErrorContent && e3.code === undefined);
  const b = contentFromJson({ type: "binary" });
  assert.ok(b instanceof BinaryContent);
  assert.deepEqual(b.headers, {});
});

Deno.test("content decoding rejects unknown types and missing fields", () => {
  assert.throws(() => contentFromJson({ type: "raw", outputs: [] }), ProtocolError);
  assert.throws(() => contentFromJson({ type: "text" }), /missing required field 'text'/);
  assert.throws(() => contentFromJson({ type: "json" }), /missing required field 'json'/);
  assert.throws(() => contentFromJson({ type: "file" }), /missing required field 'name'/);
  assert.throws(() => contentFromJson({ type: "control", method: "bogus" }), ProtocolError);
  assert.throws(() => contentFromJson({}), /unsupported content type/);
});

Deno.test("chunk headers that are not contents become json", () => {
  const tool = chunkContent({ type: "tool.progress", percent: 50 });
  assert.ok(tool instanceof JsonContent);
  assert.deepEqual(tool.json, { type: "tool.progress", percent: 50 });
  assert.ok(chunkContent("plain") instanceof JsonContent);
  const text = chunkContent({ type: "text", text: "x" });
  assert.ok(text instanceof TextContent);
});
