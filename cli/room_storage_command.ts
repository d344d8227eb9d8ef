import {
  downloadFile,
  ErrorCode,
  RoomError,
  type StorageEntry,
  type StorageProgress,
  uploadFile,
} from "@meshagent/api";
import type { Env, RoomConnectionOptions } from "./room_connection.ts";
import type { Output } from "./output.ts";
import { withRoom } from "./_with_room.ts";
import { plural, printDone, printList, printObject } from "./_format.ts";

/** The prefix that marks a room storage path in `meshagent room storage cp`. */
export const ROOM_PATH_PREFIX = "room://";

/**
 * Turns a command-line room path (`room://docs/a.txt`, `docs/a.txt`, `/docs/a.txt`) into a
 * storage path.
 *
 * @param path The argument.
 * @returns The storage path (`""` for the root).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { roomPath } from "@meshagent/cli";
 * assert(roomPath("room://docs/a.txt") === "docs/a.txt");
 * assert(roomPath("room://") === "" && roomPath("/x") === "x");
 * ```
 */
export function roomPath(path: string): string {
  const bare = path.startsWith(ROOM_PATH_PREFIX) ? path.slice(ROOM_PATH_PREFIX.length) : path;
  return bare.replace(/^\/+/, "");
}

function label(path: string): string {
  return `${ROOM_PATH_PREFIX}${path}`;
}

/** Flags of `meshagent room storage ls`. */
export interface StorageLsCommandOptions extends RoomConnectionOptions {
  /** The folder (default the root). */
  path?: string;
  /** One JSON object per entry instead of a table. */
  json?: boolean;
}

function entryJson(entry: StorageEntry): Record<string, unknown> {
  return {
    name: entry.name,
    is_folder: entry.isFolder,
    size: entry.size,
    created_at: entry.createdAt?.toISOString() ?? null,
    updated_at: entry.updatedAt?.toISOString() ?? null,
  };
}

/**
 * `meshagent room storage ls [path]`: lists a folder as a table (name — folders end in `/` —,
 * size, modification time), a sentence when it is empty, or one JSON object per entry with
 * `--json`.
 *
 * @param options The command's flags.
 * @param output Where the listing goes.
 * @param env Reads environment variables.
 * @returns The entries.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storageLsCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const lines: string[] = [];
 * await storageLsCommand(
 *   { room: "demo", apiUrl: server.url, key: formatApiKey(key) },
 *   { out: (l) => lines.push(l), err: () => {} },
 * );
 * assert(lines[0] === "room storage is empty (room://)");
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function storageLsCommand(
  options: StorageLsCommandOptions,
  output: Output,
  env?: Env,
): Promise<StorageEntry[]> {
  const path = roomPath(options.path ?? "");
  return await withRoom(options, env, async (room) => {
    const entries = await room.storage.list(path);
    printList(output, entries, {
      json: options.json,
      toJson: entryJson,
      empty: path === "" ? "room storage is empty (room://)" : `${label(path)} is empty`,
      columns: [
        { header: "name", value: (e) => e.isFolder ? `${e.name}/` : e.name },
        { header: "size", value: (e) => e.isFolder ? null : e.size },
        { header: "modified", value: (e) => e.updatedAt },
      ],
    });
    return entries;
  });
}

/** Flags of `meshagent room storage stat`. */
export interface StorageStatCommandOptions extends RoomConnectionOptions {
  /** The room path. */
  path: string;
  /** One JSON object instead of `key: value` lines. */
  json?: boolean;
}

/**
 * `meshagent room storage stat <path>`: prints a file's or folder's details (`key: value`
 * lines, or one JSON object with `--json`); fails (exit 1) when nothing is there.
 *
 * @param options The command's flags.
 * @param output Where the details go.
 * @param env Reads environment variables.
 * @returns The entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storageStatCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key), path: "none.txt" };
 * const failed = await storageStatCommand(flags, { out: () => {}, err: () => {} }).catch(() => true);
 * assert(failed === true);
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function storageStatCommand(
  options: StorageStatCommandOptions,
  output: Output,
  env?: Env,
): Promise<StorageEntry> {
  const path = roomPath(options.path);
  return await withRoom(options, env, async (room) => {
    const entry = await room.storage.stat(path);
    if (entry === null) {
      throw new Error(
        `${label(path)}: no such file or folder (see what is there: meshagent room storage ls)`,
      );
    }
    printObject(output, { path, ...entryJson(entry) }, options.json);
    return entry;
  });
}

/** Flags of `meshagent room storage exists`. */
export interface StorageExistsCommandOptions extends RoomConnectionOptions {
  /** The room path. */
  path: string;
  /** Print `{"path", "exists"}` instead of a sentence. */
  json?: boolean;
}

/**
 * `meshagent room storage exists <path>`: says whether a file or folder is there. The command
 * exits 0 when it is and 1 when it is not, like `test -e`.
 *
 * @param options The command's flags.
 * @param output Where the answer goes.
 * @param env Reads environment variables.
 * @returns Whether it exists.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storageExistsCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key), path: "a.txt" };
 * assert(!(await storageExistsCommand(flags, { out: () => {}, err: () => {} })));
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function storageExistsCommand(
  options: StorageExistsCommandOptions,
  output: Output,
  env?: Env,
): Promise<boolean> {
  const path = roomPath(options.path);
  return await withRoom(options, env, async (room) => {
    const exists = await room.storage.exists(path);
    if (options.json) output.out(JSON.stringify({ path, exists }));
    else output.out(`${label(path)} ${exists ? "exists" : "does not exist"}`);
    return exists;
  });
}

/** Flags of `meshagent room storage rm`. */
export interface StorageRmCommandOptions extends RoomConnectionOptions {
  /** The room path. */
  path: string;
  /** Delete a folder with everything in it. */
  recursive?: boolean;
  /** Print `{"deleted": path}` on stdout instead of a sentence on stderr. */
  json?: boolean;
}

/**
 * `meshagent room storage rm <path> [-r]`: deletes a file, or a folder with `-r`.
 *
 * @param options The command's flags.
 * @param output Where the confirmation goes (stderr; stdout with `--json`).
 * @param env Reads environment variables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storageRmCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key), path: "none.txt" };
 * const failed = await storageRmCommand(flags, { out: () => {}, err: () => {} }).catch(() => true);
 * assert(failed === true);
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function storageRmCommand(
  options: StorageRmCommandOptions,
  output: Output,
  env?: Env,
): Promise<void> {
  const path = roomPath(options.path);
  await withRoom(options, env, async (room) => {
    try {
      await room.storage.delete(path, { recursive: options.recursive ?? false });
    } catch (e) {
      if (e instanceof RoomError && e.code === ErrorCode.STORAGE_RECURSIVE_REQUIRED) {
        throw new Error(`${label(path)} is a folder that is not empty; pass -r to delete it all`);
      }
      throw e;
    }
    printDone(output, options.json, `deleted ${label(path)}`, { deleted: path });
  });
}

/** Flags of `meshagent room storage mv`. */
export interface StorageMvCommandOptions extends RoomConnectionOptions {
  /** The room path to move. */
  source: string;
  /** The new room path. */
  destination: string;
  /** Replace what is at the destination. */
  overwrite?: boolean;
  /** Print `{"moved", "to"}` on stdout instead of a sentence on stderr. */
  json?: boolean;
}

/**
 * `meshagent room storage mv <source> <destination> [--overwrite]`: moves a file or folder.
 *
 * @param options The command's flags.
 * @param output Where the confirmation goes (stderr; stdout with `--json`).
 * @param env Reads environment variables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storageMvCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key) };
 * const failed = await storageMvCommand(
 *   { ...flags, source: "a", destination: "b" },
 *   { out: () => {}, err: () => {} },
 * ).catch(() => true);
 * assert(failed === true);
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function storageMvCommand(
  options: StorageMvCommandOptions,
  output: Output,
  env?: Env,
): Promise<void> {
  const from = roomPath(options.source);
  const to = roomPath(options.destination);
  await withRoom(options, env, async (room) => {
    try {
      await room.storage.move(from, to, { overwrite: options.overwrite ?? false });
    } catch (e) {
      if (e instanceof RoomError && e.code === ErrorCode.STORAGE_ALREADY_EXISTS) {
        throw new Error(`${label(to)} exists; pass --overwrite to replace it`);
      }
      throw e;
    }
    printDone(output, options.json, `moved ${label(from)} → ${label(to)}`, { moved: from, to });
  });
}

/** Flags of `meshagent room storage cp`. */
export interface StorageCpCommandOptions extends RoomConnectionOptions {
  /** A local path or a room path (`room://` optional, see {@linkcode storageCpCommand}). */
  source: string;
  /** A local path or a room path: the other side. */
  destination: string;
  /** Replace an existing file at the destination (a room file or a local file). */
  overwrite?: boolean;
  /**
   * Show a progress bar on stderr. Default: only when stderr is a terminal and the file is at
   * least 1 MiB.
   */
  progress?: boolean;
  /** Print `{"source", "destination", "bytes"}` on stdout instead of a sentence on stderr. */
  json?: boolean;
}

const MIB = 1024 * 1024;

/**
 * Makes a progress reporter: on a terminal a bar redrawn in place; otherwise (with `--progress`)
 * one line per 10 %.
 */
function progressReporter(
  label: string,
  options: { progress?: boolean },
  output: Output,
): { onProgress: (p: StorageProgress) => void; done: () => void } {
  const terminal = Deno.stderr.isTerminal();
  let enabled: boolean | undefined = options.progress;
  let lastStep = -1;
  let drawn = false;
  const encoder = new TextEncoder();
  const onProgress = (p: StorageProgress) => {
    if (enabled === undefined) enabled = terminal && (p.total ?? p.bytes) >= MIB;
    if (!enabled) return;
    const fraction = p.total ? p.bytes / p.total : p.total === 0 ? 1 : 0;
    const amount = `${(p.bytes / MIB).toFixed(1)}${
      p.total !== null ? `/${(p.total / MIB).toFixed(1)}` : ""
    } MiB`;
    if (terminal) {
      const width = 30;
      const filled = Math.round(fraction * width);
      const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
      const percent = p.total !== null ? `${Math.floor(fraction * 100)}%`.padStart(4) : "";
      Deno.stderr.writeSync(encoder.encode(`\r${label} ${bar} ${percent} ${amount}`));
      drawn = true;
      return;
    }
    const step = p.total !== null ? Math.floor(fraction * 10) : Math.floor(p.bytes / (10 * MIB));
    if (step === lastStep) return;
    lastStep = step;
    const percent = p.total !== null ? `${step * 10}% ` : "";
    output.err(`${label} ${percent}${amount}`);
  };
  const done = () => {
    if (drawn) Deno.stderr.writeSync(encoder.encode("\n"));
  };
  return { onProgress, done };
}

async function localKind(path: string): Promise<"file" | "folder" | null> {
  try {
    return (await Deno.stat(path)).isDirectory ? "folder" : "file";
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** A path that can only mean the local disk: `/…`, `./…`, `../…`, `.`, `..`, `~/…`, `C:\…`. */
function explicitlyLocal(path: string): boolean {
  return /^(\/|\.{1,2}([\\/]|$)|~[\\/]|[A-Za-z]:[\\/])/.test(path);
}

/** Which way a `cp` goes. */
export type CopyDirection = "upload" | "download";

/**
 * Works out which side of `cp` is the room: a `room://` path is a room path and the other side
 * is local; otherwise a path that can only be local (`/…`, `./…`, `../…`, `~/…`) is local; and
 * with two bare paths (`cp a.txt docs/a.txt`) the source is local if it exists on disk, the room
 * side otherwise.
 *
 * @param source The source argument.
 * @param destination The destination argument.
 * @param localExists Whether a local path exists (the source, for two bare paths).
 * @returns `upload` (local → room) or `download` (room → local).
 * @throws {Error} When both sides are room paths or both can only be local.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { copyDirection } from "@meshagent/cli";
 * assert(copyDirection("./a.txt", "docs/a.txt", () => false) === "upload");
 * assert(copyDirection("docs/a.txt", ".", () => false) === "download");
 * assert(copyDirection("a.txt", "docs/a.txt", () => true) === "upload");
 * assert(copyDirection("room://a.txt", "a.txt", () => true) === "download");
 * ```
 */
export function copyDirection(
  source: string,
  destination: string,
  localExists: (path: string) => boolean,
): CopyDirection {
  const fromRoom = source.startsWith(ROOM_PATH_PREFIX);
  const toRoom = destination.startsWith(ROOM_PATH_PREFIX);
  if (fromRoom && toRoom) {
    throw new Error(
      "cp copies between the local disk and the room, and both paths are room paths: " +
        "to copy inside the room, download and upload, or move with meshagent room storage mv",
    );
  }
  if (fromRoom) return "download";
  if (toRoom) return "upload";
  const sourceLocal = explicitlyLocal(source);
  const destinationLocal = explicitlyLocal(destination);
  if (sourceLocal && destinationLocal) {
    throw new Error(
      "both paths are local: mark the room side with room://, e.g. cp ./a.txt room://docs/a.txt",
    );
  }
  if (sourceLocal) return "upload";
  if (destinationLocal) return "download";
  return localExists(source) ? "upload" : "download";
}

/**
 * `meshagent room storage cp <source> <destination>`: copies a local file into the room
 * (`cp ./a.pdf docs/a.pdf`) or a room file to the local disk (`cp docs/a.pdf .`); `room://`
 * marks a room path and is optional (see {@linkcode copyDirection}). Files stream in chunks
 * (memory stays flat); a download goes to `<file>.part` and is renamed when complete. A
 * destination ending in `/` (or a local folder) keeps the source's name. Neither direction
 * replaces an existing file without `--overwrite`.
 *
 * @param options The command's flags.
 * @param output Where progress and the confirmation go (stderr; the result with `--json`).
 * @param env Reads environment variables.
 * @returns The number of bytes copied.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storageCpCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key) };
 * const quiet = { out: () => {}, err: () => {} };
 * const local = `${dataDir}/hello.txt`;
 * await Deno.writeTextFile(local, "hello");
 * await storageCpCommand({ ...flags, source: local, destination: "hello.txt" }, quiet);
 * const n = await storageCpCommand(
 *   { ...flags, source: "hello.txt", destination: `${dataDir}/copy.txt` },
 *   quiet,
 * );
 * assert(n === 5 && (await Deno.readTextFile(`${dataDir}/copy.txt`)) === "hello");
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function storageCpCommand(
  options: StorageCpCommandOptions,
  output: Output,
  env?: Env,
): Promise<number> {
  const sourceKind = await localKind(options.source);
  const direction = copyDirection(options.source, options.destination, () => sourceKind !== null);
  if (direction === "upload") {
    const local = options.source;
    if (sourceKind === null) throw new Error(`${local}: no such local file`);
    if (sourceKind === "folder") {
      throw new Error(`${local} is a folder: cp copies one file (folders are not copied)`);
    }
    const size = (await Deno.stat(local)).size;
    let dest = roomPath(options.destination);
    if (dest === "" || dest.endsWith("/")) dest += local.split(/[\\/]/).at(-1);
    const progress = progressReporter(label(dest), options, output);
    await withRoom(options, env, async (room) => {
      try {
        await uploadFile(room.storage, local, dest, {
          overwrite: options.overwrite ?? false,
          onProgress: progress.onProgress,
        });
      } catch (e) {
        if (e instanceof RoomError && e.code === ErrorCode.STORAGE_ALREADY_EXISTS) {
          throw new Error(`${label(dest)} exists; pass --overwrite to replace it`);
        }
        throw e;
      } finally {
        progress.done();
      }
    });
    printDone(output, options.json, `copied ${local} → ${label(dest)} (${plural(size, "byte")})`, {
      source: local,
      destination: label(dest),
      bytes: size,
    });
    return size;
  }
  const source = roomPath(options.source);
  let local = options.destination;
  if (local.endsWith("/") || local.endsWith("\\") || await localKind(local) === "folder") {
    local = `${local.replace(/[\\/]+$/, "")}/${source.split("/").at(-1)}`;
  }
  if (!options.overwrite && await localKind(local) !== null) {
    throw new Error(`${local} exists; pass --overwrite to replace it`);
  }
  const progress = progressReporter(local, options, output);
  const size = await withRoom(options, env, async (room) => {
    try {
      return (await downloadFile(room.storage, source, local, {
        onProgress: progress.onProgress,
      })).size;
    } catch (e) {
      if (e instanceof RoomError && e.code === ErrorCode.STORAGE_NOT_FOUND) {
        throw new Error(
          `${label(source)}: no such file in the room (see what is there: ` +
            "meshagent room storage ls)",
        );
      }
      throw e;
    } finally {
      progress.done();
    }
  });
  printDone(output, options.json, `copied ${label(source)} → ${local} (${plural(size, "byte")})`, {
    source: label(source),
    destination: local,
    bytes: size,
  });
  return size;
}

/** Flags of `meshagent room storage get`. */
export interface StorageGetCommandOptions extends RoomConnectionOptions {
  /** The room file. */
  path: string;
  /** Save to this local file instead of writing the bytes to stdout. */
  output?: string;
  /** Replace an existing local file. */
  overwrite?: boolean;
  /** Print the file's details as JSON (the bytes go to `--output` only). */
  json?: boolean;
}

/**
 * `meshagent room storage get <path> [--output FILE]`: writes a room file's bytes to stdout (like
 * `cat`), or saves it to `--output` (which it does not replace without `--overwrite`).
 *
 * @param options The command's flags.
 * @param output Where confirmations go.
 * @param env Reads environment variables.
 * @param stdout Where the bytes go without `--output` (default: the process's stdout).
 * @returns The file's size.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storageGetCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key), path: "a.txt" };
 * const failed = await storageGetCommand(flags, { out: () => {}, err: () => {} }).catch(() => true);
 * assert(failed === true);
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function storageGetCommand(
  options: StorageGetCommandOptions,
  output: Output,
  env?: Env,
  stdout: WritableStream<Uint8Array> = Deno.stdout.writable,
): Promise<number> {
  const path = roomPath(options.path);
  if (options.output !== undefined) {
    const size = await storageCpCommand(
      { ...options, source: label(path), destination: options.output, json: false },
      options.json ? { out: () => {}, err: () => {} } : output,
      env,
    );
    if (options.json) output.out(JSON.stringify({ path, saved_to: options.output, bytes: size }));
    return size;
  }
  return await withRoom(options, env, async (room) => {
    let download;
    try {
      download = await room.storage.downloadStream(path);
    } catch (e) {
      if (e instanceof RoomError && e.code === ErrorCode.STORAGE_NOT_FOUND) {
        throw new Error(
          `${label(path)}: no such file in the room (see what is there: meshagent room storage ls)`,
        );
      }
      throw e;
    }
    if (options.json) {
      await download.stream.cancel();
      output.out(JSON.stringify({
        path,
        name: download.name,
        mime_type: download.mimeType,
        size: download.size,
      }));
      return download.size;
    }
    await download.stream.pipeTo(stdout, { preventClose: true });
    return download.size;
  });
}
