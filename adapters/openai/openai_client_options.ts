import { LLMError } from "@meshagent/agents";
import { readEnv } from "./_env.ts";
import { ADAPTERS_VERSION } from "./_version.ts";

/** How the OpenAI adapters reach their server. Every field is optional. */
export interface OpenAIClientOptions {
  /**
   * The API base URL, e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1` (default:
   * `$OPENAI_BASE_URL`, else `$MESHAGENT_API_URL/openai/v1`, the MeshAgent LLM proxy).
   */
  baseURL?: string;
  /** The API key (default: `$OPENAI_API_KEY`, else `$MESHAGENT_TOKEN`). */
  apiKey?: string;
  /** The `User-Agent` header (default `meshagent-deno/<version>`). */
  userAgent?: string;
  /** Extra headers sent with every request. */
  headers?: Readonly<Record<string, string>>;
  /** The longest a model request may take, in ms, streaming included (default 600000: 10 min). */
  timeoutMs?: number;
  /**
   * The longest the server may stay silent, in ms — before its first byte and between streamed
   * events (default 120000: 2 min). A reasoning model that thinks longer without streaming needs
   * more.
   */
  idleTimeoutMs?: number;
  /**
   * Reads an environment variable (default: `Deno.env.get`, unset where there is no
   * environment). Tests pass their own.
   */
  env?: (name: string) => string | undefined;
}

/** The resolved connection settings of an OpenAI adapter. */
export interface OpenAIClientConfig {
  /** The base URL, without a trailing slash. */
  baseURL: string;
  /** The API key. */
  apiKey: string;
  /** Where the key came from: `option`, `OPENAI_API_KEY`, `MESHAGENT_TOKEN` or `none` (loopback). */
  apiKeySource: "option" | "OPENAI_API_KEY" | "MESHAGENT_TOKEN" | "none";
  /** The `User-Agent` header. */
  userAgent: string;
  /** Extra headers. */
  headers: Record<string, string>;
  /** The whole-request timeout in ms. */
  timeoutMs: number;
  /** The idle timeout in ms. */
  idleTimeoutMs: number;
}

/** The default whole-request timeout: 10 minutes. */
export const DEFAULT_OPENAI_TIMEOUT_MS = 600_000;
/** The default idle timeout: 2 minutes without a streamed event. */
export const DEFAULT_OPENAI_IDLE_TIMEOUT_MS = 120_000;

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i;

function blankToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/**
 * Resolves where an OpenAI adapter sends its requests, the way the official proxy does:
 *
 * - base URL: `options.baseURL` → `$OPENAI_BASE_URL` (blank counts as unset) →
 *   `$MESHAGENT_API_URL` + `/openai/v1` (default `https://api.meshagent.com/openai/v1`);
 * - API key: `options.apiKey` → `$OPENAI_API_KEY` (blank falls through) → `$MESHAGENT_TOKEN`.
 *   [impl] A server on loopback (`localhost`, `127.x`, `[::1]`: Ollama, vLLM, llama.cpp) needs
 *   no key: a placeholder is sent.
 *
 * @param options Explicit settings, and the environment to read.
 * @returns The settings.
 * @throws {LLMError} (code `no_api_key`) When no key is configured for a non-loopback server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveOpenAIClientConfig } from "@meshagent/adapters/openai";
 * const env: Record<string, string> = { MESHAGENT_API_URL: "https://rooms.example.com", MESHAGENT_TOKEN: "jwt" };
 * const config = resolveOpenAIClientConfig({ env: (name) => env[name] });
 * assert.equal(config.baseURL, "https://rooms.example.com/openai/v1");
 * assert.equal(config.apiKeySource, "MESHAGENT_TOKEN");
 * assert.match(config.userAgent, /^meshagent-deno\//);
 * ```
 */
export function resolveOpenAIClientConfig(options: OpenAIClientOptions = {}): OpenAIClientConfig {
  const env = options.env ?? readEnv;
  const read = (name: string) => blankToUndefined(env(name));
  const meshagentUrl = (read("MESHAGENT_API_URL") ?? "https://api.meshagent.com").replace(
    /\/+$/,
    "",
  );
  const baseURL = (blankToUndefined(options.baseURL) ?? read("OPENAI_BASE_URL") ??
    `${meshagentUrl}/openai/v1`).replace(/\/+$/, "");
  let apiKey: string | undefined;
  let apiKeySource: OpenAIClientConfig["apiKeySource"];
  if ((apiKey = blankToUndefined(options.apiKey)) !== undefined) apiKeySource = "option";
  else if ((apiKey = read("OPENAI_API_KEY")) !== undefined) apiKeySource = "OPENAI_API_KEY";
  else if ((apiKey = read("MESHAGENT_TOKEN")) !== undefined) apiKeySource = "MESHAGENT_TOKEN";
  else {
    let host = "";
    try {
      host = new URL(baseURL).hostname;
    } catch {
      throw new LLMError(
        `the OpenAI base URL ${JSON.stringify(baseURL)} is not a URL; set OPENAI_BASE_URL ` +
          `or pass baseURL`,
        "invalid_config",
      );
    }
    if (!LOOPBACK.test(host)) {
      throw new LLMError(
        `no API key for ${baseURL}: set OPENAI_API_KEY (or MESHAGENT_TOKEN for the MeshAgent ` +
          `proxy), or pass apiKey`,
        "no_api_key",
      );
    }
    apiKey = "unused";
    apiKeySource = "none";
  }
  return {
    baseURL,
    apiKey,
    apiKeySource,
    userAgent: options.userAgent ?? `meshagent-deno/${ADAPTERS_VERSION}`,
    headers: { ...options.headers },
    timeoutMs: options.timeoutMs ?? DEFAULT_OPENAI_TIMEOUT_MS,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_OPENAI_IDLE_TIMEOUT_MS,
  };
}
