import { type RoomService, ServiceHost } from "@meshagent/api";
import {
  type ProcessAgent,
  type ProcessJoinOptions,
  startProcessAgent,
} from "./process_command.ts";
import type { Env } from "./room_connection.ts";
import type { Output } from "./output.ts";

/** Flags of `meshagent process service`. */
export interface ProcessServiceOptions extends ProcessJoinOptions {
  /** The address to listen on (default `MESHAGENT_HOST`, else 127.0.0.1). */
  host?: string;
  /** The port (default `MESHAGENT_PORT`, else 8080; 0 picks one). */
  port?: number;
  /** The path the room server calls (default `/agent`). */
  path?: string;
  /** The webhook secret calls must be signed with (default `MESHAGENT_WEBHOOK_SECRET`; none). */
  webhookSecret?: string;
}

/**
 * A ServiceHost with one path that runs the agent `meshagent process join` would run, in each
 * room it is called into (its flags: models, channels, rules, toolkits, threads).
 *
 * @param options The agent's flags, the path and the webhook secret.
 * @param env Reads environment variables.
 * @returns The host (serve its `fetch`; `close()` stops every agent it runs).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { processServiceHost } from "./process_service_command.ts";
 * const host = processServiceHost({ agentName: "helper" }, () => undefined);
 * const spec = host.serviceSpec() as { ports: { endpoints: { path: string }[] }[] };
 * assert.equal(spec.ports[0].endpoints[0].path, "/agent");
 * await host.close();
 * ```
 */
export function processServiceHost(
  options: ProcessServiceOptions,
  env: Env = (name) => Deno.env.get(name),
): ServiceHost {
  const secret = options.webhookSecret ?? env("MESHAGENT_WEBHOOK_SECRET");
  const host = new ServiceHost({
    ...(secret ? { secret } : {}),
    name: options.agentName,
    ...(options.port ? { port: options.port } : {}),
  });
  host.addPath(options.path ?? "/agent", (): RoomService => {
    let agent: ProcessAgent | undefined;
    return {
      async start({ room }) {
        agent = await startProcessAgent(options, env, room);
        console.error(agent.summary);
      },
      async stop() {
        await agent?.stop();
      },
    };
  }, { identity: options.agentName, agent: { name: options.agentName } });
  return host;
}

/**
 * `meshagent process service`: serves the agent behind a ServiceHost on `Deno.serve` until the
 * signal stops it; the room server calls it into rooms (`meshagent call --url …/agent`, or a
 * service registered with `meshagent service create`).
 *
 * @param options The agent's flags, the address, the path and the webhook secret.
 * @param output Where the address goes (a JSON line with `--json`).
 * @param signal Stops the host (its agents leave their rooms).
 * @param env Reads environment variables.
 *
 * @example
 * ```ts
 * import { runProcessService } from "./process_service_command.ts";
 * const stop = new AbortController();
 * const running = runProcessService(
 *   { agentName: "helper", port: 0 },
 *   { out: () => {}, err: () => {} },
 *   stop.signal,
 *   () => undefined,
 * );
 * stop.abort();
 * await running;
 * ```
 */
export async function runProcessService(
  options: ProcessServiceOptions,
  output: Output,
  signal: AbortSignal,
  env: Env = (name) => Deno.env.get(name),
): Promise<void> {
  const host = processServiceHost(options, env);
  const envPort = env("MESHAGENT_PORT");
  const server = Deno.serve({
    hostname: options.host ?? env("MESHAGENT_HOST") ?? "127.0.0.1",
    port: options.port ?? (envPort ? Number(envPort) : 8080),
    onListen: () => {},
  }, host.fetch);
  const url = `http://${server.addr.hostname}:${server.addr.port}${options.path ?? "/agent"}`;
  if (options.json) output.out(JSON.stringify({ event: "listening", url }));
  else {
    output.err(`agent ${options.agentName} served at ${url}`);
    output.err(
      `call it into a room: meshagent call --room ROOM --name ${options.agentName} --url ${url}`,
    );
    output.err("Press Ctrl-C to stop.");
  }
  await new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await host.close();
  await server.shutdown();
}
