import type { JsonObject, RoomClient, RoomMessage } from "@meshagent/api";
import { connectRoom, type Env, type RoomConnectionOptions } from "./room_connection.ts";
import type { Output } from "./output.ts";

/** Flags of `meshagent room messaging send|broadcast`. */
export interface SendMessageCommandOptions extends RoomConnectionOptions {
  /** The recipient's participant id or name (send only). */
  to?: string;
  /** The message type. */
  type: string;
  /** The message as JSON text (an object). */
  data?: string;
  /** A local file to attach. */
  attachment?: string;
}

/**
 * Parses a JSON object given on the command line.
 *
 * @param text The JSON text.
 * @param flag The flag it came from, for the error message.
 * @returns The object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJsonObject } from "@meshagent/cli";
 * assert(parseJsonObject('{"a":1}', "--data").a === 1);
 * ```
 */
export function parseJsonObject(text: string | undefined, flag: string): JsonObject {
  if (text === undefined || text === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${flag} is not valid JSON: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`${flag} must be a JSON object, like '{"text":"hi"}'`);
  }
  return value as JsonObject;
}

/**
 * `meshagent room messaging send|broadcast`: joins the room, enables messaging, sends one message
 * (to `--to`, an id or a participant name, or to everyone) and leaves.
 *
 * @param options The command's flags.
 * @param output Where confirmations go.
 * @param env Reads environment variables.
 *
 * @example
 * ```ts
 * import { sendMessageCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * await sendMessageCommand(
 *   { room: "demo", apiUrl: server.url, key: formatApiKey(key), type: "chat", data: '{"text":"hi"}' },
 *   { out: () => {}, err: () => {} },
 * );
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function sendMessageCommand(
  options: SendMessageCommandOptions,
  output: Output,
  env?: Env,
): Promise<void> {
  const message = parseJsonObject(options.data, "--data");
  const attachment = options.attachment ? await Deno.readFile(options.attachment) : undefined;
  const room = await connectRoom(options, env);
  try {
    await room.messaging.enable();
    if (options.to) {
      const to = room.messaging.getParticipant(options.to)?.id ??
        room.messaging.getParticipantByName(options.to)?.id ?? options.to;
      await room.messaging.sendMessage({ to, type: options.type, message, attachment });
      output.err(`sent ${options.type} to ${options.to}`);
    } else {
      await room.messaging.broadcastMessage({ type: options.type, message, attachment });
      const n = room.messaging.remoteParticipants.length;
      output.err(`broadcast ${options.type} to ${n} participant${n === 1 ? "" : "s"}`);
    }
  } finally {
    await room.dispose();
  }
}

/** Flags of `meshagent room messaging listen`. */
export interface ListenCommandOptions extends RoomConnectionOptions {
  /** Stop after this many messages (default: run until interrupted). */
  count?: number;
}

/**
 * `meshagent room messaging listen`: joins the room with messaging enabled and prints each
 * message and presence change as one JSON line, until interrupted or `--count` messages arrived.
 *
 * @param options The command's flags.
 * @param output Where the JSON lines go.
 * @param signal Stops listening.
 * @param env Reads environment variables.
 * @returns The room client used (already disposed).
 *
 * @example
 * ```ts
 * import { listenCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const stop = new AbortController();
 * const listening = listenCommand(
 *   { room: "demo", apiUrl: server.url, key: formatApiKey(key) },
 *   { out: () => {}, err: () => stop.abort() }, // stops as soon as it reports it listens
 *   stop.signal,
 * );
 * await listening;
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function listenCommand(
  options: ListenCommandOptions,
  output: Output,
  signal?: AbortSignal,
  env?: Env,
): Promise<RoomClient> {
  const room = await connectRoom(options, env);
  const done = Promise.withResolvers<void>();
  let seen = 0;
  const print = (event: JsonObject) => output.out(JSON.stringify(event));
  const offs = [
    room.events.on("message", (m: RoomMessage) => {
      if (m.type.startsWith("participant.") || m.type === "messaging.enabled") return;
      print({
        event: "message",
        from: m.fromParticipantId,
        from_name: room.messaging.getParticipant(m.fromParticipantId)?.name,
        type: m.type,
        message: m.message,
        ...(m.attachment?.length ? { attachment_bytes: m.attachment.length } : {}),
      });
      if (options.count !== undefined && ++seen >= options.count) done.resolve();
    }),
    room.events.on("participantAdded", (p) => print({ event: "joined", id: p.id, name: p.name })),
    room.events.on("participantRemoved", (p) => print({ event: "left", id: p.id, name: p.name })),
    room.events.on("closed", () => done.resolve()),
  ];
  const onAbort = () => done.resolve();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await room.messaging.enable();
    output.err(
      `listening in ${room.roomName} as ${room.localParticipant?.name} ` +
        `(${room.messaging.remoteParticipants.length} others here); Ctrl-C to stop`,
    );
    if (signal?.aborted) done.resolve();
    await done.promise;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    for (const off of offs) off();
    await room.dispose();
  }
  return room;
}
