// Runs the service examples the way their first lines say — with `deno serve` in a subprocess —
// against a real room server, the model served by the fake OpenAI server on loopback.
import assert from "node:assert/strict";
import { MessagingChatClient } from "@meshagent/agents";
import { FakeOpenAIServer } from "@meshagent/adapters/openai/testing";
import {
  JsonContent,
  type RoomClient,
  ServicesClient,
  signWebhook,
  webhookBody,
} from "@meshagent/api";
import { startTestServer } from "@meshagent/server/testing";

const ROOT = new URL("../", import.meta.url).pathname;
const SECRET = "example-secret";

interface Served {
  base: string;
  output(): string;
  stop(): Promise<void>;
}

/** `deno serve -A --host 127.0.0.1 --port 0 <file>`; resolves once it answers `GET /`. */
async function denoServe(file: string, env: Record<string, string>): Promise<Served> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["serve", "-A", "--host", "127.0.0.1", "--port", "0", file],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) output += text;
  };
  const reading = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const deadline = Date.now() + 60_000;
  let base: string | undefined;
  while (!base) {
    const m = /Listening on (?:\S+ \()?(http:\/\/127\.0\.0\.1:\d+)/.exec(output);
    if (m) base = m[1];
    else if (Date.now() > deadline) throw new Error(`deno serve did not start:\n${output}`);
    else await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    base,
    output: () => output,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* exited */ }
      await child.status;
      await reading;
    },
  };
}

async function until(done: () => boolean | Promise<boolean>, what: string, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function toolkits(room: RoomClient): Promise<string[]> {
  return (await room.agents.listToolkits()).map((t) => t.name);
}

Deno.test("examples/service_host.ts under deno serve: its agent chats, its toolkit adds, dismiss removes", async () => {
  const fake = await FakeOpenAIServer.start({
    replies: () => ({ text: ["hi from ", "assistant"] }),
  });
  const served = await denoServe("examples/service_host.ts", {
    MESHAGENT_WEBHOOK_SECRET: SECRET,
    OPENAI_BASE_URL: fake.baseURL,
    OPENAI_API_KEY: "test-key",
    OPENAI_MODEL: "test-model",
  });
  const server = await startTestServer({ server: { webhookSecret: SECRET } });
  const alice = await server.connect("demo", "alice");
  try {
    const spec = await (await fetch(`${served.base}/.well-known/meshagent-service.json`)).json();
    assert.deepEqual(
      spec.ports[0].endpoints.map((e: { path: string }) => e.path),
      ["/assistant", "/math"],
    );
    const services = new ServicesClient(alice);
    await services.call({ name: "math-tools", url: `${served.base}/math` });
    await services.call({ name: "assistant", url: `${served.base}/assistant` });

    await until(async () => (await toolkits(alice)).includes("math-toolkit"), "math-toolkit");
    const sum = await alice.agents.invokeTool({
      toolkit: "math-toolkit",
      tool: "add",
      arguments: { a: 5, b: 7 },
    });
    assert(sum instanceof JsonContent);
    assert.deepEqual(sum.json, { result: 12 });

    const chat = await MessagingChatClient.connect({ room: alice, agentName: "assistant" });
    const turn = await chat.startTurn(await chat.startThread(), "hello");
    assert.equal((await turn.done).text, "hi from assistant");

    // Dismissed, the math agent leaves; the assistant stays.
    await alice.messaging.enable();
    await until(() => alice.messaging.getParticipantByName("math-tools") !== undefined, "visible");
    await alice.messaging.sendMessage({
      to: alice.messaging.getParticipantByName("math-tools")!,
      type: "dismiss",
      message: {},
    });
    await until(async () => !(await toolkits(alice)).includes("math-toolkit"), "math-toolkit gone");
    await until(() => alice.messaging.getParticipantByName("math-tools") === undefined, "it left");
    assert.notEqual(alice.messaging.getParticipantByName("assistant"), undefined);

    // A call the host cannot verify (the room server signs with another secret) is refused.
    const forged = await fetch(`${served.base}/math`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: webhookBody("room.call", {
        room_name: "demo",
        room_url: server.roomUrl("demo"),
        token: "x",
        arguments: {},
      }),
    });
    assert.equal(forged.status, 401);
    await forged.body?.cancel();
  } finally {
    await alice.dispose();
    await server.close();
    await served.stop();
    await fake.close();
  }
});

Deno.test("meshagent service run starts examples/service_host.ts with deno serve and calls it in", async () => {
  const fake = await FakeOpenAIServer.start({ replies: () => ({ text: ["ok"] }) });
  const server = await startTestServer({ server: { webhookSecret: SECRET } });
  const watcher = await server.connect("run-demo", "watcher");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "cli/main.ts",
      "service",
      "run",
      "--room",
      "run-demo",
      "--api-url",
      server.url,
      "--key",
      server.apiKey,
      "--",
      Deno.execPath(),
      "serve",
      "-A",
      "examples/service_host.ts",
    ],
    cwd: ROOT,
    env: {
      NO_COLOR: "1",
      MESHAGENT_WEBHOOK_SECRET: SECRET,
      OPENAI_BASE_URL: fake.baseURL,
      OPENAI_API_KEY: "test-key",
      OPENAI_MODEL: "test-model",
    },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const reading = (async () => {
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) stderr += text;
  })();
  try {
    await until(() => /called math-tools into room run-demo/.test(stderr), "the calls", 60_000);
    assert.match(stderr, /called assistant into room run-demo/);
    await until(async () => (await toolkits(watcher)).includes("math-toolkit"), "math-toolkit");
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* it ended: its status and stderr tell why */ }
    const status = await child.status;
    await reading;
    await watcher.dispose();
    await server.close();
    await fake.close();
    assert.equal(status.code, 0, stderr);
  }
});

Deno.test("examples/webhook_receiver.ts under deno serve: signed room events in, forged ones out", async () => {
  const served = await denoServe("examples/webhook_receiver.ts", {
    MESHAGENT_WEBHOOK_SECRET: SECRET,
  });
  const server = await startTestServer({
    server: { webhookSecret: SECRET, webhooks: [{ url: `${served.base}/webhook` }] },
  });
  try {
    const bob = await server.connect("hooks", "bob");
    await bob.dispose();
    await until(() => served.output().includes("room hooks ended"), "room.ended");
    for (const line of ["room hooks started", "bob joined hooks", "bob left hooks"]) {
      assert(served.output().includes(line), `${line} in:\n${served.output()}`);
    }
    const body = webhookBody("room.ended", { room_name: "forged" });
    const tampered = await fetch(`${served.base}/webhook`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "meshagent-signature": await signWebhook(body, SECRET),
      },
      body: body.replace("forged", "tampered"),
    });
    assert.equal(tampered.status, 401);
    await tampered.body?.cancel();
    assert(!served.output().includes("tampered"));
  } finally {
    await server.close();
    await served.stop();
  }
});
