import type { Env } from "./room_connection.ts";

/** One saved server and API key (what `meshagent auth login` stores). */
export interface AuthProfile {
  /** The server's base URL. */
  apiUrl: string;
  /** The `ma-…` API key. */
  apiKey: string;
  /** The project commands use by default (`meshagent project activate`). */
  projectId?: string;
}

/** Every saved profile and which one is active. */
export interface AuthProfiles {
  /** The profile commands use unless `--profile` or `MESHAGENT_PROFILE` says otherwise. */
  active: string | null;
  /** The profiles by name. */
  profiles: Record<string, AuthProfile>;
}

/** The file of the profiles inside the config folder. */
export const PROFILES_FILE = "profiles.json";

/**
 * The user's MeshAgent config folder: `MESHAGENT_CONFIG_DIR`, else `$XDG_CONFIG_HOME/meshagent`,
 * else `~/.config/meshagent` (`%APPDATA%\meshagent` on Windows).
 *
 * @param env Reads environment variables.
 * @returns The folder.
 * @throws {Error} When none of the variables it needs is set.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configDir } from "@meshagent/cli";
 * assert.equal(configDir((n) => n === "XDG_CONFIG_HOME" ? "/x" : undefined), "/x/meshagent");
 * ```
 */
export function configDir(env: Env = (name) => Deno.env.get(name)): string {
  const explicit = env("MESHAGENT_CONFIG_DIR");
  if (explicit) return explicit;
  const xdg = env("XDG_CONFIG_HOME");
  if (xdg) return `${xdg}/meshagent`;
  const appData = env("APPDATA");
  if (appData) return `${appData}\\meshagent`;
  const home = env("HOME") ?? env("USERPROFILE");
  if (home) return `${home}/.config/meshagent`;
  throw new Error(
    "cannot find a config folder: set MESHAGENT_CONFIG_DIR (or HOME / XDG_CONFIG_HOME)",
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Reads the saved profiles (none when the file does not exist).
 *
 * @param env Reads environment variables (the config folder).
 * @returns The profiles.
 * @throws {Error} When the file is not valid (the message names it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readProfiles } from "@meshagent/cli";
 * const dir = await Deno.makeTempDir();
 * const profiles = await readProfiles((n) => n === "MESHAGENT_CONFIG_DIR" ? dir : undefined);
 * assert.deepEqual(profiles, { active: null, profiles: {} });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readProfiles(env: Env = (name) => Deno.env.get(name)): Promise<AuthProfiles> {
  const file = `${configDir(env)}/${PROFILES_FILE}`;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { active: null, profiles: {} };
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON: fix it, or delete it and log in again`);
  }
  if (!isObject(json) || !isObject(json.profiles)) {
    throw new Error(`${file} has no "profiles" object: delete it and log in again`);
  }
  const profiles: Record<string, AuthProfile> = {};
  for (const [name, value] of Object.entries(json.profiles)) {
    if (
      !isObject(value) || typeof value.api_url !== "string" || typeof value.api_key !== "string"
    ) {
      throw new Error(`${file}: profile ${name} needs api_url and api_key`);
    }
    profiles[name] = {
      apiUrl: value.api_url,
      apiKey: value.api_key,
      ...(typeof value.project_id === "string" ? { projectId: value.project_id } : {}),
    };
  }
  const active = typeof json.active === "string" && json.active in profiles ? json.active : null;
  return { active, profiles };
}

/**
 * Saves the profiles (mode 0600: they hold API keys; written to a temp file and renamed).
 *
 * @param profiles The profiles.
 * @param env Reads environment variables (the config folder).
 * @returns The file written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readProfiles, writeProfiles } from "@meshagent/cli";
 * const dir = await Deno.makeTempDir();
 * const env = (n: string) => n === "MESHAGENT_CONFIG_DIR" ? dir : undefined;
 * await writeProfiles({
 *   active: "local",
 *   profiles: { local: { apiUrl: "http://127.0.0.1:8078", apiKey: "ma-x" } },
 * }, env);
 * assert.equal((await readProfiles(env)).active, "local");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeProfiles(
  profiles: AuthProfiles,
  env: Env = (name) => Deno.env.get(name),
): Promise<string> {
  const dir = configDir(env);
  await Deno.mkdir(dir, { recursive: true });
  const file = `${dir}/${PROFILES_FILE}`;
  const json = {
    active: profiles.active,
    profiles: Object.fromEntries(
      Object.entries(profiles.profiles).map(([name, p]) => [name, {
        api_url: p.apiUrl,
        api_key: p.apiKey,
        ...(p.projectId !== undefined ? { project_id: p.projectId } : {}),
      }]),
    ),
  };
  const temp = `${file}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(temp, JSON.stringify(json, null, 2) + "\n", { mode: 0o600 });
  await Deno.rename(temp, file);
  return file;
}
