import assert from "node:assert/strict";
import { ApiScope } from "./api_scope.ts";
import { formatApiKey } from "./api_key.ts";
import { ParticipantToken } from "./participant_token.ts";
import {
  meshagentBaseUrl,
  participantTokenFromEnv,
  readEnv,
  RoomConfigError,
  type RoomConfigErrorCode,
  roomConnectionFromEnv,
  websocketRoomUrl,
  websocketRoomUrlFromEnv,
} from "./room_url.ts";

const KEY_ID = "fa3f839c-cdaa-47a5-9612-ae3e99899fb9";
const PROJECT_ID = "fc1e793c-b556-496b-bf07-8182b844e058";
const SECRET = "test-secret-secure-secret-sample2560binarykey";

async function rejectsCode(promise: Promise<unknown>, code: RoomConfigErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof RoomConfigError, `expected RoomConfigError, got ${error}`);
    assert.equal(error.code, code);
    assert.match(error.message, /MESHAGENT_/);
    return true;
  });
}

Deno.test("websocketRoomUrl converts http(s) to ws(s) and appends /rooms/<name>", () => {
  assert.equal(websocketRoomUrl({ roomName: "r" }), "wss://api.meshagent.com/rooms/r");
  assert.equal(websocketRoomUrl({ roomName: "r", apiUrl: "" }), "wss://api.meshagent.com/rooms/r");
  assert.equal(
    websocketRoomUrl({ roomName: "r", apiUrl: "https://h.example/base" }),
    "wss://h.example/base/rooms/r",
  );
  assert.equal(
    websocketRoomUrl({ roomName: "r", apiUrl: "http://localhost:8078" }),
    "ws://localhost:8078/rooms/r",
  );
  assert.equal(websocketRoomUrl({ roomName: "r", apiUrl: "ws://x" }), "ws://x/rooms/r");
  // As in the TS client: no encoding, no trailing-slash trimming.
  assert.equal(websocketRoomUrl({ roomName: "a b", apiUrl: "http://x/" }), "ws://x//rooms/a b");
});

Deno.test("websocketRoomUrlFromEnv: MESHAGENT_ROOM_URL, then MESHAGENT_API_URL, then default", () => {
  assert.equal(websocketRoomUrlFromEnv("r", {}), "wss://api.meshagent.com/rooms/r");
  assert.equal(
    websocketRoomUrlFromEnv("r", { MESHAGENT_API_URL: "http://localhost:8078" }),
    "ws://localhost:8078/rooms/r",
  );
  assert.equal(
    websocketRoomUrlFromEnv("r", {
      MESHAGENT_API_URL: "http://localhost:8078",
      MESHAGENT_ROOM_URL: "https://rooms.example",
    }),
    "wss://rooms.example/rooms/r",
  );
  assert.equal(
    websocketRoomUrlFromEnv("r", (name) => name === "MESHAGENT_API_URL" ? "http://fn" : undefined),
    "ws://fn/rooms/r",
  );
});

Deno.test("meshagentBaseUrl", () => {
  assert.equal(meshagentBaseUrl("http://x"), "http://x");
  assert.equal(meshagentBaseUrl(undefined, { MESHAGENT_API_URL: "http://y" }), "http://y");
  assert.equal(
    meshagentBaseUrl(undefined, { MESHAGENT_API_URL: "  " }),
    "https://api.meshagent.com",
  );
});

Deno.test("readEnv reads the process env and never throws", () => {
  const name = "MESHAGENT_TEST_READ_ENV_VALUE";
  Deno.env.set(name, "v");
  try {
    assert.equal(readEnv(name), "v");
  } finally {
    Deno.env.delete(name);
  }
  assert.equal(readEnv(name), undefined);
});

Deno.test("readEnv without env permission returns undefined instead of prompting", async () => {
  const url = new URL("./room_url.ts", import.meta.url).href;
  const config = new URL("../deno.json", import.meta.url);
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      file,
      `import { readEnv } from ${JSON.stringify(url)};
console.log(JSON.stringify(readEnv("PATH") ?? null));`,
    );
    // No --allow-env: reading must neither prompt nor throw.
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--config", config.pathname, "--allow-read", file],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    assert.equal(new TextDecoder().decode(run.stdout).trim(), "null");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("participantTokenFromEnv signs with MESHAGENT_SECRET and keeps MESHAGENT_KEY_ID", async () => {
  const env = {
    MESHAGENT_ROOM: "room-1",
    MESHAGENT_SECRET: SECRET,
    MESHAGENT_KEY_ID: KEY_ID,
    MESHAGENT_PROJECT_ID: PROJECT_ID,
  };
  const jwt = await participantTokenFromEnv({ participantName: "worker", role: "agent", env });
  const token = await ParticipantToken.fromJwt(jwt, { keys: { [KEY_ID]: SECRET } });
  assert.equal(token.name, "worker");
  assert.equal(token.roomName, "room-1");
  assert.equal(token.role, "agent");
  assert.equal(token.projectId, PROJECT_ID);
  assert.deepEqual(token.apiScope?.toJson(), ApiScope.agentDefault().toJson());

  const noApi = ParticipantToken.decodeUnverified(
    await participantTokenFromEnv({ participantName: "w", scope: null, roomName: "other", env }),
  );
  assert.equal(noApi.apiScope, null);
  assert.equal(noApi.roomName, "other");
});

Deno.test("participantTokenFromEnv prefers MESHAGENT_API_KEY", async () => {
  const env = {
    MESHAGENT_ROOM: "room-1",
    MESHAGENT_SECRET: "other-secret",
    MESHAGENT_KEY_ID: "stale",
    MESHAGENT_API_KEY: formatApiKey({ id: KEY_ID, projectId: PROJECT_ID, secret: SECRET }),
  };
  const token = await ParticipantToken.fromJwt(
    await participantTokenFromEnv({ participantName: "w", env }),
    { keys: { [KEY_ID]: SECRET } },
  );
  assert.equal(token.apiKeyId, KEY_ID);
  assert.equal(token.projectId, PROJECT_ID);
});

Deno.test("participantTokenFromEnv errors name the variables to set", async () => {
  await rejectsCode(participantTokenFromEnv({ participantName: "w", env: {} }), "missing_room");
  await rejectsCode(
    participantTokenFromEnv({ participantName: "w", env: { MESHAGENT_ROOM: "r" } }),
    "missing_credentials",
  );
});

Deno.test("roomConnectionFromEnv uses MESHAGENT_TOKEN as is", async () => {
  const connection = await roomConnectionFromEnv({
    env: {
      MESHAGENT_ROOM: "r",
      MESHAGENT_TOKEN: "a.b.c",
      MESHAGENT_ROOM_URL: "http://localhost:9000",
      MESHAGENT_SECRET: SECRET,
    },
    participantName: "ignored",
  });
  assert.deepEqual(connection, {
    roomName: "r",
    url: "ws://localhost:9000/rooms/r",
    token: "a.b.c",
  });
  const override = await roomConnectionFromEnv({
    env: { MESHAGENT_TOKEN: "a.b.c" },
    roomName: "x",
    apiUrl: "https://h",
  });
  assert.equal(override.url, "wss://h/rooms/x");
});

Deno.test("roomConnectionFromEnv mints a token when MESHAGENT_TOKEN is unset", async () => {
  const connection = await roomConnectionFromEnv({
    env: {
      MESHAGENT_ROOM: "r",
      MESHAGENT_SECRET: SECRET,
      MESHAGENT_API_URL: "http://localhost:8078",
    },
    participantName: "bot",
    role: "agent",
  });
  assert.equal(connection.url, "ws://localhost:8078/rooms/r");
  const token = await ParticipantToken.fromJwt(connection.token, { secret: SECRET });
  assert.equal(token.name, "bot");
  assert.equal(token.roomName, "r");
});

Deno.test("roomConnectionFromEnv errors", async () => {
  await rejectsCode(roomConnectionFromEnv({ env: { MESHAGENT_TOKEN: "a.b.c" } }), "missing_room");
  await rejectsCode(roomConnectionFromEnv({ env: { MESHAGENT_ROOM: " " } }), "missing_room");
  await rejectsCode(
    roomConnectionFromEnv({ env: { MESHAGENT_ROOM: "r", MESHAGENT_SECRET: SECRET } }),
    "missing_credentials",
  );
  await rejectsCode(
    roomConnectionFromEnv({ env: { MESHAGENT_ROOM: "r" }, participantName: "p" }),
    "missing_credentials",
  );
});
