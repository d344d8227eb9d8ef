// MCP servers as tools of an agent's turns (agents.md §2.4: "MCP servers come from --mcp or
// TurnStart.mcp"), on our MCPToolkit. Private to `meshagent process`.
import type { Toolkit } from "@meshagent/tools";

/** One MCP server: from `--mcp` / `--mcp-stdio`, or a `TurnStart.mcp.servers` entry. */
export interface McpServerSpec {
  /** The toolkit name the model sees. */
  label: string;
  /** A streamable HTTP endpoint. */
  url?: string;
  /** Or a command that speaks MCP on stdin/stdout. */
  command?: string[];
  /** HTTP headers (e.g. authorization). */
  headers?: Record<string, string>;
  /** Only these tools. */
  allowedTools?: string[];
}

function label(value: string): string {
  return value.replace(/[^a-zA-Z0-9_-]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 48) || "mcp";
}

/**
 * Reads `--mcp` values: `URL` or `LABEL=URL` (streamable HTTP).
 *
 * @param value The flag value.
 * @returns The server.
 */
export function parseMcpUrl(value: string): McpServerSpec {
  const eq = value.indexOf("=");
  const named = eq > 0 && !value.slice(0, eq).includes("/");
  const url = named ? value.slice(eq + 1) : value;
  try {
    const parsed = new URL(url);
    return { label: named ? value.slice(0, eq) : label(parsed.hostname), url };
  } catch {
    throw new Error(`--mcp ${value}: not a URL (use URL or LABEL=URL)`);
  }
}

/**
 * Reads `--mcp-stdio` values: `LABEL=command args…` or `command args…` (split on spaces).
 *
 * @param value The flag value.
 * @returns The server.
 */
export function parseMcpStdio(value: string): McpServerSpec {
  const eq = value.indexOf("=");
  const named = eq > 0 && !/\s/.test(value.slice(0, eq));
  const command = (named ? value.slice(eq + 1) : value).trim().split(/\s+/).filter((s) => s !== "");
  if (command.length === 0) throw new Error(`--mcp-stdio ${value}: no command`);
  return { label: named ? value.slice(0, eq) : label(command[0].split("/").pop()!), command };
}

/**
 * The servers a `turn.start` asks for (`mcp: {servers: [{server_label, server_url, headers,
 * allowed_tools, authorization}]}`, the official field names; `label`/`url` accepted too).
 *
 * @param mcp The turn's `mcp` field.
 * @returns The servers (entries without a URL are skipped).
 */
export function turnMcpServers(mcp: unknown): McpServerSpec[] {
  const servers = (mcp as { servers?: unknown })?.servers;
  if (!Array.isArray(servers)) return [];
  const out: McpServerSpec[] = [];
  for (const server of servers) {
    if (server === null || typeof server !== "object") continue;
    const s = server as Record<string, unknown>;
    const url = typeof s.server_url === "string"
      ? s.server_url
      : typeof s.url === "string"
      ? s.url
      : null;
    if (!url) continue;
    const headers: Record<string, string> = {};
    if (s.headers && typeof s.headers === "object") {
      for (const [k, v] of Object.entries(s.headers)) if (typeof v === "string") headers[k] = v;
    }
    if (typeof s.authorization === "string") headers.Authorization = `Bearer ${s.authorization}`;
    const name = typeof s.server_label === "string"
      ? s.server_label
      : typeof s.label === "string"
      ? s.label
      : "";
    out.push({
      label: label(name || new URL(url).hostname),
      url,
      headers,
      ...(Array.isArray(s.allowed_tools) ? { allowedTools: s.allowed_tools.map(String) } : {}),
    });
  }
  return out;
}

/**
 * Connections to MCP servers, opened on first use and kept for the agent's life (a turn that names
 * the same server again reuses its session).
 */
export class McpToolkits {
  readonly #open = new Map<string, Promise<Toolkit & { close(): Promise<void> }>>();

  /**
   * The toolkits of these servers; a server that cannot be reached is reported and left out.
   *
   * @param servers The servers.
   * @param log Where failures go.
   * @returns The toolkits.
   */
  async toolkits(
    servers: readonly McpServerSpec[],
    log: (line: string) => void,
  ): Promise<Toolkit[]> {
    const found: Toolkit[] = [];
    for (const server of servers) {
      const key = JSON.stringify([
        server.label,
        server.url,
        server.command,
        server.headers,
        server.allowedTools,
      ]);
      let open = this.#open.get(key);
      if (!open) {
        open = (async () => {
          const { MCPToolkit } = await import("@meshagent/adapters/mcp");
          const common = { name: server.label, allowedTools: server.allowedTools };
          return server.url
            ? await MCPToolkit.http({ ...common, url: server.url, headers: server.headers })
            : await MCPToolkit.stdio({
              ...common,
              command: server.command![0],
              args: server.command!.slice(1),
            });
        })();
        this.#open.set(key, open);
        open.catch(() => this.#open.delete(key));
      }
      try {
        found.push(await open);
      } catch (e) {
        log(
          `MCP server ${server.label} (${server.url ?? server.command?.join(" ")}): ${
            (e as Error).message
          }`,
        );
      }
    }
    return found;
  }

  /** Closes every session. */
  async close(): Promise<void> {
    const open = [...this.#open.values()];
    this.#open.clear();
    for (const toolkit of await Promise.allSettled(open)) {
      if (toolkit.status === "fulfilled") await toolkit.value.close().catch(() => {});
    }
  }
}
