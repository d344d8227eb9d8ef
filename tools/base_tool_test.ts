import assert from "node:assert/strict";
import { BaseTool } from "./base_tool.ts";
import { ToolContentSpec } from "./tool_content_spec.ts";
import { ToolError } from "./tool_error.ts";

class Described extends BaseTool {}

Deno.test("BaseTool defaults and the bare ToolDesc shape", () => {
  const tool = new Described({ name: "noop" });
  assert.equal(tool.title, "noop");
  assert.equal(tool.description, "");
  assert.deepEqual(tool.rules, []);
  assert.equal(tool.inputSpec, null);
  assert.equal(tool.inputSchema, undefined);
  assert.deepEqual(tool.toJson(), {
    title: "noop",
    description: "",
    input_spec: null,
    output_spec: null,
    defs: null,
    strict: null,
  });
});

Deno.test("BaseTool.toJson: a function tool's ToolDesc (protocol §7.1)", () => {
  const schema = {
    type: "object",
    properties: { a: { type: "number" }, b: { $ref: "#/$defs/num" } },
    required: ["a", "b"],
    additionalProperties: false,
  };
  const tool = new Described({
    name: "sum",
    title: "Sum",
    description: "adds",
    rules: ["use for arithmetic"],
    inputSchema: schema,
    outputSchema: { type: "object" },
    defs: { num: { type: "number" } },
    strict: true,
    thumbnailUrl: "https://example.com/t.png",
    annotations: { "meshagent.tool_search": "true" },
  });
  assert.deepEqual(tool.inputSchema, schema);
  assert.deepEqual(tool.rules, ["use for arithmetic"]);
  assert.deepEqual(tool.annotations, { "meshagent.tool_search": "true" });
  // The exact wire bytes: JSON key order included.
  assert.equal(
    JSON.stringify(tool.toJson()),
    JSON.stringify({
      title: "Sum",
      description: "adds",
      input_spec: { types: ["json"], stream: false, schema },
      output_spec: { types: ["json"], stream: false, schema: { type: "object" } },
      defs: { num: { type: "number" } },
      strict: true,
      thumbnail_url: "https://example.com/t.png",
    }),
  );
});

Deno.test("BaseTool: inputSpec with inputSchema, and spec objects", () => {
  const tool = new Described({
    name: "upload",
    inputSpec: { types: ["file", "json"], stream: true },
    inputSchema: { type: "object" },
    outputSpec: new ToolContentSpec({ types: ["text"], stream: true }),
  });
  assert.deepEqual(tool.toJson().input_spec, {
    types: ["file", "json"],
    stream: true,
    schema: { type: "object" },
  });
  assert.deepEqual(tool.toJson().output_spec, { types: ["text"], stream: true });
});

Deno.test("BaseTool refuses an empty name and bad specs", () => {
  assert.throws(
    () => new Described({ name: " " }),
    (e) => e instanceof ToolError && e.code === 1002,
  );
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => new Described({ name: "x", inputSpec: { types: ["nope" as any] } }),
    /unsupported tool content type "nope"/,
  );
});
