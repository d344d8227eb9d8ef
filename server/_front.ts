// Private: what the room server's HTTP + WebSocket fronts share (the model is Hono's one folder
// per runtime): one Fetch-style handler `(request, context) => response` that every front runs,
// the socket it upgrades a request to, and the limits. `_http_front.ts` is the node:http + ws
// front, `_deno_front.ts` the Deno.serve one; the room server knows only this file.
import type { ConnectionSocket } from "./_connection.ts";

/** An accepted room socket, whichever front made it. */
export interface FrontSocket extends ConnectionSocket {
  /** Drops the connection without a closing handshake (the close event follows). */
  terminate(): void;
}

/** What the request handler gets besides the request. */
export interface HttpFrontContext {
  /**
   * Accepts the request's WebSocket upgrade. Return the `response` from the handler; the socket
   * opens after the handshake went out.
   */
  upgradeWebSocket(
    request: Request,
    options?: { protocol?: string },
  ): { socket: FrontSocket; response: Response };
}

/** The request handler every front runs. */
export type FrontHandler = (
  request: Request,
  context: HttpFrontContext,
) => Response | Promise<Response>;

/** Options of a front's `listen…Front`. */
export interface HttpFrontOptions {
  hostname: string;
  port: number;
  /** The largest incoming WebSocket frame in bytes; a bigger one closes the socket with 1009. */
  maxFrameSize: number;
  /** Seconds between pings; a socket that did not answer the previous ping is dropped. 0: none. */
  pingInterval: number;
  /** Answers every request (WebSocket upgrades included), like a `Deno.serve` handler. */
  handler: FrontHandler;
  /** Limits on HTTP connections that are not (yet) WebSockets. */
  limits?: Partial<HttpLimits>;
}

/**
 * Limits on the HTTP side of a front: connections that are not WebSockets, or not yet. An
 * accepted WebSocket is out of their reach (its liveness is the ping's business).
 */
export interface HttpLimits {
  /**
   * Milliseconds a connection may take to send a request's head (request line and headers),
   * counted from its connect or from the end of its previous request; past it the connection
   * gets 408 and is closed (a slowloris that dribbles header bytes). 0: none but node's 300 s
   * limit on a whole request.
   */
  headerTimeoutMs: number;
  /**
   * Milliseconds a kept-alive connection may sit idle between requests before it is closed.
   * `node:http` adds a grace of 1 s (its `keepAliveTimeoutBuffer`, fixed under Deno).
   */
  keepAliveTimeoutMs: number;
  /**
   * Milliseconds without any traffic either way (a silent connection, a download whose reader
   * stopped reading) after which an HTTP connection is closed. 0: no limit.
   */
  idleTimeoutMs: number;
  /**
   * The most HTTP connections at once (WebSocket handshakes in progress included, accepted
   * WebSockets not); one more is answered 503 and closed. 0: no limit.
   */
  maxConnections: number;
  /** The most bytes of a request line and headers; more gets 403. */
  maxHeaderBytes: number;
}

/** A listening front. */
export interface HttpFront {
  readonly hostname: string;
  readonly port: number;
  /** Resolves when the front stopped listening and its HTTP connections ended. */
  readonly finished: Promise<void>;
  /**
   * Stops listening, closes idle and in-flight HTTP connections, and cuts off accepted WebSockets
   * that are still open (close them first for a clean closing handshake).
   */
  close(): Promise<void>;
}

const DECODER = new TextDecoder();

/** A close code the WebSocket protocol lets an endpoint send (RFC 6455 §7.4). */
export function sendableCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999);
}

/** Cuts a close reason to the 123 bytes a close frame can carry, on a character boundary. */
export function closeReason(reason: string): string {
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= 123) return reason;
  let end = 123;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return DECODER.decode(bytes.subarray(0, end));
}

/** Runs a handler; a throw becomes a 500 (and a log line), as with `Deno.serve`. */
export async function runHandler(
  handler: () => Response | Promise<Response>,
): Promise<Response> {
  try {
    return await handler();
  } catch (e) {
    console.error("room server: request handler failed:", e);
    return new Response("internal server error", {
      status: 500,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
}
