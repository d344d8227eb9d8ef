/**
 * `@meshagent/adapters/openai/testing`: {@linkcode FakeOpenAIServer}, a local stand-in for the
 * OpenAI API (Responses over SSE and websocket, Chat Completions over SSE) that answers as a test
 * scripts it and records what it was sent — for tests and benchmarks of agents without a network
 * or a real model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FakeOpenAIServer } from "@meshagent/adapters/openai/testing";
 * await using server = await FakeOpenAIServer.start();
 * assert.match(server.baseURL, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
 * ```
 *
 * @module
 */
export * from "./fake_openai_server.ts";
