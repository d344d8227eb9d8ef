// Private: the FileWriter of the local file store — a temp file next to the destination written
// through a reused buffer, committed (fsync, rename over the destination) or discarded by its store.
import { ErrorCode } from "@meshagent/api";
import { type FileInfo, type FileWriter, StorageError, StorageLimitError } from "./file_store.ts";
import { ioError, parentOf, writeAll } from "./_local_fs.ts";

/** What a writer needs from its store. */
export interface WriterHost {
  readonly maxFileBytes: number;
  readonly fsync: boolean;
  reserve(bytes: number, path: string): void;
  release(bytes: number): void;
  commit(writer: LocalFileWriter, bytes: number): Promise<FileInfo>;
  discard(tempPath: string, relParent: string): Promise<void>;
}

/** A {@linkcode FileWriter} over a temp file next to the destination. */
export class LocalFileWriter implements FileWriter {
  readonly path: string;
  readonly tempPath: string;
  #file: Deno.FsFile;
  #host: WriterHost;
  #expectedSize: number | undefined;
  #bufferBytes: number;
  #buffer: Uint8Array | undefined;
  #buffered = 0;
  #written = 0;
  #state: "open" | "committing" | "committed" | "aborted" = "open";
  #fileOpen = true;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    path: string,
    tempPath: string,
    file: Deno.FsFile,
    host: WriterHost,
    bufferBytes: number,
    expectedSize: number | undefined,
  ) {
    this.path = path;
    this.tempPath = tempPath;
    this.#file = file;
    this.#host = host;
    this.#bufferBytes = bufferBytes;
    this.#expectedSize = expectedSize;
  }

  get bytesWritten(): number {
    return this.#written;
  }

  write(chunk: Uint8Array): Promise<void> {
    return this.#serial(() => this.#write(chunk));
  }

  commit(): Promise<FileInfo> {
    return this.#serial(() => this.#commit());
  }

  abort(): Promise<void> {
    return this.#serial(() => this.#abort());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.abort();
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  #checkOpen(): void {
    if (this.#state !== "open") {
      throw new StorageError(
        `the upload of '${this.path}' is ${this.#state} already`,
        ErrorCode.INVALID_STATE,
        this.path,
      );
    }
  }

  async #write(chunk: Uint8Array): Promise<void> {
    this.#checkOpen();
    const n = chunk.length;
    if (n === 0) return;
    try {
      if (this.#expectedSize !== undefined && this.#written + n > this.#expectedSize) {
        throw new StorageError(
          `the upload of '${this.path}' got more than its announced size of ` +
            `${this.#expectedSize} bytes`,
          ErrorCode.INVALID_REQUEST,
          this.path,
        );
      }
      if (this.#written + n > this.#host.maxFileBytes) {
        throw new StorageLimitError("file", this.#host.maxFileBytes, this.path);
      }
      this.#host.reserve(n, this.path);
      this.#written += n;
      const capacity = this.#bufferBytes;
      if (this.#buffered + n <= capacity) {
        this.#buffer ??= new Uint8Array(capacity);
        this.#buffer.set(chunk, this.#buffered);
        this.#buffered += n;
        if (this.#buffered === capacity) await this.#flush();
      } else {
        await this.#flush();
        if (n >= capacity) {
          await writeAll(this.#file, chunk);
        } else {
          this.#buffer ??= new Uint8Array(capacity);
          this.#buffer.set(chunk, 0);
          this.#buffered = n;
        }
      }
    } catch (e) {
      await this.#abort();
      throw e instanceof StorageError ? e : ioError(this.path, e);
    }
  }

  async #flush(): Promise<void> {
    if (this.#buffered === 0 || this.#buffer === undefined) return;
    await writeAll(this.#file, this.#buffer.subarray(0, this.#buffered));
    this.#buffered = 0;
  }

  async #commit(): Promise<FileInfo> {
    this.#checkOpen();
    try {
      if (this.#expectedSize !== undefined && this.#written !== this.#expectedSize) {
        throw new StorageError(
          `the upload of '${this.path}' ended after ${this.#written} bytes, ` +
            `but its announced size was ${this.#expectedSize} bytes`,
          ErrorCode.INVALID_REQUEST,
          this.path,
        );
      }
      await this.#flush();
      if (this.#host.fsync) await this.#file.sync();
      this.#closeFile();
    } catch (e) {
      await this.#abort();
      throw e instanceof StorageError ? e : ioError(this.path, e);
    }
    this.#state = "committing";
    try {
      const info = await this.#host.commit(this, this.#written);
      this.#state = "committed";
      this.#host.release(this.#written);
      this.#buffer = undefined;
      return info;
    } catch (e) {
      this.#state = "open";
      await this.#abort();
      throw e;
    }
  }

  async #abort(): Promise<void> {
    if (this.#state !== "open") return;
    this.#state = "aborted";
    this.#closeFile();
    this.#buffer = undefined;
    this.#host.release(this.#written);
    await this.#host.discard(this.tempPath, parentOf(this.path));
  }

  #closeFile(): void {
    if (this.#fileOpen) {
      this.#fileOpen = false;
      try {
        this.#file.close();
      } catch {
        // closed already
      }
    }
  }
}
