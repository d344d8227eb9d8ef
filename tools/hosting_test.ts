import assert from "node:assert/strict";
import {
  type Content,
  FileContent,
  JsonContent,
  type JsonObject,
  type RoomClient,
  RoomError,
  TextContent,
} from "@meshagent/api";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import { startHostedToolkit } from "./hosted_toolkit.ts";
import { RemoteToolkit } from "./remote_toolkit.ts";
import { FunctionTool, Tool, type ToolInput } from "./tool.ts";
import { ToolContext } from "./tool_context.ts";
import { Toolkit } from "./toolkit.ts";

const ROOM = "hosting";

function client(server: TestServer, name: string): Promise<RoomClient> {
  return server.connect(ROOM, name);
}

/** Seen by the `whoami` tool. */
interface Seen {
  caller?: string;
  onBehalfOf?: string | null;
  room?: unknown;
}

class Upper extends Tool {
  constructor() {
    super({
      name: "upper",
      inputSpec: { types: ["text"], stream: true },
      outputSpec: { types: ["text"], stream: true },
    });
  }
  async *execute(_ctx: ToolContext, input: ToolInput) {
    for await (const c of input as AsyncIterable<Content>) {
      yield new TextContent((c as TextContent).text.toUpperCase());
    }
  }
}

class Count extends Tool {
  constructor() {
    super({ name: "count", inputSpec: { types: ["text", "file"], stream: true } });
  }
  async execute(_ctx: ToolContext, input: ToolInput) {
    let n = 0;
    for await (const _ of input as AsyncIterable<Content>) n++;
    return { chunks: n };
  }
}

function makeToolkit(seen: Seen): Toolkit {
  return new Toolkit({
    name: "kit",
    title: "Kit",
    description: "test tools",
    tools: [
      new FunctionTool<{ a: number; b: number }>({
        name: "sum",
        inputSchema: {
          type: "object",
          properties: { a: { type: "number" }, b: { type: "number" } },
          required: ["a", "b"],
          additionalProperties: false,
        },
        run: (_ctx, { a, b }) => ({ result: a + b }),
      }),
      new FunctionTool<{ name: string }>({
        name: "greet",
        inputSchema: { type: "object", properties: { name: { type: "string" } } },
        outputSpec: { types: ["text"] },
        run: (_ctx, { name }) => `hello ${name}`,
      }),
      new FunctionTool({
        name: "file",
        inputSchema: { type: "object" },
        run: () => new FileContent(new TextEncoder().encode("data!"), "d.txt", "text/plain"),
      }),
      new FunctionTool({
        name: "boom",
        inputSchema: { type: "object" },
        run: () => {
          throw new Error("the tool broke");
        },
      }),
      new FunctionTool({
        name: "whoami",
        inputSchema: { type: "object" },
        run: (ctx) => {
          seen.caller = ctx.caller.id;
          seen.onBehalfOf = ctx.onBehalfOf?.id ?? null;
          seen.room = ctx.room;
          return {};
        },
      }),
      new FunctionTool<{ n: number }>({
        name: "ticks",
        inputSchema: { type: "object", properties: { n: { type: "number" } } },
        outputSpec: { types: ["json"], stream: true },
        run: async function* (_ctx, { n }) {
          for (let i = 0; i < n; i++) yield { i };
        },
      }),
      new Upper(),
      new Count(),
    ],
  });
}

async function* texts(...items: string[]): AsyncIterable<Content> {
  for (const t of items) yield new TextContent(t);
}

Deno.test("a hosted toolkit serves unary, streamed and failing calls through the server", async () => {
  const server = await startTestServer();
  const host = await client(server, "host");
  const caller = await client(server, "caller");
  const seen: Seen = {};
  const hosted = await startHostedToolkit(host, makeToolkit(seen), { public: true });
  try {
    assert.equal(typeof hosted.registrationId, "string");
    const [listed] = await caller.agents.listToolkits();
    assert.equal(listed.name, "kit");
    assert.equal(listed.participantId, host.localParticipant!.id);
    assert.deepEqual(listed.tools.map((t) => t.name).sort(), [
      "boom",
      "count",
      "file",
      "greet",
      "sum",
      "ticks",
      "upper",
      "whoami",
    ]);

    const sum = await caller.agents.invokeTool({
      toolkit: "kit",
      tool: "sum",
      arguments: { a: 2, b: 3 },
    });
    assert.ok(sum instanceof JsonContent);
    assert.deepEqual(sum.json, { result: 5 });
    const text = await caller.agents.invokeTool({
      toolkit: "kit",
      tool: "greet",
      arguments: { name: "ada" },
    });
    assert.ok(text instanceof TextContent && text.text === "hello ada");
    const file = await caller.agents.invokeTool({ toolkit: "kit", tool: "file" });
    assert.ok(file instanceof FileContent);
    assert.equal(new TextDecoder().decode(file.data), "data!");
    assert.equal(file.name, "d.txt");

    // Schema violations are refused by the host's validation with a clear message.
    await assert.rejects(
      caller.agents.invokeTool({ toolkit: "kit", tool: "sum", arguments: { a: "x", b: 1 } }),
      (e: unknown) =>
        e instanceof RoomError && e.code === 1002 && /input_schema/.test(e.message) &&
        /sum/.test(e.message),
    );
    await assert.rejects(
      caller.agents.invokeTool({ toolkit: "kit", tool: "boom" }),
      (e: unknown) => e instanceof RoomError && /the tool broke/.test(e.message),
    );
    await assert.rejects(
      caller.agents.invokeTool({ toolkit: "kit", tool: "nope" }),
      (e: unknown) => e instanceof RoomError && e.code === 1003,
    );

    // The context: caller and on-behalf-of participants, and the host's room client.
    await caller.agents.invokeTool({ toolkit: "kit", tool: "whoami", onBehalfOfId: "p-user" });
    assert.equal(seen.caller, caller.localParticipant!.id);
    assert.equal(seen.onBehalfOf, "p-user");
    assert.equal(seen.room, host);

    // Streamed output.
    const ticks: unknown[] = [];
    const stream = await caller.agents.invokeStream({
      toolkit: "kit",
      tool: "ticks",
      input: { n: 3 },
    });
    for await (const c of stream) ticks.push((c as JsonContent).json);
    assert.deepEqual(ticks, [{ i: 0 }, { i: 1 }, { i: 2 }]);

    // Streamed input, unary output.
    const counted = await caller.invoke({
      toolkit: "kit",
      tool: "count",
      input: texts("a", "b", "c"),
    });
    assert.deepEqual((counted as JsonContent).json, { chunks: 3 });

    // Both ways.
    const upper: string[] = [];
    for await (
      const c of await caller.invokeStream({
        toolkit: "kit",
        tool: "upper",
        input: texts("x", "y"),
      })
    ) {
      upper.push((c as TextContent).text);
    }
    assert.deepEqual(upper, ["X", "Y"]);

    // Everything still works after the failures.
    const again = await caller.agents.invokeTool({
      toolkit: "kit",
      tool: "sum",
      arguments: { a: 1, b: 1 },
    });
    assert.deepEqual((again as JsonContent).json, { result: 2 });

    await hosted.stop();
    assert.deepEqual(await caller.agents.listToolkits(), []);
    await assert.rejects(
      caller.agents.invokeTool({ toolkit: "kit", tool: "sum", arguments: { a: 1, b: 1 } }),
      (e: unknown) => e instanceof RoomError && e.code === 1003,
    );
  } finally {
    await hosted.stop();
    await caller.dispose();
    await host.dispose();
    await server.close();
  }
});

Deno.test("RemoteToolkit wraps a hosted toolkit as local tools", async () => {
  const server = await startTestServer();
  const host = await client(server, "host");
  const caller = await client(server, "caller");
  const hosted = await startHostedToolkit(host, makeToolkit({}), { public: false });
  try {
    // Private: found by the host's participant id only.
    await assert.rejects(RemoteToolkit.fromRoom(caller, "kit"), /toolkit kit was not found/);
    const kit = await RemoteToolkit.fromRoom(caller, "kit", {
      participantId: host.localParticipant!.id,
    });
    assert.equal(kit.participantId, host.localParticipant!.id);
    const ctx = new ToolContext({
      caller: { id: caller.localParticipant!.id, attributes: {} },
      room: caller,
    });
    const out = await kit.execute(ctx, "sum", { a: 4, b: 5 });
    assert.deepEqual((out as JsonContent).json, { result: 9 });
    const items: JsonObject[] = [];
    for await (const c of await kit.execute(ctx, "ticks", { n: 2 }) as AsyncIterable<Content>) {
      items.push((c as JsonContent).json as JsonObject);
    }
    assert.deepEqual(items, [{ i: 0 }, { i: 1 }]);
    const upper: string[] = [];
    for await (
      const c of await kit.execute(ctx, "upper", texts("q")) as AsyncIterable<Content>
    ) {
      upper.push((c as TextContent).text);
    }
    assert.deepEqual(upper, ["Q"]);
    // The host's validation error comes back as a ToolError with its code.
    await assert.rejects(
      kit.execute(ctx, "sum", { a: 1 }),
      (e: unknown) => e instanceof RoomError && e.code === 1002,
    );
  } finally {
    await hosted.stop();
    await caller.dispose();
    await host.dispose();
    await server.close();
  }
});

Deno.test("a hosted toolkit registers again after the server restarts", async () => {
  const server = await startTestServer();
  const host = await client(server, "host");
  const hosted = await startHostedToolkit(host, makeToolkit({}), { public: true });
  let caller: RoomClient | undefined;
  try {
    const first = hosted.registrationId;
    const reconnected = new Promise<void>((resolve) => {
      const off = host.on("reconnected", () => {
        off();
        resolve();
      });
    });
    await server.restart();
    await reconnected;
    caller = await client(server, "caller");
    // Wait (server side) until the host's toolkit is back.
    const kits = await caller.agents.listToolkits({ participantName: "host", timeout: 5 });
    assert.deepEqual(kits.map((k) => k.name), ["kit"]);
    assert.notEqual(hosted.registrationId, first);
    const sum = await caller.agents.invokeTool({
      toolkit: "kit",
      tool: "sum",
      arguments: { a: 1, b: 2 },
    });
    assert.deepEqual((sum as JsonContent).json, { result: 3 });
  } finally {
    await hosted.stop();
    await caller?.dispose();
    await host.dispose();
    await server.close();
  }
});

Deno.test("a caller that leaves mid-input ends the host's input stream with an error", async () => {
  const server = await startTestServer();
  const host = await client(server, "host");
  const caller = await client(server, "caller");
  let sawError!: (e: string) => void;
  const error = new Promise<string>((resolve) => sawError = resolve);
  class Reader extends Tool {
    constructor() {
      super({ name: "read", inputSpec: { types: ["text"], stream: true } });
    }
    async execute(_ctx: ToolContext, input: ToolInput) {
      try {
        for await (const _ of input as AsyncIterable<Content>) { /* read */ }
        sawError("ended normally");
      } catch (e) {
        sawError((e as Error).message);
      }
      return {};
    }
  }
  const hosted = await startHostedToolkit(
    host,
    new Toolkit({ name: "reader", tools: [new Reader()] }),
    { public: true },
  );
  try {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => release = resolve);
    const forever = async function* (): AsyncIterable<Content> {
      yield new TextContent("one");
      await hold;
    };
    const call = caller.invoke({ toolkit: "reader", tool: "read", input: forever() });
    call.catch(() => {});
    // Give the first chunk time to be forwarded, then leave.
    await caller.agents.listToolkits();
    await caller.dispose();
    release();
    assert.match(await error, /closed with status 1001/);
    assert.equal(host.isConnected, true);
  } finally {
    await hosted.stop();
    await caller.dispose();
    await host.dispose();
    await server.close();
  }
});
