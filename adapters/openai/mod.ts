/**
 * `@meshagent/adapters/openai`: LLM adapters on the npm `openai` client.
 *
 * - {@linkcode OpenAIResponsesAdapter}: OpenAI's Responses API, streamed over SSE (or the
 *   websocket mode), toolkits as `namespace` tools, reasoning summaries and encrypted reasoning.
 * - {@linkcode OpenAICompletionsAdapter}: the Chat Completions API, for OpenAI and any
 *   OpenAI-compatible server (Ollama, vLLM, llama.cpp).
 * - {@linkcode OpenAIRealtimeAdapter}: speech to speech on the Realtime API (spoken input from
 *   `realtime_audio.*` messages; transcripts and audio out).
 *
 * Both run the shared tool loop of `@meshagent/agents` (`LLMAdapterBase`: tools, retries with
 * backoff on 408/409/429/≥500, approvals, steering, interrupts) and rebuild the provider request
 * from the thread's context on every round. Where they connect is resolved by
 * {@linkcode resolveOpenAIClientConfig}: `OPENAI_BASE_URL` / `OPENAI_API_KEY`, else the MeshAgent
 * proxy at `$MESHAGENT_API_URL/openai/v1` with `MESHAGENT_TOKEN`. A fake server for tests is in
 * `@meshagent/adapters/openai/testing`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FunctionTool, Toolkit } from "@meshagent/tools";
 * import { OpenAIResponsesAdapter } from "@meshagent/adapters/openai";
 * import { FakeOpenAIServer } from "@meshagent/adapters/openai/testing";
 *
 * await using server = await FakeOpenAIServer.start({
 *   replies: [
 *     { toolCalls: [{ namespace: "math", name: "add", arguments: { a: 2, b: 3 } }] },
 *     { text: "5" },
 *   ],
 * });
 * const math = new Toolkit({
 *   name: "math",
 *   tools: [new FunctionTool<{ a: number; b: number }>({
 *     name: "add",
 *     inputSchema: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } } },
 *     run: (_ctx, { a, b }) => a + b,
 *   })],
 * });
 * const adapter = new OpenAIResponsesAdapter({ baseURL: server.baseURL, apiKey: "test" });
 * const context = adapter.createSession();
 * context.appendUserMessage("2 + 3?");
 * const response = await adapter.createResponse({ context, caller: { id: "agent", attributes: {} }, toolkits: [math] });
 * assert.equal(response.text, "5");
 * assert.deepEqual(context.items.map((item) => item.kind), ["user", "tool_call", "tool_result", "assistant"]);
 * ```
 *
 * @module
 */
export * from "./openai_client_options.ts";
export * from "./openai_responses_adapter.ts";
export * from "./openai_completions_adapter.ts";
export * from "./openai_realtime_adapter.ts";
export * from "./openai_speech_to_text.ts";
export * from "./openai_text_to_speech.ts";
