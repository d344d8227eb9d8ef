// The documents of a room, found in its storage: the sync service keeps each document as a file
// stored with the MIME type application/vnd.meshagent.document (server/_document_host.ts), so the
// storage tree is walked and each file's type read from the start of its download (the download
// is cancelled before its bytes come). Web-standard code only (runs in the browser and in tests).
import type { RoomClient } from "@meshagent/api";

/** The MIME type the room server stores documents with. */
export const DOCUMENT_MIME_TYPE = "application/vnd.meshagent.document";

/** [impl] At most this many files are looked at (a room with more lists the first ones). */
const MAX_FILES = 300;
/** [impl] Folders deeper than this are not walked. */
const MAX_DEPTH = 6;

/** [impl] This many files' types are asked for at once. */
const LOOKUPS_AT_ONCE = 8;

/** What {@linkcode listDocuments} found. */
export interface DocumentListing {
  /** The document paths, sorted. */
  paths: string[];
  /** True when the walk stopped at its file limit (more documents may exist). */
  truncated: boolean;
}

async function mimeType(room: RoomClient, path: string): Promise<string | null> {
  try {
    const download = await room.storage.downloadStream(path, {
      chunkSize: 1024,
      pullWindow: 1,
      timeout: 10_000,
    });
    await download.stream.cancel().catch(() => {});
    return download.mimeType;
  } catch {
    return null; // gone meanwhile, or not readable with this grant: not listed
  }
}

/**
 * Lists the room's documents: every file under `folder` (walked breadth first, `.schemas` left
 * out) stored as a document.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DOCUMENT_MIME_TYPE } from "./_document_list.ts";
 * assert.equal(DOCUMENT_MIME_TYPE, "application/vnd.meshagent.document");
 * ```
 *
 * @param room A started room client.
 * @param folder Where to start (default: the storage root).
 * @returns The document paths, and whether the walk was cut short.
 */
export async function listDocuments(room: RoomClient, folder = ""): Promise<DocumentListing> {
  const files: string[] = [];
  let truncated = false;
  let level = [folder];
  for (let depth = 0; depth <= MAX_DEPTH && level.length > 0 && !truncated; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      for (const entry of await room.storage.list(dir)) {
        const path = dir ? `${dir}/${entry.name}` : entry.name;
        if (entry.isFolder) {
          if (path !== ".schemas") next.push(path);
        } else if (files.length < MAX_FILES) {
          files.push(path);
        } else {
          truncated = true;
        }
      }
    }
    level = next;
  }
  const types: (string | null)[] = [];
  for (let at = 0; at < files.length; at += LOOKUPS_AT_ONCE) {
    const batch = files.slice(at, at + LOOKUPS_AT_ONCE);
    types.push(...await Promise.all(batch.map((path) => mimeType(room, path))));
  }
  return {
    paths: files.filter((_, i) => types[i] === DOCUMENT_MIME_TYPE).sort(),
    truncated,
  };
}
