import { RoomClient } from "@meshagent/api";
import { MCPToolkit, type MCPToolkitOptions } from "@meshagent/adapters/mcp";
import { type HostedToolkit, startHostedToolkit } from "@meshagent/tools";
import { type Env, resolveRoomConnection, type RoomConnectionOptions } from "./room_connection.ts";
import type { Output } from "./output.ts";

/** Flags shared by `meshagent mcp stdio`, `meshagent mcp http` and `meshagent mcp sse`. */
export interface McpBridgeCommandOptions extends RoomConnectionOptions {
  /** The participant name the bridge joins as (default: the toolkit name). */
  name?: string;
  /** The toolkit name other participants call (default `mcp`). */
  toolkitName?: string;
  /** The toolkit title (default: the toolkit name). */
  title?: string;
  /** The toolkit description. */
  description?: string;
  /** Register the toolkit as private: only this participant sees it (default: public). */
  private?: boolean;
  /** Offer only these MCP tools (default: all). */
  allowedTools?: string[];
  /** The longest one tool call may take, in seconds (default 60). */
  timeout?: number;
  /** Print `{"event": "hosting", …}` on stdout once the toolkit is registered. */
  json?: boolean;
}

/** Flags of `meshagent mcp stdio`. */
export interface McpStdioCommandOptions extends McpBridgeCommandOptions {
  /** The server command as one string (split like a shell would, without expansions). */
  command?: string;
  /** Extra `NAME=VALUE` environment variables for the server. */
  env?: string[];
  /** The working directory of the server. */
  cwd?: string;
}

/** Flags of `meshagent mcp http`. */
export interface McpHttpCommandOptions extends McpBridgeCommandOptions {
  /** The MCP endpoint (streamable HTTP), e.g. `http://127.0.0.1:3001/mcp`. */
  url: string;
  /** Request headers as `Name: value` (or `Name=value`). */
  header?: string[];
}

/** Flags of `meshagent mcp sse`. */
export interface McpSseCommandOptions extends McpBridgeCommandOptions {
  /** The server's event-stream endpoint (HTTP+SSE), e.g. `http://127.0.0.1:3001/sse`. */
  url: string;
  /** Request headers as `Name: value` (or `Name=value`), sent with the stream and every POST. */
  header?: string[];
}

/** The default toolkit name of a bridged MCP server. */
export const DEFAULT_MCP_TOOLKIT_NAME = "mcp";

/**
 * Parses `NAME=VALUE` pairs (the `--env` flags).
 *
 * @param pairs The pairs.
 * @returns The variables.
 * @throws {Error} For a pair without `=` or with an empty name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEnvPairs } from "@meshagent/cli";
 * assert(parseEnvPairs(["A=1", "B=x=y"]).B === "x=y");
 * ```
 */
export function parseEnvPairs(pairs: readonly string[] = []): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const i = pair.indexOf("=");
    if (i <= 0) throw new Error(`--env takes NAME=VALUE, got ${JSON.stringify(pair)}`);
    env[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return env;
}

/**
 * Parses HTTP headers given as `Name: value` or `Name=value` (the `--header` flags).
 *
 * @param pairs The headers.
 * @returns The headers by name.
 * @throws {Error} For a header without a name or separator.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHeaders } from "@meshagent/cli";
 * const h = parseHeaders(["Authorization: Bearer abc", "X-Team=blue"]);
 * assert(h.Authorization === "Bearer abc" && h["X-Team"] === "blue");
 * ```
 */
export function parseHeaders(pairs: readonly string[] = []): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of pairs) {
    const colon = pair.indexOf(":");
    const equals = pair.indexOf("=");
    const i = colon > 0 && (equals < 0 || colon < equals) ? colon : equals;
    const name = i > 0 ? pair.slice(0, i).trim() : "";
    if (name === "" || /\s/.test(name)) {
      throw new Error(
        `--header takes "Name: value", got ${
          JSON.stringify(pair)
        } (e.g. --header "Authorization: Bearer TOKEN")`,
      );
    }
    headers[name] = pair.slice(i + 1).trim();
  }
  return headers;
}

/**
 * Splits a command line into words the way a shell does for plain words, single and double
 * quotes and backslash escapes (no variables, globs or other expansions).
 *
 * @param line The command line.
 * @returns The words.
 * @throws {Error} For an unterminated quote.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitCommandLine } from "@meshagent/cli";
 * const words = splitCommandLine(`npx -y "my server" --name='a b'`);
 * assert(JSON.stringify(words) === '["npx","-y","my server","--name=a b"]');
 * ```
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === "\\" && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) {
        word += line[++i];
      } else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== null) throw new Error(`unterminated ${quote} quote in command: ${line}`);
  if (inWord) words.push(word);
  return words;
}

/** Fails early, before joining the room, on a `--url` that is not an absolute http(s) URL. */
function checkUrl(url: string, example: string): void {
  let protocol = "";
  try {
    protocol = new URL(url).protocol;
  } catch {
    // reported below
  }
  if (protocol !== "http:" && protocol !== "https:") {
    throw new Error(
      `--url takes an absolute http(s) URL, e.g. ${example}; got ${JSON.stringify(url)}`,
    );
  }
}

const TERMINATION_SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM"];

/** SIGINT/SIGTERM (and an optional outer signal) as one AbortSignal. */
function terminationSignal(outer?: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const installed: [Deno.Signal, () => void][] = [];
  for (const name of TERMINATION_SIGNALS) {
    const handler = () => controller.abort(name);
    try {
      Deno.addSignalListener(name, handler);
      installed.push([name, handler]);
    } catch {
      // not supported on this platform
    }
  }
  const onOuter = () => controller.abort(outer?.reason);
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener("abort", onOuter, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      outer?.removeEventListener("abort", onOuter);
      for (const [name, handler] of installed.splice(0)) Deno.removeSignalListener(name, handler);
    },
  };
}

type End = "stopped" | "room closed" | "mcp closed";

/** The bridge ended because the room or the MCP server went away (not because it was stopped). */
class BridgeEndedError extends Error {}

/** Resolves when the signal aborts, the room closes for good, or the MCP connection closes. */
function waitForEnd(signal: AbortSignal, room: RoomClient, toolkit: MCPToolkit): Promise<End> {
  return new Promise((resolve) => {
    const done = (end: End) => {
      signal.removeEventListener("abort", onAbort);
      offClosed();
      clearInterval(poll);
      resolve(end);
    };
    const onAbort = () => done("stopped");
    const offClosed = room.on("closed", () => done("room closed"));
    // [impl] MCPConnection has no close event: its `closed` flag is polled.
    const poll = setInterval(() => {
      if (toolkit.connection.closed) done("mcp closed");
    }, 250);
    if (signal.aborted) return done("stopped");
    if (room.isClosed) return done("room closed");
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function describeTools(toolkit: MCPToolkit): string {
  const names = toolkit.tools.map((t) => t.name);
  return `${names.length} tool${names.length === 1 ? "" : "s"}${
    names.length > 0 ? `: ${names.join(", ")}` : ""
  }`;
}

/**
 * Connects to the room, starts the MCP session with `open`, hosts it as a toolkit, re-registers
 * it whenever the server's tool list changes, and runs until SIGINT/SIGTERM (or `signal`), the
 * room closing, or the MCP server going away. Everything is released before it returns.
 */
async function bridge(
  options: McpBridgeCommandOptions,
  output: Output,
  signal: AbortSignal | undefined,
  env: Env | undefined,
  open: (toolkitOptions: MCPToolkitOptions, signal: AbortSignal) => Promise<MCPToolkit>,
): Promise<void> {
  const toolkitName = options.toolkitName ?? DEFAULT_MCP_TOOLKIT_NAME;
  const isPublic = !options.private;
  if (options.timeout !== undefined && !(options.timeout > 0)) {
    throw new Error("--timeout must be a positive number of seconds");
  }
  const term = terminationSignal(signal);
  try {
    await serve();
  } catch (e) {
    // Asked to stop while still connecting: that is a normal end, not a failure.
    if (term.signal.aborted && !(e instanceof BridgeEndedError)) return;
    throw e;
  } finally {
    term.dispose();
  }

  async function serve(): Promise<void> {
    const connection = await resolveRoomConnection(
      { ...options, identity: options.name ?? options.identity ?? toolkitName },
      env,
    );
    // [impl] Unlike one-shot commands, the bridge reconnects (RoomClient's default of 300 s);
    // the hosted toolkit registers again after a reconnect.
    const room = new RoomClient({ url: connection.url, token: connection.token });
    await room.start({ signal: term.signal, timeout: 30_000 });
    try {
      const toolkitOptions: MCPToolkitOptions = {
        name: toolkitName,
        public: isPublic,
        ...(options.title !== undefined ? { title: options.title } : {}),
        ...(options.description !== undefined ? { description: options.description } : {}),
        ...(options.allowedTools?.length ? { allowedTools: options.allowedTools } : {}),
        ...(options.timeout !== undefined ? { timeoutMs: options.timeout * 1000 } : {}),
      };
      const toolkit = await open(toolkitOptions, term.signal);
      try {
        for (const skipped of toolkit.skippedTools) {
          output.err(`skipping MCP tool ${skipped.name}: ${skipped.reason}`);
        }
        let hosted: HostedToolkit | undefined = await startHostedToolkit(room, toolkit, {
          public: isPublic,
        });
        const pid = (toolkit.connection as { pid?: number | null }).pid;
        if (options.json) {
          output.out(JSON.stringify({
            event: "hosting",
            toolkit: toolkitName,
            room: connection.room,
            public: isPublic,
            server: toolkit.connection.label,
            tools: toolkit.tools.map((t) => t.name),
          }));
        }
        output.err(
          `hosting MCP server ${toolkit.connection.label}${
            typeof pid === "number" ? ` (pid ${pid})` : ""
          } as ${isPublic ? "public" : "private"} toolkit "${toolkitName}" in room ` +
            `${connection.room} (${describeTools(toolkit)}); stop with Ctrl-C`,
        );
        let stopping = false;
        let rehosting: Promise<void> = Promise.resolve();
        const offChanged = toolkit.onToolsChanged(() => {
          rehosting = rehosting.then(async () => {
            if (stopping) return;
            // The same participant cannot register one name twice: unregister, then register.
            await hosted?.stop();
            hosted = undefined;
            if (stopping) return;
            hosted = await startHostedToolkit(room, toolkit, { public: isPublic });
            output.err(
              `the MCP server's tools changed: toolkit "${toolkitName}" now has ` +
                describeTools(toolkit),
            );
          }).catch((e) => {
            output.err(
              `could not register toolkit "${toolkitName}" again after its tools changed: ${
                e instanceof Error ? e.message : e
              }`,
            );
          });
        });
        const end = await waitForEnd(term.signal, room, toolkit);
        stopping = true;
        offChanged();
        await rehosting;
        await (hosted as HostedToolkit | undefined)?.stop().catch(() => {});
        if (end === "room closed") throw new BridgeEndedError("the room connection closed");
        if (end === "mcp closed") {
          throw new BridgeEndedError(`the MCP server ${toolkit.connection.label} went away`);
        }
        output.err(`stopped: toolkit "${toolkitName}" unregistered`);
      } finally {
        await toolkit.close();
      }
    } finally {
      await room.dispose();
    }
  }
}

/**
 * `meshagent mcp stdio --room R [--name N] [--toolkit-name T] [--env K=V …] -- <command> [args…]`
 * (or `--command "<command line>"`): starts an MCP server as a child process speaking MCP on
 * stdio, and hosts its tools in the room as a toolkit (public unless `--private`), until SIGINT
 * or SIGTERM. The child inherits this environment plus `--env`; it is stopped on exit.
 *
 * @param options The room flags, toolkit name and server environment.
 * @param command The server program and its arguments (after `--`).
 * @param output Where progress goes (stderr).
 * @param signal Stops the bridge (besides SIGINT/SIGTERM).
 * @param env Reads environment variables.
 * @throws {Error} When no command is given, the server cannot start, the room refuses the
 *   toolkit, or the room or the server goes away.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mcpStdioCommand } from "@meshagent/cli";
 * try {
 *   await mcpStdioCommand({ room: "demo" }, [], { out: () => {}, err: () => {} });
 * } catch (e) {
 *   assert(/what to run/.test((e as Error).message));
 * }
 * ```
 */
export async function mcpStdioCommand(
  options: McpStdioCommandOptions,
  command: readonly string[],
  output: Output,
  signal?: AbortSignal,
  env?: Env,
): Promise<void> {
  if (options.command !== undefined && command.length > 0) {
    throw new Error("give the MCP server command either with --command or after --, not both");
  }
  const words = options.command !== undefined ? splitCommandLine(options.command) : [...command];
  if (words.length === 0) {
    throw new Error(
      "what to run? put the MCP server command after --, e.g. " +
        "meshagent mcp stdio --room demo -- npx -y @modelcontextprotocol/server-everything",
    );
  }
  const serverEnv = parseEnvPairs(options.env);
  await bridge(options, output, signal, env, (toolkitOptions, abort) =>
    MCPToolkit.stdio({
      ...toolkitOptions,
      command: words[0],
      args: words.slice(1),
      env: serverEnv,
      signal: abort,
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    }));
}

/**
 * `meshagent mcp http --room R --url URL [--header "Name: value" …] [--toolkit-name T]`: connects
 * to an MCP server over streamable HTTP and hosts its tools in the room as a toolkit (public
 * unless `--private`), until SIGINT or SIGTERM.
 *
 * @param options The room flags, toolkit name, URL and headers.
 * @param output Where progress goes (stderr).
 * @param signal Stops the bridge (besides SIGINT/SIGTERM).
 * @param env Reads environment variables.
 * @throws {Error} When the URL or a header is malformed, the server cannot be reached, the room
 *   refuses the toolkit, or the room or the server goes away.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mcpHttpCommand } from "@meshagent/cli";
 * try {
 *   await mcpHttpCommand({ room: "demo", url: "http://x", header: ["nocolon"] }, {
 *     out: () => {},
 *     err: () => {},
 *   });
 * } catch (e) {
 *   assert(/--header/.test((e as Error).message));
 * }
 * ```
 */
export async function mcpHttpCommand(
  options: McpHttpCommandOptions,
  output: Output,
  signal?: AbortSignal,
  env?: Env,
): Promise<void> {
  await urlBridge(options, "http://127.0.0.1:3001/mcp", output, signal, env, MCPToolkit.http);
}

/**
 * `meshagent mcp sse --room R --url URL [--header "Name: value" …] [--toolkit-name T]`: connects
 * to an MCP server over the older HTTP+SSE transport and hosts its tools in the room as a toolkit
 * (public unless `--private`), until SIGINT or SIGTERM, or until the server ends the event stream.
 *
 * @param options The room flags, toolkit name, event-stream URL and headers.
 * @param output Where progress goes (stderr).
 * @param signal Stops the bridge (besides SIGINT/SIGTERM).
 * @param env Reads environment variables.
 * @throws {Error} When the URL or a header is malformed, the server cannot be reached or is not
 *   an SSE endpoint, the room refuses the toolkit, or the room or the server goes away.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mcpSseCommand } from "@meshagent/cli";
 * try {
 *   await mcpSseCommand({ room: "demo", url: "", header: ["X-Team: blue"] }, {
 *     out: () => {},
 *     err: () => {},
 *   });
 *   throw new Error("unreachable");
 * } catch (e) {
 *   assert(/pass --url/.test((e as Error).message));
 * }
 * ```
 */
export async function mcpSseCommand(
  options: McpSseCommandOptions,
  output: Output,
  signal?: AbortSignal,
  env?: Env,
): Promise<void> {
  await urlBridge(options, "http://127.0.0.1:3001/sse", output, signal, env, MCPToolkit.sse);
}

/** `mcp http` and `mcp sse`: checks the URL and headers, then bridges the server at that URL. */
async function urlBridge(
  options: McpHttpCommandOptions,
  example: string,
  output: Output,
  signal: AbortSignal | undefined,
  env: Env | undefined,
  connect: (
    options: MCPToolkitOptions & {
      url: string;
      headers: Record<string, string>;
      signal: AbortSignal;
    },
  ) => Promise<MCPToolkit>,
): Promise<void> {
  const headers = parseHeaders(options.header);
  if (!options.url) {
    throw new Error(
      `which MCP server? pass --url ${example.replace("127.0.0.1:3001", "host:port")}`,
    );
  }
  checkUrl(options.url, example);
  await bridge(
    options,
    output,
    signal,
    env,
    (toolkitOptions, abort) =>
      connect({ ...toolkitOptions, url: options.url, headers, signal: abort }),
  );
}
