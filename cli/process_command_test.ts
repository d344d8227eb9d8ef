// `meshagent process join` end to end: the real CLI in a subprocess joins our room server as an
// LLM agent whose model is the real `openai` client talking to a fake OpenAI server on loopback.
// People (our client and the official npm client) chat with it, it calls a toolkit hosted by
// another participant, and after a SIGKILL and a restart it replays the thread and the provider
// request of the next turn carries the earlier conversation.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { type AgentMessage, agentMessage, MessagingChatClient } from "@meshagent/agents";
import { type FakeOpenAIRequest, FakeOpenAIServer } from "@meshagent/adapters/openai/testing";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import { FunctionTool, startHostedToolkit, Toolkit } from "@meshagent/tools";

const MAIN = new URL("./main.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

const math = new Toolkit({
  name: "math",
  public: true,
  tools: [
    new FunctionTool<{ a: number; b: number }>({
      name: "add",
      description: "Adds two numbers",
      inputSchema: {
        type: "object",
        properties: { a: { type: "number" }, b: { type: "number" } },
        required: ["a", "b"],
        additionalProperties: false,
      },
      run: (_ctx, { a, b }) => ({ sum: a + b }),
    }),
  ],
});

type Item = Record<string, unknown>;

/** The user texts of a Responses request's input. */
function userTexts(request: FakeOpenAIRequest): string[] {
  const input = (request.body.input ?? []) as Item[];
  return input
    .filter((item) => item.role === "user")
    .map((item) =>
      typeof item.content === "string"
        ? item.content
        : (item.content as Item[]).map((part) => String(part.text ?? "")).join("")
    );
}

/** A model: adds with the math tool when asked, else says how many user messages it got. */
function script(request: FakeOpenAIRequest) {
  const input = (request.body.input ?? []) as Item[];
  const last = input.at(-1) ?? {};
  if (last.type === "function_call_output") {
    const sum = JSON.parse(String(last.output)).sum;
    return { text: ["the sum ", `is ${sum}`] };
  }
  const texts = userTexts(request);
  if (texts.at(-1)?.includes("add 2 and 3")) {
    return { toolCalls: [{ namespace: "math", name: "add", arguments: { a: 2, b: 3 } }] };
  }
  return { text: [`I have ${texts.length} `, `messages: ${texts.join(" | ")}`] };
}

interface Agent {
  child: Deno.ChildProcess;
  stderr: string[];
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

async function joinAgent(
  server: TestServer,
  fake: FakeOpenAIServer,
  room: string,
  flags: string[] = [],
): Promise<Agent> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "process",
      "join",
      "--room",
      room,
      "--agent-name",
      "helper",
      "--model",
      "gpt-test",
      "--require-toolkit",
      "math",
      "--rule",
      "You are a test agent.",
      "--api-url",
      server.url,
      "--key",
      server.apiKey,
      ...flags,
    ],
    cwd: ROOT,
    env: { OPENAI_BASE_URL: fake.baseURL, OPENAI_API_KEY: "test-key", NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr: string[] = [];
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const deadline = Date.now() + 60_000;
  while (!stderr.some((line) => line.startsWith("Press Ctrl-C"))) {
    if (Date.now() > deadline) throw new Error(`the agent did not start:\n${stderr.join("\n")}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`the agent exited:\n${stderr.join("\n")}${buffer}`);
    buffer += value;
    const lines = buffer.split("\n");
    buffer = lines.pop()!;
    stderr.push(...lines);
  }
  const drained = (async () => {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      stderr.push(value);
    }
  })();
  return {
    child,
    stderr,
    async stop(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch { /* exited */ }
      const status = await child.status;
      await drained;
      return status;
    },
  };
}

interface OfficialRoom {
  ready: Promise<void>;
  start(): Promise<void>;
  dispose(): void;
  waitForClose(): Promise<void>;
  messaging: {
    enable(): void;
    getParticipantByName(name: string): unknown;
    on(
      name: string,
      listener: (e: { message: { type: string; message: Record<string, unknown> } }) => void,
    ): void;
    sendMessage(
      options: { to: unknown; type: string; message: Record<string, unknown> },
    ): Promise<void>;
  };
}
const require = createRequire(import.meta.url);
const mesh = require("@meshagent/meshagent") as {
  RoomClient: new (options: { protocolFactory: unknown; reconnectTimeout: number }) => OfficialRoom;
  WebSocketClientProtocol: { createFactory(options: { url: string; token: string }): unknown };
};

async function until(
  done: () => boolean | Promise<boolean>,
  what: string,
  ms = 20_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

Deno.test("meshagent process join: chat with tools, our client and the official client, restart and replay", async () => {
  const server = await startTestServer();
  const fake = await FakeOpenAIServer.start({ replies: script });
  const host = await server.connect("e2e", "math-host");
  const hosted = await startHostedToolkit(host, math);
  let agent = await joinAgent(server, fake, "e2e");
  const alice = await server.connect("e2e", "alice");
  const official = new mesh.RoomClient({
    protocolFactory: mesh.WebSocketClientProtocol.createFactory({
      url: server.roomUrl("e2e"),
      token: await server.token("e2e", "olga"),
    }),
    reconnectTimeout: 0,
  });
  official.ready.catch(() => {});
  let chat: MessagingChatClient | undefined;
  try {
    chat = await MessagingChatClient.connect({ room: alice, agentName: "helper" });
    const thread = await chat.startThread();

    // turn 1: streamed, with a tool hosted by another participant
    const first = await chat.startTurn(thread, "please add 2 and 3");
    const kinds: string[] = [];
    const deltas: string[] = [];
    for await (const event of first.events) {
      kinds.push(event.type.replace("meshagent.agent.", ""));
      if (event.type.endsWith("text_content.delta")) deltas.push(String(event.text));
    }
    assert.equal((await first.done).text, "the sum is 5");
    assert.deepEqual(deltas, ["the sum ", "is 5"], "text arrives as the provider streams it");
    for (
      const kind of [
        "turn.started",
        "tool_call.started",
        "tool_call.ended",
        "text_content.delta",
        "turn.ended",
      ]
    ) {
      assert.ok(kinds.includes(kind), `${kind} in ${kinds.join(", ")}`);
    }

    // turn 2 sees turn 1
    const second = await chat.startTurn(thread, "what did I ask?");
    assert.equal(
      (await second.done).text,
      "I have 2 messages: please add 2 and 3 | what did I ask?",
    );

    // the official client takes part in the same thread
    await official.start();
    const got: AgentMessage[] = [];
    official.messaging.on("message", (e) => {
      if (e.message.type === "agent-message") {
        got.push(e.message.message as unknown as AgentMessage);
      }
    });
    official.messaging.enable();
    await until(
      () => official.messaging.getParticipantByName("helper") !== null,
      "helper in olga's presence",
    );
    const start = agentMessage("turn.start", {
      thread_id: thread,
      content: [{ type: "text", text: "hi from npm" }],
    });
    await official.messaging.sendMessage({
      to: official.messaging.getParticipantByName("helper"),
      type: "agent-message",
      message: { payload: start },
    });
    await until(
      () => got.some((m) => m.type === "meshagent.agent.turn.ended"),
      "the official client's turn",
    );
    const npmText = got.filter((m) => m.type.endsWith("text_content.delta")).map((m) => m.text)
      .join("");
    assert.match(npmText, /^I have 3 messages: .* \| hi from npm$/);

    // SIGKILL the agent, start it again: the thread comes back from the room
    chat.close();
    assert.equal((await agent.stop("SIGKILL")).signal, "SIGKILL");
    agent = await joinAgent(server, fake, "e2e");
    chat = await MessagingChatClient.connect({ room: alice, agentName: "helper" });
    const replayed = await chat.openThread(thread);
    const replayedTexts = replayed
      .filter((m) => m.type === "meshagent.agent.turn.start")
      .map((m) => (m.content as { text: string }[])[0].text);
    assert.deepEqual(replayedTexts, ["please add 2 and 3", "what did I ask?", "hi from npm"]);
    assert.ok(replayed.some((m) => m.type.endsWith("tool_call.ended")), "tool calls are replayed");

    const before = fake.requests.length;
    const third = await chat.startTurn(thread, "and now?");
    assert.equal(
      (await third.done).text,
      "I have 4 messages: please add 2 and 3 | what did I ask? | hi from npm | and now?",
    );
    const request = fake.requests.slice(before).at(-1)!;
    const input = request.body.input as Item[];
    assert.ok(
      input.some((item) => item.type === "function_call"),
      "the earlier tool call is in the request",
    );
    assert.ok(input.some((item) => item.type === "function_call_output"), "and its result");
    assert.match(JSON.stringify(request.body.instructions ?? input), /You are a test agent\./);
  } finally {
    chat?.close();
    official.dispose();
    await official.waitForClose().catch(() => {});
    await alice.dispose();
    await agent.stop();
    await hosted.stop();
    await host.dispose();
    await fake.close();
    await server.close();
  }
});

async function cli(
  server: TestServer,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args, "--api-url", server.url, "--key", server.apiKey],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("meshagent process join: toolkit and queue channels; chat --message; process threads and messages", async () => {
  const server = await startTestServer();
  const fake = await FakeOpenAIServer.start({ replies: script });
  const agent = await joinAgent(server, fake, "channels", [
    "--channel",
    "chat",
    "--channel",
    "toolkit:helper",
    "--channel",
    "queue:helper-jobs",
  ]);
  const room = await server.connect("channels", "bob");
  try {
    // run_helper_task, called by another participant, returns the turn's final text
    const task = await cli(
      server,
      "room",
      "agents",
      "invoke-tool",
      "--room",
      "channels",
      "--toolkit",
      "helper",
      "--tool",
      "run_helper_task",
      "--arguments",
      '{"prompt":"from a tool call"}',
    );
    assert.equal(task.code, 0, task.stderr);
    assert.match(task.stdout, /I have 1 messages: from a tool call/);

    // a queue item becomes a turn (and a thread)
    await room.queues.send("helper-jobs", { prompt: "from the queue" }, { create: true });
    await until(
      () => fake.requests.some((r) => userTexts(r).includes("from the queue")),
      "the queued job at the model",
    );

    // a one-shot terminal chat
    const chat = await cli(
      server,
      "chat",
      "--room",
      "channels",
      "--agent",
      "helper",
      "--message",
      "hello from the terminal",
    );
    assert.equal(chat.code, 0, chat.stderr);
    assert.match(chat.stdout, /I have 1 messages: hello from the terminal/);

    // the stored threads, read from the room
    await until(async () => {
      const listed = await cli(
        server,
        "process",
        "threads",
        "--room",
        "channels",
        "--agent-name",
        "helper",
        "--json",
      );
      return listed.stdout.trim().split("\n").length >= 3;
    }, "three stored threads");
    const listed = await cli(
      server,
      "process",
      "threads",
      "--room",
      "channels",
      "--agent-name",
      "helper",
      "--json",
    );
    const threads = listed.stdout.trim().split("\n").map((line) => JSON.parse(line));
    const terminal = threads.find((t) => String(t.name).startsWith("hello from the terminal"));
    assert.ok(terminal, `the chat's thread in ${listed.stdout}`);
    const messages = await cli(
      server,
      "process",
      "messages",
      "--room",
      "channels",
      "--agent-name",
      "helper",
      "--thread-id",
      terminal.path,
    );
    assert.equal(messages.code, 0, messages.stderr);
    assert.match(messages.stdout, /hello from the terminal/);
    assert.match(messages.stdout, /assistant +I have 1 messages/);
    const unknown = await cli(
      server,
      "chat",
      "--room",
      "channels",
      "--agent",
      "nobody",
      "--message",
      "x",
      "--wait",
      "1",
    );
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no agent named nobody/);
  } finally {
    await room.dispose();
    await agent.stop();
    await fake.close();
    await server.close();
  }
});

Deno.test("meshagent process join: a turn's MCP servers (TurnStart.mcp) become tools of that turn", async () => {
  const { startTestServer: startMcpServer, TEST_TOKEN } = await import(
    "../adapters/mcp/testdata/mcp_test_server.ts"
  );
  const mcp = await startMcpServer();
  const server = await startTestServer();
  const fake = await FakeOpenAIServer.start({
    replies: (request) => {
      const input = (request.body.input ?? []) as Item[];
      const last = input.at(-1) ?? {};
      if (last.type === "function_call_output") return { text: `calc says ${last.output}` };
      const tools = JSON.stringify(request.body.tools ?? []);
      if (!tools.includes('"calc"')) return { text: "no calc tools" };
      return { toolCalls: [{ namespace: "calc", name: "add", arguments: { a: 2, b: 40 } }] };
    },
  });
  const agent = await joinAgent(server, fake, "mcp");
  const room = await server.connect("mcp", "alice");
  try {
    const chat = await MessagingChatClient.connect({ room, agentName: "helper" });
    const thread = await chat.startThread();
    const sent = await chat.send("turn.start", {
      thread_id: thread,
      content: [{ type: "text", text: "add with calc" }],
      mcp: {
        servers: [{
          server_label: "calc",
          server_url: mcp.url,
          headers: { Authorization: `Bearer ${TEST_TOKEN}` },
        }],
      },
    });
    const got: AgentMessage[] = [];
    const off = chat.listen((m) => got.push(m));
    await until(() => got.some((m) => m.type.endsWith("turn.ended")), "the MCP turn");
    off();
    assert.ok(sent.message_id);
    const text = got.filter((m) => m.type.endsWith("text_content.delta")).map((m) => m.text).join(
      "",
    );
    assert.match(text, /calc says .*42/);
    assert.equal(mcp.calls.get("add"), 1);
    // a turn without mcp servers does not get them
    const plain = await chat.startTurn(thread, "and without?");
    assert.equal((await plain.done).text, "no calc tools");
    chat.close();
  } finally {
    await room.dispose();
    await agent.stop();
    await fake.close();
    await server.close();
    await mcp.close();
  }
});

Deno.test("meshagent process run --message answers in the terminal; meshagent chat: Ctrl-C interrupts the turn", async () => {
  const server = await startTestServer();
  const fake = await FakeOpenAIServer.start({
    replies: (request) =>
      userTexts(request).at(-1) === "slow"
        ? { text: Array.from({ length: 200 }, (_, i) => `w${i} `), delayMs: 20 }
        : { text: ["hi ", "there"] },
  });
  try {
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "process",
        "run",
        "--room",
        "run",
        "--agent-name",
        "helper",
        "--model",
        "gpt-test",
        "--message",
        "hello",
        "--api-url",
        server.url,
        "--key",
        server.apiKey,
      ],
      cwd: ROOT,
      env: { OPENAI_BASE_URL: fake.baseURL, OPENAI_API_KEY: "test-key" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    assert.equal(run.code, 0, decode(run.stderr));
    assert.match(decode(run.stdout), /hi there/);

    const agent = await joinAgent(server, fake, "ctrlc");
    try {
      const chat = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          MAIN,
          "chat",
          "--room",
          "ctrlc",
          "--agent",
          "helper",
          "--message",
          "slow",
          "--api-url",
          server.url,
          "--key",
          server.apiKey,
        ],
        cwd: ROOT,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stdout = chat.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let seen = "";
      while (!seen.includes("w1 ")) {
        const { value, done } = await stdout.read();
        if (done) break;
        seen += value;
      }
      chat.kill("SIGINT");
      const rest = (async () => {
        while (true) {
          const { value, done } = await stdout.read();
          if (done) return;
          seen += value;
        }
      })();
      const stderr = new Response(chat.stderr).text();
      const status = await chat.status;
      await rest;
      assert.equal(status.code, 0, await stderr);
      assert.match(await stderr, /\(interrupted\)/);
      assert.ok(!seen.includes("w199"), "the answer stopped early");
    } finally {
      await agent.stop();
    }
  } finally {
    await fake.close();
    await server.close();
  }
});
