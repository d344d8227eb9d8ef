/**
 * The room file store contract: what the storage toolkit, the sync toolkit (documents) and the
 * download URL handler need from a room's files, small enough that an S3-compatible object store
 * can implement it too. `LocalFileStore` is the embedded default on local disk.
 *
 * Every `path` argument is a room-relative storage path; implementations normalise it with
 * `normalizeStoragePath` (so `"/a//b/"` and `"a/b"` name the same file) and report
 * failures as {@linkcode StorageError}s whose `code` travels on the wire unchanged.
 *
 * @module
 */
import { ErrorCode, RoomError } from "@meshagent/api";

/** What a store knows about one file or folder. */
export interface FileInfo {
  /** The entry's basename (`"a.txt"` for `"docs/a.txt"`; `""` for the root folder). */
  readonly name: string;
  /** The normalised room-relative path (`"docs/a.txt"`; `""` for the root folder). */
  readonly path: string;
  /** True for folders. */
  readonly isFolder: boolean;
  /** The size in bytes; `undefined` for folders (sent as `null` on the wire). */
  readonly size?: number;
  /**
   * The MIME type given at upload, else one inferred from the extension
   * (`application/octet-stream` when unknown); `undefined` for folders. Not sent by `stat`/`list`
   * on the wire, only in the `download` start chunk.
   */
  readonly mimeType?: string;
  /**
   * The display name given at upload (the `name` of the upload start chunk), else the basename;
   * `undefined` for folders. Echoed in the `download` start chunk.
   */
  readonly displayName?: string;
  /** When the file was first written (kept across overwrites); `undefined` when unknown. */
  readonly createdAt?: Date;
  /** When the file's bytes last changed; `undefined` when unknown. */
  readonly updatedAt?: Date;
}

/** Options of {@linkcode FileStore.list}. */
export interface FileListOptions {
  /**
   * Also list everything below sub-folders (depth first, each entry's `path` tells where it is).
   * Default false: only the folder's direct children.
   */
  readonly recursive?: boolean;
}

/** Options of {@linkcode FileStore.move}. */
export interface FileMoveOptions {
  /**
   * Replace what is at the destination (a file, or a whole folder). Default false: an existing
   * destination fails with {@linkcode ErrorCode.STORAGE_ALREADY_EXISTS} (3005).
   */
  readonly overwrite?: boolean;
}

/** Options of {@linkcode FileStore.delete}. */
export interface FileDeleteOptions {
  /**
   * Delete a folder with everything in it. Default false: a non-empty folder fails with
   * {@linkcode ErrorCode.STORAGE_RECURSIVE_REQUIRED} (3002).
   */
  readonly recursive?: boolean;
}

/** Options of {@linkcode FileStore.openWrite} and {@linkcode FileStore.writeFile}. */
export interface FileWriteOptions {
  /**
   * Replace an existing file. Default false: an existing file fails with
   * {@linkcode ErrorCode.STORAGE_ALREADY_EXISTS} (3005), checked when the write opens and again
   * at commit. A folder is never replaced by a file.
   */
  readonly overwrite?: boolean;
  /**
   * The number of bytes the caller will write, when known (the upload start chunk's `size`). A
   * size over the store's limits fails at open; a different byte count fails the commit with
   * {@linkcode ErrorCode.INVALID_REQUEST} (1002).
   */
  readonly size?: number;
  /** The display name to store (the upload's `name`); default: the basename. */
  readonly name?: string;
  /** The MIME type to store (the upload's `mime_type`); default: inferred from the extension. */
  readonly mimeType?: string;
}

/** Options of {@linkcode FileStore.openRead}. */
export interface FileReadOptions {
  /** The first byte to read. Default 0. Past the end of the file fails with 1002. */
  readonly offset?: number;
  /** The most bytes to read from `offset`. Default: to the end of the file. */
  readonly length?: number;
  /** The size of the chunks a default reader gets. Default 65536. */
  readonly chunkSize?: number;
}

/**
 * An upload in progress. Nothing is visible at the path until {@linkcode FileWriter.commit}
 * resolves; readers see the old file (or none) until then, and never a partial one. Concurrent
 * writers to one path do not block each other: the last commit wins.
 *
 * Always end a writer: `commit()` or `abort()` (or `await using`, which aborts an uncommitted
 * writer). A write that fails (a limit, a disk error) aborts the writer by itself.
 */
export interface FileWriter extends AsyncDisposable {
  /** The normalised path the file will have. */
  readonly path: string;
  /** The bytes accepted so far. */
  readonly bytesWritten: number;
  /**
   * Appends bytes. The caller may reuse `chunk` once the promise resolves.
   *
   * @param chunk The next bytes.
   * @throws {StorageLimitError} When the file or room limit would be exceeded (the writer is
   *   aborted).
   */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Makes the file visible at its path, atomically and durably, replacing an older one when
   * `overwrite` was given.
   *
   * @returns What the store now knows about the file.
   * @throws {StorageError} 3005 when the path was taken meanwhile and `overwrite` was false,
   *   1002 when the byte count differs from the announced `size`, 1006 after `abort()`.
   */
  commit(): Promise<FileInfo>;
  /** Drops the upload; the old file (if any) stays. Safe to call more than once or after commit. */
  abort(): Promise<void>;
}

/** A file opened for reading: its bytes as a stream, plus what a response header needs. */
export interface FileReader {
  /** What the store knows about the file (size = the whole file's size). */
  readonly info: FileInfo;
  /** The number of bytes `stream` yields (after `offset`/`length`). */
  readonly size: number;
  /**
   * The bytes: a byte stream (a BYOB reader may reuse its own buffer). Read it to the end or
   * cancel it; either closes the file.
   */
  readonly stream: ReadableStream<Uint8Array>;
}

/** A room's storage usage and the limits the store enforces. */
export interface StorageUsage {
  /** Bytes of committed files. */
  readonly bytes: number;
  /** Bytes of uploads in progress (counted against the room limit). */
  readonly pendingBytes: number;
  /** The per-file limit in bytes, when one is set. */
  readonly maxFileBytes?: number;
  /** The per-room limit in bytes, when one is set. */
  readonly maxRoomBytes?: number;
}

/**
 * One room's files: a hierarchy of files under implicit folders (a folder exists while something
 * is in it; there is no mkdir). The root folder is `""`.
 *
 * Errors are {@linkcode StorageError}s (or `StoragePathError` for paths, 3004):
 * 3001 not found, 3002 recursive required, 3005 already exists, 1002 a bad request,
 * 1008 the disk failed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type FileStore, LocalFileStore } from "@meshagent/server";
 *
 * const dataDir = await Deno.makeTempDir();
 * const store: FileStore = await LocalFileStore.open({ dataDir, room: "demo" });
 * await store.writeFile("notes/hello.txt", new TextEncoder().encode("hi"));
 * const entries = await store.list("notes");
 * assert(entries[0].name === "hello.txt" && entries[0].size === 2);
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export interface FileStore {
  /**
   * Tells whether a file or folder exists (the root always does).
   * @param path The storage path.
   */
  exists(path: string): Promise<boolean>;
  /**
   * Describes a file or folder.
   * @param path The storage path.
   * @returns The entry, or `undefined` when nothing is there.
   */
  stat(path: string): Promise<FileInfo | undefined>;
  /**
   * Lists a folder, sorted by name (recursive: sorted by path, folders before their contents).
   * @param folder The folder's storage path (`""` for the root).
   * @param options `recursive` to include everything below.
   * @throws {StorageError} 3001 when `folder` is missing or is a file.
   */
  list(folder: string, options?: FileListOptions): Promise<FileInfo[]>;
  /**
   * Moves (renames) a file or folder; parent folders of the destination appear as needed.
   * @param from The source path.
   * @param to The destination path.
   * @param options `overwrite` to replace what is at `to`.
   * @throws {StorageError} 3001 missing source, 3005 existing destination (or a file in the way
   *   of the destination's folders), 1002 a folder moved into itself.
   */
  move(from: string, to: string, options?: FileMoveOptions): Promise<void>;
  /**
   * Deletes a file, or a folder (`recursive` when it is not empty).
   * @param path The storage path (not the root).
   * @param options `recursive` for non-empty folders.
   * @throws {StorageError} 3001 missing, 3002 a non-empty folder without `recursive`.
   */
  delete(path: string, options?: FileDeleteOptions): Promise<void>;
  /**
   * Starts an upload to `path`; see {@linkcode FileWriter}.
   * @param path The file's storage path (not the root).
   * @param options Overwrite, the announced size, the display name and MIME type.
   * @throws {StorageError} 3005 when something is at `path` (a folder always; a file without
   *   `overwrite`) or a file is in the way of its folders; {@linkcode StorageLimitError} when
   *   the announced size is over a limit.
   */
  openWrite(path: string, options?: FileWriteOptions): Promise<FileWriter>;
  /**
   * Opens a file for streaming; see {@linkcode FileReader}.
   * @param path The file's storage path.
   * @param options A byte range and the chunk size.
   * @throws {StorageError} 3001 when there is no file at `path` (missing or a folder).
   */
  openRead(path: string, options?: FileReadOptions): Promise<FileReader>;
  /**
   * Reads a whole (small) file, e.g. a document.
   * @param path The file's storage path.
   * @returns The bytes.
   * @throws {StorageError} 3001 when there is no file at `path`.
   */
  readFile(path: string): Promise<Uint8Array>;
  /**
   * Writes a whole (small) file atomically: {@linkcode openWrite}, one write, commit.
   * @param path The file's storage path.
   * @param bytes The content.
   * @param options As for {@linkcode openWrite}; `overwrite` defaults to true here.
   * @returns What the store now knows about the file.
   */
  writeFile(path: string, bytes: Uint8Array, options?: FileWriteOptions): Promise<FileInfo>;
  /** The room's usage and limits. */
  usage(): Promise<StorageUsage>;
}

/**
 * A storage failure with a wire error code: {@linkcode ErrorCode.STORAGE_NOT_FOUND} (3001),
 * {@linkcode ErrorCode.STORAGE_RECURSIVE_REQUIRED} (3002),
 * {@linkcode ErrorCode.STORAGE_ALREADY_EXISTS} (3005), {@linkcode ErrorCode.INVALID_REQUEST}
 * (1002), {@linkcode ErrorCode.INVALID_STATE} (1006) or {@linkcode ErrorCode.OPERATION_FAILED}
 * (1008, the disk or object store failed; `cause` says how).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ErrorCode } from "@meshagent/api";
 * import { StorageError } from "./file_store.ts";
 * const err = new StorageError("no file at 'a.txt'", ErrorCode.STORAGE_NOT_FOUND, "a.txt");
 * assert(err.code === 3001 && err.path === "a.txt");
 * ```
 */
export class StorageError extends RoomError {
  /** The wire error code. */
  declare readonly code: number;
  /** The storage path the failure is about. */
  readonly path: string;

  /**
   * Creates the value.
   *
   * @param message What went wrong, in words a user can act on.
   * @param code The wire error code.
   * @param path The storage path the failure is about.
   * @param options The underlying error, if any.
   */
  constructor(message: string, code: number, path: string, options?: { cause?: unknown }) {
    super(message, code);
    this.name = "StorageError";
    this.path = path;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/**
 * An upload that would go over a size limit. `limit` tells which: `"file"` (the per-file limit,
 * code {@linkcode ErrorCode.INVALID_REQUEST} 1002: this file is too big anywhere) or `"room"` (the
 * room's quota, code {@linkcode ErrorCode.OPERATION_FAILED} 1008: delete files to make room).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StorageLimitError } from "./file_store.ts";
 * const err = new StorageLimitError("file", 1024, "big.bin");
 * assert(err.code === 1002 && err.limitBytes === 1024);
 * ```
 */
export class StorageLimitError extends StorageError {
  /** Which limit was hit. */
  readonly limit: "file" | "room";
  /** The limit in bytes. */
  readonly limitBytes: number;

  /**
   * Creates the value.
   *
   * @param limit Which limit was hit.
   * @param limitBytes The limit in bytes.
   * @param path The file being written.
   */
  constructor(limit: "file" | "room", limitBytes: number, path: string) {
    super(
      limit === "file"
        ? `the file '${path}' would be larger than the per-file limit of ${limitBytes} bytes`
        : `the room's storage is full (limit ${limitBytes} bytes); ` +
          `delete files before uploading '${path}'`,
      limit === "file" ? ErrorCode.INVALID_REQUEST : ErrorCode.OPERATION_FAILED,
      path,
    );
    this.name = "StorageLimitError";
    this.limit = limit;
    this.limitBytes = limitBytes;
  }
}
