// Private, Deno-only: a folder of the agent's host disk behind a StorageToolkit mount. Nothing
// here touches `Deno` when the module loads, so browsers can import the toolkit; a local mount is
// refused (see `localDiskAvailable`) where there is no Deno.
//
// Safety: every tool path is a list of normalised segments (no "", ".", "..", NUL, nor the
// control and bidirectional characters of storageNameViolation; see normalizePath in
// storage_toolkit.ts), joined below the mount's real path and resolved with
// realPath; a path whose real location is not inside the mount's real path (a symbolic link
// that leads out) is refused. Residual race: a process that can write inside the mounted folder
// can swap a checked folder for a symbolic link between the check and the open/rename; Deno has
// no O_NOFOLLOW / openat, so mount folders that untrusted processes write to read-only or not at
// all.
import { ErrorCode } from "@meshagent/api";
import { ToolError } from "./tool_error.ts";

/** What a local file or folder looks like to the tools. */
export interface LocalEntry {
  name: string;
  isFolder: boolean;
  size: number | null;
}

type DenoNs = typeof Deno;

function denoNs(): DenoNs | undefined {
  const d = (globalThis as { Deno?: DenoNs }).Deno;
  return d && typeof d.realPath === "function" && typeof d.open === "function" ? d : undefined;
}

/** Whether this runtime can serve local mounts (Deno with file system APIs). */
export function localDiskAvailable(): boolean {
  return denoNs() !== undefined;
}

function deno(): DenoNs {
  const d = denoNs();
  if (!d) {
    throw new ToolError(
      "local storage mounts need Deno's file system APIs; in a browser mount room folders only",
      ErrorCode.DEPENDENCY_MISSING,
    );
  }
  return d;
}

function isError(e: unknown, name: "NotFound" | "AlreadyExists" | "PermissionDenied"): boolean {
  const d = denoNs();
  return d !== undefined && e instanceof d.errors[name];
}

/** A folder on the host's disk, seen through one mount. */
export class LocalFolder {
  readonly #localPath: string;
  readonly #mountPath: string;
  readonly #sep: string;

  /**
   * @param localPath The host folder (absolute, or relative to the working directory).
   * @param mountPath The normalised mount path, for messages.
   */
  constructor(localPath: string, mountPath: string) {
    const d = deno();
    if (typeof localPath !== "string" || localPath === "" || localPath.includes("\0")) {
      throw new ToolError(
        `the local path of storage mount ${JSON.stringify(mountPath)} must be a non-empty ` +
          "folder path without NUL bytes",
        ErrorCode.INVALID_REQUEST,
      );
    }
    this.#localPath = localPath;
    this.#mountPath = mountPath;
    this.#sep = d.build.os === "windows" ? "\\" : "/";
  }

  /** The host folder as given. */
  get localPath(): string {
    return this.#localPath;
  }

  /** The mount's real folder, checked to exist and be a folder. */
  async #root(): Promise<string> {
    const d = deno();
    let root: string;
    try {
      root = await d.realPath(this.#localPath);
    } catch (e) {
      throw this.#hostError(e, `the local folder behind mount ${JSON.stringify(this.#mountPath)}`);
    }
    const info = await d.stat(root);
    if (!info.isDirectory) {
      throw new ToolError(
        `the local path behind mount ${JSON.stringify(this.#mountPath)} is not a folder`,
        ErrorCode.INVALID_STATE,
      );
    }
    return root;
  }

  #inside(root: string, real: string): boolean {
    if (real === root) return true;
    const prefix = root.endsWith(this.#sep) ? root : root + this.#sep;
    return real.startsWith(prefix);
  }

  #join(base: string, segments: readonly string[]): string {
    if (segments.length === 0) return base;
    const prefix = base.endsWith(this.#sep) ? base : base + this.#sep;
    return prefix + segments.join(this.#sep);
  }

  #checkSegments(segments: readonly string[], shown: string): void {
    for (const s of segments) {
      if (
        s === "" || s === "." || s === ".." || s.includes("\0") || s.includes("/") ||
        (this.#sep === "\\" && (s.includes("\\") || s.includes(":")))
      ) {
        throw new ToolError(
          `the path ${JSON.stringify(shown)} has a segment a local mount does not allow`,
          ErrorCode.STORAGE_INVALID_PATH,
        );
      }
    }
  }

  #escape(shown: string): ToolError {
    return new ToolError(
      `${JSON.stringify(shown)} leads outside the mounted folder (a symbolic link); only ` +
        "files inside the mount are reachable",
      ErrorCode.PERMISSION_DENIED,
    );
  }

  #hostError(e: unknown, what: string): unknown {
    if (e instanceof ToolError) return e;
    if (isError(e, "NotFound")) {
      return new ToolError(`${what} does not exist`, ErrorCode.STORAGE_NOT_FOUND);
    }
    if (isError(e, "PermissionDenied")) {
      return new ToolError(
        `the host does not allow access to ${what}: ${(e as Error).message}`,
        ErrorCode.PERMISSION_DENIED,
      );
    }
    return new ToolError(
      `${what} failed on the local disk: ${e instanceof Error ? e.message : String(e)}`,
      ErrorCode.OPERATION_FAILED,
    );
  }

  /** The real path of an existing file or folder, checked to lie inside the mount. */
  async #real(root: string, segments: readonly string[], shown: string): Promise<string> {
    this.#checkSegments(segments, shown);
    let real: string;
    try {
      real = await deno().realPath(this.#join(root, segments));
    } catch (e) {
      throw this.#hostError(e, JSON.stringify(shown));
    }
    if (!this.#inside(root, real)) throw this.#escape(shown);
    return real;
  }

  /** Describes a file or folder, or null when nothing is there. */
  async stat(segments: readonly string[], shown: string): Promise<LocalEntry | null> {
    const root = await this.#root();
    let real: string;
    try {
      real = await this.#real(root, segments, shown);
    } catch (e) {
      if (e instanceof ToolError && e.code === ErrorCode.STORAGE_NOT_FOUND) return null;
      throw e;
    }
    const info = await deno().stat(real);
    return {
      name: segments.at(-1) ?? "",
      isFolder: info.isDirectory,
      size: info.isDirectory ? null : info.size,
    };
  }

  /**
   * Lists a folder's direct children sorted by name (the room's shape: folders have no size).
   * Symbolic links are followed when they stay inside the mount and left out otherwise; other
   * special files (sockets, pipes, devices) are left out.
   *
   * @returns The entries, or undefined when there is no folder there.
   */
  async list(segments: readonly string[], shown: string): Promise<LocalEntry[] | undefined> {
    const d = deno();
    const root = await this.#root();
    let real: string;
    try {
      real = await this.#real(root, segments, shown);
    } catch (e) {
      if (e instanceof ToolError && e.code === ErrorCode.STORAGE_NOT_FOUND) return undefined;
      throw e;
    }
    if (!(await d.stat(real)).isDirectory) return undefined;
    const out: LocalEntry[] = [];
    for await (const entry of d.readDir(real)) {
      const full = this.#join(real, [entry.name]);
      try {
        let target = full;
        if (entry.isSymlink) {
          target = await d.realPath(full);
          if (!this.#inside(root, target)) continue;
        }
        const info = entry.isSymlink ? await d.stat(target) : await d.lstat(full);
        if (info.isDirectory) out.push({ name: entry.name, isFolder: true, size: null });
        else if (info.isFile) out.push({ name: entry.name, isFolder: false, size: info.size });
      } catch {
        // A dangling link, or an entry removed while listing: not shown.
      }
    }
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return out;
  }

  /**
   * Reads a regular file, at most `max` bytes.
   *
   * @returns The bytes, or undefined when the file is larger than `max`.
   */
  async read(
    segments: readonly string[],
    shown: string,
    max: number,
  ): Promise<Uint8Array | undefined> {
    const real = await this.#real(await this.#root(), segments, shown);
    const d = deno();
    let file: Deno.FsFile;
    try {
      file = await d.open(real, { read: true });
    } catch (e) {
      throw this.#hostError(e, JSON.stringify(shown));
    }
    try {
      const info = await file.stat();
      if (!info.isFile) {
        throw new ToolError(
          `${JSON.stringify(shown)} is not a regular file`,
          ErrorCode.INVALID_REQUEST,
        );
      }
      const chunks: Uint8Array[] = [];
      let total = 0;
      const buf = new Uint8Array(64 * 1024);
      for (;;) {
        const n = await file.read(buf);
        if (n === null) break;
        total += n;
        if (total > max) return undefined;
        chunks.push(buf.slice(0, n));
      }
      const data = new Uint8Array(total);
      let at = 0;
      for (const c of chunks) {
        data.set(c, at);
        at += c.length;
      }
      return data;
    } finally {
      file.close();
    }
  }

  /**
   * Writes a file atomically: the data goes to a temporary file in the same folder, which is
   * then renamed over the target (`overwrite`) or hard-linked to it (no overwrite: fails when
   * the target exists, even if it appeared meanwhile). Missing parent folders are created.
   *
   * @returns The number of bytes written.
   * @throws {ToolError} 3005 when the file exists and `overwrite` is false; 1002 when the
   *   target or a parent is of the wrong kind; 1001 for a path leading out of the mount.
   */
  async write(
    segments: readonly string[],
    shown: string,
    source: Uint8Array | ReadableStream<Uint8Array>,
    overwrite: boolean,
  ): Promise<number> {
    this.#checkSegments(segments, shown);
    if (segments.length === 0) {
      throw new ToolError("give a file path to write to", ErrorCode.STORAGE_INVALID_PATH);
    }
    const d = deno();
    const root = await this.#root();
    const name = segments[segments.length - 1];
    // Walk (and create) the parent folders, checking each existing one stays in the mount.
    let dir = root;
    for (const segment of segments.slice(0, -1)) {
      const next = this.#join(dir, [segment]);
      let info: Deno.FileInfo | undefined;
      try {
        info = await d.lstat(next);
      } catch (e) {
        if (!isError(e, "NotFound")) throw this.#hostError(e, JSON.stringify(shown));
      }
      if (info === undefined) {
        try {
          await d.mkdir(next);
        } catch (e) {
          if (!isError(e, "AlreadyExists")) throw this.#hostError(e, JSON.stringify(shown));
        }
      }
      const real = await d.realPath(next).catch((e) => {
        throw this.#hostError(e, JSON.stringify(shown));
      });
      if (!this.#inside(root, real)) throw this.#escape(shown);
      if (!(await d.stat(real)).isDirectory) {
        throw new ToolError(
          `cannot write ${JSON.stringify(shown)}: ${
            JSON.stringify(segment)
          } is a file, so it cannot hold other files`,
          ErrorCode.INVALID_REQUEST,
        );
      }
      dir = real;
    }
    const target = this.#join(dir, [name]);
    const existing = await d.lstat(target).catch(() => undefined);
    if (existing?.isDirectory) {
      throw new ToolError(
        `${JSON.stringify(shown)} is a folder; write to a file path`,
        ErrorCode.INVALID_REQUEST,
      );
    }
    if (existing && !overwrite) throw alreadyExists(shown);
    const temp = this.#join(dir, [`.${name}.${crypto.randomUUID()}.tmp`]);
    let size = 0;
    try {
      const file = await d.open(temp, { write: true, createNew: true });
      try {
        if (source instanceof Uint8Array) {
          await writeAll(file, source);
          size = source.length;
        } else {
          const reader = source.getReader();
          try {
            for (;;) {
              let next: ReadableStreamReadResult<Uint8Array>;
              try {
                next = await reader.read();
              } catch (e) {
                throw new SourceFailed(e);
              }
              if (next.done) break;
              await writeAll(file, next.value);
              size += next.value.length;
            }
          } finally {
            await reader.cancel().catch(() => {});
          }
        }
        await file.syncData();
      } finally {
        file.close();
      }
      if (overwrite) {
        await d.rename(temp, target);
      } else {
        try {
          await d.link(temp, target);
        } catch (e) {
          if (isError(e, "AlreadyExists")) throw alreadyExists(shown);
          // No hard links on this file system: check, then rename (a small race).
          if (await d.lstat(target).then(() => true, () => false)) throw alreadyExists(shown);
          await d.rename(temp, target);
        }
      }
    } catch (e) {
      // The source's own failure (a download limit, a timeout) is reported as it is.
      if (e instanceof SourceFailed) throw e.cause;
      throw this.#hostError(e, `writing ${JSON.stringify(shown)}`);
    } finally {
      await d.remove(temp).catch(() => {});
    }
    return size;
  }
}

/** Wraps a failure of the data being written, as opposed to one of the disk. */
class SourceFailed {
  constructor(readonly cause: unknown) {}
}

function alreadyExists(shown: string): ToolError {
  return new ToolError(
    `${JSON.stringify(shown)} already exists; pass overwrite: true to replace it`,
    ErrorCode.STORAGE_ALREADY_EXISTS,
  );
}

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let at = 0;
  while (at < data.length) at += await file.write(data.subarray(at));
}
