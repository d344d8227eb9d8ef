import { ErrorCode, JsonContent, type JsonObject, RoomError } from "@meshagent/api";
import type { RoomToolkit, ToolContext } from "./room_toolkit.ts";
import type { ToolkitRoom } from "./toolkit_room.ts";

/** Where the room's media (LiveKit) server is, and the key its tokens are signed with. */
export interface LivekitToolkitOptions {
  /** The LiveKit server's URL for clients (`wss://…`; default `$LIVEKIT_URL`). */
  url?: string;
  /** The LiveKit API key (default `$LIVEKIT_API_KEY`). */
  apiKey?: string;
  /** The LiveKit API secret (default `$LIVEKIT_API_SECRET`). */
  apiSecret?: string;
  /** How long a token is valid, in seconds (default 6 h, LiveKit's own default). */
  ttlSeconds?: number;
  /** Read an environment variable (default `Deno.env.get`). */
  env?: (name: string) => string | undefined;
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

function input(ctx: ToolContext): JsonObject {
  const value = ctx.input instanceof JsonContent
    ? ctx.input.json
    : ctx.input.type === "empty"
    ? {}
    : null;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new RoomError(
      "livekit.connect takes a JSON object {breakout_room}",
      ErrorCode.INVALID_REQUEST,
    );
  }
  return value as JsonObject;
}

/**
 * The LiveKit room a MeshAgent room (or one of its breakout rooms) talks in. [impl] The main room
 * uses the room's name; a breakout room is `<room>--<breakout>`, so breakout rooms of two rooms
 * never meet.
 *
 * @param room The MeshAgent room.
 * @param breakout The breakout room, or null for the main room.
 * @returns The LiveKit room name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { livekitRoomName } from "@meshagent/server";
 * assert.equal(livekitRoomName("demo", null), "demo");
 * assert.equal(livekitRoomName("demo", "call-1"), "demo--call-1");
 * ```
 */
export function livekitRoomName(room: string, breakout: string | null): string {
  return breakout === null ? room : `${room}--${breakout}`;
}

/**
 * The built-in `livekit` toolkit (protocol-data.md §7): `connect {breakout_room}` answers
 * `{url, token}` — the LiveKit server's URL and an access token for the caller (identity = the
 * participant id, name = its name) to join the room's LiveKit room, or a breakout room's, with
 * publish, subscribe and data rights. Tokens are signed with `livekit-server-sdk` (loaded on the
 * first call). The caller needs the `livekit` grant; a grant that lists breakout rooms allows only
 * those (the main room is always allowed [impl]). Without LiveKit settings it answers 1007.
 *
 * @param room The room.
 * @param options The LiveKit server and key (default from `LIVEKIT_URL`, `LIVEKIT_API_KEY`,
 *   `LIVEKIT_API_SECRET`).
 * @returns The toolkit instance of that room.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { livekitToolkit } from "@meshagent/server";
 * const toolkit = livekitToolkit({ name: "demo" } as never, { env: () => undefined });
 * assert.deepEqual(Object.keys(toolkit.tools), ["connect"]);
 * ```
 */
export function livekitToolkit(
  room: ToolkitRoom,
  options: LivekitToolkitOptions = {},
): RoomToolkit {
  const read = options.env ?? env;
  return {
    name: "livekit",
    surface: "livekit",
    tools: {
      connect: async (ctx) => {
        const args = input(ctx);
        const breakout = args.breakout_room ?? null;
        if (breakout !== null && (typeof breakout !== "string" || breakout === "")) {
          throw new RoomError(
            "livekit.connect: breakout_room must be a non-empty string or null",
            ErrorCode.INVALID_REQUEST,
          );
        }
        const grant = ctx.scope.livekit;
        if (!grant) {
          throw new RoomError(
            "permission denied: the token has no livekit grant",
            ErrorCode.PERMISSION_DENIED,
          );
        }
        if (breakout !== null && !grant.canJoinBreakoutRoom(breakout)) {
          throw new RoomError(
            `permission denied: the livekit grant does not allow the breakout room ${breakout}`,
            ErrorCode.PERMISSION_DENIED,
          );
        }
        const url = options.url ?? read("LIVEKIT_URL");
        const apiKey = options.apiKey ?? read("LIVEKIT_API_KEY");
        const apiSecret = options.apiSecret ?? read("LIVEKIT_API_SECRET");
        if (!url || !apiKey || !apiSecret) {
          throw new RoomError(
            "this room server has no LiveKit server: set LIVEKIT_URL, LIVEKIT_API_KEY and " +
              "LIVEKIT_API_SECRET",
            ErrorCode.DEPENDENCY_MISSING,
          );
        }
        const { AccessToken } = await import("livekit-server-sdk");
        const token = new AccessToken(apiKey, apiSecret, {
          identity: ctx.participant.id,
          name: ctx.participant.name,
          ttl: options.ttlSeconds ?? 6 * 3600,
          metadata: JSON.stringify({ room: room.name }),
        });
        token.addGrant({
          room: livekitRoomName(room.name, breakout as string | null),
          roomJoin: true,
          canPublish: true,
          canSubscribe: true,
          canPublishData: true,
        });
        return new JsonContent({ url, token: await token.toJwt() });
      },
    },
  };
}
