// The byte-level pieces of framing shared by framing.ts, packing.ts and protocol.ts: packet
// headers, the message-type cache, and a slab allocator for outgoing frames.
//
// Typed-array allocation is expensive in V8 (a fresh backing store, external-memory accounting
// and GC work per array: about as much as encoding the few hundred bytes of a typical message),
// so outgoing frames are views into a shared slab, as Node's Buffer pool does. A slab is never
// written again once handed out, so a frame stays valid for as long as anyone holds it; a held
// frame keeps its slab (at most SLAB_SIZE bytes) alive.
import { decodeUtf8, encodeUtf8, encodeUtf8Into } from "./_utf8.ts";

const SLAB_SIZE = 32 * 1024;
/** Frames up to this size come from the slab; larger ones get their own buffer. */
const MAX_POOLED = 4 * 1024;

let slab = new ArrayBuffer(SLAB_SIZE);
let slabBytes = new Uint8Array(slab);
let used = 0;

/**
 * Allocates `size` bytes for an outgoing frame (not zeroed).
 *
 * @param size The size.
 * @returns The bytes.
 */
export function allocFrame(size: number): Uint8Array {
  if (size > MAX_POOLED) return new Uint8Array(size);
  if (used + size > SLAB_SIZE) newSlab();
  const out = new Uint8Array(slab, used, size);
  used += size;
  return out;
}

function newSlab(): void {
  slab = new ArrayBuffer(SLAB_SIZE);
  slabBytes = new Uint8Array(slab);
  used = 0;
}

/** Writes a message id as 8 big-endian bytes at `offset`. */
export function writeId(out: Uint8Array, offset: number, id: number): void {
  const high = Math.floor(id / 0x1_0000_0000);
  const low = id >>> 0;
  out[offset] = high >>> 24;
  out[offset + 1] = (high >>> 16) & 0xff;
  out[offset + 2] = (high >>> 8) & 0xff;
  out[offset + 3] = high & 0xff;
  out[offset + 4] = low >>> 24;
  out[offset + 5] = (low >>> 16) & 0xff;
  out[offset + 6] = (low >>> 8) & 0xff;
  out[offset + 7] = low & 0xff;
}

/** Writes a 32-bit big-endian unsigned integer at `offset`. */
export function writeUint32(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value >>> 24;
  out[offset + 1] = (value >>> 16) & 0xff;
  out[offset + 2] = (value >>> 8) & 0xff;
  out[offset + 3] = value & 0xff;
}

/** Reads a 32-bit big-endian unsigned integer at `offset`. */
export function readUint32(b: Uint8Array, offset: number): number {
  return ((b[offset] << 24) | (b[offset + 1] << 16) | (b[offset + 2] << 8) | b[offset + 3]) >>> 0;
}

// Message types repeat (a few dozen names), so their bytes are kept once each, and incoming type
// bytes are matched against the types seen before instead of being decoded again.
const typeBytes = new Map<string, Uint8Array>();
const TYPE_CACHE_LIMIT = 1024;
const seenTypes: { bytes: Uint8Array; text: string }[] = [];
const SEEN_LIMIT = 64;

/**
 * The UTF-8 bytes of a message type (cached).
 *
 * @param type The type.
 * @returns Its bytes; do not modify.
 */
export function encodeType(type: string): Uint8Array {
  let bytes = typeBytes.get(type);
  if (!bytes) {
    bytes = encodeUtf8(type);
    if (typeBytes.size < TYPE_CACHE_LIMIT) typeBytes.set(type, bytes);
  }
  return bytes;
}

/**
 * Decodes the type of a header packet: the bytes from `offset` to the end of `frame`.
 *
 * @param frame The header packet.
 * @param offset Where the type starts (16).
 * @returns The type.
 * @throws {TypeError} When the bytes are not valid UTF-8.
 */
export function decodeType(frame: Uint8Array, offset: number): string {
  const n = frame.length - offset;
  for (let e = 0; e < seenTypes.length; e++) {
    const entry = seenTypes[e];
    const b = entry.bytes;
    if (b.length !== n) continue;
    let i = 0;
    while (i < n && b[i] === frame[offset + i]) i++;
    if (i === n) return entry.text;
  }
  // A copy (never a view: a caller's frame buffer may be reused, a Buffer's `slice` shares it).
  const bytes = new Uint8Array(n);
  bytes.set(frame.subarray(offset));
  const text = decodeUtf8(bytes);
  if (seenTypes.length < SEEN_LIMIT && n <= 128) seenTypes.push({ bytes, text });
  return text;
}

/**
 * Builds the header packet of a message: id, index 0, packet count, type.
 *
 * @param id The message id.
 * @param type The message type.
 * @param count The number of data packets.
 * @returns The frame.
 */
export function headerFrame(id: number, type: string, count: number): Uint8Array {
  const typeData = encodeType(type);
  const head = allocFrame(16 + typeData.length);
  writeId(head, 0, id);
  writeUint32(head, 8, 0);
  writeUint32(head, 12, count);
  head.set(typeData, 16);
  return head;
}

/**
 * Packs a JSON header text and a payload in the packed-message layout (8-byte big-endian header
 * length, UTF-8 JSON, payload), in a buffer of its own.
 *
 * [impl] With a payload, the header is padded with spaces (JSON whitespace, which every JSON
 * parser takes) so that the payload starts at a multiple of 8 bytes from the message's start: a
 * receiver that assembles the message in a buffer of its own can then read an Arrow IPC payload's
 * columns in place, where apache-arrow copies every record batch body that is not 8-byte aligned.
 *
 * @param json The JSON text.
 * @param payload The payload bytes, if any.
 * @returns The packed bytes.
 */
export function packJson(json: string, payload?: Uint8Array): Uint8Array {
  const extra = payload?.length ?? 0;
  const head = packedHead(json, extra > 0);
  if (extra === 0) return head;
  const out = new Uint8Array(head.length + extra);
  out.set(head);
  out.set(payload!, head.length);
  return out;
}

/**
 * The part of a packed message before its payload: the 8-byte length, the UTF-8 JSON text and,
 * when a payload follows, the spaces that pad it (see {@linkcode packJson}).
 *
 * @param json The JSON text.
 * @param withPayload Whether a payload follows.
 * @returns The bytes.
 */
export function packedHead(json: string, withPayload: boolean): Uint8Array {
  const n = json.length;
  const padded = (length: number) => withPayload ? (length + 7) & ~7 : length;
  // Assume ASCII; a string with other characters does not fit and is encoded again.
  let out = new Uint8Array(8 + padded(n));
  let length = n;
  if (encodeUtf8Into(json, out.subarray(8, 8 + n)) !== n) {
    const bytes = encodeUtf8(json);
    length = bytes.length;
    out = new Uint8Array(8 + padded(length));
    out.set(bytes, 8);
  }
  const header = padded(length);
  out.fill(0x20, 8 + length, 8 + header);
  writeUint32(out, 0, 0);
  writeUint32(out, 4, header);
  return out;
}

/**
 * Cuts a message's data, given as consecutive parts, into data packets 1..N of `chunkSize` bytes
 * without copying it: each packet is passed to `emit` as its 12-byte packet header followed by
 * views of the parts.
 *
 * @param id The message id.
 * @param parts The data, in order.
 * @param chunkSize Data bytes per packet.
 * @param emit Takes each packet's pieces.
 * @returns The number of data packets.
 */
export function dataPacketParts(
  id: number,
  parts: readonly Uint8Array[],
  chunkSize: number,
  emit: (pieces: Uint8Array[]) => void,
): number {
  let total = 0;
  for (const part of parts) total += part.length;
  const count = Math.ceil(total / chunkSize);
  let p = 0;
  let offset = 0;
  for (let i = 1; i <= count; i++) {
    const head = allocFrame(12);
    writeId(head, 0, id);
    writeUint32(head, 8, i);
    const pieces = [head];
    let room = chunkSize;
    while (room > 0 && p < parts.length) {
      const part = parts[p];
      const take = Math.min(room, part.length - offset);
      if (take > 0) pieces.push(part.subarray(offset, offset + take));
      room -= take;
      offset += take;
      if (offset === part.length) {
        p++;
        offset = 0;
      }
    }
    emit(pieces);
  }
  return count;
}

/**
 * Builds the single data packet (index 1) of a message whose data is a packed message of `json`
 * and `payload`, writing the JSON straight into the frame. Returns `null` when the packed
 * message does not fit in one packet of `chunkSize` data bytes.
 *
 * @param id The message id.
 * @param json The JSON header text.
 * @param payload The payload bytes, if any.
 * @param chunkSize Data bytes per packet.
 * @returns The frame, or `null`.
 */
export function packedDataFrame(
  id: number,
  json: string,
  payload: Uint8Array | undefined,
  chunkSize: number,
): Uint8Array | null {
  const extra = payload?.length ?? 0;
  const n = json.length;
  if (8 + n + extra > chunkSize) return null; // even as ASCII it needs more packets
  const worst = 20 + 3 * n + 7 + extra;
  if (worst > MAX_POOLED) return null;
  if (used + worst > SLAB_SIZE) newSlab();
  const start = used;
  const written = encodeUtf8Into(json, slabBytes.subarray(start + 20, start + 20 + 3 * n));
  // The header padded as packJson pads it (the slab has room: `worst` counts 3 bytes a character).
  const header = extra > 0 ? (written + 7) & ~7 : written;
  if (8 + header + extra > chunkSize) return null; // nothing committed: the slab space is free
  const size = 20 + header + extra;
  const frame = new Uint8Array(slab, start, size);
  used = start + size;
  writeId(frame, 0, id);
  writeUint32(frame, 8, 1);
  writeUint32(frame, 12, 0);
  writeUint32(frame, 16, header);
  frame.fill(0x20, 20 + written, 20 + header);
  if (extra > 0) frame.set(payload!, 20 + header);
  return frame;
}

/**
 * Writes a message id given exactly as a bigint (any 64-bit value) as 8 big-endian bytes.
 *
 * @param out The frame.
 * @param offset Where the id goes (0).
 * @param id The id, from 0 to 2^64-1.
 */
export function writeBigId(out: Uint8Array, offset: number, id: bigint): void {
  writeUint32(out, offset, Number((id >> 32n) & 0xffff_ffffn));
  writeUint32(out, offset + 4, Number(id & 0xffff_ffffn));
}
