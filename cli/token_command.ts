import { ApiScope, ParticipantToken } from "@meshagent/api";
import { credentialsFromEnv, readCredentialsFile } from "./server_credentials.ts";
import type { Output } from "./output.ts";

/** Flags of `meshagent token`. */
export interface TokenCommandOptions {
  /** The room the token may join. */
  room: string;
  /** The participant name. */
  name: string;
  /** The role grant (`user`, `agent`, `tool`). */
  role?: string;
  /** The API scope preset: `agent` (default), `user`, `full` or `none`. */
  api?: string;
  /** Lifetime in seconds; 0 or absent means no expiry. */
  expires?: string;
  /** The `ma-…` key to sign with (default env, then the data folder's credentials). */
  key?: string;
  /** The data folder of a local server (default `.meshagent`). */
  dataDir?: string;
  /** Print `{"token", "room", "name", "role", "api", "expires_at"}` instead of the bare JWT. */
  json?: boolean;
}

/**
 * Mints a participant token (`meshagent token`), signed locally with an API key.
 *
 * @param options The command's flags.
 * @param output Where the token is printed.
 * @returns The JWT.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mintToken } from "@meshagent/cli";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = formatApiKey(generateApiKey());
 * const lines: string[] = [];
 * await mintToken({ room: "demo", name: "alice", key }, { out: (l) => lines.push(l), err: () => {} });
 * assert(lines[0].split(".").length === 3);
 * ```
 */
export async function mintToken(options: TokenCommandOptions, output: Output): Promise<string> {
  const key = options.key
    ? credentialsFromEnv((n) => n === "MESHAGENT_API_KEY" ? options.key : undefined)!.key
    : credentialsFromEnv()?.key ??
      await readCredentialsFile(`${options.dataDir ?? ".meshagent"}/credentials.json`);
  if (!key) {
    throw new Error(
      "no key to sign with: pass --key ma-…, set MESHAGENT_API_KEY (meshagent server prints it), " +
        "or run this where meshagent server keeps its data folder (--data-dir)",
    );
  }
  const role = options.role ?? "user";
  if (!["user", "agent", "tool"].includes(role)) {
    throw new Error(`--role must be user, agent or tool (got ${role})`);
  }
  const token = new ParticipantToken({
    name: options.name,
    projectId: key.projectId,
    apiKeyId: key.id,
  });
  token.addRoomGrant(options.room);
  if (role !== "user") token.addRoleGrant(role);
  const preset = options.api ?? "agent";
  switch (preset) {
    case "agent":
      token.addApiGrant(ApiScope.agentDefault());
      break;
    case "user":
      token.addApiGrant(ApiScope.userDefault());
      break;
    case "full":
      token.addApiGrant(ApiScope.full());
      break;
    case "none":
      break;
    default:
      throw new Error(`--api must be agent, user, full or none (got ${preset})`);
  }
  const seconds = options.expires ? Number(options.expires) : 0;
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new Error(`--expires must be a number of seconds (got ${options.expires})`);
  }
  const expiration = seconds > 0 ? new Date(Date.now() + seconds * 1000) : undefined;
  const jwt = await token.toJwt({ secret: key.secret, expiration });
  if (options.json) {
    output.out(JSON.stringify({
      token: jwt,
      room: options.room,
      name: options.name,
      role,
      api: preset,
      expires_at: expiration?.toISOString() ?? null,
    }));
  } else {
    output.out(jwt);
  }
  return jwt;
}
