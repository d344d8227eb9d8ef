import { formatApiKey } from "@meshagent/api";
import { DEFAULT_API_URL, type Env, resolveApiKey } from "./room_connection.ts";
import type { Output } from "./output.ts";
import { printList } from "./_format.ts";

/** Flags of `meshagent rooms list`. */
export interface RoomsListCommandOptions {
  /** The server's base URL (default env `MESHAGENT_API_URL`, else http://127.0.0.1:8078). */
  apiUrl?: string;
  /** The project's `ma-…` API key (default env `MESHAGENT_API_KEY`, then `--data-dir`'s). */
  key?: string;
  /** The data folder of a local server, whose credentials may be used (default `.meshagent`). */
  dataDir?: string;
  /** One JSON object per room instead of a table. */
  json?: boolean;
}

/** A room as `rooms list` returns it. */
export interface ListedRoom {
  /** The room's id (its name, on our server). */
  id: string;
  /** The room name. */
  name: string;
  /** Whether someone is in the room now (our server's extra field). */
  active?: boolean;
}

/**
 * `meshagent rooms list`: the rooms of the API key's project, from the server's
 * `GET /accounts/projects/{project}/rooms` (every page): on our server, every room that keeps
 * data (files, queues, databases, documents) and every room someone is in now.
 *
 * @param options The command's flags.
 * @param output Where the listing goes.
 * @param env Reads environment variables.
 * @returns The rooms.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { roomsListCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const rooms = await roomsListCommand(
 *   { apiUrl: server.url, key: formatApiKey(key) },
 *   { out: () => {}, err: () => {} },
 * );
 * assert(rooms.length === 0);
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function roomsListCommand(
  options: RoomsListCommandOptions,
  output: Output,
  env: Env = (name) => Deno.env.get(name),
): Promise<ListedRoom[]> {
  const key = await resolveApiKey(options, env);
  const base = (options.apiUrl ?? env("MESHAGENT_API_URL") ?? DEFAULT_API_URL)
    .replace(/^ws/, "http").replace(/\/+$/, "");
  const rooms: ListedRoom[] = [];
  let token: string | null = null;
  do {
    const url = new URL(`${base}/accounts/projects/${encodeURIComponent(key.projectId)}/rooms`);
    if (token !== null) url.searchParams.set("continuation_token", token);
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { authorization: `Bearer ${formatApiKey(key)}` },
        signal: AbortSignal.timeout(30_000),
      });
    } catch (e) {
      throw new Error(`cannot connect to ${base}: ${e instanceof Error ? e.message : e}`);
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const message = body?.error?.message ?? response.statusText;
      throw new Error(`rooms list failed with status ${response.status}: ${message}`);
    }
    for (const room of body.rooms ?? []) {
      rooms.push({ id: String(room.id), name: String(room.name), active: room.active });
    }
    token = typeof body.continuation_token === "string" ? body.continuation_token : null;
  } while (token !== null);
  printList(output, rooms, {
    json: options.json,
    columns: [
      { header: "room", value: (r) => r.name },
      { header: "active", value: (r) => r.active === undefined ? null : r.active ? "yes" : "no" },
    ],
    empty: "no rooms yet: a room is made when someone first joins it (e.g. meshagent room " +
      "messaging listen --room demo)",
  });
  return rooms;
}
