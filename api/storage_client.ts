import { BinaryContent, type Content, ErrorContent, JsonContent } from "./content.ts";
import { ErrorCode, RoomError } from "./errors.ts";
import { EventEmitter, type Listener } from "./event_emitter.ts";
import type { ProtocolMessage } from "./framing.ts";
import { type JsonObject, unpackMessage } from "./packing.ts";
import type { RoomRequester } from "./room_requester.ts";
import type { ToolCallStream } from "./tool_call_streams.ts";
import { uploadMimeType, uploadName } from "./_storage_mime.ts";
import type {
  StorageClientEvents,
  StorageFileDeletedEvent,
  StorageFileMovedEvent,
  StorageFileUpdatedEvent,
} from "./storage_events.ts";

/** A file or folder in room storage, as `list` and `stat` describe it. */
export interface StorageEntry {
  /** The entry's basename (`"a.txt"` for `"docs/a.txt"`). */
  name: string;
  /** True for folders. */
  isFolder: boolean;
  /** The size in bytes; `null` for folders (or when the server does not say). */
  size: number | null;
  /** When the file was created, when the server knows. */
  createdAt: Date | null;
  /** When the file last changed, when the server knows. */
  updatedAt: Date | null;
}

/** Progress of an upload or download. */
export interface StorageProgress {
  /** Bytes transferred so far (for uploads: acknowledged by the server). */
  bytes: number;
  /** The total, when known (an upload from a stream without `size` does not know it). */
  total: number | null;
}

/** Timeout and cancellation of a storage request. */
export interface StorageRequestOptions {
  /** Fail with a `RequestTimeoutError` when the server takes longer than this to answer (ms). */
  timeout?: number;
  /** Cancels the request (an upload is then aborted: nothing is written). */
  signal?: AbortSignal;
}

/** Options of {@linkcode StorageClient.upload}. */
export interface StorageUploadOptions extends StorageRequestOptions {
  /** Replace an existing file (default false: an existing file fails with 3005). */
  overwrite?: boolean;
  /** The display name to store (default: the path's basename). */
  name?: string;
  /** The MIME type to store (default: inferred from the name, as the official client does). */
  mimeType?: string;
  /**
   * The byte count, for a stream source (a `Uint8Array` knows its size). The server checks it
   * and refuses a different count; progress reports it as `total`.
   */
  size?: number;
  /**
   * The data chunk size used when the server's pull does not name one (default 64 KiB, as the
   * official client). Our server asks for 1 MiB chunks.
   */
  chunkSize?: number;
  /** Called after each chunk the server acknowledged, and once at the end. */
  onProgress?: (progress: StorageProgress) => void;
}

/** Options of {@linkcode StorageClient.download} and {@linkcode StorageClient.downloadStream}. */
export interface StorageDownloadOptions extends StorageRequestOptions {
  /** The data chunk size to ask for (default 1 MiB; the server may cap it). */
  chunkSize?: number;
  /** How many pulls to keep outstanding (default 4; 1 = one chunk at a time). */
  pullWindow?: number;
  /** Called after each data chunk, and once at the end. */
  onProgress?: (progress: StorageProgress) => void;
}

/** A downloaded file. */
export interface StorageFile {
  /** The display name stored at upload. */
  name: string;
  /** The MIME type stored at upload. */
  mimeType: string;
  /** The bytes. */
  data: Uint8Array;
}

/** A download in progress: the metadata, and the bytes as a stream. */
export interface StorageDownload {
  /** The display name stored at upload. */
  name: string;
  /** The MIME type stored at upload. */
  mimeType: string;
  /** The size in bytes. */
  size: number;
  /**
   * The bytes. Read it to the end, or cancel it to stop the download. It errors with a
   * {@linkcode RoomError} when the server fails or sends more or fewer bytes than `size`.
   */
  stream: ReadableStream<Uint8Array>;
}

/** A source of upload bytes. */
export type StorageUploadSource =
  | Uint8Array
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>;

const DEFAULT_UPLOAD_CHUNK = 64 * 1024;
const DEFAULT_DOWNLOAD_CHUNK = 1024 * 1024;
const DEFAULT_PULL_WINDOW = 4;
const NO_BYTES = new Uint8Array(0);
/** How long a cancelled upload waits for the server to confirm it dropped the file. */
const CANCEL_GRACE_MS = 5000;

function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function unexpected(operation: string, detail?: string): RoomError {
  return new RoomError(
    `unexpected return type from storage.${operation}${detail ? `: ${detail}` : ""}`,
    ErrorCode.UNEXPECTED_RESPONSE_TYPE,
  );
}

function parseTime(value: unknown, operation: string): Date | null {
  if (value == null) return null;
  if (typeof value !== "string") throw unexpected(operation, "a timestamp is not a string");
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw unexpected(operation, `bad timestamp ${value}`);
  return date;
}

function parseEntry(value: unknown, operation: string): StorageEntry {
  if (
    !isObject(value) || typeof value.name !== "string" || typeof value.is_folder !== "boolean" ||
    (value.size != null && typeof value.size !== "number")
  ) {
    throw unexpected(operation, "malformed entry");
  }
  return {
    name: value.name,
    isFolder: value.is_folder,
    size: typeof value.size === "number" ? value.size : null,
    createdAt: parseTime(value.created_at, operation),
    updatedAt: parseTime(value.updated_at, operation),
  };
}

/** Turns the source into an iterator of non-empty byte chunks. */
async function* sourceChunks(source: StorageUploadSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    if (source.length > 0) yield source;
    return;
  }
  if (source instanceof ReadableStream) {
    const reader = source.getReader();
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) return;
        if (value.length > 0) yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  for await (const chunk of source as AsyncIterable<Uint8Array>) {
    if (chunk.length > 0) yield chunk;
  }
}

/**
 * Request chunks (pulls, data) of a transfer that may await their answers at once: with 1, about
 * one pull was in flight whatever the pull window (see `ToolCallRequest.chunkWindow`).
 */
const TRANSFER_CHUNK_WINDOW = 8;

/** Serves pulls of any size from a source of arbitrary chunks. */
class ChunkReader {
  readonly #source: AsyncIterator<Uint8Array>;
  #pending: Uint8Array = NO_BYTES;
  #done = false;

  constructor(source: StorageUploadSource) {
    this.#source = sourceChunks(source)[Symbol.asyncIterator]();
  }

  /** Up to `n` bytes; an empty array at the end. */
  async read(n: number): Promise<Uint8Array> {
    if (this.#pending.length === 0 && !this.#done) {
      const next = await this.#source.next();
      if (next.done) this.#done = true;
      else this.#pending = next.value;
    }
    if (this.#pending.length >= n || this.#done) {
      const out = this.#pending.subarray(0, Math.min(n, this.#pending.length));
      this.#pending = this.#pending.subarray(out.length);
      return out;
    }
    // Gather several smaller chunks into one of n bytes.
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (this.#pending.length === 0) {
        if (this.#done) break;
        const next = await this.#source.next();
        if (next.done) {
          this.#done = true;
          break;
        }
        this.#pending = next.value;
      }
      const take = Math.min(n - filled, this.#pending.length);
      out.set(this.#pending.subarray(0, take), filled);
      this.#pending = this.#pending.subarray(take);
      filled += take;
    }
    return out.subarray(0, filled);
  }

  async close(): Promise<void> {
    if (!this.#done) {
      this.#done = true;
      await this.#source.return?.();
    }
  }
}

/** A queue the output side fills (pull requests) and the input generator waits on. */
class Signals<T> {
  readonly #items: T[] = [];
  #wake?: () => void;
  #closed = false;

  push(item: T): void {
    if (this.#closed) return;
    this.#items.push(item);
    this.#notify();
  }

  close(): void {
    this.#closed = true;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** The next item, or `undefined` once closed. */
  async next(): Promise<T | undefined> {
    while (true) {
      if (this.#closed) return undefined;
      if (this.#items.length > 0) return this.#items.shift();
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
}

/**
 * Room storage (built-in toolkit `storage`, protocol-data §1): one hierarchical file store per
 * room. Paths are relative to the room's root (`"docs/a.txt"`); folders exist while something is
 * in them. Uploads and downloads stream in chunks, driven by the receiver's pulls, so memory stays
 * flat for large files; an upload becomes visible only once complete.
 *
 * Events: `room.storage.on("file.updated" | "file.deleted" | "file.moved", …)` for changes made
 * by any participant (this one included) to files the token can read.
 *
 * For local files on Deno see `uploadFile` / `downloadFile` in `storage_files.ts`.
 *
 * @example Uploading and reading back (needs a running room, so shown without running it)
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RoomClient } from "@meshagent/api";
 * async function roundTrip(room: RoomClient) {
 *   await room.storage.upload("notes/hello.txt", new TextEncoder().encode("hi"), {
 *     overwrite: true,
 *   });
 *   const file = await room.storage.download("notes/hello.txt");
 *   console.log(file.mimeType, new TextDecoder().decode(file.data)); // text/plain hi
 *   for (const entry of await room.storage.list("notes")) console.log(entry.name, entry.size);
 * }
 * assert(typeof roundTrip === "function");
 * ```
 */
export class StorageClient {
  /** File events: `file.updated`, `file.deleted`, `file.moved`. */
  readonly events: EventEmitter<StorageClientEvents> = new EventEmitter();
  readonly #room: RoomRequester;

  /**
   * Creates the sub-client; a {@linkcode RoomClient} makes one for itself (`room.storage`).
   *
   * @param room The room client this belongs to.
   */
  constructor(room: RoomRequester) {
    this.#room = room;
    room.onMessage("storage.file.updated", (m) => this.#onFileEvent(m, "file.updated"));
    room.onMessage("storage.file.deleted", (m) => this.#onFileEvent(m, "file.deleted"));
    room.onMessage("storage.file.moved", (m) => this.#onFileEvent(m, "file.moved"));
  }

  /**
   * Adds a file event listener (shortcut for `storage.events.on`).
   *
   * @param name `file.updated`, `file.deleted` or `file.moved`.
   * @param listener The listener.
   * @returns A function that removes the listener.
   */
  on<K extends keyof StorageClientEvents>(
    name: K,
    listener: Listener<StorageClientEvents[K]>,
  ): () => void {
    return this.events.on(name, listener);
  }

  #onFileEvent(message: ProtocolMessage, name: keyof StorageClientEvents): void {
    const { header } = unpackMessage(message.data);
    const participantId = typeof header.participant_id === "string" ? header.participant_id : "";
    if (name === "file.moved") {
      if (typeof header.source_path !== "string" || typeof header.destination_path !== "string") {
        return;
      }
      const event: StorageFileMovedEvent = {
        sourcePath: header.source_path,
        destinationPath: header.destination_path,
        participantId,
      };
      this.events.emit("file.moved", event);
      return;
    }
    if (typeof header.path !== "string") return;
    const event: StorageFileUpdatedEvent | StorageFileDeletedEvent = {
      path: header.path,
      participantId,
    };
    this.events.emit(name, event);
  }

  async #invoke(tool: string, input: JsonObject, options: StorageRequestOptions): Promise<Content> {
    return await this.#room.invoke({
      toolkit: "storage",
      tool,
      input,
      timeout: options.timeout,
      signal: options.signal,
    });
  }

  /**
   * Lists a folder's direct children, sorted by name.
   *
   * @param path The folder (`""` for the root).
   * @param options Timeout and cancellation.
   * @returns The entries.
   * @throws {RoomError} 3001 when the folder does not exist, 3004 for a bad path.
   */
  async list(path: string, options: StorageRequestOptions = {}): Promise<StorageEntry[]> {
    const response = await this.#invoke("list", { path }, options);
    if (!(response instanceof JsonContent) || !isObject(response.json)) throw unexpected("list");
    const files = response.json.files;
    if (!Array.isArray(files)) throw unexpected("list", "no files array");
    const entries = files.map((f) => parseEntry(f, "list"));
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return entries;
  }

  /**
   * Describes a file or folder.
   *
   * @param path The path.
   * @param options Timeout and cancellation.
   * @returns The entry, or `null` when nothing is there.
   */
  async stat(path: string, options: StorageRequestOptions = {}): Promise<StorageEntry | null> {
    const response = await this.#invoke("stat", { path }, options);
    if (
      !(response instanceof JsonContent) || !isObject(response.json) ||
      typeof response.json.exists !== "boolean"
    ) {
      throw unexpected("stat");
    }
    if (!response.json.exists) return null;
    return parseEntry(response.json, "stat");
  }

  /**
   * Tells whether a file or folder exists.
   *
   * @param path The path.
   * @param options Timeout and cancellation.
   * @returns True when something is at `path`.
   */
  async exists(path: string, options: StorageRequestOptions = {}): Promise<boolean> {
    const response = await this.#invoke("exists", { path }, options);
    if (
      !(response instanceof JsonContent) || !isObject(response.json) ||
      typeof response.json.exists !== "boolean"
    ) {
      throw unexpected("exists");
    }
    return response.json.exists;
  }

  /**
   * Deletes a file, or a folder (`recursive` when it is not empty).
   *
   * @param path The path.
   * @param options `recursive`, timeout and cancellation.
   * @throws {RoomError} 3001 when nothing is there, 3002 for a non-empty folder without
   *   `recursive`, 1001 when the grant does not allow writing there.
   */
  async delete(
    path: string,
    options: StorageRequestOptions & { recursive?: boolean } = {},
  ): Promise<void> {
    await this.#invoke("delete", { path, recursive: options.recursive ?? null }, options);
  }

  /**
   * Moves (renames) a file or folder.
   *
   * @param sourcePath What to move.
   * @param destinationPath Where to.
   * @param options `overwrite` to replace what is at the destination; timeout and cancellation.
   * @throws {RoomError} 3001 missing source, 3005 existing destination without `overwrite`.
   */
  async move(
    sourcePath: string,
    destinationPath: string,
    options: StorageRequestOptions & { overwrite?: boolean } = {},
  ): Promise<void> {
    await this.#invoke("move", {
      source_path: sourcePath,
      destination_path: destinationPath,
      overwrite: options.overwrite ?? false,
    }, options);
  }

  /**
   * Gets a short-lived HTTP URL that serves the file without the room connection.
   *
   * @param path The file.
   * @param options `download: true` for `Content-Disposition: attachment`; timeout, cancellation.
   * @returns The URL.
   */
  async downloadUrl(
    path: string,
    options: StorageRequestOptions & { download?: boolean } = {},
  ): Promise<string> {
    const input: JsonObject = { path };
    if (options.download !== undefined) input.download = options.download;
    const response = await this.#invoke("download_url", input, options);
    if (
      !(response instanceof JsonContent) || !isObject(response.json) ||
      typeof response.json.url !== "string"
    ) {
      throw unexpected("download_url");
    }
    return response.json.url;
  }

  /**
   * Uploads a file: bytes, a `ReadableStream` or any async iterable of byte chunks. The data
   * is sent as the server pulls it; the file becomes visible (atomically) when the upload
   * resolves. A failure or cancellation leaves any older file in place.
   *
   * @param path The destination path.
   * @param source The bytes.
   * @param options Overwrite, name, MIME type, size, progress, timeout and cancellation.
   * @throws {RoomError} 3005 when the file exists and `overwrite` is false, 3004 for a bad path,
   *   1001 when the grant does not allow writing there, 1002 when the byte count differs from
   *   `size`.
   */
  async upload(
    path: string,
    source: StorageUploadSource,
    options: StorageUploadOptions = {},
  ): Promise<void> {
    const name = options.name || uploadName(path);
    const mimeType = options.mimeType || uploadMimeType(name);
    const size = source instanceof Uint8Array ? source.length : options.size ?? null;
    const fallbackChunk = options.chunkSize ?? DEFAULT_UPLOAD_CHUNK;
    const reader = new ChunkReader(source);
    const pulls = new Signals<number>();
    const onProgress = options.onProgress;
    let sent = 0;
    let acked = 0;
    let reported = -1;
    const report = () => {
      if (onProgress && acked !== reported) {
        reported = acked;
        onProgress({ bytes: acked, total: size });
      }
    };
    // A failed source or a cancellation must not commit what was sent so far: the input then
    // ends with an `error` chunk (the server aborts the upload on it) before the pump's close.
    let failure: { error: unknown } | undefined;
    const fail = (error: unknown) => {
      failure ??= { error };
      pulls.close();
      rejectFailed(failure.error);
    };
    let rejectFailed!: (e: unknown) => void;
    const failed = new Promise<never>((_, reject) => (rejectFailed = reject));
    failed.catch(() => {});
    const signal = options.signal;
    signal?.throwIfAborted();
    const onAbort = () => fail(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const cancelChunk = () =>
      new ErrorContent(`the uploader cancelled: ${describeError(failure?.error)}`);

    async function* input(): AsyncGenerator<Content> {
      yield new BinaryContent(NO_BYTES, {
        kind: "start",
        path,
        overwrite: options.overwrite ?? false,
        name,
        mime_type: mimeType,
        size,
      });
      while (true) {
        const want = await pulls.next();
        if (failure) {
          yield cancelChunk();
          return;
        }
        if (want === undefined) return;
        let chunk: Uint8Array;
        try {
          chunk = await Promise.race([reader.read(want), failed]);
        } catch (e) {
          fail(e);
          yield cancelChunk();
          return;
        }
        if (chunk.length === 0) return; // the source is exhausted: the pump sends the close
        sent += chunk.length;
        yield new BinaryContent(chunk, { kind: "data" });
        // Resumed: the server acknowledged the chunk.
        acked = sent;
        report();
      }
    }

    let stream: ToolCallStream | undefined;
    let giveUp: ReturnType<typeof setTimeout> | undefined;
    try {
      stream = await this.#room.invokeStream({
        chunkWindow: TRANSFER_CHUNK_WINDOW,
        toolkit: "storage",
        tool: "upload",
        input: input(),
        timeout: options.timeout,
      });
      const output = stream;
      // After a failure the server answers the error chunk with its own error and close; stop
      // waiting for that after a few seconds.
      failed.catch(() => (giveUp = setTimeout(() => output.close(), CANCEL_GRACE_MS)));
      for await (const chunk of stream) {
        if (failure) continue; // wait for the server's close: breaking would stop the input
        if (chunk instanceof ErrorContent) throw new RoomError(chunk.text, chunk.code);
        if (!(chunk instanceof BinaryContent) || chunk.headers.kind !== "pull") {
          throw unexpected("upload", `a ${chunk.type} chunk`);
        }
        const asked = chunk.headers.chunk_size;
        pulls.push(typeof asked === "number" && asked > 0 ? asked : fallbackChunk);
      }
      if (failure) throw failure.error;
      // The server's close: the file is committed.
      acked = sent;
      report();
    } catch (e) {
      if (failure) throw failure.error;
      throw e;
    } finally {
      clearTimeout(giveUp);
      signal?.removeEventListener("abort", onAbort);
      pulls.close();
      if (!failure) stream?.close();
      await reader.close().catch(() => {});
    }
  }

  /**
   * Downloads a whole file into memory. For large files prefer
   * {@linkcode StorageClient.downloadStream} (or `downloadFile` on Deno).
   *
   * @param path The file.
   * @param options Chunk size, pull window, progress, timeout and cancellation.
   * @returns The name, MIME type and bytes.
   * @throws {RoomError} 3001 when there is no file, 1001 when the grant does not allow reading.
   */
  async download(path: string, options: StorageDownloadOptions = {}): Promise<StorageFile> {
    const download = await this.downloadStream(path, options);
    const data = new Uint8Array(download.size);
    let offset = 0;
    for await (const chunk of download.stream) {
      data.set(chunk, offset);
      offset += chunk.length;
    }
    return { name: download.name, mimeType: download.mimeType, data };
  }

  /**
   * Starts a download and resolves once the server described the file; the bytes follow as a
   * stream, pulled from the server as the stream is read (at most `pullWindow` chunks ahead).
   *
   * @param path The file.
   * @param options Chunk size, pull window, progress, timeout and cancellation.
   * @returns The metadata and the byte stream.
   * @throws {RoomError} 3001 when there is no file, 1001 when the grant does not allow reading.
   */
  async downloadStream(
    path: string,
    options: StorageDownloadOptions = {},
  ): Promise<StorageDownload> {
    const chunkSize = options.chunkSize ?? DEFAULT_DOWNLOAD_CHUNK;
    const window = Math.max(1, options.pullWindow ?? DEFAULT_PULL_WINDOW);
    const pulls = new Signals<true>();

    async function* input(): AsyncGenerator<Content> {
      yield new BinaryContent(NO_BYTES, { kind: "start", path, chunk_size: chunkSize });
      while ((await pulls.next()) !== undefined) {
        yield new BinaryContent(NO_BYTES, { kind: "pull" });
      }
    }

    const output = await this.#room.invokeStream({
      chunkWindow: TRANSFER_CHUNK_WINDOW,
      toolkit: "storage",
      tool: "download",
      input: input(),
      timeout: options.timeout,
      signal: options.signal,
    });
    const chunks = output[Symbol.asyncIterator]();
    const stop = () => {
      pulls.close();
      output.close();
    };
    let first: IteratorResult<Content>;
    try {
      first = await chunks.next();
    } catch (e) {
      stop();
      throw e;
    }
    const start = first.done ? undefined : first.value;
    if (start instanceof ErrorContent) {
      stop();
      throw new RoomError(start.text, start.code);
    }
    const h = start instanceof BinaryContent ? start.headers : undefined;
    if (
      h === undefined || h.kind !== "start" || typeof h.name !== "string" ||
      typeof h.mime_type !== "string" || typeof h.size !== "number" || !(h.size >= 0)
    ) {
      stop();
      throw unexpected("download", "no start chunk");
    }
    const size = h.size;
    const needed = Math.ceil(size / chunkSize);
    let requested = 0;
    // The server may cap the chunk size, so more pulls may be needed than computed: pull until
    // all bytes are in, never more than `window` ahead.
    const request = (n: number) => {
      for (let i = 0; i < n; i++) {
        requested++;
        pulls.push(true);
      }
    };
    request(Math.min(window, needed));
    let received = 0;
    let answered = 0;
    const onProgress = options.onProgress;
    let reportedFinal = false;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        if (size === 0) {
          onProgress?.({ bytes: 0, total: 0 });
          reportedFinal = true;
          stop();
          controller.close();
        }
      },
      async pull(controller) {
        try {
          while (true) {
            const next = await chunks.next();
            if (next.done) {
              if (received !== size) {
                throw unexpected("download", `got ${received} of ${size} bytes`);
              }
              if (!reportedFinal) onProgress?.({ bytes: received, total: size });
              stop();
              controller.close();
              return;
            }
            const chunk = next.value;
            if (chunk instanceof ErrorContent) throw new RoomError(chunk.text, chunk.code);
            if (!(chunk instanceof BinaryContent) || chunk.headers.kind !== "data") {
              throw unexpected("download", `a ${chunk.type} chunk`);
            }
            received += chunk.data.length;
            answered++;
            if (received > size) throw unexpected("download", `more than ${size} bytes`);
            // Keep `window` pulls in flight while bytes are missing.
            if (received < size && requested - answered < window) request(1);
            if (received === size) {
              reportedFinal = true;
              stop();
            }
            onProgress?.({ bytes: received, total: size });
            if (chunk.data.length > 0) {
              controller.enqueue(chunk.data);
              if (received === size) controller.close();
              return;
            }
            if (received === size) {
              controller.close();
              return;
            }
          }
        } catch (e) {
          stop();
          controller.error(e);
        }
      },
      cancel() {
        stop();
      },
    }, { highWaterMark: 0 });
    return { name: h.name, mimeType: h.mime_type, size, stream };
  }
}
