// Private: serving one agent behind a ServiceHost on `Deno.serve` (`meshagent process service`,
// `meshagent voicebot service`): the room server calls it into rooms, and each call runs the
// agent in that room until the call is dismissed or the service stops.
import { type RoomClient, type RoomService, ServiceHost } from "@meshagent/api";
import type { Env } from "./room_connection.ts";
import type { Output } from "./output.ts";

/** The flags every agent service has. */
export interface AgentServiceFlags {
  /** The address to listen on (default `MESHAGENT_HOST`, else 127.0.0.1). */
  host?: string;
  /** The port (default `MESHAGENT_PORT`, else 8080; 0 picks one). */
  port?: number;
  /** The path the room server calls (default `/agent`). */
  path?: string;
  /** The webhook secret calls must be signed with (default `MESHAGENT_WEBHOOK_SECRET`; none). */
  webhookSecret?: string;
  /** Print the address as a JSON line. */
  json?: boolean;
}

/** An agent running in one room. */
export interface RunningAgent {
  /** A line saying what it runs, for the log. */
  summary: string;
  /** Makes it leave the room. */
  stop(): Promise<void>;
}

/**
 * A ServiceHost with one path that starts the agent in each room it is called into.
 *
 * @param name The agent's participant name.
 * @param flags The path and the webhook secret.
 * @param env Reads environment variables.
 * @param start Starts the agent in a room.
 * @returns The host.
 */
export function agentServiceHost(
  name: string,
  flags: AgentServiceFlags,
  env: Env,
  start: (room: RoomClient) => Promise<RunningAgent>,
): ServiceHost {
  const secret = flags.webhookSecret ?? env("MESHAGENT_WEBHOOK_SECRET");
  const host = new ServiceHost({
    ...(secret ? { secret } : {}),
    name,
    ...(flags.port ? { port: flags.port } : {}),
  });
  host.addPath(flags.path ?? "/agent", (): RoomService => {
    let agent: RunningAgent | undefined;
    return {
      async start({ room }) {
        agent = await start(room);
        console.error(agent.summary);
      },
      async stop() {
        await agent?.stop();
      },
    };
  }, { identity: name, agent: { name } });
  return host;
}

/**
 * Serves `host` on `Deno.serve` until `signal` stops it, after saying where (a JSON line with
 * `--json`), then closes the host (its agents leave their rooms) and the server.
 *
 * @param host The service host.
 * @param what What it serves, for the banner ("agent helper").
 * @param name The name to call it into a room by.
 * @param flags The address and the path.
 * @param output Where the address goes.
 * @param signal Stops it.
 * @param env Reads environment variables.
 */
export async function serveAgentService(
  host: ServiceHost,
  what: string,
  name: string,
  flags: AgentServiceFlags,
  output: Output,
  signal: AbortSignal,
  env: Env,
): Promise<void> {
  const envPort = env("MESHAGENT_PORT");
  const server = Deno.serve({
    hostname: flags.host ?? env("MESHAGENT_HOST") ?? "127.0.0.1",
    port: flags.port ?? (envPort ? Number(envPort) : 8080),
    onListen: () => {},
  }, host.fetch);
  const url = `http://${server.addr.hostname}:${server.addr.port}${flags.path ?? "/agent"}`;
  if (flags.json) output.out(JSON.stringify({ event: "listening", url }));
  else {
    output.err(`${what} served at ${url}`);
    output.err(`call it into a room: meshagent call --room ROOM --name ${name} --url ${url}`);
    output.err("Press Ctrl-C to stop.");
  }
  await new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await host.close();
  await server.shutdown();
}
