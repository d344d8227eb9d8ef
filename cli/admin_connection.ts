import { formatApiKey, Meshagent, parseApiKey } from "@meshagent/api";
import { readCredentialsFile } from "./server_credentials.ts";
import { DEFAULT_API_URL, type Env } from "./room_connection.ts";
import { type AuthProfile, type AuthProfiles, readProfiles } from "./auth_profiles.ts";

/** The flags of the admin commands (`project`, `api-key`, `secret`, `rooms`, …). */
export interface AdminConnectionOptions {
  /** The server's base URL. */
  apiUrl?: string;
  /** The `ma-…` API key. */
  key?: string;
  /** The data folder of a local server, whose key may be used. */
  dataDir?: string;
  /** The project (default: the profile's, else the key's own). */
  projectId?: string;
  /** The saved profile to use (default `MESHAGENT_PROFILE`, else the active one). */
  profile?: string;
}

/** Where the admin commands send requests, and as whom. */
export interface AdminConnection {
  /** The REST client. */
  client: Meshagent;
  /** The server's base URL. */
  apiUrl: string;
  /** The API key. */
  apiKey: string;
  /** The project commands act on. */
  projectId: string;
  /** The profile used, if any. */
  profile?: string;
}

/**
 * Resolves the server, API key and project of an admin command: each from its flag, else the
 * environment (`MESHAGENT_API_URL`, `MESHAGENT_API_KEY`, `MESHAGENT_PROJECT_ID`), else the saved
 * profile (`meshagent auth login`), else (the key) a local server's data folder.
 *
 * @param options The flags.
 * @param env Reads environment variables.
 * @returns The client and what it uses.
 * @throws {Error} When no API key can be found (the message says where to put one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveAdmin } from "@meshagent/cli";
 * import { generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const admin = await resolveAdmin({ key: key.key, apiUrl: "ws://127.0.0.1:9" }, () => undefined);
 * assert.equal(admin.apiUrl, "http://127.0.0.1:9");
 * assert.equal(admin.projectId, key.projectId);
 * ```
 */
export async function resolveAdmin(
  options: AdminConnectionOptions,
  env: Env = (name) => Deno.env.get(name),
): Promise<AdminConnection> {
  const name = options.profile ?? env("MESHAGENT_PROFILE");
  let profile: AuthProfile | undefined;
  let profileName: string | undefined;
  const needProfile = !(options.key ?? env("MESHAGENT_API_KEY")) || !options.apiUrl;
  if (name !== undefined || needProfile) {
    const saved: AuthProfiles = await readProfiles(env).catch((e) => {
      if (name !== undefined) throw e;
      return { active: null, profiles: {} };
    });
    profileName = name ?? saved.active ?? undefined;
    if (profileName !== undefined) {
      profile = saved.profiles[profileName];
      if (!profile) {
        throw new Error(
          `no profile ${profileName}: log in with \`meshagent auth login --profile ${profileName}\``,
        );
      }
    }
  }
  const apiUrl = (options.apiUrl ?? env("MESHAGENT_API_URL") ?? profile?.apiUrl ?? DEFAULT_API_URL)
    .replace(/^ws/, "http").replace(/\/+$/, "");
  let apiKey = options.key ?? env("MESHAGENT_API_KEY") ?? profile?.apiKey;
  if (!apiKey) {
    const dataDir = options.dataDir ?? ".meshagent";
    const stored = await readCredentialsFile(`${dataDir}/credentials.json`).catch(() => undefined);
    if (stored) apiKey = formatApiKey(stored);
  }
  if (!apiKey) {
    throw new Error(
      "no API key: pass --key ma-…, set MESHAGENT_API_KEY, log in with `meshagent auth login " +
        "--api-url URL --key ma-…`, or run this where `meshagent server` keeps its data folder",
    );
  }
  let keyProject: string;
  try {
    keyProject = parseApiKey(apiKey).projectId;
  } catch (e) {
    throw new Error(`the API key is not valid: ${e instanceof Error ? e.message : e}`);
  }
  const projectId = options.projectId ?? env("MESHAGENT_PROJECT_ID") ?? profile?.projectId ??
    keyProject;
  return {
    client: new Meshagent({ baseUrl: apiUrl, apiKey }),
    apiUrl,
    apiKey,
    projectId,
    ...(profileName !== undefined ? { profile: profileName } : {}),
  };
}
