import { WEBHOOK_EVENT_TYPES, WebhookServer } from "@meshagent/api";
import type { Env } from "./room_connection.ts";
import type { Output } from "./output.ts";

/** Flags of `meshagent webhook listen`. */
export interface WebhookListenOptions {
  /** The address to listen on (default 127.0.0.1). */
  host?: string;
  /** The port (default 8090; 0 picks one). */
  port?: number;
  /** The path (default `/webhook`). */
  path?: string;
  /** The secret signatures must verify with (default `MESHAGENT_WEBHOOK_SECRET`). */
  secret?: string;
  /** Accept unsigned deliveries. */
  noVerify?: boolean;
  /** Stop after this many events. */
  count?: number;
  /** One JSON object per event (`{"event", "data"}`) instead of a line of text. */
  json?: boolean;
}

/** An event as a line of text: its type, its room, then the rest of its data. */
function eventLine(type: string, data: unknown): string {
  const fields = typeof data === "object" && data !== null
    ? { ...data } as Record<string, unknown>
    : {};
  const room = typeof fields.room_name === "string" ? fields.room_name : undefined;
  delete fields.room_name;
  const rest = Object.entries(fields)
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  return [type, ...(room === undefined ? [] : [`room=${room}`]), ...rest].join("  ");
}

/**
 * `meshagent webhook listen`: a WebhookServer that prints each verified event — a line with its
 * type, room and data by default, one JSON object (`{"event", "data"}`) with `--json`; refused
 * deliveries (bad signature, replay) go to stderr.
 *
 * @param options Address, path, secret and how many events to wait for.
 * @param output Where events go.
 * @param signal Stops listening.
 * @param env Reads environment variables.
 * @returns How many events were printed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { webhookListenCommand } from "./webhook_listen_command.ts";
 * const stop = new AbortController();
 * stop.abort();
 * assert.equal(
 *   await webhookListenCommand({ port: 0, noVerify: true }, { out: () => {}, err: () => {} },
 *     stop.signal, () => undefined),
 *   0,
 * );
 * ```
 */
export async function webhookListenCommand(
  options: WebhookListenOptions,
  output: Output,
  signal: AbortSignal,
  env: Env = (name) => Deno.env.get(name),
): Promise<number> {
  const secret = options.secret ?? env("MESHAGENT_WEBHOOK_SECRET");
  if (!secret && !options.noVerify) {
    throw new Error(
      "webhook listen: pass --secret (the webhook's secret, shown by `meshagent webhook create`), " +
        "set MESHAGENT_WEBHOOK_SECRET, or pass --no-verify to accept unsigned events",
    );
  }
  const receiver = new WebhookServer({
    path: options.path ?? "/webhook",
    ...(secret ? { secret } : {}),
    validate: !options.noVerify,
  });
  let count = 0;
  const done = Promise.withResolvers<void>();
  for (const type of WEBHOOK_EVENT_TYPES) {
    receiver.on(type, (event) => {
      if (options.json) output.out(JSON.stringify({ event: event.event, data: event.data }));
      else output.out(eventLine(event.event, event.data));
      if (options.count !== undefined && ++count >= options.count) done.resolve();
    });
  }
  const server = Deno.serve({
    hostname: options.host ?? "127.0.0.1",
    port: options.port ?? 8090,
    onListen: () => {},
  }, async (request) => {
    const response = await receiver.fetch(request);
    if (response.status >= 400) {
      const body = await response.clone().json().catch(() => ({}));
      output.err(`refused a delivery (${response.status}): ${body.error ?? "?"}`);
    }
    return response;
  });
  output.err(
    `listening for webhooks at http://${server.addr.hostname}:${server.addr.port}${receiver.path}`,
  );
  const onAbort = () => done.resolve();
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) done.resolve();
  try {
    await done.promise;
  } finally {
    signal.removeEventListener("abort", onAbort);
    await server.shutdown();
  }
  return count;
}
