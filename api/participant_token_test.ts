import assert from "node:assert/strict";
import { decodeProtectedHeader, SignJWT } from "jose";
import { ApiScope } from "./api_scope.ts";
import { QueuesGrant } from "./queues_grant.ts";
import { formatApiKey } from "./api_key.ts";
import { ParticipantToken, TokenError, type TokenErrorCode } from "./participant_token.ts";

const KEY_ID = "fa3f839c-cdaa-47a5-9612-ae3e99899fb9";
const PROJECT_ID = "fc1e793c-b556-496b-bf07-8182b844e058";
const SECRET = "test-secret-secure-secret-sample2560binarykey";

function b64url(text: string): string {
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

async function signRaw(payload: Record<string, unknown>, secret = SECRET): Promise<string> {
  return await new SignJWT(payload)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(new TextEncoder().encode(secret));
}

async function rejectsWith(promise: Promise<unknown>, code: TokenErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof TokenError, `expected TokenError, got ${error}`);
    assert.equal(error.code, code, error.message);
    assert.ok(error.message.length > 20);
    return true;
  });
}

function sampleToken(): ParticipantToken {
  const token = new ParticipantToken({ name: "client1", projectId: PROJECT_ID, apiKeyId: KEY_ID });
  token.addRoomGrant("7d0c-room");
  token.addApiGrant(ApiScope.agentDefault());
  return token;
}

/** Runs `fn` with the given MESHAGENT_* variables set (undefined = unset), then restores them. */
async function withEnv(
  vars: Record<string, string | undefined>,
  fn: () => Promise<void>,
): Promise<void> {
  const saved = Object.fromEntries(Object.keys(vars).map((key) => [key, Deno.env.get(key)]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) Deno.env.delete(key);
      else Deno.env.set(key, value);
    }
  };
  apply(vars);
  try {
    await fn();
  } finally {
    apply(saved);
  }
}

Deno.test("sign and verify round trip", async () => {
  const jwt = await sampleToken().toJwt({ secret: SECRET });
  const token = await ParticipantToken.fromJwt(jwt, { keys: { [KEY_ID]: SECRET } });
  assert.equal(token.name, "client1");
  assert.equal(token.projectId, PROJECT_ID);
  assert.equal(token.apiKeyId, KEY_ID);
  assert.equal(token.version, "0.36.3");
  assert.equal(token.roomName, "7d0c-room");
  assert.equal(token.canJoinRoom("7d0c-room"), true);
  assert.equal(token.canJoinRoom("other"), false);
  assert.equal(token.role, "user");
  assert.deepEqual(token.apiScope?.toJson(), ApiScope.agentDefault().toJson());
  assert.equal(token.expiration, undefined);
  // Also verifiable with the single secret.
  assert.equal((await ParticipantToken.fromJwt(jwt, { secret: SECRET })).name, "client1");
});

Deno.test("JWT header is HS256/JWT with no kid; kid travels in the payload", async () => {
  const jwt = await sampleToken().toJwt({ secret: SECRET });
  assert.deepEqual(decodeProtectedHeader(jwt), { alg: "HS256", typ: "JWT" });
  assert.equal(ParticipantToken.decodeUnverified(jwt).apiKeyId, KEY_ID);
});

Deno.test("the payload has the spec's example shape", async () => {
  const jwt = await sampleToken().toJwt({ secret: SECRET });
  const payload = JSON.parse(
    new TextDecoder().decode(
      Uint8Array.from(
        atob(jwt.split(".")[1].replaceAll("-", "+").replaceAll("_", "/")),
        (c) => c.charCodeAt(0),
      ),
    ),
  );
  assert.deepEqual(payload, {
    name: "client1",
    grants: [
      { name: "room", scope: "7d0c-room" },
      {
        name: "api",
        scope: {
          livekit: {},
          queues: {},
          messaging: {},
          dataset: {},
          sqlite: {},
          memory: {},
          sync: {},
          storage: {},
          containers: {},
          developer: {},
          agents: {},
          llm: {},
          services: {},
        },
      },
    ],
    sub: PROJECT_ID,
    kid: KEY_ID,
    version: "0.36.3",
  });
});

Deno.test("the spec's example payload, signed elsewhere, verifies", async () => {
  const jwt = await signRaw({
    name: "client1",
    grants: [
      { name: "room", scope: "7d0c-room" },
      {
        name: "api",
        scope: {
          livekit: {},
          queues: {},
          messaging: {},
          dataset: {},
          sqlite: {},
          memory: {},
          sync: {},
          storage: {},
          containers: {},
          developer: {},
          agents: {},
          llm: {},
          services: {},
        },
      },
    ],
    sub: PROJECT_ID,
    kid: KEY_ID,
    version: "0.36.3",
  });
  const token = await ParticipantToken.fromJwt(jwt, { keys: new Map([[KEY_ID, SECRET]]) });
  assert.equal(token.apiScope?.sqlite?.canExecute("db"), true);
  assert.deepEqual(token.extra, {});
});

Deno.test("wrong secret is invalid_signature", async () => {
  const jwt = await sampleToken().toJwt({ secret: SECRET });
  await rejectsWith(ParticipantToken.fromJwt(jwt, { secret: "wrong" }), "invalid_signature");
  await rejectsWith(
    ParticipantToken.fromJwt(jwt, { keys: { [KEY_ID]: "wrong" } }),
    "invalid_signature",
  );
  // A tampered payload also fails the signature.
  const [h, , s] = jwt.split(".");
  const forged = `${h}.${b64url(JSON.stringify({ name: "admin", grants: [] }))}.${s}`;
  await rejectsWith(ParticipantToken.fromJwt(forged, { secret: SECRET }), "invalid_signature");
});

Deno.test("expired tokens are refused, within the leeway they pass", async () => {
  const token = sampleToken();
  const past = new Date(Date.now() - 120_000);
  const jwt = await token.toJwt({ secret: SECRET, expiration: past });
  await rejectsWith(ParticipantToken.fromJwt(jwt, { secret: SECRET }), "expired");
  await rejectsWith(ParticipantToken.fromJwt(jwt, { secret: SECRET, leeway: 0 }), "expired");
  const lenient = await ParticipantToken.fromJwt(jwt, { secret: SECRET, leeway: 300 });
  assert.equal(lenient.expiration?.getTime(), Math.floor(past.getTime() / 1000) * 1000);
  // currentDate lets a server check against its own clock.
  const ok = await ParticipantToken.fromJwt(jwt, {
    secret: SECRET,
    currentDate: new Date(past.getTime() - 1000),
  });
  assert.equal(ok.name, "client1");
  // A future exp is fine and round-trips.
  const future = new Date(Date.now() + 3_600_000);
  const fresh = await ParticipantToken.fromJwt(
    await token.toJwt({ secret: SECRET, expiration: future }),
    { secret: SECRET },
  );
  assert.equal(fresh.expiration?.getTime(), Math.floor(future.getTime() / 1000) * 1000);
  assert.equal(fresh.extra.exp, undefined);
});

Deno.test("malformed tokens", async () => {
  const options = { secret: SECRET };
  await rejectsWith(ParticipantToken.fromJwt("garbage", options), "malformed");
  await rejectsWith(ParticipantToken.fromJwt("", options), "malformed");
  await rejectsWith(ParticipantToken.fromJwt("a.b", options), "malformed");
  await rejectsWith(ParticipantToken.fromJwt("a.b.c.d", options), "malformed");
  await rejectsWith(ParticipantToken.fromJwt("%%%.%%%.%%%", options), "malformed");
  const jwt = await sampleToken().toJwt({ secret: SECRET });
  await rejectsWith(ParticipantToken.fromJwt(`Bearer ${jwt}`, options), "malformed");
  // Non-JSON payload.
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  await rejectsWith(
    ParticipantToken.fromJwt(`${header}.${b64url("not json")}.sig`, options),
    "malformed",
  );
  // JSON, but not an object.
  await rejectsWith(
    ParticipantToken.fromJwt(`${header}.${b64url("[1,2]")}.sig`, options),
    "malformed",
  );
  assert.throws(
    () => ParticipantToken.decodeUnverified("x.y"),
    (error: unknown) => error instanceof TokenError && error.code === "malformed",
  );
});

Deno.test("missing or wrong claims are invalid_claims", async () => {
  const cases: Record<string, unknown>[] = [
    { grants: [] },
    { name: "", grants: [] },
    { name: 5, grants: [] },
    { name: "x" },
    { name: "x", grants: {} },
    { name: "x", grants: ["room"] },
    { name: "x", grants: [{ scope: "r" }] },
    { name: "x", grants: [{ name: "api", scope: "all" }] },
    { name: "x", grants: [{ name: "api", scope: { queues: { send: "q" } } }] },
    { name: "x", grants: [{ name: "api", scope: {} }, { name: "api", scope: {} }] },
    { name: "x", grants: [], kid: 7 },
  ];
  for (const payload of cases) {
    await rejectsWith(
      ParticipantToken.fromJwt(await signRaw(payload), { secret: SECRET }),
      "invalid_claims",
    );
  }
  // A non-numeric exp is caught by the claim checks too.
  await rejectsWith(
    ParticipantToken.fromJwt(await signRaw({ name: "x", grants: [], exp: "soon" }), {
      secret: SECRET,
    }),
    "invalid_claims",
  );
});

Deno.test("key selection: unknown kid, missing kid, fallback secret", async () => {
  const jwt = await sampleToken().toJwt({ secret: SECRET });
  await rejectsWith(
    ParticipantToken.fromJwt(jwt, { keys: { "00000000-0000-4000-8000-000000000000": SECRET } }),
    "unknown_key",
  );
  await rejectsWith(
    ParticipantToken.fromJwt(jwt, { keys: () => undefined }),
    "unknown_key",
  );
  // Unknown kid, but a single secret is configured: that secret is tried.
  const viaSecret = await ParticipantToken.fromJwt(jwt, { keys: {}, secret: SECRET });
  assert.equal(viaSecret.name, "client1");
  // The async lookup form.
  const viaFn = await ParticipantToken.fromJwt(jwt, {
    keys: (kid) => Promise.resolve(kid === KEY_ID ? SECRET : undefined),
  });
  assert.equal(viaFn.apiKeyId, KEY_ID);
  // No kid in the token and only keys configured.
  const noKid = await new ParticipantToken({ name: "n" }).toJwt({ secret: SECRET });
  await rejectsWith(ParticipantToken.fromJwt(noKid, { keys: { [KEY_ID]: SECRET } }), "unknown_key");
  // Nothing configured at all.
  await rejectsWith(ParticipantToken.fromJwt(noKid), "missing_secret");
});

Deno.test("unsigned and non-HS256 tokens are refused", async () => {
  const payload = b64url(JSON.stringify({ name: "x", grants: [] }));
  const none = `${b64url(JSON.stringify({ alg: "none" }))}.${payload}.`;
  await rejectsWith(ParticipantToken.fromJwt(none, { secret: SECRET }), "unsupported_algorithm");
  const rs = `${b64url(JSON.stringify({ alg: "RS256" }))}.${payload}.abc`;
  await rejectsWith(ParticipantToken.fromJwt(rs, { secret: SECRET }), "unsupported_algorithm");
});

Deno.test("extra claims are preserved and cannot override reserved claims", async () => {
  const jwt = await signRaw({
    name: "x",
    grants: [{ name: "site", scope: "s" }, { name: "custom", scope: { a: [1] } }],
    custom_claim: { nested: true },
    iat: 1700000000,
  });
  const token = await ParticipantToken.fromJwt(jwt, { secret: SECRET });
  assert.deepEqual(token.extra, { custom_claim: { nested: true }, iat: 1700000000 });
  assert.deepEqual(token.grantScope("custom"), { a: [1] });
  assert.equal(token.apiScope, null);
  const again = await ParticipantToken.fromJwt(await token.toJwt({ secret: SECRET }), {
    secret: SECRET,
  });
  assert.deepEqual(again.extra, token.extra);
  assert.deepEqual(again.toJson(), token.toJson());

  const sneaky = new ParticipantToken({ name: "real", extra: { name: "fake", grants: 1 } });
  assert.equal(sneaky.toJson().name, "real");
  assert.deepEqual(sneaky.toJson().grants, []);
});

Deno.test("role: the first non-user role grant wins", () => {
  const token = new ParticipantToken({ name: "x" });
  assert.equal(token.role, "user");
  token.addRoleGrant("user").addRoleGrant("agent").addRoleGrant("tool");
  assert.equal(token.role, "agent");
  assert.equal(token.roomName, null);
  assert.equal(token.apiScope, null);
});

Deno.test("only one api grant", () => {
  const token = new ParticipantToken({ name: "x" }).addApiGrant(new ApiScope());
  assert.throws(
    () => token.addApiGrant(new ApiScope({ queues: new QueuesGrant() })),
    (error: unknown) => error instanceof TokenError && error.code === "invalid_claims",
  );
});

Deno.test("an API key overwrites kid and sub and signs", async () => {
  const apiKey = formatApiKey({ id: KEY_ID, projectId: PROJECT_ID, secret: SECRET });
  const token = new ParticipantToken({ name: "x", projectId: "old", apiKeyId: "old" });
  const jwt = await token.toJwt({ apiKey, secret: "ignored" });
  const verified = await ParticipantToken.fromJwt(jwt, { keys: { [KEY_ID]: SECRET } });
  assert.equal(verified.apiKeyId, KEY_ID);
  assert.equal(verified.projectId, PROJECT_ID);
  await rejectsWith(token.toJwt({ apiKey: "nope" }), "malformed");
});

Deno.test("environment: explicit secret wins, env key next, env secret drops kid", async () => {
  const apiKey = formatApiKey({ id: KEY_ID, projectId: PROJECT_ID, secret: SECRET });
  const token = new ParticipantToken({ name: "x", projectId: "p", apiKeyId: "k" });
  await withEnv({ MESHAGENT_API_KEY: apiKey, MESHAGENT_SECRET: "env-secret" }, async () => {
    // An explicit secret beats MESHAGENT_API_KEY (Python precedence) and keeps kid/sub.
    const explicit = ParticipantToken.decodeUnverified(await token.toJwt({ secret: "mine" }));
    assert.equal(explicit.apiKeyId, "k");
    // No explicit secret: MESHAGENT_API_KEY signs and sets kid/sub.
    const viaKey = await ParticipantToken.fromJwt(await token.toJwt(), {
      keys: { [KEY_ID]: SECRET },
    });
    assert.equal(viaKey.projectId, PROJECT_ID);
  });
  await withEnv({ MESHAGENT_API_KEY: undefined, MESHAGENT_SECRET: "env-secret" }, async () => {
    const viaSecret = await ParticipantToken.fromJwt(await token.toJwt(), { secret: "env-secret" });
    assert.equal(viaSecret.apiKeyId, undefined);
    assert.equal(viaSecret.projectId, "p");
  });
  await withEnv({ MESHAGENT_API_KEY: undefined, MESHAGENT_SECRET: undefined }, async () => {
    await rejectsWith(token.toJwt(), "missing_secret");
  });
});

Deno.test("a token minted the way npm @meshagent/meshagent 0.39.9 does parses", async () => {
  // Payload as captured from the 0.39.9 client (spec appendix): secrets present, sqlite absent.
  const jwt = await signRaw({
    name: "client1",
    grants: [
      { name: "room", scope: "room-1" },
      {
        name: "api",
        scope: {
          livekit: {},
          queues: {},
          messaging: {},
          dataset: {},
          memory: {},
          sync: {},
          storage: {},
          containers: {},
          developer: {},
          agents: {},
          llm: {},
          secrets: {},
          services: {},
        },
      },
    ],
    sub: PROJECT_ID,
    kid: KEY_ID,
    version: "0.36.3",
  });
  const token = await ParticipantToken.fromJwt(jwt, { keys: { [KEY_ID]: SECRET } });
  const scope = token.apiScope!;
  assert.equal(scope.sqlite, null);
  assert.notEqual(scope.secrets, null);
  assert.equal(scope.agents?.canCallToolkit("anything"), true);
  assert.equal(scope.storage?.canWrite("x/y"), true);
  assert.equal(scope.admin, null);
  assert.equal(scope.tunnels, null);
});
