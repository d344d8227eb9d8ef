import { connectRoom, type Env, type RoomConnectionOptions } from "./room_connection.ts";
import { parseJsonObject } from "./room_messaging_command.ts";
import type { Output } from "./output.ts";

/** Flags of `meshagent room queue send`. */
export interface QueueSendCommandOptions extends RoomConnectionOptions {
  /** The queue name. */
  queue: string;
  /** The message as JSON text (an object). */
  json?: string;
  /** A file that holds the JSON message. */
  file?: string;
}

/**
 * `meshagent room queue send`: appends one JSON message to a room queue (created on demand).
 *
 * @param options The command's flags.
 * @param output Where the confirmation goes.
 * @param env Reads environment variables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { queueReceiveCommand, queueSendCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key), queue: "jobs" };
 * const lines: string[] = [];
 * const out = { out: (l: string) => lines.push(l), err: () => {} };
 * await queueSendCommand({ ...flags, json: '{"job":1}' }, out);
 * await queueReceiveCommand({ ...flags }, out);
 * assert(lines[0] === '{"job":1}');
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function queueSendCommand(
  options: QueueSendCommandOptions,
  output: Output,
  env?: Env,
): Promise<void> {
  if (options.json === undefined && options.file === undefined) {
    throw new Error("what to send? pass --json '{...}' or --file message.json");
  }
  const text = options.file ? await Deno.readTextFile(options.file) : options.json;
  const message = parseJsonObject(text, options.file ? options.file : "--json");
  const room = await connectRoom(options, env);
  try {
    await room.queues.send(options.queue, message, { create: true });
    output.err(`sent to queue ${options.queue}`);
  } finally {
    await room.dispose();
  }
}

/** Flags of `meshagent room queue receive`. */
export interface QueueReceiveCommandOptions extends RoomConnectionOptions {
  /** The queue name. */
  queue: string;
  /** Return at once when the queue is empty (default: wait for a message). */
  noWait?: boolean;
  /** Give up waiting after this many seconds. */
  timeout?: number;
}

/**
 * `meshagent room queue receive`: takes the oldest message of a queue and prints it as JSON,
 * waiting for one unless `--no-wait` is given. Prints nothing (and exits 0) when `--no-wait` finds
 * the queue empty.
 *
 * @param options The command's flags.
 * @param output Where the message goes.
 * @param env Reads environment variables.
 * @returns The message, or `null`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { queueReceiveCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const got = await queueReceiveCommand(
 *   { room: "demo", apiUrl: server.url, key: formatApiKey(key), queue: "empty", noWait: true },
 *   { out: () => {}, err: () => {} },
 * );
 * assert(got === null);
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function queueReceiveCommand(
  options: QueueReceiveCommandOptions,
  output: Output,
  env?: Env,
): Promise<unknown> {
  const room = await connectRoom(options, env);
  try {
    const timeout = options.timeout !== undefined ? options.timeout * 1000 : undefined;
    const message = await room.queues.receive(options.queue, {
      create: true,
      wait: !options.noWait,
      timeout,
    });
    if (message !== null) output.out(JSON.stringify(message));
    else output.err(`queue ${options.queue} is empty`);
    return message;
  } finally {
    await room.dispose();
  }
}
