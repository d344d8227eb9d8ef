// Private: small file system helpers of the local file store (Deno only).
import { ErrorCode } from "@meshagent/api";
import { type FileInfo, StorageError } from "./file_store.ts";

export function folderInfo(rel: string): FileInfo {
  return { name: baseOf(rel), path: rel, isFolder: true };
}

export function parentOf(rel: string): string {
  const i = rel.lastIndexOf("/");
  return i < 0 ? "" : rel.slice(0, i);
}

export function baseOf(rel: string): string {
  return rel.slice(rel.lastIndexOf("/") + 1);
}

export function isMissing(e: unknown): boolean {
  return e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory;
}

export async function lstatOrUndefined(fsPath: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(fsPath);
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

export async function removeQuietly(fsPath: string, recursive: boolean): Promise<void> {
  try {
    await Deno.remove(fsPath, { recursive });
  } catch {
    // gone already, or not empty: nothing to do
  }
}

export async function fsyncDir(fsDir: string): Promise<void> {
  // Best effort: some file systems refuse fsync on folders; the rename itself is atomic.
  try {
    const dir = await Deno.open(fsDir, { read: true });
    try {
      await dir.sync();
    } finally {
      dir.close();
    }
  } catch {
    // ignore
  }
}

export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
}

export function ioError(rel: string, e: unknown): StorageError {
  if (e instanceof StorageError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (/os error 28\b|No space left/i.test(message)) {
    return new StorageError(
      `the server's disk is full while writing '${rel}'; free some space`,
      ErrorCode.OPERATION_FAILED,
      rel,
      { cause: e },
    );
  }
  return new StorageError(
    `storage failed on '${rel}': ${message}`,
    ErrorCode.OPERATION_FAILED,
    rel,
    { cause: e },
  );
}
