/**
 * The room-name rule of the official Python SDK (`is_valid_room_name`): 1–63 characters of
 * lowercase letters, digits and hyphens, starting and ending with a letter or digit. A UUIDv4
 * string (what the TypeScript test suite uses) matches.
 *
 * Because no `/`, `.` or `%` can appear, a valid room name can never escape the data folder.
 */
export const ROOM_NAME_PATTERN: RegExp = /^(?=.{1,63}$)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;

/**
 * Tells whether a string is a valid room name ({@linkcode ROOM_NAME_PATTERN}).
 *
 * @param name The candidate room name, exactly as it appears in the URL path.
 * @returns True when the server accepts the name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isValidRoomName } from "@meshagent/server";
 * assert(isValidRoomName("my-room"));
 * assert(!isValidRoomName("../etc"));
 * assert(!isValidRoomName("Upper"));
 * ```
 */
export function isValidRoomName(name: string): boolean {
  return ROOM_NAME_PATTERN.test(name);
}
