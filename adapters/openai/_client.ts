// The npm `openai` client, built from our own settings. Private: npm types stay out of public
// signatures.
import OpenAI from "openai";
import type { OpenAIClientConfig } from "./openai_client_options.ts";

/**
 * A client for one adapter: no SDK retries (the adapter's tool loop retries, so it can tell the
 * thread), our User-Agent and headers, and the whole-request timeout (the SDK's own timeout only
 * covers the wait for the response headers; the adapters watch the stream themselves).
 *
 * @param config The resolved settings.
 * @returns The client.
 */
export function createOpenAIClient(config: OpenAIClientConfig): OpenAI {
  return new OpenAI({
    apiKey: config.apiKey,
    baseURL: config.baseURL,
    maxRetries: 0,
    timeout: config.timeoutMs,
    defaultHeaders: { ...config.headers, "User-Agent": config.userAgent },
    dangerouslyAllowBrowser: true,
  });
}
