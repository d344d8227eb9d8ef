// Deno- and Node-only: the server side of one room WebSocket, on an npm `ws` socket, shaped like the
// part of the WHATWG WebSocket that `serveConnection` uses (readyState, binaryType, send, close,
// bufferedAmount, on* handlers). It exists for speed: every protocol message is two or more frames
// (a header packet and data packets, protocol-core §2.1), and `Deno.upgradeWebSocket` writes each
// frame with its own op and syscall. Here the frames sent in one tick are collected and, after the
// tick's microtasks, written to the TCP socket as one buffer of complete WebSocket frames (binary,
// FIN, unmasked as a server's are: RFC 6455 §5.1). `ws` still reads, answers pings and closes.
// See bench/README.md for the figures.

import { closeReason, sendableCode } from "./_front.ts";

/** The events and calls of the `ws` socket this wrapper uses (npm `ws` has no types under Deno). */
export interface WsSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  readonly _socket?:
    | {
      write(data: Uint8Array): boolean;
      readonly destroyed: boolean;
      on?(event: "data", listener: () => void): void;
    }
    | null;
  /**
   * ws's frame parser: `_bufferedBytes` are received bytes not parsed into a frame yet (the
   * incomplete frame), `_messageLength` the fragments so far of an incomplete fragmented message.
   */
  readonly _receiver?: { readonly _bufferedBytes?: number; readonly _messageLength?: number };
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  ping(): void;
  on(event: "message", listener: (data: Uint8Array, isBinary: boolean) => void): void;
  on(event: "close", listener: (code: number, reason: Uint8Array) => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  on(event: "pong", listener: () => void): void;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
const DECODER = new TextDecoder();
/**
 * A tick's frames are written once they reach this many bytes, not only at the end of the tick.
 * [impl] While one side works through a big burst (hundreds of messages read in one go), the
 * other side can already work on the first part of the answer: pipelined 1→1 messaging measured
 * 35k msg/s with one write per tick and 52k–60k with 8–32 KiB writes (bench/client_cpu_load.ts).
 */
const FLUSH_AT = 16 * 1024;

/**
 * One accepted room socket. It is created CONNECTING when the request handler decides to upgrade
 * (like `Deno.upgradeWebSocket`'s socket) and opens once the handshake went out, or closes with 1006
 * when the handshake could not complete (the client left meanwhile, or its headers were invalid).
 */
export class ServerWebSocket {
  /** Only binary frames are delivered, always as `Uint8Array`s. */
  binaryType = "nodebuffer";
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: { data: Uint8Array }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  /** Called after each chunk of bytes read from the connection was parsed into frames. */
  oninput: (() => void) | null = null;
  /** Whether the peer answered the last ping (see {@linkcode ServerWebSocket.heartbeat}). */
  #alive = true;
  #ws: WsSocket | null = null;
  #state = CONNECTING;
  /** Frames sent this tick, not written yet, and their size as WebSocket frames. */
  #batch: Uint8Array[] = [];
  #batchBytes = 0;
  #framesReceived = 0;
  readonly #flush = () => {
    const frames = this.#batch;
    const size = this.#batchBytes;
    this.#batch = [];
    this.#batchBytes = 0;
    const ws = this.#ws;
    const raw = ws?._socket;
    // Closed meanwhile: what was sent after the close is dropped, as ws does.
    if (frames.length === 0 || !ws || ws.readyState !== OPEN || !raw || raw.destroyed) return;
    raw.write(binaryFrames(frames, size));
  };

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3), as in the WHATWG WebSocket. */
  get readyState(): number {
    return this.#state;
  }

  /**
   * Bytes received and held by the frame parser that do not form a complete WebSocket message
   * yet (an incomplete frame, or the fragments of an incomplete fragmented message).
   */
  get pendingBytes(): number {
    const receiver = this.#ws?._receiver;
    return receiver ? (receiver._bufferedBytes ?? 0) + (receiver._messageLength ?? 0) : 0;
  }

  /** How many WebSocket messages (binary or text) were received. */
  get framesReceived(): number {
    return this.#framesReceived;
  }

  /** Bytes queued for sending and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return (this.#ws?.bufferedAmount ?? 0) + this.#batchBytes;
  }

  /**
   * Sends one binary frame. Frames sent in the same tick leave in one TCP write.
   *
   * @param data The frame.
   */
  send(data: Uint8Array): void {
    const ws = this.#ws;
    if (!ws || this.#state !== OPEN) return;
    if (ws.readyState !== OPEN || !ws._socket) {
      ws.send(data); // closing: ws drops it
      return;
    }
    if (this.#batch.length === 0) queueMicrotask(this.#flush);
    this.#batch.push(data);
    this.#batchBytes += frameHeaderSize(data.length) + data.length;
    if (this.#batchBytes >= FLUSH_AT) this.#flush();
  }

  /**
   * Starts the closing handshake (or gives up on a socket that never opened).
   *
   * @param code The close code (1000 when absent or not sendable).
   * @param reason The close reason, cut to 123 bytes.
   */
  close(code?: number, reason?: string): void {
    if (this.#state === CLOSING || this.#state === CLOSED) return;
    const ws = this.#ws;
    if (!ws) {
      this.#closed(code ?? 1006, reason ?? "");
      return;
    }
    this.#state = CLOSING;
    this.#flush(); // what was sent before the close goes out before it
    const sendable = code !== undefined && sendableCode(code);
    try {
      ws.close(sendable ? code : 1000, sendable ? closeReason(reason ?? "") : undefined);
    } catch {
      ws.terminate();
    }
  }

  /** Drops the connection without a closing handshake (the close event follows, code 1006). */
  terminate(): void {
    if (this.#ws) this.#ws.terminate();
    else this.#closed(1006, "");
  }

  /** Connects the accepted `ws` socket: the wrapper opens and starts delivering events. */
  attach(ws: WsSocket): void {
    if (this.#state !== CONNECTING) {
      ws.terminate();
      return;
    }
    this.#ws = ws;
    this.#state = OPEN;
    ws.on("message", (data, isBinary) => {
      this.#framesReceived++;
      // [impl] Text frames are not part of the protocol (§1.4): dropped here.
      if (isBinary) this.onmessage?.({ data });
    });
    // After ws's own listener (added when it took the socket): the chunk has been parsed.
    ws._socket?.on?.("data", () => this.oninput?.());
    ws.on("pong", () => this.#alive = true);
    ws.on("error", () => this.onerror?.(new Event("error")));
    ws.on("close", (code, reason) => this.#closed(code, DECODER.decode(reason)));
    this.onopen?.(new Event("open"));
  }

  /** The handshake did not complete: the socket closes as if the connection dropped. */
  abandon(): void {
    if (this.#state === CONNECTING) this.#closed(1006, "");
  }

  /**
   * One keep-alive round: a socket that did not answer the previous ping is dropped (close 1006);
   * otherwise it gets a new ping.
   */
  heartbeat(): void {
    const ws = this.#ws;
    if (!ws || this.#state === CLOSED) return;
    if (!this.#alive) {
      ws.terminate();
      return;
    }
    this.#alive = false;
    try {
      ws.ping();
    } catch { /* closing */ }
  }

  #closed(code: number, reason: string): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.onclose?.({ code, reason });
  }
}

/** The header size of an unmasked frame with a payload of `length` bytes. */
export function frameHeaderSize(length: number): number {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

/** Encodes payloads as unmasked binary WebSocket frames (RFC 6455 §5.2), back to back. */
export function binaryFrames(frames: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let o = 0;
  for (const data of frames) {
    const n = data.length;
    out[o++] = 0x82; // FIN, binary
    if (n < 126) {
      out[o++] = n;
    } else if (n < 65536) {
      out[o++] = 126;
      out[o++] = n >>> 8;
      out[o++] = n & 0xff;
    } else {
      out[o++] = 127;
      const high = Math.floor(n / 0x1_0000_0000);
      for (let shift = 24; shift >= 0; shift -= 8) out[o++] = (high >>> shift) & 0xff;
      for (let shift = 24; shift >= 0; shift -= 8) out[o++] = (n >>> shift) & 0xff;
    }
    out.set(data, o);
    o += n;
  }
  return out;
}
