import assert from "node:assert/strict";
import {
  type Content,
  EmptyContent,
  FileContent,
  JsonContent,
  LinkContent,
  TextContent,
  ToolError,
} from "@meshagent/tools";
import { mcpContentToContent, mcpResultToOutput } from "./mod.ts";

async function collect(output: Content | AsyncIterable<Content>): Promise<Content[]> {
  if (!(Symbol.asyncIterator in output)) return [output];
  const out: Content[] = [];
  for await (const item of output) out.push(item);
  return out;
}

Deno.test("mcpContentToContent: text, image, audio", () => {
  const text = mcpContentToContent({ type: "text", text: "héllo" });
  assert.ok(text instanceof TextContent && text.text === "héllo");

  const image = mcpContentToContent({ type: "image", data: "AAEC/w==", mimeType: "image/jpeg" });
  assert.ok(image instanceof FileContent);
  assert.deepEqual([...image.data], [0, 1, 2, 255]);
  assert.equal(image.name, "image.jpg");
  assert.equal(image.mimeType, "image/jpeg");

  const audio = mcpContentToContent(
    { type: "audio", data: "UklG\nRg==", mimeType: "audio/wav" },
    2,
  );
  assert.ok(audio instanceof FileContent);
  assert.equal(new TextDecoder().decode(audio.data), "RIFF");
  assert.equal(audio.name, "audio_3.wav");

  const odd = mcpContentToContent({ type: "image", data: "", mimeType: "image/x-odd" });
  assert.ok(odd instanceof FileContent && odd.name === "image.bin" && odd.data.length === 0);
});

Deno.test("mcpContentToContent: resource links and embedded resources", () => {
  const link = mcpContentToContent({ type: "resource_link", uri: "file:///a/b.txt", name: "b" });
  assert.ok(link instanceof LinkContent);
  assert.equal(link.name, "b");
  assert.equal(link.url, "file:///a/b.txt");
  const titled = mcpContentToContent({
    type: "resource_link",
    uri: "https://x.test/r",
    name: "r",
    title: "The R",
  });
  assert.ok(titled instanceof LinkContent && titled.name === "The R");

  const textResource = mcpContentToContent({
    type: "resource",
    resource: { uri: "file:///docs/read%20me", text: "hi" },
  });
  assert.ok(textResource instanceof FileContent);
  assert.equal(textResource.name, "read me.txt");
  assert.equal(textResource.mimeType, "text/plain");
  assert.equal(new TextDecoder().decode(textResource.data), "hi");

  const blob = mcpContentToContent({
    type: "resource",
    resource: { uri: "demo://files/data.gz", mimeType: "application/gzip", blob: "H4sI" },
  });
  assert.ok(blob instanceof FileContent);
  assert.equal(blob.name, "data.gz");
  assert.deepEqual([...blob.data], [0x1f, 0x8b, 0x08]);

  const noName = mcpContentToContent({ type: "resource", resource: { uri: "demo://", blob: "" } });
  assert.ok(noName instanceof FileContent);
  assert.equal(noName.name, "resource");
  assert.equal(noName.mimeType, "application/octet-stream");
});

Deno.test("mcpContentToContent: malformed base64 is a ToolError", () => {
  assert.throws(
    () => mcpContentToContent({ type: "image", data: "not base64!", mimeType: "image/png" }),
    (e: unknown) => e instanceof ToolError && e.code === 1008 && /base64/.test(e.message),
  );
});

Deno.test("mcpResultToOutput: shapes of a result", async () => {
  assert.ok(mcpResultToOutput({ content: [], isError: false }, "t") instanceof EmptyContent);

  const one = mcpResultToOutput({ content: [{ type: "text", text: "x" }], isError: false }, "t");
  assert.ok(one instanceof TextContent && one.text === "x");

  const structured = mcpResultToOutput({
    content: [{ type: "text", text: '{"a":1}' }],
    structuredContent: { a: 1 },
    isError: false,
  }, "t");
  assert.ok(structured instanceof JsonContent);
  assert.deepEqual(structured.json, { a: 1 });

  const several = await collect(mcpResultToOutput({
    content: [
      { type: "text", text: "look:" },
      { type: "image", data: "AA==", mimeType: "image/png" },
    ],
    isError: false,
  }, "t"));
  assert.equal(several.length, 2);
  assert.ok(several[0] instanceof TextContent);
  assert.ok(several[1] instanceof FileContent && several[1].name === "image_2.png");
});

Deno.test("mcpResultToOutput: isError becomes a ToolError with the text", () => {
  assert.throws(
    () =>
      mcpResultToOutput({
        content: [
          { type: "text", text: "first" },
          { type: "image", data: "AA==", mimeType: "image/png" },
          { type: "text", text: "second" },
        ],
        isError: true,
      }, "t"),
    (e: unknown) => e instanceof ToolError && e.code === 1008 && e.message === "first\nsecond",
  );
  assert.throws(
    () => mcpResultToOutput({ content: [], isError: true }, "lookup"),
    (e: unknown) => e instanceof ToolError && e.message === "MCP tool lookup failed",
  );
});

Deno.test("mcpResultToOutput: a malformed item fails the call, not the stream", () => {
  assert.throws(
    () =>
      mcpResultToOutput({
        content: [
          { type: "text", text: "ok" },
          { type: "audio", data: "%%%", mimeType: "audio/wav" },
        ],
        isError: false,
      }, "t"),
    (e: unknown) => e instanceof ToolError,
  );
});
