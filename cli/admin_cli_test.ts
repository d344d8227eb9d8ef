// The admin commands end to end: the real CLI in subprocesses against `meshagent server
// --front deno` (also a subprocess): auth profiles, projects, API keys that work for room
// connections at once and stop at once, secrets, rooms, webhooks, services; `process service`
// + `call` + dismiss with a fake model.
import assert from "node:assert/strict";
import { MessagingChatClient } from "@meshagent/agents";
import { FakeOpenAIServer } from "@meshagent/adapters/openai/testing";
import { startTestServer } from "@meshagent/server/testing";

const MAIN = new URL("./main.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function baseEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { ...Deno.env.toObject(), NO_COLOR: "1", ...extra };
  for (
    const name of [
      "MESHAGENT_API_KEY",
      "MESHAGENT_SECRET",
      "MESHAGENT_TOKEN",
      "MESHAGENT_ROOM",
      "MESHAGENT_API_URL",
      "MESHAGENT_PROJECT_ID",
      "MESHAGENT_KEY_ID",
      "MESHAGENT_PROFILE",
    ]
  ) {
    if (!(name in extra)) delete env[name];
  }
  return env;
}

async function meshagent(args: string[], env: Record<string, string>): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd: ROOT,
    env: baseEnv(env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function ok(args: string[], env: Record<string, string>): Promise<Run> {
  const run = await meshagent(args, env);
  assert.equal(run.code, 0, `meshagent ${args.join(" ")}\n${run.stdout}\n${run.stderr}`);
  return run;
}

async function json(args: string[], env: Record<string, string>): Promise<Record<string, unknown>> {
  const run = await ok([...args, "--json"], env);
  return JSON.parse(run.stdout.trim().split("\n").at(-1)!);
}

/** `meshagent server --front deno --json` in a subprocess. */
async function serve(dataDir: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "server",
      "--port",
      "0",
      "--data-dir",
      dataDir,
      "--front",
      "deno",
      "--json",
    ],
    cwd: ROOT,
    env: baseEnv({}),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the server exited: ${text}`);
    text += value;
  }
  const banner = JSON.parse(text.split("\n")[0]);
  const drained = (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
  const stderr = child.stderr.pipeTo(new WritableStream());
  return {
    url: banner.url as string,
    apiKey: banner.env.MESHAGENT_API_KEY as string,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await drained;
      await stderr;
    },
  };
}

Deno.test("meshagent auth, project, api-key, secret, rooms, webhook, service against a Deno.serve server", async () => {
  const dataDir = await Deno.makeTempDir();
  const config = await Deno.makeTempDir();
  const server = await serve(dataDir);
  try {
    const env = { MESHAGENT_CONFIG_DIR: config };
    // auth: the server key becomes the active profile; nothing else needs flags after that.
    const login = await ok(["auth", "login", "--api-url", server.url, "--key", server.apiKey], env);
    assert.match(login.stderr, /logged in to http:\/\/127\.0\.0\.1:\d+ .*profile default/);
    const profiles = JSON.parse(await Deno.readTextFile(`${config}/profiles.json`));
    assert.equal(profiles.active, "default");
    assert.equal((await Deno.stat(`${config}/profiles.json`)).mode! & 0o777, 0o600);
    const list = await ok(["auth", "list"], env);
    assert.match(list.stdout, /\* default/);
    assert(!list.stdout.includes(server.apiKey.slice(-20)), "auth list never prints the key");
    assert.equal((await json(["auth", "whoami"], env)).server_key, true);

    // A project of its own, and a key for it.
    const project = await json(["project", "create", "team-a"], env);
    const projectId = String(project.id);
    const projects = await ok(["project", "list"], env);
    assert.match(projects.stdout, /^project\s+id\s+created/m);
    assert.match(projects.stdout, /team-a/);
    const key = await json(["api-key", "create", "ci", "--project-id", projectId], env);
    const newKey = String(key.value);
    assert.match(newKey, /^ma-/);

    // The new key works for a room connection at once…
    const keyEnv = { MESHAGENT_API_URL: server.url, MESHAGENT_API_KEY: newKey };
    await ok(["room", "messaging", "broadcast", "--room", "team-room", "--type", "hi"], keyEnv);
    // …sees only its project…
    const other = await meshagent([
      "project",
      "get",
      String(
        JSON.parse(
          (await ok(["project", "list", "--json"], env)).stdout.split("\n")[0],
        ).id,
      ),
    ], keyEnv);
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /403 .*cannot access project/);
    // …and stops working once deleted.
    await ok(["api-key", "delete", String(key.id), "--project-id", projectId], env);
    const refused = await meshagent([
      "room",
      "messaging",
      "broadcast",
      "--room",
      "team-room",
      "--type",
      "hi",
    ], keyEnv);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /403|not trusted/);
    const badKey = await meshagent(["project", "list"], keyEnv);
    assert.match(badKey.stderr, /401 unknown or revoked API key/);

    // Secrets.
    const secret = await json(["secret", "create", "openai", "--value", "sk-1"], env);
    const shown = await json(["secret", "get", String(secret.id), "--show-value"], env);
    assert.equal(shown.value, "sk-1");
    assert.match((await ok(["secret", "list"], env)).stdout, /openai/);
    await ok(["secret", "delete", String(secret.id)], env);
    assert.match((await ok(["secret", "list"], env)).stdout, /^no secrets/);

    // Rooms: create, then issue 12's `rooms list` shows it; disable refuses connections.
    await ok(["rooms", "create", "lobby", "--metadata", '{"floor":1}'], env);
    // (issue 12's `rooms list` takes the key from flags or the environment, not a profile)
    const listed = await ok(
      ["rooms", "list", "--api-url", server.url, "--key", server.apiKey],
      env,
    );
    assert.match(listed.stdout, /lobby/);
    assert.deepEqual((await json(["rooms", "get", "lobby"], env)).metadata, { floor: 1 });
    await ok(["rooms", "update", "lobby", "--disable"], env);
    const disabled = await meshagent(
      ["room", "messaging", "broadcast", "--room", "lobby", "--type", "hi"],
      { ...env, MESHAGENT_API_URL: server.url, MESHAGENT_API_KEY: server.apiKey },
    );
    assert.notEqual(disabled.code, 0);
    assert.match(disabled.stderr, /423|disabled/);
    await ok(["rooms", "delete", "lobby"], env);

    // Webhooks and services.
    const hook = await json([
      "webhook",
      "create",
      "--url",
      "http://127.0.0.1:9/hook",
      "--event",
      "room.ended",
    ], env);
    assert.equal(String(hook.secret).length, 64);
    assert.match((await ok(["webhook", "list"], env)).stdout, /room\.ended/);
    await ok(["webhook", "delete", String(hook.id)], env);
    const specFile = `${config}/spec.json`;
    await Deno.writeTextFile(
      specFile,
      JSON.stringify({
        version: "v1",
        kind: "Service",
        metadata: { name: "helper" },
        external: { url: "http://127.0.0.1:9/" },
        ports: [{ num: "*", endpoints: [{ path: "/agent", meshagent: { identity: "helper" } }] }],
      }),
    );
    await ok(["service", "create", "--file", specFile], env);
    const services = await ok(["service", "list"], env);
    assert.match(services.stdout, /helper\s+\S+\s+http:\/\/127\.0\.0\.1:9\//);
    const bad = await meshagent(["rooms", "create", "Not Valid"], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /invalid room name/);

    await ok(["auth", "logout"], env);
    assert.match((await ok(["auth", "list"], env)).stdout, /^no profiles/);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(config, { recursive: true });
  }
});

Deno.test("meshagent process service + call: the server calls the agent in; it chats; dismiss removes it", async () => {
  const server = await startTestServer({ server: { webhookSecret: "call-secret" } });
  const fake = await FakeOpenAIServer.start({
    replies: () => ({ text: ["hello ", "from the service"] }),
  });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "process",
      "service",
      "--agent-name",
      "helper",
      "--model",
      "gpt-test",
      "--port",
      "0",
      "--json",
      "--webhook-secret",
      "call-secret",
    ],
    cwd: ROOT,
    env: baseEnv({ OPENAI_BASE_URL: fake.baseURL, OPENAI_API_KEY: "test-key" }),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = child.stderr.pipeTo(new WritableStream());
  let alice: Awaited<ReturnType<typeof server.connect>> | undefined;
  try {
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("process service exited");
      text += value;
    }
    const { url } = JSON.parse(text.split("\n")[0]);
    const called = await meshagent(
      [
        "call",
        "--room",
        "serviced",
        "--name",
        "helper",
        "--url",
        url,
        "--api-url",
        server.url,
        "--key",
        server.apiKey,
      ],
      {},
    );
    assert.equal(called.code, 0, called.stderr);
    assert.match(called.stderr, /called helper into room serviced/);

    alice = await server.connect("serviced", "alice");
    const chat = await MessagingChatClient.connect({ room: alice, agentName: "helper" });
    const thread = await chat.startThread();
    const turn = await chat.startTurn(thread, "hi");
    assert.equal((await turn.done).text, "hello from the service");

    // Dismiss it with the CLI: it leaves the room.
    await alice.messaging.enable();
    const sent = await meshagent(
      [
        "room",
        "messaging",
        "send",
        "--room",
        "serviced",
        "--to",
        "helper",
        "--type",
        "dismiss",
        "--api-url",
        server.url,
        "--key",
        server.apiKey,
      ],
      {},
    );
    assert.equal(sent.code, 0, sent.stderr);
    const deadline = Date.now() + 20_000;
    while (alice.messaging.getParticipantByName("helper") !== undefined) {
      if (Date.now() > deadline) throw new Error("the agent did not leave");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } finally {
    await alice?.dispose();
    child.kill("SIGTERM");
    await child.status;
    await reader.cancel().catch(() => {});
    await stderr.catch(() => {});
    await fake.close();
    await server.close();
  }
});
