// The webhook signature (protocol-data §4.3): `Meshagent-Signature: Bearer <JWT>`, an HS256 JWT
// keyed with the shared secret whose `sha256` claim is the hex SHA-256 of Python's `json.dumps`
// of the payload. Web-standard code only (crypto.subtle, jose), so it runs on Deno Deploy too.
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { pythonJsonDumps, pythonJsonRedump } from "./python_json.ts";

/** The header that carries the signature JWT (`Bearer <jwt>`). */
export const WEBHOOK_SIGNATURE_HEADER = "Meshagent-Signature";
/** The header that carries the payload JSON of a WebSocket-mode delivery (§4.2). */
export const WEBHOOK_PAYLOAD_HEADER = "Meshagent-Webhook";

/**
 * Why a webhook was refused.
 *
 * - `invalid_payload`: the body is not a JSON object (HTTP 400).
 * - `missing_signature`: no `Meshagent-Signature: Bearer …` header (401).
 * - `invalid_signature`: the JWT is malformed or not signed with the secret (401).
 * - `body_mismatch`: the JWT's `sha256` is not the hash of this body (tampered; 401).
 * - `expired`: the signature is older than allowed (`exp` passed, or `iat` too old; 401).
 * - `replayed`: this signature (its `jti`) was accepted before (401).
 * - `missing_secret`: the receiver has no secret to check with (500: a configuration error).
 *
 * @example
 * ```ts
 * const code: WebhookErrorCode = "body_mismatch";
 * ```
 */
export type WebhookErrorCode =
  | "invalid_payload"
  | "missing_signature"
  | "invalid_signature"
  | "body_mismatch"
  | "expired"
  | "replayed"
  | "missing_secret";

const STATUS: Readonly<Record<WebhookErrorCode, number>> = {
  invalid_payload: 400,
  missing_signature: 401,
  invalid_signature: 401,
  body_mismatch: 401,
  expired: 401,
  replayed: 401,
  missing_secret: 500,
};

/**
 * A webhook that cannot be accepted; {@linkcode WebhookError.status} is the HTTP status to answer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const error = new WebhookError("replayed", "this webhook was delivered before");
 * assert.equal(error.status, 401);
 * ```
 */
export class WebhookError extends Error {
  /** Machine-readable reason. */
  readonly code: WebhookErrorCode;
  /** The HTTP status a receiver answers with. */
  readonly status: number;

  /**
   * Creates the error.
   *
   * @param code Machine-readable reason.
   * @param message What is wrong and what to fix.
   * @param options Standard error options (`cause`).
   */
  constructor(code: WebhookErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "WebhookError";
    this.code = code;
    this.status = STATUS[code];
  }
}

/** Options of {@linkcode signWebhook}. */
export interface WebhookSignOptions {
  /** The `iat` claim (default: now). */
  issuedAt?: Date;
  /**
   * Seconds the signature stays valid: sets `exp` = `iat` + this (default 300). `null` writes
   * neither `iat` nor `exp`, as the official Python sender does.
   */
  ttlSeconds?: number | null;
  /** The `jti` claim, which lets receivers refuse a replay (default: a random UUID). */
  id?: string;
}

/** The claims of a verified webhook signature. */
export interface WebhookSignature {
  /** The hex SHA-256 of the payload text. */
  sha256: string;
  /** When it was signed (`iat`), if it says. */
  issuedAt?: Date;
  /** When it stops being valid (`exp`), if it says. */
  expiresAt?: Date;
  /** Its id (`jti`), if it has one. */
  id?: string;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The body of a webhook: `{"event": …, "data": …}` in Python's `json.dumps` form, the text the
 * signature hashes (a receiver re-serialises what it parsed the same way).
 *
 * @param event The event type, e.g. `room.started`.
 * @param data The event data.
 * @returns The body text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(
 *   webhookBody("room.ended", { room_name: "demo" }),
 *   '{"event": "room.ended", "data": {"room_name": "demo"}}',
 * );
 * ```
 */
export function webhookBody(event: string, data: Readonly<Record<string, unknown>>): string {
  return pythonJsonDumps({ event, data });
}

/**
 * Signs a webhook body: returns the `Meshagent-Signature` header value, `Bearer <JWT>`.
 *
 * [impl] Besides the required `sha256`, the JWT carries `iat`, `exp` (5 minutes later) and a
 * random `jti`, so receivers can refuse an old or replayed delivery; the spec allows these
 * registered claims and the official receivers check `exp` when it is there. A sender that
 * retries signs each attempt anew.
 *
 * @param body The exact body text (see {@linkcode webhookBody}).
 * @param secret The shared webhook secret (its UTF-8 bytes are the HS256 key).
 * @param options `iat`, lifetime and `jti`.
 * @returns `Bearer <jwt>`.
 * @throws {WebhookError} (`missing_secret`) When the secret is empty.
 * @throws {SyntaxError} When the body is not JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const body = webhookBody("room.ended", { room_name: "demo" });
 * const header = await signWebhook(body, "s3cret");
 * const signature = await verifyWebhook(header, body, { secret: "s3cret" });
 * assert.equal(signature.sha256.length, 64);
 * ```
 */
export async function signWebhook(
  body: string,
  secret: string,
  options: WebhookSignOptions = {},
): Promise<string> {
  if (!secret) throw new WebhookError("missing_secret", "cannot sign a webhook without a secret");
  const claims: Record<string, unknown> = { sha256: await sha256Hex(pythonJsonRedump(body)) };
  const ttl = options.ttlSeconds === undefined ? 300 : options.ttlSeconds;
  if (ttl !== null) {
    const iat = Math.floor((options.issuedAt ?? new Date()).getTime() / 1000);
    claims.iat = iat;
    claims.exp = iat + ttl;
    claims.jti = options.id ?? crypto.randomUUID();
  } else if (options.id !== undefined) {
    claims.jti = options.id;
  }
  const jwt = await new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(new TextEncoder().encode(secret));
  return `Bearer ${jwt}`;
}

/**
 * Remembers accepted signature ids (`jti`) until they expire, so that a replay within their
 * lifetime is refused. Bounded: past `maxEntries` the oldest ids are forgotten (their signatures
 * are then still refused once they expire).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const cache = new WebhookReplayCache();
 * assert.equal(cache.add("id-1", Date.now() + 60_000), true);
 * assert.equal(cache.add("id-1", Date.now() + 60_000), false);
 * ```
 */
export class WebhookReplayCache {
  readonly #seen = new Map<string, number>();
  readonly #maxEntries: number;

  /**
   * Creates an empty cache.
   *
   * @param maxEntries The most ids kept (default 10 000).
   */
  constructor(maxEntries: number = 10_000) {
    this.#maxEntries = maxEntries;
  }

  /**
   * Records an id.
   *
   * @param id The signature id.
   * @param until When it may be forgotten (ms since the epoch).
   * @returns False when the id was seen before and has not expired (a replay).
   */
  add(id: string, until: number): boolean {
    const now = Date.now();
    const known = this.#seen.get(id);
    if (known !== undefined && known > now) return false;
    this.#seen.delete(id);
    this.#seen.set(id, until);
    if (this.#seen.size > this.#maxEntries) {
      for (const [key, expiry] of this.#seen) {
        if (this.#seen.size <= this.#maxEntries && expiry > now) break;
        this.#seen.delete(key);
      }
    }
    return true;
  }
}

/** Options of {@linkcode verifyWebhook}. */
export interface WebhookVerifyOptions {
  /** The shared secret. */
  secret: string | undefined;
  /**
   * The oldest signature accepted, by its `iat`, in seconds (default 300). Signatures without
   * `iat` (the official Python sender writes none) are not limited by age.
   */
  maxAgeSeconds?: number;
  /** Allowed clock skew in seconds (default 30). */
  leewaySeconds?: number;
  /** Refuses a second delivery of the same `jti` (none by default). */
  replayCache?: WebhookReplayCache;
  /** The time to check against (default: now). */
  now?: Date;
}

/**
 * Verifies a webhook's signature header against its payload text, as the official receivers do
 * (§4.3): `Bearer <JWT>`, HS256 with the secret, and a `sha256` claim equal to the hash of
 * Python's `json.dumps` of the parsed payload. Also refuses an expired or too old signature and,
 * with a replay cache, one seen before.
 *
 * @param header The `Meshagent-Signature` header value (null when absent).
 * @param payload The payload text (the body, or the `Meshagent-Webhook` header).
 * @param options The secret, age limit and replay cache.
 * @returns The verified claims.
 * @throws {WebhookError} When the webhook must be refused (its `status` says with what).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const body = webhookBody("room.ended", { room_name: "demo" });
 * const header = await signWebhook(body, "s3cret");
 * await assert.rejects(
 *   verifyWebhook(header, body.replace("demo", "other"), { secret: "s3cret" }),
 *   (e: unknown) => e instanceof WebhookError && e.code === "body_mismatch",
 * );
 * ```
 */
export async function verifyWebhook(
  header: string | null | undefined,
  payload: string,
  options: WebhookVerifyOptions,
): Promise<WebhookSignature> {
  if (!options.secret) {
    throw new WebhookError(
      "missing_secret",
      "the webhook receiver has no secret to verify signatures with: set " +
        "MESHAGENT_WEBHOOK_SECRET (or pass the secret), or turn validation off",
    );
  }
  const match = /^Bearer\s+(\S+)\s*$/.exec(header ?? "");
  if (!match) {
    throw new WebhookError(
      "missing_signature",
      `unsigned webhook: expected a "${WEBHOOK_SIGNATURE_HEADER}: Bearer <jwt>" header`,
    );
  }
  const jwt = match[1];
  const leeway = options.leewaySeconds ?? 30;
  const now = options.now ?? new Date();
  let claims: Record<string, unknown>;
  try {
    const verified = await jwtVerify(jwt, new TextEncoder().encode(options.secret), {
      algorithms: ["HS256"],
      clockTolerance: leeway,
      currentDate: now,
    });
    claims = verified.payload as Record<string, unknown>;
  } catch (e) {
    if (e instanceof joseErrors.JWTExpired) {
      throw new WebhookError(
        "expired",
        "the webhook signature expired (a replayed or late " +
          "delivery)",
        { cause: e },
      );
    }
    throw new WebhookError(
      "invalid_signature",
      "the webhook signature does not verify with the configured secret (a wrong secret, or " +
        `a forged request): ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  let text: string;
  try {
    text = pythonJsonRedump(payload);
  } catch (e) {
    throw new WebhookError("invalid_payload", `the webhook payload is not JSON: ${e}`, {
      cause: e,
    });
  }
  const sha256 = await sha256Hex(text);
  if (claims.sha256 !== sha256) {
    throw new WebhookError(
      "body_mismatch",
      "the webhook body does not match its signature (it was changed after signing)",
    );
  }
  const signature: WebhookSignature = { sha256 };
  if (typeof claims.iat === "number") {
    signature.issuedAt = new Date(claims.iat * 1000);
    const age = now.getTime() / 1000 - claims.iat;
    if (age > (options.maxAgeSeconds ?? 300) + leeway) {
      throw new WebhookError(
        "expired",
        `the webhook was signed ${Math.round(age)} s ago, longer than the receiver accepts ` +
          "(a replayed or late delivery)",
      );
    }
  }
  if (typeof claims.exp === "number") signature.expiresAt = new Date(claims.exp * 1000);
  if (typeof claims.jti === "string") {
    signature.id = claims.jti;
    const until = signature.expiresAt?.getTime() ??
      (signature.issuedAt?.getTime() ?? now.getTime()) + (options.maxAgeSeconds ?? 300) * 1000;
    if (options.replayCache && !options.replayCache.add(claims.jti, until + leeway * 1000)) {
      throw new WebhookError("replayed", "this webhook was delivered before (a replay)");
    }
  }
  return signature;
}
