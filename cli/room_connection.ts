import {
  type ApiKey,
  ApiScope,
  ParticipantToken,
  RoomClient,
  websocketRoomUrl,
} from "@meshagent/api";
import { isValidRoomName } from "@meshagent/server";
import { credentialsFromEnv, readCredentialsFile } from "./server_credentials.ts";

/** The default room server address for local development. */
export const DEFAULT_API_URL = "http://127.0.0.1:8078";

/** Flags every `meshagent room …` command shares. */
export interface RoomConnectionOptions {
  /** The room name. */
  room?: string;
  /** The participant name to mint a token for (default `cli`). */
  identity?: string;
  /** The role grant of a minted token (default `user`). */
  role?: string;
  /** The server's base URL (default env `MESHAGENT_API_URL`, else http://127.0.0.1:8078). */
  apiUrl?: string;
  /** A ready participant token (default env `MESHAGENT_TOKEN`). */
  token?: string;
  /** An `ma-…` API key to sign a token with (default env `MESHAGENT_API_KEY`). */
  key?: string;
  /** The server data folder whose generated credentials may sign a token (default `.meshagent`). */
  dataDir?: string;
}

/** Where a room connection goes and with which token. */
export interface ResolvedRoomConnection {
  /** The room name. */
  room: string;
  /** The WebSocket URL of the room. */
  url: string;
  /** The participant token. */
  token: string;
}

/** Reads an environment variable (replaceable in tests). */
export type Env = (name: string) => string | undefined;

/**
 * Works out the room URL and a participant token from flags and the environment, as the official
 * CLI does: `--token`/`MESHAGENT_TOKEN` is used as is; otherwise a token is signed locally with
 * `--key`/`MESHAGENT_API_KEY`, the `MESHAGENT_PROJECT_ID`+`MESHAGENT_KEY_ID`+`MESHAGENT_SECRET`
 * triple, or — for a server started from the same folder — the credentials `meshagent server`
 * generated in its data folder.
 *
 * @param options The command's flags.
 * @param env Reads environment variables.
 * @returns The room, URL and token.
 * @throws {Error} With a message that says which flag or variable to set.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveRoomConnection } from "@meshagent/cli";
 * import { generateApiKey } from "@meshagent/api";
 * const { key } = generateApiKey();
 * const c = await resolveRoomConnection({ room: "demo", key }, () => undefined);
 * assert(c.url === "ws://127.0.0.1:8078/rooms/demo" && c.token.split(".").length === 3);
 * ```
 */
export async function resolveRoomConnection(
  options: RoomConnectionOptions,
  env: Env = (name) => Deno.env.get(name),
): Promise<ResolvedRoomConnection> {
  const room = options.room ?? env("MESHAGENT_ROOM");
  if (!room) throw new Error("which room? pass --room NAME or set MESHAGENT_ROOM");
  // Checked here, so a bad name is named before connecting instead of being bent by URL
  // normalisation (`a/../b` → `b`).
  if (!isValidRoomName(room)) {
    throw new Error(
      `${JSON.stringify(room)} is not a room name: use 1-63 lowercase letters, digits and ` +
        "hyphens, starting and ending with a letter or digit (--room my-room)",
    );
  }
  const apiUrl = options.apiUrl ?? env("MESHAGENT_ROOM_URL") ?? env("MESHAGENT_API_URL") ??
    DEFAULT_API_URL;
  const url = websocketRoomUrl({ roomName: room, apiUrl });
  const given = options.token ?? env("MESHAGENT_TOKEN");
  if (given) return { room, url, token: given };
  const key = await signingKey(options, env);
  const token = new ParticipantToken({ name: options.identity ?? "cli" });
  token.addRoomGrant(room);
  if (options.role && options.role !== "user") token.addRoleGrant(options.role);
  token.addApiGrant(ApiScope.agentDefault());
  token.projectId = key.projectId;
  token.apiKeyId = key.id;
  return { room, url, token: await token.toJwt({ secret: key.secret }) };
}

/**
 * Finds the API key the CLI signs with (and authenticates to the server's REST routes with):
 * `--key`, then `MESHAGENT_API_KEY` (or the `MESHAGENT_PROJECT_ID`+`MESHAGENT_KEY_ID`+
 * `MESHAGENT_SECRET` triple), then the credentials `meshagent server` keeps in `--data-dir`.
 *
 * @param options The `--key` and `--data-dir` flags.
 * @param env Reads environment variables.
 * @returns The key.
 * @throws {Error} With a message that says which flag or variable to set.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveApiKey } from "@meshagent/cli";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const found = await resolveApiKey({ key: formatApiKey(key) }, () => undefined);
 * assert(found.id === key.id && found.projectId === key.projectId);
 * ```
 */
export async function resolveApiKey(
  options: Pick<RoomConnectionOptions, "key" | "dataDir">,
  env: Env = (name) => Deno.env.get(name),
): Promise<ApiKey> {
  return await signingKey(options, env);
}

async function signingKey(
  options: Pick<RoomConnectionOptions, "key" | "dataDir">,
  env: Env,
): Promise<ApiKey> {
  if (options.key) {
    const c = credentialsFromEnv((name) => name === "MESHAGENT_API_KEY" ? options.key : undefined);
    if (c) return c.key;
  }
  const fromEnv = credentialsFromEnv(env);
  if (fromEnv) return fromEnv.key;
  const dataDir = options.dataDir ?? ".meshagent";
  const stored = await readCredentialsFile(`${dataDir}/credentials.json`);
  if (stored) return stored;
  throw new Error(
    "no credentials: set MESHAGENT_API_KEY (meshagent server prints it), pass --key ma-…, pass " +
      "a ready token with --token / MESHAGENT_TOKEN, or run this where meshagent server keeps " +
      `its data folder (--data-dir, now ${dataDir})`,
  );
}

/**
 * Connects a {@linkcode RoomClient} for a CLI command and waits until the room is ready.
 *
 * @param options The command's flags.
 * @param env Reads environment variables.
 * @returns The started client; dispose it when done.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectRoom } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const room = await connectRoom({ room: "demo", apiUrl: server.url, key: formatApiKey(key) });
 * assert(room.localParticipant?.getAttribute("name") === "cli");
 * await room.dispose();
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function connectRoom(
  options: RoomConnectionOptions,
  env?: Env,
): Promise<RoomClient> {
  const { url, token } = await resolveRoomConnection(options, env);
  const room = new RoomClient({ url, token, reconnectTimeout: 0 });
  try {
    await room.start();
  } catch (e) {
    await room.dispose();
    throw e;
  }
  return room;
}
