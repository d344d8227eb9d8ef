import {
  downloadFile,
  type RoomClient,
  RoomError,
  type StorageEntry,
  type StorageProgress,
  uploadFile,
} from "@meshagent/api";
import { connectRoom, type Env, type RoomConnectionOptions } from "./room_connection.ts";
import type { Output } from "./output.ts";

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

async function withRoom<T>(
  options: RoomConnectionOptions,
  env: Env | undefined,
  fn: (room: RoomClient) => Promise<T>,
): Promise<T> {
  const room = await connectRoom(options, env);
  try {
    return await fn(room);
  } finally {
    await room.dispose();
  }
}

/** Flags of `meshagent room storage ls`. */
export interface StorageLsCommandOptions extends RoomConnectionOptions {
  /** The folder (default the root). */
  path?: string;
  /** Print size and modification time too. */
  long?: boolean;
  /** Print the entries as a JSON array. */
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
 * `meshagent room storage ls [path]`: lists a folder, one entry per line (folders end in `/`);
 * `--long` adds the size and modification time, `--json` prints a JSON array.
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
 * assert(lines.length === 0);
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
    if (options.json) {
      output.out(JSON.stringify(entries.map(entryJson)));
      return entries;
    }
    for (const e of entries) {
      const name = e.isFolder ? `${e.name}/` : e.name;
      if (!options.long) {
        output.out(name);
        continue;
      }
      const size = e.isFolder ? "-" : String(e.size ?? "?");
      const when = e.updatedAt?.toISOString() ?? "-";
      output.out(`${size.padStart(12)}  ${when.padEnd(24)}  ${name}`);
    }
    return entries;
  });
}

/** Flags of `meshagent room storage stat`. */
export interface StorageStatCommandOptions extends RoomConnectionOptions {
  /** The room path. */
  path: string;
}

/**
 * `meshagent room storage stat <path>`: prints the entry as JSON; fails (exit 1) when nothing is
 * there.
 *
 * @param options The command's flags.
 * @param output Where the JSON goes.
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
    if (entry === null) throw new Error(`room://${path}: no such file or folder`);
    output.out(JSON.stringify({ path, ...entryJson(entry) }));
    return entry;
  });
}

/** Flags of `meshagent room storage rm`. */
export interface StorageRmCommandOptions extends RoomConnectionOptions {
  /** The room path. */
  path: string;
  /** Delete a folder with everything in it. */
  recursive?: boolean;
}

/**
 * `meshagent room storage rm <path> [-r]`: deletes a file, or a folder with `-r`.
 *
 * @param options The command's flags.
 * @param output Where the confirmation goes (stderr).
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
      if (e instanceof RoomError && e.code === 3002) {
        throw new Error(`room://${path} is a folder that is not empty; pass -r to delete it all`);
      }
      throw e;
    }
    output.err(`deleted room://${path}`);
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
}

/**
 * `meshagent room storage mv <source> <destination> [--overwrite]`: moves a file or folder.
 *
 * @param options The command's flags.
 * @param output Where the confirmation goes (stderr).
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
    await room.storage.move(from, to, { overwrite: options.overwrite ?? false });
    output.err(`moved room://${from} → room://${to}`);
  });
}

/** Flags of `meshagent room storage cp`. */
export interface StorageCpCommandOptions extends RoomConnectionOptions {
  /** A local path or `room://path`. */
  source: string;
  /** A local path or `room://path` (the other kind than `source`). */
  destination: string;
  /** Replace an existing file at the destination (room uploads; local files are replaced). */
  overwrite?: boolean;
  /**
   * Show a progress bar on stderr. Default: only when stderr is a terminal and the file is at
   * least 1 MiB.
   */
  progress?: boolean;
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

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * `meshagent room storage cp <source> <destination>`: copies a local file into the room
 * (`cp ./a.pdf room://docs/a.pdf`) or a room file to the local disk (`cp room://docs/a.pdf .`).
 * Files stream in chunks (memory stays flat); a download goes to `<file>.part` and is renamed
 * when complete. A room destination ending in `/` (or a local folder) keeps the source's name.
 *
 * @param options The command's flags.
 * @param output Where progress and the confirmation go (stderr).
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
 * await storageCpCommand({ ...flags, source: local, destination: "room://hello.txt" }, quiet);
 * const n = await storageCpCommand(
 *   { ...flags, source: "room://hello.txt", destination: `${dataDir}/copy.txt` },
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
  const fromRoom = options.source.startsWith(ROOM_PATH_PREFIX);
  const toRoom = options.destination.startsWith(ROOM_PATH_PREFIX);
  if (fromRoom === toRoom) {
    throw new Error(
      "cp copies between the local disk and the room: exactly one of source and destination " +
        `must start with ${ROOM_PATH_PREFIX} (e.g. cp ./a.txt room://docs/a.txt)`,
    );
  }
  if (toRoom) {
    const local = options.source;
    const info = await Deno.stat(local).catch((e) => {
      if (e instanceof Deno.errors.NotFound) throw new Error(`${local}: no such file`);
      throw e;
    });
    if (!info.isFile) throw new Error(`${local} is not a file (folders are not copied)`);
    let dest = roomPath(options.destination);
    if (dest === "" || dest.endsWith("/")) dest += local.split(/[\\/]/).at(-1);
    const progress = progressReporter(`room://${dest}`, options, output);
    await withRoom(options, env, async (room) => {
      try {
        await uploadFile(room.storage, local, dest, {
          overwrite: options.overwrite ?? false,
          onProgress: progress.onProgress,
        });
      } catch (e) {
        if (e instanceof RoomError && e.code === 3005) {
          throw new Error(`room://${dest} exists; pass --overwrite to replace it`);
        }
        throw e;
      } finally {
        progress.done();
      }
    });
    output.err(`copied ${local} → room://${dest} (${info.size} bytes)`);
    return info.size;
  }
  const source = roomPath(options.source);
  let local = options.destination;
  if (local.endsWith("/") || await isDirectory(local)) {
    local = `${local.replace(/\/+$/, "")}/${source.split("/").at(-1)}`;
  }
  const progress = progressReporter(local, options, output);
  const size = await withRoom(options, env, async (room) => {
    try {
      return (await downloadFile(room.storage, source, local, {
        onProgress: progress.onProgress,
      })).size;
    } finally {
      progress.done();
    }
  });
  output.err(`copied room://${source} → ${local} (${size} bytes)`);
  return size;
}
