import { connectRoom, type Env, type RoomConnectionOptions } from "./room_connection.ts";
import { parseJsonObject } from "./room_messaging_command.ts";
import type { Output } from "./output.ts";
import { withRoom } from "./_with_room.ts";
import { printList, printObject } from "./_format.ts";

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
 * assert.deepEqual(JSON.parse(lines[0]), { job: 1 });
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
  /** Print the message on one line (compact JSON) instead of indented. */
  json?: boolean;
}

/**
 * `meshagent room queue receive`: takes the oldest message of a queue and prints it as JSON
 * (indented; one line with `--json`), waiting for one unless `--no-wait` is given. When
 * `--no-wait` finds the queue empty it prints nothing on stdout, says so on stderr and exits 0.
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
    if (message !== null) output.out(JSON.stringify(message, null, options.json ? 0 : 2));
    else output.err(`queue ${options.queue} is empty`);
    return message;
  } finally {
    await room.dispose();
  }
}

/** Flags of `meshagent room queue list`. */
export interface QueueListCommandOptions extends RoomConnectionOptions {
  /** One JSON object per queue instead of a table. */
  json?: boolean;
}

/**
 * `meshagent room queue list`: the room's queues and how many messages wait in each.
 *
 * @param options The command's flags.
 * @param output Where the listing goes.
 * @param env Reads environment variables.
 * @returns The queues.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { queueListCommand, queueSendCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key) };
 * const quiet = { out: () => {}, err: () => {} };
 * await queueSendCommand({ ...flags, queue: "jobs", json: '{"job":1}' }, quiet);
 * const queues = await queueListCommand(flags, quiet);
 * assert(queues[0].name === "jobs" && queues[0].size === 1);
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function queueListCommand(
  options: QueueListCommandOptions,
  output: Output,
  env?: Env,
): Promise<{ name: string; size: number }[]> {
  return await withRoom(options, env, async (room) => {
    const queues = (await room.queues.list()).map((q) => ({ name: q.name, size: q.size }));
    printList(output, queues, {
      json: options.json,
      columns: [{ header: "queue", value: (q) => q.name }, {
        header: "size",
        value: (q) => q.size,
      }],
      empty: `no queues in room ${room.roomName} (meshagent room queue send --queue NAME ` +
        `--json '{...}' makes one)`,
    });
    return queues;
  });
}

/** Flags of `meshagent room queue size`. */
export interface QueueSizeCommandOptions extends RoomConnectionOptions {
  /** The queue name. */
  queue: string;
  /** Print `{"queue", "size"}` instead of the number. */
  json?: boolean;
}

/**
 * `meshagent room queue size --queue NAME`: how many messages wait in a queue (0 for a queue the
 * room does not have).
 *
 * @param options The command's flags.
 * @param output Where the number goes.
 * @param env Reads environment variables.
 * @returns The size.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { queueSizeCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key), queue: "none" };
 * assert(await queueSizeCommand(flags, { out: () => {}, err: () => {} }) === 0);
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function queueSizeCommand(
  options: QueueSizeCommandOptions,
  output: Output,
  env?: Env,
): Promise<number> {
  return await withRoom(options, env, async (room) => {
    const size = (await room.queues.list()).find((q) => q.name === options.queue)?.size ?? 0;
    if (options.json) printObject(output, { queue: options.queue, size }, true);
    else output.out(String(size));
    return size;
  });
}
