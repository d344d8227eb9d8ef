// server/serve.ts under `deno serve` in a subprocess: the room server on Deno's own listener
// (`Deno.upgradeWebSocket`), used by our client and by the official one; SIGTERM ends it.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import {
  ApiScope,
  formatApiKey,
  generateApiKey,
  ParticipantToken,
  RoomClient,
} from "@meshagent/api";

const require = createRequire(import.meta.url);
// deno-lint-ignore no-explicit-any
const mesh: any = require("@meshagent/meshagent");

async function token(apiKey: string, room: string, name: string): Promise<string> {
  const t = new ParticipantToken({ name });
  t.addRoomGrant(room);
  t.addApiGrant(ApiScope.agentDefault());
  return await t.toJwt({ apiKey });
}

Deno.test("server/serve.ts runs under deno serve: our client and the official client talk; SIGTERM stops it", async () => {
  const dataDir = await Deno.makeTempDir();
  const apiKey = formatApiKey(generateApiKey());
  const child = new Deno.Command(Deno.execPath(), {
    args: ["serve", "-A", "--host", "127.0.0.1", "--port", "0", "server/serve.ts"],
    cwd: new URL("../", import.meta.url).pathname,
    env: { NO_COLOR: "1", MESHAGENT_API_KEY: apiKey, MESHAGENT_DATA_DIR: dataDir },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const reading = Promise.all([child.stdout, child.stderr].map(async (stream) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) output += text;
  }));
  let ours: RoomClient | undefined;
  // deno-lint-ignore no-explicit-any
  let official: any;
  try {
    const deadline = Date.now() + 60_000;
    let base: string | undefined;
    while (!base) {
      base = /Listening on (?:\S+ \()?(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      if (!base && Date.now() > deadline) throw new Error(`deno serve did not start:\n${output}`);
      if (!base) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const banner = await (await fetch(`${base}/`)).json();
    assert.equal(banner.name, "meshagent-deno-server");
    const url = `${base.replace(/^http/, "ws")}/rooms/demo`;

    ours = new RoomClient({ url, token: await token(apiKey, "demo", "ours"), reconnectTimeout: 0 });
    await ours.start();
    official = new mesh.RoomClient({
      protocolFactory: mesh.WebSocketClientProtocol.createFactory({
        url,
        token: await token(apiKey, "demo", "official"),
      }),
      reconnectTimeout: 0,
    });
    official.ready.catch(() => {});
    await official.start();

    // A message from the official client reaches ours, through the Deno.serve front.
    const got = Promise.withResolvers<unknown>();
    ours.on("message", (m) => m.type === "hello" && got.resolve(m.message));
    await ours.messaging.enable();
    await official.messaging.enable();
    const deadlineSeen = Date.now() + 10_000;
    let target;
    while (
      !(target = official.messaging.remoteParticipants.find((
        p: { getAttribute(n: string): unknown },
      ) => p.getAttribute("name") === "ours"))
    ) {
      if (Date.now() > deadlineSeen) throw new Error("the official client never saw ours");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await official.messaging.sendMessage({ to: target, type: "hello", message: { n: 1 } });
    assert.deepEqual(await got.promise, { n: 1 });
    // Storage goes through the same handler (plain HTTP is not involved: room tools).
    await ours.storage.upload("notes/a.txt", new TextEncoder().encode("hi"));
    assert.equal(new TextDecoder().decode((await ours.storage.download("notes/a.txt")).data), "hi");
    // SIGTERM while both are still in the room: it shuts the rooms down and ends.
    const closed = new Promise<void>((resolve) => ours!.on("closed", () => resolve()));
    child.kill("SIGTERM");
    await closed;
  } finally {
    await ours?.dispose();
    official?.dispose();
    try {
      child.kill("SIGTERM");
    } catch { /* it ended */ }
    // SIGTERM must end it (the rooms shut down first); a server that ignores it fails here.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<"hung">((resolve) =>
      timer = setTimeout(() => resolve("hung"), 20_000)
    );
    const ended = await Promise.race([child.status, killed]);
    clearTimeout(timer);
    if (ended === "hung") child.kill("SIGKILL");
    const status = await child.status;
    await reading;
    assert.notEqual(ended, "hung", `SIGTERM did not stop deno serve:\n${output}`);
    await Deno.remove(dataDir, { recursive: true });
    assert.equal(status.code, 0, output);
  }
});

Deno.test("server/serve.ts without MESHAGENT_API_KEY says where one comes from", async () => {
  const { serveFromEnv } = await import("./serve.ts");
  assert.throws(() => serveFromEnv(() => undefined), /needs MESHAGENT_API_KEY .*meshagent server/);
  assert.throws(
    () => serveFromEnv((n) => n === "MESHAGENT_API_KEY" ? "nope" : undefined),
    /MESHAGENT_API_KEY is not an API key/,
  );
});
