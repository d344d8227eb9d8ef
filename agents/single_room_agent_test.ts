import assert from "node:assert/strict";
import { JsonContent, type RoomClient, RoomConfigError, RoomError } from "@meshagent/api";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import { FunctionTool, startHostedToolkit, ToolContext, Toolkit } from "@meshagent/tools";
import { RequiredSchema, RequiredToolkit } from "./requirement.ts";
import { RequirementError } from "./requirement_error.ts";
import { SingleRoomAgent } from "./single_room_agent.ts";

const ROOM = "agents";

function client(server: TestServer, name: string): Promise<RoomClient> {
  return server.connect(ROOM, name, { reconnectTimeout: 0 });
}

/** The environment `meshagent room connect` gives a program. */
async function env(server: TestServer, name: string): Promise<Record<string, string>> {
  return {
    MESHAGENT_ROOM: ROOM,
    MESHAGENT_TOKEN: await server.token(ROOM, name, { role: "agent" }),
    MESHAGENT_API_URL: server.url,
  };
}

function mathToolkit(name = "math-toolkit"): Toolkit {
  return new Toolkit({
    name,
    public: true,
    tools: [
      new FunctionTool<{ a: number; b: number }>({
        name: "add",
        inputSchema: {
          type: "object",
          properties: { a: { type: "number" }, b: { type: "number" } },
          required: ["a", "b"],
          additionalProperties: false,
        },
        run: (_ctx, { a, b }) => ({ result: a + b }),
      }),
    ],
  });
}

async function toolkitNames(room: RoomClient): Promise<string[]> {
  return (await room.agents.listToolkits()).map((t) => t.name).sort();
}

Deno.test("SingleRoomAgent: hosts its exposed toolkits, another participant calls them", async () => {
  const server = await startTestServer();
  const agentRoom = await client(server, "math-tools");
  const caller = await client(server, "caller");
  const agent = new SingleRoomAgent({
    title: "Math tools",
    description: "adds numbers",
    attributes: { kind: "tools" },
    toolkits: [mathToolkit()],
  });
  try {
    await agent.start({ room: agentRoom });
    assert.equal(agent.isRunning, true);
    assert.equal(agent.name, "math-tools", "the name comes from the participant");
    assert.deepEqual(agent.hostedToolkits.map((h) => h.name), ["math-toolkit"]);
    const local = agentRoom.localParticipant!;
    assert.equal(local.getAttribute("title"), "Math tools");
    assert.equal(local.getAttribute("description"), "adds numbers");
    assert.equal(local.getAttribute("kind"), "tools");

    assert.ok((await toolkitNames(caller)).includes("math-toolkit"));
    const result = await caller.agents.invokeTool({
      toolkit: "math-toolkit",
      tool: "add",
      arguments: { a: 5, b: 7 },
    });
    assert.ok(result instanceof JsonContent);
    assert.deepEqual(result.json, { result: 12 });
    await assert.rejects(
      caller.agents.invokeTool({ toolkit: "math-toolkit", tool: "add", arguments: { a: "x" } }),
      (e: unknown) => e instanceof RoomError && /input_schema|b|a/.test(e.message),
    );

    await assert.rejects(agent.start({ room: agentRoom }), /start\(\) was called already/);
    await agent.stop();
    assert.equal(agent.isRunning, false);
    assert.equal(agentRoom.isConnected, true, "a room given to start() stays open");
    assert.ok(!(await toolkitNames(caller)).includes("math-toolkit"), "unregistered by stop()");
  } finally {
    await agent.stop();
    await caller.dispose();
    await agentRoom.dispose();
    await server.close();
  }
});

Deno.test("SingleRoomAgent: a required toolkit that appears later is resolved", async () => {
  const server = await startTestServer();
  const agentRoom = await client(server, "needs-math");
  const host = await client(server, "math-host");
  const agent = new SingleRoomAgent({
    requires: [
      new RequiredToolkit({ name: "math-toolkit", tools: ["add"], participantName: "math-host" }),
      new RequiredToolkit({ name: "late-public" }),
    ],
    requirementTimeout: 20_000,
  });
  const hosted = [];
  try {
    const starting = agent.start({ room: agentRoom });
    let started = false;
    starting.then(() => started = true, () => {});
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(started, false, "start() waits for the required toolkits");
    // A private toolkit of the named host counts; a public one from anyone counts.
    hosted.push(await startHostedToolkit(host, mathToolkit(), { public: false }));
    await new Promise((r) => setTimeout(r, 200));
    hosted.push(await startHostedToolkit(host, mathToolkit("late-public")));
    await starting;

    assert.deepEqual(agent.requiredToolkits.map((t) => t.name), ["math-toolkit", "late-public"]);
    const math = agent.getRequiredToolkit("math-toolkit")!;
    assert.equal(math.participantId, host.localParticipant!.id);
    const ctx = new ToolContext({
      caller: { id: agentRoom.localParticipant!.id, attributes: {} },
      room: agentRoom,
    });
    const sum = await math.execute(ctx, "add", { a: 2, b: 3 });
    assert.ok(sum instanceof JsonContent);
    assert.deepEqual(sum.json, { result: 5 });
  } finally {
    await agent.stop();
    for (const h of hosted) await h.stop();
    await host.dispose();
    await agentRoom.dispose();
    await server.close();
  }
});

Deno.test("SingleRoomAgent: a missing required toolkit fails start after its timeout", async () => {
  const server = await startTestServer();
  const observer = await client(server, "observer");
  try {
    // Connected from the environment: the agent's own connection is closed again on failure.
    const agent = new SingleRoomAgent({
      requires: [new RequiredToolkit({ name: "nowhere", participantName: "ghost" })],
      toolkits: [mathToolkit()],
      requirementTimeout: 400,
    });
    await assert.rejects(
      agent.start({ env: await env(server, "needy") }),
      (e: unknown) =>
        e instanceof RequirementError && e.code === 1003 && e.requirement === "nowhere" &&
        /"nowhere" hosted by participant "ghost" did not appear/.test(e.message) &&
        /--identity ghost/.test(e.message),
    );
    assert.equal(agent.room.isClosed, true, "its own connection is closed");
    assert.deepEqual(agent.hostedToolkits, []);
    assert.ok(!(await toolkitNames(observer)).includes("math-toolkit"), "nothing was hosted");

    // A public toolkit that exists, but without the tool the agent needs.
    const partial = new SingleRoomAgent({
      requires: [new RequiredToolkit({ name: "math-toolkit", tools: ["add", "divide"] })],
      requirementTimeout: 300,
    });
    const hosted = await startHostedToolkit(observer, mathToolkit());
    try {
      await assert.rejects(
        partial.start({ env: await env(server, "partial") }),
        (e: unknown) => e instanceof RequirementError && /lacks the tools divide/.test(e.message),
      );
    } finally {
      await hosted.stop();
    }

    // No room in the environment: a clear configuration error.
    await assert.rejects(
      new SingleRoomAgent().start({ env: {} }),
      (e: unknown) =>
        e instanceof RoomConfigError && e.code === "missing_room" &&
        /meshagent room connect/.test(e.message),
    );
  } finally {
    await observer.dispose();
    await server.close();
  }
});

Deno.test("SingleRoomAgent: installs a required schema into room storage", async () => {
  const server = await startTestServer();
  const reader = await client(server, "reader");
  const schema = {
    $root_tag_ref: "#/$defs/notes",
    $defs: {
      notes: { type: "object", properties: { notes: { type: "object", properties: {} } } },
    },
  };
  try {
    const agent = new SingleRoomAgent({
      requires: [new RequiredSchema({ name: "notes", json: schema })],
    });
    await agent.start({ env: await env(server, "schema-agent") });
    await agent.stop();
    const file = await reader.storage.download(".schemas/notes.json");
    assert.deepEqual(JSON.parse(new TextDecoder().decode(file.data)), schema);

    // Installed again (replaced) by the next start.
    const again = new SingleRoomAgent({
      requires: [new RequiredSchema({ name: "notes", json: schema })],
    });
    await again.start({ env: await env(server, "schema-agent") });
    await again.stop();

    // Without json the file must be there already.
    const present = new SingleRoomAgent({ requires: [new RequiredSchema({ name: "notes" })] });
    await present.start({ env: await env(server, "schema-agent") });
    await present.stop();
    const missing = new SingleRoomAgent({ requires: [new RequiredSchema({ name: "other" })] });
    await assert.rejects(
      missing.start({ env: await env(server, "schema-agent") }),
      (e: unknown) =>
        e instanceof RequirementError && e.code === 1003 &&
        /\.schemas\/other\.json is missing/.test(e.message),
    );
  } finally {
    await reader.dispose();
    await server.close();
  }
});

Deno.test("SingleRoomAgent: stop() unregisters, closes its own connection, ends wait()", async () => {
  const server = await startTestServer();
  const observer = await client(server, "observer");
  try {
    const agent = new SingleRoomAgent({ name: "worker", toolkits: [mathToolkit()] });
    await assert.rejects(agent.wait(), /not started/);
    await agent.start({ env: await env(server, "worker") });
    assert.ok((await toolkitNames(observer)).includes("math-toolkit"));
    const waiting = agent.wait();
    // wait() with a signal ends early and leaves the agent running.
    const early = new AbortController();
    const short = agent.wait({ signal: early.signal });
    early.abort();
    await short;
    assert.equal(agent.isRunning, true);

    await agent.stop();
    await waiting;
    assert.equal(agent.room.isClosed, true);
    assert.ok(!(await toolkitNames(observer)).includes("math-toolkit"));
    await agent.stop(); // twice is fine

    // stop() during start(): start fails, nothing is left behind.
    const slow = new SingleRoomAgent({
      requires: [new RequiredToolkit({ name: "never" })],
      toolkits: [mathToolkit()],
      requirementTimeout: 20_000,
    });
    const starting = slow.start({ env: await env(server, "slow") });
    starting.catch(() => {});
    await new Promise((r) => setTimeout(r, 200));
    await slow.stop();
    await assert.rejects(starting);
    assert.equal(slow.room.isClosed, true);
  } finally {
    await observer.dispose();
    await server.close();
  }
});

Deno.test("SingleRoomAgent: run() ends when the room closes (server shutdown)", async () => {
  const server = await startTestServer();
  const observer = await client(server, "observer");
  let serverClosed = false;
  try {
    const agent = new SingleRoomAgent({ toolkits: [mathToolkit()], reconnectTimeout: 0 });
    let ended = false;
    const running = agent.run({ env: await env(server, "runner") }).then(() => ended = true);
    // Wait until the toolkit is hosted.
    for (let i = 0; i < 100 && !(await toolkitNames(observer)).includes("math-toolkit"); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(agent.isRunning);
    assert.equal(ended, false);
    await observer.dispose();
    await server.close();
    serverClosed = true;
    await running;
    assert.equal(ended, true);
    assert.equal(agent.isRunning, false);
    assert.equal(agent.room.isClosed, true);
  } finally {
    await observer.dispose();
    if (!serverClosed) await server.close();
  }
});

Deno.test("SingleRoomAgent: run() stops when its signal aborts", async () => {
  const server = await startTestServer();
  try {
    const agent = new SingleRoomAgent({ toolkits: [mathToolkit()] });
    const stop = new AbortController();
    const running = agent.run({ env: await env(server, "runner"), signal: stop.signal });
    for (let i = 0; i < 250 && !agent.isRunning; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(agent.isRunning);
    stop.abort();
    await running;
    assert.equal(agent.room.isClosed, true);
    assert.deepEqual(agent.hostedToolkits, []);
  } finally {
    await server.close();
  }
});
