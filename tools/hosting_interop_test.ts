// Toolkit hosting between the official client @meshagent/meshagent 0.39.9 (CommonJS, untyped)
// and ours, through our server, with JSON, text and file results.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import {
  FileContent,
  JsonContent,
  type JsonObject,
  RoomClient,
  RoomError,
  TextContent,
} from "@meshagent/api";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import { startHostedToolkit } from "./hosted_toolkit.ts";
import { RemoteToolkit } from "./remote_toolkit.ts";
import { FunctionTool } from "./tool.ts";
import { ToolContext } from "./tool_context.ts";
import { Toolkit } from "./toolkit.ts";

const require = createRequire(import.meta.url);
// deno-lint-ignore no-explicit-any
const mesh: any = require("@meshagent/meshagent");
// deno-lint-ignore no-explicit-any
type Official = any;

const ROOM = "tools-interop";

async function official(server: TestServer, name: string): Promise<Official> {
  const room = new mesh.RoomClient({
    protocolFactory: mesh.WebSocketClientProtocol.createFactory({
      url: server.roomUrl(ROOM),
      token: await server.token(ROOM, name),
    }),
    reconnectTimeout: 0,
  });
  room.ready.catch(() => {}); // see /tmp/official_client_notes.md §8
  await room.start();
  return room;
}

async function disposeOfficial(room: Official): Promise<void> {
  room.dispose();
  await room.waitForClose();
}

async function ours(server: TestServer, name: string): Promise<RoomClient> {
  const room = new RoomClient({
    url: server.roomUrl(ROOM),
    token: await server.token(ROOM, name),
    reconnectTimeout: 0,
  });
  await room.start({ timeout: 5000 });
  return room;
}

function officialToolkit(): Official {
  class Add extends mesh.Tool {
    constructor() {
      super({
        name: "add",
        title: "Add",
        description: "adds two numbers",
        inputSchema: {
          type: "object",
          properties: { a: { type: "number" }, b: { type: "number" } },
          required: ["a", "b"],
        },
        thumbnailUrl: "https://example.com/add.png",
      });
    }
    execute(args: { a: number; b: number }) {
      return Promise.resolve(new mesh.JsonContent({ json: { sum: args.a + args.b } }));
    }
  }
  class Hello extends mesh.Tool {
    constructor() {
      super({
        name: "hello",
        title: "Hello",
        description: "greets",
        inputSchema: { type: "object" },
      });
    }
    execute(args: { name?: string }) {
      return Promise.resolve(new mesh.TextContent({ text: `hi ${args.name ?? "?"}` }));
    }
  }
  class Blob extends mesh.Tool {
    constructor() {
      super({
        name: "blob",
        title: "Blob",
        description: "a file",
        inputSchema: { type: "object" },
      });
    }
    execute() {
      return Promise.resolve(
        new mesh.FileContent({
          data: new Uint8Array([7, 8, 9]),
          name: "b.bin",
          mimeType: "application/octet-stream",
        }),
      );
    }
  }
  class Fail extends mesh.Tool {
    constructor() {
      super({
        name: "fail",
        title: "Fail",
        description: "throws",
        inputSchema: { type: "object" },
      });
    }
    execute() {
      return Promise.reject(new Error("official tool failed"));
    }
  }
  return new mesh.Toolkit({
    name: "offkit",
    title: "Official kit",
    description: "hosted by the official client",
    thumbnailUrl: "https://example.com/kit.png",
    tools: [new Add(), new Hello(), new Blob(), new Fail()],
  });
}

Deno.test("interop: a toolkit hosted by the official client, called by ours", async () => {
  const server = await startTestServer();
  const host = await official(server, "official-host");
  const caller = await ours(server, "our-caller");
  let hosted: Official;
  try {
    hosted = await mesh.startHostedToolkit({
      room: host,
      toolkit: officialToolkit(),
      public_: true,
    });
    const [kit] = await caller.agents.listToolkits();
    assert.equal(kit.name, "offkit");
    assert.equal(kit.title, "Official kit");
    assert.equal(kit.thumbnailUrl, "https://example.com/kit.png");
    assert.equal(kit.participantId, host.localParticipant.id);
    const add = kit.tools.find((t) => t.name === "add")!;
    assert.equal(add.thumbnailUrl, "https://example.com/add.png");
    assert.deepEqual(add.inputSpec?.types, ["json"]);

    const json = await caller.agents.invokeTool({
      toolkit: "offkit",
      tool: "add",
      arguments: { a: 2, b: 40 },
    });
    assert.ok(json instanceof JsonContent);
    assert.deepEqual(json.json, { sum: 42 });
    const text = await caller.agents.invokeTool({
      toolkit: "offkit",
      tool: "hello",
      arguments: { name: "deno" },
    });
    assert.ok(text instanceof TextContent);
    assert.equal(text.text, "hi deno");
    const file = await caller.agents.invokeTool({ toolkit: "offkit", tool: "blob" });
    assert.ok(file instanceof FileContent);
    assert.deepEqual([...file.data], [7, 8, 9]);
    assert.equal(file.name, "b.bin");
    assert.equal(file.mimeType, "application/octet-stream");
    await assert.rejects(
      caller.agents.invokeTool({ toolkit: "offkit", tool: "fail" }),
      (e: unknown) => e instanceof RoomError && /official tool failed/.test(e.message),
    );

    // Through RemoteToolkit, too.
    const remote = await RemoteToolkit.fromRoom(caller, "offkit");
    const ctx = new ToolContext({ caller: { id: caller.localParticipant!.id, attributes: {} } });
    const out = await remote.execute(ctx, "add", { a: 1, b: 1 });
    assert.deepEqual((out as JsonContent).json, { sum: 2 });

    await hosted.stop();
    hosted = undefined;
    assert.deepEqual(await caller.agents.listToolkits(), []);
  } finally {
    await hosted?.stop().catch(() => {});
    await caller.dispose();
    await disposeOfficial(host);
    await server.close();
  }
});

Deno.test("interop: a toolkit hosted by ours, called by the official client", async () => {
  const server = await startTestServer();
  const host = await ours(server, "our-host");
  const caller = await official(server, "official-caller");
  const toolkit = new Toolkit({
    name: "ourkit",
    title: "Our kit",
    description: "hosted by @meshagent/tools",
    thumbnailUrl: "https://example.com/ours.png",
    tools: [
      new FunctionTool<{ a: number; b: number }>({
        name: "mul",
        title: "Multiply",
        inputSchema: {
          type: "object",
          properties: { a: { type: "number" }, b: { type: "number" } },
          required: ["a", "b"],
          additionalProperties: false,
        },
        run: (_ctx, { a, b }) => ({ product: a * b }),
      }),
      new FunctionTool<{ name: string }>({
        name: "greet",
        inputSchema: { type: "object", properties: { name: { type: "string" } } },
        run: (ctx, { name }) => `hello ${name} from ${ctx.caller.id === "" ? "?" : "caller"}`,
      }),
      new FunctionTool({
        name: "file",
        inputSchema: { type: "object" },
        run: () => new FileContent(new TextEncoder().encode("file body"), "f.txt", "text/plain"),
      }),
    ],
  });
  const hosted = await startHostedToolkit(host, toolkit, { public: true });
  try {
    const kits = await caller.agents.listToolkits();
    assert.equal(kits.length, 1);
    assert.equal(kits[0].name, "ourkit");
    assert.equal(kits[0].title, "Our kit");
    assert.equal(kits[0].participantId, host.localParticipant!.id);
    const mul = kits[0].tools.find((t: JsonObject) => t.name === "mul");
    assert.equal(mul.title, "Multiply");

    const json = await caller.agents.invokeTool({
      toolkit: "ourkit",
      tool: "mul",
      arguments: { a: 6, b: 7 },
    });
    assert.ok(json instanceof mesh.JsonContent);
    assert.deepEqual(json.json, { product: 42 });
    const text = await caller.agents.invokeTool({
      toolkit: "ourkit",
      tool: "greet",
      arguments: { name: "npm" },
    });
    assert.ok(text instanceof mesh.TextContent);
    assert.equal(text.text, "hello npm from caller");
    const file = await caller.agents.invokeTool({ toolkit: "ourkit", tool: "file", arguments: {} });
    assert.ok(file instanceof mesh.FileContent);
    assert.equal(new TextDecoder().decode(file.data), "file body");
    assert.equal(file.name, "f.txt");
    assert.equal(file.mimeType, "text/plain");
    // Our host's schema validation reaches the official client as RoomServerException + code.
    await assert.rejects(
      caller.agents.invokeTool({ toolkit: "ourkit", tool: "mul", arguments: { a: 6 } }),
      (e: Official) =>
        e instanceof mesh.RoomServerException && e.code === 1002 &&
        /input_schema/.test(e.message),
    );
  } finally {
    await hosted.stop();
    await disposeOfficial(caller);
    await host.dispose();
    await server.close();
  }
});
