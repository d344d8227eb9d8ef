import {
  type Content,
  EmptyContent,
  JsonContent,
  type JsonObject,
  Tool,
  type ToolContext,
  type ToolInput,
  ToolValidationError,
} from "@meshagent/tools";
import {
  DEFAULT_MCP_TIMEOUT_MS,
  type MCPConnection,
  type MCPProgress,
  type MCPToolInfo,
} from "./mcp_connection.ts";
import { mcpResultToOutput } from "./mcp_content.ts";

/** Options of an {@linkcode MCPTool}. */
export interface MCPToolOptions {
  /** The longest one call may take, in milliseconds (default {@linkcode DEFAULT_MCP_TIMEOUT_MS}). */
  timeoutMs?: number;
  /**
   * Whether the server's progress notifications are forwarded to the caller as tool events
   * (`{"kind":"progress","progress":…,"total":…,"message":…}` through `ToolContext.emit`;
   * default true).
   */
  forwardProgress?: boolean;
}

function annotationsOf(info: MCPToolInfo): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(info.annotations ?? {})) {
    if (key === "title") continue;
    if (typeof value === "string" || typeof value === "boolean" || typeof value === "number") {
      out[`mcp.${key}`] = String(value);
    }
  }
  return out;
}

function argumentsFrom(tool: string, input: ToolInput): JsonObject {
  if (input instanceof EmptyContent) return {};
  if (input instanceof JsonContent) {
    const json = input.json;
    if (json !== null && typeof json === "object" && !Array.isArray(json)) {
      return json as JsonObject;
    }
  }
  throw new ToolValidationError(
    `MCP tool ${tool} takes one JSON object of arguments; send a json content (or nothing)`,
  );
}

/**
 * One tool of an MCP server as a MeshAgent {@linkcode Tool}: its name, title and description are
 * the server's, its input is one JSON object checked against the server's `inputSchema` before
 * the call goes out, and its output is the MCP result converted by
 * {@linkcode mcpResultToOutput} (text → `TextContent`, image/audio → `FileContent`, links →
 * `LinkContent`, `structuredContent` → `JsonContent`, several items → a stream, `isError` → a
 * `ToolError` with the server's text). A tool that declares an `outputSchema` gets
 * `output_spec = {"types":["json"],"schema":…}`; otherwise its `output_spec` is null (MCP does not
 * say in advance what a tool returns).
 *
 * Calls honour `ToolContext.signal` (the server is told to cancel) and the tool's timeout.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type MCPConnection, MCPTool } from "@meshagent/adapters/mcp";
 * import { TextContent, ToolContext } from "@meshagent/tools";
 *
 * // Any MCPConnection works; this one answers in-process.
 * const conn: MCPConnection = {
 *   label: "inline",
 *   serverInfo: null,
 *   closed: false,
 *   listTools: () => Promise.resolve([]),
 *   callTool: (_name, args) =>
 *     Promise.resolve({ content: [{ type: "text", text: `hi ${args.who}` }], isError: false }),
 *   onToolListChanged: () => () => {},
 *   close: () => Promise.resolve(),
 * };
 * const tool = new MCPTool(conn, {
 *   name: "greet",
 *   inputSchema: { type: "object", properties: { who: { type: "string" } }, required: ["who"] },
 * });
 * const ctx = new ToolContext({ caller: { id: "p-1", attributes: {} } });
 * const out = await tool.invoke(ctx, { who: "ada" });
 * assert(out instanceof TextContent && out.text === "hi ada");
 * ```
 */
export class MCPTool extends Tool {
  /** The connection the tool calls through. */
  readonly connection: MCPConnection;
  /** The tool as the MCP server described it. */
  readonly info: MCPToolInfo;
  /** The longest one call may take, in milliseconds. */
  readonly timeoutMs: number;
  readonly #forwardProgress: boolean;

  /**
   * Creates the value.
   *
   * @param connection The MCP session to call through.
   * @param info The tool as `tools/list` described it.
   * @param options The timeout and progress forwarding.
   * @throws {ToolError} (code 1002) When the name is empty or a schema is not a valid JSON
   * Schema.
   */
  constructor(connection: MCPConnection, info: MCPToolInfo, options: MCPToolOptions = {}) {
    super({
      name: info.name,
      ...(info.title !== undefined ? { title: info.title } : {}),
      description: info.description ?? "",
      inputSpec: { types: ["json"], stream: false, schema: info.inputSchema },
      ...(info.outputSchema !== undefined ? { outputSchema: info.outputSchema } : {}),
      annotations: annotationsOf(info),
    });
    this.connection = connection;
    this.info = info;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_MCP_TIMEOUT_MS;
    this.#forwardProgress = options.forwardProgress ?? true;
  }

  /**
   * Calls the MCP tool with the input's arguments and converts the result.
   *
   * @param context The call context (its signal cancels the MCP request).
   * @param input A `json` object content, or an `empty` content for no arguments.
   * @returns One content, or a stream of contents for a result with several items.
   * @throws {ToolError} When the server reports `isError`; an {@linkcode MCPError} when the
   * request fails (the tool layer turns it into a `ToolError` with the same code).
   */
  override async execute(
    context: ToolContext,
    input: ToolInput,
  ): Promise<Content | AsyncIterable<Content>> {
    const args = argumentsFrom(this.name, input);
    const result = await this.connection.callTool(this.name, args, {
      signal: context.signal,
      timeoutMs: this.timeoutMs,
      ...(this.#forwardProgress
        ? {
          onProgress: (progress: MCPProgress) => {
            context.emit({ kind: "progress", ...progress }).catch(() => {});
          },
        }
        : {}),
    });
    return mcpResultToOutput(result, this.name);
  }
}
