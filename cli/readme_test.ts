// The README, run for real: its first-connection snippet as a program, and its first-hour
// commands with the `meshagent` command `deno task install` writes, against a real server.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { formatApiKey, generateApiKey, RoomClient } from "@meshagent/api";
import { resolveRoomConnection } from "./room_connection.ts";
import { RoomServer } from "@meshagent/server";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function readmeBlock(readme: string, section: string, lang: string): string {
  const block = new RegExp(`## ${section}[\\s\\S]*?\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(readme)
    ?.[1];
  assert.ok(block, `README.md has the ${lang} block of "${section}"`);
  return block;
}

function environment(extra: Record<string, string>): Record<string, string> {
  const env = { ...Deno.env.toObject(), ...extra };
  for (const name of Object.keys(env)) {
    if (name.startsWith("MESHAGENT_") && !(name in extra)) delete env[name];
  }
  return env;
}

Deno.test("the README's first connection works against a real server and says what it did", async () => {
  const snippet = readmeBlock(
    await Deno.readTextFile(`${ROOT}/README.md`),
    "A first connection",
    "ts ignore",
  );
  const key = generateApiKey();
  const apiKey = formatApiKey(key);
  const dataDir = await Deno.makeTempDir();
  const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
  const file = `${ROOT}/.readme_snippet_${crypto.randomUUID()}.ts`;
  let bob: RoomClient | undefined;
  try {
    // Bob listens in the room the snippet joins.
    const { url, token } = await resolveRoomConnection(
      { room: "demo", identity: "bob", apiUrl: server.url },
      (name) => name === "MESHAGENT_API_KEY" ? apiKey : undefined,
    );
    bob = new RoomClient({ url, token, reconnectTimeout: 0 });
    await bob.start();
    await bob.messaging.enable();
    const got = bob.events.next("message", AbortSignal.timeout(20_000));

    await Deno.writeTextFile(file, snippet);
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", file],
      cwd: ROOT,
      env: { MESHAGENT_API_KEY: apiKey, MESHAGENT_API_URL: server.url },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(run.stdout);
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    // It prints what it did: who it joined as, and whom the message went to.
    assert.match(stdout, /^joined room demo as alice \(participant \S+\)$/m);
    assert.match(
      stdout,
      /^sent a chat message to 1 other participant\(s\) with messaging enabled$/m,
    );
    const message = await got;
    assert.equal(message.type, "chat");
    assert.deepEqual(message.message, { text: "hello" });
    assert.equal(bob.messaging.getParticipant(message.fromParticipantId)?.name ?? "alice", "alice");
  } finally {
    await bob?.dispose();
    await Deno.remove(file).catch(() => {});
    await server.shutdown();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("the README's first hour: each command, with the installed meshagent command", async () => {
  const lines = readmeBlock(await Deno.readTextFile(`${ROOT}/README.md`), "The first hour", "sh")
    .split("\n").filter((line) => line.startsWith("meshagent "));
  assert.ok(lines.length >= 8, "a document, a file, a queue item and a tool call");
  const root = await Deno.makeTempDir();
  const key = generateApiKey();
  const dataDir = await Deno.makeTempDir();
  const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
  try {
    // `deno task install --root DIR`, as a user runs it.
    const install = await new Deno.Command(Deno.execPath(), {
      args: ["task", "install", "--root", root],
      cwd: ROOT,
      env: environment({}),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const said = new TextDecoder().decode(install.stdout);
    assert.equal(install.code, 0, new TextDecoder().decode(install.stderr));
    assert.match(said, new RegExp(`^installed ${root}/bin/meshagent$`, "m"));
    assert.match(said, /is not on your PATH; add it, e\.g\.: export PATH=/);
    const env = environment({
      PATH: `${root}/bin:${Deno.env.get("PATH")}`,
      MESHAGENT_API_URL: server.url,
      MESHAGENT_API_KEY: formatApiKey(key),
    });
    const outputs: string[] = [];
    for (const line of lines) {
      // The line exactly as written, through a shell, from the repository folder.
      const run = await new Deno.Command("sh", {
        args: ["-c", line],
        cwd: ROOT,
        env,
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      const stderr = new TextDecoder().decode(run.stderr);
      assert.equal(run.code, 0, `${line}\n${stderr}`);
      assert.doesNotMatch(stderr, /^(Download|Initialize) /m, "no dependency noise");
      outputs.push(new TextDecoder().decode(run.stdout));
    }
    const all = outputs.join("");
    assert.match(all, /"text": "buy milk"/, "the document");
    assert.match(all, /^README\.md {2}\d+ /m, "the file");
    assert.match(all, /^\{\n {2}"job": 1\n\}$/m, "the queue item");
    assert.match(all, /"name": "jobs",\n\s+"size": 0/, "the tool call");
    assert.match(all, /^demo {2}/m, "the room");
  } finally {
    await server.shutdown();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(root, { recursive: true });
  }
});
