// Where the Anthropic client connects and with which key (official proxy/proxy.py): option →
// ANTHROPIC_* → the MeshAgent LLM proxy (`MESHAGENT_API_URL` + `/anthropic`, `MESHAGENT_TOKEN`).
import { type EnvSource, meshagentBaseUrl, readEnv } from "@meshagent/api";

/** The resolved connection settings; `apiKey` is null when none was found. */
export interface AnthropicClientConfig {
  baseURL: string;
  apiKey: string | null;
}

/** Reads a variable from `env` (default: the process); blank values count as unset. */
export function envVar(name: string, env: EnvSource | undefined): string | undefined {
  const value = env === undefined
    ? readEnv(name)
    : typeof env === "function"
    ? env(name)
    : env[name];
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** Resolves the base URL and key; blank values count as unset. */
export function anthropicClientConfig(
  options: { baseURL?: string; apiKey?: string; env?: EnvSource },
): AnthropicClientConfig {
  const env = options.env;
  const baseURL = options.baseURL?.trim() || envVar("ANTHROPIC_BASE_URL", env) ||
    `${meshagentBaseUrl(undefined, env).replace(/\/+$/, "")}/anthropic`;
  const apiKey = options.apiKey?.trim() || envVar("ANTHROPIC_API_KEY", env) ||
    envVar("MESHAGENT_TOKEN", env) || null;
  return { baseURL, apiKey };
}

/** The message of the error a response gets when no key was found. */
export const MISSING_KEY_MESSAGE =
  "no Anthropic API key: set ANTHROPIC_API_KEY (or MESHAGENT_TOKEN to use the MeshAgent LLM " +
  "proxy at MESHAGENT_API_URL/anthropic), or pass apiKey to AnthropicMessagesAdapter";
