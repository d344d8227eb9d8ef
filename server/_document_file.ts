// Private: the file format of a synchronized document in room storage (protocol-data §2.8 [impl]).
//
//   "MSHDOC01"  8 bytes magic
//   u32 BE      length of the JSON header
//   JSON header {"schema": <MeshSchema JSON>, "schema_path": string | null}
//   the rest    the Yjs v1 state (Y.encodeStateAsUpdate)
//
// The schema travels with the document, so a document moved or copied with the storage toolkit
// keeps its schema. A file without the magic is read as a bare Yjs v1 update (no recorded schema;
// the schema then comes from the path's extension).
import type { JsonObject } from "@meshagent/api";

const MAGIC = new TextEncoder().encode("MSHDOC01");
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A decoded document file. */
export interface DocumentFile {
  /** The recorded MeshSchema JSON, or null for a bare Yjs file. */
  schema: JsonObject | null;
  /** Where the schema was read from when it came from storage, if known. */
  schemaPath: string | null;
  /** The Yjs v1 state. */
  state: Uint8Array;
}

/** Encodes a document file. */
export function encodeDocumentFile(
  schema: JsonObject,
  schemaPath: string | null,
  state: Uint8Array,
): Uint8Array {
  const header = encoder.encode(JSON.stringify({ schema, schema_path: schemaPath }));
  const out = new Uint8Array(MAGIC.length + 4 + header.length + state.length);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, header.length);
  out.set(header, MAGIC.length + 4);
  out.set(state, MAGIC.length + 4 + header.length);
  return out;
}

/**
 * Decodes a document file.
 *
 * @throws {Error} When the file has the magic but a broken header.
 */
export function decodeDocumentFile(bytes: Uint8Array): DocumentFile {
  if (bytes.length < MAGIC.length + 4 || !MAGIC.every((b, i) => bytes[i] === b)) {
    return { schema: null, schemaPath: null, state: bytes };
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(MAGIC.length);
  const start = MAGIC.length + 4;
  if (start + length > bytes.length) throw new Error("the document header is truncated");
  const header = JSON.parse(decoder.decode(bytes.subarray(start, start + length)));
  if (header === null || typeof header !== "object" || typeof header.schema !== "object") {
    throw new Error("the document header has no schema");
  }
  return {
    schema: header.schema as JsonObject,
    schemaPath: typeof header.schema_path === "string" ? header.schema_path : null,
    state: bytes.subarray(start + length),
  };
}
