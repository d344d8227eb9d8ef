import { ErrorCode, RoomError } from "@meshagent/api";

/**
 * A failure talking to an MCP server: it could not be started or reached, the connection is
 * closed, a request timed out, or the server answered a request with a JSON-RPC error.
 *
 * {@linkcode MCPError.code} is the MeshAgent wire code ({@linkcode ErrorCode}), so a hosted tool
 * call reports it unchanged; {@linkcode MCPError.mcpCode} keeps the JSON-RPC code when the server
 * sent one. A tool result with `isError: true` is not an `MCPError`: {@linkcode MCPTool} turns it
 * into a `ToolError` with the server's text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MCPError } from "@meshagent/adapters/mcp";
 * const err = MCPError.fromJsonRpc("Tool nope not found", -32602, "stdio: my-server");
 * assert(err.code === 1002 && err.mcpCode === -32602);
 * assert(err.message === "MCP server stdio: my-server: Tool nope not found");
 * ```
 */
export class MCPError extends RoomError {
  /** The MeshAgent wire error code. */
  declare readonly code: number;
  /** The JSON-RPC error code the MCP server (or the MCP client library) gave, if any. */
  readonly mcpCode?: number;

  /**
   * Creates the value.
   *
   * @param message What went wrong and what to do about it.
   * @param code The MeshAgent wire error code (default 1008, operation failed).
   * @param options The JSON-RPC code and the underlying cause, if any.
   */
  constructor(
    message: string,
    code: number = ErrorCode.OPERATION_FAILED,
    options: { mcpCode?: number; cause?: unknown } = {},
  ) {
    super(message, code);
    this.name = "MCPError";
    if (options.mcpCode !== undefined) this.mcpCode = options.mcpCode;
    if (options.cause !== undefined) this.cause = options.cause;
  }

  /**
   * Makes an error from a JSON-RPC error code, choosing the wire code that fits: request timeout
   * (-32001) → 1009, invalid params (-32602) → 1002, method not found (-32601) → 1003, connection
   * closed (-32000) → 1006, anything else → 1008.
   *
   * @param message The server's (or the client library's) message.
   * @param mcpCode The JSON-RPC error code.
   * @param server Which server, for the message (e.g. `stdio: npx my-server`).
   * @param cause The original error.
   * @returns The error.
   */
  static fromJsonRpc(message: string, mcpCode: number, server: string, cause?: unknown): MCPError {
    let code: number = ErrorCode.OPERATION_FAILED;
    if (mcpCode === -32001) code = ErrorCode.TIMEOUT;
    else if (mcpCode === -32602) code = ErrorCode.INVALID_REQUEST;
    else if (mcpCode === -32601) code = ErrorCode.NOT_FOUND;
    else if (mcpCode === -32000) code = ErrorCode.INVALID_STATE;
    return new MCPError(`MCP server ${server}: ${message}`, code, { mcpCode, cause });
  }
}
