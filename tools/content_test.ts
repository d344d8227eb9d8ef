import assert from "node:assert/strict";
import {
  BinaryContent,
  ControlContent,
  EmptyContent,
  ensureContent,
  ErrorContent,
  FileChunk,
  FileContent,
  JsonChunk,
  JsonContent,
  LinkContent,
  TextChunk,
  TextContent,
} from "./content.ts";
import { ToolError } from "./tool_error.ts";

Deno.test("ensureContent: contents pass through", () => {
  const contents = [
    new TextContent("a"),
    new JsonContent({ a: 1 }),
    new FileContent(new Uint8Array([1]), "f", "x/y"),
    new LinkContent("n", "https://example.com"),
    new EmptyContent(),
    new ErrorContent("e", 1),
    ControlContent.close(),
  ];
  for (const c of contents) assert.equal(ensureContent(c), c);
});

Deno.test("ensureContent: plain values", () => {
  assert.ok(ensureContent(undefined) instanceof EmptyContent);
  assert.ok(ensureContent(null) instanceof EmptyContent);
  const text = ensureContent("hi");
  assert.ok(text instanceof TextContent && text.text === "hi");
  assert.ok(ensureContent("") instanceof TextContent);
  for (const value of [{ a: [1, "x", null] }, [1, 2], 42, 0, true, false]) {
    const c = ensureContent(value);
    assert.ok(c instanceof JsonContent);
    assert.deepEqual(c.json, value);
  }
  const date = ensureContent({ at: new Date(0) });
  assert.deepEqual((date as JsonContent).json, { at: "1970-01-01T00:00:00.000Z" });
});

Deno.test("ensureContent: bytes become binary, errors become error contents", () => {
  const bytes = ensureContent(new Uint8Array([1, 2, 3]));
  assert.ok(bytes instanceof BinaryContent);
  assert.deepEqual([...bytes.payload], [1, 2, 3]);
  assert.deepEqual(bytes.toJson(), { type: "binary", headers: {} });
  assert.deepEqual([...ensureContent(new Uint16Array([1])).payload], [1, 0]);
  assert.deepEqual([...ensureContent(new Uint8Array([9]).buffer).payload], [9]);
  assert.deepEqual(ensureContent(new ToolError("nope", 1003)).toJson(), {
    type: "error",
    text: "nope",
    code: 1003,
  });
  assert.deepEqual(ensureContent(new Error("bad")).toJson(), { type: "error", text: "bad" });
});

Deno.test("ensureContent: refuses what cannot be sent", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (const value of [() => 1, Symbol("s"), 1n, NaN, Infinity, cyclic, { big: 1n }]) {
    assert.throws(
      () => ensureContent(value),
      (e) => e instanceof ToolError && e.code === 1008,
      String(typeof value),
    );
  }
  assert.throws(() => ensureContent(() => 1), /returned a function, which cannot be sent/);
});

Deno.test("seed aliases are the api content classes", () => {
  assert.equal(TextChunk, TextContent);
  assert.equal(JsonChunk, JsonContent);
  assert.equal(FileChunk, FileContent);
  const chunk: TextChunk = new TextChunk("x");
  assert.equal(chunk.text, "x");
});
