import { RoomServer, type RoomServerInboundOptions, SERVER_VERSION } from "@meshagent/server";
import { serveConsole } from "@meshagent/console";
import { loadServerCredentials, type ServerCredentials } from "./server_credentials.ts";
import type { Output } from "./output.ts";

/** Flags of `meshagent server`. */
export interface ServerCommandOptions {
  /** The port (default env `MESHAGENT_PORT`, else 8078). */
  port?: number;
  /** The address to listen on (default 127.0.0.1). */
  host?: string;
  /** The data folder (default `./.meshagent`). */
  dataDir?: string;
  /** The largest incoming message in bytes. */
  maxMessageSize?: number;
  /** Seconds one SQL request may run before the room's database process is restarted (5). */
  sqlTimeout?: number;
  /** Where room SQL runs: `process` (default, isolated) or `inline` (on the event loop). */
  sqlIsolation?: "process" | "inline";
  /** Limits on incomplete messages and on connections per token (unset fields: the defaults). */
  inbound?: RoomServerInboundOptions;
  /** Print one JSON object (URL, data folder, environment) instead of the banner. */
  json?: boolean;
  /** The HTTP + WebSocket front: `node` (default, the faster) or `deno` (`Deno.serve`). */
  front?: "node" | "deno";
  /**
   * The secret that signs `room.call` deliveries and the `--webhook`s (default
   * `MESHAGENT_WEBHOOK_SECRET`; none: unsigned).
   */
  webhookSecret?: string;
  /** URLs that get every room's events (`room.started`, `room.ended`, `participant.*`). */
  webhook?: string[];
}

/** A running server started by {@linkcode startServerCommand}. */
export interface RunningServer {
  /** The server. */
  server: RoomServer;
  /** The credentials it trusts. */
  credentials: ServerCredentials;
}

/** The default port of the room server, as the official test harness expects. */
export const DEFAULT_PORT = 8078;

/**
 * Starts the room server on its embedded defaults and prints how to connect: the URL, the data
 * folder, a few commands to try and — last, so it is easy to copy — a ready-to-paste block of
 * environment variables (one JSON object with `json`).
 *
 * @param options The command's flags.
 * @param output Where the banner goes.
 * @returns The running server and its credentials.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startServerCommand } from "@meshagent/cli";
 * const dataDir = await Deno.makeTempDir();
 * const lines: string[] = [];
 * const { server } = await startServerCommand(
 *   { port: 0, dataDir },
 *   { out: (l) => lines.push(l), err: () => {} },
 * );
 * assert(lines.some((l) => l.startsWith("export MESHAGENT_API_KEY=ma-")));
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function startServerCommand(
  options: ServerCommandOptions,
  output: Output,
): Promise<RunningServer> {
  const dataDir = options.dataDir ?? ".meshagent";
  const envPort = Deno.env.get("MESHAGENT_PORT");
  const port = options.port ?? (envPort ? parsePort(envPort, "MESHAGENT_PORT") : DEFAULT_PORT);
  const hostname = options.host ?? "127.0.0.1";
  const credentials = await loadServerCredentials(dataDir);
  const server = await RoomServer.listen({
    hostname,
    port,
    dataDir,
    keys: [credentials.key],
    maxMessageSize: options.maxMessageSize,
    sqlite: {
      statementTimeoutMs: options.sqlTimeout === undefined ? undefined : options.sqlTimeout * 1000,
      isolation: options.sqlIsolation,
    },
    inbound: options.inbound,
    front: options.front,
    webhookSecret: options.webhookSecret ?? Deno.env.get("MESHAGENT_WEBHOOK_SECRET"),
    webhooks: (options.webhook ?? []).map((url) => ({ url })),
    routes: [serveConsole],
  });
  const url = server.url;
  const where = {
    generated: `generated now and kept in ${credentials.file}`,
    stored: `from ${credentials.file}`,
    MESHAGENT_API_KEY: "from MESHAGENT_API_KEY",
    MESHAGENT_SECRET: "from MESHAGENT_PROJECT_ID, MESHAGENT_KEY_ID and MESHAGENT_SECRET",
  }[credentials.source];
  const env = {
    MESHAGENT_API_URL: url,
    MESHAGENT_API_KEY: credentials.apiKey,
    MESHAGENT_PROJECT_ID: credentials.key.projectId,
    MESHAGENT_KEY_ID: credentials.key.id,
    MESHAGENT_SECRET: credentials.key.secret,
  };
  if (options.json) {
    output.out(JSON.stringify({
      url,
      rooms_url: `${url.replace(/^http/, "ws")}/rooms/<room>`,
      console_url: `${url}/console`,
      data_dir: dataDir,
      credentials: where,
      env,
    }));
    return { server, credentials };
  }
  // The environment block comes last, so it is the easiest thing to copy.
  const lines = [
    `MeshAgent room server ${SERVER_VERSION} listening on ${url}`,
    `  rooms:       ${url.replace(/^http/, "ws")}/rooms/<room>`,
    `  console:     ${url}/console  (open it in a browser; log in with the API key below)`,
    `  data folder: ${dataDir}`,
    `  credentials: ${where}`,
    "Press Ctrl-C to stop.",
    "",
    "Try it from another shell, once the block below is pasted there:",
    "  meshagent room messaging listen --room demo --identity alice",
    '  meshagent room messaging broadcast --room demo --type chat --data \'{"text":"hi"}\'',
    "  meshagent token --room demo --name bob    # a token for any MeshAgent client",
    "  (no meshagent command yet? `deno task install` adds it; or use deno run -A cli/main.ts)",
    "",
    "Paste this into the shell where you run clients and the CLI:",
    "",
    ...Object.entries(env).map(([name, value]) => `export ${name}=${value}`),
  ];
  for (const line of lines) output.out(line);
  return { server, credentials };
}

/**
 * Runs `meshagent server` until SIGINT or SIGTERM, then shuts down gracefully.
 *
 * @param options The command's flags.
 * @param output Where the banner goes.
 * @param signal Stops the server when aborted (besides the OS signals).
 *
 * @example
 * ```ts
 * import { runServerCommand } from "@meshagent/cli";
 * const dataDir = await Deno.makeTempDir();
 * const stop = new AbortController();
 * const running = runServerCommand({ port: 0, dataDir }, { out: () => {}, err: () => {} }, stop.signal);
 * stop.abort();
 * await running;
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function runServerCommand(
  options: ServerCommandOptions,
  output: Output,
  signal?: AbortSignal,
): Promise<void> {
  const stop = Promise.withResolvers<string>();
  const onSignal = (name: string) => () => stop.resolve(name);
  const handlers: [Deno.Signal, () => void][] = [
    ["SIGINT", onSignal("SIGINT")],
    ["SIGTERM", onSignal("SIGTERM")],
  ];
  // Listening before the banner is printed: a signal sent as soon as the banner shows (a script,
  // a test, a quick Ctrl-C) is a graceful shutdown, not Deno's default exit 130.
  for (const [sig, handler] of handlers) Deno.addSignalListener(sig, handler);
  const onAbort = () => stop.resolve("abort");
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const { server } = await startServerCommand(options, output);
    const why = await stop.promise;
    if (why !== "abort") output.err(`${why}: shutting down`);
    await server.shutdown();
  } finally {
    for (const [sig, handler] of handlers) Deno.removeSignalListener(sig, handler);
    signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Parses a TCP port number.
 *
 * @param text The text.
 * @param what What the text came from, for the error message.
 * @returns The port.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePort } from "@meshagent/cli";
 * assert(parsePort("9000", "--port") === 9000);
 * ```
 */
export function parsePort(text: string, what: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${what} must be a port number from 0 to 65535 (got ${text})`);
  }
  return port;
}
