/**
 * `@meshagent/adapters/anthropic`: Anthropic's Messages API as a MeshAgent LLM adapter.
 *
 * {@linkcode AnthropicMessagesAdapter} streams `POST /v1/messages` through npm
 * `@anthropic-ai/sdk` and runs the shared tool loop of `@meshagent/agents`: toolkits become flat
 * tools (strict once a tool has failed, in the default `adaptive` mode), tool results go back as
 * `tool_result` blocks, thinking is streamed as reasoning and replayed with its signature,
 * `pause_turn` continues, and failures are retried as the official adapter retries them.
 * {@linkcode AnthropicMessagesToolResponseAdapter} decides how tool results are shown.
 * Configuration comes from the options or the environment: `ANTHROPIC_API_KEY` /
 * `ANTHROPIC_BASE_URL`, else the MeshAgent LLM proxy (`MESHAGENT_TOKEN` at
 * `${MESHAGENT_API_URL}/anthropic`); `ANTHROPIC_MODEL`, `ANTHROPIC_MAX_TOKENS`.
 *
 * For tests, `@meshagent/adapters/anthropic/testing` has a fake Messages API server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AnthropicMessagesAdapter } from "@meshagent/adapters/anthropic";
 * const adapter = new AnthropicMessagesAdapter({
 *   env: { MESHAGENT_API_URL: "http://localhost:8078", MESHAGENT_TOKEN: "token" },
 * });
 * assert.equal(adapter.baseURL, "http://localhost:8078/anthropic");
 * assert.equal(adapter.provider, "anthropic");
 * ```
 *
 * @module
 */
export * from "./anthropic_messages_tool_response_adapter.ts";
export * from "./anthropic_messages_adapter.ts";
