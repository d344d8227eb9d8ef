// An LLM agent in a real room: the supervisor, a thread process and the chat channel, driven over
// room messaging by our client and by the official npm client; the model is scripted, the tool is
// hosted by another participant.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import type { RoomClient } from "@meshagent/api";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import { FunctionTool, RemoteToolkit, startHostedToolkit, Toolkit } from "@meshagent/tools";
import {
  type AgentMessage,
  agentMessage,
  AgentSupervisor,
  type AgentSupervisorOptions,
  ChatClientError,
  LLMError,
  MemoryThreadStorageRepository,
  MessagingChatChannel,
  MessagingChatClient,
  ScriptedLLMAdapter,
  type ScriptedModel,
  type SessionItem,
} from "./mod.ts";
import { ChatUser } from "./testdata/chat_user.ts";

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

function lastUser(items: readonly SessionItem[]): string {
  return (items.findLast((i) => i.kind === "user") as { text: string } | undefined)?.text ?? "";
}

/** Adds with the math tool when asked to; otherwise tells how many user messages it has seen. */
const model: ScriptedModel = (context, { number }) => {
  const asked = lastUser(context.items);
  if (asked.startsWith("add") && number === 1) {
    return { toolCalls: [{ toolkit: "math", tool: "add", arguments: { a: 2, b: 3 } }] };
  }
  if (asked.startsWith("add")) {
    const result = context.items.findLast((i) => i.kind === "tool_result") as {
      output: { text: string }[];
    };
    return { text: `the sum is ${JSON.parse(result.output[0].text).sum}` };
  }
  if (asked === "slow") {
    return { text: "one two three four five six seven eight nine ten", delayMs: 40 };
  }
  if (asked === "fail") throw new LLMError("the provider answered 500", "provider_error", 500);
  const users = context.items.filter((i) => i.kind === "user").map((i) =>
    (i as { text: string }).text
  );
  return { text: `I have seen: ${users.join(" | ")}` };
};

interface Rig {
  server: TestServer;
  agentRoom: RoomClient;
  supervisor: AgentSupervisor;
  close(): Promise<void>;
}

async function startAgent(
  server: TestServer,
  room: string,
  options: Partial<AgentSupervisorOptions> = {},
): Promise<Omit<Rig, "server">> {
  const agentRoom = await server.connect(room, "helper");
  const supervisor = new AgentSupervisor({
    agentName: "helper",
    room: agentRoom,
    adapters: new ScriptedLLMAdapter(model),
    turnToolkits: async () => {
      try {
        return [await RemoteToolkit.fromRoom(agentRoom, "math")];
      } catch {
        return [];
      }
    },
    ...options,
  });
  await supervisor.start([
    new MessagingChatChannel({ room: agentRoom, emptyStateTitle: "Ask me" }),
  ]);
  return {
    agentRoom,
    supervisor,
    async close() {
      await supervisor.stop();
      await agentRoom.dispose();
    },
  };
}

Deno.test("chat agent: a turn streams text, calls a toolkit hosted by another participant, and a second turn sees the first", async () => {
  const server = await startTestServer();
  const agent = await startAgent(server, "chat");
  const host = await server.connect("chat", "math-host");
  const hosted = await startHostedToolkit(host, math);
  const alice = await ChatUser.join(await server.connect("chat", "alice"), "helper");
  try {
    const helper = alice.room.messaging.getParticipantByName("helper")!;
    assert.equal(helper.getAttribute("empty_state_title"), "Ask me");
    assert.equal(helper.getAttribute("meshagent.chatbot.threading"), "default-new");
    assert.match(
      String(helper.getAttribute("meshagent.chatbot.thread-dir")),
      /^tmp:\/\/\.threads\/helper/,
    );

    const thread = await alice.startThread();
    const first = await alice.turn(thread, "add 2 and 3");
    assert.equal(first.text, "the sum is 5");
    assert.equal(first.ended.error, undefined);
    const kinds = first.messages.map((m) => m.type.replace("meshagent.agent.", ""));
    for (
      const kind of [
        "turn.start.accepted",
        "turn.started",
        "tool_call.started",
        "tool_call.ended",
        "text_content.delta",
        "turn.ended",
      ]
    ) {
      assert.ok(kinds.includes(kind), `${kind} in ${kinds.join(", ")}`);
    }
    const ended = first.messages.find((m) => m.type.endsWith("tool_call.ended"))!;
    assert.deepEqual(ended.result, { type: "json", json: { sum: 5 } });
    const delta = first.messages.find((m) => m.type.endsWith("text_content.delta"))!;
    assert.equal(delta.provider, "scripted");
    assert.equal(delta.thread_id, thread);
    assert.ok(!Object.values(delta).includes(null), "null fields are omitted");

    const second = await alice.turn(thread, "what did I say?");
    assert.equal(second.text, "I have seen: add 2 and 3 | what did I say?");

    // thread.list shows it, named after its first message
    const listing = await alice.send("thread.list", {});
    const listed = await alice.waitFor(
      "thread.listed",
      (m) => m.source_message_id === listing.message_id,
    );
    assert.deepEqual(
      (listed.threads as { path: string; name: string }[]).map((t) => [t.path, t.name]),
      [[thread, "add 2 and 3"]],
    );
  } finally {
    alice.dispose();
    await alice.room.dispose();
    await hosted.stop();
    await host.dispose();
    await agent.close();
    await server.close();
  }
});

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
      listener: (event: { message: { type: string; message: Record<string, unknown> } }) => void,
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

Deno.test("chat agent: the official npm client runs a turn (payload-wrapped messages)", async () => {
  const server = await startTestServer();
  const agent = await startAgent(server, "npm");
  const official = new mesh.RoomClient({
    protocolFactory: mesh.WebSocketClientProtocol.createFactory({
      url: server.roomUrl("npm"),
      token: await server.token("npm", "olga"),
    }),
    reconnectTimeout: 0,
  });
  official.ready.catch(() => {});
  try {
    await official.start();
    const got: AgentMessage[] = [];
    official.messaging.on("message", (e) => {
      if (e.message.type === "agent-message") {
        got.push(e.message.message as unknown as AgentMessage);
      }
    });
    official.messaging.enable();
    const deadline = Date.now() + 10_000;
    while (!official.messaging.getParticipantByName("helper") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const helper = official.messaging.getParticipantByName("helper");
    assert.ok(helper, "the agent is visible to the official client");
    const start = agentMessage("turn.start", {
      thread_id: "npm-thread",
      content: [{ type: "text", text: "hello" }],
    });
    await official.messaging.sendMessage({
      to: helper,
      type: "agent-message",
      message: { payload: start },
    });
    while (!got.some((m) => m.type === "meshagent.agent.turn.ended") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const text = got.filter((m) => m.type === "meshagent.agent.text_content.delta").map((m) =>
      m.text
    ).join("");
    assert.equal(text, "I have seen: hello");
    const accepted = got.find((m) => m.type === "meshagent.agent.turn.start.accepted")!;
    assert.equal(accepted.sender_name, "olga");
  } finally {
    official.dispose();
    await official.waitForClose();
    await agent.close();
    await server.close();
  }
});

Deno.test("chat agent: bad input and failures end with clear errors; other threads keep working", async () => {
  const server = await startTestServer();
  const agent = await startAgent(server, "bad", {
    adapters: new ScriptedLLMAdapter(model, { models: [{ name: "scripted-1" }], maxRetries: 1 }),
  });
  const alice = await ChatUser.join(await server.connect("bad", "alice"), "helper");
  try {
    // a turn.start without content
    await alice.sendRaw({ type: "meshagent.agent.turn.start", thread_id: "t", message_id: "m1" });
    const rejected = await alice.waitFor(
      "turn.start.rejected",
      (m) => m.source_message_id === "m1",
    );
    assert.match(String((rejected.error as { message: string }).message), /content/);
    // an unknown model
    const sent = await alice.send("turn.start", {
      thread_id: "t",
      model: "gpt-9",
      content: [{ type: "text", text: "x" }],
    });
    const unknown = await alice.waitFor(
      "turn.start.rejected",
      (m) => m.source_message_id === sent.message_id,
    );
    assert.equal((unknown.error as { code: string }).code, "unknown_model");
    // a provider failure ends the turn with its error; another thread is unaffected
    const failed = await alice.turn("t", "fail");
    assert.match(String((failed.ended.error as { message: string }).message), /500/);
    const other = await alice.turn("u", "still there?");
    assert.equal(other.text, "I have seen: still there?");
    // steering a turn that is not running is rejected
    const steer = await alice.send("turn.steer", {
      thread_id: "u",
      turn_id: "nope",
      content: [{ type: "text", text: "x" }],
    });
    const steerRejected = await alice.waitFor(
      "turn.steer.rejected",
      (m) => m.source_message_id === steer.message_id,
    );
    assert.equal((steerRejected.error as { code: string }).code, "turn_not_in_progress");
    // an interrupt mid-stream
    const slow = await alice.send("turn.start", {
      thread_id: "u",
      content: [{ type: "text", text: "slow" }],
    });
    const accepted = await alice.waitFor(
      "turn.start.accepted",
      (m) => m.source_message_id === slow.message_id,
    );
    await alice.waitFor("text_content.delta", (m) => m.turn_id === accepted.turn_id);
    await alice.send("turn.interrupt", { thread_id: "u", turn_id: accepted.turn_id });
    await alice.waitFor("turn.interrupt.accepted", (m) => m.turn_id === accepted.turn_id);
    await alice.waitFor("turn.interrupted", (m) => m.turn_id === accepted.turn_id);
    const ended = await alice.waitFor("turn.ended", (m) => m.turn_id === accepted.turn_id);
    assert.equal((ended.error as { code: string }).code, "interrupted");
    const after = await alice.turn("u", "and now?");
    assert.match(after.text, /I have seen: still there\? \| slow \| and now\?/);
  } finally {
    alice.dispose();
    await alice.room.dispose();
    await agent.close();
    await server.close();
  }
});

Deno.test("chat agent: queued turns run in order; a restarted agent replays the thread and remembers it", async () => {
  const server = await startTestServer();
  const storage = new MemoryThreadStorageRepository(".threads/helper");
  const close = storage.close.bind(storage);
  storage.close = () => Promise.resolve(); // shared by both agent lifetimes below
  let agent = await startAgent(server, "restart", { threadStorage: storage });
  const alice = await ChatUser.join(await server.connect("restart", "alice"), "helper");
  try {
    const thread = await alice.startThread();
    // two turns sent at once: the second waits for the first
    const a = await alice.send("turn.start", {
      thread_id: thread,
      content: [{ type: "text", text: "one" }],
    });
    const b = await alice.send("turn.start", {
      thread_id: thread,
      content: [{ type: "text", text: "two" }],
    });
    const acceptedB = await alice.waitFor(
      "turn.start.accepted",
      (m) => m.source_message_id === b.message_id,
    );
    const endB = await alice.waitFor("turn.ended", (m) => m.turn_id === acceptedB.turn_id);
    const acceptedA = alice.of("turn.start.accepted", (m) =>
      m.source_message_id === a.message_id)[0];
    const endA = alice.of("turn.ended", (m) => m.turn_id === acceptedA.turn_id)[0];
    assert.ok(alice.received.indexOf(endA) < alice.received.indexOf(endB));

    await agent.close();
    agent = await startAgent(server, "restart", { threadStorage: storage });
    await alice.until(() => alice.agentReady(), "the restarted agent");
    const before = alice.received.length;
    const opened = await alice.send("thread.open", { thread_id: thread });
    await alice.waitFor("thread.loaded", (m) => m.source_message_id === opened.message_id);
    const replayed = alice.received.slice(before);
    const texts = replayed
      .filter((m) => m.type === "meshagent.agent.turn.start")
      .map((m) => (m.content as { text: string }[])[0].text);
    assert.deepEqual(texts, ["one", "two"]);
    const answers = replayed.filter((m) => m.type === "meshagent.agent.text_content.delta").map((
      m,
    ) => m.text);
    assert.deepEqual(answers, ["I have seen: one", "I have seen: one | two"]);
    assert.equal(replayed.at(-1)?.type, "meshagent.agent.thread.loaded");
    const third = await alice.turn(thread, "three");
    assert.equal(third.text, "I have seen: one | two | three");
  } finally {
    alice.dispose();
    await alice.room.dispose();
    await agent.close();
    await close();
    await server.close();
  }
});

Deno.test("MessagingChatClient: threads, streamed turn events, steering, listing and replay", async () => {
  const server = await startTestServer();
  const agent = await startAgent(server, "client");
  const room = await server.connect("client", "bob");
  const chat = await MessagingChatClient.connect({ room, agentName: "helper" });
  try {
    const thread = await chat.startThread("notes");
    const turn = await chat.startTurn(thread, "slow");
    const kinds: string[] = [];
    let steered = false;
    for await (const event of turn.events) {
      kinds.push(event.type.replace("meshagent.agent.", ""));
      if (!steered && kinds.includes("text_content.delta")) {
        steered = true;
        await turn.steer("and more");
      }
    }
    const done = await turn.done;
    assert.equal(done.error, undefined);
    assert.ok(kinds.includes("turn.started") && kinds.at(-1) === "turn.ended", kinds.join(","));
    assert.ok(kinds.includes("turn.steered"), "the steer was applied between rounds");
    assert.match(done.text, /one two three .*I have seen: slow \| and more/s);
    const { threads, total } = await chat.listThreads();
    assert.equal(total, 1);
    assert.equal(threads[0].name, "notes");
    const replayed = await chat.openThread(thread);
    assert.ok(replayed.some((m) => m.type === "meshagent.agent.turn.start"));
    await assert.rejects(
      chat.startTurn(thread, "x", { provider: "nobody" }),
      (e) => e instanceof ChatClientError && e.code === "unknown_provider",
    );
  } finally {
    chat.close();
    await room.dispose();
    await agent.close();
    await server.close();
  }
});
