// Interop with the official npm client @meshagent/meshagent (0.39.9): tokens and API keys minted
// by either side must be accepted by the other.

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { ApiScope } from "./api_scope.ts";
import { formatApiKey, generateApiKey, parseApiKey } from "./api_key.ts";
import { ParticipantToken } from "./participant_token.ts";

/** The slice of the official client's API these tests use. */
interface OfficialScope {
  toJSON(): Record<string, unknown>;
}
interface OfficialToken {
  name: string;
  projectId?: string;
  apiKeyId?: string;
  role: string;
  extra?: Record<string, unknown>;
  addRoomGrant(room: string): void;
  addRoleGrant(role: string): void;
  addApiGrant(scope: OfficialScope): void;
  grantScope(name: string): unknown;
  getApiGrant(): OfficialScope | undefined;
  toJwt(options: { token?: string; apiKey?: string; expiration?: Date }): Promise<string>;
}
interface OfficialModule {
  ParticipantToken: {
    new (options: {
      name: string;
      projectId?: string;
      apiKeyId?: string;
      extra?: Record<string, unknown>;
    }): OfficialToken;
    fromJwt(jwt: string, options: { token?: string; verify?: boolean }): Promise<OfficialToken>;
  };
  ApiScope: {
    agentDefault(): OfficialScope;
    fromJSON(json: unknown): OfficialScope;
  };
  parseApiKey(key: string): { id: string; projectId: string; secret: string };
  encodeApiKey(key: { id: string; projectId: string; secret: string }): string;
}

const require = createRequire(import.meta.url);
const mesh = require("@meshagent/meshagent") as OfficialModule;

const KEY_ID = "fa3f839c-cdaa-47a5-9612-ae3e99899fb9";
const PROJECT_ID = "fc1e793c-b556-496b-bf07-8182b844e058";
const SECRET = "test-secret-secure-secret-sample2560binarykey";

/** The official toJwt lets env MESHAGENT_API_KEY override everything: make sure it is unset. */
async function withoutEnvKey(fn: () => Promise<void>): Promise<void> {
  const saved = Deno.env.get("MESHAGENT_API_KEY");
  Deno.env.delete("MESHAGENT_API_KEY");
  try {
    await fn();
  } finally {
    if (saved !== undefined) Deno.env.set("MESHAGENT_API_KEY", saved);
  }
}

Deno.test("a token minted by the official client verifies with ours (explicit secret)", async () => {
  await withoutEnvKey(async () => {
    const official = new mesh.ParticipantToken({
      name: "client1",
      projectId: PROJECT_ID,
      apiKeyId: KEY_ID,
      extra: { custom: "kept" },
    });
    official.addRoomGrant("room-1");
    official.addRoleGrant("agent");
    official.addApiGrant(mesh.ApiScope.agentDefault());
    const jwt = await official.toJwt({
      token: SECRET,
      expiration: new Date(Date.now() + 60_000),
    });

    const token = await ParticipantToken.fromJwt(jwt, { keys: { [KEY_ID]: SECRET } });
    assert.equal(token.name, "client1");
    assert.equal(token.projectId, PROJECT_ID);
    assert.equal(token.apiKeyId, KEY_ID);
    assert.equal(token.version, "0.36.3");
    assert.equal(token.roomName, "room-1");
    assert.equal(token.role, "agent");
    assert.deepEqual(token.extra, { custom: "kept" });
    assert.ok(token.expiration !== undefined && token.expiration.getTime() > Date.now());

    // 0.39.9's agentDefault: secrets present, sqlite absent (spec appendix).
    const scope = token.apiScope!;
    assert.deepEqual(scope.toJson(), official.getApiGrant()!.toJSON());
    assert.equal(scope.sqlite, null);
    assert.notEqual(scope.secrets, null);
    for (
      const surface of [
        "livekit",
        "queues",
        "messaging",
        "dataset",
        "memory",
        "sync",
        "storage",
        "containers",
        "developer",
        "agents",
        "llm",
        "services",
      ] as const
    ) {
      assert.equal(scope.allows(surface), true, surface);
    }
    assert.equal(scope.allows("admin"), false);

    await assert.rejects(ParticipantToken.fromJwt(jwt, { secret: "wrong", keys: {} }));
  });
});

Deno.test("a token minted by the official client with an API key verifies with ours", async () => {
  await withoutEnvKey(async () => {
    const apiKey = formatApiKey({ id: KEY_ID, projectId: PROJECT_ID, secret: SECRET });
    const official = new mesh.ParticipantToken({ name: "client2" });
    official.addRoomGrant("room-2");
    official.addApiGrant(mesh.ApiScope.fromJSON({ queues: { send: ["jobs"] }, storage: {} }));
    const jwt = await official.toJwt({ apiKey });

    const token = await ParticipantToken.fromJwt(jwt, { keys: new Map([[KEY_ID, SECRET]]) });
    assert.equal(token.apiKeyId, KEY_ID);
    assert.equal(token.projectId, PROJECT_ID);
    assert.equal(token.apiScope?.queues?.canSend("jobs"), true);
    assert.equal(token.apiScope?.queues?.canSend("other"), false);
    assert.equal(token.apiScope?.messaging, null);
  });
});

Deno.test("a token minted by ours verifies with the official client", async () => {
  const ours = new ParticipantToken({
    name: "ours",
    projectId: PROJECT_ID,
    apiKeyId: KEY_ID,
    extra: { team: "x" },
  });
  ours.addRoomGrant("room-3").addRoleGrant("tool").addApiGrant(ApiScope.full());
  const jwt = await ours.toJwt({ secret: SECRET, expiration: new Date(Date.now() + 60_000) });

  const official = await mesh.ParticipantToken.fromJwt(jwt, { token: SECRET });
  assert.equal(official.name, "ours");
  assert.equal(official.projectId, PROJECT_ID);
  assert.equal(official.apiKeyId, KEY_ID);
  assert.equal(official.role, "tool");
  assert.equal(official.grantScope("room"), "room-3");
  assert.equal(official.extra?.team, "x");
  // The official client has no sqlite grant in 0.39.9; everything else matches.
  const { sqlite: _sqlite, ...rest } = ApiScope.full().toJson();
  assert.deepEqual(official.getApiGrant()?.toJSON(), rest);
  await assert.rejects(mesh.ParticipantToken.fromJwt(jwt, { token: "wrong" }));
});

Deno.test("API keys: ours parses with theirs and theirs with ours", () => {
  const example = {
    id: KEY_ID,
    projectId: PROJECT_ID,
    secret: SECRET,
  };
  assert.deepEqual(mesh.parseApiKey(formatApiKey(example)), example);
  assert.deepEqual(parseApiKey(mesh.encodeApiKey(example)), example);
  assert.equal(formatApiKey(example), mesh.encodeApiKey(example));
  for (let i = 0; i < 50; i++) {
    const generated = generateApiKey();
    const parts = { id: generated.id, projectId: generated.projectId, secret: generated.secret };
    assert.deepEqual(mesh.parseApiKey(generated.key), parts);
    assert.equal(mesh.encodeApiKey(parts), generated.key);
    assert.deepEqual(parseApiKey(mesh.encodeApiKey(parts)), parts);
  }
});
