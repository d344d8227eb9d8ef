import assert from "node:assert/strict";
import {
  BinaryContent,
  type Content,
  ControlContent,
  EmptyContent,
  ErrorContent,
  JsonContent,
  TextContent,
} from "@meshagent/api";
import { FunctionTool, Tool, type ToolInput, type ValidationMode } from "./tool.ts";
import { ToolContext } from "./tool_context.ts";
import { ToolError, ToolValidationError } from "./tool_error.ts";
import type { ToolContentSpecInit } from "./tool_content_spec.ts";

const ctx = () => new ToolContext({ caller: { id: "p-1", attributes: {} } });

async function collect(output: unknown): Promise<Content[]> {
  const out: Content[] = [];
  for await (const c of output as AsyncIterable<Content>) out.push(c);
  return out;
}

async function* stream(...items: Content[]): AsyncGenerator<Content> {
  for (const item of items) yield item;
}

function sumTool() {
  const calls: unknown[] = [];
  const tool = new FunctionTool<{ a: number; b: number }>({
    name: "sum",
    inputSchema: {
      type: "object",
      properties: { a: { type: "number" }, b: { type: "number" } },
      required: ["a", "b"],
      additionalProperties: false,
    },
    run: (_ctx, args) => {
      calls.push(args);
      return { result: args.a + args.b };
    },
  });
  return { tool, calls };
}

async function rejectsWith(
  promise: Promise<unknown>,
  type: typeof ToolError,
  code: number,
  pattern: RegExp,
) {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof type, `expected ${type.name}, got ${e}`);
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("FunctionTool: valid input runs and plain values become contents", async () => {
  const { tool, calls } = sumTool();
  const out = await tool.invoke(ctx(), { a: 2, b: 3 });
  assert.ok(out instanceof JsonContent);
  assert.deepEqual(out.json, { result: 5 });
  assert.deepEqual(calls, [{ a: 2, b: 3 }]);
  const viaContent = await tool.invoke(ctx(), new JsonContent({ a: 1, b: 1 }));
  assert.deepEqual((viaContent as JsonContent).json, { result: 2 });
});

Deno.test("FunctionTool: schema violations are refused before run, with clear messages", async () => {
  const { tool, calls } = sumTool();
  await rejectsWith(
    tool.invoke(ctx(), { a: "2", b: 3 }),
    ToolValidationError,
    1002,
    /^tool sum input does not match input_schema: \/a must be number$/,
  );
  await rejectsWith(
    tool.invoke(ctx(), { a: 1 }),
    ToolValidationError,
    1002,
    /input does not match input_schema: \/ must have required property 'b'/,
  );
  await rejectsWith(
    tool.invoke(ctx(), { a: 1, b: 2, c: 3 }),
    ToolValidationError,
    1002,
    /\/ must NOT have additional properties \('c'\)/,
  );
  // empty input is checked as {}
  await rejectsWith(tool.invoke(ctx()), ToolValidationError, 1002, /required property 'a'/);
  await rejectsWith(
    tool.invoke(ctx(), new TextContent("2+3")),
    ToolValidationError,
    1002,
    /^tool sum input has content type 'text' but input_spec accepts json$/,
  );
  await rejectsWith(
    tool.invoke(ctx(), stream(new JsonContent({ a: 1, b: 2 }))),
    ToolValidationError,
    1002,
    /^tool sum input is streamed but input_spec requires single-content input$/,
  );
  assert.deepEqual(calls, []);
});

Deno.test("FunctionTool: every problem is listed", async () => {
  const { tool } = sumTool();
  await rejectsWith(
    tool.invoke(ctx(), { a: "x", b: "y" }),
    ToolValidationError,
    1002,
    /\/a must be number; \/b must be number/,
  );
});

Deno.test("FunctionTool: validation modes", async () => {
  const { tool, calls } = sumTool();
  const loose = await tool.invoke(ctx(), { a: 1, b: 2, extra: true }, {
    validation: "content_types",
  });
  assert.deepEqual((loose as JsonContent).json, { result: 3 });
  await rejectsWith(
    tool.invoke(ctx(), new TextContent("x"), { validation: "content_types" }),
    ToolValidationError,
    1002,
    /content type 'text'/,
  );
  // "none" passes the text on, but a function tool cannot turn it into arguments
  await rejectsWith(
    tool.invoke(ctx(), new TextContent("x"), { validation: "none" }),
    ToolValidationError,
    1002,
    /^tool sum requires JSON object input, received content type 'text'$/,
  );
  await rejectsWith(
    tool.invoke(ctx(), new JsonContent([1, 2]), { validation: "none" }),
    ToolValidationError,
    1002,
    /requires a JSON object input, received an array/,
  );
  assert.equal(calls.length, 1);
});

Deno.test("FunctionTool: empty input without required properties runs with {}", async () => {
  const seen: unknown[] = [];
  const tool = new FunctionTool({
    name: "now",
    inputSchema: { type: "object", properties: {} },
    run: (_ctx, args) => void seen.push(args),
  });
  const out = await tool.invoke(ctx(), new EmptyContent());
  assert.ok(out instanceof EmptyContent);
  assert.deepEqual(seen, [{}]);
});

Deno.test("FunctionTool: defs resolve from the schema", async () => {
  const tool = new FunctionTool({
    name: "color",
    inputSchema: {
      type: "object",
      properties: { c: { $ref: "#/$defs/color" } },
      required: ["c"],
    },
    defs: { color: { type: "string", enum: ["red", "green"] } },
    run: (_ctx, { c }) => c as string,
  });
  assert.equal(((await tool.invoke(ctx(), { c: "red" })) as TextContent).text, "red");
  await rejectsWith(
    tool.invoke(ctx(), { c: "blue" }),
    ToolValidationError,
    1002,
    /\/c must be equal to one of the allowed values \(\["red","green"\]\)/,
  );
});

Deno.test("FunctionTool: draft-07 schemas declared with $schema", async () => {
  const tool = new FunctionTool({
    name: "pair",
    inputSchema: {
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      properties: { p: { type: "array", items: [{ type: "string" }, { type: "number" }] } },
    },
    run: () => "ok",
  });
  await tool.invoke(ctx(), { p: ["a", 1] });
  await rejectsWith(
    tool.invoke(ctx(), { p: [1, "a"] }),
    ToolValidationError,
    1002,
    /\/p\/0 must be string/,
  );
});

Deno.test("FunctionTool: an invalid schema fails at construction", () => {
  assert.throws(
    () => new FunctionTool({ name: "bad", inputSchema: { type: "object", properties: 3 } }),
    (e) =>
      e instanceof ToolError && e.code === 1002 &&
      /^tool bad has an invalid input_schema: /.test(e.message),
  );
});

Deno.test("FunctionTool: run can be overridden; missing run is a clear error", async () => {
  class Hello extends FunctionTool<{ name: string }> {
    constructor() {
      super({ name: "hello", inputSchema: { type: "object" } });
    }
    override run(_ctx: ToolContext, { name }: { name: string }) {
      return `hello ${name}`;
    }
  }
  assert.equal(
    ((await new Hello().invoke(ctx(), { name: "ada" })) as TextContent).text,
    "hello ada",
  );
  const empty = new FunctionTool({ name: "nothing", inputSchema: { type: "object" } });
  await rejectsWith(empty.invoke(ctx(), {}), ToolError, 1008, /has nothing to run/);
});

Deno.test("Tool: a throwing tool rejects with ToolError", async () => {
  const boom = new FunctionTool({
    name: "boom",
    inputSchema: { type: "object" },
    run: () => {
      throw new TypeError("kaput");
    },
  });
  await rejectsWith(boom.invoke(ctx(), {}), ToolError, 1008, /^kaput$/);
  const coded = new FunctionTool({
    name: "coded",
    inputSchema: { type: "object" },
    run: async () => {
      await Promise.resolve();
      throw new ToolError("queue q was not found", 5001);
    },
  });
  await rejectsWith(coded.invoke(ctx(), {}), ToolError, 5001, /queue q was not found/);
});

class Echo extends Tool {
  constructor(
    input: ToolContentSpecInit | undefined,
    output: ToolContentSpecInit | undefined,
    readonly body: (input: ToolInput) => unknown,
  ) {
    super({ name: "echo", inputSpec: input, outputSpec: output });
  }
  execute(_ctx: ToolContext, input: ToolInput): unknown {
    return this.body(input);
  }
}

Deno.test("Tool: return values are wrapped", async () => {
  const cases: [unknown, string][] = [
    ["text", "text"],
    [{ a: 1 }, "json"],
    [[1], "json"],
    [3, "json"],
    [undefined, "empty"],
    [new Uint8Array([1]), "binary"],
    [new ErrorContent("bad"), "error"],
  ];
  for (const [value, type] of cases) {
    const out = await new Echo(undefined, undefined, () => value).invoke(ctx(), {});
    assert.equal((out as Content).type, type);
  }
  const bytes = await new Echo(undefined, undefined, () => Promise.resolve(new Uint8Array([7])))
    .invoke(ctx());
  assert.ok(bytes instanceof BinaryContent && bytes.payload[0] === 7);
  await rejectsWith(
    new Echo(undefined, undefined, () => ControlContent.open()).invoke(ctx()),
    ToolError,
    1008,
    /returned a control content/,
  );
  await rejectsWith(
    new Echo(undefined, undefined, () => () => 1).invoke(ctx()),
    ToolError,
    1008,
    /cannot be sent as content/,
  );
});

Deno.test("Tool: output spec checks", async () => {
  const jsonOut = { types: ["json"], schema: { type: "object", required: ["ok"] } } as const;
  const tool = (value: unknown) =>
    new Echo(undefined, { ...jsonOut, types: ["json"] }, () => value);
  assert.ok(await tool({ ok: true }).invoke(ctx()) instanceof JsonContent);
  await rejectsWith(
    tool({ nope: 1 }).invoke(ctx()),
    ToolValidationError,
    1002,
    /^tool echo output does not match output_schema: \/ must have required property 'ok'$/,
  );
  await rejectsWith(
    tool("text").invoke(ctx()),
    ToolValidationError,
    1002,
    /output has content type 'text' but output_spec accepts json/,
  );
  // an error content is always a valid answer; empty is "no value"
  assert.ok(await tool(new ErrorContent("x")).invoke(ctx()) instanceof ErrorContent);
  assert.ok(await tool(undefined).invoke(ctx()) instanceof EmptyContent);
  // schema skipped in content_types mode
  assert.ok(
    await tool({ nope: 1 }).invoke(ctx(), undefined, { validation: "content_types" }) instanceof
      JsonContent,
  );
  await rejectsWith(
    tool(stream(new JsonContent({ ok: 1 }))).invoke(ctx()),
    ToolValidationError,
    1002,
    /^tool echo output is streamed but output_spec requires single-content output$/,
  );
  await rejectsWith(
    new Echo(undefined, { types: ["text"], stream: true }, () => "one").invoke(ctx()),
    ToolValidationError,
    1002,
    /output is a single content but output_spec requires streamed output/,
  );
});

Deno.test("Tool: streamed output is wrapped and checked item by item", async () => {
  const tool = new Echo(undefined, { types: ["text", "json"], stream: true }, async function* () {
    yield "a";
    yield { b: 1 };
    yield ControlContent.open(); // dropped
    yield new ErrorContent("midway"); // allowed
    yield new TextContent("c");
  });
  const out = await collect(await tool.invoke(ctx()));
  assert.deepEqual(out.map((c) => c.toJson()), [
    { type: "text", text: "a" },
    { type: "json", json: { b: 1 } },
    { type: "error", text: "midway" },
    { type: "text", text: "c" },
  ]);

  const bad = new Echo(undefined, { types: ["text"], stream: true }, async function* () {
    yield "fine";
    yield new Uint8Array([1]);
    yield "never";
  });
  const seen: Content[] = [];
  await assert.rejects(
    async () => {
      for await (const c of (await bad.invoke(ctx())) as AsyncIterable<Content>) seen.push(c);
    },
    (e) =>
      e instanceof ToolValidationError &&
      e.message === "tool echo output chunk has content type 'binary' but output_spec accepts text",
  );
  assert.equal(seen.length, 1);
});

Deno.test("Tool: a control close ends the output; an abnormal one fails it", async () => {
  const closes = new Echo(undefined, undefined, async function* () {
    yield "a";
    yield ControlContent.close();
    yield "never";
  });
  assert.equal((await collect(await closes.invoke(ctx()))).length, 1);
  const fails = new Echo(undefined, undefined, async function* () {
    yield ControlContent.close(1011, "host left");
  });
  await assert.rejects(collect(await fails.invoke(ctx())), /host left/);
});

Deno.test("Tool: a consumer that stops early closes the tool's generator", async () => {
  let closed = false;
  const tool = new Echo(undefined, undefined, async function* () {
    try {
      for (let i = 0;; i++) yield i;
    } finally {
      closed = true;
    }
  });
  for await (const c of (await tool.invoke(ctx())) as AsyncIterable<Content>) {
    assert.deepEqual((c as JsonContent).json, 0);
    break;
  }
  await new Promise((r) => setTimeout(r, 0));
  assert.ok(closed);
});

Deno.test("Tool: streamed input is checked, control opens dropped, close ends it", async () => {
  const tool = new Echo(
    { types: ["text"], stream: true, schema: { type: "object" } },
    undefined,
    async (input) => {
      const texts: string[] = [];
      for await (const c of input as AsyncIterable<Content>) texts.push((c as TextContent).text);
      return texts.join(",");
    },
  );
  const out = await tool.invoke(
    ctx(),
    stream(
      ControlContent.open(),
      new TextContent("a"),
      new TextContent("b"),
      ControlContent.close(),
      new TextContent("after"),
    ),
  );
  assert.equal((out as TextContent).text, "a,b");
  await rejectsWith(
    tool.invoke(ctx(), stream(new TextContent("a"), new JsonContent({}))),
    ToolValidationError,
    1002,
    /^tool echo input chunk has content type 'json' but input_spec accepts text$/,
  );
  await rejectsWith(
    tool.invoke(ctx(), stream(new TextContent("a"), ControlContent.close(1007, "bad upload"))),
    ToolError,
    1002,
    /was closed with status 1007: bad upload/,
  );
  await rejectsWith(
    tool.invoke(ctx(), new TextContent("single")),
    ToolValidationError,
    1002,
    /^tool echo input is a single content but input_spec requires streamed input$/,
  );
});

Deno.test("Tool: streamed json input chunks are schema-checked", async () => {
  const tool = new Echo(
    { types: ["json"], stream: true, schema: { type: "object", required: ["n"] } },
    undefined,
    async (input) => (await collect(input)).length,
  );
  assert.deepEqual(
    ((await tool.invoke(ctx(), stream(new JsonContent({ n: 1 })))) as JsonContent).json,
    1,
  );
  await rejectsWith(
    tool.invoke(ctx(), stream(new JsonContent({ n: 1 }), new JsonContent({}))),
    ToolValidationError,
    1002,
    /^tool echo input chunk does not match input_schema: \/ must have required property 'n'$/,
  );
});

Deno.test("Tool: no specs means anything goes", async () => {
  for (const mode of ["full", "content_types", "none"] as ValidationMode[]) {
    const tool = new Echo(undefined, undefined, (input) => input);
    const out = await tool.invoke(ctx(), new TextContent("x"), { validation: mode });
    assert.equal((out as TextContent).text, "x");
  }
});

Deno.test("Tool: cancellation rejects a pending call", async () => {
  const never = new Echo(undefined, undefined, () => new Promise(() => {}));
  const controller = new AbortController();
  const context = new ToolContext({
    caller: { id: "p", attributes: {} },
    signal: controller.signal,
  });
  const pending = never.invoke(context);
  controller.abort(new Error("caller left"));
  await rejectsWith(pending, ToolError, 1008, /^the tool call was cancelled: caller left$/);

  const timedOut = new AbortController();
  timedOut.abort(new DOMException("signal timed out", "TimeoutError"));
  const context2 = new ToolContext({
    caller: { id: "p", attributes: {} },
    signal: timedOut.signal,
  });
  let ran = false;
  const tool = new Echo(undefined, undefined, () => {
    ran = true;
  });
  await rejectsWith(tool.invoke(context2), ToolError, 1009, /timed out/);
  assert.equal(ran, false); // an already cancelled call does not start the tool
});

Deno.test("Tool: cancellation ends a stalled output stream", async () => {
  const controller = new AbortController();
  const context = new ToolContext({
    caller: { id: "p", attributes: {} },
    signal: controller.signal,
  });
  const tool = new Echo(undefined, undefined, async function* () {
    yield "first";
    await new Promise(() => {});
  });
  const it = ((await tool.invoke(context)) as AsyncIterable<Content>)[Symbol.asyncIterator]();
  assert.equal(((await it.next()).value as TextContent).text, "first");
  const second = it.next();
  controller.abort();
  await rejectsWith(second, ToolError, 1008, /cancelled/);
});

Deno.test("Tool: events reach the context's handler", async () => {
  const events: unknown[] = [];
  const tool = new FunctionTool({
    name: "work",
    inputSchema: { type: "object" },
    run: async (context) => {
      await context.emit({ kind: "progress", done: 1 });
      return "done";
    },
  });
  const context = new ToolContext({
    caller: { id: "p", attributes: {} },
    onEvent: (e) => void events.push(e),
  });
  await tool.invoke(context, {});
  assert.deepEqual(events, [{ kind: "progress", done: 1 }]);
});
