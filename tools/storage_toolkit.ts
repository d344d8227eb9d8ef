import {
  ErrorCode,
  FileContent,
  type JsonObject,
  mimeTypeForName,
  type RoomClient,
  RoomError,
  storageNameViolation,
  TextContent,
} from "@meshagent/api";
import { callSignal, roomOf, strictObject } from "./_tool_room.ts";
import { localDiskAvailable, LocalFolder } from "./_local_mount.ts";
import { refusalOf, type Resolve, runtimeResolver } from "./_url_guard.ts";
import { FunctionTool, type Tool } from "./tool.ts";
import type { ToolContext } from "./tool_context.ts";
import { ToolError } from "./tool_error.ts";
import { Toolkit } from "./toolkit.ts";

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

/** Options of a {@linkcode StorageToolkit}. */
export interface StorageToolkitOptions {
  /**
   * The toolkit name (default `"storage"`). The room's own storage toolkit owns that name, so
   * pick another one (e.g. `"agent_storage"`) to host this toolkit in a room.
   */
  name?: string;
  /** Leave out `write_file` and `save_file_from_url` (default false). */
  readOnly?: boolean;
  /**
   * Room folders and host folders to expose under other paths; without mounts the whole room is
   * reachable. {@linkcode parseStorageMount} reads the `<src>:<mount>[:ro|rw]` string form.
   */
  mounts?: readonly StorageMount[];
  /** The room to use when a call's context has none (default: the context's room only). */
  room?: RoomClient | null;
  /** Whether the toolkit is public once hosted (default false). */
  public?: boolean;
  /** The largest file `read_file` returns, in bytes (default 4 MiB). */
  maxReadBytes?: number;
  /** The largest file `grep_file` searches, in bytes (default 16 MiB). */
  maxGrepBytes?: number;
  /** The largest download `save_file_from_url` stores, in bytes (default 64 MiB). */
  maxDownloadBytes?: number;
  /** How long `save_file_from_url` may take to fetch and store, in ms (default 60000). */
  fetchTimeout?: number;
  /** How long one storage operation may take, in ms (default 60000). */
  requestTimeout?: number;
  /**
   * Which non-public hosts `save_file_from_url` may fetch (default `false`: none).
   *
   * By default the tool fetches only URLs on the public internet: it refuses a URL whose host
   * is, or resolves (DNS A and AAAA) to, a loopback (`127.0.0.0/8`, `::1`, `localhost`),
   * private (`10/8`, `172.16/12`, `192.168/16`, `fc00::/7`), link-local (`169.254/16` with the
   * cloud metadata address `169.254.169.254`, `fe80::/10`), carrier-grade NAT (`100.64/10`),
   * unspecified (`0.0.0.0`, `::`), multicast or other reserved address, in any form `new URL`
   * accepts (`http://0x7f.1/`, `http://2130706433/`, `http://[::ffff:127.0.0.1]/`), and a name
   * that does not resolve. Every redirect (at most 5, followed by hand) is checked the same
   * way. A refused URL fails the call with code 1001 and a message naming the host and why;
   * nothing is fetched or stored.
   *
   * - `true` turns the check off (local development and tests; never for a model fed
   *   untrusted input on a server).
   * - A function is asked about each URL the check refuses (the one given and each redirect
   *   target); it returns `true` to fetch it anyway, e.g. to allow one local service.
   *
   * Where there is no `Deno.resolveDns` (browsers) only IP literals and `localhost` names are
   * checked. A host name is resolved for the check and again by `fetch`, so a DNS server that
   * changes its answer in between (DNS rebinding) is not caught; put the process behind an
   * egress firewall or proxy where that matters.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { StorageToolkit, ToolContext, ToolError } from "@meshagent/tools";
   *
   * // Allow one local development server, refuse every other non-public host.
   * const storage = new StorageToolkit({
   *   name: "agent_storage",
   *   allowPrivateNetworks: (url) => url.host === "127.0.0.1:8080",
   * });
   * // A refused URL fails before anything is fetched (or a room is needed).
   * const ctx = new ToolContext({ caller: { id: "p1", attributes: {} }, room: null });
   * await assert.rejects(
   *   storage.execute(ctx, "save_file_from_url", {
   *     url: "http://169.254.169.254/latest/meta-data/",
   *     path: "meta.txt",
   *     overwrite: null,
   *   }),
   *   (e: unknown) =>
   *     e instanceof ToolError && e.code === 1001 &&
   *     e.message.includes("169.254.169.254 is the cloud metadata address"),
   * );
   * ```
   */
  allowPrivateNetworks?: boolean | ((url: URL) => boolean | Promise<boolean>);
}

const MiB = 1024 * 1024;
const DEFAULT_MAX_READ = 4 * MiB;
const DEFAULT_MAX_GREP = 16 * MiB;
const DEFAULT_MAX_DOWNLOAD = 64 * MiB;
const DEFAULT_TIMEOUT = 60_000;
/** `save_file_from_url` follows at most this many redirects. */
const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** `grep_file` returns at most this many matches by default, and never more than the cap. */
const DEFAULT_MATCHES = 50;
const MAX_MATCHES = 1000;
/** A matching line is cut to this many characters. */
const MAX_LINE_CHARS = 500;
const MAX_PATTERN_CHARS = 1000;

const TEXT_TYPES = new Set([
  "application/json",
  "application/xml",
  "application/yaml",
  "application/x-yaml",
  "application/javascript",
  "application/typescript",
  "application/x-sh",
  "application/toml",
  "application/sql",
  "application/x-ndjson",
  "image/svg+xml",
]);

function isTextMime(mimeType: string): boolean {
  const base = mimeType.split(";")[0].trim().toLowerCase();
  return base.startsWith("text/") || TEXT_TYPES.has(base) || base.endsWith("+json") ||
    base.endsWith("+xml");
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The text of bytes that look like UTF-8 text (no NUL bytes), or undefined. */
function sniffText(data: Uint8Array): string | undefined {
  if (data.includes(0)) return undefined;
  try {
    return strictUtf8.decode(data);
  } catch {
    return undefined;
  }
}

function positiveInt(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new ToolError(
      `${what} must be a positive integer, got ${value}`,
      ErrorCode.INVALID_REQUEST,
    );
  }
  return value;
}

/**
 * Normalises a tool path: accepts `room:///a/b`, `/a/b`, `./a/b` and `a//b/`, gives `a/b`.
 *
 * @throws {ToolError} 3004 for `..` segments, NUL bytes and the characters of the storage name
 *   policy (`storageNameViolation`: control and bidirectional formatting characters), the same
 *   rule as the server's, so local mounts hold no names the room would refuse.
 */
function normalizePath(path: string): string {
  if (path.includes("\0")) {
    throw new ToolError(
      `the path ${JSON.stringify(path)} contains a NUL byte`,
      ErrorCode.STORAGE_INVALID_PATH,
    );
  }
  let p = path.trim(); // (a model's stray newline around a path is forgiven; inside, never)
  const violation = storageNameViolation(p);
  if (violation) throw new ToolError(violation.message, ErrorCode.STORAGE_INVALID_PATH);
  if (p.startsWith("room://")) p = p.slice("room://".length);
  const segments = p.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) {
    throw new ToolError(
      `the path ${JSON.stringify(path)} contains "..": give a path from the top of the room`,
      ErrorCode.STORAGE_INVALID_PATH,
    );
  }
  return segments.join("/");
}

function under(path: string, folder: string): string | undefined {
  if (folder === "") return path;
  if (path === folder) return "";
  if (path.startsWith(folder + "/")) return path.slice(folder.length + 1);
  return undefined;
}

function join(a: string, b: string): string {
  return a === "" ? b : b === "" ? a : `${a}/${b}`;
}

/** Where a tool path lands: in room storage, or in a local folder. */
type Resolved =
  | { kind: "room"; roomPath: string; readOnly: boolean }
  | { kind: "local"; folder: LocalFolder; segments: string[]; readOnly: boolean };

type Mount =
  & { mountPath: string; readOnly: boolean }
  & ({ kind: "room"; roomPath: string } | { kind: "local"; folder: LocalFolder });

/** Maps tool paths to room paths or local folders through the mounts (the room without mounts). */
class MountTable {
  readonly #mounts: Mount[] | null;

  constructor(mounts: readonly StorageMount[] | undefined) {
    if (!mounts || mounts.length === 0) {
      this.#mounts = null;
      return;
    }
    this.#mounts = mounts.map((m): Mount => {
      const mountPath = normalizePath(m.mountPath);
      const readOnly = m.readOnly ?? false;
      if (typeof m.localPath === "string") {
        if (!localDiskAvailable()) {
          throw new ToolError(
            `storage mount ${JSON.stringify(mountPath)} is a local folder, and this runtime ` +
              "has no Deno file system APIs (a browser?): mount room folders only",
            ErrorCode.DEPENDENCY_MISSING,
          );
        }
        return {
          kind: "local",
          folder: new LocalFolder(m.localPath, mountPath),
          mountPath,
          readOnly,
        };
      }
      if (typeof m.roomPath !== "string") {
        throw new ToolError(
          `storage mount ${JSON.stringify(mountPath)} needs a roomPath or a localPath`,
          ErrorCode.INVALID_REQUEST,
        );
      }
      return { kind: "room", roomPath: normalizePath(m.roomPath), mountPath, readOnly };
    });
    const seen = new Set<string>();
    for (const m of this.#mounts) {
      if (seen.has(m.mountPath)) {
        throw new ToolError(
          `two storage mounts use the mount path ${JSON.stringify(m.mountPath)}`,
          ErrorCode.INVALID_REQUEST,
        );
      }
      seen.add(m.mountPath);
    }
    // The most specific mount wins.
    this.#mounts.sort((a, b) => b.mountPath.length - a.mountPath.length);
  }

  /** The resolution of a normalised tool path, or undefined when no mount covers it. */
  resolve(path: string): Resolved | undefined {
    if (this.#mounts === null) return { kind: "room", roomPath: path, readOnly: false };
    for (const m of this.#mounts) {
      const rest = under(path, m.mountPath);
      if (rest === undefined) continue;
      if (m.kind === "room") {
        return { kind: "room", roomPath: join(m.roomPath, rest), readOnly: m.readOnly };
      }
      return {
        kind: "local",
        folder: m.folder,
        segments: rest === "" ? [] : rest.split("/"),
        readOnly: m.readOnly,
      };
    }
    return undefined;
  }

  /** The next path segments of mount points below a folder that no mount covers. */
  virtualChildren(path: string): string[] {
    const out = new Set<string>();
    for (const m of this.#mounts ?? []) {
      const rest = under(m.mountPath, path);
      if (rest !== undefined && rest !== "") out.add(rest.split("/")[0]);
    }
    return [...out].sort();
  }

  describe(): string {
    return (this.#mounts ?? []).map((m) => JSON.stringify(m.mountPath)).join(", ");
  }
}

interface PathArgs {
  path: string;
}
interface GrepArgs {
  path: string;
  pattern: string;
  ignore_case: boolean | null;
  max_matches: number | null;
}
interface WriteArgs {
  path: string;
  text: string;
  overwrite: boolean | null;
}
interface SaveUrlArgs {
  url: string;
  path: string;
  overwrite: boolean | null;
}

const PATH_PROPERTY: JsonObject = {
  type: "string",
  description: 'A path in room storage, e.g. "docs/notes.txt" ("" is the top level)',
};

/** Limits of one toolkit, resolved. */
interface Limits {
  maxRead: number;
  maxGrep: number;
  maxDownload: number;
  fetchTimeout: number;
  requestTimeout: number;
}

/** Reads the body of a response into an upload source, failing past `max` bytes. */
function limitedBody(body: ReadableStream<Uint8Array>, max: number, url: string) {
  let total = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        total += chunk.length;
        if (total > max) {
          controller.error(
            new ToolError(
              `the download from ${url} is larger than the ${max}-byte limit of save_file_from_url`,
              ErrorCode.INVALID_REQUEST,
            ),
          );
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
}

/** The work behind the tools of one {@linkcode StorageToolkit}. */
class StorageOps {
  readonly limits: Limits;
  readonly #name: string;
  readonly #room: RoomClient | null;
  readonly #mounts: MountTable;
  readonly #allowPrivate: NonNullable<StorageToolkitOptions["allowPrivateNetworks"]>;
  readonly #resolveDns: Resolve | undefined;

  constructor(name: string, options: StorageToolkitOptions) {
    this.#name = name;
    this.#allowPrivate = options.allowPrivateNetworks ?? false;
    this.#resolveDns = runtimeResolver();
    this.#room = options.room ?? null;
    this.#mounts = new MountTable(options.mounts);
    this.limits = {
      maxRead: positiveInt(options.maxReadBytes, DEFAULT_MAX_READ, "maxReadBytes"),
      maxGrep: positiveInt(options.maxGrepBytes, DEFAULT_MAX_GREP, "maxGrepBytes"),
      maxDownload: positiveInt(options.maxDownloadBytes, DEFAULT_MAX_DOWNLOAD, "maxDownloadBytes"),
      fetchTimeout: positiveInt(options.fetchTimeout, DEFAULT_TIMEOUT, "fetchTimeout"),
      requestTimeout: positiveInt(options.requestTimeout, DEFAULT_TIMEOUT, "requestTimeout"),
    };
  }

  room(ctx: ToolContext): RoomClient {
    return roomOf(ctx, this.#room, this.#name);
  }

  #options(ctx: ToolContext): { timeout: number; signal: AbortSignal } {
    return { timeout: this.limits.requestTimeout, signal: ctx.signal };
  }

  #resolve(path: string, write: boolean): Resolved & { path: string } {
    const normalized = normalizePath(path);
    const resolved = this.#mounts.resolve(normalized);
    if (!resolved) {
      throw new ToolError(
        `${JSON.stringify(path)} is outside the mounted folders (${this.#mounts.describe()})`,
        ErrorCode.PERMISSION_DENIED,
      );
    }
    if (write && resolved.readOnly) {
      throw new ToolError(
        `${JSON.stringify(path)} is in a read-only mount; write somewhere else`,
        ErrorCode.PERMISSION_DENIED,
      );
    }
    if (write && normalized === "") {
      throw new ToolError("give a file path to write to", ErrorCode.STORAGE_INVALID_PATH);
    }
    return { ...resolved, path: normalized };
  }

  async #stat(ctx: ToolContext, path: string, target: Resolved): Promise<{ size: number | null }> {
    const entry = target.kind === "room"
      ? await this.room(ctx).storage.stat(target.roomPath, this.#options(ctx))
      : await target.folder.stat(target.segments, path);
    if (!entry) {
      throw new ToolError(
        `there is no file at ${JSON.stringify(path)}; list_files_in_room shows what exists`,
        ErrorCode.STORAGE_NOT_FOUND,
      );
    }
    if (entry.isFolder) {
      throw new ToolError(
        `${JSON.stringify(path)} is a folder; list_files_in_room lists it`,
        ErrorCode.INVALID_REQUEST,
      );
    }
    return entry;
  }

  async list(ctx: ToolContext, args: PathArgs): Promise<JsonObject> {
    const normalized = normalizePath(args.path);
    const resolved = this.#mounts.resolve(normalized);
    if (!resolved) {
      const folders = this.#mounts.virtualChildren(normalized);
      if (folders.length === 0) this.#resolve(args.path, false); // throws "outside the mounts"
      return {
        path: normalized,
        files: folders.map((name) => ({ name, is_folder: true, size: null })),
      };
    }
    let entries: { name: string; isFolder: boolean; size: number | null }[];
    try {
      if (resolved.kind === "local") {
        const local = await resolved.folder.list(resolved.segments, normalized);
        if (!local) throw new RoomError("no folder", ErrorCode.STORAGE_NOT_FOUND);
        entries = local;
      } else {
        entries = await this.room(ctx).storage.list(resolved.roomPath, this.#options(ctx));
      }
    } catch (e) {
      // (A ToolError is the local mount's own, e.g. its folder is missing.)
      if (
        e instanceof RoomError && !(e instanceof ToolError) &&
        e.code === ErrorCode.STORAGE_NOT_FOUND
      ) {
        throw new ToolError(
          `there is no folder at ${JSON.stringify(args.path)}`,
          ErrorCode.STORAGE_NOT_FOUND,
        );
      }
      throw e;
    }
    return {
      path: normalized,
      files: entries.map((e) => ({ name: e.name, is_folder: e.isFolder, size: e.size })),
    };
  }

  /** Downloads (room) or reads (local) a file, refusing one larger than `max` bytes. */
  async #load(
    ctx: ToolContext,
    target: Resolved,
    path: string,
    max: number,
    tool: string,
    hint: string,
  ): Promise<{ data: Uint8Array; name: string; mimeType: string }> {
    const entry = await this.#stat(ctx, path, target);
    const tooBig = (size: string) =>
      new ToolError(
        `${JSON.stringify(path)} is ${size} the ${max}-byte limit of ${tool}${hint}`,
        ErrorCode.INVALID_REQUEST,
      );
    if (entry.size !== null && entry.size > max) throw tooBig(`${entry.size} bytes, more than`);
    const name = path.split("/").at(-1)!;
    if (target.kind === "local") {
      const data = await target.folder.read(target.segments, path, max);
      if (data === undefined) throw tooBig("larger than");
      return { data, name, mimeType: mimeTypeForName(name) };
    }
    const file = await this.room(ctx).storage.download(target.roomPath, this.#options(ctx));
    if (file.data.length > max) {
      throw new ToolError(
        `${JSON.stringify(path)} is larger than the ${max}-byte limit of ${tool}`,
        ErrorCode.INVALID_REQUEST,
      );
    }
    return { data: file.data, name: file.name || name, mimeType: file.mimeType };
  }

  async read(ctx: ToolContext, args: PathArgs): Promise<TextContent | FileContent> {
    const { path, ...target } = this.#resolve(args.path, false);
    const file = await this.#load(
      ctx,
      target,
      path,
      this.limits.maxRead,
      "read_file",
      target.kind === "room"
        ? "; search it with grep_file, or get a link with get_file_download_url"
        : "; search it with grep_file",
    );
    const mimeType = file.mimeType || "application/octet-stream";
    if (isTextMime(mimeType) || mimeType === "application/octet-stream") {
      const text = sniffText(file.data);
      if (text !== undefined) return new TextContent(text);
    }
    return new FileContent(file.data, file.name, mimeType);
  }

  async grep(ctx: ToolContext, args: GrepArgs): Promise<JsonObject> {
    if (args.pattern.length > MAX_PATTERN_CHARS) {
      throw new ToolError(
        `the pattern is longer than ${MAX_PATTERN_CHARS} characters`,
        ErrorCode.INVALID_REQUEST,
      );
    }
    let regex: RegExp;
    try {
      regex = new RegExp(args.pattern, args.ignore_case ? "i" : "");
    } catch (e) {
      throw new ToolError(
        `the pattern is not a valid regular expression: ${(e as Error).message}`,
        ErrorCode.INVALID_REQUEST,
      );
    }
    const limit = args.max_matches ?? DEFAULT_MATCHES;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_MATCHES) {
      throw new ToolError(
        `max_matches must be between 1 and ${MAX_MATCHES}, got ${limit}`,
        ErrorCode.INVALID_REQUEST,
      );
    }
    const { path, ...target } = this.#resolve(args.path, false);
    const file = await this.#load(ctx, target, path, this.limits.maxGrep, "grep_file", "");
    const text = sniffText(file.data);
    if (text === undefined) {
      throw new ToolError(
        `${JSON.stringify(path)} is not a text file (${file.mimeType}); grep_file searches ` +
          "UTF-8 text only",
        ErrorCode.INVALID_REQUEST,
      );
    }
    const matches: JsonObject[] = [];
    let count = 0;
    const lines = text.split(/\r?\n/);
    if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    for (let i = 0; i < lines.length; i++) {
      if (!regex.test(lines[i])) continue;
      count++;
      if (matches.length < limit) {
        const line = lines[i];
        matches.push({
          line: i + 1,
          text: line.length > MAX_LINE_CHARS ? line.slice(0, MAX_LINE_CHARS) + "…" : line,
        });
      }
    }
    return { path, pattern: args.pattern, matches, match_count: count, truncated: count > limit };
  }

  async write(ctx: ToolContext, args: WriteArgs): Promise<JsonObject> {
    const { path, ...target } = this.#resolve(args.path, true);
    const data = new TextEncoder().encode(args.text);
    if (target.kind === "local") {
      const size = await target.folder.write(target.segments, path, data, args.overwrite ?? false);
      return { path, size };
    }
    try {
      await this.room(ctx).storage.upload(target.roomPath, data, {
        overwrite: args.overwrite ?? false,
        ...this.#options(ctx),
      });
    } catch (e) {
      throw existsHint(e, path);
    }
    return { path, size: data.length };
  }

  async saveFromUrl(ctx: ToolContext, args: SaveUrlArgs): Promise<JsonObject> {
    let url: URL;
    try {
      url = new URL(args.url);
    } catch {
      throw new ToolError(`${JSON.stringify(args.url)} is not a URL`, ErrorCode.INVALID_REQUEST);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new ToolError(
        `save_file_from_url fetches http and https URLs only, not ${url.protocol}`,
        ErrorCode.INVALID_REQUEST,
      );
    }
    const { path, ...target } = this.#resolve(args.path, true);
    const max = this.limits.maxDownload;
    const timeout = this.limits.fetchTimeout;
    const signal = callSignal(ctx, timeout);
    // Refused URLs fail before storage is touched.
    await this.#checkUrl(ctx, signal, url, undefined, timeout);
    const room = target.kind === "room" ? this.room(ctx) : null;
    const overwrite = args.overwrite ?? false;
    const exists = target.kind === "room"
      ? await room!.storage.exists(target.roomPath, this.#options(ctx))
      : (await target.folder.stat(target.segments, path)) !== null;
    if (!overwrite && exists) {
      throw existsHint(
        new RoomError("the file exists", ErrorCode.STORAGE_ALREADY_EXISTS),
        path,
      );
    }
    let current = url;
    let response: Response;
    // Redirects are followed by hand so that every hop passes the address check before it is
    // fetched. Residual race (DNS rebinding): #checkUrl resolves a host name and fetch resolves
    // it again when it connects, so a DNS server that answers with a public address for the
    // check and a private one for the connection gets through; fetch cannot be pinned to the
    // checked address. An egress firewall or proxy is the defence where that matters.
    for (let hop = 0;; hop++) {
      try {
        response = await fetch(current, { signal, redirect: "manual" });
      } catch (e) {
        throw fetchError(e, current.href, timeout, ctx);
      }
      const location = response.headers.get("location");
      if (!REDIRECT_STATUSES.has(response.status) || location === null) break;
      await response.body?.cancel().catch(() => {});
      if (hop >= MAX_REDIRECTS) {
        throw new ToolError(
          `fetching ${url.href} was redirected more than ${MAX_REDIRECTS} times; ` +
            "save_file_from_url gives up there",
          ErrorCode.OPERATION_FAILED,
        );
      }
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw new ToolError(
          `${current.href} redirected to ${JSON.stringify(location)}, which is not a URL`,
          ErrorCode.OPERATION_FAILED,
        );
      }
      if (next.protocol !== "http:" && next.protocol !== "https:") {
        throw new ToolError(
          `${current.href} redirected to a ${next.protocol} URL; save_file_from_url fetches ` +
            "http and https URLs only",
          ErrorCode.INVALID_REQUEST,
        );
      }
      await this.#checkUrl(ctx, signal, next, current, timeout);
      current = next;
    }
    const where = current.href;
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw new ToolError(
        `fetching ${where} failed: the server answered ${response.status} ${response.statusText}`,
        ErrorCode.OPERATION_FAILED,
      );
    }
    const length = Number(response.headers.get("content-length") ?? NaN);
    if (Number.isFinite(length) && length > max) {
      await response.body?.cancel().catch(() => {});
      throw new ToolError(
        `the download from ${where} is ${length} bytes, more than the ${max}-byte limit of ` +
          "save_file_from_url",
        ErrorCode.INVALID_REQUEST,
      );
    }
    const mimeType = (response.headers.get("content-type") ?? "").split(";")[0].trim();
    let size = 0;
    const body = limitedBody(
      response.body ?? new ReadableStream({ start: (c) => c.close() }),
      max,
      where,
    )
      .pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            size += chunk.length;
            controller.enqueue(chunk);
          },
        }),
      );
    try {
      if (target.kind === "local") {
        await target.folder.write(target.segments, path, body, overwrite);
        return { path, size, mime_type: mimeType || "application/octet-stream" };
      }
      await room!.storage.upload(target.roomPath, body, {
        overwrite,
        signal,
        timeout: this.limits.requestTimeout,
        ...(mimeType ? { mimeType } : {}),
      });
    } catch (e) {
      await body.cancel().catch(() => {});
      if (e instanceof ToolError) throw e;
      if (e instanceof RoomError) throw existsHint(e, path);
      throw fetchError(e, where, timeout, ctx);
    }
    const stored = mimeType || "application/octet-stream";
    return { path, size, mime_type: stored };
  }

  /**
   * Refuses a URL on a non-public host unless `allowPrivateNetworks` allows it.
   *
   * @throws {ToolError} 1001 naming the host and why.
   */
  async #checkUrl(
    ctx: ToolContext,
    signal: AbortSignal,
    url: URL,
    redirectedFrom: URL | undefined,
    timeout: number,
  ): Promise<void> {
    if (this.#allowPrivate === true) return;
    let refusal: string | undefined;
    try {
      refusal = await refusalOf(url, this.#resolveDns, signal);
    } catch (e) {
      throw fetchError(e, url.href, timeout, ctx);
    }
    if (refusal === undefined) return;
    if (typeof this.#allowPrivate === "function" && await this.#allowPrivate(new URL(url.href))) {
      return;
    }
    const what = redirectedFrom ? `${url.href} (a redirect from ${redirectedFrom.href})` : url.href;
    throw new ToolError(
      `save_file_from_url will not fetch ${what}: ${refusal}. It fetches public internet ` +
        "addresses only; a developer can allow others with the StorageToolkit option " +
        "allowPrivateNetworks",
      ErrorCode.PERMISSION_DENIED,
    );
  }

  async downloadUrl(ctx: ToolContext, args: PathArgs): Promise<JsonObject> {
    const { path, ...target } = this.#resolve(args.path, false);
    if (target.kind === "local") {
      throw new ToolError(
        `${JSON.stringify(path)} is in a local-disk mount, which has no download URLs; ` +
          "read_file reads it",
        ErrorCode.INVALID_REQUEST,
      );
    }
    await this.#stat(ctx, path, target);
    const url = await this.room(ctx).storage.downloadUrl(target.roomPath, this.#options(ctx));
    return { url };
  }
}

function makeTools(ops: StorageOps, readOnly: boolean): Tool[] {
  const tools: Tool[] = [
    new FunctionTool<PathArgs>({
      name: "list_files_in_room",
      title: "list files",
      description: "Lists the files and folders in a folder of room storage",
      strict: true,
      inputSchema: strictObject({ path: PATH_PROPERTY }),
      run: (ctx, args) => ops.list(ctx, args),
    }),
    new FunctionTool<PathArgs>({
      name: "read_file",
      title: "read file",
      description: "Reads a file from room storage: text files come back as text, others " +
        `as a file (at most ${ops.limits.maxRead} bytes)`,
      strict: true,
      inputSchema: strictObject({ path: PATH_PROPERTY }),
      outputSpec: { types: ["text", "file"] },
      run: (ctx, args) => ops.read(ctx, args),
    }),
    new FunctionTool<GrepArgs>({
      name: "grep_file",
      title: "search file",
      description: "Searches a text file in room storage for a regular expression and " +
        "returns the matching lines with their line numbers",
      strict: true,
      inputSchema: strictObject({
        path: PATH_PROPERTY,
        pattern: { type: "string", description: "A JavaScript regular expression" },
        ignore_case: {
          type: ["boolean", "null"],
          description: "Match regardless of case (default false)",
        },
        max_matches: {
          type: ["integer", "null"],
          description: `The most matching lines to return (default ${DEFAULT_MATCHES}, ` +
            `at most ${MAX_MATCHES})`,
        },
      }),
      run: (ctx, args) => ops.grep(ctx, args),
    }),
  ];
  if (!readOnly) {
    tools.push(
      new FunctionTool<WriteArgs>({
        name: "write_file",
        title: "write file",
        description: "Writes a text file to room storage",
        strict: true,
        inputSchema: strictObject({
          path: PATH_PROPERTY,
          text: { type: "string", description: "The file's content" },
          overwrite: {
            type: ["boolean", "null"],
            description: "Replace an existing file (default false)",
          },
        }),
        run: (ctx, args) => ops.write(ctx, args),
      }),
      new FunctionTool<SaveUrlArgs>({
        name: "save_file_from_url",
        title: "save file from URL",
        description: "Downloads a public http or https URL and saves it as a file in room " +
          `storage (at most ${ops.limits.maxDownload} bytes)`,
        strict: true,
        inputSchema: strictObject({
          url: { type: "string", description: "An http or https URL" },
          path: PATH_PROPERTY,
          overwrite: {
            type: ["boolean", "null"],
            description: "Replace an existing file (default false)",
          },
        }),
        run: (ctx, args) => ops.saveFromUrl(ctx, args),
      }),
    );
  }
  tools.push(
    new FunctionTool<PathArgs>({
      name: "get_file_download_url",
      title: "get download URL",
      description: "Gets a short-lived HTTP URL from which a file in room storage can be " +
        "downloaded",
      strict: true,
      inputSchema: strictObject({ path: PATH_PROPERTY }),
      run: (ctx, args) => ops.downloadUrl(ctx, args),
    }),
  );
  return tools;
}

/**
 * The storage tools an agent uses on room storage (agents.md §3, toolkit `storage`):
 *
 * - `list_files_in_room {path}` → `{path, files: [{name, is_folder, size}]}`
 * - `read_file {path}` → the text of a text file, or the file (a `file` content); larger files
 *   than `maxReadBytes` are refused with a hint to use `grep_file`
 * - `grep_file {path, pattern, ignore_case, max_matches}` → `{path, pattern, matches: [{line,
 *   text}], match_count, truncated}` (a JavaScript regular expression, line by line)
 * - `write_file {path, text, overwrite}` → `{path, size}` (not in read-only mode)
 * - `save_file_from_url {url, path, overwrite}` → `{path, size, mime_type}`: fetches an http(s)
 *   URL with a timeout and a size limit and stores it (not in read-only mode); hosts that are
 *   not on the public internet (loopback, private, link-local and cloud metadata, reserved)
 *   are refused, also after a redirect, unless
 *   {@linkcode StorageToolkitOptions.allowPrivateNetworks} allows them
 * - `get_file_download_url {path}` → `{url}`: a short-lived HTTP URL of the file
 *
 * Every tool has a strict input schema (all properties required, optional ones nullable, no
 * others). Calls use the room of the {@linkcode ToolContext} (the hosting connection), and act
 * with that participant's grants. With {@linkcode StorageToolkitOptions.mounts}, tool paths map
 * to room folders ({@linkcode RoomStorageMount}) or folders of the host's disk
 * ({@linkcode LocalStorageMount}, Deno only; these need no room) and only mounted folders are
 * reachable; a read-only mount refuses writes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StorageToolkit } from "@meshagent/tools";
 *
 * const storage = new StorageToolkit({ readOnly: true });
 * assert(storage.name === "storage");
 * assert(
 *   storage.tools.map((t) => t.name).join() ===
 *     "list_files_in_room,read_file,grep_file,get_file_download_url",
 * );
 * // Hosted in a room it needs another name (the room's own toolkit is "storage"):
 * const hostable = new StorageToolkit({ name: "agent_storage" });
 * assert(hostable.tools.some((t) => t.name === "write_file"));
 * ```
 */
export class StorageToolkit extends Toolkit {
  /** Whether the write tools were left out. */
  readonly readOnly: boolean;

  /**
   * Creates the toolkit.
   *
   * @param options Name, read-only mode, mounts, room, limits and which non-public hosts
   *   `save_file_from_url` may fetch.
   * @throws {ToolError} 1002 for a non-positive limit or two mounts on one path; 3004 for a
   *   mount path with `..`; 1007 for a local mount where there is no Deno (a browser).
   */
  constructor(options: StorageToolkitOptions = {}) {
    const readOnly = options.readOnly ?? false;
    const name = options.name ?? "storage";
    super({
      name,
      title: "storage",
      description: "List, read and search files in room storage" +
        (readOnly ? "" : ", write files and save files from URLs"),
      public: options.public ?? false,
      tools: makeTools(new StorageOps(name, options), readOnly),
    });
    this.readOnly = readOnly;
  }
}

function existsHint(e: unknown, path: string): unknown {
  if (e instanceof RoomError && e.code === ErrorCode.STORAGE_ALREADY_EXISTS) {
    return new ToolError(
      `${JSON.stringify(path)} already exists; pass overwrite: true to replace it`,
      ErrorCode.STORAGE_ALREADY_EXISTS,
    );
  }
  return e;
}

function fetchError(e: unknown, url: string, timeout: number, ctx: ToolContext): ToolError {
  if (ctx.signal.aborted) return ToolError.from(ctx.signal.reason ?? e);
  if (e instanceof DOMException && (e.name === "TimeoutError" || e.name === "AbortError")) {
    return new ToolError(
      `fetching ${url} took longer than ${timeout} ms; try again or use a smaller file`,
      ErrorCode.TIMEOUT,
    );
  }
  return new ToolError(
    `fetching ${url} failed: ${e instanceof Error ? e.message : String(e)}`,
    ErrorCode.OPERATION_FAILED,
  );
}
