import { ProtocolError, UnsupportedMessageIdError } from "./errors.ts";
import {
  allocFrame,
  decodeType,
  headerFrame,
  readUint32,
  writeId,
  writeUint32,
} from "./_frames.ts";

/** The number of data bytes per packet that both official clients use. */
export const PACKET_DATA_SIZE = 1024;

/** The largest message id both official clients can represent (`2^53 - 1`). */
export const MAX_MESSAGE_ID: number = Number.MAX_SAFE_INTEGER;

/** One protocol message: an id, a type string and its data bytes. */
export interface ProtocolMessage {
  /** The 64-bit message id (kept below 2^53). */
  id: number;
  /** The message type, for example `room.invoke_tool` or `__response__`. */
  type: string;
  /** The message data; usually a packed message. */
  data: Uint8Array;
}

/**
 * Splits a protocol message into WebSocket binary frames: one header packet
 * (id, index 0, packet count, type) and then one data packet per `chunkSize` bytes of data.
 *
 * @param message The message to split.
 * @param chunkSize Data bytes per data packet (1024 on the wire by default).
 * @returns The frames, to be sent in order with nothing in between.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodePackets } from "@meshagent/api";
 * const frames = encodePackets({ id: 7, type: "hello", data: new Uint8Array(1025) });
 * assert(frames.length === 3);
 * ```
 */
export function encodePackets(
  message: ProtocolMessage,
  chunkSize: number = PACKET_DATA_SIZE,
): Uint8Array[] {
  const { id, type, data } = message;
  if (!Number.isSafeInteger(id) || id < 0) {
    throw new ProtocolError(`message id ${id} is not an integer in [0, 2^53)`);
  }
  if (!(chunkSize > 0)) throw new RangeError("chunkSize must be positive");
  const count = Math.ceil(data.length / chunkSize);
  const frames: Uint8Array[] = new Array(count + 1);
  frames[0] = headerFrame(id, type, count);
  for (let i = 1; i <= count; i++) {
    const start = (i - 1) * chunkSize;
    const end = Math.min(start + chunkSize, data.length);
    const packet = allocFrame(12 + (end - start));
    writeId(packet, 0, id);
    writeUint32(packet, 8, i);
    packet.set(data.subarray(start, end), 12);
    frames[i] = packet;
  }
  return frames;
}

/** Options for a {@linkcode PacketAssembler}. */
export interface PacketAssemblerOptions {
  /** The largest message (data bytes) accepted; larger ones are refused. Default 64 MiB. */
  maxMessageSize?: number;
}

/**
 * [impl] An incomplete message's buffer of this size or more is detached (`transfer(0)`) when the
 * message is dropped, which frees its memory now instead of at the next GC. Ordinary buffers are
 * used at every size: resizable `ArrayBuffer`s, which V8 maps page by page, cost a page fault per
 * 4 KiB written and take slow paths in `set`/`slice` — 75 MB of dataset rows spent ~60 ms of the
 * server's loop there (bench/README.md, datasets). What glibc keeps of freed buffers goes back to
 * the system through the server's GC + `malloc_trim` after large drops (server/_release_memory.ts).
 */
const DETACH_FROM = 256 * 1024;
/** The high 32 bits of the smallest id a JavaScript number does not hold exactly (2^53). */
const UNSAFE_HIGH = 0x20_0000;

/** Frees a big buffer of the assembler's own now (small ones are left to the GC). */
function free(buffer: Uint8Array): void {
  if (buffer.byteLength >= DETACH_FROM) (buffer.buffer as ArrayBuffer).transfer(0);
}

function idText(high: number, low: number): string {
  return high < UNSAFE_HIGH
    ? String(high * 0x1_0000_0000 + low)
    : String((BigInt(high) << 32n) | BigInt(low));
}

/**
 * Joins incoming WebSocket frames back into protocol messages. It expects a header packet, then
 * data packets 1..N of the same message id; any other order is a {@linkcode ProtocolError}, after
 * which the assembler waits for the next header packet. Pushed frames must not be modified
 * afterwards: a message of one data packet may be a view into its frame.
 *
 * The data of a message of several packets is copied into a buffer of the assembler's own as it
 * arrives, so no frame (nor the socket read buffer a frame may be a view into) is kept while a
 * message is incomplete, and {@linkcode PacketAssembler.discard} gives that memory back at once.
 * The data of a message of several packets starts at offset 0 of an `ArrayBuffer` of its own.
 *
 * A header packet with an id of 2^53 or more throws {@linkcode UnsupportedMessageIdError}; the
 * message's data packets are then skipped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodePackets, PacketAssembler } from "@meshagent/api";
 * const assembler = new PacketAssembler();
 * let message;
 * for (const frame of encodePackets({ id: 1, type: "ping", data: new Uint8Array(3000) })) {
 *   message = assembler.push(frame) ?? message;
 * }
 * assert(message?.type === "ping" && message.data.length === 3000);
 * ```
 */
export class PacketAssembler {
  readonly #max: number;
  #busy = false;
  /** The message is skipped (its id is out of range): its data packets are only counted. */
  #skip = false;
  #high = 0;
  #low = 0;
  #type = "";
  #expected = 0;
  #next = 0;
  /** The data so far (from 0 to #size). */
  #buffer: Uint8Array | null = null;
  #size = 0;
  #dropped = 0;
  #started = 0;

  /**
   * Creates the value.
   * @param options Limits for incoming messages.
   */
  constructor(options: PacketAssemblerOptions = {}) {
    this.#max = options.maxMessageSize ?? 64 * 1024 * 1024;
  }

  /** True while a message has been started and not yet completed. */
  get busy(): boolean {
    return this.#busy;
  }

  /** How many incomplete messages were dropped because a new header packet cut them off. */
  get dropped(): number {
    return this.#dropped;
  }

  /** The data bytes held for the incomplete message (0 when there is none). */
  get bufferedBytes(): number {
    return this.#size;
  }

  /**
   * How many messages of one or more data packets have been started (a count that changes with
   * every such header packet: a caller can tell a new incomplete message from an old one).
   */
  get messagesStarted(): number {
    return this.#started;
  }

  /** Drops the incomplete message, if any, and frees its buffer now (not at the next GC). */
  discard(): void {
    this.#reset();
  }

  /**
   * Takes one frame.
   *
   * @param frame The frame bytes.
   * @returns The completed message, or `null` when more packets are needed.
   * @throws {ProtocolError} On a malformed or out-of-order packet, or a message over the limit;
   *   {@linkcode UnsupportedMessageIdError} on a header packet with an id of 2^53 or more.
   */
  push(frame: Uint8Array): ProtocolMessage | null {
    if (frame.length < 12) {
      this.#reset();
      throw new ProtocolError(`packet of ${frame.length} bytes is shorter than 12`);
    }
    const high = readUint32(frame, 0);
    const low = readUint32(frame, 4);
    const index = readUint32(frame, 8);
    if (index === 0) {
      // A header packet always starts a new message. One that arrives while another message is
      // still incomplete drops the incomplete one (as the official clients do) and is counted.
      if (this.#busy) this.#dropped++;
      this.#reset();
      return this.#startHeader(high, low, frame);
    }
    if (!this.#busy) {
      throw new ProtocolError(`data packet ${index} arrived without a header packet`);
    }
    if (high !== this.#high || low !== this.#low || index !== this.#next) {
      const expected = `packet ${this.#next} of message ${idText(this.#high, this.#low)}`;
      this.#reset();
      throw new ProtocolError(
        `expected ${expected}, got packet ${index} of message ${idText(high, low)}`,
      );
    }
    this.#next++;
    const last = index === this.#expected;
    if (this.#skip) {
      if (last) this.#reset();
      return null;
    }
    const part = frame.subarray(12);
    const size = this.#size + part.length;
    if (size > this.#max) {
      this.#reset();
      throw new ProtocolError(`message exceeds the limit of ${this.#max} bytes`);
    }
    if (last && this.#buffer === null) {
      // No copy: nothing was held (one data packet, or the others were empty), so the data may
      // be a view into the frame, which is owned by the assembler once pushed (WebSocket
      // implementations hand out a fresh buffer per frame).
      const message = { id: high * 0x1_0000_0000 + low, type: this.#type, data: part };
      this.#reset();
      return message;
    }
    if (part.length > 0) {
      if (this.#buffer === null || size > this.#buffer.length) this.#grow(size, part.length, index);
      this.#buffer!.set(part, this.#size);
      this.#size = size;
    }
    return last ? this.#finish() : null;
  }

  #startHeader(high: number, low: number, frame: Uint8Array): ProtocolMessage | null {
    if (frame.length < 16) {
      throw new ProtocolError(`header packet of ${frame.length} bytes is shorter than 16`);
    }
    const count = readUint32(frame, 12);
    let type: string;
    try {
      type = decodeType(frame, 16);
    } catch {
      throw new ProtocolError("message type is not valid UTF-8");
    }
    // Each data packet carries at least one byte, so the count bounds the size from below.
    if (count > this.#max) {
      throw new ProtocolError(
        `message of ${count} packets exceeds the limit of ${this.#max} bytes`,
      );
    }
    if (count > 0) {
      this.#busy = true;
      this.#high = high;
      this.#low = low;
      this.#type = type;
      this.#expected = count;
      this.#next = 1;
      this.#started++;
    }
    if (high >= UNSAFE_HIGH) {
      this.#skip = count > 0;
      throw new UnsupportedMessageIdError((BigInt(high) << 32n) | BigInt(low), type);
    }
    if (count === 0) return { id: high * 0x1_0000_0000 + low, type, data: new Uint8Array(0) };
    return null;
  }

  /** Makes room for `size` bytes, `part` of them arriving in data packet `index`. */
  #grow(size: number, part: number, index: number): void {
    const current = this.#buffer;
    // The first guess is the rest of the message at this packet's size: exact for the official
    // clients, whose data packets all have the same size but the last.
    const capacity = Math.min(
      this.#max,
      current === null
        ? Math.max(size, this.#size + (this.#expected - index + 1) * part)
        : Math.max(size, current.length * 2),
    );
    const buffer = new Uint8Array(capacity);
    if (current !== null) {
      buffer.set(current.subarray(0, this.#size));
      free(current);
    }
    this.#buffer = buffer;
  }

  #finish(): ProtocolMessage {
    const size = this.#size;
    const buffer = this.#buffer!;
    let data: Uint8Array;
    if (size === buffer.length) {
      data = buffer;
    } else if (size >= buffer.length - (buffer.length >>> 3)) {
      data = buffer.subarray(0, size); // the guess was a little high (a short last packet)
    } else {
      data = buffer.slice(0, size);
      free(buffer);
    }
    this.#buffer = null; // handed out with the message: #reset must not free it
    const message = { id: this.#high * 0x1_0000_0000 + this.#low, type: this.#type, data };
    this.#reset();
    return message;
  }

  #reset(): void {
    if (this.#buffer !== null) free(this.#buffer);
    this.#buffer = null;
    this.#busy = false;
    this.#skip = false;
    this.#high = 0;
    this.#low = 0;
    this.#type = "";
    this.#expected = 0;
    this.#next = 0;
    this.#size = 0;
  }
}
