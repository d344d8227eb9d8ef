// Private: the work behind the tools of a StorageToolkit — listing, reading, searching and writing
// files in room storage or mounted local folders, and saving files fetched from URLs (with the
// private-network guard, redirects followed by hand and size limits).
import {
  ErrorCode,
  FileContent,
  type JsonObject,
  mimeTypeForName,
  type RoomClient,
  RoomError,
  TextContent,
} from "@meshagent/api";
import { callSignal, roomOf } from "./_tool_room.ts";
import { refusalOf, type Resolve, runtimeResolver } from "./_url_guard.ts";
import { MountTable, normalizePath, type Resolved } from "./_mount_table.ts";
import type { StorageToolkitOptions } from "./storage_toolkit_options.ts";
import type { ToolContext } from "./tool_context.ts";
import { ToolError } from "./tool_error.ts";

const MiB = 1024 * 1024;
const DEFAULT_MAX_READ = 4 * MiB;
const DEFAULT_MAX_GREP = 16 * MiB;
const DEFAULT_MAX_DOWNLOAD = 64 * MiB;
const DEFAULT_TIMEOUT = 60_000;
/** `save_file_from_url` follows at most this many redirects. */
const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** `grep_file` returns at most this many matches by default, and never more than the cap. */
export const DEFAULT_MATCHES = 50;
export const MAX_MATCHES = 1000;
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

export interface PathArgs {
  path: string;
}
export interface GrepArgs {
  path: string;
  pattern: string;
  ignore_case: boolean | null;
  max_matches: number | null;
}
export interface WriteArgs {
  path: string;
  text: string;
  overwrite: boolean | null;
}
export interface SaveUrlArgs {
  url: string;
  path: string;
  overwrite: boolean | null;
}

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
export class StorageOps {
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
