// Deno-only: the room server's front on `Deno.serve` + `Deno.upgradeWebSocket`, running the same
// handler as the node:http + ws front (`_front.ts`). It is also the upgrade of a handler run by
// `deno serve` or on Deno Deploy, where the runtime owns the listener.
//
// [impl] Of the front's HTTP limits only the ping (`idleTimeout`) applies: `Deno.serve` has its
// own request-head limits (an oversized head gets Deno's bare 400) and no per-connection hooks.
// Deno reads frames up to 64 MiB and hands over whole frames only: a frame over the front's
// `maxFrameSize` closes its socket with 1009 once it has arrived, and a frame still arriving is
// outside the inbound budgets and the message timeout (the node front counts it). Each frame is sent with its
// own op, where the node front writes a tick's frames at once (bench/README.md has both).
import {
  closeReason,
  type FrontHandler,
  type FrontSocket,
  type HttpFront,
  type HttpFrontContext,
  type HttpFrontOptions,
  runHandler,
  sendableCode,
} from "./_front.ts";

const OPEN = 1;

/** A `Deno.upgradeWebSocket` socket as a {@linkcode FrontSocket} (binary frames as bytes). */
class DenoSocket implements FrontSocket {
  readonly #ws: WebSocket;
  #framesReceived = 0;
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: { data: Uint8Array }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;

  constructor(ws: WebSocket, gone?: (socket: DenoSocket) => void, maxFrameSize = Infinity) {
    this.#ws = ws;
    ws.binaryType = "arraybuffer";
    ws.onopen = (e) => this.onopen?.(e);
    ws.onmessage = (e: MessageEvent) => {
      this.#framesReceived++;
      // [impl] Text frames are not part of the protocol (§1.4): dropped here.
      if (!(e.data instanceof ArrayBuffer)) return;
      // Deno reads frames up to 64 MiB: a frame over the front's limit is refused here, as npm
      // `ws`'s maxPayload does on the node front (1009, the other sockets untouched).
      if (e.data.byteLength > maxFrameSize) {
        this.close(1009, `frame too big: the limit is ${maxFrameSize} bytes`);
        return;
      }
      this.onmessage?.({ data: new Uint8Array(e.data) });
    };
    ws.onclose = (e) => {
      gone?.(this);
      this.onclose?.({ code: e.code, reason: e.reason });
    };
    ws.onerror = (e) => this.onerror?.(e);
  }

  get readyState(): number {
    return this.#ws.readyState;
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  get framesReceived(): number {
    return this.#framesReceived;
  }

  send(data: Uint8Array): void {
    if (this.#ws.readyState === OPEN) this.#ws.send(data);
  }

  close(code?: number, reason?: string): void {
    const sendable = code !== undefined && sendableCode(code);
    try {
      this.#ws.close(sendable ? code : 1000, sendable ? closeReason(reason ?? "") : undefined);
    } catch { /* closed already */ }
  }

  terminate(): void {
    // Deno's WebSocket has no abort: a close frame, and Deno drops the connection after it.
    this.close(1001, "going away");
  }
}

/**
 * The upgrade of a request handled by Deno's own server (`Deno.serve`, `deno serve`, Deno
 * Deploy).
 *
 * @param pingInterval Seconds between pings (0: none).
 * @param open Where to keep the sockets that are open (each leaves it when it closes).
 * @param maxFrameSize The largest incoming frame in bytes; a bigger one closes with 1009.
 * @returns The context to pass to the room server's handler.
 */
export function denoFrontContext(
  pingInterval: number,
  open?: Set<FrontSocket>,
  maxFrameSize?: number,
): HttpFrontContext {
  return {
    upgradeWebSocket(request, options) {
      const { socket, response } = Deno.upgradeWebSocket(request, {
        protocol: options?.protocol,
        idleTimeout: pingInterval,
      });
      const wrapped = new DenoSocket(socket, (s) => open?.delete(s), maxFrameSize);
      open?.add(wrapped);
      return { socket: wrapped, response };
    },
  };
}

/** A WebSocket upgrade the handler refused (anything but the 101 of an accepted upgrade). */
function refusedUpgrade(request: Request, response: Response): boolean {
  return response.status !== 101 &&
    request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/**
 * The response with `connection: close`. [impl] A refused handshake ends its connection, as on
 * the node front: a client of npm `ws` under Deno waits on a kept-alive refusal instead of
 * reporting it.
 */
function closing(response: Response): Response {
  const headers = new Headers(response.headers);
  headers.set("connection", "close");
  return new Response(response.body, { status: response.status, headers });
}

/**
 * The handler as Deno's server runs it: a throw is a 500, a refused upgrade closes its
 * connection.
 *
 * @param handler The room server's handler.
 * @param context The upgrade (see {@linkcode denoFrontContext}).
 * @returns A `Deno.serve` handler.
 */
export function denoHandler(
  handler: FrontHandler,
  context: HttpFrontContext,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const response = await runHandler(() => handler(request, context));
    return refusedUpgrade(request, response) ? closing(response) : response;
  };
}

/**
 * Listens on `hostname:port` with `Deno.serve` (0 picks a free port) and resolves once it does.
 *
 * @param options Address, ping interval and the request handler.
 * @returns The listening front.
 */
export function listenDenoFront(options: HttpFrontOptions): Promise<HttpFront> {
  const sockets = new Set<FrontSocket>();
  const context = denoFrontContext(options.pingInterval, sockets, options.maxFrameSize);
  // Deno.serve binds at once (and throws when it cannot).
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    onListen: () => {},
    onError: (e) => {
      console.error("room server: request handler failed:", e);
      return new Response("internal server error", { status: 500 });
    },
  }, denoHandler(options.handler, context));
  return Promise.resolve({
    hostname: server.addr.hostname,
    port: server.addr.port,
    finished: server.finished,
    async close() {
      for (const socket of [...sockets]) socket.terminate();
      await server.shutdown();
    },
  });
}
