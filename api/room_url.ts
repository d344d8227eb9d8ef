// Room URLs and connection settings from the environment (spec §1.1, §3.5, §3.6), as the
// official clients build them. Environment access is optional: in a browser, or in Deno without
// env permission, every variable simply reads as unset (no prompt, no throw).

import { readEnv as readEnvSafely } from "./_env.ts";
import { ApiScope } from "./api_scope.ts";
import { ParticipantToken } from "./participant_token.ts";

/** The hosted MeshAgent API, used when nothing else is configured. */
const DEFAULT_API_URL = "https://api.meshagent.com";
const DEFAULT_ROOM_BASE = "wss://api.meshagent.com";

/**
 * Where environment variables come from: a record (handy in tests and browsers) or a function.
 * Omit it to read the process environment through {@linkcode readEnv}.
 *
 * @example
 * ```ts
 * const env: EnvSource = { MESHAGENT_ROOM: "my-room", MESHAGENT_TOKEN: "eyJ..." };
 * ```
 */
export type EnvSource =
  | Readonly<Record<string, string | undefined>>
  | ((name: string) => string | undefined);

/**
 * Reads an environment variable on any runtime, never prompting and never throwing.
 *
 * In Deno it returns undefined when env permission is not granted (rather than asking);
 * in Node/Bun it reads `process.env`; in browsers it returns undefined.
 *
 * @param name Variable name.
 * @returns The value, or undefined when unset or unreadable.
 *
 * @example
 * ```ts
 * const room: string | undefined = readEnv("MESHAGENT_ROOM");
 * ```
 */
export function readEnv(name: string): string | undefined {
  return readEnvSafely(name);
}

/** Reads `name` from `env` (or the process environment); blank values count as unset. */
function getEnv(name: string, env: EnvSource | undefined): string | undefined {
  const value = env === undefined
    ? readEnv(name)
    : typeof env === "function"
    ? env(name)
    : env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function toWebSocketScheme(base: string): string {
  if (base.startsWith("https:")) return "wss:" + base.slice("https:".length);
  if (base.startsWith("http:")) return "ws:" + base.slice("http:".length);
  return base;
}

/**
 * Builds the room WebSocket URL the way the TS client does: `${base}/rooms/${roomName}`, where
 * `base` is `apiUrl` (default `wss://api.meshagent.com`) with `https:` turned into `wss:` and
 * `http:` into `ws:`. The room name is not URL-encoded and trailing slashes are not trimmed.
 *
 * @param options `roomName` and optional `apiUrl`.
 * @returns The WebSocket URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   websocketRoomUrl({ roomName: "demo", apiUrl: "http://localhost:8078" }),
 *   "ws://localhost:8078/rooms/demo",
 * );
 * assert.equal(websocketRoomUrl({ roomName: "demo" }), "wss://api.meshagent.com/rooms/demo");
 * ```
 */
export function websocketRoomUrl(options: { roomName: string; apiUrl?: string }): string {
  const base = options.apiUrl || DEFAULT_ROOM_BASE;
  return `${toWebSocketScheme(base)}/rooms/${options.roomName}`;
}

/**
 * Builds the room WebSocket URL from the environment: the base is `MESHAGENT_ROOM_URL`, else
 * `MESHAGENT_API_URL`, else `wss://api.meshagent.com`, converted http→ws as in
 * {@linkcode websocketRoomUrl}.
 *
 * @param roomName The room name.
 * @param env Where to read variables (default: the process environment).
 * @returns The WebSocket URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   websocketRoomUrlFromEnv("demo", { MESHAGENT_API_URL: "https://rooms.example.com" }),
 *   "wss://rooms.example.com/rooms/demo",
 * );
 * ```
 */
export function websocketRoomUrlFromEnv(roomName: string, env?: EnvSource): string {
  const base = getEnv("MESHAGENT_ROOM_URL", env) ?? getEnv("MESHAGENT_API_URL", env) ??
    DEFAULT_ROOM_BASE;
  return websocketRoomUrl({ roomName, apiUrl: base });
}

/**
 * The HTTP base URL of the MeshAgent API: `baseUrl` if given, else `MESHAGENT_API_URL`, else
 * `https://api.meshagent.com`.
 *
 * @param baseUrl An explicit base URL.
 * @param env Where to read variables (default: the process environment).
 * @returns The base URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(meshagentBaseUrl("http://localhost:8078"), "http://localhost:8078");
 * assert.equal(meshagentBaseUrl(undefined, {}), "https://api.meshagent.com");
 * ```
 */
export function meshagentBaseUrl(baseUrl?: string, env?: EnvSource): string {
  return baseUrl || getEnv("MESHAGENT_API_URL", env) || DEFAULT_API_URL;
}

/**
 * What is missing from the environment.
 *
 * @example
 * ```ts
 * const code: RoomConfigErrorCode = "missing_room";
 * ```
 */
export type RoomConfigErrorCode = "missing_room" | "missing_credentials";

/**
 * Thrown when the environment does not say which room to join or how to authenticate.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   roomConnectionFromEnv({ env: {} }),
 *   (error: unknown) => error instanceof RoomConfigError && error.code === "missing_room",
 * );
 * ```
 */
export class RoomConfigError extends Error {
  /** Machine-readable reason. */
  readonly code: RoomConfigErrorCode;

  /**
   * Creates the error.
   *
   * @param code Machine-readable reason.
   * @param message Which variables to set.
   */
  constructor(code: RoomConfigErrorCode, message: string) {
    super(message);
    this.name = "RoomConfigError";
    this.code = code;
  }
}

/**
 * Options of {@linkcode participantTokenFromEnv}.
 *
 * @example
 * ```ts
 * const options: TokenFromEnvOptions = { participantName: "worker", role: "agent" };
 * ```
 */
export interface TokenFromEnvOptions {
  /** The participant's name (`name` claim). */
  participantName: string;
  /** Room to grant; default `MESHAGENT_ROOM`. */
  roomName?: string;
  /** Adds a `role` grant (`"agent"`, `"user"`, `"tool"`, ...) when given. */
  role?: string;
  /** The `api` grant; default `ApiScope.agentDefault()`; `null` = no api grant. */
  scope?: ApiScope | null;
  /** Sets `exp`. */
  expiration?: Date;
  /** Where to read variables (default: the process environment). */
  env?: EnvSource;
}

/**
 * Mints a participant token from the environment, as the TS test harness does (spec §3.6):
 * `kid` = `MESHAGENT_KEY_ID`, `sub` = `MESHAGENT_PROJECT_ID`, signed with `MESHAGENT_SECRET`.
 * When `MESHAGENT_API_KEY` is set it is used instead: its secret signs and its key id and project
 * id become `kid` and `sub` (what the TS client does when both are set).
 *
 * @param options Participant name, room, role, scope, expiry and env source.
 * @returns The signed JWT.
 * @throws {RoomConfigError} `missing_room` or `missing_credentials`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ParticipantToken } from "./participant_token.ts";
 *
 * const env = { MESHAGENT_ROOM: "demo", MESHAGENT_SECRET: "s3cret", MESHAGENT_KEY_ID: "k1" };
 * const jwt = await participantTokenFromEnv({ participantName: "worker", env });
 * const token = await ParticipantToken.fromJwt(jwt, { keys: { k1: "s3cret" } });
 * assert.equal(token.roomName, "demo");
 * ```
 */
export async function participantTokenFromEnv(options: TokenFromEnvOptions): Promise<string> {
  const env = options.env;
  const roomName = options.roomName ?? getEnv("MESHAGENT_ROOM", env);
  if (roomName === undefined) {
    throw new RoomConfigError(
      "missing_room",
      "no room name: pass roomName or set MESHAGENT_ROOM",
    );
  }
  const token = new ParticipantToken({
    name: options.participantName,
    projectId: getEnv("MESHAGENT_PROJECT_ID", env),
    apiKeyId: getEnv("MESHAGENT_KEY_ID", env),
  });
  token.addRoomGrant(roomName);
  if (options.role !== undefined) token.addRoleGrant(options.role);
  const scope = options.scope === undefined ? ApiScope.agentDefault() : options.scope;
  if (scope !== null) token.addApiGrant(scope);
  const apiKey = getEnv("MESHAGENT_API_KEY", env);
  const secret = getEnv("MESHAGENT_SECRET", env);
  if (apiKey !== undefined) return await token.toJwt({ apiKey, expiration: options.expiration });
  if (secret !== undefined) return await token.toJwt({ secret, expiration: options.expiration });
  throw new RoomConfigError(
    "missing_credentials",
    "cannot sign a participant token: set MESHAGENT_API_KEY (an ma-… key), or MESHAGENT_SECRET " +
      "(with MESHAGENT_KEY_ID and MESHAGENT_PROJECT_ID when the server checks them)",
  );
}

/**
 * Where and how to connect to a room.
 *
 * @example
 * ```ts
 * const connection: RoomConnection = {
 *   roomName: "demo",
 *   url: "ws://localhost:8078/rooms/demo",
 *   token: "eyJ...",
 * };
 * ```
 */
export interface RoomConnection {
  /** The room name. */
  roomName: string;
  /** The WebSocket URL, `…/rooms/<roomName>`. */
  url: string;
  /** The participant JWT. */
  token: string;
}

/**
 * Options of {@linkcode roomConnectionFromEnv}.
 *
 * @example
 * ```ts
 * const options: RoomConnectionOptions = { participantName: "worker" };
 * ```
 */
export interface RoomConnectionOptions {
  /** Room name; default `MESHAGENT_ROOM`. */
  roomName?: string;
  /** API base URL; default `MESHAGENT_ROOM_URL`, then `MESHAGENT_API_URL`. */
  apiUrl?: string;
  /**
   * Name to mint a token for when `MESHAGENT_TOKEN` is not set. Without it, `MESHAGENT_TOKEN`
   * is required.
   */
  participantName?: string;
  /** Role grant for a minted token. */
  role?: string;
  /** `api` grant for a minted token (default `ApiScope.agentDefault()`). */
  scope?: ApiScope | null;
  /** Expiry of a minted token. */
  expiration?: Date;
  /** Where to read variables (default: the process environment). */
  env?: EnvSource;
}

/**
 * Resolves the room URL and token from the environment, as `RoomClient` does when it is given
 * no protocol factory: room from `MESHAGENT_ROOM`, token from `MESHAGENT_TOKEN`, URL base from
 * `MESHAGENT_ROOM_URL` / `MESHAGENT_API_URL`. When `MESHAGENT_TOKEN` is unset and a
 * `participantName` is given, a token is minted with {@linkcode participantTokenFromEnv}.
 *
 * @param options Overrides and minting options.
 * @returns Room name, WebSocket URL and token.
 * @throws {RoomConfigError} When the room or the credentials are missing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const connection = await roomConnectionFromEnv({
 *   env: {
 *     MESHAGENT_ROOM: "demo",
 *     MESHAGENT_TOKEN: "eyJhbGciOiJIUzI1NiJ9.e30.sig",
 *     MESHAGENT_API_URL: "http://localhost:8078",
 *   },
 * });
 * assert.deepEqual(connection, {
 *   roomName: "demo",
 *   url: "ws://localhost:8078/rooms/demo",
 *   token: "eyJhbGciOiJIUzI1NiJ9.e30.sig",
 * });
 * ```
 */
export async function roomConnectionFromEnv(
  options: RoomConnectionOptions = {},
): Promise<RoomConnection> {
  const env = options.env;
  const roomName = options.roomName ?? getEnv("MESHAGENT_ROOM", env);
  if (roomName === undefined) {
    throw new RoomConfigError(
      "missing_room",
      "no room name: pass roomName or set MESHAGENT_ROOM",
    );
  }
  const url = options.apiUrl
    ? websocketRoomUrl({ roomName, apiUrl: options.apiUrl })
    : websocketRoomUrlFromEnv(roomName, env);
  let token = getEnv("MESHAGENT_TOKEN", env);
  if (token === undefined) {
    if (options.participantName === undefined) {
      throw new RoomConfigError(
        "missing_credentials",
        "no participant token: set MESHAGENT_TOKEN, or pass participantName and set " +
          "MESHAGENT_API_KEY or MESHAGENT_SECRET so that one can be minted",
      );
    }
    token = await participantTokenFromEnv({
      participantName: options.participantName,
      roomName,
      role: options.role,
      scope: options.scope,
      expiration: options.expiration,
      env,
    });
  }
  return { roomName, url, token };
}
