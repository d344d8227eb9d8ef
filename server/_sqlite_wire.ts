// The pipe between the server and a room's database process (_sqlite_host.ts): length-prefixed
// frames, each a JSON header and a binary payload (Arrow bytes travel as they are, never as JSON).
//
//   u32 LE  header length H
//   u32 LE  payload length P
//   H bytes JSON header (UTF-8)
//   P bytes payload
//
// Requests:  {"id": n, "op": "...", "request": {...}, "stream"?: n}      payload = the call's bytes
// Replies:   {"id": n, "reply": {"kind": ..., "json"?, "headers"?, "stream"?}}  payload = reply bytes
//            {"id": n, "error": {"message": "...", "code": n}}
// Once at start the host sends {"id": 0, "ready": true}.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NONE = new Uint8Array(0);
const INITIAL = 64 * 1024;

/** One decoded frame. */
export interface WireFrame {
  /** The JSON header. */
  header: Record<string, unknown>;
  /** The payload (a copy the caller may keep). */
  bytes: Uint8Array;
}

/**
 * Encodes one frame.
 *
 * @param header The JSON header.
 * @param bytes The payload.
 * @returns The frame's bytes.
 */
export function encodeWireFrame(header: unknown, bytes: Uint8Array = NONE): Uint8Array {
  const head = encoder.encode(JSON.stringify(header));
  const frame = new Uint8Array(8 + head.length + bytes.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, head.length, true);
  view.setUint32(4, bytes.length, true);
  frame.set(head, 8);
  frame.set(bytes, 8 + head.length);
  return frame;
}

/** Splits a byte stream into {@linkcode WireFrame}s. */
export class WireFrameReader {
  #buffer: Uint8Array = new Uint8Array(INITIAL);
  #start = 0;
  #end = 0;
  readonly #maxFrame: number;

  /**
   * @param maxFrame The largest frame accepted; a bigger length prefix is a broken pipe.
   */
  constructor(maxFrame: number) {
    this.#maxFrame = maxFrame;
  }

  /**
   * Takes the next bytes of the stream.
   *
   * @param chunk Bytes read from the pipe.
   * @returns The frames completed by them, in order.
   * @throws {Error} When a frame is over the limit or its header is not JSON.
   */
  push(chunk: Uint8Array): WireFrame[] {
    this.#append(chunk);
    const frames: WireFrame[] = [];
    while (this.#end - this.#start >= 8) {
      const view = new DataView(this.#buffer.buffer, this.#start, 8);
      const headLength = view.getUint32(0, true);
      const length = 8 + headLength + view.getUint32(4, true);
      if (length > this.#maxFrame) throw new Error(`a frame of ${length} bytes is over the limit`);
      if (this.#end - this.#start < length) break;
      const at = this.#start + 8;
      const header = JSON.parse(decoder.decode(this.#buffer.subarray(at, at + headLength)));
      const bytes = this.#buffer.slice(at + headLength, this.#start + length);
      frames.push({ header, bytes });
      this.#start += length;
    }
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      // Give back the memory of a big frame once it is through.
      if (this.#buffer.length > INITIAL * 16) this.#buffer = new Uint8Array(INITIAL);
    }
    return frames;
  }

  #append(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buffer.length) {
      const live = this.#end - this.#start;
      const needed = live + chunk.length;
      // Move the pending bytes to the front; grow (at least doubling) when they do not fit.
      const next = needed > this.#buffer.length
        ? new Uint8Array(Math.max(needed, this.#buffer.length * 2))
        : this.#buffer;
      next.set(this.#buffer.subarray(this.#start, this.#end), 0);
      this.#buffer = next;
      this.#start = 0;
      this.#end = live;
    }
    this.#buffer.set(chunk, this.#end);
    this.#end += chunk.length;
  }
}
