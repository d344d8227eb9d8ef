/**
 * `@meshagent/adapters`: adapters between MeshAgent and other systems, one sub-entry point each.
 *
 * - `@meshagent/adapters/mcp`: the tools of an MCP server (stdio or streamable HTTP) as a
 *   MeshAgent toolkit (`MCPToolkit`, `MCPTool`, `MCPClientConnection`).
 * - `@meshagent/adapters/anthropic`: Anthropic's Messages API as an LLM adapter
 *   (`AnthropicMessagesAdapter`); `@meshagent/adapters/anthropic/testing` has a fake Messages API
 *   server for tests (`FakeAnthropicServer`).
 *
 * - `@meshagent/adapters/openai`: OpenAI's Responses API (`OpenAIResponsesAdapter`, SSE or
 *   websocket) and the Chat Completions API of OpenAI and OpenAI-compatible servers such as
 *   Ollama, vLLM and llama.cpp (`OpenAICompletionsAdapter`) as LLM adapters;
 *   `@meshagent/adapters/openai/testing` has a fake OpenAI server for tests (`FakeOpenAIServer`).
 *
 * More sub-entry points follow: `./livekit`.
 * This entry point itself exports nothing; import the sub-entry point you need.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MCPToolkit } from "@meshagent/adapters/mcp";
 * assert(typeof MCPToolkit.stdio === "function");
 * ```
 *
 * @module
 */
