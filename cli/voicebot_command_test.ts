// `meshagent voicebot join`: the real CLI in a subprocess joins a room with supports_voice set;
// a voice_call is taken to LiveKit (the URL and token from the room's livekit toolkit), which is
// not running here (no LiveKit server is installable), so the caller is answered
// voice_call_failed naming the LiveKit URL, and the bot keeps running until SIGTERM.
import assert from "node:assert/strict";
import type { RoomMessage } from "@meshagent/api";
import { FakeOpenAIServer } from "@meshagent/adapters/openai/testing";
import { startTestServer } from "@meshagent/server/testing";

const MAIN = new URL("./main.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

async function until<T>(check: () => T | undefined | false, what: string): Promise<T> {
  for (let i = 0; i < 1500; i++) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test("meshagent voicebot join: in the room with supports_voice; a call to a LiveKit that is down is answered voice_call_failed", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const livekitUrl = `ws://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  listener.close();
  const server = await startTestServer({
    server: {
      livekit: {
        url: livekitUrl,
        apiKey: "APIdevkey",
        apiSecret: "a-secret-of-at-least-thirty-two-chars!",
      },
    },
  });
  await using _closeServer = { [Symbol.asyncDispose]: () => server.close() };
  await using fake = await FakeOpenAIServer.start();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "voicebot",
      "join",
      "--room",
      "calls",
      "--agent-name",
      "speaker",
      "--model",
      "gpt-test",
      "--voice",
      "alloy",
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
  const room = await server.connect("calls", "ada");
  try {
    const received: RoomMessage[] = [];
    room.on("message", (m) => received.push(m));
    await room.messaging.enable();
    const bot = await until(
      () => room.messaging.getParticipantByName("speaker"),
      "the voicebot in the room",
    ).catch((e) => {
      throw new Error(`${e.message}\n${stderr.join("")}`);
    });
    await until(() => bot.getAttribute("supports_voice") === true, "supports_voice");
    await room.messaging.sendMessage({
      to: bot,
      type: "voice_call",
      message: { breakout_room: "call-1", transcript_path: "calls/1.transcript" },
    });
    const failed = await until(
      () => received.find((m) => m.type === "voice_call_failed"),
      "voice_call_failed",
    ).catch((e) => {
      throw new Error(`${e.message}\n${stderr.join("")}`);
    });
    assert.equal(failed.message.breakout_room, "call-1");
    assert.match(String(failed.message.error), /could not join the LiveKit room of call-1/);
    assert(String(failed.message.error).includes(livekitUrl));
    assert.match(stderr.join(""), /voicebot speaker joined calls.*voice alloy/);
  } finally {
    await room.dispose();
    try {
      child.kill("SIGTERM");
    } catch { /* exited */ }
    const status = await child.status;
    await drained;
    assert.equal(status.code, 0, stderr.join(""));
  }
});
