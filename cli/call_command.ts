import { ServicesClient } from "@meshagent/api";
import { connectRoom, type Env, type RoomConnectionOptions } from "./room_connection.ts";
import type { Output } from "./output.ts";
import { printDone } from "./_format.ts";

/** Flags of `meshagent call`. */
export interface CallCommandOptions extends RoomConnectionOptions {
  /** Where the server delivers the `room.call` webhook (a ServiceHost path). */
  url: string;
  /** The participant name the service joins as (default `agent`). */
  name?: string;
  /** The call's arguments, a JSON object. */
  arguments?: string;
  /** One JSON object instead of a sentence. */
  json?: boolean;
}

/**
 * `meshagent call`: asks the room server to call a service into a room — it mints the callee's
 * token and delivers a signed `room.call` webhook to the URL; this returns once the delivery
 * succeeded (the service then joins by itself).
 *
 * @param options The room, the URL, the callee's name and the arguments.
 * @param output Where the confirmation goes.
 * @param env Reads environment variables.
 * @throws {Error} When the arguments are not a JSON object, or the server could not deliver.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { callCommand } from "@meshagent/cli";
 * await assert.rejects(
 *   callCommand({ room: "demo", url: "http://127.0.0.1:9/agent", arguments: "[1]" },
 *     { out: () => {}, err: () => {} }),
 *   /--arguments must be a JSON object/,
 * );
 * ```
 */
export async function callCommand(
  options: CallCommandOptions,
  output: Output,
  env?: Env,
): Promise<void> {
  let args: Record<string, unknown> = {};
  if (options.arguments !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(options.arguments);
    } catch {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new Error(`--arguments must be a JSON object, e.g. '{"topic":"news"}'`);
    }
    args = parsed as Record<string, unknown>;
  }
  const name = options.name ?? "agent";
  const room = await connectRoom(options, env);
  try {
    await new ServicesClient(room).call({ name, url: options.url, arguments: args });
  } finally {
    await room.dispose();
  }
  printDone(output, options.json, `called ${name} into room ${room.roomName} (${options.url})`, {
    room: room.roomName ?? options.room ?? null,
    name,
    url: options.url,
  });
}
