// MCPClientConnection and MCPToolkit over streamable HTTP and HTTP+SSE, against a small MCP server
// built in the test with the MCP SDK (testdata/mcp_test_server.ts) behind Deno.serve (streamable
// HTTP) or node:http (SSE) on 127.0.0.1, port 0.
import assert from "node:assert/strict";
import {
  type Content,
  FileContent,
  JsonContent,
  LinkContent,
  TextContent,
  ToolContext,
  ToolError,
} from "@meshagent/tools";
import { MCPClientConnection, MCPError, MCPToolkit } from "./mod.ts";
import {
  PNG_BASE64,
  startSseTestServer,
  startTestServer,
  TEST_TOKEN,
} from "./testdata/mcp_test_server.ts";

const auth = { Authorization: `Bearer ${TEST_TOKEN}` };

function ctx(signal?: AbortSignal): ToolContext {
  return new ToolContext({
    caller: { id: "p-test", attributes: {} },
    ...(signal ? { signal } : {}),
  });
}

async function collect(output: Content | AsyncIterable<Content>): Promise<Content[]> {
  if (!(Symbol.asyncIterator in output)) return [output];
  const out: Content[] = [];
  for await (const item of output) out.push(item);
  return out;
}

/**
 * What both HTTP test servers serve, checked through a connection: server info, the paged tool
 * list, text, mixed, error and structured results; then, after close, calls fail with 1006.
 */
async function checkTestServer(conn: MCPClientConnection, label: string): Promise<void> {
  try {
    assert.equal(conn.label, label);
    assert.equal(conn.pid, null);
    assert.deepEqual(conn.serverInfo, {
      name: "test-server",
      version: "1.2.3",
      instructions: "Use ping to check.",
    });
    // Five tools, served two per page.
    const tools = await conn.listTools();
    assert.deepEqual(tools.map((t) => t.name), ["ping", "multi", "fail", "slow", "add"]);
    assert.equal(tools[0].title, "Ping");
    assert.deepEqual(tools[0].annotations, { readOnlyHint: true });
    assert.deepEqual(tools[4].outputSchema?.required, ["sum"]);

    const pong = await conn.callTool("ping", {});
    assert.deepEqual(pong, { content: [{ type: "text", text: "pong" }], isError: false });
    const multi = await conn.callTool("multi", {});
    assert.deepEqual(multi.content[1], {
      type: "image",
      data: PNG_BASE64,
      mimeType: "image/png",
    });
    assert.deepEqual(multi.content[2], {
      type: "resource_link",
      uri: "https://example.com/doc",
      name: "doc",
      title: "Doc",
    });
    const failed = await conn.callTool("fail", { why: "no reason" });
    assert.equal(failed.isError, true);
    assert.deepEqual(failed.content, [{ type: "text", text: "failed: no reason" }]);
    const added = await conn.callTool("add", { a: 1, b: 2 });
    assert.deepEqual(added.structuredContent, { sum: 3 });
  } finally {
    await conn.close();
  }
  assert.equal(conn.closed, true);
  await assert.rejects(
    conn.callTool("ping", {}),
    (e: unknown) => e instanceof MCPError && e.code === 1006,
  );
  await assert.rejects(
    conn.listTools(),
    (e: unknown) => e instanceof MCPError && e.code === 1006,
  );
}

Deno.test("MCPClientConnection.http: handshake, paginated tool list, calls, close", async () => {
  const server = await startTestServer();
  try {
    await checkTestServer(
      await MCPClientConnection.http({ url: server.url, headers: auth }),
      server.url,
    );
  } finally {
    await server.close();
  }
});

/**
 * What every transport's toolkit over the test server shows: its tools, rules and annotations, a
 * text result, and the mixed contents of `multi` (returned for closer checks).
 */
async function checkToolkitBasics(toolkit: MCPToolkit): Promise<Content[]> {
  assert.deepEqual(toolkit.tools.map((t) => t.name), ["ping", "multi", "fail", "slow", "add"]);
  assert.deepEqual(toolkit.rules, ["Use ping to check."]);
  assert.deepEqual(toolkit.getTool("ping").annotations, { "mcp.readOnlyHint": "true" });
  assert.equal(toolkit.toJson().tools.ping.title, "Ping");
  const pong = await toolkit.execute(ctx(), "ping");
  assert.ok(pong instanceof TextContent && pong.text === "pong");
  const items = await collect(await toolkit.execute(ctx(), "multi", {}));
  assert.deepEqual(items.map((c) => c.constructor.name), [
    "TextContent",
    "FileContent",
    "LinkContent",
    "FileContent",
  ]);
  return items;
}

Deno.test("MCPToolkit.http: contents, isError, structured output, cancellation", async () => {
  const server = await startTestServer();
  try {
    await using toolkit = await MCPToolkit.http({
      url: server.url,
      headers: auth,
      name: "test",
      timeoutMs: 30_000,
    });
    const items = await checkToolkitBasics(toolkit);
    const image = items[1];
    assert.ok(image instanceof FileContent);
    assert.equal(image.mimeType, "image/png");
    assert.deepEqual([...image.data.slice(1, 4)], [0x50, 0x4e, 0x47]);
    const link = items[2];
    assert.ok(link instanceof LinkContent);
    assert.equal(link.name, "Doc");
    assert.equal(link.url, "https://example.com/doc");
    const notes = items[3];
    assert.ok(notes instanceof FileContent);
    assert.equal(notes.name, "notes.md");
    assert.equal(notes.mimeType, "text/markdown");
    assert.equal(new TextDecoder().decode(notes.data), "# hi");

    await assert.rejects(
      toolkit.execute(ctx(), "fail", { why: "testing" }),
      (e: unknown) => e instanceof ToolError && e.code === 1008 && e.message === "failed: testing",
    );

    const sum = await toolkit.execute(ctx(), "add", { a: 2, b: 40 });
    assert.ok(sum instanceof JsonContent);
    assert.deepEqual(sum.json, { sum: 42 });

    const calls = server.calls.get("add");
    await assert.rejects(
      toolkit.execute(ctx(), "add", { a: 2 }),
      (e: unknown) => e instanceof ToolError && e.code === 1002,
    );
    assert.equal(server.calls.get("add"), calls, "validation must stop the call");

    // Cancelling the caller's signal cancels the MCP request on the server too.
    const controller = new AbortController();
    const running = toolkit.execute(ctx(controller.signal), "slow", {});
    while (!server.calls.get("slow")) await new Promise((r) => setTimeout(r, 10));
    controller.abort(new Error("stop"));
    await assert.rejects(
      running,
      (e: unknown) => e instanceof ToolError && /cancelled/.test(e.message),
    );
    // The tool call timeout is 30 s: only the cancel notification ends `slow` sooner.
    for (let i = 0; i < 1000 && server.cancelled === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(server.cancelled, 1, "the server was not told to cancel");
  } finally {
    await server.close();
  }
});

Deno.test("MCPToolkit refreshes its tools when the server announces a change", async () => {
  const server = await startTestServer();
  try {
    await using toolkit = await MCPToolkit.http({ url: server.url, headers: auth, name: "live" });
    const changed = new Promise<readonly string[]>((resolve) => {
      const off = toolkit.onToolsChanged((tools) => {
        off();
        resolve(tools.map((t) => t.name));
      });
    });
    assert.throws(() => toolkit.getTool("extra"), (e: unknown) => e instanceof ToolError);
    await server.addTool("extra");
    assert.deepEqual(await changed, ["ping", "multi", "fail", "slow", "add", "extra"]);
    assert.ok("extra" in toolkit.toJson().tools);
    const out = await toolkit.execute(ctx(), "extra", {});
    assert.ok(out instanceof TextContent && out.text === "extra");
  } finally {
    await server.close();
  }
});

Deno.test("MCPToolkit with autoRefresh false keeps its list until refresh()", async () => {
  const server = await startTestServer();
  try {
    await using toolkit = await MCPToolkit.http({
      url: server.url,
      headers: auth,
      name: "fixed",
      autoRefresh: false,
      allowedTools: ["ping", "late"],
    });
    assert.deepEqual(toolkit.tools.map((t) => t.name), ["ping"]);
    await server.addTool("late");
    assert.deepEqual(toolkit.tools.map((t) => t.name), ["ping"]);
    const tools = await toolkit.refresh();
    assert.deepEqual(tools.map((t) => t.name), ["ping", "late"]);
  } finally {
    await server.close();
  }
});

Deno.test("MCPClientConnection.http errors: bad URL, refused, unauthorized", async () => {
  await assert.rejects(
    MCPClientConnection.http({ url: "not a url" }),
    (e: unknown) => e instanceof MCPError && e.code === 1002,
  );
  await assert.rejects(
    MCPClientConnection.http({ url: "ftp://127.0.0.1/mcp" }),
    (e: unknown) => e instanceof MCPError && e.code === 1002,
  );
  const server = await startTestServer();
  try {
    await assert.rejects(
      MCPClientConnection.http({ url: server.url, headers: { Authorization: "Bearer wrong" } }),
      (e: unknown) =>
        e instanceof MCPError && e.code === 1001 && /401/.test(e.message) &&
        /check the headers/.test(e.message),
    );
  } finally {
    await server.close();
  }
  // The server is gone: the port refuses connections.
  await assert.rejects(
    MCPClientConnection.http({ url: server.url, headers: auth }),
    (e: unknown) => e instanceof MCPError && /check the URL/.test(e.message),
  );
});

Deno.test("MCPClientConnection.sse: handshake, paginated tool list, calls, close", async () => {
  const server = await startSseTestServer();
  try {
    // Two connections are two sessions, each with its own stream.
    await using other = await MCPClientConnection.sse({ url: server.url, headers: auth });
    await checkTestServer(
      await MCPClientConnection.sse({ url: server.url, headers: auth }),
      server.url,
    );
    assert.deepEqual(await other.callTool("ping", {}), {
      content: [{ type: "text", text: "pong" }],
      isError: false,
    });
  } finally {
    await server.close();
  }
});

Deno.test("MCPToolkit.sse: contents, isError, cancellation, tool list changes", async () => {
  const server = await startSseTestServer();
  try {
    await using toolkit = await MCPToolkit.sse({
      url: server.url,
      headers: auth,
      name: "sse",
      timeoutMs: 30_000,
    });
    await checkToolkitBasics(toolkit);
    await assert.rejects(
      toolkit.execute(ctx(), "fail", { why: "testing" }),
      (e: unknown) => e instanceof ToolError && e.code === 1008 && e.message === "failed: testing",
    );
    const sum = await toolkit.execute(ctx(), "add", { a: 2, b: 40 });
    assert.ok(sum instanceof JsonContent);
    assert.deepEqual(sum.json, { sum: 42 });

    // Cancelling the caller's signal reaches the server as notifications/cancelled (a POST).
    const controller = new AbortController();
    const running = toolkit.execute(ctx(controller.signal), "slow", {});
    while (!server.calls.get("slow")) await new Promise((r) => setTimeout(r, 10));
    controller.abort(new Error("stop"));
    await assert.rejects(
      running,
      (e: unknown) => e instanceof ToolError && /cancelled/.test(e.message),
    );
    for (let i = 0; i < 1000 && server.cancelled === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(server.cancelled, 1, "the server was not told to cancel");

    // notifications/tools/list_changed arrives on the event stream.
    const changed = new Promise<readonly string[]>((resolve) => {
      const off = toolkit.onToolsChanged((tools) => {
        off();
        resolve(tools.map((t) => t.name));
      });
    });
    await server.addTool("extra");
    assert.deepEqual(await changed, ["ping", "multi", "fail", "slow", "add", "extra"]);
    const extra = await toolkit.execute(ctx(), "extra", {});
    assert.ok(extra instanceof TextContent && extra.text === "extra");
  } finally {
    await server.close();
  }
});

Deno.test("MCPClientConnection.sse closes when the server ends the stream", async () => {
  const server = await startSseTestServer();
  try {
    await using conn = await MCPClientConnection.sse({ url: server.url, headers: auth });
    assert.equal((await conn.callTool("ping", {})).isError, false);
    // The HTTP server keeps listening: the stream must not be reopened as a new session.
    await server.dropSessions();
    for (let i = 0; i < 500 && !conn.closed; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(conn.closed, true, "the connection saw its stream end");
    await assert.rejects(
      conn.callTool("ping", {}),
      (e: unknown) => e instanceof MCPError && e.code === 1006 && /connect again/.test(e.message),
    );
  } finally {
    await server.close();
  }
});

Deno.test("MCPClientConnection.sse errors: bad URL, unauthorized, not a stream, silent, refused", async () => {
  await assert.rejects(
    MCPClientConnection.sse({ url: "not a url" }),
    (e: unknown) => e instanceof MCPError && e.code === 1002 && /\.sse needs/.test(e.message),
  );
  await assert.rejects(
    MCPClientConnection.sse({ url: "ws://127.0.0.1/sse" }),
    (e: unknown) => e instanceof MCPError && e.code === 1002,
  );
  const server = await startSseTestServer();
  const base = server.url.replace(/\/sse$/, "");
  try {
    await assert.rejects(
      MCPClientConnection.sse({ url: server.url, headers: { Authorization: "Bearer wrong" } }),
      (e: unknown) =>
        e instanceof MCPError && e.code === 1001 && /401/.test(e.message) &&
        /check the headers/.test(e.message),
    );
    await assert.rejects(
      MCPClientConnection.sse({ url: `${base}/nowhere`, headers: auth }),
      (e: unknown) => e instanceof MCPError && e.code === 1003 && /404/.test(e.message),
    );
    // A page, not an event stream (as a streamable HTTP endpoint or a web server would answer).
    await assert.rejects(
      MCPClientConnection.sse({ url: `${base}/html`, headers: auth }),
      (e: unknown) =>
        e instanceof MCPError && e.code === 1008 && /text\/event-stream/.test(e.message) &&
        /SSE endpoint/.test(e.message),
    );
    // A streamable HTTP endpoint is not an SSE endpoint: the message says which to use.
    const streamable = await startTestServer();
    try {
      await assert.rejects(
        MCPClientConnection.sse({ url: streamable.url, headers: auth }),
        (e: unknown) =>
          e instanceof MCPError && /HTTP 400/.test(e.message) && /mcp http/.test(e.message),
      );
    } finally {
      await streamable.close();
    }
    // A stream that never names its endpoint: the connect deadline ends the wait.
    await assert.rejects(
      MCPClientConnection.sse({ url: `${base}/silent`, headers: auth, connectTimeoutMs: 300 }),
      (e: unknown) =>
        e instanceof MCPError && e.code === 1009 && /timed out while connecting/.test(e.message),
    );
    const controller = new AbortController();
    const cancelled = MCPClientConnection.sse({
      url: `${base}/silent`,
      headers: auth,
      signal: controller.signal,
    });
    controller.abort();
    await assert.rejects(
      cancelled,
      (e: unknown) => e instanceof MCPError && /cancelled/.test(e.message),
    );
  } finally {
    await server.close();
  }
  // The server is gone: the port refuses connections.
  await assert.rejects(
    MCPClientConnection.sse({ url: server.url, headers: auth }),
    (e: unknown) => e instanceof MCPError && /check the URL/.test(e.message),
  );
});
