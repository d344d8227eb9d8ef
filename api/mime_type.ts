// MIME types from file extensions: the table of the official TypeScript client (so a file
// uploaded without a type gets the type the client would have sent) plus a few common extras.
// Used by the storage client and by the server's file store.

const BY_SUFFIX: ReadonlyArray<readonly [string, string]> = [
  [".tar.gz", "application/x-tar"],
  [".tgz", "application/x-tar"],
];

const BY_EXTENSION: ReadonlyMap<string, string> = new Map([
  // The official client's table (npm @meshagent/meshagent 0.39.9, storage-client.js).
  [".bin", "application/octet-stream"],
  [".css", "text/css"],
  [".csv", "text/csv"],
  [".gif", "image/gif"],
  [".gz", "application/gzip"],
  [".htm", "text/html"],
  [".html", "text/html"],
  [".jpeg", "image/jpeg"],
  [".jpg", "image/jpeg"],
  [".js", "text/javascript"],
  [".json", "application/json"],
  [".md", "text/markdown"],
  [".mp3", "audio/mpeg"],
  [".mp4", "video/mp4"],
  [".pdf", "application/pdf"],
  [".png", "image/png"],
  [".svg", "image/svg+xml"],
  [".tar", "application/x-tar"],
  [".txt", "text/plain"],
  [".ts", "text/typescript"],
  [".tsx", "text/tsx"],
  [".wasm", "application/wasm"],
  [".webp", "image/webp"],
  [".xml", "application/xml"],
  [".yaml", "application/yaml"],
  [".yml", "application/yaml"],
  [".zip", "application/zip"],
  // Extras.
  [".avif", "image/avif"],
  [".bmp", "image/bmp"],
  [".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
  [".flac", "audio/flac"],
  [".ico", "image/vnd.microsoft.icon"],
  [".jsonl", "application/jsonl"],
  [".m4a", "audio/mp4"],
  [".mjs", "text/javascript"],
  [".mov", "video/quicktime"],
  [".ogg", "audio/ogg"],
  [".opus", "audio/opus"],
  [".parquet", "application/vnd.apache.parquet"],
  [".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"],
  [".py", "text/x-python"],
  [".rtf", "application/rtf"],
  [".sqlite", "application/vnd.sqlite3"],
  [".tif", "image/tiff"],
  [".tiff", "image/tiff"],
  [".wav", "audio/wav"],
  [".webm", "video/webm"],
  [".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
]);

/**
 * The type of bytes nobody described.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_MIME_TYPE } from "@meshagent/api";
 * assert(DEFAULT_MIME_TYPE === "application/octet-stream");
 * ```
 */
export const DEFAULT_MIME_TYPE = "application/octet-stream";

/**
 * Infers a MIME type from a file name's extension (case-insensitive).
 *
 * @param name A file name or path.
 * @returns The MIME type, {@linkcode DEFAULT_MIME_TYPE} when the extension is unknown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mimeTypeForName } from "@meshagent/api";
 * assert(mimeTypeForName("notes/Report.PDF") === "application/pdf");
 * ```
 */
export function mimeTypeForName(name: string): string {
  const lower = name.slice(name.lastIndexOf("/") + 1).toLowerCase();
  for (const [suffix, type] of BY_SUFFIX) {
    if (lower.endsWith(suffix)) return type;
  }
  const dot = lower.lastIndexOf(".");
  if (dot < 0) return DEFAULT_MIME_TYPE;
  return BY_EXTENSION.get(lower.slice(dot)) ?? DEFAULT_MIME_TYPE;
}
