// `meshagent process join --computer-use --starting-url`: the real CLI in a subprocess gets a
// headless Chromium that opens the starting page; the fake OpenAI server scripts a computer_call
// that fills and sends the page's form, then the screenshot tool saves the screen to room storage.
import assert from "node:assert/strict";
import { MessagingChatClient } from "@meshagent/agents";
import { FakeOpenAIServer } from "@meshagent/adapters/openai/testing";
import { startTestServer } from "@meshagent/server/testing";
import { servePages } from "../computers/testdata/pages.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("meshagent process join --computer-use drives a browser from the starting URL", async () => {
  const server = await startTestServer();
  await using _closeServer = { [Symbol.asyncDispose]: () => server.close() };
  const pages = servePages();
  await using fake = await FakeOpenAIServer.start({
    replies: [
      {
        outputItems: [{
          type: "computer_call",
          call_id: "cu_1",
          // No goto: the browser is already on --starting-url.
          actions: [
            { type: "click", x: 100, y: 95 },
            { type: "type", text: "from the cli" },
            { type: "keypress", keys: ["ENTER"] },
          ],
        }],
      },
      {
        toolCalls: [{
          namespace: "meshagent_openai_computer",
          name: "screenshot",
          arguments: { save_path: "cli/done.png", full_page: true },
        }],
      },
      { text: "sent" },
    ],
  });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "process",
      "join",
      "--room",
      "browse",
      "--agent-name",
      "browser",
      "--model",
      "gpt-test",
      "--computer-use",
      "--starting-url",
      `${pages.origin}/form`,
      "--api-url",
      server.url,
      "--key",
      server.apiKey,
    ],
    cwd: ROOT,
    env: { OPENAI_BASE_URL: fake.baseURL, OPENAI_API_KEY: "test-key", NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr: string[] = [];
  const drained = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr.push(chunk);
    }
  })();
  const room = await server.connect("browse", "alice");
  try {
    const chat = await MessagingChatClient.connect({
      room,
      agentName: "browser",
      timeoutMs: 60_000,
    })
      .catch((e) => {
        throw new Error(`${e.message}\n${stderr.join("")}`);
      });
    const thread = await chat.startThread();
    const turn = await chat.startTurn(thread, "sign up");
    const done = await turn.done;
    assert.equal(done.text, "sent", stderr.join(""));
    assert.deepEqual(pages.submissions, ["from the cli"]);
    const tools = fake.requests[0].body.tools as { type: string }[];
    assert.equal(tools[0].type, "computer");
    const file = await room.storage.download("cli/done.png");
    assert.deepEqual([...file.data.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    chat.close();
  } finally {
    await room.dispose();
    try {
      child.kill("SIGTERM");
    } catch { /* exited */ }
    await child.status;
    await drained;
    await pages.close();
  }
});
