import { ProtocolError } from "./errors.ts";
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
 * Joins incoming WebSocket frames back into protocol messages. It expects a header packet, then
 * data packets 1..N of the same message id; any other order is a {@linkcode ProtocolError}, after
 * which the assembler waits for the next header packet. Pushed frames must not be modified
 * afterwards: a completed message's data may be a view into its frame.
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
  #id = -1;
  #type = "";
  #expected = 0;
  #next = 0;
  #parts: Uint8Array[] = [];
  #size = 0;
  #dropped = 0;

  /**
   * Creates the value.
   * @param options Limits for incoming messages.
   */
  constructor(options: PacketAssemblerOptions = {}) {
    this.#max = options.maxMessageSize ?? 64 * 1024 * 1024;
  }

  /** True while a message has been started and not yet completed. */
  get busy(): boolean {
    return this.#id >= 0;
  }

  /** How many incomplete messages were dropped because a new header packet cut them off. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Takes one frame.
   *
   * @param frame The frame bytes.
   * @returns The completed message, or `null` when more packets are needed.
   * @throws {ProtocolError} On a malformed or out-of-order packet, or a message over the limit.
   */
  push(frame: Uint8Array): ProtocolMessage | null {
    if (frame.length < 12) {
      this.#reset();
      throw new ProtocolError(`packet of ${frame.length} bytes is shorter than 12`);
    }
    const id = readUint32(frame, 0) * 0x1_0000_0000 + readUint32(frame, 4);
    const index = readUint32(frame, 8);
    if (index === 0) {
      // A header packet always starts a new message. One that arrives while another message is
      // still incomplete drops the incomplete one (as the official clients do) and is counted.
      if (this.busy) this.#dropped++;
      this.#reset();
      return this.#startHeader(id, frame);
    }
    if (!this.busy) {
      throw new ProtocolError(`data packet ${index} arrived without a header packet`);
    }
    if (id !== this.#id || index !== this.#next) {
      const expected = `packet ${this.#next} of message ${this.#id}`;
      this.#reset();
      throw new ProtocolError(`expected ${expected}, got packet ${index} of message ${id}`);
    }
    const part = frame.subarray(12);
    this.#size += part.length;
    if (this.#size > this.#max) {
      this.#reset();
      throw new ProtocolError(`message exceeds the limit of ${this.#max} bytes`);
    }
    this.#parts.push(part);
    this.#next++;
    if (index === this.#expected) return this.#finish();
    return null;
  }

  #startHeader(id: number, frame: Uint8Array): ProtocolMessage | null {
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
    if (count === 0) return { id, type, data: new Uint8Array(0) };
    // Each data packet carries at least one byte, so the count bounds the size from below.
    if (count > this.#max) {
      throw new ProtocolError(
        `message of ${count} packets exceeds the limit of ${this.#max} bytes`,
      );
    }
    this.#id = id;
    this.#type = type;
    this.#expected = count;
    this.#next = 1;
    return null;
  }

  #finish(): ProtocolMessage {
    const parts = this.#parts;
    let data: Uint8Array;
    if (parts.length === 1) {
      // No copy: a frame is owned by the assembler once pushed (WebSocket implementations hand
      // out a fresh buffer per frame), so the data may be a view into it.
      data = parts[0];
    } else {
      data = new Uint8Array(this.#size);
      let offset = 0;
      for (const p of parts) {
        data.set(p, offset);
        offset += p.length;
      }
    }
    const message = { id: this.#id, type: this.#type, data };
    this.#reset();
    return message;
  }

  #reset(): void {
    this.#id = -1;
    this.#type = "";
    this.#expected = 0;
    this.#next = 0;
    this.#parts = [];
    this.#size = 0;
  }
}
