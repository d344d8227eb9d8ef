/**
 * `@meshagent/adapters/mcp`: the tools of an MCP server as a MeshAgent toolkit.
 *
 * {@linkcode MCPToolkit} connects to an MCP server over stdio (a child process), streamable HTTP
 * or the older HTTP+SSE transport, lists its tools, and offers each as an {@linkcode MCPTool}: input checked against the
 * server's schema before the call, results converted to contents (text → `TextContent`,
 * image/audio → `FileContent`, links → `LinkContent`, `structuredContent` → `JsonContent`, several
 * items → a stream, `isError` → `ToolError`). It is a plain `Toolkit`, so it can be handed to an
 * agent or hosted in a room like any other. {@linkcode MCPConnection} is the small interface the
 * toolkit needs; {@linkcode MCPClientConnection} implements it with the official MCP SDK.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type MCPConnection, MCPToolkit } from "@meshagent/adapters/mcp";
 * import { TextContent, ToolContext } from "@meshagent/tools";
 *
 * const conn: MCPConnection = {
 *   label: "inline",
 *   serverInfo: null,
 *   closed: false,
 *   listTools: () => Promise.resolve([{ name: "ping", inputSchema: { type: "object" } }]),
 *   callTool: () => Promise.resolve({ content: [{ type: "text", text: "pong" }], isError: false }),
 *   onToolListChanged: () => () => {},
 *   close: () => Promise.resolve(),
 * };
 * await using toolkit = await MCPToolkit.fromConnection(conn, { name: "pinger" });
 * const ctx = new ToolContext({ caller: { id: "p-1", attributes: {} } });
 * const out = await toolkit.execute(ctx, "ping");
 * assert(out instanceof TextContent && out.text === "pong");
 * ```
 *
 * @module
 */
export * from "./mcp_error.ts";
export * from "./mcp_connection.ts";
export * from "./mcp_content.ts";
export * from "./mcp_tool.ts";
export * from "./mcp_toolkit.ts";
