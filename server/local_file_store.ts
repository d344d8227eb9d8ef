/**
 * The embedded room file store on local disk (Deno only).
 *
 * Layout under the data folder:
 *
 * ```text
 * <dataDir>/rooms/<room>/files/       the room's files, exactly as their storage paths say
 * <dataDir>/rooms/<room>/file-meta/   one small JSON file per file (display name, MIME type,
 *                                     creation time), mirroring files/
 * ```
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { ErrorCode, mimeTypeForName, RoomError } from "@meshagent/api";
import {
  type FileDeleteOptions,
  type FileInfo,
  type FileListOptions,
  type FileMoveOptions,
  type FileReader,
  type FileReadOptions,
  type FileStore,
  type FileWriteOptions,
  type FileWriter,
  StorageError,
  StorageLimitError,
  type StorageUsage,
} from "./file_store.ts";
import { normalizeStoragePath, RESERVED_STORAGE_NAME_PREFIX } from "./storage_path.ts";
import { isValidRoomName } from "./room_name.ts";
import { type FileMeta, FileMetaStore } from "./_file_meta.ts";
import { LocalFileWriter, type WriterHost } from "./_local_file_writer.ts";
import {
  baseOf,
  folderInfo,
  fsyncDir,
  ioError,
  isMissing,
  lstatOrUndefined,
  parentOf,
  removeQuietly,
} from "./_local_fs.ts";

/** Options of {@linkcode LocalFileStore.open}. */
export interface LocalFileStoreOptions {
  /** The server's data folder; the room's files go to `<dataDir>/rooms/<room>/files/`. */
  readonly dataDir: string;
  /** The room name (a valid room name: lowercase letters, digits and hyphens). */
  readonly room: string;
  /**
   * The largest file in bytes; larger uploads fail with a {@linkcode StorageLimitError} (1002).
   * Default 4 GiB; `Infinity` for no limit.
   */
  readonly maxFileBytes?: number;
  /**
   * The most bytes all the room's files (and its uploads in progress) may take; more fails with
   * a {@linkcode StorageLimitError} (1008). Default: no limit.
   */
  readonly maxRoomBytes?: number;
  /**
   * Flush each committed file and its folder to the disk before the commit resolves, so a
   * power loss never leaves a half-written file. Default true; tests may turn it off.
   */
  readonly fsync?: boolean;
  /**
   * Upload temp files older than this many milliseconds are removed when the store opens.
   * Default one hour. (Those last written before `leftoverUploadsBefore` go whatever their age.)
   */
  readonly staleUploadMs?: number;
  /**
   * Upload temp files last written before this time (ms since the epoch) are leftovers of an
   * earlier server that crashed mid-upload, and are removed when the store opens: no upload of
   * this one can have written them. Default: when this process started
   * (`performance.timeOrigin`); the room server passes its own start.
   *
   * [impl] Safe as long as one server at a time uses a data folder (its SQLite databases
   * require that anyway): an upload of another live process on the same folder would lose its
   * temp file and fail at commit with an error saying so (1005), never commit a partial file.
   */
  readonly leftoverUploadsBefore?: number;
  /** The size of each writer's reused write buffer. Default 256 KiB. */
  readonly writeBufferBytes?: number;
}

const DEFAULT_MAX_FILE_BYTES = 4 * 1024 ** 3;
const DEFAULT_STALE_UPLOAD_MS = 60 * 60 * 1000;
const DEFAULT_WRITE_BUFFER_BYTES = 256 * 1024;
const DEFAULT_READ_CHUNK = 64 * 1024;
const MAX_READ_CHUNK = 4 * 1024 * 1024;
const MAX_DISPLAY_NAME_LENGTH = 1024;
const UPLOAD_PREFIX = `${RESERVED_STORAGE_NAME_PREFIX}upload-`;
/** How many entries `list` describes at once (each may read a metadata file). */
const LIST_BATCH = 64;
const MIME_TYPE_PATTERN = /^[\x21-\x7e][\x20-\x7e]{0,254}$/;

/**
 * The embedded {@linkcode FileStore}: one room's files in a folder on local disk.
 *
 * - Uploads write a temp file (`.meshagent~upload-…`, never listed, never addressable) in the
 *   destination folder through a reused buffer, fsync it, rename it over the destination and
 *   fsync the folder: readers see the old file or the new one, never a partial one, and a crash
 *   leaves the old file in place. Concurrent writers to one path: the last commit wins.
 * - Reads stream from an open file handle, so a reader keeps the version it opened even when a
 *   commit replaces the file meanwhile.
 * - Symbolic links are never followed: links inside the room folder are invisible, and a path
 *   that would lead through a linked folder fails with 3004.
 * - Folders are implicit: uploads create them, and deletes and moves remove folders left empty.
 * - Size limits per file and per room; usage is counted when the store opens and kept up to date.
 *
 * Open one store per room per process (structural changes are serialised inside the instance).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalFileStore } from "./local_file_store.ts";
 *
 * const dataDir = await Deno.makeTempDir();
 * const store = await LocalFileStore.open({ dataDir, room: "demo", maxFileBytes: 1024 * 1024 });
 * const writer = await store.openWrite("docs/readme.md", { size: 5 });
 * await writer.write(new TextEncoder().encode("hello"));
 * const info = await writer.commit();
 * assert(info.mimeType === "text/markdown" && info.size === 5);
 * const text = new TextDecoder().decode(await store.readFile("docs/readme.md"));
 * assert(text === "hello");
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export class LocalFileStore implements FileStore {
  /** The room this store belongs to. */
  readonly room: string;
  /** The absolute folder holding the room's files. */
  readonly root: string;
  readonly #meta: FileMetaStore;
  readonly #rootReal: string;
  readonly #maxFileBytes: number;
  readonly #maxRoomBytes: number;
  readonly #fsync: boolean;
  readonly #writeBufferBytes: number;
  #usedBytes = 0;
  #pendingBytes = 0;
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(
    room: string,
    root: string,
    metaRoot: string,
    rootReal: string,
    options: LocalFileStoreOptions,
  ) {
    this.room = room;
    this.root = root;
    this.#meta = new FileMetaStore(metaRoot);
    this.#rootReal = rootReal;
    this.#maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.#maxRoomBytes = options.maxRoomBytes ?? Infinity;
    this.#fsync = options.fsync ?? true;
    this.#writeBufferBytes = Math.max(4096, options.writeBufferBytes ?? DEFAULT_WRITE_BUFFER_BYTES);
  }

  /**
   * Opens (creating when needed) a room's file store: counts the room's usage and removes the
   * upload temp files a crash left behind (written before this process or server started, or
   * older than `staleUploadMs`).
   *
   * @param options The data folder, the room and the limits.
   * @returns The store.
   * @throws {RoomError} 1002 when the room name or a limit is invalid, 1008 when the folder
   *   cannot be created.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { LocalFileStore } from "./local_file_store.ts";
   * const dataDir = await Deno.makeTempDir();
   * const store = await LocalFileStore.open({ dataDir, room: "demo" });
   * assert((await store.usage()).bytes === 0);
   * await Deno.remove(dataDir, { recursive: true });
   * ```
   */
  static async open(options: LocalFileStoreOptions): Promise<LocalFileStore> {
    if (!isValidRoomName(options.room)) {
      throw new RoomError(
        `invalid room name ${JSON.stringify(options.room)}: use 1-63 lowercase letters, ` +
          `digits and hyphens`,
        ErrorCode.INVALID_REQUEST,
      );
    }
    const numbers = [
      "maxFileBytes",
      "maxRoomBytes",
      "writeBufferBytes",
      "staleUploadMs",
      "leftoverUploadsBefore",
    ];
    for (const key of numbers) {
      const value = options[key as keyof LocalFileStoreOptions];
      if (value !== undefined && !(typeof value === "number" && value >= 0)) {
        throw new RoomError(`${key} must be a number >= 0`, ErrorCode.INVALID_REQUEST);
      }
    }
    const roomDir = resolve(options.dataDir, "rooms", options.room);
    const root = join(roomDir, "files");
    const metaRoot = join(roomDir, "file-meta");
    try {
      await Deno.mkdir(root, { recursive: true });
      await Deno.mkdir(metaRoot, { recursive: true });
    } catch (e) {
      throw new RoomError(
        `cannot create the room's storage folder ${root}: ${(e as Error).message}`,
        ErrorCode.OPERATION_FAILED,
      );
    }
    const rootReal = await Deno.realPath(root);
    const store = new LocalFileStore(options.room, root, metaRoot, rootReal, options);
    const staleBefore = Math.max(
      Date.now() - (options.staleUploadMs ?? DEFAULT_STALE_UPLOAD_MS),
      Math.min(Date.now(), options.leftoverUploadsBefore ?? performance.timeOrigin),
    );
    store.#usedBytes = (await store.#scan(root, staleBefore)).bytes;
    return store;
  }

  /** {@inheritDoc FileStore.exists} */
  async exists(path: string): Promise<boolean> {
    return (await this.stat(path)) !== undefined;
  }

  /** {@inheritDoc FileStore.stat} */
  async stat(path: string): Promise<FileInfo | undefined> {
    const rel = normalizeStoragePath(path);
    if (rel === "") return folderInfo("");
    await this.#confine(rel);
    const st = await lstatOrUndefined(this.#fsPath(rel));
    if (st === undefined) return undefined;
    if (st.isDirectory) return folderInfo(rel);
    if (st.isFile) return await this.#fileInfo(rel, st);
    return undefined; // symbolic links and special files are invisible
  }

  /** {@inheritDoc FileStore.list} */
  async list(folder: string, options: FileListOptions = {}): Promise<FileInfo[]> {
    const rel = normalizeStoragePath(folder);
    if (rel !== "") {
      await this.#confine(rel);
      const st = await lstatOrUndefined(this.#fsPath(rel));
      if (st === undefined || st.isSymlink || !(st.isDirectory || st.isFile)) {
        throw new StorageError(`no folder at '${rel}'`, ErrorCode.STORAGE_NOT_FOUND, rel);
      }
      if (!st.isDirectory) {
        throw new StorageError(
          `'${rel}' is a file, not a folder; list its folder instead`,
          ErrorCode.STORAGE_NOT_FOUND,
          rel,
        );
      }
    }
    const out: FileInfo[] = [];
    await this.#listInto(rel, options.recursive === true, out);
    return out;
  }

  /** {@inheritDoc FileStore.move} */
  async move(from: string, to: string, options: FileMoveOptions = {}): Promise<void> {
    const src = normalizeStoragePath(from);
    const dst = normalizeStoragePath(to);
    if (src === "") {
      throw new StorageError(
        "the root folder cannot be moved; move its entries instead",
        ErrorCode.STORAGE_INVALID_PATH,
        src,
      );
    }
    if (dst === "") {
      throw new StorageError(
        "the root folder cannot be a move destination; give a file or folder path",
        ErrorCode.STORAGE_INVALID_PATH,
        dst,
      );
    }
    return await this.#locked(async () => {
      await this.#confine(src);
      await this.#confine(dst);
      const srcStat = await lstatOrUndefined(this.#fsPath(src));
      if (srcStat === undefined || !(srcStat.isFile || srcStat.isDirectory)) {
        throw new StorageError(
          `cannot move '${src}': no file or folder there`,
          ErrorCode.STORAGE_NOT_FOUND,
          src,
        );
      }
      if (src === dst) return;
      if (srcStat.isDirectory && dst.startsWith(`${src}/`)) {
        throw new StorageError(
          `cannot move the folder '${src}' into itself ('${dst}')`,
          ErrorCode.INVALID_REQUEST,
          dst,
        );
      }
      let freed = 0;
      const dstStat = await lstatOrUndefined(this.#fsPath(dst));
      if (dstStat !== undefined) {
        if (dstStat.isFile || dstStat.isDirectory) {
          if (options.overwrite !== true) {
            throw new StorageError(
              `cannot move '${src}' to '${dst}': something exists there; ` +
                `pass overwrite to replace it`,
              ErrorCode.STORAGE_ALREADY_EXISTS,
              dst,
            );
          }
          if (dstStat.isDirectory && src.startsWith(`${dst}/`)) {
            throw new StorageError(
              `cannot move '${src}' over '${dst}': the destination folder holds the source`,
              ErrorCode.INVALID_REQUEST,
              dst,
            );
          }
        }
        if (dstStat.isDirectory) {
          freed = await this.#treeSize(this.#fsPath(dst));
          await this.#io(dst, () => Deno.remove(this.#fsPath(dst), { recursive: true }));
        } else if (dstStat.isFile) {
          freed = dstStat.size;
          if (srcStat.isDirectory) await this.#io(dst, () => Deno.remove(this.#fsPath(dst)));
        } else {
          // an invisible symbolic link or special file: replace it
          await this.#io(dst, () => Deno.remove(this.#fsPath(dst)));
        }
      }
      await this.#mkdirs(parentOf(dst), dst);
      await this.#io(dst, () => Deno.rename(this.#fsPath(src), this.#fsPath(dst)));
      this.#usedBytes -= freed;
      if (this.#fsync) {
        await fsyncDir(dirname(this.#fsPath(dst)));
        if (parentOf(src) !== parentOf(dst)) await fsyncDir(dirname(this.#fsPath(src)));
      }
      await this.#meta.move(src, dst);
      await this.#prune(parentOf(src));
    });
  }

  /** {@inheritDoc FileStore.delete} */
  async delete(path: string, options: FileDeleteOptions = {}): Promise<void> {
    const rel = normalizeStoragePath(path);
    if (rel === "") {
      throw new StorageError(
        "the root folder cannot be deleted; delete its entries instead",
        ErrorCode.STORAGE_INVALID_PATH,
        rel,
      );
    }
    return await this.#locked(async () => {
      await this.#confine(rel);
      const fsPath = this.#fsPath(rel);
      const st = await lstatOrUndefined(fsPath);
      if (st === undefined || !(st.isFile || st.isDirectory)) {
        throw new StorageError(
          `cannot delete '${rel}': no file or folder there`,
          ErrorCode.STORAGE_NOT_FOUND,
          rel,
        );
      }
      if (st.isFile) {
        await this.#io(rel, () => Deno.remove(fsPath));
        this.#usedBytes -= st.size;
        await this.#meta.remove(rel, false);
      } else {
        if (options.recursive !== true && await this.#hasVisibleEntries(fsPath)) {
          throw new StorageError(
            `the folder '${rel}' is not empty; pass recursive to delete it with its contents`,
            ErrorCode.STORAGE_RECURSIVE_REQUIRED,
            rel,
          );
        }
        const freed = await this.#treeSize(fsPath);
        await this.#io(rel, () => Deno.remove(fsPath, { recursive: true }));
        this.#usedBytes -= freed;
        await this.#meta.remove(rel, true);
      }
      if (this.#fsync) await fsyncDir(dirname(fsPath));
      await this.#prune(parentOf(rel));
    });
  }

  /** {@inheritDoc FileStore.openWrite} */
  async openWrite(path: string, options: FileWriteOptions = {}): Promise<FileWriter> {
    const rel = normalizeStoragePath(path);
    if (rel === "") {
      throw new StorageError(
        "the root folder cannot be written; give a file path",
        ErrorCode.STORAGE_INVALID_PATH,
        rel,
      );
    }
    const { size, name, mimeType } = options;
    if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0)) {
      throw new StorageError(
        `the upload size of '${rel}' must be a whole number of bytes >= 0, got ${size}`,
        ErrorCode.INVALID_REQUEST,
        rel,
      );
    }
    if (
      name !== undefined &&
      (typeof name !== "string" || name.length > MAX_DISPLAY_NAME_LENGTH || !name.isWellFormed())
    ) {
      throw new StorageError(
        `the display name of '${rel}' must be a string of at most ` +
          `${MAX_DISPLAY_NAME_LENGTH} characters`,
        ErrorCode.INVALID_REQUEST,
        rel,
      );
    }
    if (mimeType !== undefined && !MIME_TYPE_PATTERN.test(mimeType)) {
      throw new StorageError(
        `the MIME type ${JSON.stringify(mimeType)} of '${rel}' is not valid; ` +
          `use a type like "text/plain" (printable ASCII, at most 255 characters)`,
        ErrorCode.INVALID_REQUEST,
        rel,
      );
    }
    if (size !== undefined) {
      if (size > this.#maxFileBytes) {
        throw new StorageLimitError("file", this.#maxFileBytes, rel);
      }
      if (this.#usedBytes + this.#pendingBytes + size > this.#maxRoomBytes) {
        throw new StorageLimitError("room", this.#maxRoomBytes, rel);
      }
    }
    return await this.#locked(async () => {
      await this.#confine(rel);
      const st = await lstatOrUndefined(this.#fsPath(rel));
      this.#checkWritable(rel, st, options.overwrite === true);
      const relParent = parentOf(rel);
      await this.#mkdirs(relParent, rel);
      const tempPath = join(
        dirname(this.#fsPath(rel)),
        `${UPLOAD_PREFIX}${crypto.randomUUID()}`,
      );
      const file = await this.#io(
        rel,
        () => Deno.open(tempPath, { write: true, createNew: true, mode: 0o644 }),
      );
      const host: WriterHost = {
        maxFileBytes: this.#maxFileBytes,
        fsync: this.#fsync,
        reserve: (bytes, p) => {
          if (this.#usedBytes + this.#pendingBytes + bytes > this.#maxRoomBytes) {
            throw new StorageLimitError("room", this.#maxRoomBytes, p);
          }
          this.#pendingBytes += bytes;
        },
        release: (bytes) => {
          this.#pendingBytes -= bytes;
        },
        commit: (writer, bytes) => this.#commit(writer, bytes, options),
        discard: (temp, parent) =>
          this.#locked(async () => {
            await removeQuietly(temp, false);
            await this.#prune(parent);
          }),
      };
      const bufferBytes = Math.min(this.#writeBufferBytes, size ?? Infinity);
      return new LocalFileWriter(rel, tempPath, file, host, bufferBytes, size);
    });
  }

  /** {@inheritDoc FileStore.openRead} */
  async openRead(path: string, options: FileReadOptions = {}): Promise<FileReader> {
    const rel = normalizeStoragePath(path);
    const offset = options.offset ?? 0;
    const chunkSize = options.chunkSize ?? DEFAULT_READ_CHUNK;
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new StorageError(
        `the read offset must be a whole number >= 0, got ${offset}`,
        ErrorCode.INVALID_REQUEST,
        rel,
      );
    }
    if (
      options.length !== undefined && !(Number.isSafeInteger(options.length) && options.length >= 0)
    ) {
      throw new StorageError(
        `the read length must be a whole number >= 0, got ${options.length}`,
        ErrorCode.INVALID_REQUEST,
        rel,
      );
    }
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_READ_CHUNK) {
      throw new StorageError(
        `the chunk size must be between 1 and ${MAX_READ_CHUNK} bytes, got ${chunkSize}`,
        ErrorCode.INVALID_REQUEST,
        rel,
      );
    }
    const file = await this.#openFile(rel);
    let closed = false;
    const close = () => {
      if (!closed) {
        closed = true;
        file.close();
      }
    };
    try {
      const st = await file.stat();
      if (offset > st.size) {
        throw new StorageError(
          `the read offset ${offset} is past the end of '${rel}' (${st.size} bytes)`,
          ErrorCode.INVALID_REQUEST,
          rel,
        );
      }
      const info = await this.#fileInfo(rel, st);
      if (offset > 0) await file.seek(offset, Deno.SeekMode.Start);
      const size = Math.min(options.length ?? Infinity, st.size - offset);
      let remaining = size;
      const stream = new ReadableStream({
        type: "bytes",
        autoAllocateChunkSize: Math.min(chunkSize, Math.max(1, size)),
        start(controller) {
          if (remaining === 0) {
            close();
            controller.close();
          }
        },
        async pull(controller) {
          const request = controller.byobRequest!;
          const view = request.view!;
          const want = Math.min(view.byteLength, remaining);
          let n: number | null;
          try {
            n = await file.read(new Uint8Array(view.buffer, view.byteOffset, want));
          } catch (e) {
            close();
            throw new StorageError(
              `reading '${rel}' failed: ${(e as Error).message}`,
              ErrorCode.OPERATION_FAILED,
              rel,
              { cause: e },
            );
          }
          if (n === null || n === 0) {
            close();
            throw new StorageError(
              `'${rel}' ended early: it was changed outside the server`,
              ErrorCode.OPERATION_FAILED,
              rel,
            );
          }
          remaining -= n;
          request.respond(n);
          if (remaining === 0) {
            close();
            controller.close();
          }
        },
        cancel() {
          close();
        },
      });
      return { info, size, stream };
    } catch (e) {
      close();
      throw e;
    }
  }

  /** {@inheritDoc FileStore.readFile} */
  async readFile(path: string): Promise<Uint8Array> {
    const rel = normalizeStoragePath(path);
    const file = await this.#openFile(rel);
    try {
      const size = (await file.stat()).size;
      const bytes = new Uint8Array(size);
      let filled = 0;
      while (filled < size) {
        const n = await file.read(bytes.subarray(filled));
        if (n === null) break;
        filled += n;
      }
      return filled === size ? bytes : bytes.subarray(0, filled);
    } catch (e) {
      throw e instanceof StorageError ? e : new StorageError(
        `reading '${rel}' failed: ${(e as Error).message}`,
        ErrorCode.OPERATION_FAILED,
        rel,
        { cause: e },
      );
    } finally {
      file.close();
    }
  }

  /** {@inheritDoc FileStore.writeFile} */
  async writeFile(
    path: string,
    bytes: Uint8Array,
    options: FileWriteOptions = {},
  ): Promise<FileInfo> {
    const writer = await this.openWrite(path, {
      ...options,
      overwrite: options.overwrite ?? true,
      size: bytes.length,
    });
    try {
      await writer.write(bytes);
      return await writer.commit();
    } finally {
      await writer.abort();
    }
  }

  /** {@inheritDoc FileStore.usage} */
  usage(): Promise<StorageUsage> {
    const usage: StorageUsage = {
      bytes: this.#usedBytes,
      pendingBytes: this.#pendingBytes,
      ...(Number.isFinite(this.#maxFileBytes) ? { maxFileBytes: this.#maxFileBytes } : {}),
      ...(Number.isFinite(this.#maxRoomBytes) ? { maxRoomBytes: this.#maxRoomBytes } : {}),
    };
    return Promise.resolve(usage);
  }

  // ---- internals ----

  #fsPath(rel: string): string {
    return rel === "" ? this.root : join(this.root, rel);
  }

  /** Runs structural changes one at a time. */
  #locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn);
    this.#tail = run.catch(() => {});
    return run;
  }

  /** Runs a file-system call, turning its failures into {@linkcode StorageError}s. */
  async #io<T>(rel: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw ioError(rel, e);
    }
  }

  /**
   * Fails with 3004 when the nearest existing folder above `rel` is reached through a symbolic
   * link (its real path is not where its storage path says).
   */
  async #confine(rel: string): Promise<void> {
    let dir = parentOf(rel);
    while (dir !== "") {
      let real: string;
      try {
        real = await Deno.realPath(this.#fsPath(dir));
      } catch (e) {
        if (isMissing(e)) {
          dir = parentOf(dir);
          continue;
        }
        throw ioError(rel, e);
      }
      if (real !== join(this.#rootReal, dir)) {
        throw new StorageError(
          `the path '${rel}' leads through a symbolic link ('${dir}'); links are not followed`,
          ErrorCode.STORAGE_INVALID_PATH,
          rel,
        );
      }
      return;
    }
  }

  #checkWritable(rel: string, st: Deno.FileInfo | undefined, overwrite: boolean): void {
    if (st?.isDirectory) {
      throw new StorageError(
        `cannot write the file '${rel}': a folder exists there`,
        ErrorCode.STORAGE_ALREADY_EXISTS,
        rel,
      );
    }
    if (st?.isFile && !overwrite) {
      throw new StorageError(
        `the file '${rel}' exists already; pass overwrite to replace it`,
        ErrorCode.STORAGE_ALREADY_EXISTS,
        rel,
      );
    }
  }

  /** Creates the folder `relDir` and its parents; 3005 when a file is in the way. */
  async #mkdirs(relDir: string, forPath: string): Promise<void> {
    if (relDir === "") return;
    try {
      await Deno.mkdir(this.#fsPath(relDir), { recursive: true });
    } catch (e) {
      // find the file in the way
      let dir = relDir;
      while (dir !== "") {
        const st = await lstatOrUndefined(this.#fsPath(dir));
        if (st !== undefined && !st.isDirectory) {
          throw new StorageError(
            `cannot create '${forPath}': '${dir}' is a file, so it cannot hold other files`,
            ErrorCode.STORAGE_ALREADY_EXISTS,
            forPath,
          );
        }
        dir = parentOf(dir);
      }
      throw ioError(forPath, e);
    }
  }

  /** Removes `relDir` and its parents while they are empty (never the root). */
  async #prune(relDir: string): Promise<void> {
    let dir = relDir;
    while (dir !== "") {
      try {
        await Deno.remove(this.#fsPath(dir));
      } catch {
        break; // not empty (or gone): stop
      }
      await this.#meta.remove(dir, false);
      dir = parentOf(dir);
    }
  }

  async #openFile(rel: string): Promise<Deno.FsFile> {
    if (rel === "") {
      throw new StorageError(
        "the root folder is not a file; give a file path",
        ErrorCode.STORAGE_NOT_FOUND,
        rel,
      );
    }
    await this.#confine(rel);
    const fsPath = this.#fsPath(rel);
    const st = await lstatOrUndefined(fsPath);
    if (st === undefined || !st.isFile) {
      throw new StorageError(
        st?.isDirectory ? `'${rel}' is a folder, not a file` : `no file at '${rel}'`,
        ErrorCode.STORAGE_NOT_FOUND,
        rel,
      );
    }
    try {
      return await Deno.open(fsPath, { read: true });
    } catch (e) {
      if (isMissing(e)) {
        throw new StorageError(`no file at '${rel}'`, ErrorCode.STORAGE_NOT_FOUND, rel);
      }
      throw ioError(rel, e);
    }
  }

  async #fileInfo(rel: string, st: Deno.FileInfo): Promise<FileInfo> {
    const meta = await this.#meta.read(rel, st);
    const name = baseOf(rel);
    return {
      name,
      path: rel,
      isFolder: false,
      size: st.size,
      mimeType: meta?.mimeType ?? mimeTypeForName(name),
      displayName: meta?.name ?? name,
      createdAt: meta ? new Date(meta.createdAt) : (st.birthtime ?? st.mtime ?? undefined),
      updatedAt: st.mtime ?? undefined,
    };
  }

  async #listInto(rel: string, recursive: boolean, out: FileInfo[]): Promise<void> {
    const fsDir = this.#fsPath(rel);
    const names: { name: string; isDirectory: boolean }[] = [];
    try {
      for await (const entry of Deno.readDir(fsDir)) {
        if (entry.name.startsWith(RESERVED_STORAGE_NAME_PREFIX)) continue;
        if (entry.isSymlink || !(entry.isFile || entry.isDirectory)) continue;
        names.push({ name: entry.name, isDirectory: entry.isDirectory });
      }
    } catch (e) {
      if (isMissing(e)) return; // removed while listing
      throw ioError(rel, e);
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (let i = 0; i < names.length; i += LIST_BATCH) {
      const batch = names.slice(i, i + LIST_BATCH);
      const infos = await Promise.all(batch.map(async ({ name, isDirectory }) => {
        const childRel = rel === "" ? name : `${rel}/${name}`;
        if (isDirectory) return folderInfo(childRel);
        const st = await lstatOrUndefined(this.#fsPath(childRel));
        if (st === undefined || !st.isFile) return undefined;
        return await this.#fileInfo(childRel, st);
      }));
      for (const info of infos) {
        if (info === undefined) continue;
        out.push(info);
        if (recursive && info.isFolder) await this.#listInto(info.path, true, out);
      }
    }
  }

  async #hasVisibleEntries(fsDir: string): Promise<boolean> {
    for await (const entry of Deno.readDir(fsDir)) {
      if (entry.name.startsWith(RESERVED_STORAGE_NAME_PREFIX)) continue;
      if (entry.isFile || entry.isDirectory) return true;
    }
    return false;
  }

  /** The bytes of the visible files under a folder. */
  async #treeSize(fsDir: string): Promise<number> {
    let total = 0;
    try {
      for await (const entry of Deno.readDir(fsDir)) {
        if (entry.name.startsWith(RESERVED_STORAGE_NAME_PREFIX) || entry.isSymlink) continue;
        const child = join(fsDir, entry.name);
        if (entry.isDirectory) total += await this.#treeSize(child);
        else if (entry.isFile) total += (await lstatOrUndefined(child))?.size ?? 0;
      }
    } catch (e) {
      if (!isMissing(e)) throw e;
    }
    return total;
  }

  /**
   * Counts the visible bytes under a folder and removes upload temp files older than a time. A
   * folder that sweeping left empty (made for an upload that a crash cut off) is removed too.
   *
   * @returns The bytes, and whether the folder itself was removed.
   */
  async #scan(
    fsDir: string,
    staleBefore: number,
    relDir = "",
  ): Promise<{ bytes: number; removed: boolean }> {
    let bytes = 0;
    let kept = 0;
    let swept = false;
    for await (const entry of Deno.readDir(fsDir)) {
      const child = join(fsDir, entry.name);
      if (entry.name.startsWith(RESERVED_STORAGE_NAME_PREFIX)) {
        if (entry.name.startsWith(UPLOAD_PREFIX) && entry.isFile) {
          const st = await lstatOrUndefined(child);
          if (st !== undefined && (st.mtime?.getTime() ?? 0) < staleBefore) {
            await removeQuietly(child, false);
            swept = true;
            continue;
          }
        }
        kept++;
        continue;
      }
      kept++;
      if (entry.isSymlink) continue;
      if (entry.isDirectory) {
        const sub = await this.#scan(child, staleBefore, join(relDir, entry.name));
        bytes += sub.bytes;
        if (sub.removed) {
          kept--;
          swept = true;
        }
      } else if (entry.isFile) bytes += (await lstatOrUndefined(child))?.size ?? 0;
    }
    if (!swept || kept > 0 || relDir === "") return { bytes, removed: false };
    try {
      await Deno.remove(fsDir); // not recursive: something new in it keeps it
    } catch {
      return { bytes, removed: false };
    }
    await this.#meta.remove(relDir, false);
    return { bytes, removed: true };
  }

  /** The second half of {@linkcode FileWriter.commit}: renames the finished temp file. */
  #commit(writer: LocalFileWriter, bytes: number, options: FileWriteOptions): Promise<FileInfo> {
    const rel = writer.path;
    return this.#locked(async () => {
      const fsPath = this.#fsPath(rel);
      const old = await lstatOrUndefined(fsPath);
      this.#checkWritable(rel, old, options.overwrite === true);
      const oldMeta = old?.isFile ? await this.#meta.read(rel, old) : undefined;
      try {
        await Deno.rename(writer.tempPath, fsPath);
      } catch (e) {
        if (isMissing(e)) {
          throw new StorageError(
            `the upload of '${rel}' lost its temp file: its folder was moved or deleted ` +
              `during the upload; upload again`,
            ErrorCode.CONFLICT,
            rel,
          );
        }
        throw ioError(rel, e);
      }
      if (this.#fsync) await fsyncDir(dirname(fsPath));
      this.#usedBytes += bytes - (old?.isFile ? old.size : 0);
      const st = await Deno.lstat(fsPath);
      const meta: FileMeta = {
        v: 1,
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(options.mimeType !== undefined ? { mimeType: options.mimeType } : {}),
        createdAt: oldMeta?.createdAt ?? Date.now(),
        size: st.size,
        mtimeMs: st.mtime?.getTime() ?? 0,
        ino: st.ino ?? null,
      };
      await this.#meta.write(rel, meta);
      return await this.#fileInfo(rel, st);
    });
  }
}
