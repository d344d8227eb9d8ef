import process from "node:process";
import { ErrorCode, type JsonObject } from "@meshagent/api";
import { Client } from "@modelcontextprotocol/sdk/client";
// @ts-types="@modelcontextprotocol/sdk/client/sse"
import { SSEClientTransport, SseError } from "@modelcontextprotocol/sdk/client/sse.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { MCPError } from "./mcp_error.ts";

/** How long an MCP request may take unless the caller says otherwise (60 s, the MCP SDK's default). */
export const DEFAULT_MCP_TIMEOUT_MS = 60_000;

/** How long connecting (starting the server and the `initialize` handshake) may take by default. */
export const DEFAULT_MCP_CONNECT_TIMEOUT_MS = 30_000;

/** The longest a tool list may be, in pages, before a server is taken to loop on its cursor. */
const MAX_TOOL_PAGES = 1000;

/** How long closing an HTTP session waits for the server to acknowledge the `DELETE`. */
const TERMINATE_SESSION_TIMEOUT_MS = 2_000;

/** One tool as an MCP server describes it in `tools/list`. */
export interface MCPToolInfo {
  /** The tool name, as the server spells it. */
  name: string;
  /** A human-readable title (the tool's `title`, else `annotations.title`). */
  title?: string;
  /** What the tool does. */
  description?: string;
  /** The JSON Schema of the arguments object (always `type: "object"` in MCP). */
  inputSchema: JsonObject;
  /** The JSON Schema of the tool's `structuredContent`, when it declares one. */
  outputSchema?: JsonObject;
  /** The server's hints (`readOnlyHint`, `destructiveHint`, `idempotentHint`, `openWorldHint`, …). */
  annotations?: JsonObject;
}

/** A text item of a tool result. */
export interface MCPTextContent {
  /** The kind. */
  type: "text";
  /** The text. */
  text: string;
}

/** An image or audio item of a tool result. */
export interface MCPMediaContent {
  /** The kind. */
  type: "image" | "audio";
  /** The bytes, base64-encoded. */
  data: string;
  /** The MIME type, e.g. `image/png`. */
  mimeType: string;
}

/** A link to a resource the server can serve (`resource_link`). */
export interface MCPResourceLinkContent {
  /** The kind. */
  type: "resource_link";
  /** The resource URI. */
  uri: string;
  /** The resource name. */
  name: string;
  /** A human-readable title. */
  title?: string;
  /** What the resource is. */
  description?: string;
  /** The MIME type, when known. */
  mimeType?: string;
}

/** A resource embedded in a tool result: text or base64 bytes. */
export interface MCPEmbeddedResourceContent {
  /** The kind. */
  type: "resource";
  /** The resource. */
  resource: {
    /** The resource URI. */
    uri: string;
    /** The MIME type, when known. */
    mimeType?: string;
    /** The contents of a text resource. */
    text?: string;
    /** The contents of a binary resource, base64-encoded. */
    blob?: string;
  };
}

/** One item of a tool result's `content`. */
export type MCPContent =
  | MCPTextContent
  | MCPMediaContent
  | MCPResourceLinkContent
  | MCPEmbeddedResourceContent;

/** The result of `tools/call`. */
export interface MCPCallResult {
  /** The content items, in order. */
  content: MCPContent[];
  /** The structured result, for tools that declare an `outputSchema` (or send one anyway). */
  structuredContent?: JsonObject;
  /** True when the tool failed; `content` then says why. */
  isError: boolean;
}

/** A progress notification of a running request. */
export interface MCPProgress {
  /** The progress so far. */
  progress: number;
  /** The total, when the server knows it. */
  total?: number;
  /** A message, when the server sends one. */
  message?: string;
}

/** Options of one MCP request. */
export interface MCPRequestOptions {
  /** Cancels the request (the server is sent `notifications/cancelled`). */
  signal?: AbortSignal;
  /** The longest the request may take, in milliseconds (default {@linkcode DEFAULT_MCP_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Receives progress notifications; when set, the request asks the server for them. */
  onProgress?: (progress: MCPProgress) => void;
}

/** Who the server says it is (from the `initialize` handshake). */
export interface MCPServerInfo {
  /** The server's name. */
  name: string;
  /** The server's version. */
  version: string;
  /** A human-readable title, when given. */
  title?: string;
  /** The server's instructions for clients and models, when given. */
  instructions?: string;
}

/**
 * A session with one MCP server, as MeshAgent uses it: list its tools, call them, hear when the
 * list changes, close. {@linkcode MCPClientConnection} implements it over stdio, streamable
 * HTTP or HTTP+SSE; any other object with these members (another transport, a server in the
 * same process) can back an {@linkcode MCPToolkit} too.
 */
export interface MCPConnection {
  /** Which server this is, for messages (e.g. `stdio: node server.js`, `http://127.0.0.1:3001/mcp`). */
  readonly label: string;
  /** Who the server says it is, or null when not known. */
  readonly serverInfo: MCPServerInfo | null;
  /** True once the connection is closed (by {@linkcode MCPConnection.close} or by the server). */
  readonly closed: boolean;
  /**
   * Lists every tool of the server, following `nextCursor` pages.
   *
   * @param options A signal and a per-page timeout.
   * @returns The tools.
   */
  listTools(options?: MCPRequestOptions): Promise<MCPToolInfo[]>;
  /**
   * Calls a tool.
   *
   * @param name The tool name.
   * @param args The arguments object.
   * @param options A signal, a timeout, a progress handler.
   * @returns The result; a tool that failed resolves with `isError: true`.
   */
  callTool(name: string, args: JsonObject, options?: MCPRequestOptions): Promise<MCPCallResult>;
  /**
   * Subscribes to `notifications/tools/list_changed`.
   *
   * @param handler Called each time the server says its tool list changed.
   * @returns A function that unsubscribes.
   */
  onToolListChanged(handler: () => void): () => void;
  /**
   * Closes the session: ends the HTTP session, or stops the server process.
   *
   * @returns Resolves when everything is released.
   */
  close(): Promise<void>;
}

/** Options shared by every way of connecting. */
export interface MCPConnectOptions {
  /** The client name sent in `initialize` (default `meshagent`). */
  clientName?: string;
  /** The client version sent in `initialize` (default `0.1.0`). */
  clientVersion?: string;
  /** The longest connecting may take, in milliseconds (default {@linkcode DEFAULT_MCP_CONNECT_TIMEOUT_MS}). */
  connectTimeoutMs?: number;
  /** Cancels connecting. */
  signal?: AbortSignal;
}

/** How to start an MCP server as a child process that speaks MCP on stdin/stdout. */
export interface MCPStdioOptions extends MCPConnectOptions {
  /** The program to run (looked up on `PATH`). */
  command: string;
  /** Its arguments. */
  args?: readonly string[];
  /** Extra environment variables for the server, on top of the inherited ones. */
  env?: Readonly<Record<string, string>>;
  /**
   * Whether the server inherits this process's whole environment (default true). With false it
   * gets only `HOME`, `LOGNAME`, `PATH`, `SHELL`, `TERM`, `USER` and `env`; note that a server
   * that downloads packages may then fail TLS checks for want of its certificate settings.
   */
  inheritEnv?: boolean;
  /** The working directory of the server (default: this process's). */
  cwd?: string;
  /** Where the server's stderr goes: this process's stderr (`"inherit"`, the default) or nowhere. */
  stderr?: "inherit" | "ignore";
}

/** How to reach an MCP server over streamable HTTP. */
export interface MCPHttpOptions extends MCPConnectOptions {
  /** The MCP endpoint, e.g. `http://127.0.0.1:3001/mcp`. */
  url: string | URL;
  /** Headers sent with every request, e.g. `{ Authorization: "Bearer …" }`. */
  headers?: Readonly<Record<string, string>>;
}

/**
 * How to reach an MCP server over the older HTTP+SSE transport (MCP protocol 2024-11-05): the
 * client opens an event stream with `GET`, the server's first event names the URL the client
 * `POST`s its messages to, and answers arrive on the stream. Servers that speak streamable HTTP
 * are reached with {@linkcode MCPHttpOptions} instead.
 */
export interface MCPSseOptions extends MCPConnectOptions {
  /** The server's event-stream endpoint, e.g. `http://127.0.0.1:3001/sse`. */
  url: string | URL;
  /**
   * Headers sent with the `GET` that opens the stream and with every `POST`, e.g.
   * `{ Authorization: "Bearer …" }`.
   */
  headers?: Readonly<Record<string, string>>;
}

/** Which transport a connection uses, for its error messages. */
type TransportKind = "stdio" | "http" | "sse";

// The `.js` subpath has no types of its own under Deno; its declarations live at the bare subpath.
type StdioModule = typeof import("@modelcontextprotocol/sdk/client/stdio");

/** The transport surface this file uses (the SDK's transports have more). */
interface ClosableTransport {
  close(): Promise<void>;
  /** The child's process id (stdio transport only). */
  readonly pid?: number | null;
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function toToolInfo(tool: Record<string, unknown>): MCPToolInfo {
  const annotations = isObject(tool.annotations) ? tool.annotations : undefined;
  const info: MCPToolInfo = {
    name: String(tool.name),
    inputSchema: isObject(tool.inputSchema) ? tool.inputSchema : { type: "object" },
  };
  const title = optionalString(tool.title) ?? optionalString(annotations?.title);
  if (title !== undefined) info.title = title;
  const description = optionalString(tool.description);
  if (description !== undefined) info.description = description;
  if (isObject(tool.outputSchema)) info.outputSchema = tool.outputSchema;
  if (annotations !== undefined) info.annotations = annotations;
  return info;
}

function toContent(item: Record<string, unknown>): MCPContent {
  switch (item.type) {
    case "text":
      return { type: "text", text: String(item.text ?? "") };
    case "image":
    case "audio":
      return {
        type: item.type,
        data: String(item.data ?? ""),
        mimeType: String(item.mimeType ?? "application/octet-stream"),
      };
    case "resource_link": {
      const link: MCPResourceLinkContent = {
        type: "resource_link",
        uri: String(item.uri),
        name: String(item.name ?? item.uri),
      };
      for (const key of ["title", "description", "mimeType"] as const) {
        const value = optionalString(item[key]);
        if (value !== undefined) link[key] = value;
      }
      return link;
    }
    case "resource": {
      const resource = isObject(item.resource) ? item.resource : {};
      const out: MCPEmbeddedResourceContent["resource"] = { uri: String(resource.uri ?? "") };
      for (const key of ["mimeType", "text", "blob"] as const) {
        const value = optionalString(resource[key]);
        if (value !== undefined) out[key] = value;
      }
      return { type: "resource", resource: out };
    }
    default:
      // A kind newer than this adapter: keep it, as JSON text, rather than drop it.
      return { type: "text", text: JSON.stringify(item) };
  }
}

function toCallResult(result: Record<string, unknown>): MCPCallResult {
  const items = Array.isArray(result.content) ? result.content : [];
  const out: MCPCallResult = {
    content: items.filter(isObject).map((item) => toContent(item)),
    isError: result.isError === true,
  };
  if (isObject(result.structuredContent)) out.structuredContent = result.structuredContent;
  return out;
}

function stripPrefix(message: string): string {
  return message.replace(/^MCP error -?\d+: /, "");
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (typeof value === "string") env[key] = value;
  }
  return env;
}

/** Checks an HTTP(S) URL given to {@linkcode MCPClientConnection.http} or `.sse`. */
function httpUrl(value: string | URL, method: "http" | "sse"): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new MCPError(
      `MCPClientConnection.${method} needs an absolute http(s) URL, got ${String(value)}`,
      ErrorCode.INVALID_REQUEST,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new MCPError(
      `MCPClientConnection.${method} needs an http: or https: URL, got ${url.protocol}`,
      ErrorCode.INVALID_REQUEST,
    );
  }
  return url;
}

/** The URL without its query string, for messages: the query may carry a token. */
function urlLabel(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/**
 * An {@linkcode MCPConnection} backed by the official MCP TypeScript SDK: a `Client` session over
 * the stdio transport (a child process), the streamable HTTP transport or the older HTTP+SSE
 * transport. Make one with {@linkcode MCPClientConnection.stdio},
 * {@linkcode MCPClientConnection.http} or {@linkcode MCPClientConnection.sse}; close it with
 * {@linkcode MCPClientConnection.close} (or `await using`), which stops the child process.
 *
 * Failures are {@linkcode MCPError}s with a MeshAgent wire code: 1009 for a timeout, 1006 for a
 * closed connection, 1002 for arguments the server rejected, 1008 otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MCPClientConnection, MCPError } from "@meshagent/adapters/mcp";
 * // Nothing listens on port 9 of 127.0.0.1: connecting fails with an error that says so.
 * try {
 *   await MCPClientConnection.http({ url: "http://127.0.0.1:9/mcp", connectTimeoutMs: 5_000 });
 *   throw new Error("unreachable");
 * } catch (e) {
 *   assert(e instanceof MCPError && e.message.includes("127.0.0.1:9"));
 * }
 * ```
 */
export class MCPClientConnection implements MCPConnection {
  /** Which server this is, for messages. */
  readonly label: string;
  readonly #kind: TransportKind;
  readonly #client: Client;
  readonly #transport: ClosableTransport;
  readonly #terminate: (() => Promise<void>) | null;
  readonly #listeners = new Set<() => void>();
  #closed = false;
  #closing: Promise<void> | null = null;

  private constructor(
    label: string,
    kind: TransportKind,
    client: Client,
    transport: ClosableTransport,
    terminate: (() => Promise<void>) | null,
  ) {
    this.label = label;
    this.#kind = kind;
    this.#client = client;
    this.#transport = transport;
    this.#terminate = terminate;
  }

  /**
   * Starts an MCP server as a child process and connects to it over stdin/stdout. The child
   * inherits this process's environment (plus `env`) unless `inheritEnv` is false. Needs the
   * permission to run subprocesses (`--allow-run`, or `-A`).
   *
   * @param options The command, its arguments, environment and working directory.
   * @returns The connected session.
   * @throws {MCPError} When the program cannot be started (1008), does not finish the MCP
   * handshake in time (1009), or exits before it does (1006).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MCPClientConnection } from "@meshagent/adapters/mcp";
   * // The MCP reference server, run by this Deno from the npm package pinned in deno.json
   * // (outside this workspace: `command: "npx", args: ["-y", "@modelcontextprotocol/server-everything"]`).
   * await using conn = await MCPClientConnection.stdio({
   *   command: Deno.execPath(),
   *   args: ["run", "-A", "npm:@modelcontextprotocol/server-everything@2026.8.31", "stdio"],
   *   stderr: "ignore",
   * });
   * assert(typeof conn.pid === "number");
   * const tools = await conn.listTools();
   * assert(tools.some((tool) => tool.name === "echo"));
   * const result = await conn.callTool("echo", { message: "hi" });
   * assert(JSON.stringify(result.content) === '[{"type":"text","text":"Echo: hi"}]');
   * ```
   */
  static async stdio(options: MCPStdioOptions): Promise<MCPClientConnection> {
    if (typeof options.command !== "string" || options.command.trim() === "") {
      throw new MCPError(
        "MCPClientConnection.stdio needs a command to run",
        ErrorCode.INVALID_REQUEST,
      );
    }
    const args = [...(options.args ?? [])];
    const label = `stdio: ${[options.command, ...args].join(" ")}`;
    // Loaded on demand: the stdio transport is Node/Deno only (child processes), HTTP is not.
    const { StdioClientTransport }: StdioModule = await import(
      "@modelcontextprotocol/sdk/client/stdio.js"
    );
    const transport = new StdioClientTransport({
      command: options.command,
      args,
      env: { ...(options.inheritEnv === false ? {} : inheritedEnv()), ...options.env },
      stderr: options.stderr ?? "inherit",
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    });
    return await MCPClientConnection.#connect(label, "stdio", transport, null, options);
  }

  /**
   * Connects to an MCP server over streamable HTTP. Closing the connection ends the HTTP
   * session (`DELETE`) when the server gave one.
   *
   * @param options The endpoint URL and headers.
   * @returns The connected session.
   * @throws {MCPError} When the URL is invalid (1002), the server cannot be reached or answers
   * with an HTTP error (1001 for 401/403, 1003 for 404, else 1008), or does not answer in time
   * (1009).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MCPClientConnection, MCPError } from "@meshagent/adapters/mcp";
   * try {
   *   // With a running server: `await using conn = await MCPClientConnection.http({ url, headers })`.
   *   await MCPClientConnection.http({
   *     url: "http://127.0.0.1:9/mcp",
   *     headers: { Authorization: "Bearer secret" },
   *     connectTimeoutMs: 5_000,
   *   });
   * } catch (e) {
   *   assert(e instanceof MCPError && e.message.includes("check the URL"));
   * }
   * ```
   */
  static async http(options: MCPHttpOptions): Promise<MCPClientConnection> {
    const url = httpUrl(options.url, "http");
    const transport = new StreamableHTTPClientTransport(url, {
      requestInit: { headers: { ...options.headers } },
    });
    return await MCPClientConnection.#connect(
      urlLabel(url),
      "http",
      transport,
      () => transport.terminateSession(),
      options,
    );
  }

  /**
   * Connects to an MCP server over the older HTTP+SSE transport: opens the server's event stream,
   * waits for the endpoint it names, and runs the MCP handshake. The event stream is the session:
   * when it ends (the server stops or drops it), the connection closes rather than reconnecting
   * to a session the server no longer knows. Closing the connection closes the stream.
   *
   * @param options The event-stream URL and headers.
   * @returns The connected session.
   * @throws {MCPError} When the URL is invalid (1002), the server cannot be reached or answers
   * with an HTTP error (1001 for 401/403, 1003 for 404, else 1008), answers something other than
   * an event stream (1008), or does not name its endpoint and finish the handshake in time (1009).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MCPClientConnection, MCPError } from "@meshagent/adapters/mcp";
   * try {
   *   // With a running server: `await using conn = await MCPClientConnection.sse({ url })`,
   *   // then `await conn.listTools()` and `await conn.callTool(name, args)` as over any transport.
   *   await MCPClientConnection.sse({
   *     url: "http://127.0.0.1:9/sse",
   *     headers: { Authorization: "Bearer secret" },
   *     connectTimeoutMs: 5_000,
   *   });
   *   throw new Error("unreachable");
   * } catch (e) {
   *   assert(e instanceof MCPError && e.message.includes("check the URL"));
   * }
   * ```
   */
  static async sse(options: MCPSseOptions): Promise<MCPClientConnection> {
    const url = httpUrl(options.url, "sse");
    const transport = new SSEClientTransport(url, {
      requestInit: { headers: { ...options.headers } },
    });
    return await MCPClientConnection.#connect(urlLabel(url), "sse", transport, null, options);
  }

  static async #connect(
    label: string,
    kind: TransportKind,
    transport: ClosableTransport & Parameters<Client["connect"]>[0],
    terminate: (() => Promise<void>) | null,
    options: MCPConnectOptions,
  ): Promise<MCPClientConnection> {
    const holder: { connection?: MCPClientConnection } = {};
    const client = new Client(
      { name: options.clientName ?? "meshagent", version: options.clientVersion ?? "0.1.0" },
      {
        capabilities: {},
        listChanged: {
          tools: {
            autoRefresh: false,
            debounceMs: 0,
            onChanged: () => {
              if (holder.connection) holder.connection.#notifyToolsChanged();
            },
          },
        },
      },
    );
    const connection = new MCPClientConnection(label, kind, client, transport, terminate);
    holder.connection = connection;
    client.onclose = () => {
      connection.#closed = true;
    };
    let connected = false;
    // Transport hiccups (a stray line on stdout, a dropped SSE stream) must not crash anything;
    // requests that depend on them fail on their own.
    client.onerror = (error) => {
      // Over SSE the event stream is the session. Once it fails the server has forgotten the
      // session, and the stream the EventSource would reopen starts a new, uninitialised one
      // (its requests would then fail): close instead, so the owner sees the server went away.
      if (kind === "sse" && connected && error instanceof SseError) void connection.close();
    };
    if (options.signal?.aborted) {
      throw new MCPError(`connecting to MCP server ${label} was cancelled`);
    }
    const timeoutMs = options.connectTimeoutMs ?? DEFAULT_MCP_CONNECT_TIMEOUT_MS;
    // The SDK's connect timeout covers the `initialize` request only, not the transport's start
    // (an SSE server that never names its endpoint would hold it forever): one deadline for both.
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new MCPError(
            `MCP server ${label} timed out while connecting: no MCP handshake within ` +
              `${timeoutMs} ms${
                kind === "sse"
                  ? "; check that the URL is the server's SSE endpoint (often /sse)"
                  : ""
              }`,
            ErrorCode.TIMEOUT,
          ),
        );
      }, timeoutMs);
      onAbort = () => reject(new MCPError(`connecting to MCP server ${label} was cancelled`));
      options.signal?.addEventListener("abort", onAbort, { once: true });
    });
    try {
      const connecting = client.connect(transport, {
        timeout: timeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      connecting.catch(() => {}); // It may settle after the deadline: nobody awaits it then.
      await Promise.race([connecting, deadline]);
      connected = true;
    } catch (e) {
      await client.close().catch(() => {});
      await transport.close().catch(() => {});
      throw connection.#wrap(e, "connecting", options.signal);
    } finally {
      clearTimeout(timer);
      if (onAbort) options.signal?.removeEventListener("abort", onAbort);
    }
    return connection;
  }

  /** Who the server says it is, or null before the handshake. */
  get serverInfo(): MCPServerInfo | null {
    const version = this.#client.getServerVersion();
    if (!version) return null;
    const info: MCPServerInfo = { name: version.name, version: version.version };
    if (typeof version.title === "string") info.title = version.title;
    const instructions = this.#client.getInstructions();
    if (instructions !== undefined) info.instructions = instructions;
    return info;
  }

  /** The process id of a stdio server while it runs; null over HTTP or SSE and once it is gone. */
  get pid(): number | null {
    return this.#transport.pid ?? null;
  }

  /** True once closed, by {@linkcode MCPClientConnection.close} or because the server went away. */
  get closed(): boolean {
    return this.#closed;
  }

  #notifyToolsChanged(): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch {
        // A listener's failure is its own business; the others still run.
      }
    }
  }

  #ensureOpen(what: string): void {
    if (this.#closed) {
      throw new MCPError(
        `cannot ${what}: the connection to MCP server ${this.label} is closed; connect again`,
        ErrorCode.INVALID_STATE,
      );
    }
  }

  #wrap(error: unknown, what: string, signal?: AbortSignal): MCPError {
    if (error instanceof MCPError) return error;
    if (signal?.aborted) {
      return new MCPError(`${what} on MCP server ${this.label} was cancelled`, undefined, {
        cause: error,
      });
    }
    if (error instanceof McpError) {
      let message = stripPrefix(error.message);
      if (error.code === -32000) {
        message = `the connection closed while ${what}: ${message}`;
        if (what === "connecting" && this.#kind === "stdio") {
          message += "; the server exited before the MCP handshake: run the command yourself " +
            "to see its error output";
        }
      }
      if (error.code === -32001) message = `timed out while ${what}: ${message}`;
      return MCPError.fromJsonRpc(message, error.code, this.label, error);
    }
    if (error instanceof StreamableHTTPError || (error instanceof SseError && error.code)) {
      const status = error.code;
      const code = status === 401 || status === 403
        ? ErrorCode.PERMISSION_DENIED
        : status === 404
        ? ErrorCode.NOT_FOUND
        : ErrorCode.OPERATION_FAILED;
      let hint = code === ErrorCode.PERMISSION_DENIED ? "; check the headers" : "";
      if (error instanceof SseError && code !== ErrorCode.PERMISSION_DENIED) {
        // A 200 that is not an event stream, or a 400/405 to the GET: likely not an SSE endpoint.
        hint = "; check that the URL is the server's SSE endpoint (often /sse); a server that " +
          "speaks streamable HTTP is reached with http (`meshagent mcp http`) instead";
      }
      return new MCPError(
        `MCP server ${this.label} answered HTTP ${status ?? "error"} while ${what}: ` +
          `${describe(error)}${hint}`,
        code,
        { cause: error },
      );
    }
    const hint = this.#kind === "stdio"
      ? "; check that the command exists and runs an MCP server on stdio"
      : "; check the URL and that the server is running";
    return new MCPError(
      `MCP server ${this.label} failed while ${what}: ${describe(error)}${
        what === "connecting" ? hint : ""
      }`,
      undefined,
      { cause: error },
    );
  }

  /**
   * Lists every tool of the server, following `nextCursor` pages.
   *
   * @param options A signal and a per-page timeout.
   * @returns The tools, in the server's order.
   * @throws {MCPError} When the connection is closed (1006), a page times out (1009), or the
   * server fails or repeats a cursor (1008).
   */
  async listTools(options: MCPRequestOptions = {}): Promise<MCPToolInfo[]> {
    this.#ensureOpen("list tools");
    const tools: MCPToolInfo[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0;; page++) {
      let result;
      try {
        result = await this.#client.listTools(cursor === undefined ? undefined : { cursor }, {
          timeout: options.timeoutMs ?? DEFAULT_MCP_TIMEOUT_MS,
          ...(options.signal ? { signal: options.signal } : {}),
        });
      } catch (e) {
        throw this.#wrap(e, "listing tools", options.signal);
      }
      for (const tool of result.tools) tools.push(toToolInfo(tool as Record<string, unknown>));
      const next = result.nextCursor;
      if (next === undefined || next === "") return tools;
      if (seen.has(next) || page >= MAX_TOOL_PAGES) {
        throw new MCPError(
          `MCP server ${this.label} keeps paging its tool list (cursor ${JSON.stringify(next)} ` +
            `after ${page + 1} pages); the server's pagination is broken`,
        );
      }
      seen.add(next);
      cursor = next;
    }
  }

  /**
   * Calls a tool.
   *
   * @param name The tool name.
   * @param args The arguments object.
   * @param options A signal, a timeout (default {@linkcode DEFAULT_MCP_TIMEOUT_MS}), a progress
   * handler.
   * @returns The result; a tool that failed resolves with `isError: true` and its message.
   * @throws {MCPError} When the connection is closed (1006), the call times out (1009) or is
   * cancelled (1008), or the server answers with a JSON-RPC error.
   */
  async callTool(
    name: string,
    args: JsonObject,
    options: MCPRequestOptions = {},
  ): Promise<MCPCallResult> {
    this.#ensureOpen(`call tool ${name}`);
    const onProgress = options.onProgress;
    try {
      const result = await this.#client.callTool({ name, arguments: args }, undefined, {
        timeout: options.timeoutMs ?? DEFAULT_MCP_TIMEOUT_MS,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(onProgress
          ? {
            onprogress: (p: { progress: number; total?: number; message?: string }) => {
              const progress: MCPProgress = { progress: p.progress };
              if (p.total !== undefined) progress.total = p.total;
              if (p.message !== undefined) progress.message = p.message;
              onProgress(progress);
            },
          }
          : {}),
      });
      return toCallResult(result as Record<string, unknown>);
    } catch (e) {
      throw this.#wrap(e, `calling tool ${name}`, options.signal);
    }
  }

  /**
   * Subscribes to `notifications/tools/list_changed` (servers that advertise `tools.listChanged`
   * send it).
   *
   * @param handler Called each time the server says its tool list changed.
   * @returns A function that unsubscribes.
   */
  onToolListChanged(handler: () => void): () => void {
    const listener = () => handler();
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Closes the session. Over streamable HTTP it first ends the server-side session (waiting at
   * most two seconds); over SSE it closes the event stream; over stdio it closes the child's
   * stdin and waits for it to exit, sending `SIGTERM` (then `SIGKILL`) after two seconds each.
   * Calling it again waits for the same close.
   *
   * @returns Resolves when the transport is closed.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const wasOpen = !this.#closed;
    this.#closed = true;
    this.#listeners.clear();
    if (wasOpen && this.#terminate) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, TERMINATE_SESSION_TIMEOUT_MS);
      });
      try {
        await Promise.race([this.#terminate().catch(() => {}), deadline]);
      } finally {
        clearTimeout(timer);
      }
    }
    await this.#client.close().catch(() => {});
    await this.#transport.close().catch(() => {});
  }

  /** Closes the session (for `await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
