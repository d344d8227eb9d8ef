// The sync payload form of a Yjs update: the ASCII bytes of its standard base64 text (spec §2.4).
import { base64ToBytes, bytesToBase64 } from "./_base64.ts";
import { MeshDocumentError } from "./mesh_document_error.ts";

const ASCII = new TextEncoder();
const ASCII_DECODER = new TextDecoder("ascii");

/**
 * Encodes a Yjs update (or state vector) as a sync payload: the ASCII bytes of its standard
 * base64 text (spec §2.4).
 *
 * @param update The binary update.
 * @returns The payload bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromWireUpdate, toWireUpdate } from "@meshagent/api";
 * const wire = toWireUpdate(new Uint8Array([0, 0]));
 * assert(new TextDecoder().decode(wire) === "AAA=");
 * assert(fromWireUpdate(wire).length === 2);
 * ```
 */
export function toWireUpdate(update: Uint8Array): Uint8Array {
  return ASCII.encode(bytesToBase64(update));
}

/**
 * Decodes a sync payload (the ASCII bytes of base64 text, spec §2.4) into the binary update.
 * An empty payload gives an empty update.
 *
 * @param payload The payload bytes.
 * @returns The binary update.
 * @throws {MeshDocumentError} When the payload is not base64 text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromWireUpdate } from "@meshagent/api";
 * assert(fromWireUpdate(new TextEncoder().encode("AAA=")).length === 2);
 * ```
 */
export function fromWireUpdate(payload: Uint8Array): Uint8Array {
  if (payload.length === 0) return new Uint8Array(0);
  const text = ASCII_DECODER.decode(payload).trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) {
    throw new MeshDocumentError(
      "a sync payload must be standard base64 text of a Yjs update",
    );
  }
  try {
    return base64ToBytes(text);
  } catch (e) {
    throw new MeshDocumentError(`a sync payload is not valid base64: ${(e as Error).message}`);
  }
}
