import assert from "node:assert/strict";
import { FileContent, RoomClient } from "@meshagent/api";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import { FunctionTool, type HostedToolkit, startHostedToolkit, Toolkit } from "@meshagent/tools";

const ROOM = "cli-agents";
const MAIN = new URL("./main.ts", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(...args: string[]): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  // Nothing hangs: a stuck CLI is killed (and the test then fails on its output).
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    const out = await child.output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

async function hostCalc(server: TestServer): Promise<{ room: RoomClient; hosted: HostedToolkit }> {
  const room = new RoomClient({
    url: server.roomUrl(ROOM),
    token: await server.token(ROOM, "calc-host"),
    reconnectTimeout: 0,
  });
  await room.start({ timeout: 5000 });
  const hosted = await startHostedToolkit(
    room,
    new Toolkit({
      name: "calc",
      title: "Calculator",
      tools: [
        new FunctionTool<{ a: number; b: number }>({
          name: "sum",
          inputSchema: {
            type: "object",
            properties: { a: { type: "number" }, b: { type: "number" } },
            required: ["a", "b"],
          },
          run: (ctx, { a, b }) => ({ result: a + b, on_behalf_of: ctx.onBehalfOf?.id ?? null }),
        }),
        new FunctionTool<{ name: string }>({
          name: "greet",
          inputSchema: { type: "object", properties: { name: { type: "string" } } },
          run: (_ctx, { name }) => `hello ${name}`,
        }),
        new FunctionTool({
          name: "file",
          inputSchema: { type: "object" },
          run: () => new FileContent(new TextEncoder().encode("file!"), "r.txt", "text/plain"),
        }),
      ],
    }),
    { public: true },
  );
  return { room, hosted };
}

Deno.test("cli: room agents list-toolkits and invoke-tool against a hosted toolkit", async () => {
  const server = await startTestServer();
  const { room, hosted } = await hostCalc(server);
  const dir = await Deno.makeTempDir();
  const flags = ["--room", ROOM, "--api-url", server.url, "--key", server.apiKey];
  const invokeTool = (...args: string[]) => cli("room", "agents", "invoke-tool", ...flags, ...args);
  try {
    // A table by default: one row per toolkit, with its tools and host.
    const table = await cli("room", "agents", "list-toolkits", ...flags);
    assert.equal(table.code, 0, table.stderr);
    const rows = table.stdout.trimEnd().split("\n");
    assert.equal(rows.length, 3, table.stdout);
    assert.match(rows[0], /^toolkit\s+tools\s+hosted by$/);
    assert.match(rows[2], new RegExp(`^calc\\s+sum, greet, file\\s+${room.localParticipant!.id}$`));
    // --json: one toolkit per line, with the tools' schemas.
    const list = await cli("room", "agents", "list-toolkits", ...flags, "--json");
    assert.equal(list.code, 0, list.stderr);
    const kits = list.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(kits.length, 1);
    assert.ok(kits[0].tools[0].input_spec);
    assert.equal(kits[0].name, "calc");
    assert.equal(kits[0].title, "Calculator");
    assert.equal(kits[0].participant_id, room.localParticipant!.id);
    assert.deepEqual(kits[0].tools.map((t: { name: string }) => t.name), ["sum", "greet", "file"]);

    const byId = await cli(
      "room",
      "agents",
      "list-toolkits",
      ...flags,
      "--participant-id",
      "nobody",
    );
    assert.equal(byId.code, 0, byId.stderr);
    assert.equal(byId.stdout, "nobody hosts no toolkits you can see in room cli-agents\n");

    const sum = await invokeTool(
      "--toolkit",
      "calc",
      "--tool",
      "sum",
      "--arguments",
      '{"a":2,"b":3}',
      "--on-behalf-of-id",
      "p-user",
      "--timeout",
      "10",
    );
    assert.equal(sum.code, 0, sum.stderr);
    assert.deepEqual(JSON.parse(sum.stdout), { result: 5, on_behalf_of: "p-user" });

    const greet = await invokeTool(
      "--toolkit",
      "calc",
      "--tool",
      "greet",
      "--arguments",
      '{"name":"cli"}',
    );
    assert.equal(greet.code, 0, greet.stderr);
    assert.equal(greet.stdout.trim(), "hello cli");

    const summary = await invokeTool(
      "--toolkit",
      "calc",
      "--tool",
      "file",
    );
    assert.equal(summary.code, 0, summary.stderr);
    assert.deepEqual(JSON.parse(summary.stdout), {
      type: "file",
      name: "r.txt",
      mime_type: "text/plain",
      size: 5,
    });
    assert.match(summary.stderr, /--output/);

    const target = `${dir}/saved.txt`;
    const saved = await invokeTool(
      "--toolkit",
      "calc",
      "--tool",
      "file",
      "--output",
      target,
    );
    assert.equal(saved.code, 0, saved.stderr);
    assert.equal(await Deno.readTextFile(target), "file!");

    const bad = await invokeTool(
      "--toolkit",
      "calc",
      "--tool",
      "sum",
      "--arguments",
      '{"a":"x"}',
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error: .*input_schema/m);

    const missing = await invokeTool(
      "--toolkit",
      "nope",
      "--tool",
      "x",
    );
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^error: no toolkit nope in the room\. See the toolkits there: meshagent room agents list-toolkits$/m,
    );

    const notJson = await invokeTool(
      "--toolkit",
      "calc",
      "--tool",
      "sum",
      "--arguments",
      "[1]",
    );
    assert.equal(notJson.code, 1);
    assert.match(notJson.stderr, /--arguments/);
  } finally {
    await hosted.stop();
    await room.dispose();
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: room connect runs a program with the room's environment and its exit code", async () => {
  const server = await startTestServer();
  try {
    const flags = ["--room", ROOM, "--api-url", server.url, "--key", server.apiKey];
    const printEnv = await cli(
      "room",
      "connect",
      ...flags,
      "--identity",
      "worker",
      "--role",
      "agent",
      "--",
      Deno.execPath(),
      "eval",
      "console.log(JSON.stringify({room: Deno.env.get('MESHAGENT_ROOM'), token: " +
        "Deno.env.get('MESHAGENT_TOKEN'), url: Deno.env.get('MESHAGENT_API_URL'), " +
        "path: Deno.env.get('PATH') !== undefined}))",
    );
    assert.equal(printEnv.code, 0, printEnv.stderr);
    const env = JSON.parse(printEnv.stdout);
    assert.equal(env.room, ROOM);
    assert.equal(env.url, server.url);
    assert.equal(env.path, true, "the parent environment is passed on");
    const claims = JSON.parse(
      atob(env.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")),
    );
    assert.equal(claims.name, "worker");
    assert.ok(
      claims.grants.some((g: { name: string; scope: string }) =>
        g.name === "role" && g.scope === "agent"
      ),
    );

    // The token works: the program joins the room with it.
    const joins = await cli(
      "room",
      "connect",
      ...flags,
      "--identity",
      "joiner",
      "--",
      Deno.execPath(),
      "eval",
      `import { RoomClient } from "${new URL("../api/mod.ts", import.meta.url).href}";
       const room = new RoomClient({
         url: Deno.env.get("MESHAGENT_API_URL") + "/rooms/" + Deno.env.get("MESHAGENT_ROOM"),
         token: Deno.env.get("MESHAGENT_TOKEN"), reconnectTimeout: 0 });
       await room.start({ timeout: 5000 });
       console.log(room.localParticipant.getAttribute("name"));
       await room.dispose();`,
    );
    assert.equal(joins.code, 0, joins.stderr);
    assert.equal(joins.stdout.trim(), "joiner");

    const exit = await cli(
      "room",
      "connect",
      ...flags,
      "--",
      Deno.execPath(),
      "eval",
      "Deno.exit(7)",
    );
    assert.equal(exit.code, 7);

    const none = await cli("room", "connect", ...flags);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /command/);
  } finally {
    await server.close();
  }
});
