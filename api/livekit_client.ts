import { JsonContent } from "./content.ts";
import { ErrorCode, RoomError } from "./errors.ts";
import type { RoomRequester } from "./room_requester.ts";

/** Where and how to join a room's media (LiveKit) room. */
export interface LivekitConnectionInfo {
  /** The LiveKit server's URL (`wss://…`). */
  url: string;
  /** The LiveKit access token for this participant. */
  token: string;
}

/** Options of {@linkcode LivekitClient.getConnectionInfo}. */
export interface LivekitConnectOptions {
  /** A breakout room (default: the room's main media room). */
  breakoutRoom?: string | null;
  /** Fail with a `RequestTimeoutError` after this many ms. */
  timeout?: number;
  /** Cancels the wait. */
  signal?: AbortSignal;
}

/**
 * The room's media server (the built-in `livekit` toolkit, protocol-data.md §7): the URL of the
 * LiveKit server and an access token for the room's LiveKit room or one of its breakout rooms.
 * Join it with any LiveKit client (`@livekit/rtc-node`, `livekit-client`).
 *
 * @example Asking for a breakout room (needs a running room, so shown without running it)
 * ```ts
 * import type { RoomClient } from "@meshagent/api";
 * async function join(room: RoomClient) {
 *   const { url, token } = await room.livekit.getConnectionInfo({ breakoutRoom: "call-1" });
 *   return { url, token };
 * }
 * ```
 */
export class LivekitClient {
  readonly #room: RoomRequester;

  /**
   * Creates the value.
   *
   * @param room The room it asks.
   */
  constructor(room: RoomRequester) {
    this.#room = room;
  }

  /**
   * The URL and token to join the room's media room (`livekit.connect`).
   *
   * @param options The breakout room, timeout and cancellation.
   * @returns `{url, token}`.
   * @throws {RoomError} 1001 without the `livekit` grant (or for a breakout room it does not
   *   list), 1007 when the room server has no LiveKit server.
   */
  async getConnectionInfo(options: LivekitConnectOptions = {}): Promise<LivekitConnectionInfo> {
    const content = await this.#room.invoke({
      toolkit: "livekit",
      tool: "connect",
      input: { breakout_room: options.breakoutRoom ?? null },
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const json = content instanceof JsonContent ? content.json as Record<string, unknown> : null;
    if (!json || typeof json.url !== "string" || typeof json.token !== "string") {
      throw new RoomError(
        `unexpected answer from livekit.connect: ${content.type}`,
        ErrorCode.UNEXPECTED_RESPONSE_TYPE,
      );
    }
    return { url: json.url, token: json.token };
  }
}
