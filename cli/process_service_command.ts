import type { ServiceHost } from "@meshagent/api";
import { type ProcessJoinOptions, startProcessAgent } from "./process_command.ts";
import { type AgentServiceFlags, agentServiceHost, serveAgentService } from "./_agent_service.ts";
import type { Env } from "./room_connection.ts";
import type { Output } from "./output.ts";

/** Flags of `meshagent process service`: the agent's, and where to serve it. */
export interface ProcessServiceOptions extends ProcessJoinOptions, AgentServiceFlags {}

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
  return agentServiceHost(
    options.agentName,
    options,
    env,
    (room) => startProcessAgent(options, env, room),
  );
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
  await serveAgentService(
    processServiceHost(options, env),
    `agent ${options.agentName}`,
    options.agentName,
    options,
    output,
    signal,
    env,
  );
}
