import { type ApiKey, formatApiKey, generateApiKey, parseApiKey } from "@meshagent/api";

/** Where the server's credentials came from. */
export type CredentialSource = "MESHAGENT_API_KEY" | "MESHAGENT_SECRET" | "generated" | "stored";

/** The API key a room server trusts, and where it came from. */
export interface ServerCredentials {
  /** The key's id, project and secret. */
  key: ApiKey;
  /** The formatted `ma-…` key. */
  apiKey: string;
  /** Where the key came from. */
  source: CredentialSource;
  /** The credentials file, when the key is kept in the data folder. */
  file?: string;
}

/** A reader of environment variables (so tests can pass their own). */
export type EnvReader = (name: string) => string | undefined;

const denoEnv: EnvReader = (name) => Deno.env.get(name);

/** The name of the credentials file in the data folder. */
export const CREDENTIALS_FILE = "credentials.json";

/**
 * Resolves the API key a server trusts, in this order: `MESHAGENT_API_KEY`; else
 * `MESHAGENT_PROJECT_ID` + `MESHAGENT_KEY_ID` + `MESHAGENT_SECRET`; else the key kept in
 * `<dataDir>/credentials.json`; else a new key, generated once and written there (mode 0600).
 *
 * @param dataDir The server's data folder.
 * @param env Reads environment variables (default `Deno.env.get`).
 * @returns The credentials.
 * @throws {Error} When the environment holds a malformed key or an incomplete secret triple.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadServerCredentials } from "@meshagent/cli";
 * const dir = await Deno.makeTempDir();
 * const first = await loadServerCredentials(dir, () => undefined);
 * const again = await loadServerCredentials(dir, () => undefined);
 * assert(first.source === "generated" && again.source === "stored");
 * assert(first.apiKey === again.apiKey);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadServerCredentials(
  dataDir: string,
  env: EnvReader = denoEnv,
): Promise<ServerCredentials> {
  const fromEnv = credentialsFromEnv(env);
  if (fromEnv) return fromEnv;
  const file = `${dataDir}/${CREDENTIALS_FILE}`;
  const stored = await readCredentialsFile(file);
  if (stored) return { key: stored, apiKey: formatApiKey(stored), source: "stored", file };
  await Deno.mkdir(dataDir, { recursive: true });
  const generated = generateApiKey();
  const key: ApiKey = {
    id: generated.id,
    projectId: generated.projectId,
    secret: generated.secret,
  };
  const body = JSON.stringify(
    {
      api_key: generated.key,
      project_id: key.projectId,
      key_id: key.id,
      created_at: new Date().toISOString(),
    },
    null,
    2,
  );
  // Written to a temp file and renamed, so a crash never leaves half a credentials file.
  const tmp = `${file}.tmp-${crypto.randomUUID()}`;
  await Deno.writeTextFile(tmp, body + "\n", { mode: 0o600 });
  await Deno.rename(tmp, file);
  return { key, apiKey: generated.key, source: "generated", file };
}

/**
 * Reads credentials from the environment only: `MESHAGENT_API_KEY`, or the triple
 * `MESHAGENT_PROJECT_ID` + `MESHAGENT_KEY_ID` + `MESHAGENT_SECRET`.
 *
 * @param env Reads environment variables.
 * @returns The credentials, or `undefined` when none are set.
 * @throws {Error} When a key is malformed or only part of the triple is set.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { credentialsFromEnv } from "@meshagent/cli";
 * assert(credentialsFromEnv(() => undefined) === undefined);
 * ```
 */
export function credentialsFromEnv(env: EnvReader = denoEnv): ServerCredentials | undefined {
  const apiKey = env("MESHAGENT_API_KEY");
  if (apiKey) {
    const key = parseApiKey(apiKey.trim());
    return { key, apiKey: formatApiKey(key), source: "MESHAGENT_API_KEY" };
  }
  const projectId = env("MESHAGENT_PROJECT_ID");
  const keyId = env("MESHAGENT_KEY_ID");
  const secret = env("MESHAGENT_SECRET");
  if (projectId && keyId && secret) {
    const key: ApiKey = { id: keyId, projectId, secret };
    return { key, apiKey: formatApiKey(key), source: "MESHAGENT_SECRET" };
  }
  if (secret && (!projectId || !keyId)) {
    throw new Error(
      "MESHAGENT_SECRET is set but MESHAGENT_PROJECT_ID or MESHAGENT_KEY_ID is missing: set all " +
        "three, or set MESHAGENT_API_KEY instead",
    );
  }
  return undefined;
}

/**
 * Reads the credentials file of a data folder.
 *
 * @param file The file path.
 * @returns The key, or `undefined` when the file does not exist.
 * @throws {Error} When the file exists but does not hold a valid key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readCredentialsFile } from "@meshagent/cli";
 * assert(await readCredentialsFile("/nonexistent/credentials.json") === undefined);
 * ```
 */
export async function readCredentialsFile(file: string): Promise<ApiKey | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  let json: { api_key?: unknown };
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON; delete it to generate new credentials`);
  }
  if (typeof json.api_key !== "string") {
    throw new Error(`${file} has no "api_key"; delete it to generate new credentials`);
  }
  return parseApiKey(json.api_key);
}
