/**
 * Room storage paths: the one normalisation rule shared by the storage and sync toolkits
 * (protocol-data §0.5) and the file stores.
 *
 * @module
 */
import { ErrorCode, RoomError, storageNameViolation } from "@meshagent/api";

/** The most UTF-8 bytes a normalised storage path may have. */
export const MAX_STORAGE_PATH_BYTES = 1024;

/** The most UTF-8 bytes one path segment (a file or folder name) may have: the usual NAME_MAX. */
export const MAX_STORAGE_SEGMENT_BYTES = 255;

/**
 * Names starting with this prefix are the server's own (temporary upload files). Users can never
 * address them, and stores never list them.
 */
export const RESERVED_STORAGE_NAME_PREFIX = ".meshagent~";

/**
 * A storage path that is not allowed: it climbs out of the room (`..`), holds a NUL byte, a
 * backslash, a control or bidirectional formatting character, is too long, names a reserved server file, or is not a string at all. Its code is
 * always {@linkcode ErrorCode.STORAGE_INVALID_PATH} (3004).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ErrorCode } from "@meshagent/api";
 * import { normalizeStoragePath, StoragePathError } from "./storage_path.ts";
 * try {
 *   normalizeStoragePath("../secret.txt");
 * } catch (e) {
 *   assert(e instanceof StoragePathError);
 *   assert((e as StoragePathError).code === ErrorCode.STORAGE_INVALID_PATH);
 * }
 * ```
 */
export class StoragePathError extends RoomError {
  /** The path as it was given (for logs; may contain control characters). */
  readonly path: unknown;

  /**
   * Creates the value.
   *
   * @param message What is wrong with the path and how to fix it.
   * @param path The path as it was given.
   */
  constructor(message: string, path: unknown) {
    super(message, ErrorCode.STORAGE_INVALID_PATH);
    this.name = "StoragePathError";
    this.path = path;
  }
}

const encoder = new TextEncoder();

/**
 * Normalises a room-relative storage path (protocol-data §0.5) and confines it to the room.
 *
 * The rules, in order:
 * - leading `./` and `/` are stripped repeatedly, so `/etc/passwd` names `etc/passwd` inside the
 *   room (clients send absolute-looking paths; they never reach outside the room's folder);
 * - repeated `/` collapse, a trailing `/` is dropped, `.` segments are dropped, and `.` alone (or
 *   an empty string) is the root folder `""`;
 * - rejected with {@linkcode StoragePathError} (3004): a non-string, a `..` segment anywhere, a
 *   NUL byte, a backslash, text that is not well-formed Unicode (a lone surrogate), a character
 *   of the name policy (`storageNameViolation` of `@meshagent/api`: control characters C0, DEL
 *   and C1, U+2028/U+2029, and the bidirectional formatting characters U+061C, U+200E, U+200F,
 *   U+202A–U+202E and U+2066–U+2069, which would let a name pass for another in listings; the
 *   message names the character's code point), a segment longer than
 *   {@linkcode MAX_STORAGE_SEGMENT_BYTES} or a path longer than {@linkcode MAX_STORAGE_PATH_BYTES}
 *   UTF-8 bytes, and any segment starting with {@linkcode RESERVED_STORAGE_NAME_PREFIX}.
 *
 * Dot-folders (`.schemas/`) are ordinary folders. Names are case-sensitive and kept byte for byte
 * (no Unicode normalisation).
 *
 * [impl] A refused character is error 3004 like every other path rule (protocol-data §0.5 gives
 * 3004 for NUL and backslash). The rule holds for every path, reads and deletes included, so
 * there is one rule to know. A file put into the data folder by other means under such a name
 * is listed, but must be renamed on the disk to be addressed.
 *
 * @param path The path as the client sent it.
 * @returns The normalised path: segments joined by single `/`, no leading or trailing `/`;
 *   `""` for the root folder.
 * @throws {StoragePathError} When the path is not allowed; the message says why.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeStoragePath } from "./storage_path.ts";
 * assert(normalizeStoragePath("./docs//a.txt") === "docs/a.txt");
 * assert(normalizeStoragePath("/etc/passwd") === "etc/passwd");
 * assert(normalizeStoragePath(".") === "");
 * ```
 */
export function normalizeStoragePath(path: unknown): string {
  if (typeof path !== "string") {
    throw new StoragePathError(
      `a storage path must be a string, got ${path === null ? "null" : typeof path}`,
      path,
    );
  }
  if (path.includes("\0")) {
    throw new StoragePathError(
      `the storage path ${JSON.stringify(path)} contains a NUL byte; remove it`,
      path,
    );
  }
  if (path.includes("\\")) {
    throw new StoragePathError(
      `the storage path ${JSON.stringify(path)} contains a backslash; use "/" to separate folders`,
      path,
    );
  }
  if (!path.isWellFormed()) {
    throw new StoragePathError(
      `the storage path ${JSON.stringify(path)} is not well-formed Unicode (a lone surrogate)`,
      path,
    );
  }
  const violation = storageNameViolation(path);
  if (violation) throw new StoragePathError(violation.message, path);
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      throw new StoragePathError(
        `the storage path ${JSON.stringify(path)} has a ".." segment; ` +
          `paths are relative to the room's storage root and cannot go up`,
        path,
      );
    }
    if (encoder.encode(segment).length > MAX_STORAGE_SEGMENT_BYTES) {
      throw new StoragePathError(
        `the name ${JSON.stringify(truncate(segment))} in a storage path is longer than ` +
          `${MAX_STORAGE_SEGMENT_BYTES} bytes; shorten it`,
        path,
      );
    }
    if (segment.startsWith(RESERVED_STORAGE_NAME_PREFIX)) {
      throw new StoragePathError(
        `the name ${JSON.stringify(segment)} is reserved for the server (names starting with ` +
          `${JSON.stringify(RESERVED_STORAGE_NAME_PREFIX)}); choose another name`,
        path,
      );
    }
    segments.push(segment);
  }
  const normalized = segments.join("/");
  if (encoder.encode(normalized).length > MAX_STORAGE_PATH_BYTES) {
    throw new StoragePathError(
      `the storage path ${JSON.stringify(truncate(normalized))} is longer than ` +
        `${MAX_STORAGE_PATH_BYTES} bytes; use a shorter path`,
      path,
    );
  }
  return normalized;
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
