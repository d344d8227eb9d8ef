import type { RoomLogEvent } from "@meshagent/api";
import type { Env, RoomConnectionOptions } from "./room_connection.ts";
import type { Output } from "./output.ts";
import { withRoom } from "./_with_room.ts";

/** Flags of `meshagent room developer`. */
export interface DeveloperCommandOptions extends RoomConnectionOptions {
  /** Stop after this many log events (default: until interrupted). */
  count?: number;
  /** One JSON object per event (`{"type", "data"}`) instead of readable lines. */
  json?: boolean;
}

/** One log event as a readable line: `type  message  {other fields}`. */
function logLine(event: RoomLogEvent): string {
  const { message, ...rest } = event.data as Record<string, unknown>;
  const extra = Object.keys(rest).length > 0 ? `  ${JSON.stringify(rest)}` : "";
  const text = message === undefined ? "" : `  ${String(message)}`;
  return `${event.type}${text}${extra}`;
}

/**
 * `meshagent room developer`: follows the room's developer log stream — what participants emit
 * with `room.developer.log(...)` — printing one line per event (`info  message  {fields}`; one
 * JSON object per line with `--json`), until interrupted or `--count` events arrived.
 *
 * @param options The command's flags.
 * @param output Where the events go.
 * @param signal Stops following.
 * @param env Reads environment variables.
 * @returns The events printed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { developerLogsCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey, RoomClient, websocketRoomUrl } from "@meshagent/api";
 * import { resolveRoomConnection } from "@meshagent/cli";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key) };
 * const lines: string[] = [];
 * const following = developerLogsCommand(
 *   { ...flags, count: 1 },
 *   { out: (l) => lines.push(l), err: () => {} },
 * );
 * const { url, token } = await resolveRoomConnection({ ...flags, identity: "app" });
 * const app = new RoomClient({ url, token });
 * await app.start();
 * // Logs emitted before the follower subscribed are not replayed: emit until one arrives.
 * while (lines.length === 0) {
 *   await app.developer.info("hello");
 *   await new Promise((r) => setTimeout(r, 50));
 * }
 * await following;
 * assert(lines[0] === "info  hello");
 * await app.dispose();
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function developerLogsCommand(
  options: DeveloperCommandOptions,
  output: Output,
  signal?: AbortSignal,
  env?: Env,
): Promise<RoomLogEvent[]> {
  return await withRoom(options, env, async (room) => {
    const seen: RoomLogEvent[] = [];
    const stop = new AbortController();
    const ended = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    const offClosed = room.events.on("closed", () => stop.abort());
    try {
      output.err(`following the developer logs of room ${room.roomName}; Ctrl-C to stop`);
      for await (const event of room.developer.logs({ signal: ended })) {
        seen.push(event);
        output.out(options.json ? JSON.stringify(event) : logLine(event));
        if (options.count !== undefined && seen.length >= options.count) break;
      }
    } finally {
      offClosed();
      stop.abort();
    }
    return seen;
  });
}
