import { ProtocolError } from "./errors.ts";
import { decodeUtf8 } from "./_utf8.ts";
import { packJson, readUint32 } from "./_frames.ts";

/** A JSON object as it travels in a packed message header. */
export type JsonObject = { [key: string]: unknown };

/** A packed message taken apart: its JSON header object and its (possibly empty) payload. */
export interface PackedMessage {
  /** The JSON header. Always an object; the `__meshagent__` trace key is removed. */
  header: JsonObject;
  /** The bytes after the header; empty when there is no attachment. */
  payload: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/**
 * Packs a JSON object and an optional payload into the wire layout: an 8-byte big-endian header
 * length, the UTF-8 JSON header, then the payload.
 *
 * Keys whose value is `undefined` are left out, as `JSON.stringify` does.
 *
 * @param header The JSON object to send.
 * @param payload The bytes to append, if any.
 * @returns The packed bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packMessage, unpackMessage } from "@meshagent/api";
 * const bytes = packMessage({ hello: "world" }, new Uint8Array([1, 2, 3]));
 * const { header, payload } = unpackMessage(bytes);
 * assert(header.hello === "world" && payload.length === 3);
 * ```
 */
export function packMessage(header: JsonObject, payload?: Uint8Array): Uint8Array {
  return packJson(JSON.stringify(header), payload);
}

/**
 * Packs a header that is already JSON text, and an optional payload, into the wire layout of
 * {@linkcode packMessage}. For relays that forward JSON they received without re-serialising it;
 * the text must be a JSON object (it is not checked).
 *
 * @param headerJson The JSON text of the header object.
 * @param payload The bytes to append, if any.
 * @returns The packed bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packMessageJson, unpackMessage } from "@meshagent/api";
 * const received = '{"text":"hi"}';
 * const { header } = unpackMessage(packMessageJson(`{"from":"a","message":${received}}`));
 * assert.deepEqual(header, { from: "a", message: { text: "hi" } });
 * ```
 */
export function packMessageJson(headerJson: string, payload?: Uint8Array): Uint8Array {
  return packJson(headerJson, payload);
}

/**
 * Takes a packed message apart. The header must be a JSON object; a top-level `__meshagent__` key
 * (trace context added by the Python SDK) is removed.
 *
 * @param data The packed bytes.
 * @returns The header and the payload (a view into `data`, not a copy).
 * @throws {ProtocolError} When the bytes are too short, the length is out of range, or the header
 * is not a UTF-8 JSON object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packMessage, unpackMessage } from "@meshagent/api";
 * const { header, payload } = unpackMessage(packMessage({ type: "empty" }));
 * assert(header.type === "empty" && payload.length === 0);
 * ```
 */
export function unpackMessage(data: Uint8Array): PackedMessage {
  if (data.length < 8) {
    throw new ProtocolError(`packed message is ${data.length} bytes; it needs at least 8`);
  }
  const length = readUint32(data, 0) * 0x1_0000_0000 + readUint32(data, 4);
  if (length > data.length - 8) {
    throw new ProtocolError(
      `packed message header length ${length} exceeds the ${data.length - 8} bytes present`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(decodeUtf8(data.subarray(8, 8 + length)));
  } catch (e) {
    throw new ProtocolError(`packed message header is not valid UTF-8 JSON: ${errorText(e)}`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw new ProtocolError("packed message header must be a JSON object");
  }
  const obj = header as JsonObject;
  if ("__meshagent__" in obj) delete obj.__meshagent__;
  const payload = 8 + length === data.length ? EMPTY : data.subarray(8 + length);
  return { header: obj, payload };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
