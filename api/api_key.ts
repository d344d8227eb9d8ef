// The `ma-` API key string (spec §3.4): `ma-<kid64>-<project64>-<secret>`, where each UUID is
// its 16 bytes in URL-safe base64 with the `=` padding stripped and every `-` replaced by `.`
// (22 chars from [A-Za-z0-9._]). The secret is everything after the second `-` and may itself
// contain `-`. Web-standard code only (atob/btoa, crypto), so it runs in browsers too.

/**
 * The parts of an `ma-…` API key.
 *
 * @example
 * ```ts
 * const key: ApiKey = {
 *   id: "fa3f839c-cdaa-47a5-9612-ae3e99899fb9",
 *   projectId: "fc1e793c-b556-496b-bf07-8182b844e058",
 *   secret: "test-secret-secure-secret-sample2560binarykey",
 * };
 * ```
 */
export interface ApiKey {
  /** Key id (canonical lowercase UUID); travels as the `kid` claim of tokens it signs. */
  readonly id: string;
  /** Project id (canonical lowercase UUID); travels as the `sub` claim. */
  readonly projectId: string;
  /** The HMAC secret: its UTF-8 bytes are the HS256 key. */
  readonly secret: string;
}

/**
 * A freshly generated key: its parts plus the formatted `ma-…` string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const generated: GeneratedApiKey = generateApiKey();
 * assert.ok(generated.key.startsWith("ma-"));
 * ```
 */
export interface GeneratedApiKey extends ApiKey {
  /** The formatted key, `ma-<kid64>-<project64>-<secret>`. */
  readonly key: string;
}

/**
 * What is wrong with an API key string.
 *
 * @example
 * ```ts
 * const code: ApiKeyErrorCode = "invalid_prefix";
 * ```
 */
export type ApiKeyErrorCode = "invalid_prefix" | "malformed" | "invalid_uuid" | "empty_secret";

/**
 * Thrown by {@linkcode parseApiKey} and {@linkcode formatApiKey} on bad input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => parseApiKey("not-a-key"),
 *   (error: unknown) => error instanceof ApiKeyError && error.code === "invalid_prefix",
 * );
 * ```
 */
export class ApiKeyError extends Error {
  /** Machine-readable reason. */
  readonly code: ApiKeyErrorCode;

  /**
   * Creates the error.
   *
   * @param code Machine-readable reason.
   * @param message What is wrong and how to fix it.
   */
  constructor(code: ApiKeyErrorCode, message: string) {
    super(message);
    this.name = "ApiKeyError";
    this.code = code;
  }
}

const PREFIX = "ma-";
const UUID_PART = /^[A-Za-z0-9._]{22}$/;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const FORMAT_HINT = "expected ma-<key id>-<project id>-<secret>, as `meshagent server` prints it " +
  "in MESHAGENT_API_KEY";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function uuidFromHex(h: string): string {
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function decodeUuidPart(part: string, what: string): string {
  if (!UUID_PART.test(part)) {
    throw new ApiKeyError(
      "invalid_uuid",
      `invalid api key: the ${what} part must be 22 characters of [A-Za-z0-9._], got ` +
        `${JSON.stringify(part)} (${FORMAT_HINT})`,
    );
  }
  const base64 = part.replaceAll(".", "+").replaceAll("_", "/") + "==";
  let binary: string;
  try {
    binary = atob(base64);
  } catch {
    throw new ApiKeyError(
      "invalid_uuid",
      `invalid api key: the ${what} part ${JSON.stringify(part)} is not valid base64`,
    );
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return uuidFromHex(hex(bytes));
}

function encodeUuid(uuid: string, what: string): string {
  if (typeof uuid !== "string" || !UUID.test(uuid.trim())) {
    throw new ApiKeyError(
      "invalid_uuid",
      `cannot format api key: ${what} must be a UUID like ` +
        `"fa3f839c-cdaa-47a5-9612-ae3e99899fb9", got ${JSON.stringify(uuid)}`,
    );
  }
  const h = uuid.trim().replaceAll("-", "").toLowerCase();
  let binary = "";
  for (let i = 0; i < 32; i += 2) binary += String.fromCharCode(parseInt(h.slice(i, i + 2), 16));
  // URL-safe base64 is "-" and "_"; the key format then swaps "-" for "." so that "-" can
  // separate the parts.
  return btoa(binary).replaceAll("+", ".").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * Parses an `ma-…` API key into its key id, project id and secret.
 *
 * @param key The API key string (surrounding whitespace is ignored).
 * @returns The key id and project id as canonical lowercase UUIDs, and the secret.
 * @throws {ApiKeyError} When the string is not a well-formed `ma-` key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const key = parseApiKey(
 *   "ma-.j.DnM2qR6WWEq4.mYmfuQ-_B55PLVWSWu_B4GCuETgWA-test-secret-secure-secret-sample2560binarykey",
 * );
 * assert.deepEqual(key, {
 *   id: "fa3f839c-cdaa-47a5-9612-ae3e99899fb9",
 *   projectId: "fc1e793c-b556-496b-bf07-8182b844e058",
 *   secret: "test-secret-secure-secret-sample2560binarykey",
 * });
 * ```
 */
export function parseApiKey(key: string): ApiKey {
  if (typeof key !== "string") {
    throw new ApiKeyError("malformed", `invalid api key: expected a string, got ${typeof key}`);
  }
  const text = key.trim();
  if (!text.startsWith(PREFIX)) {
    throw new ApiKeyError(
      "invalid_prefix",
      `invalid api key: it must start with "ma-" (${FORMAT_HINT}); check that MESHAGENT_API_KEY ` +
        "holds an API key, not a secret or a JWT",
    );
  }
  const rest = text.slice(PREFIX.length);
  const first = rest.indexOf("-");
  const second = first === -1 ? -1 : rest.indexOf("-", first + 1);
  if (first === -1 || second === -1) {
    throw new ApiKeyError(
      "malformed",
      `invalid api key: missing "-" separators (${FORMAT_HINT}); the key may be truncated`,
    );
  }
  const secret = rest.slice(second + 1);
  if (secret === "") {
    throw new ApiKeyError(
      "empty_secret",
      `invalid api key: the secret part is empty (${FORMAT_HINT})`,
    );
  }
  return {
    id: decodeUuidPart(rest.slice(0, first), "key id"),
    projectId: decodeUuidPart(rest.slice(first + 1, second), "project id"),
    secret,
  };
}

/**
 * Formats key id, project id and secret as an `ma-…` API key string.
 *
 * @param key The parts; the UUIDs may be upper- or lowercase, with or without dashes.
 * @returns The API key string.
 * @throws {ApiKeyError} When an id is not a UUID or the secret is empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   formatApiKey({
 *     id: "fa3f839c-cdaa-47a5-9612-ae3e99899fb9",
 *     projectId: "fc1e793c-b556-496b-bf07-8182b844e058",
 *     secret: "test-secret-secure-secret-sample2560binarykey",
 *   }),
 *   "ma-.j.DnM2qR6WWEq4.mYmfuQ-_B55PLVWSWu_B4GCuETgWA-test-secret-secure-secret-sample2560binarykey",
 * );
 * ```
 */
export function formatApiKey(key: ApiKey): string {
  if (typeof key?.secret !== "string" || key.secret === "") {
    throw new ApiKeyError(
      "empty_secret",
      "cannot format api key: the secret must be a non-empty string",
    );
  }
  return `${PREFIX}${encodeUuid(key.id, "id")}-${
    encodeUuid(key.projectId, "projectId")
  }-${key.secret}`;
}

/**
 * Generates a new API key: a random key id, the given (or a random) project id, and a 256-bit
 * random secret in hex.
 *
 * @param projectId Project the key belongs to; a random UUID when omitted.
 * @returns The parts and the formatted key.
 * @throws {ApiKeyError} When `projectId` is not a UUID.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const generated = generateApiKey("fc1e793c-b556-496b-bf07-8182b844e058");
 * assert.equal(generated.projectId, "fc1e793c-b556-496b-bf07-8182b844e058");
 * assert.equal(generated.secret.length, 64);
 * assert.deepEqual(parseApiKey(generated.key), {
 *   id: generated.id,
 *   projectId: generated.projectId,
 *   secret: generated.secret,
 * });
 * ```
 */
export function generateApiKey(projectId?: string): GeneratedApiKey {
  const secretBytes = new Uint8Array(32);
  crypto.getRandomValues(secretBytes);
  const parts: ApiKey = {
    id: crypto.randomUUID(),
    projectId: projectId ?? crypto.randomUUID(),
    secret: hex(secretBytes),
  };
  const key = formatApiKey(parts);
  // Normalise the ids exactly as a parser will see them.
  const parsed = parseApiKey(key);
  return { ...parsed, key };
}
