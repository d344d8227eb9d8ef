// The upload MIME type rules of the official TypeScript client 0.39.9, so a file uploaded from
// either client is stored with the same type.

const DEFAULT = "application/octet-stream";

const BY_SUFFIX: ReadonlyArray<[string, string]> = [
  [".tar.gz", "application/x-tar"],
  [".tgz", "application/x-tar"],
];

const BY_EXTENSION: ReadonlyMap<string, string> = new Map([
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
]);

/** The MIME type for a file name, as the official client infers it. */
export function uploadMimeType(name: string): string {
  const lower = name.toLowerCase();
  for (const [suffix, type] of BY_SUFFIX) if (lower.endsWith(suffix)) return type;
  const dot = lower.lastIndexOf(".");
  return dot >= 0 ? BY_EXTENSION.get(lower.slice(dot)) ?? DEFAULT : DEFAULT;
}

/** The display name for a path: its last non-empty segment (the path itself when none). */
export function uploadName(path: string): string {
  const segments = path.split("/").filter((s) => s.length > 0);
  return segments.at(-1) ?? path;
}
