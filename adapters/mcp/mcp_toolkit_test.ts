// MCPToolkit against the real @modelcontextprotocol/server-everything, started over stdio.
import assert from "node:assert/strict";
import {
  type Content,
  ControlContent,
  ErrorContent,
  FileContent,
  JsonContent,
  LinkContent,
  TextContent,
  ToolContext,
  ToolError,
  Toolkit,
  ToolValidationError,
} from "@meshagent/tools";
import {
  type MCPCallResult,
  MCPClientConnection,
  type MCPConnection,
  MCPError,
  type MCPRequestOptions,
  MCPTool,
  MCPToolkit,
} from "./mod.ts";
import { everything } from "./testdata/everything.ts";

function ctx(init: Partial<ConstructorParameters<typeof ToolContext>[0]> = {}): ToolContext {
  return new ToolContext({ caller: { id: "p-test", attributes: {} }, ...init });
}

async function collect(output: Content | AsyncIterable<Content>): Promise<Content[]> {
  if (!(Symbol.asyncIterator in output)) return [output];
  const out: Content[] = [];
  for await (const item of output) out.push(item);
  return out;
}

/** A real connection that counts calls (to prove validation stops bad input before the server). */
class CountingConnection implements MCPConnection {
  calls = 0;
  constructor(readonly inner: MCPConnection) {}
  get label() {
    return this.inner.label;
  }
  get serverInfo() {
    return this.inner.serverInfo;
  }
  get closed() {
    return this.inner.closed;
  }
  listTools(options?: MCPRequestOptions) {
    return this.inner.listTools(options);
  }
  callTool(name: string, args: Record<string, unknown>, options?: MCPRequestOptions) {
    this.calls++;
    return this.inner.callTool(name, args as never, options) as Promise<MCPCallResult>;
  }
  onToolListChanged(handler: () => void) {
    return this.inner.onToolListChanged(handler);
  }
  close() {
    return this.inner.close();
  }
}

Deno.test("MCPToolkit over stdio: server-everything tools, contents and errors", async (t) => {
  const conn = new CountingConnection(await MCPClientConnection.stdio(everything()));
  const toolkit = await MCPToolkit.fromConnection(conn, {
    name: "everything",
    title: "Everything",
    description: "the MCP test server",
    public: true,
  });
  try {
    await t.step("it is a plain Toolkit with the server's tool names", () => {
      assert.ok(toolkit instanceof Toolkit);
      const names = toolkit.tools.map((tool) => tool.name);
      for (
        const name of ["echo", "get-sum", "get-tiny-image", "get-env", "get-structured-content"]
      ) {
        assert.ok(names.includes(name), `missing ${name} in ${names.join(", ")}`);
      }
      assert.deepEqual(toolkit.skippedTools, []);
      assert.equal(conn.serverInfo?.name, "mcp-servers/everything");
      const json = toolkit.toJson();
      assert.equal(json.name, "everything");
      assert.equal(json.title, "Everything");
      assert.equal(json.public, true);
      const sum = json.tools["get-sum"];
      assert.deepEqual(sum.input_spec?.types, ["json"]);
      assert.deepEqual((sum.input_spec?.schema as { required: string[] }).required, ["a", "b"]);
      assert.equal(sum.output_spec, null);
      assert.ok(toolkit.getTool("echo") instanceof MCPTool);
    });

    await t.step("echo returns a TextContent", async () => {
      const out = await toolkit.execute(ctx(), "echo", { message: "hi" });
      assert.ok(out instanceof TextContent);
      assert.equal(out.text, "Echo: hi");
    });

    await t.step("get-sum returns the sum as text", async () => {
      const out = await toolkit.execute(ctx(), "get-sum", { a: 2, b: 3 });
      assert.ok(out instanceof TextContent);
      assert.equal(out.text, "The sum of 2 and 3 is 5.");
    });

    await t.step("get-structured-content returns its structuredContent as JSON", async () => {
      const tool = toolkit.getTool("get-structured-content");
      assert.deepEqual(tool.outputSpec?.types, ["json"]);
      const out = await toolkit.execute(ctx(), "get-structured-content", { location: "Chicago" });
      assert.ok(out instanceof JsonContent);
      const json = out.json as { temperature: number; conditions: string; humidity: number };
      assert.equal(typeof json.temperature, "number");
      assert.equal(typeof json.conditions, "string");
    });

    await t.step("get-tiny-image streams caption, a PNG FileContent, caption", async () => {
      const items = await collect(await toolkit.execute(ctx(), "get-tiny-image", {}));
      assert.equal(items.length, 3);
      assert.ok(items[0] instanceof TextContent);
      const image = items[1];
      assert.ok(image instanceof FileContent);
      assert.equal(image.mimeType, "image/png");
      assert.equal(image.name, "image_2.png");
      assert.deepEqual([...image.data.slice(0, 4)], [0x89, 0x50, 0x4e, 0x47]); // \x89PNG
      assert.ok(items[2] instanceof TextContent);
    });

    await t.step("respond streams the items and closes the stream", async () => {
      const items = await collect(await toolkit.respond(ctx(), "get-tiny-image", {}));
      assert.deepEqual(items.map((c) => c.type), ["text", "file", "text", "control"]);
      const close = items[3];
      assert.ok(close instanceof ControlContent && close.method === "close");
      assert.equal(close.statusCode, 1000);
    });

    await t.step("get-resource-links gives LinkContents", async () => {
      const items = await collect(await toolkit.execute(ctx(), "get-resource-links", { count: 2 }));
      assert.equal(items.length, 3);
      assert.ok(items[0] instanceof TextContent);
      for (const link of items.slice(1)) {
        assert.ok(link instanceof LinkContent);
        assert.match(link.url, /^demo:\/\/resource\//);
      }
    });

    await t.step("get-resource-reference embeds a text resource as a FileContent", async () => {
      const items = await collect(
        await toolkit.execute(ctx(), "get-resource-reference", {
          resourceType: "Text",
          resourceId: 1,
        }),
      );
      const file = items.find((c) => c instanceof FileContent);
      assert.ok(file instanceof FileContent);
      assert.equal(file.mimeType, "text/plain");
      assert.equal(file.name, "1.txt");
      assert.match(new TextDecoder().decode(file.data), /^Resource 1: /);
    });

    await t.step("schema validation rejects bad arguments before the MCP call", async () => {
      const before = conn.calls;
      await assert.rejects(
        toolkit.execute(ctx(), "get-sum", { a: "two", b: 3 }),
        (e: unknown) =>
          e instanceof ToolValidationError && e.code === 1002 && /\/a/.test(e.message),
      );
      const answer = await toolkit.respond(ctx(), "get-sum", { b: 3 });
      assert.ok(answer instanceof ErrorContent && answer.code === 1002);
      assert.equal(conn.calls, before, "the server must not be called");
    });

    await t.step("an isError result becomes a ToolError with the server's text", async () => {
      const before = conn.calls;
      // Validation off: the bad arguments reach the server, which answers isError.
      await assert.rejects(
        toolkit.execute(ctx(), "get-sum", { a: "two", b: 3 }, { validation: "none" }),
        (e: unknown) =>
          e instanceof ToolError && !(e instanceof ToolValidationError) && e.code === 1008 &&
          /Input validation error/.test(e.message),
      );
      assert.equal(conn.calls, before + 1);
      const answer = await toolkit.respond(ctx(), "get-sum", { a: "x", b: 1 }, {
        validation: "none",
      });
      assert.ok(answer instanceof ErrorContent);
      assert.match(answer.text, /Input validation error/);
    });

    await t.step("an unknown tool is a 1003 before any MCP call", async () => {
      const before = conn.calls;
      await assert.rejects(
        toolkit.execute(ctx(), "nope", {}),
        (e: unknown) => e instanceof ToolError && e.code === 1003,
      );
      assert.equal(conn.calls, before);
    });

    await t.step("progress notifications become tool events", async () => {
      const events: unknown[] = [];
      const out = await toolkit.execute(
        ctx({ onEvent: (e) => void events.push(e) }),
        "trigger-long-running-operation",
        { duration: 0.3, steps: 3 },
      );
      assert.ok(out instanceof TextContent);
      assert.match(out.text, /Long running operation completed/);
      // The MCP SDK dispatches notifications a tick after they arrive, so the last one can lose
      // the race with the result: expect the first ones, in order.
      assert.ok(events.length >= 2, `only ${events.length} progress events`);
      events.forEach((e, i) =>
        assert.deepEqual(e, { kind: "progress", progress: i + 1, total: 3 })
      );
    });

    await t.step("refresh lists the tools again", async () => {
      const tools = await toolkit.refresh();
      assert.equal(tools, toolkit.tools);
      assert.ok(toolkit.getTool("echo") instanceof MCPTool);
    });
  } finally {
    await toolkit.close();
  }
  await t.step("after close, calls fail with 1006", async () => {
    assert.ok(conn.closed);
    await assert.rejects(
      toolkit.execute(ctx(), "echo", { message: "late" }),
      (e: unknown) => e instanceof ToolError && e.code === 1006 && /closed/.test(e.message),
    );
  });
});

Deno.test("MCPToolkit.stdio passes env and the parent environment; close stops the child", async () => {
  // Not one of the few variables the MCP SDK passes on by itself (HOME, PATH, …).
  Deno.env.set("MESHAGENT_MCP_PARENT", "inherited");
  let toolkit: MCPToolkit;
  try {
    toolkit = await MCPToolkit.stdio({
      ...everything(),
      name: "env",
      env: { MESHAGENT_MCP_TEST: "from-the-test" },
      allowedTools: ["get-env", "echo"],
    });
  } finally {
    Deno.env.delete("MESHAGENT_MCP_PARENT");
  }
  const conn = toolkit.connection as MCPClientConnection;
  const pid = conn.pid;
  try {
    assert.deepEqual(toolkit.tools.map((tool) => tool.name).sort(), ["echo", "get-env"]);
    const out = await toolkit.execute(ctx(), "get-env", {});
    assert.ok(out instanceof TextContent);
    const env = JSON.parse(out.text) as Record<string, string>;
    assert.equal(env.MESHAGENT_MCP_TEST, "from-the-test");
    assert.equal(env.MESHAGENT_MCP_PARENT, "inherited");
    assert.ok(typeof pid === "number" && pid > 0);
  } finally {
    await toolkit.close();
  }
  assert.equal(conn.pid, null);
  if (Deno.build.os === "linux" && pid !== null) {
    assert.throws(
      () => Deno.statSync(`/proc/${pid}`),
      Deno.errors.NotFound,
      "the child still runs",
    );
  }
  await toolkit.close(); // twice is fine
});

Deno.test("MCP calls honour the tool timeout and the context's abort signal", async () => {
  await using toolkit = await MCPToolkit.stdio({ ...everything(), name: "slow", timeoutMs: 300 });
  await assert.rejects(
    toolkit.execute(ctx(), "trigger-long-running-operation", { duration: 5, steps: 1 }),
    (e: unknown) => e instanceof ToolError && e.code === 1009 && /timed out/.test(e.message),
  );
  const controller = new AbortController();
  const running = toolkit.execute(
    ctx({ signal: controller.signal }),
    "trigger-long-running-operation",
    { duration: 5, steps: 1 },
    {},
  );
  setTimeout(() => controller.abort(new Error("user pressed stop")), 50);
  await assert.rejects(
    running,
    (e: unknown) => e instanceof ToolError && /cancelled: user pressed stop/.test(e.message),
  );
});

Deno.test("MCPClientConnection.stdio reports a command that does not exist", async () => {
  await assert.rejects(
    MCPClientConnection.stdio({ command: "/nonexistent/mcp-server", stderr: "ignore" }),
    (e: unknown) =>
      e instanceof MCPError && e.code === 1008 && /\/nonexistent\/mcp-server/.test(e.message) &&
      /check that the command exists/.test(e.message),
  );
  await assert.rejects(
    MCPClientConnection.stdio({ command: " " }),
    (e: unknown) => e instanceof MCPError && e.code === 1002,
  );
});

Deno.test("MCPClientConnection.stdio reports a server that exits before the handshake", async () => {
  await assert.rejects(
    MCPClientConnection.stdio({
      command: Deno.execPath(),
      args: ["eval", "console.error('no MCP here'); Deno.exit(3)"],
      stderr: "ignore",
    }),
    (e: unknown) => e instanceof MCPError && /connect/.test(e.message),
  );
});
