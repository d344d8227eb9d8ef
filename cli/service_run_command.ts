import { ApiScope, type JsonObject, ServicesClient } from "@meshagent/api";
import { connectRoom, type Env, type RoomConnectionOptions } from "./room_connection.ts";
import type { Output } from "./output.ts";

/** Flags of `meshagent service run`. */
export interface ServiceRunOptions extends RoomConnectionOptions {
  /** The base URL of a ServiceHost that runs already (instead of a command). */
  url?: string;
  /** The port the command's ServiceHost listens on (`MESHAGENT_PORT`; default: a free one). */
  port?: number;
  /** How long (s) the command may take to answer its liveness check (default 30). */
  startTimeout?: number;
  /** Print one JSON line per call instead of sentences. */
  json?: boolean;
}

/** One `meshagent` endpoint of a service spec. */
interface Endpoint {
  path: string;
  identity: string;
  api?: ApiScope;
}

function endpointsOf(spec: JsonObject): Endpoint[] {
  const out: Endpoint[] = [];
  for (const port of Array.isArray(spec.ports) ? spec.ports as JsonObject[] : []) {
    for (const endpoint of Array.isArray(port.endpoints) ? port.endpoints as JsonObject[] : []) {
      const meshagent = endpoint.meshagent as JsonObject | undefined;
      if (!meshagent || typeof endpoint.path !== "string") continue;
      out.push({
        path: endpoint.path,
        identity: typeof meshagent.identity === "string" ? meshagent.identity : "agent",
        ...(meshagent.api ? { api: ApiScope.fromJson(meshagent.api) } : {}),
      });
    }
  }
  return out;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * [impl] `deno serve` reads no port from the environment: when the command is `deno serve …`
 * without `--port`, `--port` and `--host` are added after `serve`.
 */
function withServePort(command: readonly string[], port: number): string[] {
  const [program, verb, ...rest] = command;
  const isDeno = /(^|[\\/])deno(\.exe)?$/.test(program ?? "");
  if (!isDeno || verb !== "serve") return [...command];
  if (rest.some((arg) => arg === "--port" || arg.startsWith("--port="))) return [...command];
  const host = rest.some((arg) => arg === "--host" || arg.startsWith("--host="))
    ? []
    : ["--host", "127.0.0.1"];
  return [program, verb, "--port", String(port), ...host, ...rest];
}

async function waitLive(base: string, timeoutMs: number, exited: Promise<unknown>) {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  let gone = false;
  exited.then(() => gone = true);
  while (Date.now() < deadline && !gone) {
    try {
      const response = await fetch(`${base}/`, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.ok) return;
      last = `status ${response.status}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    gone
      ? "the service command exited before it answered on its port"
      : `the service did not answer GET ${base}/ within ${timeoutMs / 1000} s (${last})`,
  );
}

/**
 * `meshagent service run`: runs a ServiceHost program (the command after `--`, given
 * `MESHAGENT_PORT`, or `--port` when it is `deno serve`) or uses one that runs already (`--url`), reads its service spec
 * (`/.well-known/meshagent-service.json`) and calls each of its agents into the room. With a
 * command, it keeps running until the command exits or the signal stops it (the command is then
 * stopped).
 *
 * @param command The command to run (empty with `--url`).
 * @param options The room, the URL or port, and timeouts.
 * @param output Where progress goes.
 * @param signal Stops the command.
 * @param env Reads environment variables.
 * @returns The command's exit code (0 without a command).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serviceRunCommand } from "@meshagent/cli";
 * await assert.rejects(
 *   serviceRunCommand([], { room: "demo" }, { out: () => {}, err: () => {} }),
 *   /pass the command to run after --, or --url/,
 * );
 * ```
 */
export async function serviceRunCommand(
  command: readonly string[],
  options: ServiceRunOptions,
  output: Output,
  signal?: AbortSignal,
  env?: Env,
): Promise<number> {
  if (command.length === 0 && !options.url) {
    throw new Error("service run: pass the command to run after --, or --url of a running host");
  }
  let child: Deno.ChildProcess | undefined;
  let base = options.url?.replace(/\/+$/, "");
  if (command.length > 0) {
    const port = options.port ?? freePort();
    base = `http://127.0.0.1:${port}`;
    const argv = withServePort(command, port);
    child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      env: { MESHAGENT_PORT: String(port), MESHAGENT_HOST: "127.0.0.1" },
      stdin: "null",
    }).spawn();
  }
  const stop = () => {
    try {
      child?.kill("SIGTERM");
    } catch { /* exited already */ }
  };
  try {
    if (child) await waitLive(base!, (options.startTimeout ?? 30) * 1000, child.status);
    const specResponse = await fetch(`${base}/.well-known/meshagent-service.json`, {
      signal: AbortSignal.timeout(10_000),
    });
    if (!specResponse.ok) {
      await specResponse.body?.cancel();
      throw new Error(`${base} has no service spec (status ${specResponse.status})`);
    }
    const endpoints = endpointsOf(await specResponse.json());
    if (endpoints.length === 0) throw new Error(`the service at ${base} has no agent endpoints`);
    const room = await connectRoom(options, env);
    try {
      const services = new ServicesClient(room);
      for (const endpoint of endpoints) {
        const url = `${base}${endpoint.path}`;
        await services.call({ name: endpoint.identity, url, api: endpoint.api });
        if (options.json) {
          output.out(
            JSON.stringify({ event: "called", room: room.roomName, name: endpoint.identity, url }),
          );
        } else {
          output.err(`called ${endpoint.identity} into room ${room.roomName} (${url})`);
        }
      }
    } finally {
      await room.dispose();
    }
    if (!child) return 0;
    if (!options.json) output.err("Press Ctrl-C to stop.");
    signal?.addEventListener("abort", stop, { once: true });
    if (signal?.aborted) stop();
    const status = await child.status;
    return signal?.aborted ? 0 : status.code;
  } catch (e) {
    stop();
    await child?.status;
    throw e;
  } finally {
    signal?.removeEventListener("abort", stop);
  }
}
