import assert from "node:assert/strict";
import {
  AgentsGrant,
  ApiScope,
  type Content,
  ControlContent,
  EmptyContent,
  ErrorContent,
  generateApiKey,
  JsonContent,
  type JsonObject,
  ParticipantToken,
  RoomError,
  TextContent,
} from "@meshagent/api";
import { type Received, TestClient } from "./_test_helpers.ts";
import { RoomServer } from "./room_server.ts";
import { startTestServer, type TestServer } from "./testing.ts";

const ROOM = "tools";

const SUM_TOOLS = {
  sum: {
    title: "Sum",
    description: "adds",
    input_spec: {
      types: ["json"],
      stream: false,
      schema: { type: "object", properties: { a: { type: "number" } } },
    },
    output_spec: null,
    defs: null,
    strict: null,
    thumbnail_url: "https://example.com/sum.png",
  },
  echo: { title: "Echo", description: "streams back", input_spec: null, output_spec: null },
};

async function connect(server: TestServer, name: string, api?: ApiScope | null) {
  return await TestClient.connect(
    server.roomUrl(ROOM),
    await server.token(ROOM, name, api === undefined ? {} : { api }),
  );
}

async function register(
  host: TestClient,
  name: string,
  isPublic = true,
  extra: JsonObject = {},
): Promise<string> {
  const reply = await host.request("room.register_toolkit", {
    name,
    title: name.toUpperCase(),
    description: `the ${name} toolkit`,
    tools: SUM_TOOLS,
    public: isPublic,
    ...extra,
  });
  assert.ok(reply instanceof JsonContent, "register answers json");
  const id = (reply.json as JsonObject).id;
  assert.equal(typeof id, "string");
  return id as string;
}

async function listed(client: TestClient, header: JsonObject = {}): Promise<JsonObject> {
  const reply = await client.request("room.list_toolkits", header);
  assert.ok(reply instanceof JsonContent);
  return (reply.json as JsonObject).tools as JsonObject;
}

async function rejects(promise: Promise<unknown>, code: number, text?: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof RoomError, `expected a RoomError, got ${e}`);
    assert.equal(e.code, code, `code of "${e.message}"`);
    if (text) assert.match(e.message, text);
    return true;
  });
}

/** The host answers one call with a content (id S). */
function answer(host: TestClient, call: Received, content: Content): void {
  host.protocol.send("room.tool_call_response", content.pack(), call.id);
}

function chunkOf(host: TestClient, call: Received, content: Content): void {
  host.protocol.sendPacked(
    "room.tool_call_response_chunk",
    { tool_call_id: call.header.tool_call_id as string, chunk: content.toJson() },
    content.payload,
    call.id,
  );
}

Deno.test("register, list, invoke and unregister a public toolkit", async () => {
  const server = await startTestServer();
  const host = await connect(server, "host");
  const caller = await connect(server, "caller");
  try {
    const id = await register(host, "math");
    const tools = await listed(caller);
    assert.deepEqual(Object.keys(tools), ["math"]);
    const math = tools.math as JsonObject;
    assert.equal(math.participant_id, host.id);
    assert.equal(math.title, "MATH");
    assert.equal(math.description, "the math toolkit");
    // The tool descriptions are echoed verbatim, as a map.
    assert.deepEqual(math.tools, SUM_TOOLS);

    const pending = caller.invoke("math", "sum", { a: 2 }, {
      tool_call_id: "call-1",
      on_behalf_of_id: "someone",
      caller_context: { chat: "x" },
    });
    const call = await host.next("room.tool_call.math");
    assert.equal(call.header.name, "sum");
    assert.equal(call.header.tool_call_id, "call-1");
    assert.deepEqual(call.header.arguments, { type: "json", json: { a: 2 } });
    assert.equal(call.header.caller_id, caller.id);
    assert.equal(call.header.on_behalf_of_id, "someone");
    assert.deepEqual(call.header.caller_context, { chat: "x" });
    answer(host, call, new JsonContent({ result: 5 }));
    const result = await pending;
    assert.ok(result instanceof JsonContent);
    assert.deepEqual(result.json, { result: 5 });

    // A file result travels with its payload.
    const filePending = caller.invoke("math", "echo", {});
    const fileCall = await host.next("room.tool_call.math");
    const { FileContent } = await import("@meshagent/api");
    answer(host, fileCall, new FileContent(new Uint8Array([1, 2, 3]), "a.bin", "application/x"));
    const file = await filePending;
    assert.ok(file instanceof FileContent);
    assert.deepEqual([...file.data], [1, 2, 3]);
    assert.equal(file.name, "a.bin");

    // The host's error content reaches the caller as an error with its code.
    const failing = caller.invoke("math", "sum", {});
    answer(host, await host.next("room.tool_call.math"), new ErrorContent("boom", 1008));
    await rejects(failing, 1008, /boom/);

    await rejects(caller.request("room.unregister_toolkit", { id }), 1001, /another participant/);
    assert.ok((await host.request("room.unregister_toolkit", { id })) instanceof EmptyContent);
    assert.deepEqual(await listed(caller), {});
    await rejects(caller.invoke("math", "sum", {}), 1003, /toolkit math was not found/);
    await rejects(host.request("room.unregister_toolkit", { id }), 1003);
  } finally {
    await caller.close();
    await host.close();
    await server.close();
  }
});

Deno.test("registration refuses built-in names, duplicates and malformed headers", async () => {
  const server = await startTestServer();
  const host = await connect(server, "host");
  try {
    await rejects(register(host, "queues"), 1004, /reserved/);
    await rejects(register(host, "storage"), 1004, /reserved/);
    await register(host, "dup");
    await rejects(register(host, "dup"), 1004, /already registered/);
    await rejects(host.request("room.register_toolkit", { tools: {} }), 1002, /name/);
    await rejects(
      host.request("room.register_toolkit", { name: "x", tools: "nope" }),
      1002,
      /tools must be a map/,
    );
    await rejects(host.request("room.unregister_toolkit", {}), 1002);
    // A list of tools is accepted and listed as a map; a `__proto__` name stays a plain key.
    await host.request("room.register_toolkit", {
      name: "__proto__",
      tools: [{ name: "t", title: "T" }],
      public: true,
    });
    const tools = await listed(host);
    assert.ok(Object.hasOwn(tools, "__proto__"));
    assert.deepEqual((tools["__proto__"] as JsonObject).tools, { t: { title: "T" } });
    // Still serving.
    assert.ok(await listed(host));
  } finally {
    await host.close();
    await server.close();
  }
});

Deno.test("private toolkits: listed for their host and by participant id, callable by id", async () => {
  const server = await startTestServer();
  const host = await connect(server, "host");
  const caller = await connect(server, "caller");
  try {
    await register(host, "secret", false);
    assert.deepEqual(await listed(caller), {});
    assert.deepEqual(Object.keys(await listed(host)), ["secret"]);
    assert.deepEqual(Object.keys(await listed(caller, { participant_id: host.id })), ["secret"]);
    assert.deepEqual(Object.keys(await listed(caller, { participant_name: "host" })), ["secret"]);
    assert.deepEqual(await listed(caller, { participant_name: "nobody" }), {});

    await rejects(caller.invoke("secret", "sum", {}), 1003);
    await rejects(
      caller.invoke("secret", "sum", {}, { participant_id: "p-unknown" }),
      1003,
      /not found for participant p-unknown/,
    );
    const byId = caller.invoke("secret", "sum", {}, { participant_id: host.id });
    answer(host, await host.next("room.tool_call.secret"), new TextContent("hi"));
    assert.equal(((await byId) as TextContent).text, "hi");
    // The host may call its own private toolkit.
    const self = host.invoke("secret", "sum", {});
    answer(host, await host.next("room.tool_call.secret"), new TextContent("me"));
    assert.equal(((await self) as TextContent).text, "me");
  } finally {
    await caller.close();
    await host.close();
    await server.close();
  }
});

Deno.test("grants: allowed_toolkits, call, use_tools and register_*_toolkit", async () => {
  const server = await startTestServer();
  const host = await connect(server, "host");
  const limited = await connect(
    server,
    "limited",
    new ApiScope({ agents: new AgentsGrant({ allowedToolkits: ["other"] }) }),
  );
  const noCall = await connect(
    server,
    "nocall",
    new ApiScope({
      agents: new AgentsGrant({
        call: false,
        useTools: false,
        registerPublicToolkit: false,
      }),
    }),
  );
  const noAgents = await connect(server, "noagents", new ApiScope({}));
  try {
    await register(host, "math");
    await rejects(limited.invoke("math", "sum", {}), 1001, /allowed_toolkits/);
    await rejects(noCall.invoke("math", "sum", {}), 1001, /call/);
    await rejects(noAgents.invoke("math", "sum", {}), 1001, /agents/);
    await rejects(noCall.request("room.list_toolkits", {}), 1001, /use_tools/);
    await rejects(noAgents.request("room.list_toolkits", {}), 1001);
    await rejects(register(noCall, "mine", true), 1001, /register_public_toolkit/);
    await register(noCall, "mine", false); // private registration is still allowed
    // Nothing was sent to the host for the denied calls.
    assert.equal(host.pending("room.tool_call.math").length, 0);
  } finally {
    for (const c of [noAgents, noCall, limited, host]) await c.close();
    await server.close();
  }
});

Deno.test("unknown toolkit or tool, and npm 0.39.9 unary invokes without tool_call_id", async () => {
  const server = await startTestServer();
  const host = await connect(server, "host");
  const caller = await connect(server, "caller");
  try {
    await rejects(caller.invoke("nope", "x", {}), 1003, /toolkit nope was not found/);
    await register(host, "math");
    await rejects(caller.invoke("math", "nope", {}), 1003, /tool nope was not found/);
    // No tool_call_id (npm 0.39.9): the host still gets one.
    const pending = caller.invoke("math", "sum", { a: 1 });
    const call = await host.next("room.tool_call.math");
    assert.equal(typeof call.header.tool_call_id, "string");
    assert.ok((call.header.tool_call_id as string).length > 0);
    answer(host, call, new EmptyContent());
    assert.ok((await pending) instanceof EmptyContent);
  } finally {
    await caller.close();
    await host.close();
    await server.close();
  }
});

Deno.test("streams both ways: request chunks reach the host, response chunks the caller", async () => {
  const server = await startTestServer();
  const host = await connect(server, "host");
  const caller = await connect(server, "caller");
  try {
    await register(host, "math");
    const open = caller.openStream("math", "echo", "s-1");
    const call = await host.next("room.tool_call.math");
    assert.deepEqual(call.header.arguments, { type: "control", method: "open" });
    answer(host, call, ControlContent.open());
    assert.ok((await open) instanceof ControlContent);

    assert.ok((await caller.chunk("s-1", new TextContent("a"))) instanceof EmptyContent);
    const inChunk = await host.next("room.tool_call_request_chunk.math");
    assert.equal(inChunk.header.tool_call_id, "s-1");
    assert.deepEqual(inChunk.header.chunk, { type: "text", text: "a" });

    chunkOf(host, call, new TextContent("A"));
    const out = await caller.next("room.tool_call_response_chunk");
    assert.equal(out.header.tool_call_id, "s-1");
    assert.equal(out.header.toolkit, "math");
    assert.equal(out.header.tool, "echo");
    assert.deepEqual(out.header.chunk, { type: "text", text: "A" });

    await caller.chunk("s-1", ControlContent.close());
    const closeIn = await host.next("room.tool_call_request_chunk.math");
    assert.equal((closeIn.header.chunk as JsonObject).method, "close");
    chunkOf(host, call, ControlContent.close());
    const end = await caller.responseChunk("s-1");
    assert.ok(end instanceof ControlContent && end.method === "close" && !end.abnormal);
  } finally {
    await caller.close();
    await host.close();
    await server.close();
  }
});

Deno.test("a host that leaves mid-call fails the call at once; mid-stream closes abnormally", async () => {
  const server = await startTestServer();
  const host = await connect(server, "host");
  const caller = await connect(server, "caller");
  try {
    await register(host, "math");
    const unary = caller.invoke("math", "sum", {});
    const streamOpen = caller.openStream("math", "echo", "s-2");
    await host.next("room.tool_call.math");
    answer(host, await host.next("room.tool_call.math"), ControlContent.open());
    await streamOpen;
    await host.close();
    await rejects(unary, 1008, /^toolkit host disconnected$/);
    const close = await caller.responseChunk("s-2");
    assert.ok(close instanceof ControlContent && close.method === "close");
    assert.equal(close.statusCode, 1011);
    assert.equal(close.message, "toolkit host disconnected");
    // The registration went with the host, and the caller's connection still works.
    assert.deepEqual(await listed(caller), {});
    await rejects(caller.invoke("math", "sum", {}), 1003);
  } finally {
    await caller.close();
    await host.close();
    await server.close();
  }
});

Deno.test("a caller that leaves closes the host's open request stream", async () => {
  const server = await startTestServer();
  const host = await connect(server, "host");
  const caller = await connect(server, "caller");
  try {
    await register(host, "math");
    const open = caller.openStream("math", "echo", "s-3");
    const call = await host.next("room.tool_call.math");
    answer(host, call, ControlContent.open());
    await open;
    await caller.close();
    const close = await host.next("room.tool_call_request_chunk.math");
    assert.equal(close.header.tool_call_id, "s-3");
    assert.equal((close.header.chunk as JsonObject).type, "control");
    assert.equal((close.header.chunk as JsonObject).method, "close");
    // Later answers for the gone caller are dropped without harm.
    chunkOf(host, call, new TextContent("late"));
    chunkOf(host, call, ControlContent.close());
    assert.ok(await listed(host));
  } finally {
    await caller.close();
    await host.close();
    await server.close();
  }
});

Deno.test("list_toolkits with timeout waits for the named participant's toolkit", async () => {
  const server = await startTestServer();
  const caller = await connect(server, "caller");
  let late: TestClient | undefined;
  try {
    const waiting = listed(caller, { participant_name: "late", timeout: 5 });
    late = await connect(server, "late");
    await register(late, "ui", false);
    assert.deepEqual(Object.keys(await waiting), ["ui"]);
    // timeout 0 answers at once.
    assert.deepEqual(await listed(caller, { participant_name: "ghost", timeout: 0 }), {});
    await rejects(caller.request("room.list_toolkits", { timeout: "x" }), 1002);
  } finally {
    await caller.close();
    await late?.close();
    await server.close();
  }
});

Deno.test("a host that does not answer in time: the caller gets 1009", async () => {
  const key = generateApiKey();
  const dataDir = await Deno.makeTempDir();
  const server = await RoomServer.listen({ port: 0, dataDir, keys: [key], toolCallTimeout: 0.2 });
  const token = (name: string) =>
    new ParticipantToken({ name }).addRoomGrant(ROOM).addApiGrant(ApiScope.agentDefault())
      .toJwt({ apiKey: key.key });
  const url = `ws://127.0.0.1:${server.port}/rooms/${ROOM}`;
  const host = await TestClient.connect(url, await token("host"));
  const caller = await TestClient.connect(url, await token("caller"));
  try {
    await register(host, "slow");
    const call = caller.invoke("slow", "sum", {});
    const received = await host.next("room.tool_call.slow");
    await rejects(call, 1009, /timed out/);
    // A late answer is ignored; both sides keep working.
    answer(host, received, new TextContent("late"));
    const again = caller.invoke("slow", "sum", {});
    answer(host, await host.next("room.tool_call.slow"), new TextContent("ok"));
    assert.equal(((await again) as TextContent).text, "ok");
  } finally {
    await caller.close();
    await host.close();
    await server.shutdown();
    await Deno.remove(dataDir, { recursive: true });
  }
});
