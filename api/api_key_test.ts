import assert from "node:assert/strict";
import {
  ApiKeyError,
  type ApiKeyErrorCode,
  formatApiKey,
  generateApiKey,
  parseApiKey,
} from "./api_key.ts";

const EXAMPLE =
  "ma-.j.DnM2qR6WWEq4.mYmfuQ-_B55PLVWSWu_B4GCuETgWA-test-secret-secure-secret-sample2560binarykey";
const PARTS = {
  id: "fa3f839c-cdaa-47a5-9612-ae3e99899fb9",
  projectId: "fc1e793c-b556-496b-bf07-8182b844e058",
  secret: "test-secret-secure-secret-sample2560binarykey",
};

function throwsCode(fn: () => unknown, code: ApiKeyErrorCode): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ApiKeyError, `expected ApiKeyError, got ${error}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

Deno.test("the spec's worked example parses and formats back", () => {
  assert.deepEqual(parseApiKey(EXAMPLE), PARTS);
  assert.equal(formatApiKey(PARTS), EXAMPLE);
  assert.equal(formatApiKey(parseApiKey(EXAMPLE)), EXAMPLE);
});

Deno.test("ids are normalised on format; whitespace around a key is ignored", () => {
  const upper = {
    ...PARTS,
    id: PARTS.id.toUpperCase(),
    projectId: PARTS.projectId.replaceAll("-", ""),
  };
  assert.equal(formatApiKey(upper), EXAMPLE);
  assert.deepEqual(parseApiKey(`  ${EXAMPLE}\n`), PARTS);
});

Deno.test("uuid parts are 22 chars of [A-Za-z0-9._] and the secret may contain '-'", () => {
  for (let i = 0; i < 200; i++) {
    const generated = generateApiKey();
    const [, id, project] = generated.key.split("-");
    assert.match(id, /^[A-Za-z0-9._]{22}$/);
    assert.match(project, /^[A-Za-z0-9._]{22}$/);
    assert.deepEqual(parseApiKey(generated.key), {
      id: generated.id,
      projectId: generated.projectId,
      secret: generated.secret,
    });
  }
  const dashed = { ...PARTS, secret: "a-b--c-" };
  assert.deepEqual(parseApiKey(formatApiKey(dashed)), dashed);
});

Deno.test("edge uuids round-trip (all zero, all ff)", () => {
  for (
    const id of ["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"]
  ) {
    const parts = { id, projectId: id, secret: "s" };
    assert.deepEqual(parseApiKey(formatApiKey(parts)), parts);
  }
});

Deno.test("generateApiKey keeps a given project id and makes a random 256-bit secret", () => {
  const a = generateApiKey(PARTS.projectId.toUpperCase());
  const b = generateApiKey(PARTS.projectId);
  assert.equal(a.projectId, PARTS.projectId);
  assert.match(a.secret, /^[0-9a-f]{64}$/);
  assert.notEqual(a.secret, b.secret);
  assert.notEqual(a.id, b.id);
  throwsCode(() => generateApiKey("not-a-uuid"), "invalid_uuid");
});

Deno.test("invalid keys give ApiKeyError with a code", () => {
  throwsCode(() => parseApiKey(""), "invalid_prefix");
  throwsCode(() => parseApiKey("sk-abc"), "invalid_prefix");
  throwsCode(() => parseApiKey(PARTS.secret), "invalid_prefix");
  throwsCode(() => parseApiKey("ma-"), "malformed");
  throwsCode(() => parseApiKey("ma-.j.DnM2qR6WWEq4.mYmfuQ"), "malformed");
  throwsCode(() => parseApiKey("ma-.j.DnM2qR6WWEq4.mYmfuQ-_B55PLVWSWu_B4GCuETgWA"), "malformed");
  throwsCode(
    () => parseApiKey("ma-.j.DnM2qR6WWEq4.mYmfuQ-_B55PLVWSWu_B4GCuETgWA-"),
    "empty_secret",
  );
  throwsCode(() => parseApiKey("ma-short-_B55PLVWSWu_B4GCuETgWA-secret"), "invalid_uuid");
  throwsCode(
    () => parseApiKey("ma-.j.DnM2qR6WWEq4.mYmfu!-_B55PLVWSWu_B4GCuETgWA-s"),
    "invalid_uuid",
  );
  throwsCode(
    () => parseApiKey("ma-.j.DnM2qR6WWEq4.mYmfuQ-_B55PLVWSWu_B4GCuETgWAx-s"),
    "invalid_uuid",
  );
  throwsCode(() => parseApiKey(42 as unknown as string), "malformed");
});

Deno.test("formatApiKey validates its input", () => {
  throwsCode(() => formatApiKey({ ...PARTS, id: "nope" }), "invalid_uuid");
  throwsCode(() => formatApiKey({ ...PARTS, projectId: "" }), "invalid_uuid");
  throwsCode(() => formatApiKey({ ...PARTS, secret: "" }), "empty_secret");
});

Deno.test("error messages say what to fix", () => {
  try {
    parseApiKey("eyJhbGciOiJIUzI1NiJ9.e30.x");
    assert.fail("should throw");
  } catch (error) {
    assert.ok(error instanceof ApiKeyError);
    assert.match(error.message, /must start with "ma-"/);
    assert.match(error.message, /MESHAGENT_API_KEY/);
  }
});
