/**
 * The room server as a module for `deno serve` (and Deno Deploy): `Deno.serve`'s own listener,
 * WebSockets upgraded with `Deno.upgradeWebSocket`, the same handler as `meshagent server`.
 *
 * ```sh
 * MESHAGENT_API_KEY=ma-… MESHAGENT_DATA_DIR=.meshagent deno serve -A --port 8080 server/serve.ts
 * ```
 *
 * Settings come from the environment: `MESHAGENT_API_KEY` (required: the key whose tokens are
 * trusted; `meshagent server` prints one), `MESHAGENT_DATA_DIR` (default `.meshagent`),
 * `MESHAGENT_PUBLIC_URL` (the server's URL as clients see it, when behind a proxy) and
 * `MESHAGENT_WEBHOOK_SECRET`. A SIGTERM (what `deno serve` and deployments send to stop) shuts
 * the rooms down cleanly, then the process ends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * import { serveFromEnv } from "@meshagent/server/serve";
 * const dataDir = await Deno.makeTempDir();
 * const env: Record<string, string> = {
 *   MESHAGENT_API_KEY: formatApiKey(generateApiKey()),
 *   MESHAGENT_DATA_DIR: dataDir,
 * };
 * const { server, fetch } = serveFromEnv((name) => env[name], { sigterm: false });
 * const banner = await (await fetch(new Request("http://localhost/"))).json();
 * assert.equal(banner.name, "meshagent-deno-server");
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 *
 * @module
 */
import { parseApiKey } from "@meshagent/api";
import { RoomServer } from "./room_server.ts";

/** What {@linkcode serveFromEnv} makes: the server and its fetch handler. */
export interface ServedRoomServer {
  /** The room server (not listening: Deno's server calls `fetch`). */
  server: RoomServer;
  /** The handler for `Deno.serve` / `deno serve`. */
  fetch: (request: Request) => Promise<Response>;
}

/**
 * Makes a room server from environment variables (see the module's documentation).
 *
 * @param env Reads a variable (default `Deno.env.get`).
 * @param options `sigterm: false` leaves SIGTERM to the caller (default: it shuts the server down
 *   and exits).
 * @returns The server and its fetch handler.
 * @throws Error naming the variable when `MESHAGENT_API_KEY` is missing or not an API key.
 */
export function serveFromEnv(
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
  options: { sigterm?: boolean } = {},
): ServedRoomServer {
  const text = env("MESHAGENT_API_KEY")?.trim();
  if (!text) {
    throw new Error(
      "server/serve.ts needs MESHAGENT_API_KEY (an ma-… key: `meshagent server` prints one)",
    );
  }
  let key;
  try {
    key = parseApiKey(text);
  } catch (e) {
    throw new Error(`MESHAGENT_API_KEY is not an API key: ${(e as Error).message}`);
  }
  const server = RoomServer.create({
    dataDir: env("MESHAGENT_DATA_DIR") || ".meshagent",
    keys: [key],
    publicUrl: env("MESHAGENT_PUBLIC_URL") || undefined,
    webhookSecret: env("MESHAGENT_WEBHOOK_SECRET") || undefined,
  });
  if (options.sigterm !== false) {
    // [impl] `deno serve` stops accepting on SIGTERM and waits for the event loop; the rooms'
    // timers and sockets would keep it alive, so they are shut down first.
    // A SIGTERM that comes while the rooms shut down (a supervisor repeating itself) is ignored:
    // the shutdown is bounded, and Deno's default would end the process with 143 midway.
    let stopping = false;
    const onSigterm = () => {
      if (stopping) return;
      stopping = true;
      server.shutdown().finally(() => Deno.exit(0));
    };
    try {
      Deno.addSignalListener("SIGTERM", onSigterm);
    } catch { /* no signals here (Windows): stop it with shutdown() */ }
  }
  return { server, fetch: server.fetch };
}

/** The handler `deno serve` runs: built from the environment when this is the main module. */
const served: Deno.ServeDefaultExport = import.meta.main
  ? { fetch: serveFromEnv().fetch }
  : { fetch: notMain };
export default served;

function notMain(): Response {
  return Response.json({ error: "import serveFromEnv() or run this module with deno serve" }, {
    status: 500,
  });
}
