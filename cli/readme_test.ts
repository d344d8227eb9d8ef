// The README's first-connection snippet, run for real: extracted from README.md, executed as a
// program against a server started by `meshagent server`, with a listener that must receive it.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { formatApiKey, generateApiKey, RoomClient } from "@meshagent/api";
import { resolveRoomConnection } from "./room_connection.ts";
import { RoomServer } from "@meshagent/server";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

Deno.test("the README's first connection works against a real server", async () => {
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  const snippet = /## A first connection[\s\S]*?```ts ignore\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(snippet, "README.md has the first-connection snippet");

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
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
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
