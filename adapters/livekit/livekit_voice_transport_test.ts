// LivekitVoiceTransport up to the media connection (no LiveKit server can be installed here: not
// on Debian, not on npm): the room's livekit toolkit mints the token (checked with
// livekit-server-sdk's TokenVerifier); joining a local port with nothing behind it fails with a
// LivekitJoinError naming the URL; a VoiceBot on this transport answers voice_call_failed.
import assert from "node:assert/strict";
import { TokenVerifier } from "livekit-server-sdk";
import type { RoomMessage } from "@meshagent/api";
import { ScriptedLLMAdapter, VoiceBot } from "@meshagent/agents";
import { startTestServer } from "@meshagent/server/testing";
import { LivekitJoinError, LivekitVoiceTransport } from "./mod.ts";

/** A loopback port nobody listens on. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

const KEYS = { apiKey: "APIdevkey", apiSecret: "a-secret-of-at-least-thirty-two-chars!" };

Deno.test("LivekitVoiceTransport: a token LiveKit accepts; no server behind the URL is a clear error", async () => {
  const url = `ws://127.0.0.1:${closedPort()}`;
  const server = await startTestServer({ server: { livekit: { url, ...KEYS } } });
  await using _close = { [Symbol.asyncDispose]: () => server.close() };
  const room = await server.connect("office", "voice-agent");
  try {
    const info = await room.livekit.getConnectionInfo({ breakoutRoom: "call-1" });
    const claims = await new TokenVerifier(KEYS.apiKey, KEYS.apiSecret).verify(info.token);
    assert.equal(claims.video?.room, "office--call-1");
    assert.equal(claims.sub, room.localParticipant!.id);
    assert.equal(info.url, url);
    await assert.rejects(
      new LivekitVoiceTransport().join({ ...info, breakoutRoom: "call-1" }),
      (e: unknown) =>
        e instanceof LivekitJoinError && e.code === "connect_failed" &&
        e.message.includes(url) && /call-1/.test(e.message) &&
        /LiveKit server running/.test(e.message),
    );
  } finally {
    await room.dispose();
  }
});

Deno.test("LivekitVoiceTransport: a media server that never answers times out", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })().catch(() => {});
  try {
    const url = `ws://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
    await assert.rejects(
      new LivekitVoiceTransport({ connectTimeout: 500 }).join({
        url,
        token: "x.y.z",
        breakoutRoom: "call-2",
      }),
      (e: unknown) => e instanceof LivekitJoinError && /did not answer/.test(e.message),
    );
  } finally {
    listener.close();
    for (const conn of held) conn.close();
    await accepting;
  }
});

Deno.test("VoiceBot on LiveKit: a call whose media server is down is answered voice_call_failed", async () => {
  const url = `ws://127.0.0.1:${closedPort()}`;
  const server = await startTestServer({ server: { livekit: { url, ...KEYS } } });
  await using _close = { [Symbol.asyncDispose]: () => server.close() };
  const agentRoom = await server.connect("office", "voice-agent");
  const user = await server.connect("office", "ada");
  const lines: string[] = [];
  const bot = new VoiceBot({
    name: "voice-agent",
    llmAdapter: new ScriptedLLMAdapter(() => ({ text: "hi" })),
    stt: { transcribe: () => Promise.resolve("") },
    tts: { synthesize: () => Promise.resolve({ samples: new Int16Array(0), sampleRate: 24000 }) },
    transport: new LivekitVoiceTransport(),
    log: (line) => lines.push(line),
  });
  try {
    await bot.start({ room: agentRoom });
    const received: RoomMessage[] = [];
    user.on("message", (m) => received.push(m));
    await user.messaging.enable();
    let agent;
    for (let i = 0; i < 200 && !(agent = user.messaging.getParticipantByName("voice-agent")); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await user.messaging.sendMessage({
      to: agent!,
      type: "voice_call",
      message: { breakout_room: "call-3" },
    });
    let failed: RoomMessage | undefined;
    for (
      let i = 0;
      i < 500 && !(failed = received.find((m) => m.type === "voice_call_failed"));
      i++
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert(failed, `no voice_call_failed; log: ${lines.join("\n")}`);
    assert.match(String(failed.message.error), /could not join the LiveKit room of call-3/);
    assert.equal(bot.activeCalls.length, 0);
  } finally {
    await bot.stop();
    await user.dispose();
    await agentRoom.dispose();
  }
});
