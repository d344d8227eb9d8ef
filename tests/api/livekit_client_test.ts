// room.livekit against the real server: tokens minted by the room's `livekit` toolkit, checked with
// livekit-server-sdk's own verifier; grants limit breakout rooms; no grant and no LiveKit settings
// are refused with codes a user can act on.
import assert from "node:assert/strict";
import { TokenVerifier } from "livekit-server-sdk";
import { ApiScope, LivekitGrant, RoomError } from "@meshagent/api";
import { startTestServer } from "@meshagent/server/testing";

const LIVEKIT = {
  url: "wss://media.example.test",
  apiKey: "APIdevkey",
  apiSecret: "a-secret-of-at-least-thirty-two-chars!",
};

Deno.test("room.livekit: connection info with tokens LiveKit accepts, as the grant allows", async () => {
  const server = await startTestServer({ server: { livekit: LIVEKIT } });
  await using _closeServer = { [Symbol.asyncDispose]: () => server.close() };
  const verifier = new TokenVerifier(LIVEKIT.apiKey, LIVEKIT.apiSecret);
  const agent = await server.connect("media", "voice-agent");
  const limited = await server.connect("media", "guest", {
    api: new ApiScope({ livekit: new LivekitGrant({ breakoutRooms: ["call-1"] }) }),
  });
  const none = await server.connect("media", "nobody", { api: new ApiScope({}) });
  try {
    const main = await agent.livekit.getConnectionInfo();
    assert.equal(main.url, LIVEKIT.url);
    const claims = await verifier.verify(main.token);
    assert.equal(claims.sub, agent.localParticipant!.id);
    assert.equal(claims.name, "voice-agent");
    assert.equal(claims.iss, LIVEKIT.apiKey);
    assert.deepEqual(claims.video, {
      room: "media",
      roomJoin: true,
      canPublish: true,
      canSubscribe: true,
      canPublishData: true,
    });
    assert.ok(claims.exp! > Date.now() / 1000);

    const breakout = await agent.livekit.getConnectionInfo({ breakoutRoom: "call-9" });
    assert.equal((await verifier.verify(breakout.token)).video?.room, "media--call-9");

    const allowed = await limited.livekit.getConnectionInfo({ breakoutRoom: "call-1" });
    assert.equal((await verifier.verify(allowed.token)).video?.room, "media--call-1");
    await assert.rejects(
      limited.livekit.getConnectionInfo({ breakoutRoom: "call-2" }),
      (e: unknown) => e instanceof RoomError && e.code === 1001 && /call-2/.test(e.message),
    );
    await assert.rejects(
      none.livekit.getConnectionInfo(),
      (e: unknown) => e instanceof RoomError && e.code === 1001,
    );
    // A token signed with another secret is not accepted by this LiveKit key.
    await assert.rejects(
      new TokenVerifier(LIVEKIT.apiKey, "another-secret-of-thirty-two-chars!!").verify(main.token),
    );
  } finally {
    await agent.dispose();
    await limited.dispose();
    await none.dispose();
  }
});

Deno.test("room.livekit: a server without LiveKit settings answers 1007 naming them", async () => {
  const server = await startTestServer({ server: { livekit: { env: () => undefined } } });
  await using _closeServer = { [Symbol.asyncDispose]: () => server.close() };
  const room = await server.connect("media", "voice-agent");
  try {
    await assert.rejects(
      room.livekit.getConnectionInfo(),
      (e: unknown) => e instanceof RoomError && e.code === 1007 && /LIVEKIT_URL/.test(e.message),
    );
  } finally {
    await room.dispose();
  }
});
