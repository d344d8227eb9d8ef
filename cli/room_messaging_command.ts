import type { JsonObject, RoomClient, RoomMessage } from "@meshagent/api";
import { connectRoom, type Env, type RoomConnectionOptions } from "./room_connection.ts";
import type { Output } from "./output.ts";
import { withRoom } from "./_with_room.ts";
import { plural, printDone, printList } from "./_format.ts";

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
  /** Print what was sent as JSON on stdout instead of a sentence on stderr. */
  json?: boolean;
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
      printDone(output, options.json, `sent ${options.type} to ${options.to}`, {
        sent: options.type,
        to,
      });
    } else {
      await room.messaging.broadcastMessage({ type: options.type, message, attachment });
      const n = room.messaging.remoteParticipants.length;
      const sentence = n === 0
        ? `broadcast ${options.type} to 0 participants (nobody else has messaging enabled; ` +
          "see meshagent room messaging list)"
        : `broadcast ${options.type} to ${plural(n, "participant")}`;
      printDone(output, options.json, sentence, { broadcast: options.type, participants: n });
    }
  } finally {
    await room.dispose();
  }
}

/** Flags of `meshagent room messaging listen`. */
export interface ListenCommandOptions extends RoomConnectionOptions {
  /** Stop after this many messages (default: run until interrupted). */
  count?: number;
  /** One JSON object per message and presence change instead of readable lines. */
  json?: boolean;
}

/**
 * `meshagent room messaging listen`: joins the room with messaging enabled and prints each
 * message (`[type] sender: {json}`) and presence change (`bob joined`) as a line — one JSON
 * object per line with `--json` — until interrupted or `--count` messages arrived.
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
  const print = (event: JsonObject) => {
    if (options.json) return output.out(JSON.stringify(event));
    const who = String(event.name ?? event.from_name ?? event.id ?? event.from);
    if (event.event === "joined") return output.out(`${who} joined`);
    if (event.event === "left") return output.out(`${who} left`);
    const bytes = event.attachment_bytes
      ? ` (+${plural(Number(event.attachment_bytes), "byte")})`
      : "";
    output.out(`[${event.type}] ${who}: ${JSON.stringify(event.message)}${bytes}`);
  };
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

/** Flags of `meshagent room messaging list`. */
export interface MessagingListCommandOptions extends RoomConnectionOptions {
  /** One JSON object per participant instead of a table. */
  json?: boolean;
}

/** A participant as `messaging list` prints it. */
export interface ListedParticipant {
  /** The participant id. */
  id: string;
  /** The `name` attribute. */
  name?: string;
  /** The role. */
  role: string;
}

/**
 * `meshagent room messaging list`: the other participants with messaging enabled (the ones a
 * `send` or `broadcast` reaches), as a table or JSON lines.
 *
 * @param options The command's flags.
 * @param output Where the listing goes.
 * @param env Reads environment variables.
 * @returns The participants.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { messagingListCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const listed = await messagingListCommand(
 *   { room: "demo", apiUrl: server.url, key: formatApiKey(key) },
 *   { out: () => {}, err: () => {} },
 * );
 * assert(listed.length === 0);
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function messagingListCommand(
  options: MessagingListCommandOptions,
  output: Output,
  env?: Env,
): Promise<ListedParticipant[]> {
  return await withRoom(options, env, async (room) => {
    await room.messaging.enable();
    const listed = room.messaging.remoteParticipants.map((p) => ({
      id: p.id,
      name: p.name,
      role: p.role,
    }));
    printList(output, listed, {
      json: options.json,
      columns: [
        { header: "name", value: (p) => p.name },
        { header: "role", value: (p) => p.role },
        { header: "id", value: (p) => p.id },
      ],
      empty: `nobody else has messaging enabled in room ${room.roomName}`,
    });
    return listed;
  });
}
