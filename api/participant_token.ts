// Participant tokens (spec §3.1, §3.2, §3.5): HS256 JWTs whose payload carries `name`,
// `grants` [{name, scope}], `sub` (project id), `kid` (API key id, a payload claim — there is no
// `kid` in the JWT header), `version`, an optional `exp`, and any extra claims, which are kept.

import { decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT } from "jose";
import { ApiScope } from "./api_scope.ts";
import { ApiScopeError } from "./api_scope_error.ts";
import { type ApiKey, ApiKeyError, parseApiKey } from "./api_key.ts";
import { readEnv } from "./_env.ts";

/**
 * Why a participant token was refused.
 *
 * - `malformed`: not a JWT (wrong number of segments, bad base64, payload not a JSON object).
 * - `unsupported_algorithm`: the header's `alg` is not HS256.
 * - `invalid_signature`: the signature does not match the secret.
 * - `expired`: `exp` is in the past (beyond the leeway).
 * - `unknown_key`: the token's `kid` names no configured key and no single secret is configured.
 * - `missing_secret`: nothing to sign or verify with.
 * - `invalid_claims`: the payload is not a participant token (no `name`, no `grants`, a bad
 *   `api` scope, ...).
 *
 * @example
 * ```ts
 * const code: TokenErrorCode = "expired";
 * ```
 */
export type TokenErrorCode =
  | "malformed"
  | "unsupported_algorithm"
  | "invalid_signature"
  | "expired"
  | "unknown_key"
  | "missing_secret"
  | "invalid_claims";

/**
 * Thrown when a participant token cannot be created, decoded or verified.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   ParticipantToken.fromJwt("not a jwt", { secret: "s" }),
 *   (error: unknown) => error instanceof TokenError && error.code === "malformed",
 * );
 * ```
 */
export class TokenError extends Error {
  /** Machine-readable reason. */
  readonly code: TokenErrorCode;

  /**
   * Creates the error.
   *
   * @param code Machine-readable reason.
   * @param message What is wrong and what to fix.
   * @param options Standard error options (`cause`).
   */
  constructor(code: TokenErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TokenError";
    this.code = code;
  }
}

/**
 * The scope of a grant: a string for `room`/`role`/`site`/`agent`, an {@linkcode ApiScope} for
 * `api`, and the raw JSON value for grants this library does not know (kept unchanged).
 *
 * @example
 * ```ts
 * import { ApiScope } from "./api_scope.ts";
 *
 * const scopes: GrantScope[] = ["my-room", ApiScope.agentDefault(), null];
 * ```
 */
export type GrantScope =
  | string
  | ApiScope
  | number
  | boolean
  | null
  | undefined
  | readonly unknown[]
  | { readonly [key: string]: unknown };

/**
 * One `grants[]` entry: `{name, scope}`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const grant = ParticipantGrant.fromJson({ name: "api", scope: { queues: {} } });
 * assert.deepEqual(grant.toJson(), { name: "api", scope: { queues: {} } });
 * ```
 */
export class ParticipantGrant {
  /** Grant name: `room`, `role`, `api`, or any other (unknown names are kept and ignored). */
  readonly name: string;
  /** Grant scope. */
  readonly scope: GrantScope;

  /**
   * Creates the grant.
   *
   * @param name Grant name.
   * @param scope Grant scope.
   */
  constructor(name: string, scope: GrantScope) {
    this.name = name;
    this.scope = scope;
  }

  /**
   * Serialises the grant (an `api` scope is written in its wire form).
   *
   * @returns `{name, scope}`.
   */
  toJson(): Record<string, unknown> {
    const scope = this.scope instanceof ApiScope ? this.scope.toJson() : this.scope;
    return scope === undefined ? { name: this.name } : { name: this.name, scope };
  }

  /**
   * Parses a `grants[]` entry; the scope of an `api` grant becomes an {@linkcode ApiScope}.
   *
   * @param json The entry.
   * @returns The grant.
   * @throws {TokenError} `invalid_claims` when the entry or its `api` scope is malformed.
   */
  static fromJson(json: unknown): ParticipantGrant {
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new TokenError(
        "invalid_claims",
        "each entry of `grants` must be a {name, scope} object",
      );
    }
    const { name, scope } = json as Record<string, unknown>;
    if (typeof name !== "string") {
      throw new TokenError("invalid_claims", "each entry of `grants` must have a string `name`");
    }
    if (name === "api") {
      try {
        return new ParticipantGrant(name, ApiScope.fromJson(scope));
      } catch (error) {
        if (error instanceof ApiScopeError) {
          throw new TokenError(
            "invalid_claims",
            `the token's api grant is invalid: ${error.message}`,
            {
              cause: error,
            },
          );
        }
        throw error;
      }
    }
    return new ParticipantGrant(name, scope as GrantScope);
  }
}

/**
 * Where to find the secret for a token's `kid`: a record or map from key id to secret, or a
 * (possibly async) function returning the secret or undefined.
 *
 * @example
 * ```ts
 * const keys: KeyLookup = { "fa3f839c-cdaa-47a5-9612-ae3e99899fb9": "secret" };
 * const lookup: KeyLookup = (kid) => kid === "k1" ? "secret" : undefined;
 * ```
 */
export type KeyLookup =
  | Readonly<Record<string, string>>
  | ReadonlyMap<string, string>
  | ((kid: string) => string | undefined | Promise<string | undefined>);

/**
 * Options of {@linkcode ParticipantToken.fromJwt}.
 *
 * @example
 * ```ts
 * const options: TokenVerifyOptions = { secret: "s", leeway: 30 };
 * ```
 */
export interface TokenVerifyOptions {
  /**
   * The single secret (e.g. `MESHAGENT_SECRET`). Used when the token has no `kid`, or when its
   * `kid` is not found in `keys`.
   */
  secret?: string;
  /** API key secrets by key id; the token's `kid` claim selects one. */
  keys?: KeyLookup;
  /** Allowed clock skew for `exp`, in seconds (default 30). */
  leeway?: number;
  /** The time to check `exp` against (default: now). */
  currentDate?: Date;
}

/**
 * Options of {@linkcode ParticipantToken.toJwt}.
 *
 * @example
 * ```ts
 * const options: TokenSignOptions = { secret: "s", expiration: new Date(Date.now() + 3600_000) };
 * ```
 */
export interface TokenSignOptions {
  /** The HMAC secret. The token keeps its `kid`/`sub`. */
  secret?: string;
  /**
   * An `ma-…` API key: its secret signs and its key id / project id overwrite `kid` / `sub`.
   * Takes precedence over `secret`.
   */
  apiKey?: string;
  /** Sets `exp`. Defaults to the token's own {@linkcode ParticipantToken.expiration}. */
  expiration?: Date;
}

/** Claims that have their own fields; every other payload key is kept in `extra`. */
const RESERVED = new Set(["name", "grants", "sub", "kid", "version", "exp"]);

/**
 * A participant token: who the participant is (`name`), which room it may join, its role, and
 * its room API permissions ({@linkcode ApiScope}).
 *
 * Signing secret precedence in {@linkcode ParticipantToken.toJwt} — we follow the Python SDK,
 * where an explicit argument beats the environment: `apiKey` option, then `secret` option, then
 * env `MESHAGENT_API_KEY`, then env `MESHAGENT_SECRET`. (The TS client lets env
 * `MESHAGENT_API_KEY` override an explicit secret.) With an API key, its id and project overwrite
 * `kid` and `sub`; with the env secret, `kid` is removed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ApiScope } from "./api_scope.ts";
 *
 * const token = new ParticipantToken({ name: "agent-1", projectId: "p", apiKeyId: "k" });
 * token.addRoomGrant("my-room");
 * token.addRoleGrant("agent");
 * token.addApiGrant(ApiScope.agentDefault());
 * const jwt = await token.toJwt({ secret: "s3cret" });
 *
 * const verified = await ParticipantToken.fromJwt(jwt, { keys: { k: "s3cret" } });
 * assert.equal(verified.name, "agent-1");
 * assert.equal(verified.roomName, "my-room");
 * assert.equal(verified.role, "agent");
 * assert.equal(verified.apiScope?.queues?.canSend("jobs"), true);
 * ```
 */
export class ParticipantToken {
  /**
   * The `version` claim written by default. Clients only compare it with "0.3.5"; this is the
   * value the TS client sends.
   */
  static readonly defaultVersion: string = "0.36.3";

  /** Participant name (`name` claim). */
  name: string;
  /** Project id (`sub` claim). */
  projectId: string | undefined;
  /** API key id (`kid` claim). */
  apiKeyId: string | undefined;
  /** Token schema version (`version` claim). */
  version: string;
  /** Grants, in order. */
  grants: ParticipantGrant[];
  /** Every other claim of the payload, kept as is. */
  extra: Record<string, unknown>;
  /** Expiry (`exp` claim), if any. */
  expiration: Date | undefined;

  /**
   * Creates a token.
   *
   * @param options Name, optional project id, key id, version, grants, extra claims and expiry.
   */
  constructor(options: {
    name: string;
    projectId?: string;
    apiKeyId?: string;
    version?: string;
    grants?: readonly ParticipantGrant[];
    extra?: Readonly<Record<string, unknown>>;
    expiration?: Date;
  }) {
    this.name = options.name;
    this.projectId = options.projectId;
    this.apiKeyId = options.apiKeyId;
    this.version = options.version ?? ParticipantToken.defaultVersion;
    this.grants = [...(options.grants ?? [])];
    this.extra = { ...(options.extra ?? {}) };
    this.expiration = options.expiration;
  }

  /**
   * Adds a `room` grant.
   *
   * @param roomName The room the participant may join.
   * @returns This token.
   */
  addRoomGrant(roomName: string): this {
    this.grants.push(new ParticipantGrant("room", roomName));
    return this;
  }

  /**
   * Adds a `role` grant.
   *
   * @param role `"user"`, `"agent"`, `"tool"` or another role name.
   * @returns This token.
   */
  addRoleGrant(role: string): this {
    this.grants.push(new ParticipantGrant("role", role));
    return this;
  }

  /**
   * Adds the `api` grant.
   *
   * @param scope The room API permissions.
   * @returns This token.
   * @throws {TokenError} `invalid_claims` when the token already has an `api` grant.
   */
  addApiGrant(scope: ApiScope): this {
    if (this.grants.some((grant) => grant.name === "api")) {
      throw new TokenError(
        "invalid_claims",
        "a participant token can have only one api grant; build a single ApiScope instead",
      );
    }
    this.grants.push(new ParticipantGrant("api", scope));
    return this;
  }

  /**
   * Adds any grant (e.g. `site`, `agent`).
   *
   * @param name Grant name.
   * @param scope Grant scope.
   * @returns This token.
   */
  addGrant(name: string, scope: GrantScope): this {
    if (name === "api") {
      if (!(scope instanceof ApiScope)) {
        throw new TokenError("invalid_claims", "the scope of an api grant must be an ApiScope");
      }
      return this.addApiGrant(scope);
    }
    this.grants.push(new ParticipantGrant(name, scope));
    return this;
  }

  /**
   * The scope of the first grant named `name`.
   *
   * @param name Grant name.
   * @returns The scope, or undefined when there is no such grant.
   */
  grantScope(name: string): GrantScope {
    return this.grants.find((grant) => grant.name === name)?.scope;
  }

  /** The room of the first `room` grant with a string scope, or null. */
  get roomName(): string | null {
    const grant = this.grants.find((g) => g.name === "room" && typeof g.scope === "string");
    return grant ? grant.scope as string : null;
  }

  /**
   * Whether the token has a `room` grant for `roomName`.
   *
   * @param roomName Room name from the URL.
   * @returns The decision.
   */
  canJoinRoom(roomName: string): boolean {
    return this.grants.some((grant) => grant.name === "room" && grant.scope === roomName);
  }

  /** The role: the first `role` grant whose scope is not `"user"`, else `"user"`. */
  get role(): string {
    for (const grant of this.grants) {
      if (grant.name === "role" && grant.scope !== "user" && typeof grant.scope === "string") {
        return grant.scope;
      }
    }
    return "user";
  }

  /** The `api` grant's scope, or null when the token has none (deny all room API calls). */
  get apiScope(): ApiScope | null {
    const scope = this.grantScope("api");
    return scope instanceof ApiScope ? scope : null;
  }

  /**
   * The JWT payload.
   *
   * @returns Extra claims first, then `name`, `grants`, `sub`, `kid`, `version`, `exp`.
   */
  toJson(): Record<string, unknown> {
    const json: Record<string, unknown> = { ...this.extra };
    for (const key of RESERVED) delete json[key];
    json.name = this.name;
    json.grants = this.grants.map((grant) => grant.toJson());
    if (this.projectId !== undefined) json.sub = this.projectId;
    if (this.apiKeyId !== undefined) json.kid = this.apiKeyId;
    json.version = this.version;
    if (this.expiration !== undefined) json.exp = Math.floor(this.expiration.getTime() / 1000);
    return json;
  }

  /**
   * Signs the token as an HS256 JWT (header `{"alg":"HS256","typ":"JWT"}`, no `kid` header).
   *
   * @param options Secret or API key (see the class notes for precedence) and expiry.
   * @returns The compact JWT.
   * @throws {TokenError} `missing_secret` when no secret is given or in the environment;
   *   `malformed` when the API key is not an `ma-` key.
   */
  async toJwt(options: TokenSignOptions = {}): Promise<string> {
    const payload = this.toJson();
    let secret: string | undefined;
    const apiKey = options.apiKey ??
      (options.secret === undefined ? readEnv("MESHAGENT_API_KEY") : undefined);
    if (apiKey !== undefined) {
      const parsed = parseKeyForSigning(apiKey);
      secret = parsed.secret;
      payload.kid = parsed.id;
      payload.sub = parsed.projectId;
    } else if (options.secret !== undefined) {
      secret = options.secret;
    } else {
      secret = readEnv("MESHAGENT_SECRET");
      delete payload.kid;
    }
    if (secret === undefined || secret === "") {
      throw new TokenError(
        "missing_secret",
        "cannot sign the token: pass `secret` or `apiKey`, or set MESHAGENT_SECRET or " +
          "MESHAGENT_API_KEY",
      );
    }
    const expiration = options.expiration ?? this.expiration;
    if (expiration !== undefined) payload.exp = Math.floor(expiration.getTime() / 1000);
    return await new SignJWT(payload)
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .sign(new TextEncoder().encode(secret));
  }

  /**
   * Builds a token from a JWT payload.
   *
   * @param payload The decoded payload.
   * @returns The token.
   * @throws {TokenError} `invalid_claims` when `name` or `grants` is missing or malformed.
   */
  static fromJson(payload: unknown): ParticipantToken {
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
      throw new TokenError("invalid_claims", "the token payload must be a JSON object");
    }
    const claims = payload as Record<string, unknown>;
    if (typeof claims.name !== "string" || claims.name === "") {
      throw new TokenError(
        "invalid_claims",
        "not a participant token: the `name` claim must be a non-empty string",
      );
    }
    if (!Array.isArray(claims.grants)) {
      throw new TokenError(
        "invalid_claims",
        "not a participant token: the `grants` claim must be an array of {name, scope}",
      );
    }
    for (const key of ["sub", "kid", "version"] as const) {
      if (claims[key] !== undefined && claims[key] !== null && typeof claims[key] !== "string") {
        throw new TokenError("invalid_claims", `the \`${key}\` claim must be a string`);
      }
    }
    if (claims.exp !== undefined && (typeof claims.exp !== "number" || !isFinite(claims.exp))) {
      throw new TokenError("invalid_claims", "the `exp` claim must be a number of seconds");
    }
    const grants = claims.grants.map((grant) => ParticipantGrant.fromJson(grant));
    if (grants.filter((grant) => grant.name === "api").length > 1) {
      throw new TokenError("invalid_claims", "a participant token can have only one api grant");
    }
    const extra: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(claims)) {
      if (!RESERVED.has(key)) extra[key] = value;
    }
    return new ParticipantToken({
      name: claims.name,
      projectId: (claims.sub as string | null | undefined) ?? undefined,
      apiKeyId: (claims.kid as string | null | undefined) ?? undefined,
      version: (claims.version as string | null | undefined) ?? ParticipantToken.defaultVersion,
      grants,
      extra,
      expiration: typeof claims.exp === "number" ? new Date(claims.exp * 1000) : undefined,
    });
  }

  /**
   * Decodes a JWT **without verifying** its signature or expiry. Use only for display or to
   * read `kid` before verification; use {@linkcode ParticipantToken.fromJwt} to authenticate.
   *
   * @param jwt The compact JWT.
   * @returns The token.
   * @throws {TokenError} `malformed` or `invalid_claims`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   *
   * const jwt = await new ParticipantToken({ name: "bob" }).addRoomGrant("r").toJwt({ secret: "x" });
   * assert.equal(ParticipantToken.decodeUnverified(jwt).roomName, "r");
   * ```
   */
  static decodeUnverified(jwt: string): ParticipantToken {
    return ParticipantToken.fromJson(decodeParts(jwt).payload);
  }

  /**
   * Verifies an HS256 participant token and returns it.
   *
   * Key choice (spec §3.5): when the token has a `kid` found in `keys`, that secret verifies it;
   * otherwise the single `secret` does. `exp`, when present, is checked with `leeway`.
   *
   * @param jwt The compact JWT.
   * @param options `secret` and/or `keys`, `leeway` (seconds, default 30), `currentDate`.
   * @returns The verified token.
   * @throws {TokenError} With code `malformed`, `unsupported_algorithm`, `unknown_key`,
   *   `missing_secret`, `invalid_signature`, `expired` or `invalid_claims`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   *
   * const jwt = await new ParticipantToken({ name: "bob" }).toJwt({ secret: "right" });
   * assert.equal((await ParticipantToken.fromJwt(jwt, { secret: "right" })).name, "bob");
   * await assert.rejects(
   *   ParticipantToken.fromJwt(jwt, { secret: "wrong" }),
   *   (error: unknown) => error instanceof TokenError && error.code === "invalid_signature",
   * );
   * ```
   */
  static async fromJwt(jwt: string, options: TokenVerifyOptions = {}): Promise<ParticipantToken> {
    const { header, payload } = decodeParts(jwt);
    if (header.alg !== "HS256") {
      throw new TokenError(
        "unsupported_algorithm",
        `participant tokens must be signed with HS256, this one says alg=${
          JSON.stringify(header.alg)
        }`,
      );
    }
    const kid = typeof payload.kid === "string" ? payload.kid : undefined;
    const { secret, source } = await resolveSecret(kid, options);
    const leeway = options.leeway ?? 30;
    let verified: Record<string, unknown>;
    try {
      const result = await jwtVerify(jwt.trim(), new TextEncoder().encode(secret), {
        algorithms: ["HS256"],
        clockTolerance: leeway,
        currentDate: options.currentDate,
      });
      verified = result.payload as Record<string, unknown>;
    } catch (error) {
      throw mapJoseError(error, source, leeway);
    }
    return ParticipantToken.fromJson(verified);
  }
}

// ---------------------------------------------------------------------------------------------
// private helpers

function decodeParts(
  jwt: string,
): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  if (typeof jwt !== "string") {
    throw new TokenError("malformed", `a participant token must be a string, got ${typeof jwt}`);
  }
  const text = jwt.trim();
  const segments = text.split(".");
  if (segments.length !== 3) {
    throw new TokenError(
      "malformed",
      `a participant token is a JWT with 3 dot-separated segments, got ${segments.length}; ` +
        "pass the token itself (not `Bearer <token>` or an API key)",
    );
  }
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(text) as Record<string, unknown>;
  } catch (error) {
    throw new TokenError("malformed", "the token header is not base64url-encoded JSON", {
      cause: error,
    });
  }
  let payload: Record<string, unknown>;
  try {
    payload = decodeJwt(text) as Record<string, unknown>;
  } catch (error) {
    throw new TokenError(
      "malformed",
      "the token payload is not a base64url-encoded JSON object",
      { cause: error },
    );
  }
  return { header, payload };
}

function parseKeyForSigning(apiKey: string): ApiKey {
  try {
    return parseApiKey(apiKey);
  } catch (error) {
    if (error instanceof ApiKeyError) {
      throw new TokenError("malformed", `cannot sign the token: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}

async function resolveSecret(
  kid: string | undefined,
  options: TokenVerifyOptions,
): Promise<{ secret: string; source: string }> {
  if (kid !== undefined && options.keys !== undefined) {
    const secret = await lookup(options.keys, kid);
    if (secret !== undefined && secret !== "") {
      return { secret, source: `the secret of API key ${kid}` };
    }
  }
  if (options.secret !== undefined && options.secret !== "") {
    const note = kid !== undefined && options.keys !== undefined
      ? ` (the token's kid ${kid} is not a configured API key)`
      : "";
    return { secret: options.secret, source: `the configured secret${note}` };
  }
  if (kid !== undefined && options.keys !== undefined) {
    throw new TokenError(
      "unknown_key",
      `the token was signed with API key ${kid}, which this server does not know; ` +
        "mint the token with a configured key or add that key to the server",
    );
  }
  if (options.keys !== undefined) {
    throw new TokenError(
      "unknown_key",
      "the token has no `kid` claim and no single secret is configured; sign it with an " +
        "API key (which sets `kid`) or configure MESHAGENT_SECRET on the server",
    );
  }
  throw new TokenError(
    "missing_secret",
    "cannot verify the token: pass `secret` or `keys` (e.g. MESHAGENT_SECRET)",
  );
}

async function lookup(keys: KeyLookup, kid: string): Promise<string | undefined> {
  if (typeof keys === "function") return await keys(kid);
  if (keys instanceof Map) return keys.get(kid);
  const record = keys as Readonly<Record<string, string>>;
  return Object.hasOwn(record, kid) ? record[kid] : undefined;
}

function mapJoseError(error: unknown, source: string, leeway: number): TokenError {
  const code = (error as { code?: unknown })?.code;
  switch (code) {
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return new TokenError(
        "invalid_signature",
        `the token signature does not match ${source}; sign it with the same secret the ` +
          "server uses",
        { cause: error },
      );
    case "ERR_JWT_EXPIRED":
      return new TokenError(
        "expired",
        `the token expired (exp is more than ${leeway}s in the past); mint a new token`,
        { cause: error },
      );
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return new TokenError("unsupported_algorithm", "participant tokens must use HS256", {
        cause: error,
      });
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return new TokenError(
        "invalid_claims",
        `the token has an invalid registered claim: ${(error as Error).message}`,
        { cause: error },
      );
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
      return new TokenError(
        "malformed",
        `the token is not a valid JWT: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    default:
      return new TokenError(
        "malformed",
        `the token could not be verified: ${
          error instanceof Error ? error.message : String(error)
        }`,
        { cause: error },
      );
  }
}
