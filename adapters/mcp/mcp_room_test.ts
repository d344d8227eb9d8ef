// `meshagent mcp stdio|http|sse` end to end: the real CLI in a subprocess bridges a real MCP server
// into a real room server, and a second participant (our RoomClient) calls the tools through
// the room.
import assert from "node:assert/strict";
import {
  type Content,
  FileContent,
  RoomClient,
  RoomError,
  TextContent,
  type ToolkitDescription,
} from "@meshagent/api";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import { everything, ROOT } from "./testdata/everything.ts";
import {
  startSseTestServer,
  startTestServer as startMcpServer,
  TEST_TOKEN,
} from "./testdata/mcp_test_server.ts";

const ROOM = "mcp-bridge";
const MAIN = `${ROOT}cli/main.ts`;

/** A CLI process whose stderr is collected while it runs. */
class CliProcess {
  readonly child: Deno.ChildProcess;
  stderr = "";
  stdout = "";
  readonly #done: Promise<void>;

  constructor(args: string[]) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, ...args],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const collect = async (stream: ReadableStream<Uint8Array>, key: "stderr" | "stdout") => {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) this[key] += text;
    };
    this.#done = Promise.all([
      collect(this.child.stderr, "stderr"),
      collect(this.child.stdout, "stdout"),
    ]).then(() => {});
  }

  /** Waits until stderr matches (or the process ends, or 60 s pass). */
  async waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
    let exited = false;
    this.child.status.then(() => exited = true);
    for (let i = 0; i < 600; i++) {
      const match = this.stderr.match(pattern);
      if (match) return match;
      if (exited) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the CLI never printed ${pattern}; stderr:\n${this.stderr}`);
  }

  /** Waits for the exit (killing it after 30 s) and for its output to be read. */
  async finish(): Promise<Deno.CommandStatus> {
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 30_000);
    try {
      const status = await this.child.status;
      await this.#done;
      return status;
    } finally {
      clearTimeout(timer);
    }
  }
}

async function caller(server: TestServer): Promise<RoomClient> {
  const room = new RoomClient({
    url: server.roomUrl(ROOM),
    token: await server.token(ROOM, "caller"),
    reconnectTimeout: 0,
  });
  await room.start({ timeout: 5000 });
  return room;
}

async function find(room: RoomClient, name: string): Promise<ToolkitDescription | undefined> {
  return (await room.agents.listToolkits()).find((t) => t.name === name);
}

function processGone(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.split(" ")[2] === "Z"; // a zombie is gone too (not yet reaped)
  } catch {
    return true;
  }
}

/** `meshagent mcp <kind>` in ROOM of `server`, with `flags` after the room flags. */
function bridgeCli(server: TestServer, kind: string, flags: string[]): CliProcess {
  return new CliProcess([
    "mcp",
    kind,
    "--room",
    ROOM,
    "--api-url",
    server.url,
    "--key",
    server.apiKey,
    ...flags,
  ]);
}

/** Kills a bridge that a failing test left running. */
async function stopIfRunning(cli: CliProcess, status?: Deno.CommandStatus): Promise<void> {
  if (status) return;
  cli.child.kill("SIGKILL");
  await cli.finish();
}

Deno.test("meshagent mcp stdio: server-everything's tools are called through the room", async () => {
  const server = await startTestServer();
  const room = await caller(server);
  const spawn = everything();
  const cli = bridgeCli(server, "stdio", [
    "--name",
    "mcp-bridge",
    "--toolkit-name",
    "everything",
    "--env",
    "MESHAGENT_TEST_MARK=bridged",
    "--",
    spawn.command,
    ...spawn.args,
  ]);
  let status: Deno.CommandStatus | undefined;
  try {
    const ready = await cli.waitFor(/\(pid (\d+)\) as public toolkit "everything"/);
    const pid = Number(ready[1]);
    assert.ok(pid > 0);

    const listed = await find(room, "everything");
    assert.ok(listed, "the toolkit is listed for another participant");
    const names = listed.tools.map((t) => t.name);
    for (const name of ["echo", "get-sum", "get-tiny-image", "get-env"]) {
      assert.ok(names.includes(name), `${name} in ${names}`);
    }

    const echo = await room.agents.invokeTool({
      toolkit: "everything",
      tool: "echo",
      arguments: { message: "hi" },
    });
    assert.ok(echo instanceof TextContent);
    assert.equal(echo.text, "Echo: hi");

    // --env reached the MCP server's environment.
    const env = await room.agents.invokeTool({ toolkit: "everything", tool: "get-env" });
    assert.ok(env instanceof TextContent);
    assert.match(env.text, /MESHAGENT_TEST_MARK.*bridged/);

    // An image result arrives as a file (within a stream: the result has several items).
    const items: Content[] = [];
    for await (
      const item of await room.agents.invokeStream({
        toolkit: "everything",
        tool: "get-tiny-image",
      })
    ) {
      items.push(item);
    }
    const image = items.find((c): c is FileContent => c instanceof FileContent);
    assert.ok(image, `a file among ${items.map((c) => c.type)}`);
    assert.equal(image.mimeType, "image/png");
    assert.deepEqual([...image.data.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"

    // A bad argument: a clear error naming the schema, and the bridge keeps serving.
    await assert.rejects(
      room.agents.invokeTool({ toolkit: "everything", tool: "echo", arguments: { message: 5 } }),
      (e: unknown) => e instanceof RoomError && e.code === 1002 && /input_schema/.test(e.message),
    );
    await assert.rejects(
      room.agents.invokeTool({ toolkit: "everything", tool: "no-such-tool" }),
      (e: unknown) => e instanceof RoomError && /no-such-tool/.test(e.message),
    );
    const again = await room.agents.invokeTool({
      toolkit: "everything",
      tool: "echo",
      arguments: { message: "still here" },
    });
    assert.ok(again instanceof TextContent && again.text === "Echo: still here");

    // SIGTERM: the toolkit is unregistered, the MCP child stopped, the CLI exits cleanly.
    cli.child.kill("SIGTERM");
    status = await cli.finish();
    assert.equal(status.code, 0, cli.stderr);
    assert.match(cli.stderr, /stopped: toolkit "everything" unregistered/);
    assert.equal(await find(room, "everything"), undefined, "the toolkit disappeared");
    let gone = false;
    for (let i = 0; i < 50 && !(gone = processGone(pid)); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(gone, `the MCP server process ${pid} is gone`);
  } finally {
    await stopIfRunning(cli, status);
    await room.dispose();
    await server.close();
  }
});

Deno.test("meshagent mcp http: headers, re-hosting when the tool list changes, SIGINT", async () => {
  const server = await startTestServer();
  const mcp = await startMcpServer();
  const room = await caller(server);
  const cli = bridgeCli(server, "http", [
    "--url",
    mcp.url,
    "--header",
    `Authorization: Bearer ${TEST_TOKEN}`,
    "--toolkit-name",
    "tester",
    "--description",
    "the test MCP server",
  ]);
  let status: Deno.CommandStatus | undefined;
  try {
    await cli.waitFor(/as public toolkit "tester"/);
    const listed = await find(room, "tester");
    assert.ok(listed);
    assert.equal(listed.description, "the test MCP server");
    assert.ok(!listed.tools.some((t) => t.name === "extra"));
    const pong = await room.agents.invokeTool({ toolkit: "tester", tool: "ping" });
    assert.ok(pong instanceof TextContent && pong.text === "pong");
    const failed = room.agents.invokeTool({
      toolkit: "tester",
      tool: "fail",
      arguments: { why: "testing" },
    });
    await assert.rejects(
      failed,
      (e: unknown) => e instanceof RoomError && /testing/.test(e.message),
    );

    // The server announces a new tool: the bridge registers the toolkit again with it.
    await mcp.addTool("extra");
    await cli.waitFor(/toolkit "tester" now has .*extra/);
    const relisted = await find(room, "tester");
    assert.ok(relisted?.tools.some((t) => t.name === "extra"));
    const extra = await room.agents.invokeTool({ toolkit: "tester", tool: "extra" });
    assert.ok(extra instanceof TextContent && extra.text === "extra");

    cli.child.kill("SIGINT");
    status = await cli.finish();
    assert.equal(status.code, 0, cli.stderr);
    assert.equal(await find(room, "tester"), undefined);
  } finally {
    await stopIfRunning(cli, status);
    await room.dispose();
    await mcp.close();
    await server.close();
  }
});

Deno.test("meshagent mcp sse: a second participant lists and calls the tools; re-hosting; SIGTERM", async () => {
  const server = await startTestServer();
  const mcp = await startSseTestServer();
  const room = await caller(server);
  const cli = bridgeCli(server, "sse", [
    "--url",
    mcp.url,
    "--header",
    `Authorization: Bearer ${TEST_TOKEN}`,
    "--name",
    "sse-bridge",
    "--toolkit-name",
    "legacy",
    "--description",
    "an SSE MCP server",
  ]);
  let status: Deno.CommandStatus | undefined;
  try {
    await cli.waitFor(/hosting MCP server .*\/sse as public toolkit "legacy"/);
    const listed = await find(room, "legacy");
    assert.ok(listed, "the toolkit is listed for another participant");
    assert.equal(listed.description, "an SSE MCP server");
    assert.deepEqual(listed.tools.map((t) => t.name), ["ping", "multi", "fail", "slow", "add"]);

    const pong = await room.agents.invokeTool({ toolkit: "legacy", tool: "ping" });
    assert.ok(pong instanceof TextContent && pong.text === "pong");
    const sum = await room.agents.invokeTool({
      toolkit: "legacy",
      tool: "add",
      arguments: { a: 20, b: 22 },
    });
    assert.deepEqual((sum as { json?: unknown }).json, { sum: 42 });
    await assert.rejects(
      room.agents.invokeTool({ toolkit: "legacy", tool: "fail", arguments: { why: "testing" } }),
      (e: unknown) => e instanceof RoomError && /testing/.test(e.message),
    );
    await assert.rejects(
      room.agents.invokeTool({ toolkit: "legacy", tool: "add", arguments: { a: 1 } }),
      (e: unknown) => e instanceof RoomError && e.code === 1002,
    );

    // The server announces a new tool on the event stream: the bridge registers it again.
    await mcp.addTool("extra");
    await cli.waitFor(/toolkit "legacy" now has .*extra/);
    const extra = await room.agents.invokeTool({ toolkit: "legacy", tool: "extra" });
    assert.ok(extra instanceof TextContent && extra.text === "extra");

    cli.child.kill("SIGTERM");
    status = await cli.finish();
    assert.equal(status.code, 0, cli.stderr);
    assert.match(cli.stderr, /stopped: toolkit "legacy" unregistered/);
    assert.equal(await find(room, "legacy"), undefined, "the toolkit disappeared");
  } finally {
    await stopIfRunning(cli, status);
    await room.dispose();
    await mcp.close();
    await server.close();
  }
});

Deno.test("meshagent mcp sse: the bridge ends, unregistered, when the server ends the stream", async () => {
  const server = await startTestServer();
  const mcp = await startSseTestServer();
  const room = await caller(server);
  const cli = bridgeCli(server, "sse", [
    "--url",
    mcp.url,
    "--header",
    `Authorization: Bearer ${TEST_TOKEN}`,
    "--toolkit-name",
    "dropped",
  ]);
  let status: Deno.CommandStatus | undefined;
  try {
    await cli.waitFor(/as public toolkit "dropped"/);
    assert.ok(await find(room, "dropped"));
    await mcp.dropSessions();
    status = await cli.finish();
    assert.notEqual(status.code, 0);
    assert.match(cli.stderr, /error: the MCP server http:\/\/127\.0\.0\.1:\d+\/sse went away/);
    assert.equal(await find(room, "dropped"), undefined, "the toolkit disappeared");
  } finally {
    await stopIfRunning(cli, status);
    await room.dispose();
    await mcp.close();
    await server.close();
  }
});

Deno.test("meshagent mcp sse: a wrong header, a wrong URL or a server that is down fails clearly", async () => {
  const server = await startTestServer();
  const mcp = await startSseTestServer();
  try {
    const common = ["--room", ROOM, "--api-url", server.url, "--key", server.apiKey];
    const auth = ["--header", `Authorization: Bearer ${TEST_TOKEN}`];
    const unauthorized = new CliProcess(["mcp", "sse", ...common, "--url", mcp.url]);
    assert.notEqual((await unauthorized.finish()).code, 0);
    assert.match(unauthorized.stderr, /error: .*HTTP 401.*check the headers/);

    const page = new CliProcess([
      "mcp",
      "sse",
      ...common,
      ...auth,
      "--url",
      mcp.url.replace(/\/sse$/, "/html"),
    ]);
    assert.notEqual((await page.finish()).code, 0);
    assert.match(page.stderr, /error: .*text\/event-stream.*SSE endpoint/);

    const badUrl = new CliProcess(["mcp", "sse", ...common, "--url", "127.0.0.1/sse"]);
    assert.notEqual((await badUrl.finish()).code, 0);
    assert.match(badUrl.stderr, /error: --url takes an absolute http\(s\) URL/);

    const noUrl = new CliProcess(["mcp", "sse", ...common]);
    assert.notEqual((await noUrl.finish()).code, 0);
    assert.match(noUrl.stderr, /--url/);
  } finally {
    await mcp.close();
  }
  try {
    // The SSE server is gone: its port refuses connections.
    const down = new CliProcess([
      "mcp",
      "sse",
      "--room",
      ROOM,
      "--api-url",
      server.url,
      "--key",
      server.apiKey,
      "--url",
      mcp.url,
    ]);
    assert.notEqual((await down.finish()).code, 0);
    assert.match(down.stderr, /error: MCP server .*\/sse failed while connecting: .*check the URL/);
  } finally {
    await server.close();
  }
});

Deno.test("meshagent mcp: a wrong header or a server that cannot start fails with a clear error", async () => {
  const server = await startTestServer();
  const mcp = await startMcpServer();
  try {
    const common = ["--room", ROOM, "--api-url", server.url, "--key", server.apiKey];
    const unauthorized = new CliProcess(["mcp", "http", ...common, "--url", mcp.url]);
    const denied = await unauthorized.finish();
    assert.notEqual(denied.code, 0);
    assert.match(unauthorized.stderr, /error: .*(401|unauthori|denied)/i);

    const missing = new CliProcess([
      "mcp",
      "stdio",
      ...common,
      "--",
      "/nonexistent/mcp-server-binary",
    ]);
    const notStarted = await missing.finish();
    assert.notEqual(notStarted.code, 0);
    assert.match(missing.stderr, /error: .*nonexistent/);

    const none = new CliProcess(["mcp", "stdio", ...common]);
    assert.notEqual((await none.finish()).code, 0);
    assert.match(none.stderr, /what to run/);
  } finally {
    await mcp.close();
    await server.close();
  }
});
