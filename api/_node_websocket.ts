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
  close(code?: number, reason?: string): void;
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
  // Every protocol message is two or more frames; sending each with its own write costs a syscall
  // and a TCP segment apiece. Cork the TCP socket on the first send of a tick and uncork after
  // the current microtasks, so one tick's frames leave in one write (a writev).
  const send = socket.send.bind(socket);
  let corked = false;
  socket.send = (data: Uint8Array) => {
    const raw = socket._socket;
    if (!corked && raw && typeof raw.cork === "function") {
      corked = true;
      raw.cork();
      queueMicrotask(() => {
        corked = false;
        raw.uncork();
      });
    }
    send(data);
  };
  return socket as SocketLike;
}
