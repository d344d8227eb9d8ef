/**
 * Room storage ↔ local files. **Deno only** (uses `Deno.open`); the rest of `@meshagent/api`
 * stays browser-safe.
 *
 * @module
 */
import type {
  StorageClient,
  StorageDownloadOptions,
  StorageUploadOptions,
} from "./storage_client.ts";

/**
 * Uploads a local file to room storage, streaming it from disk (memory stays flat for large
 * files). The size is sent along, so the server refuses a file that changed length meanwhile.
 * Deno only.
 *
 * @param storage The room's storage client (`room.storage`).
 * @param localPath The local file.
 * @param path The destination storage path.
 * @param options Overwrite, name, MIME type, progress, timeout and cancellation (`size` is taken
 *   from the file).
 *
 * @example Uploading a file (needs a running room, so shown without running it)
 * ```ts
 * import assert from "node:assert/strict";
 * import { type RoomClient, uploadFile } from "@meshagent/api";
 * async function publish(room: RoomClient) {
 *   await uploadFile(room.storage, "./report.pdf", "reports/2025.pdf", {
 *     overwrite: true,
 *     onProgress: ({ bytes, total }) => console.error(`${bytes}/${total}`),
 *   });
 * }
 * assert(typeof publish === "function");
 * ```
 */
export async function uploadFile(
  storage: StorageClient,
  localPath: string,
  path: string,
  options: Omit<StorageUploadOptions, "size"> = {},
): Promise<void> {
  const file = await Deno.open(localPath, { read: true });
  try {
    const { size } = await file.stat();
    await storage.upload(path, fileChunks(file), { ...options, size });
  } finally {
    try {
      file.close();
    } catch { /* closed already */ }
  }
}

async function* fileChunks(file: Deno.FsFile): AsyncGenerator<Uint8Array> {
  const buffer = new Uint8Array(1024 * 1024);
  while (true) {
    const n = await file.read(buffer);
    if (n === null) return;
    // The uploader copies a chunk into its message before asking for the next one.
    yield buffer.subarray(0, n);
  }
}

/**
 * Downloads a room file to a local file. The bytes go to `<localPath>.part` first, which is
 * renamed over `localPath` only when the download completed, so a failure never leaves a
 * truncated file at `localPath`. Deno only.
 *
 * @param storage The room's storage client (`room.storage`).
 * @param path The storage path.
 * @param localPath The local destination (replaced when it exists).
 * @param options Chunk size, pull window, progress, timeout and cancellation.
 * @returns The file's size, name and MIME type.
 *
 * @example Downloading a file (needs a running room, so shown without running it)
 * ```ts
 * import assert from "node:assert/strict";
 * import { downloadFile, type RoomClient } from "@meshagent/api";
 * async function fetchReport(room: RoomClient) {
 *   const { size } = await downloadFile(room.storage, "reports/2025.pdf", "./2025.pdf");
 *   console.log(`${size} bytes`);
 * }
 * assert(typeof fetchReport === "function");
 * ```
 */
export async function downloadFile(
  storage: StorageClient,
  path: string,
  localPath: string,
  options: StorageDownloadOptions = {},
): Promise<{ size: number; name: string; mimeType: string }> {
  const download = await storage.downloadStream(path, options);
  const temp = `${localPath}.part`;
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(temp, { write: true, create: true, truncate: true });
    for await (const chunk of download.stream) {
      let written = 0;
      while (written < chunk.length) written += await file.write(chunk.subarray(written));
    }
    file.close();
    file = undefined;
    await Deno.rename(temp, localPath);
  } catch (e) {
    await download.stream.cancel().catch(() => {});
    try {
      file?.close();
    } catch { /* closed already */ }
    await Deno.remove(temp).catch(() => {});
    throw e;
  }
  return { size: download.size, name: download.name, mimeType: download.mimeType };
}
