// Names and MIME types of uploads, as the official client infers them.
import { mimeTypeForName } from "./mime_type.ts";

/** The MIME type for a file name, as the official client infers it (plus a few extras). */
export function uploadMimeType(name: string): string {
  return mimeTypeForName(name);
}

/** The display name for a path: its last non-empty segment (the path itself when none). */
export function uploadName(path: string): string {
  const segments = path.split("/").filter((s) => s.length > 0);
  return segments.at(-1) ?? path;
}
