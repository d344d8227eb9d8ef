// Runs the examples for real, the way their first lines say: the math agent under
// `meshagent room connect` in a subprocess, then the client (and the CLI) against it.
import assert from "node:assert/strict";
import { RoomClient } from "@meshagent/api";
import { startTestServer, type TestServer } from "@meshagent/server/testing";

const ROOT = new URL("../", import.meta.url).pathname;
const ROOM = "demo";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno <args>` from the repository root and collects its output (killed after 60 s). */
async function deno(...args: string[]): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    const out = await child.output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

function connectFlags(server: TestServer, identity: string): string[] {
  return ["--room", ROOM, "--identity", identity, "--api-url", server.url, "--key", server.apiKey];
}

async function hasMathToolkit(room: RoomClient): Promise<boolean> {
  return (await room.agents.listToolkits()).some((t) => t.name === "math-toolkit");
}

Deno.test("examples: math_toolkit_agent under room connect, called by math_client and the CLI", async () => {
  const server = await startTestServer();
  const observer = new RoomClient({
    url: server.roomUrl(ROOM),
    token: await server.token(ROOM, "observer"),
    reconnectTimeout: 0,
  });
  await observer.start({ timeout: 5000 });
  const agent = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "cli/main.ts",
      "room",
      "connect",
      ...connectFlags(server, "math-tools"),
      "--",
      Deno.execPath(),
      "run",
      "-A",
      "examples/math_toolkit_agent.ts",
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let agentStderr = "";
  const agentOutput = Promise.all([
    agent.stdout.pipeTo(new WritableStream()),
    (async () => {
      for await (const text of agent.stderr.pipeThrough(new TextDecoderStream())) {
        agentStderr += text;
      }
    })(),
  ]);
  let exited = false;
  const agentStatus = agent.status.then((s) => {
    exited = true;
    return s;
  });
  try {
    for (let i = 0; i < 600 && !exited && !(await hasMathToolkit(observer)); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(
      await hasMathToolkit(observer),
      `the agent hosts math-toolkit; its stderr:\n${agentStderr}`,
    );

    // The client, run the way its first line says.
    const client = (...args: string[]) =>
      deno(
        "run",
        "-A",
        "cli/main.ts",
        "room",
        "connect",
        ...connectFlags(server, "caller"),
        "--",
        Deno.execPath(),
        "run",
        "-A",
        "examples/math_client.ts",
        ...args,
      );
    const add = await client();
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /toolkits in room demo: .*math-toolkit/);
    assert.match(add.stdout, /^5 \+ 7 = 12$/m);

    const multiply = await client("--tool", "multiply", "--a", "6", "--b", "7");
    assert.match(multiply.stdout, /^6 \* 7 = 42$/m);

    const byZero = await client("--tool", "divide", "--a", "1", "--b", "0");
    assert.equal(byZero.code, 1);
    assert.match(byZero.stderr, /error: divide failed: cannot divide by zero: pass a non-zero b/);

    // The client with flags instead of `room connect`.
    const direct = await deno(
      "run",
      "-A",
      "examples/math_client.ts",
      "--room",
      ROOM,
      "--api-url",
      server.url,
      "--token",
      await server.token(ROOM, "direct"),
      "--tool",
      "subtract",
      "--a",
      "10",
      "--b",
      "4",
    );
    assert.equal(direct.code, 0, direct.stderr);
    assert.match(direct.stdout, /^10 - 4 = 6$/m);

    // The CLI call from the docs' custom-tools first run.
    const cli = await deno(
      "run",
      "-A",
      "cli/main.ts",
      "room",
      "agents",
      "invoke-tool",
      "--room",
      ROOM,
      "--api-url",
      server.url,
      "--key",
      server.apiKey,
      "--toolkit",
      "math-toolkit",
      "--tool",
      "add",
      "--arguments",
      '{"a":5,"b":7}',
    );
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(JSON.parse(cli.stdout), { result: 12 });
    const bad = await deno(
      "run",
      "-A",
      "cli/main.ts",
      "room",
      "agents",
      "invoke-tool",
      "--room",
      ROOM,
      "--api-url",
      server.url,
      "--key",
      server.apiKey,
      "--toolkit",
      "math-toolkit",
      "--tool",
      "add",
      "--arguments",
      '{"a":5}',
    );
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /input_schema|required|b/);

    // SIGTERM reaches the agent through room connect: it unregisters and exits cleanly.
    agent.kill("SIGTERM");
    const status = await agentStatus;
    assert.equal(status.code, 0, agentStderr);
    assert.match(agentStderr, /math-toolkit is ready in room demo \(as math-tools\)/);
    assert.match(agentStderr, /math-toolkit stopped/);
    assert.equal(await hasMathToolkit(observer), false);
  } finally {
    if (!exited) agent.kill("SIGKILL");
    await agentStatus;
    await agentOutput;
    await observer.dispose();
    await server.close();
  }
});
