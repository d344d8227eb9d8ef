import assert from "node:assert/strict";
import { createRequire } from "node:module";
import {
  type Content,
  ControlContent,
  ErrorContent,
  JsonContent,
  packMessage,
  TextContent,
  unpackMessage,
} from "@meshagent/api";
import { FunctionTool, Tool, type ToolInput } from "./tool.ts";
import { ToolContext } from "./tool_context.ts";
import { ToolError, ToolValidationError } from "./tool_error.ts";
import { Toolkit } from "./toolkit.ts";

const ctx = () => new ToolContext({ caller: { id: "p-c", attributes: {} } });

const sumSchema = {
  type: "object",
  properties: { a: { type: "number" }, b: { type: "number" } },
  required: ["a", "b"],
  additionalProperties: false,
};

function mathToolkit(options: { validation?: "full" | "content_types" | "none" } = {}) {
  return new Toolkit({
    name: "math",
    public: true,
    ...options,
    tools: [
      new FunctionTool<{ a: number; b: number }>({
        name: "sum",
        inputSchema: sumSchema,
        run: (_ctx, { a, b }) => ({ result: a + b }),
      }),
    ],
  });
}

class Lines extends Tool {
  constructor(readonly body: () => AsyncIterable<unknown>) {
    super({ name: "lines", outputSpec: { types: ["text"], stream: true } });
  }
  execute(_ctx: ToolContext, _input: ToolInput): unknown {
    return this.body();
  }
}

async function collect(output: unknown): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const c of output as AsyncIterable<Content>) out.push(c.toJson());
  return out;
}

Deno.test("Toolkit.execute runs a tool by name", async () => {
  const out = await mathToolkit().execute(ctx(), "sum", { a: 2, b: 3 });
  assert.ok(out instanceof JsonContent);
  assert.deepEqual(out.json, { result: 5 });
});

Deno.test("Toolkit: an unknown tool is 'Tool was not found <name>' with code 1003", async () => {
  const math = mathToolkit();
  assert.throws(
    () => math.getTool("mul"),
    (e) => e instanceof ToolError && e.code === 1003 && e.message === "Tool was not found mul",
  );
  await assert.rejects(
    math.execute(ctx(), "mul", {}),
    (e) => e instanceof ToolError && e.code === 1003 && e.message === "Tool was not found mul",
  );
  assert.deepEqual((await math.respond(ctx(), "mul", {}) as Content).toJson(), {
    type: "error",
    text: "Tool was not found mul",
    code: 1003,
  });
});

Deno.test("Toolkit: validation modes (toolkit default and per call)", async () => {
  const extra = { a: 1, b: 2, c: 3 };
  await assert.rejects(
    mathToolkit().execute(ctx(), "sum", extra),
    (e) => e instanceof ToolValidationError && /input does not match input_schema/.test(e.message),
  );
  const lenient = mathToolkit({ validation: "content_types" });
  assert.equal(lenient.validation, "content_types");
  assert.deepEqual(((await lenient.execute(ctx(), "sum", extra)) as JsonContent).json, {
    result: 3,
  });
  await assert.rejects(
    lenient.execute(ctx(), "sum", extra, { validation: "full" }),
    ToolValidationError,
  );
});

Deno.test("Toolkit.respond: unary answers and errors as contents", async () => {
  const math = mathToolkit();
  assert.deepEqual((await math.respond(ctx(), "sum", { a: 1, b: 1 }) as Content).toJson(), {
    type: "json",
    json: { result: 2 },
  });
  const bad = (await math.respond(ctx(), "sum", { a: "1" })) as ErrorContent;
  assert.ok(bad instanceof ErrorContent);
  assert.equal(bad.code, 1002);
  assert.match(bad.text, /^tool sum input does not match input_schema: /);

  const throwing = new Toolkit({
    name: "t",
    tools: [
      new FunctionTool({
        name: "boom",
        inputSchema: { type: "object" },
        run: () => {
          throw new Error("disk full");
        },
      }),
    ],
  });
  assert.deepEqual((await throwing.respond(ctx(), "boom", {}) as Content).toJson(), {
    type: "error",
    text: "disk full",
    code: 1008,
  });
});

Deno.test("Toolkit.respond: streamed output ends with a normal close", async () => {
  const kit = new Toolkit({
    name: "s",
    tools: [
      new Lines(async function* () {
        yield "a";
        yield new TextContent("b");
      }),
    ],
  });
  assert.deepEqual(await collect(await kit.respond(ctx(), "lines")), [
    { type: "text", text: "a" },
    { type: "text", text: "b" },
    { type: "control", method: "close", status_code: 1000 },
  ]);
});

Deno.test("Toolkit.respond: a validation failure after open closes with 1007, no error chunk", async () => {
  const kit = new Toolkit({
    name: "s",
    tools: [
      new Lines(async function* () {
        yield "a";
        yield { not: "text" };
      }),
    ],
  });
  assert.deepEqual(await collect(await kit.respond(ctx(), "lines")), [
    { type: "text", text: "a" },
    {
      type: "control",
      method: "close",
      status_code: 1007,
      message: "tool lines output chunk has content type 'json' but output_spec accepts text",
    },
  ]);
});

Deno.test("Toolkit.respond: a tool failing midway sends an error chunk then a normal close", async () => {
  const kit = new Toolkit({
    name: "s",
    tools: [
      new Lines(async function* () {
        yield "a";
        throw new ToolError("lost the file", 3001);
      }),
    ],
  });
  assert.deepEqual(await collect(await kit.respond(ctx(), "lines")), [
    { type: "text", text: "a" },
    { type: "error", text: "lost the file", code: 3001 },
    { type: "control", method: "close", status_code: 1000 },
  ]);
});

Deno.test("Toolkit refuses duplicate tool names and empty names", () => {
  const tool = () => new FunctionTool({ name: "x", inputSchema: { type: "object" } });
  assert.throws(
    () => new Toolkit({ name: "k", tools: [tool(), tool()] }),
    (e) => e instanceof ToolError && e.code === 1004 && /two tools named x/.test(e.message),
  );
  assert.throws(() => new Toolkit({ name: "" }), (e) => e instanceof ToolError && e.code === 1002);
});

Deno.test("Toolkit.toJson is the room.register_toolkit header of the spec (§7.1, §7.8)", () => {
  const json = mathToolkit().toJson();
  // §7.8: {"name":"math","title":"math","description":"","tools":{"sum":{…}},"public":true,"annotations":{}}
  assert.equal(
    JSON.stringify(json),
    JSON.stringify({
      name: "math",
      title: "math",
      description: "",
      tools: {
        sum: {
          title: "sum",
          description: "",
          input_spec: { types: ["json"], stream: false, schema: sumSchema },
          output_spec: null,
          defs: null,
          strict: null,
        },
      },
      public: true,
      annotations: {},
    }),
  );
  // It packs as a header and survives the trip unchanged.
  assert.deepEqual(unpackMessage(packMessage(json)).header, json);

  const full = new Toolkit({
    name: "ui",
    title: "UI",
    description: "client tools",
    rules: ["ask first"],
    annotations: { "meshagent.tool_search": "true" },
    thumbnailUrl: "https://example.com/ui.png",
  }).toJson();
  assert.deepEqual(full, {
    name: "ui",
    title: "UI",
    description: "client tools",
    tools: {},
    public: false,
    annotations: { "meshagent.tool_search": "true" },
    thumbnail_url: "https://example.com/ui.png",
  });
});

// deno-lint-ignore no-explicit-any
const mesh: any = createRequire(import.meta.url)("@meshagent/meshagent");

Deno.test("interop: the official client reads our Toolkit.toJson", () => {
  const kit = new Toolkit({
    name: "math",
    title: "Math",
    description: "numbers",
    thumbnailUrl: "https://example.com/m.png",
    tools: [
      new FunctionTool({ name: "sum", title: "Sum", description: "adds", inputSchema: sumSchema }),
      new Lines(() => (async function* () {})()),
    ],
  });
  const wire = JSON.parse(JSON.stringify(kit.toJson()));
  const desc = mesh.ToolkitDescription.fromJson(wire);
  assert.equal(desc.name, "math");
  assert.equal(desc.title, "Math");
  assert.equal(desc.description, "numbers");
  assert.equal(desc.thumbnailUrl, "https://example.com/m.png");
  assert.deepEqual(desc.tools.map((t: { name: string }) => t.name), ["sum", "lines"]);
  const sum = desc.getTool("sum");
  assert.equal(sum.title, "Sum");
  assert.equal(sum.description, "adds");
  assert.deepEqual(sum.inputSpec.toJson(), { types: ["json"], stream: false, schema: sumSchema });
  assert.deepEqual(sum.inputSchema, sumSchema);
  assert.equal(sum.outputSpec, undefined);
  const lines = desc.getTool("lines");
  assert.deepEqual(lines.outputSpec.toJson(), { types: ["text"], stream: true });
  assert.equal(lines.inputSpec, undefined);
});

Deno.test("interop: our tool descriptions match what the official Toolkit registers", () => {
  class OfficialSum extends mesh.Tool {
    constructor() {
      super({ name: "sum", title: "Sum", description: "adds", inputSchema: sumSchema });
    }
    execute() {
      return Promise.resolve(new mesh.EmptyContent());
    }
  }
  const official = JSON.parse(
    JSON.stringify(new mesh.Toolkit({ name: "math", tools: [new OfficialSum()] }).getTools()),
  );
  const ours = new Toolkit({
    name: "math",
    tools: [
      new FunctionTool({ name: "sum", title: "Sum", description: "adds", inputSchema: sumSchema }),
    ],
  }).toJson().tools;
  // Every key the official client sends, we send with the same value (we add defs/strict/output_spec).
  for (const [key, value] of Object.entries(official.sum)) {
    assert.deepEqual((ours.sum as Record<string, unknown>)[key], value, key);
  }
});

Deno.test("interop: the official client decodes respond's chunks and closes", async () => {
  const kit = new Toolkit({
    name: "s",
    tools: [
      new Lines(async function* () {
        yield "a";
        yield 42;
      }),
    ],
  });
  const chunks: Content[] = [];
  for await (const c of (await kit.respond(ctx(), "lines")) as AsyncIterable<Content>) {
    chunks.push(c);
  }
  const decoded = chunks.map((c) => mesh.unpackContent(c.pack()));
  assert.ok(decoded[0] instanceof mesh.TextContent && decoded[0].text === "a");
  assert.ok(decoded[1] instanceof mesh.ControlContent);
  assert.equal(decoded[1].method, "close");
  assert.equal(decoded[1].statusCode, 1007);
  assert.match(decoded[1].message, /output_spec accepts text/);
  assert.ok(chunks[1] instanceof ControlContent);
});
