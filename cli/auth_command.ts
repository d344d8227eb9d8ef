import { Meshagent, parseApiKey } from "@meshagent/api";
import { readProfiles, writeProfiles } from "./auth_profiles.ts";
import { DEFAULT_API_URL, type Env } from "./room_connection.ts";
import { resolveAdmin } from "./admin_connection.ts";
import type { Output } from "./output.ts";
import { printDone, printList, printObject } from "./_format.ts";

/** Flags of `meshagent auth login`. */
export interface AuthLoginOptions {
  /** The server's base URL (default `MESHAGENT_API_URL`, else http://127.0.0.1:8078). */
  apiUrl?: string;
  /** The `ma-…` API key (default `MESHAGENT_API_KEY`). */
  key?: string;
  /** The profile name (default `default`). */
  profile?: string;
  /** One JSON object instead of a sentence. */
  json?: boolean;
}

/**
 * `meshagent auth login`: checks an API key against a server (`GET /accounts/whoami`) and saves
 * it as a profile in the user's config folder, made active.
 *
 * @param options The server, key and profile name.
 * @param output Where the confirmation goes.
 * @param env Reads environment variables.
 * @returns The saved profile's name.
 * @throws {Error} When the server refuses the key (its message says why).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { authLoginCommand } from "@meshagent/cli";
 * // Nothing listens on port 9: the login fails and nothing is saved.
 * await assert.rejects(authLoginCommand(
 *   { apiUrl: "http://127.0.0.1:9", key: "ma-x" },
 *   { out: () => {}, err: () => {} },
 *   () => undefined,
 * ));
 * ```
 */
export async function authLoginCommand(
  options: AuthLoginOptions,
  output: Output,
  env: Env = (name) => Deno.env.get(name),
): Promise<string> {
  const apiUrl = (options.apiUrl ?? env("MESHAGENT_API_URL") ?? DEFAULT_API_URL)
    .replace(/^ws/, "http").replace(/\/+$/, "");
  const apiKey = options.key ?? env("MESHAGENT_API_KEY");
  if (!apiKey) throw new Error("auth login: pass --key ma-… (or set MESHAGENT_API_KEY)");
  try {
    parseApiKey(apiKey);
  } catch (e) {
    throw new Error(`auth login: ${e instanceof Error ? e.message : e}`);
  }
  const who = await new Meshagent({ baseUrl: apiUrl, apiKey }).whoami();
  const name = options.profile ?? "default";
  const saved = await readProfiles(env);
  saved.profiles[name] = { apiUrl, apiKey };
  saved.active = name;
  const file = await writeProfiles(saved, env);
  printDone(
    output,
    options.json,
    `logged in to ${apiUrl} as ${who.id} (profile ${name}, in ${file})`,
    {
      profile: name,
      api_url: apiUrl,
      project_id: who.project_id ?? null,
    },
  );
  return name;
}

/**
 * `meshagent auth logout [PROFILE]`: forgets a profile (default: the active one).
 *
 * @param profile The profile name.
 * @param output Where the confirmation goes.
 * @param json One JSON object instead of a sentence.
 * @param env Reads environment variables.
 *
 * @example
 * ```ts
 * import { authLogoutCommand } from "@meshagent/cli";
 * const dir = await Deno.makeTempDir();
 * await authLogoutCommand(undefined, { out: () => {}, err: () => {} }, false,
 *   (n) => n === "MESHAGENT_CONFIG_DIR" ? dir : undefined);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function authLogoutCommand(
  profile: string | undefined,
  output: Output,
  json: boolean | undefined,
  env: Env = (name) => Deno.env.get(name),
): Promise<void> {
  const saved = await readProfiles(env);
  const name = profile ?? saved.active;
  if (name === null || !saved.profiles[name]) {
    printDone(output, json, "not logged in: nothing to forget", { profile: null });
    return;
  }
  delete saved.profiles[name];
  if (saved.active === name) saved.active = Object.keys(saved.profiles)[0] ?? null;
  await writeProfiles(saved, env);
  printDone(output, json, `forgot profile ${name}`, { profile: name, active: saved.active });
}

/**
 * `meshagent auth switch PROFILE`: makes a saved profile the active one.
 *
 * @param profile The profile name.
 * @param output Where the confirmation goes.
 * @param json One JSON object instead of a sentence.
 * @param env Reads environment variables.
 * @throws {Error} When there is no such profile (the message lists them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { authSwitchCommand } from "@meshagent/cli";
 * const dir = await Deno.makeTempDir();
 * await assert.rejects(authSwitchCommand("nope", { out: () => {}, err: () => {} }, false,
 *   (n) => n === "MESHAGENT_CONFIG_DIR" ? dir : undefined), /no profile nope/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function authSwitchCommand(
  profile: string,
  output: Output,
  json: boolean | undefined,
  env: Env = (name) => Deno.env.get(name),
): Promise<void> {
  const saved = await readProfiles(env);
  if (!saved.profiles[profile]) {
    const names = Object.keys(saved.profiles);
    throw new Error(
      `no profile ${profile}${names.length ? ` (there are: ${names.join(", ")})` : ""}; log in ` +
        `with \`meshagent auth login --profile ${profile}\``,
    );
  }
  saved.active = profile;
  await writeProfiles(saved, env);
  printDone(output, json, `profile ${profile} is active`, { profile });
}

/**
 * `meshagent auth list`: the saved profiles (their servers and key ids; never the keys).
 *
 * @param output Where the table goes.
 * @param json JSON lines instead of a table.
 * @param env Reads environment variables.
 *
 * @example
 * ```ts
 * import { authListCommand } from "@meshagent/cli";
 * const dir = await Deno.makeTempDir();
 * await authListCommand({ out: () => {}, err: () => {} }, false,
 *   (n) => n === "MESHAGENT_CONFIG_DIR" ? dir : undefined);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function authListCommand(
  output: Output,
  json: boolean | undefined,
  env: Env = (name) => Deno.env.get(name),
): Promise<void> {
  const saved = await readProfiles(env);
  const rows = Object.entries(saved.profiles).map(([name, p]) => {
    let keyId = "?";
    try {
      keyId = parseApiKey(p.apiKey).id;
    } catch { /* shown as ? */ }
    return {
      profile: name,
      active: name === saved.active,
      api_url: p.apiUrl,
      key_id: keyId,
      project_id: p.projectId ?? null,
    };
  });
  printList(output, rows, {
    json,
    columns: [
      { header: "profile", value: (r) => `${r.active ? "* " : "  "}${r.profile}` },
      { header: "server", value: (r) => r.api_url },
      { header: "key id", value: (r) => r.key_id },
      { header: "project", value: (r) => r.project_id },
    ],
    empty: "no profiles: log in with `meshagent auth login --api-url URL --key ma-…`",
  });
}

/**
 * `meshagent auth whoami`: who the current key is, as the server says.
 *
 * @param options The admin flags (server, key, profile).
 * @param output Where it goes.
 * @param env Reads environment variables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { authWhoamiCommand } from "@meshagent/cli";
 * await assert.rejects(authWhoamiCommand(
 *   { apiUrl: "http://127.0.0.1:9", key: "ma-x" },
 *   { out: () => {}, err: () => {} },
 *   () => undefined,
 * ));
 * ```
 */
export async function authWhoamiCommand(
  options: { apiUrl?: string; key?: string; profile?: string; dataDir?: string; json?: boolean },
  output: Output,
  env: Env = (name) => Deno.env.get(name),
): Promise<void> {
  const admin = await resolveAdmin(options, env);
  const who = await admin.client.whoami();
  printObject(
    output,
    { ...who, api_url: admin.apiUrl, profile: admin.profile ?? null },
    options.json,
  );
}
