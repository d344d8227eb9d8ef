// Deno- and Node-only: a WebSocket from the npm `ws` package. Deno's built-in WebSocket client does
// not disable Nagle's algorithm, so the second packet of every protocol message (header packet,
// then data packet) waits for the server's delayed ACK: about 40 ms per request on Linux. `ws`
// sets TCP_NODELAY, sends our Authorization header, and reports the handshake's HTTP status.
// Browsers never load this file (see websocket_client_protocol.ts).

/** The subset of the WHATWG WebSocket that the client protocol uses. */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: { message?: string }) => void) | null;
  send(data: Uint8Array): void;
  /** Sends one binary message made of these pieces, back to back. Only the `ws` socket has it. */
  sendParts?(pieces: Uint8Array[]): void;
  close(code?: number, reason?: string): void;
  /**
   * Receives every incoming message's bytes directly (text messages as their UTF-8 bytes),
   * without building a message event per frame; `null` stops it. Only the `ws` socket has it.
   */
  setFrameListener?(listener: ((frame: Uint8Array) => void) | null): void;
}

/**
 * Opens a WebSocket with `ws`.
 *
 * @param url The room URL.
 * @param headers Handshake headers.
 * @param protocols Subprotocols to offer.
 * @returns The socket.
 */
export async function openNodeWebSocket(
  url: string,
  headers: Record<string, string>,
  protocols?: string[],
): Promise<SocketLike> {
  const mod = await import("ws");
  // deno-lint-ignore no-explicit-any
  const WS: any = (mod as any).WebSocket ?? (mod as any).default;
  const socket = new WS(url, protocols ?? [], {
    headers,
    perMessageDeflate: false,
    handshakeTimeout: 30_000,
  });
  // Buffers (Uint8Array views) instead of ArrayBuffers: ws would copy every frame otherwise.
  socket.binaryType = "nodebuffer";
  socket.on("unexpected-response", explainRefusal);
  // Every protocol message is two or more frames. Sending each through ws costs a write (and a
  // TCP segment) apiece, plus ws' per-frame work: options objects, Buffer wrappers, a pooled
  // copy to mask into. Instead, the frames sent in one tick are collected and, after the
  // current microtasks, written as one buffer of complete masked WebSocket frames, straight to
  // the TCP socket: the bytes on the wire are the same as ws would send (binary, FIN, a fresh
  // random mask per frame). Our frames are never modified after sending (see _frames.ts), so
  // holding them until the end of the tick is safe. ws' own writes (pong, close) are not
  // batched; a close flushes the batch first so that it stays the last frame.
  const send = socket.send.bind(socket);
  const close = socket.close.bind(socket);
  let batch: Frame[] = [];
  const slots: ArrayBuffer[] = [];
  let batchSize = 0;
  const flush = () => {
    const frames = batch;
    const size = batchSize;
    batch = [];
    batchSize = 0;
    const raw = socket._socket;
    // Closed meanwhile: ws drops what is sent after a close, and so do we.
    if (frames.length === 0 || socket.readyState !== 1 || !raw || raw.destroyed) return;
    // A write of a big batch goes through a buffer of the socket's own, given back when the
    // write is done: a big message's frames do not each leave a fresh buffer to the GC.
    const slot = size <= WRITE_SLOT ? (slots.pop() ?? new ArrayBuffer(WRITE_SLOT)) : undefined;
    raw.write(maskedFrames(frames, size, slot), () => {
      if (slot && slots.length < WRITE_SLOTS) slots.push(slot);
    });
  };
  socket.send = (data: Uint8Array) => {
    if (socket.readyState !== 1 || !socket._socket) {
      send(data); // ws' own rules: throws while connecting, drops after close
      return;
    }
    if (batch.length === 0) queueMicrotask(flush);
    batch.push(data);
    batchSize += frameHeaderSize(data.length) + data.length;
    if (batchSize >= FLUSH_AT) flush();
  };
  // A frame of several pieces (a packet header and a view of the message's data) is joined only
  // where it is masked, so the data is copied once on its way to the socket.
  socket.sendParts = (pieces: Uint8Array[]) => {
    if (socket.readyState !== 1 || !socket._socket) {
      socket.send(joined(pieces));
      return;
    }
    if (batch.length === 0) queueMicrotask(flush);
    batch.push(pieces);
    const n = piecesLength(pieces);
    batchSize += frameHeaderSize(n) + n;
    if (batchSize >= FLUSH_AT) flush();
  };
  socket.close = (code?: number, reason?: string) => {
    flush();
    close(code, reason);
  };
  // The `onmessage` attribute wraps every frame in a MessageEvent; a plain listener gets the
  // Buffer itself, passed on as a Uint8Array view (a Buffer's `slice` does not copy).
  let frameListener: ((frame: Uint8Array) => void) | null = null;
  socket.on("message", (data: Uint8Array) => {
    if (frameListener) {
      frameListener(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  });
  socket.setFrameListener = (listener: ((frame: Uint8Array) => void) | null) => {
    frameListener = listener;
  };
  return socket as SocketLike;
}

/** The most bytes of a refused handshake's body read into the error, and for how long. */
const REFUSAL_BODY_BYTES = 2048;
const REFUSAL_BODY_MS = 2000;

interface RefusalRequest {
  destroy(error: Error): void;
}

interface RefusalResponse {
  statusCode?: number;
  statusMessage?: string;
  on(event: "data", listener: (chunk: Uint8Array) => void): void;
  on(event: "end" | "close" | "error", listener: () => void): void;
}

/**
 * A handshake the server answered with something else than 101: ws alone would say only
 * "Unexpected server response: 403". This reads what the server said — the `error` of a JSON
 * body, another body's text, else the reason phrase — and fails the handshake with
 * `Unexpected server response: <status>: <what it said>` (ws emits it as the socket's error).
 */
function explainRefusal(req: RefusalRequest, res: RefusalResponse): void {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    const bytes = new Uint8Array(size);
    let o = 0;
    for (const c of chunks) {
      const n = Math.min(c.length, size - o);
      bytes.set(c.subarray(0, n), o);
      o += n;
    }
    const text = new TextDecoder().decode(bytes).trim();
    let said = text;
    try {
      const error = (JSON.parse(text) as { error?: unknown }).error;
      if (typeof error === "string") said = error;
    } catch { /* not JSON: the text itself */ }
    said ||= res.statusMessage?.trim() ?? "";
    const status = res.statusCode ?? 0;
    req.destroy(new Error(`Unexpected server response: ${status}${said ? `: ${said}` : ""}`));
  };
  const timer = setTimeout(finish, REFUSAL_BODY_MS);
  res.on("data", (chunk: Uint8Array) => {
    if (size < REFUSAL_BODY_BYTES) {
      chunks.push(chunk);
      size = Math.min(REFUSAL_BODY_BYTES, size + chunk.length);
    }
    if (size >= REFUSAL_BODY_BYTES) finish();
  });
  res.on("end", finish);
  res.on("close", finish);
  res.on("error", finish);
}

/**
 * A tick's frames are written once they reach this many bytes, not only at the end of the tick.
 * [impl] While one side works through a big burst (hundreds of messages read in one go), the
 * other side can already work on the first part of the answer: pipelined 1→1 messaging measured
 * 35k msg/s with one write per tick and 52k–60k with 8–32 KiB writes (bench/client_cpu_load.ts).
 */
const FLUSH_AT = 16 * 1024;

/** The size of a socket's reusable write buffers (a batch up to this size is written from one). */
const WRITE_SLOT = 128 * 1024;
/** How many of them a socket keeps. */
const WRITE_SLOTS = 4;

/** The size of a masked frame's header (opcode, length, mask key) for a payload length. */
export function frameHeaderSize(length: number): number {
  return (length < 126 ? 2 : length < 65536 ? 4 : 10) + 4;
}

const MASK_POOL_SIZE = 8192;
let maskPool = new Uint8Array(0);
let maskOffset = 0;

/** One outgoing frame's payload: one buffer, or pieces to be sent back to back. */
export type Frame = Uint8Array | Uint8Array[];

function piecesLength(pieces: Uint8Array[]): number {
  let n = 0;
  for (const piece of pieces) n += piece.length;
  return n;
}

/**
 * Joins pieces into one buffer.
 *
 * @param pieces The pieces.
 * @returns Their bytes back to back.
 */
export function joined(pieces: Uint8Array[]): Uint8Array {
  if (pieces.length === 1) return pieces[0];
  const out = new Uint8Array(piecesLength(pieces));
  let o = 0;
  for (const piece of pieces) {
    out.set(piece, o);
    o += piece.length;
  }
  return out;
}

/**
 * Encodes frames as masked binary WebSocket frames (RFC 6455 §5.2), back to back.
 *
 * @param frames The payloads, each one buffer or pieces sent back to back.
 * @param size The total size with headers.
 * @param into A buffer to write them into, when it is big enough (else a new one is made).
 * @returns The bytes to write.
 */
export function maskedFrames(frames: Frame[], size: number, into?: ArrayBuffer): Uint8Array {
  // Rounded up to whole 32-bit words, so that the payloads can be masked a word at a time.
  const words4 = (size + 3) & ~3;
  const buffer = into && into.byteLength >= words4 ? into : new ArrayBuffer(words4);
  const out = new Uint8Array(buffer, 0, words4);
  const words = new Uint32Array(buffer, 0, words4 >>> 2);
  let o = 0;
  for (const frame of frames) {
    const n = Array.isArray(frame) ? piecesLength(frame) : frame.length;
    out[o++] = 0x82; // FIN, binary
    if (n < 126) {
      out[o++] = 0x80 | n;
    } else if (n < 65536) {
      out[o++] = 0x80 | 126;
      out[o++] = n >>> 8;
      out[o++] = n & 0xff;
    } else {
      out[o++] = 0x80 | 127;
      const high = Math.floor(n / 0x1_0000_0000);
      out[o++] = high >>> 24;
      out[o++] = (high >>> 16) & 0xff;
      out[o++] = (high >>> 8) & 0xff;
      out[o++] = high & 0xff;
      out[o++] = n >>> 24;
      out[o++] = (n >>> 16) & 0xff;
      out[o++] = (n >>> 8) & 0xff;
      out[o++] = n & 0xff;
    }
    if (maskOffset + 4 > maskPool.length) {
      maskPool = crypto.getRandomValues(new Uint8Array(MASK_POOL_SIZE));
      maskOffset = 0;
    }
    const mask = maskPool.subarray(maskOffset, maskOffset + 4);
    maskOffset += 4;
    out.set(mask, o);
    if (Array.isArray(frame)) {
      let p = o + 4;
      for (const piece of frame) {
        out.set(piece, p);
        p += piece.length;
      }
    } else {
      out.set(frame, o + 4);
    }
    maskInPlace(out, words, o + 4, n, mask);
    o += 4 + n;
  }
  return out.subarray(0, size);
}

const rotated = new Uint8Array(4);
const rotatedWord = new Uint32Array(rotated.buffer);

/** XORs `out[start, start + n)` with the repeating 4-byte `mask`, a word at a time. */
function maskInPlace(
  out: Uint8Array,
  words: Uint32Array,
  start: number,
  n: number,
  mask: Uint8Array,
): void {
  const end = start + n;
  let i = start;
  // Bytes up to the first word boundary.
  while (i < end && (i & 3) !== 0) {
    out[i] ^= mask[(i - start) & 3];
    i++;
  }
  // Whole words: the mask as it lines up with them, read in the platform's byte order (the same
  // order the words are read in).
  const k = i - start;
  rotated[0] = mask[k & 3];
  rotated[1] = mask[(k + 1) & 3];
  rotated[2] = mask[(k + 2) & 3];
  rotated[3] = mask[(k + 3) & 3];
  const word = rotatedWord[0];
  const lastWord = end >>> 2;
  for (let w = i >>> 2; w < lastWord; w++) words[w] ^= word;
  i = Math.max(i, lastWord << 2);
  // The bytes after the last whole word.
  for (; i < end; i++) out[i] ^= mask[(i - start) & 3];
}
