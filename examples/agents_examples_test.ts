// Runs the agent examples for real, the way their first lines say — each under `meshagent room
// connect` in a subprocess — with the model served by the fake OpenAI server on loopback.
import assert from "node:assert/strict";
import { MessagingChatClient } from "@meshagent/agents";
import { type FakeOpenAIRequest, FakeOpenAIServer } from "@meshagent/adapters/openai/testing";
import { RoomClient } from "@meshagent/api";
import { startTestServer, type TestServer } from "@meshagent/server/testing";

const ROOT = new URL("../", import.meta.url).pathname;
const ROOM = "demo";

interface Example {
  stderr(): string;
  stop(): Promise<Deno.CommandStatus>;
}

/** Starts `examples/<file>` under `room connect` as `identity`. */
function connectExample(
  server: TestServer,
  identity: string,
  file: string,
  env: Record<string, string> = {},
): Example {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "cli/main.ts",
      "room",
      "connect",
      "--room",
      ROOM,
      "--identity",
      identity,
      "--api-url",
      server.url,
      "--key",
      server.apiKey,
      "--",
      Deno.execPath(),
      "run",
      "-A",
      `examples/${file}`,
    ],
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const reading = (async () => {
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) stderr += text;
  })();
  return {
    stderr: () => stderr,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* exited */ }
      const status = await child.status;
      await reading;
      return status;
    },
  };
}

function lastUserText(request: FakeOpenAIRequest): string {
  const messages = (request.body.messages ?? []) as { role: string; content: unknown }[];
  const user = messages.findLast((m) => m.role === "user");
  return typeof user?.content === "string" ? user.content : JSON.stringify(user?.content ?? "");
}

async function until(
  done: () => boolean | Promise<boolean>,
  what: string,
  ms = 60_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test("examples: chat_agent answers a chat through an OpenAI-compatible server", async () => {
  const server = await startTestServer();
  const fake = await FakeOpenAIServer.start({
    replies: (request) => ({ text: ["You said: ", lastUserText(request)] }),
  });
  const agent = connectExample(server, "assistant", "chat_agent.ts", {
    OPENAI_BASE_URL: fake.baseURL,
    OPENAI_MODEL: "llama3.2",
  });
  const room = await server.connect(ROOM, "me");
  try {
    const chat = await MessagingChatClient.connect({
      room,
      agentName: "assistant",
      timeoutMs: 60_000,
    })
      .catch((e) => {
        throw new Error(`${e.message}\nagent stderr:\n${agent.stderr()}`);
      });
    const thread = await chat.startThread();
    const turn = await chat.startTurn(thread, "hello there");
    assert.equal((await turn.done).text, "You said: hello there");
    assert.equal(fake.requests[0].body.model, "llama3.2");
    assert.match(JSON.stringify(fake.requests[0].body.messages), /helpful assistant/);
    chat.close();
  } finally {
    await room.dispose();
    assert.equal((await agent.stop()).code, 0, agent.stderr());
    await fake.close();
    await server.close();
  }
});

Deno.test("examples: queue_worker runs a queued job and keeps its thread", async () => {
  const server = await startTestServer();
  const fake = await FakeOpenAIServer.start({ replies: () => ({ text: "Summary: nothing new." }) });
  const worker = connectExample(server, "summarizer", "queue_worker.ts", {
    OPENAI_BASE_URL: fake.baseURL,
    OPENAI_MODEL: "llama3.2",
  });
  const room = await server.connect(ROOM, "me");
  try {
    await room.queues.send("jobs", { prompt: "Summarize notes/today.md" }, { create: true });
    await until(
      () => fake.requests.some((r) => lastUserText(r).includes("Summarize notes/today.md")),
      "the job at the model",
    );
    await until(
      async () =>
        (await room.storage.list(".threads")).some((entry) => entry.name.endsWith(".thread")),
      "the job's thread document",
    );
  } finally {
    await room.dispose();
    assert.equal((await worker.stop()).code, 0, worker.stderr());
    await fake.close();
    await server.close();
  }
});

Deno.test("examples: task_runner answers run_word-counter_task", async () => {
  const server = await startTestServer();
  const runner = connectExample(server, "word-counter", "task_runner.ts");
  const observer = new RoomClient({
    url: server.roomUrl(ROOM),
    token: await server.token(ROOM, "observer"),
    reconnectTimeout: 0,
  });
  await observer.start();
  try {
    await until(
      async () => (await observer.agents.listToolkits()).some((t) => t.name === "word-counter"),
      `the word-counter toolkit (stderr: ${runner.stderr()})`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
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
        "word-counter",
        "--tool",
        "run_word-counter_task",
        "--arguments",
        '{"text":"the quick brown fox"}',
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.deepEqual(JSON.parse(stdout), { words: 4, longest: "quick" });
  } finally {
    await observer.dispose();
    assert.equal((await runner.stop()).code, 0, runner.stderr());
    await server.close();
  }
});
