import {
  type ApiScope,
  BinaryContent,
  type Content,
  ControlContent,
  EmptyContent,
  ErrorCode,
  ErrorContent,
  JsonContent,
  type JsonObject,
  packMessage,
  RoomError,
  type StorageGrant,
} from "@meshagent/api";
import type { FileInfo, FileStore, FileWriter } from "./file_store.ts";
import type { ToolkitRoom } from "./toolkit_room.ts";
import type { RoomToolkit, ToolContext } from "./room_toolkit.ts";
import { normalizeStoragePath } from "./storage_path.ts";

/** The pull `chunk_size` the server asks uploaders for by default: 1 MiB. */
export const DEFAULT_UPLOAD_CHUNK_SIZE = 1024 * 1024;
/** How many upload pulls the server keeps outstanding by default. */
export const DEFAULT_UPLOAD_PULL_WINDOW = 4;
/** The largest download `chunk_size` the server honours by default: 4 MiB (larger asks get this). */
export const DEFAULT_MAX_DOWNLOAD_CHUNK_SIZE = 4 * 1024 * 1024;
/** The download `chunk_size` used when the client sends none (the official clients' default). */
const DEFAULT_DOWNLOAD_CHUNK_SIZE = 64 * 1024;

/** What {@linkcode StorageToolkitOptions.signDownloadUrl} is asked to sign. */
export interface DownloadUrlRequest {
  /** The room. */
  readonly room: ToolkitRoom;
  /** The normalised storage path of an existing file. */
  readonly path: string;
  /** True for `Content-Disposition: attachment`. */
  readonly download: boolean;
}

/** Options of {@linkcode storageToolkit}. */
export interface StorageToolkitOptions {
  /**
   * The `chunk_size` of the server's upload pulls (each data chunk the uploader sends holds at
   * most this many bytes). Default {@linkcode DEFAULT_UPLOAD_CHUNK_SIZE}; keep it well below the
   * server's largest incoming message.
   */
  readonly uploadChunkSize?: number;
  /**
   * How many upload pulls may be outstanding at once (the uploader sends one data chunk per
   * pull, so this many chunks are in flight while the server writes). Default
   * {@linkcode DEFAULT_UPLOAD_PULL_WINDOW}; 1 is strictly one chunk at a time.
   */
  readonly uploadPullWindow?: number;
  /**
   * The largest download data chunk; a client asking for more gets this many bytes per chunk.
   * Default {@linkcode DEFAULT_MAX_DOWNLOAD_CHUNK_SIZE}.
   */
  readonly maxDownloadChunkSize?: number;
  /**
   * Signs a download URL for `download_url`. Without it `download_url` fails with
   * {@linkcode ErrorCode.DEPENDENCY_MISSING} (1007). `RoomServer` passes one built on
   * `DownloadUrlSigner` and the room's public URL.
   */
  readonly signDownloadUrl?: (request: DownloadUrlRequest) => Promise<string>;
}

const EMPTY = new EmptyContent();

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function invalid(message: string): RoomError {
  return new RoomError(message, ErrorCode.INVALID_REQUEST);
}

function args(ctx: ToolContext): JsonObject {
  const input = ctx.input;
  if (input instanceof JsonContent && isObject(input.json)) return input.json;
  throw invalid(`storage.${ctx.tool} takes a json object input, got ${input.type}`);
}

function grantOf(scope: ApiScope): StorageGrant {
  // _connection refuses callers without a storage scope before a tool runs.
  return scope.storage!;
}

function denied(action: string, path: string): RoomError {
  return new RoomError(
    `permission denied: the storage grant does not allow ${action} '${path}'`,
    ErrorCode.PERMISSION_DENIED,
  );
}

function checkRead(scope: ApiScope, path: string): void {
  if (!grantOf(scope).canRead(path)) throw denied("reading", path);
}

function checkWrite(scope: ApiScope, path: string): void {
  if (!grantOf(scope).canWrite(path)) throw denied("writing", path);
}

/**
 * True when `path` is readable, or is a folder on the way to a granted path (so a participant
 * granted `docs/a/` can list the root and `docs` to find its files).
 */
function canSee(grant: StorageGrant, path: string): boolean {
  if (grant.canRead(path)) return true;
  if (grant.paths === null) return true;
  const prefix = path === "" ? "" : `${path}/`;
  return grant.paths.some((entry) => entry.path.startsWith(prefix));
}

function checkSee(scope: ApiScope, path: string): void {
  if (!canSee(grantOf(scope), path)) throw denied("reading", path);
}

function timestamp(date: Date | undefined): string | null {
  return date === undefined ? null : date.toISOString();
}

/** The wire `StorageEntry` (exact keys, protocol-data §1.2). */
function entryJson(info: FileInfo): JsonObject {
  return {
    name: info.name,
    is_folder: info.isFolder,
    size: info.isFolder ? null : info.size ?? null,
    created_at: timestamp(info.createdAt),
    updated_at: timestamp(info.updatedAt),
  };
}

function optionalBool(input: JsonObject, key: string, tool: string): boolean {
  const value = input[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") throw invalid(`storage.${tool}: ${key} must be a boolean`);
  return value;
}

function errorContent(e: unknown): ErrorContent {
  if (e instanceof RoomError) return new ErrorContent(e.message, e.code ?? 1008);
  console.error("storage: unexpected failure:", e);
  return new ErrorContent(
    `internal error: ${e instanceof Error ? e.message : String(e)}`,
    ErrorCode.OPERATION_FAILED,
  );
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${name} must be an integer >= 1`);
  return n;
}

/**
 * The built-in `storage` toolkit (protocol-data §1) over the room's {@linkcode FileStore}
 * (`room.files()`).
 *
 * Tools: `list`, `stat`, `exists`, `delete`, `move`, `download_url` (unary, json input) and
 * `upload`, `download` (streamed both ways, pull-driven):
 * - `upload`: the caller's first chunk is `binary {kind:"start", path, overwrite, name,
 *   mime_type, size}`; the server answers with `binary {kind:"pull", chunk_size}` chunks (up to
 *   `uploadPullWindow` outstanding), takes one `binary {kind:"data"}` chunk per pull, and commits
 *   the file atomically when the caller closes its input. Nothing is visible at the path before
 *   the commit; an error, a bad chunk or a disconnect aborts the writer.
 * - `download`: first chunk `binary {kind:"start", path, chunk_size}`; the server sends
 *   `binary {kind:"start", name, mime_type, size}`, then one `binary {kind:"data"}` chunk of
 *   `min(chunk_size, remaining)` bytes per `pull`, and closes right after the last byte.
 * Stream failures are an `error` chunk (with the wire code) followed by a normal `control` close.
 *
 * Authorization (`api.storage` grant, plain prefix matching of the normalised path):
 * `upload`, `delete` and `move` (source and destination) need write access; `download` and
 * `download_url` need read access; `list`, `stat` and `exists` need read access or a path that
 * is a folder on the way to a granted path, and `list` only shows entries the caller can see.
 *
 * Events (no payload, exact keys): `storage.file.updated` `{path, participant_id}` after an
 * upload, `storage.file.deleted` `{path, participant_id}` after a delete (one event for the
 * path given, also for a folder), `storage.file.moved`
 * `{source_path, destination_path, participant_id}` after a move. They go to every participant
 * of the room (the actor included) whose storage grant can read the path (for a move: either
 * path); participants without a storage grant get none.
 *
 * @param room The room.
 * @param options Chunk sizes, the pull window and the download URL signer.
 * @returns The toolkit instance of that room.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Room, storageToolkit } from "@meshagent/server";
 * const room = new Room({
 *   name: "demo",
 *   url: "ws://x/rooms/demo",
 *   dataDir: "/tmp/demo",
 *   toolkits: [(r) => storageToolkit(r, { uploadChunkSize: 256 * 1024 })],
 * });
 * assert(room.tool("storage", "upload") !== undefined);
 * await room.close();
 * ```
 */
export function storageToolkit(
  room: ToolkitRoom,
  options: StorageToolkitOptions = {},
): RoomToolkit {
  const uploadChunkSize = positiveInt(
    options.uploadChunkSize,
    DEFAULT_UPLOAD_CHUNK_SIZE,
    "uploadChunkSize",
  );
  const pullWindow = positiveInt(
    options.uploadPullWindow,
    DEFAULT_UPLOAD_PULL_WINDOW,
    "uploadPullWindow",
  );
  const maxDownloadChunk = positiveInt(
    options.maxDownloadChunkSize,
    DEFAULT_MAX_DOWNLOAD_CHUNK_SIZE,
    "maxDownloadChunkSize",
  );

  const broadcast = (type: string, header: JsonObject, ...paths: string[]) => {
    const data = packMessage(header);
    for (const p of room.participants()) {
      const grant = p.scope?.storage;
      if (!grant || !paths.some((path) => grant.canRead(path))) continue;
      p.sendEvent(type, data);
    }
  };

  return {
    name: "storage",
    surface: "storage",
    tools: {
      async exists(ctx) {
        const path = normalizeStoragePath(args(ctx).path);
        checkSee(ctx.scope, path);
        const store = await room.files();
        return new JsonContent({ exists: await store.exists(path) });
      },
      async stat(ctx) {
        const path = normalizeStoragePath(args(ctx).path);
        checkSee(ctx.scope, path);
        const store = await room.files();
        const info = await store.stat(path);
        if (info === undefined) return new JsonContent({ exists: false });
        return new JsonContent({ exists: true, ...entryJson(info) });
      },
      async list(ctx) {
        const input = args(ctx);
        const path = normalizeStoragePath(input.path ?? "");
        checkSee(ctx.scope, path);
        const grant = grantOf(ctx.scope);
        const store = await room.files();
        const entries = await store.list(path);
        const files = entries.filter((e) => canSee(grant, e.path)).map(entryJson);
        return new JsonContent({ files });
      },
      async delete(ctx) {
        const input = args(ctx);
        const path = normalizeStoragePath(input.path);
        if (path === "") {
          throw new RoomError("the room's root folder cannot be deleted", 3004);
        }
        const recursive = optionalBool(input, "recursive", "delete");
        checkWrite(ctx.scope, path);
        const store = await room.files();
        await store.delete(path, { recursive });
        room.filesRemoved([path]);
        broadcast("storage.file.deleted", { path, participant_id: ctx.participant.id }, path);
        return EMPTY;
      },
      async move(ctx) {
        const input = args(ctx);
        const from = normalizeStoragePath(input.source_path);
        const to = normalizeStoragePath(input.destination_path);
        if (from === "" || to === "") {
          throw new RoomError("the room's root folder cannot be moved or replaced", 3004);
        }
        const overwrite = optionalBool(input, "overwrite", "move");
        checkWrite(ctx.scope, from);
        checkWrite(ctx.scope, to);
        const store = await room.files();
        await store.move(from, to, { overwrite });
        room.filesRemoved([from]);
        broadcast(
          "storage.file.moved",
          { source_path: from, destination_path: to, participant_id: ctx.participant.id },
          from,
          to,
        );
        return EMPTY;
      },
      async download_url(ctx) {
        const input = args(ctx);
        const path = normalizeStoragePath(input.path);
        const download = optionalBool(input, "download", "download_url");
        checkRead(ctx.scope, path);
        if (!options.signDownloadUrl) {
          throw new RoomError(
            "download URLs are not configured on this server",
            ErrorCode.DEPENDENCY_MISSING,
          );
        }
        const store = await room.files();
        const info = await store.stat(path);
        if (info === undefined || info.isFolder) {
          throw new RoomError(`no file at '${path}'`, ErrorCode.STORAGE_NOT_FOUND);
        }
        return new JsonContent({ url: await options.signDownloadUrl({ room, path, download }) });
      },
      upload(ctx) {
        if (!(ctx.input instanceof ControlContent && ctx.input.method === "open")) {
          throw invalid("storage.upload takes a streamed input (control open)");
        }
        return upload(ctx);
      },
      download(ctx) {
        if (!(ctx.input instanceof ControlContent && ctx.input.method === "open")) {
          throw invalid("storage.download takes a streamed input (control open)");
        }
        return download(ctx);
      },
    },
  };

  async function* upload(ctx: ToolContext): AsyncGenerator<Content> {
    const input = ctx.inputStream[Symbol.asyncIterator]();
    let writer: FileWriter | undefined;
    let committed = false;
    try {
      const first = await input.next();
      if (first.done) return; // the caller went away or closed at once: nothing to do
      const start = first.value;
      if (!(start instanceof BinaryContent) || start.headers.kind !== "start") {
        throw invalid("storage.upload: the first chunk must be binary {kind: 'start', path, …}");
      }
      const h = start.headers;
      const path = normalizeStoragePath(h.path);
      if (path === "") throw new RoomError("cannot upload to the room's root folder", 3004);
      const overwrite = optionalBool(h, "overwrite", "upload");
      const size = h.size ?? undefined;
      if (size !== undefined && !(Number.isSafeInteger(size) && (size as number) >= 0)) {
        throw invalid("storage.upload: size must be a whole number >= 0 or null");
      }
      for (const key of ["name", "mime_type"]) {
        if (h[key] != null && typeof h[key] !== "string") {
          throw invalid(`storage.upload: ${key} must be a string`);
        }
      }
      checkWrite(ctx.scope, path);
      const store: FileStore = await room.files();
      writer = await store.openWrite(path, {
        overwrite,
        size: size as number | undefined,
        name: (h.name as string | null) || undefined,
        mimeType: (h.mime_type as string | null) || undefined,
      });
      const pull = new BinaryContent(new Uint8Array(0), {
        kind: "pull",
        chunk_size: uploadChunkSize,
      });
      let outstanding = 0;
      while (true) {
        while (outstanding < pullWindow) {
          outstanding++;
          yield pull;
        }
        const next = await input.next();
        if (next.done) break;
        outstanding--;
        const chunk = next.value;
        if (chunk instanceof ErrorContent) {
          // The uploader's own failure (its source broke, or it cancelled): drop the upload.
          throw new RoomError(
            `the upload of '${path}' was cancelled by the uploader: ${chunk.text}`,
            ErrorCode.OPERATION_FAILED,
          );
        }
        if (!(chunk instanceof BinaryContent) || chunk.headers.kind !== "data") {
          throw invalid(
            `storage.upload: expected a binary {kind: 'data'} chunk, got ${describe(chunk)}`,
          );
        }
        if (chunk.data.length > uploadChunkSize) {
          throw invalid(
            `storage.upload: a data chunk of ${chunk.data.length} bytes is larger than the ` +
              `pulled chunk_size ${uploadChunkSize}`,
          );
        }
        if (size !== undefined && writer.bytesWritten + chunk.data.length > (size as number)) {
          throw invalid(`storage.upload: more bytes than the announced size ${size}`);
        }
        await writer.write(chunk.data);
      }
      // The input ended: a close from the caller, or its disconnect (then nothing is committed).
      if (ctx.signal.aborted || ctx.participant.closed) return;
      const info = await writer.commit();
      committed = true;
      broadcast(
        "storage.file.updated",
        { path: info.path, participant_id: ctx.participant.id },
        info.path,
      );
    } catch (e) {
      yield errorContent(e);
    } finally {
      if (writer && !committed) await writer.abort().catch(() => {});
      // Drain what the caller still sends (up to its close) so its chunks are answered.
      if (!committed) void drain(input);
    }
  }

  async function* download(ctx: ToolContext): AsyncGenerator<Content> {
    const input = ctx.inputStream[Symbol.asyncIterator]();
    let reader: ReadableStreamBYOBReader | undefined;
    try {
      const first = await input.next();
      if (first.done) return;
      const start = first.value;
      if (!(start instanceof BinaryContent) || start.headers.kind !== "start") {
        throw invalid("storage.download: the first chunk must be binary {kind: 'start', path}");
      }
      const path = normalizeStoragePath(start.headers.path);
      const asked = start.headers.chunk_size ?? DEFAULT_DOWNLOAD_CHUNK_SIZE;
      if (!(Number.isSafeInteger(asked) && (asked as number) > 0)) {
        throw invalid("storage.download: chunk_size must be a whole number > 0");
      }
      const chunkSize = Math.min(asked as number, maxDownloadChunk);
      checkRead(ctx.scope, path);
      const store = await room.files();
      const file = await store.openRead(path, { chunkSize: Math.min(chunkSize, 4 * 1024 * 1024) });
      reader = file.stream.getReader({ mode: "byob" });
      const info = file.info;
      yield new BinaryContent(new Uint8Array(0), {
        kind: "start",
        name: info.displayName ?? info.name,
        mime_type: info.mimeType ?? "application/octet-stream",
        size: file.size,
      });
      let remaining = file.size;
      while (remaining > 0) {
        const next = await input.next();
        if (next.done) return; // the caller stopped pulling
        const pull = next.value;
        if (!(pull instanceof BinaryContent) || pull.headers.kind !== "pull") {
          throw invalid(
            `storage.download: expected a binary {kind: 'pull'}, got ${describe(pull)}`,
          );
        }
        const want = Math.min(chunkSize, remaining);
        const bytes = await readFull(reader, want);
        remaining -= bytes.length;
        yield new BinaryContent(bytes, { kind: "data" });
      }
    } catch (e) {
      yield errorContent(e);
    } finally {
      reader?.cancel().catch(() => {});
      void drain(input);
    }
  }
}

/** Reads exactly `n` bytes (fewer only at the end of the stream) into a fresh buffer. */
async function readFull(reader: ReadableStreamBYOBReader, n: number): Promise<Uint8Array> {
  let buffer = new ArrayBuffer(n);
  let filled = 0;
  while (filled < n) {
    const { value, done } = await reader.read(new Uint8Array(buffer, filled, n - filled));
    if (done || value === undefined) {
      if (value) buffer = value.buffer as ArrayBuffer;
      break;
    }
    buffer = value.buffer as ArrayBuffer;
    filled += value.byteLength;
  }
  return new Uint8Array(buffer, 0, filled);
}

async function drain(input: AsyncIterator<Content>): Promise<void> {
  try {
    while (!(await input.next()).done) { /* dropped */ }
  } catch { /* ended */ }
}

function describe(content: Content): string {
  if (content instanceof BinaryContent) {
    return `binary {kind: ${JSON.stringify(content.headers.kind)}}`;
  }
  return content.type;
}
