// Deno- and Node-only: the server side of one room WebSocket, on an npm `ws` socket, shaped like the
// part of the WHATWG WebSocket that `serveConnection` uses (readyState, binaryType, send, close,
// bufferedAmount, on* handlers). It exists for speed: every protocol message is two or more frames
// (a header packet and data packets, protocol-core §2.1), and `Deno.upgradeWebSocket` writes each
// frame with its own op and syscall. Here the TCP socket is corked on the first send of a tick and
// uncorked after the tick's microtasks, so a tick's frames leave in one write. See
// bench/README.md for the figures.

/** The events and calls of the `ws` socket this wrapper uses (npm `ws` has no types under Deno). */
export interface WsSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  readonly _socket?: { cork(): void; uncork(): void } | null;
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

/** A close code the WebSocket protocol lets an endpoint send (RFC 6455 §7.4). */
function sendableCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999);
}

/** Cuts a close reason to the 123 bytes a close frame can carry, on a character boundary. */
function closeReason(reason: string): string {
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= 123) return reason;
  let end = 123;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return DECODER.decode(bytes.subarray(0, end));
}

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
  /** Whether the peer answered the last ping (see {@linkcode ServerWebSocket.heartbeat}). */
  #alive = true;
  #ws: WsSocket | null = null;
  #state = CONNECTING;
  #corked = false;
  readonly #uncork = () => {
    this.#corked = false;
    this.#ws?._socket?.uncork();
  };

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3), as in the WHATWG WebSocket. */
  get readyState(): number {
    return this.#state;
  }

  /** Bytes queued for sending and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.#ws?.bufferedAmount ?? 0;
  }

  /**
   * Sends one binary frame. Frames sent in the same tick leave in one TCP write.
   *
   * @param data The frame.
   */
  send(data: Uint8Array): void {
    const ws = this.#ws;
    if (!ws || this.#state !== OPEN) return;
    if (!this.#corked) {
      const raw = ws._socket;
      if (raw) {
        this.#corked = true;
        raw.cork();
        queueMicrotask(this.#uncork);
      }
    }
    ws.send(data);
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
      // [impl] Text frames are not part of the protocol (§1.4): dropped here.
      if (isBinary) this.onmessage?.({ data });
    });
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
