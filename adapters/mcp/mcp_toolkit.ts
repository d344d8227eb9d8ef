import { ErrorCode, ToolError, Toolkit, type ValidationMode } from "@meshagent/tools";
import {
  MCPClientConnection,
  type MCPConnection,
  type MCPHttpOptions,
  type MCPRequestOptions,
  type MCPSseOptions,
  type MCPStdioOptions,
  type MCPToolInfo,
} from "./mcp_connection.ts";
import { MCPTool } from "./mcp_tool.ts";

/** The options of an {@linkcode MCPToolkit} (everything but the connection and its tools). */
export interface MCPToolkitOptions {
  /** The toolkit name: the `toolkit` of `room.invoke_tool` once hosted. */
  name: string;
  /** A human-readable title (default: the name). */
  title?: string;
  /** What the toolkit is for (default `""`). */
  description?: string;
  /** Instructions for a model that uses the toolkit (default: the server's `instructions`, if any). */
  rules?: readonly string[];
  /** Whether other participants may see and call it once hosted in a room (default false). */
  public?: boolean;
  /** String annotations sent with the registration. */
  annotations?: Readonly<Record<string, string>>;
  /** An image URL for UIs. */
  thumbnailUrl?: string;
  /** How calls are checked against each tool's specs (default `"full"`). */
  validation?: ValidationMode;
  /** The longest one tool call may take, in milliseconds (default 60 000). */
  timeoutMs?: number;
  /** Whether MCP progress notifications become tool events (default true). */
  forwardProgress?: boolean;
  /** Only these tools (by MCP name) are offered; default: all of them. */
  allowedTools?: readonly string[];
  /**
   * Whether the tool list is refreshed when the server sends `notifications/tools/list_changed`
   * (default true). Either way {@linkcode MCPToolkit.refresh} refreshes it on demand.
   */
  autoRefresh?: boolean;
}

/** The fields of an {@linkcode MCPToolkit}: the options, the connection, and the listed tools. */
export interface MCPToolkitInit extends MCPToolkitOptions {
  /** The MCP session the tools call through; the toolkit closes it on {@linkcode MCPToolkit.close}. */
  connection: MCPConnection;
  /** The tools as `tools/list` described them. */
  tools: readonly MCPToolInfo[];
}

/** A tool of the server that the toolkit could not offer, and why. */
export interface MCPSkippedTool {
  /** The tool name. */
  name: string;
  /** Why it was left out (a duplicate name, an input schema that does not compile). */
  reason: string;
}

interface Built {
  tools: MCPTool[];
  skipped: MCPSkippedTool[];
}

function buildTools(
  connection: MCPConnection,
  infos: readonly MCPToolInfo[],
  options: MCPToolkitOptions,
): Built {
  const allowed = options.allowedTools ? new Set(options.allowedTools) : null;
  const tools: MCPTool[] = [];
  const skipped: MCPSkippedTool[] = [];
  const names = new Set<string>();
  for (const info of infos) {
    if (allowed && !allowed.has(info.name)) continue;
    if (names.has(info.name)) {
      skipped.push({ name: info.name, reason: "the server lists two tools with this name" });
      continue;
    }
    try {
      tools.push(
        new MCPTool(connection, info, {
          ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
          ...(options.forwardProgress !== undefined
            ? { forwardProgress: options.forwardProgress }
            : {}),
        }),
      );
      names.add(info.name);
    } catch (e) {
      skipped.push({ name: info.name, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return { tools, skipped };
}

/**
 * The tools of one MCP server as a MeshAgent {@linkcode Toolkit}: one {@linkcode MCPTool} per
 * server tool, named as the server names them. It is a plain `Toolkit` (`execute`, `respond`,
 * `toJson`), so an agent hands it to a model and a participant hosts it in a room like any
 * other toolkit.
 *
 * Make one with {@linkcode MCPToolkit.stdio} (starts the server as a child process),
 * {@linkcode MCPToolkit.http} (streamable HTTP), {@linkcode MCPToolkit.sse} (the older HTTP+SSE
 * transport) or {@linkcode MCPToolkit.fromConnection}; close it
 * with {@linkcode MCPToolkit.close} (or `await using`), which closes the connection and stops the
 * child process. The tool list follows the server: it is refreshed when the server announces a
 * change (unless `autoRefresh: false`) or when {@linkcode MCPToolkit.refresh} is called.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type MCPConnection, MCPToolkit } from "@meshagent/adapters/mcp";
 * import { JsonContent, ToolContext } from "@meshagent/tools";
 *
 * // Any MCPConnection works; this one answers in-process.
 * const conn: MCPConnection = {
 *   label: "inline",
 *   serverInfo: { name: "calc", version: "1.0.0" },
 *   closed: false,
 *   listTools: () =>
 *     Promise.resolve([{
 *       name: "add",
 *       inputSchema: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } } },
 *     }]),
 *   callTool: (_name, args) =>
 *     Promise.resolve({
 *       content: [],
 *       structuredContent: { sum: Number(args.a) + Number(args.b) },
 *       isError: false,
 *     }),
 *   onToolListChanged: () => () => {},
 *   close: () => Promise.resolve(),
 * };
 * await using calc = await MCPToolkit.fromConnection(conn, { name: "calc", public: true });
 * const ctx = new ToolContext({ caller: { id: "p-1", attributes: {} } });
 * const out = await calc.execute(ctx, "add", { a: 2, b: 3 });
 * assert(out instanceof JsonContent && (out.json as { sum: number }).sum === 5);
 * assert(Object.keys(calc.toJson().tools).join() === "add");
 * ```
 */
export class MCPToolkit extends Toolkit {
  /** The tools, in the server's order (replaced by each refresh). */
  declare readonly tools: readonly MCPTool[];
  /** The MCP session the tools call through. */
  readonly connection: MCPConnection;
  readonly #options: MCPToolkitOptions;
  #skipped: readonly MCPSkippedTool[];
  #byName: Map<string, MCPTool>;
  readonly #listeners = new Set<(tools: readonly MCPTool[]) => void>();
  readonly #unsubscribe: () => void;
  #refreshing: Promise<readonly MCPTool[]> | null = null;
  #refreshAgain = false;
  #closing: Promise<void> | null = null;

  /**
   * Creates the value from a connection and the tools it listed. Tools whose schema does not
   * compile, or whose name repeats, are left out and reported in
   * {@linkcode MCPToolkit.skippedTools}.
   *
   * @param init The connection, the tools and the options.
   * @throws {ToolError} (code 1002) When the name is empty.
   */
  constructor(init: MCPToolkitInit) {
    const { connection, tools: infos, ...options } = init;
    const built = buildTools(connection, infos, options);
    const instructions = connection.serverInfo?.instructions;
    super({
      ...options,
      rules: options.rules ?? (instructions ? [instructions] : []),
      tools: built.tools,
    });
    this.connection = connection;
    this.#options = options;
    this.#skipped = built.skipped;
    this.#byName = new Map(built.tools.map((tool) => [tool.name, tool]));
    this.#unsubscribe = options.autoRefresh === false
      ? () => {}
      : connection.onToolListChanged(() => void this.refresh().catch(() => {}));
  }

  /**
   * Lists the tools of a connected MCP server and makes the toolkit.
   *
   * @param connection The MCP session (the toolkit closes it on {@linkcode MCPToolkit.close}).
   * @param options The toolkit name and options.
   * @returns The toolkit.
   * @throws {MCPError} When listing the tools fails (the connection is left open).
   */
  static async fromConnection(
    connection: MCPConnection,
    options: MCPToolkitOptions,
  ): Promise<MCPToolkit> {
    const tools = await connection.listTools(
      options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {},
    );
    return new MCPToolkit({ ...options, connection, tools });
  }

  /**
   * Starts an MCP server as a child process, connects over stdio and makes the toolkit. The
   * child inherits this process's environment plus `env` (see {@linkcode MCPStdioOptions}).
   *
   * @param options The command and the toolkit options.
   * @returns The toolkit; close it to stop the child.
   * @throws {MCPError} When the server cannot be started or listed (the child is stopped).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MCPToolkit } from "@meshagent/adapters/mcp";
   * import { TextContent, ToolContext } from "@meshagent/tools";
   * // The MCP reference server, run by this Deno from the npm package pinned in deno.json
   * // (outside this workspace: `command: "npx", args: ["-y", "@modelcontextprotocol/server-everything"]`).
   * await using everything = await MCPToolkit.stdio({
   *   name: "everything",
   *   command: Deno.execPath(),
   *   args: ["run", "-A", "npm:@modelcontextprotocol/server-everything@2026.8.31", "stdio"],
   *   stderr: "ignore",
   * });
   * const ctx = new ToolContext({ caller: { id: "p-1", attributes: {} } });
   * const out = await everything.execute(ctx, "echo", { message: "hi" });
   * assert(out instanceof TextContent && out.text === "Echo: hi");
   * ```
   */
  static async stdio(options: MCPStdioOptions & MCPToolkitOptions): Promise<MCPToolkit> {
    const connection = await MCPClientConnection.stdio(options);
    return await MCPToolkit.#over(connection, options);
  }

  /**
   * Connects to an MCP server over streamable HTTP and makes the toolkit.
   *
   * @param options The URL, headers and the toolkit options.
   * @returns The toolkit; close it to end the session.
   * @throws {MCPError} When the server cannot be reached or listed.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MCPError, MCPToolkit } from "@meshagent/adapters/mcp";
   * try {
   *   // With a running server: `await using remote = await MCPToolkit.http({ name, url })`.
   *   await MCPToolkit.http({ name: "remote", url: "http://127.0.0.1:9/mcp" });
   * } catch (e) {
   *   assert(e instanceof MCPError);
   * }
   * ```
   */
  static async http(options: MCPHttpOptions & MCPToolkitOptions): Promise<MCPToolkit> {
    const connection = await MCPClientConnection.http(options);
    return await MCPToolkit.#over(connection, options);
  }

  /**
   * Connects to an MCP server over the older HTTP+SSE transport and makes the toolkit. The
   * toolkit's connection closes when the server ends the event stream.
   *
   * @param options The event-stream URL, headers and the toolkit options.
   * @returns The toolkit; close it to close the stream.
   * @throws {MCPError} When the server cannot be reached or listed.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MCPError, MCPToolkit } from "@meshagent/adapters/mcp";
   * try {
   *   // With a running server: `await using remote = await MCPToolkit.sse({ name, url, headers })`.
   *   await MCPToolkit.sse({ name: "remote", url: "http://127.0.0.1:9/sse" });
   *   throw new Error("unreachable");
   * } catch (e) {
   *   assert(e instanceof MCPError && e.message.includes("127.0.0.1:9/sse"));
   * }
   * ```
   */
  static async sse(options: MCPSseOptions & MCPToolkitOptions): Promise<MCPToolkit> {
    const connection = await MCPClientConnection.sse(options);
    return await MCPToolkit.#over(connection, options);
  }

  static async #over(connection: MCPConnection, options: MCPToolkitOptions): Promise<MCPToolkit> {
    try {
      return await MCPToolkit.fromConnection(connection, options);
    } catch (e) {
      await connection.close().catch(() => {});
      throw e;
    }
  }

  /** Tools of the server that are not offered, and why (see the constructor). */
  get skippedTools(): readonly MCPSkippedTool[] {
    return this.#skipped;
  }

  /**
   * Finds a tool by its MCP name.
   *
   * @param name The tool name.
   * @returns The tool.
   * @throws {ToolError} "Tool was not found <name>" (code 1003) for an unknown name.
   */
  override getTool(name: string): MCPTool {
    const tool = this.#byName.get(name);
    if (!tool) throw new ToolError(`Tool was not found ${name}`, ErrorCode.NOT_FOUND);
    return tool;
  }

  /**
   * Lists the server's tools again and replaces {@linkcode MCPToolkit.tools}. Calls already
   * running finish on the tools they started with. Concurrent calls share one refresh (and a
   * change announced during a refresh triggers one more).
   *
   * @param options A signal and a timeout for the listing.
   * @returns The new tools.
   * @throws {MCPError} When listing fails; the tools stay as they were.
   */
  refresh(options: MCPRequestOptions = {}): Promise<readonly MCPTool[]> {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return this.#refreshing;
    }
    const run = async (): Promise<readonly MCPTool[]> => {
      try {
        let tools: readonly MCPTool[];
        do {
          this.#refreshAgain = false;
          const infos = await this.connection.listTools({
            ...(this.#options.timeoutMs !== undefined
              ? { timeoutMs: this.#options.timeoutMs }
              : {}),
            ...options,
          });
          const built = buildTools(this.connection, infos, this.#options);
          (this as unknown as { tools: readonly MCPTool[] }).tools = built.tools;
          this.#byName = new Map(built.tools.map((tool) => [tool.name, tool]));
          this.#skipped = built.skipped;
          tools = built.tools;
        } while (this.#refreshAgain && !this.connection.closed);
        for (const listener of [...this.#listeners]) {
          try {
            listener(tools);
          } catch {
            // One listener's failure does not stop the others.
          }
        }
        return tools;
      } finally {
        this.#refreshing = null;
      }
    };
    this.#refreshing = run();
    return this.#refreshing;
  }

  /**
   * Subscribes to refreshes of the tool list (a host re-registers the toolkit from here).
   *
   * @param handler Called with the new tools after each refresh.
   * @returns A function that unsubscribes.
   */
  onToolsChanged(handler: (tools: readonly MCPTool[]) => void): () => void {
    const listener = (tools: readonly MCPTool[]) => handler(tools);
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Closes the connection (stopping a stdio server's process). Calls after this fail with an
   * `MCPError` (code 1006). Calling it again waits for the same close.
   *
   * @returns Resolves when the connection is closed.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#unsubscribe();
      this.#listeners.clear();
      await this.connection.close();
    })();
    return this.#closing;
  }

  /** Closes the toolkit (for `await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
