/**
 * `@meshagent/adapters`: adapters between MeshAgent and other systems, one sub-entry point each.
 *
 * - `@meshagent/adapters/mcp`: the tools of an MCP server (stdio or streamable HTTP) as a
 *   MeshAgent toolkit (`MCPToolkit`, `MCPTool`, `MCPClientConnection`).
 *
 * More sub-entry points follow: `./openai` and `./anthropic` (LLM adapters) and `./livekit`.
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
