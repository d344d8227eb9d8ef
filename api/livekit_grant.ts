import { ApiGrant, type GrantOptions } from "./api_grant.ts";
import { describeGrant, names } from "./_grant_fields.ts";

/**
 * `livekit` grant: access to the media (LiveKit) room and its breakout rooms.
 *
 * JSON: `{ breakout_rooms?: string[] }`; absent = any breakout room.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LivekitGrant } from "@meshagent/api";
 *
 * const grant = LivekitGrant.fromJson({ breakout_rooms: ["a"] });
 * assert.equal(grant.canJoinBreakoutRoom("a"), true);
 * assert.equal(grant.canJoinBreakoutRoom("b"), false);
 * assert.equal(new LivekitGrant().canJoinBreakoutRoom("b"), true);
 * ```
 */
export class LivekitGrant extends ApiGrant {
  static {
    describeGrant(this, "livekit", {
      breakoutRooms: names("breakout_rooms", ["breakoutRooms"]),
    });
  }

  /** Breakout rooms that may be joined; null = any. */
  declare readonly breakoutRooms: readonly string[] | null;

  /**
   * Creates the grant.
   *
   * @param options `breakoutRooms`: allow-list of breakout room names (null = any).
   */
  constructor(options: GrantOptions<LivekitGrant> = {}) {
    super(options);
  }

  /**
   * Whether the breakout room `name` may be joined.
   *
   * @param name Breakout room name.
   * @returns true when the allow-list is unset or contains `name`.
   */
  canJoinBreakoutRoom(name: string): boolean {
    return this.breakoutRooms === null || this.breakoutRooms.includes(name);
  }
}
