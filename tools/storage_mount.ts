import { ErrorCode } from "@meshagent/api";
import { ToolError } from "./tool_error.ts";

/**
 * A room folder shown to the tools under another path: paths under `mountPath` are read and
 * written under `roomPath`. With mounts, the tools reach only mounted folders.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type RoomStorageMount, StorageToolkit } from "@meshagent/tools";
 *
 * const mount: RoomStorageMount = { roomPath: "projects/alpha", mountPath: "work" };
 * const storage = new StorageToolkit({ name: "agent_storage", mounts: [mount] });
 * assert(storage.tools.length === 6);
 * ```
 */
export interface RoomStorageMount {
  /** The folder in room storage (`""` for the whole room). */
  roomPath: string;
  /** Where the tools see it (`""` for the top level). */
  mountPath: string;
  /** Refuse writes under this mount (default false). */
  readOnly?: boolean;
  /** Not set on a room mount (see {@linkcode LocalStorageMount}). */
  localPath?: never;
}

/**
 * A folder of the agent's host disk shown to the tools under `mountPath` (Deno only; a toolkit
 * with a local mount cannot be created where there is no `Deno`). Every tool path is resolved
 * inside the folder: `..` segments and NUL bytes are refused, a leading `/` means the top of
 * the tools' view (never the host's root), and a symbolic link whose real target lies outside
 * the folder is refused (1001) and left out of listings. `write_file` and `save_file_from_url`
 * write a temporary file in the same folder and rename it into place, so readers never see a
 * half-written file. `get_file_download_url` does not serve local files.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type LocalStorageMount, StorageToolkit, TextContent, ToolContext } from "@meshagent/tools";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/hello.txt`, "hello from disk\n");
 * const mount: LocalStorageMount = { localPath: dir, mountPath: "data", readOnly: true };
 * const storage = new StorageToolkit({ mounts: [mount] });
 * // No room is needed for local files.
 * const ctx = new ToolContext({ caller: { id: "p1", attributes: {} }, room: null });
 * const text = await storage.execute(ctx, "read_file", { path: "data/hello.txt" });
 * assert(text instanceof TextContent && text.text === "hello from disk\n");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface LocalStorageMount {
  /** The folder on the host (absolute, or relative to the working directory). */
  localPath: string;
  /** Where the tools see it (`""` for the top level). */
  mountPath: string;
  /** Refuse writes under this mount (default false). */
  readOnly?: boolean;
  /** Not set on a local mount (see {@linkcode RoomStorageMount}). */
  roomPath?: never;
}

/**
 * A folder shown to the tools under another path: a room folder ({@linkcode RoomStorageMount})
 * or a folder of the host's disk ({@linkcode LocalStorageMount}), told apart by `roomPath` /
 * `localPath`. {@linkcode parseStorageMount} reads the `<src>:<mount>[:ro|rw]` string form.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { StorageMount } from "@meshagent/tools";
 *
 * const mounts: StorageMount[] = [
 *   { roomPath: "reference", mountPath: "docs", readOnly: true },
 *   { localPath: "/srv/data", mountPath: "data" },
 * ];
 * assert(mounts.filter((m) => m.localPath !== undefined).length === 1);
 * ```
 */
export type StorageMount = RoomStorageMount | LocalStorageMount;

/**
 * Parses the string form of a storage mount, `<src>:<mount>[:ro|rw]` (agents.md §3, for the
 * `--storage-tool-room-path` / `--storage-tool-local-path` flags): `src` is the room folder or
 * host folder, `mount` the path the tools see it under (may be empty for the top level), and a
 * final `:ro` makes it read-only (`:rw`, the default, read-write). The string is read from the
 * right, so a host path may itself contain `:` (e.g. `C:\data:data:ro`).
 *
 * @param text The mount, e.g. `"reference:docs:ro"` or `"/srv/data:data"`.
 * @param kind Whether `src` is a room folder (`"room"`) or a host folder (`"local"`).
 * @returns The mount, to pass in {@linkcode StorageToolkitOptions.mounts}.
 * @throws {ToolError} 1002 when there is no `:<mount>` part, or a local `src` is empty (an
 *   empty room `src` is the whole room).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStorageMount } from "@meshagent/tools";
 *
 * assert.deepEqual(parseStorageMount("reference:docs:ro", "room"), {
 *   roomPath: "reference",
 *   mountPath: "docs",
 *   readOnly: true,
 * });
 * assert.deepEqual(parseStorageMount("/srv/data:data", "local"), {
 *   localPath: "/srv/data",
 *   mountPath: "data",
 *   readOnly: false,
 * });
 * assert.throws(() => parseStorageMount("/srv/data", "local"), /<src>:<mount>/);
 * ```
 */
export function parseStorageMount(text: string, kind: "room"): RoomStorageMount;
/**
 * Parses a host-folder mount, `<host folder>:<mount>[:ro|rw]` (see the room overload).
 *
 * @param text The mount, e.g. `"/srv/data:data:ro"`.
 * @param kind `"local"`.
 * @returns The local mount.
 * @throws {ToolError} 1002 for a malformed mount.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStorageMount } from "@meshagent/tools";
 *
 * assert(parseStorageMount("/srv/data:data:ro", "local").localPath === "/srv/data");
 * ```
 */
export function parseStorageMount(text: string, kind: "local"): LocalStorageMount;
/**
 * Parses a mount of either kind, `<src>:<mount>[:ro|rw]` (see the room overload).
 *
 * @param text The mount.
 * @param kind `"room"` or `"local"`.
 * @returns The mount.
 * @throws {ToolError} 1002 for a malformed mount or kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStorageMount } from "@meshagent/tools";
 *
 * // E.g. a flag that names the kind at run time.
 * const mount = (kind: "room" | "local") => parseStorageMount("a:b", kind);
 * assert(mount("room").roomPath === "a" && mount("local").localPath === "a");
 * ```
 */
export function parseStorageMount(text: string, kind: "room" | "local"): StorageMount;
export function parseStorageMount(text: string, kind: "room" | "local"): StorageMount {
  if (kind !== "room" && kind !== "local") {
    throw new ToolError(
      `a storage mount is of kind "room" or "local", not ${JSON.stringify(kind)}`,
      ErrorCode.INVALID_REQUEST,
    );
  }
  let rest = text;
  let readOnly = false;
  const mode = /:(ro|rw)$/.exec(rest);
  if (mode) {
    readOnly = mode[1] === "ro";
    rest = rest.slice(0, mode.index);
  }
  const colon = rest.lastIndexOf(":");
  const src = colon < 0 ? "" : rest.slice(0, colon);
  if (colon < 0 || (src === "" && kind === "local")) {
    throw new ToolError(
      `the storage mount ${JSON.stringify(text)} is not of the form <src>:<mount>[:ro|rw], ` +
        `e.g. ${kind === "room" ? '"reference:docs:ro"' : '"/srv/data:data:ro"'}`,
      ErrorCode.INVALID_REQUEST,
    );
  }
  const mountPath = rest.slice(colon + 1);
  return kind === "room"
    ? { roomPath: src, mountPath, readOnly }
    : { localPath: src, mountPath, readOnly };
}
