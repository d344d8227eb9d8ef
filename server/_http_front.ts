// Deno- and Node-only: the room server's HTTP and WebSocket front on `node:http` and npm `ws`.
//
// [impl] Why not `Deno.serve` + `Deno.upgradeWebSocket`: every protocol message is at least two
// WebSocket frames and every request costs six (protocol-core §2.1, §5.1); Deno's server socket
// sends each frame with its own op and write, while `ws` on a corked `node:http` socket sends a
// tick's frames in one write. On loopback that carried the protocol's six frames per message 1.7x
// faster with a p99 latency 1.7x lower (bench/README.md). Requests are still handled as Fetch
// `Request` → `Response`, exactly as a `Deno.serve` handler, and a WebSocket is accepted the way
// `Deno.upgradeWebSocket` does it: the handler asks for the upgrade and returns the response it got.
import http from "node:http";
import type { Duplex } from "node:stream";
import { Readable } from "node:stream";
import { WebSocketServer } from "ws";
import { ServerWebSocket, type WsSocket } from "./_server_web_socket.ts";

/** What the request handler gets besides the request. */
export interface HttpFrontContext {
  /**
   * Accepts the request's WebSocket upgrade. Return the `response` from the handler; the socket
   * opens after the handshake went out.
   */
  upgradeWebSocket(
    request: Request,
    options?: { protocol?: string },
  ): { socket: ServerWebSocket; response: Response };
}

/** Options of {@linkcode listenHttpFront}. */
export interface HttpFrontOptions {
  hostname: string;
  port: number;
  /** The largest incoming WebSocket frame in bytes; a bigger one closes the socket with 1009. */
  maxFrameSize: number;
  /** Seconds between pings; a socket that did not answer the previous ping is dropped. 0: none. */
  pingInterval: number;
  /** Answers every request (WebSocket upgrades included), like a `Deno.serve` handler. */
  handler: (request: Request, context: HttpFrontContext) => Response | Promise<Response>;
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

interface PendingUpgrade {
  socket: ServerWebSocket;
  response: Response;
  protocol?: string;
}

const STATUS_TEXT = http.STATUS_CODES;

/**
 * Listens on `hostname:port` (0 picks a free port) and resolves once it does.
 *
 * @param options Address, WebSocket limits and the request handler.
 * @returns The listening front.
 */
export function listenHttpFront(options: HttpFrontOptions): Promise<HttpFront> {
  const sockets = new Set<ServerWebSocket>();
  /** Upgrade requests the handler accepted, by the Fetch request it was given. */
  const pending = new WeakMap<Request, PendingUpgrade>();
  const upgradable = new WeakSet<Request>();
  /** The subprotocol to echo, by the node request it came with (read by `handleProtocols`). */
  const protocols = new WeakMap<http.IncomingMessage, string>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxFrameSize,
    perMessageDeflate: false, // optional in the protocol (§1.4); the official clients fall back
    clientTracking: false,
    handleProtocols: (_offered: Set<string>, req: http.IncomingMessage) =>
      protocols.get(req) ?? false,
  });

  const context: HttpFrontContext = {
    upgradeWebSocket(request, upgradeOptions) {
      if (!upgradable.has(request) || pending.has(request)) {
        throw new TypeError("not a WebSocket upgrade request, or already upgraded");
      }
      const socket = new ServerWebSocket();
      const response = new Response(null, { status: 200 });
      pending.set(request, { socket, response, protocol: upgradeOptions?.protocol });
      return { socket, response };
    },
  };

  const server = http.createServer();
  const hostname = options.hostname;
  const url = (req: http.IncomingMessage) => {
    const host = req.headers.host ?? `${hostname}:${address().port}`;
    return new URL(req.url ?? "/", `http://${host}`);
  };

  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const abort = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    let request: Request;
    try {
      request = toRequest(req, url(req), abort.signal);
    } catch {
      res.writeHead(400, { "content-type": "text/plain; charset=utf-8" }).end("bad request");
      return;
    }
    run(() => options.handler(request, context))
      .then((response) => writeResponse(req, res, response, abort.signal))
      .catch((e) => {
        // Never an unhandled rejection (it would end the process): log and drop the connection.
        console.error("room server: could not answer a request:", e);
        res.destroy();
      });
  });

  server.on("upgrade", (req: http.IncomingMessage, raw: Duplex, head: Uint8Array) => {
    raw.on("error", () => {}); // a reset before the handshake ends is the client's business
    let request: Request;
    try {
      request = toRequest(req, url(req), undefined);
    } catch {
      return void writeRaw(raw, text(400, "bad request")).catch(() => raw.destroy());
    }
    upgradable.add(request);
    run(() => options.handler(request, context)).then((response) => {
      const accepted = pending.get(request);
      if (!accepted || accepted.response !== response) {
        accepted?.socket.abandon();
        return writeRaw(raw, response);
      }
      if (accepted.protocol !== undefined) protocols.set(req, accepted.protocol);
      const socket = accepted.socket;
      let attached = false;
      try {
        wss.handleUpgrade(req, raw, head, (ws: WsSocket) => {
          attached = true;
          sockets.add(socket);
          ws.on("close", () => sockets.delete(socket));
          socket.attach(ws);
        });
      } finally {
        // ws answered the handshake itself (invalid headers) or the client already left.
        if (!attached) socket.abandon();
      }
    }).catch((e) => {
      // Never an unhandled rejection (it would end the process): log and drop the connection.
      console.error("room server: could not answer a WebSocket upgrade:", e);
      raw.destroy();
    });
  });

  // A malformed request line or headers: node answers 400 if it still can; never a crash.
  server.on("clientError", (_error: Error, raw: Duplex) => {
    if (raw.writable) raw.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
    else raw.destroy();
  });

  let heartbeat: ReturnType<typeof setInterval> | undefined;
  if (options.pingInterval > 0) {
    heartbeat = setInterval(() => {
      for (const socket of sockets) socket.heartbeat();
    }, options.pingInterval * 1000);
  }
  const finished = new Promise<void>((resolve) => {
    server.on("close", () => {
      clearInterval(heartbeat);
      resolve();
    });
  });
  const address = () => server.address() as { address: string; port: number };

  return new Promise((resolve, reject) => {
    const failed = (error: Error) => {
      clearInterval(heartbeat);
      reject(error);
    };
    server.once("error", failed);
    server.listen(options.port, hostname, () => {
      server.off("error", failed);
      server.on("error", (e: Error) => console.error("room server: HTTP server error:", e));
      const { address: boundHost, port } = address();
      resolve({
        hostname: boundHost,
        port,
        finished,
        close() {
          server.close();
          server.closeAllConnections?.();
          // Sockets still waiting for a peer's close frame (a stalled peer holds one for up to
          // 30 s) would keep the server open.
          for (const socket of sockets) socket.terminate();
          return finished;
        },
      });
    });
  });
}

/** Runs the handler; a throw becomes a 500 (and a log line), as with `Deno.serve`. */
async function run(handler: () => Response | Promise<Response>): Promise<Response> {
  try {
    return await handler();
  } catch (e) {
    console.error("room server: request handler failed:", e);
    return text(500, "internal server error");
  }
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** The Fetch view of a node request. Throws on header values Fetch does not accept. */
function toRequest(
  req: http.IncomingMessage,
  url: URL,
  signal: AbortSignal | undefined,
): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(url, {
    method,
    headers,
    signal,
    body: hasBody ? Readable.toWeb(req) as ReadableStream<Uint8Array> : null,
    // @ts-ignore: `duplex` is required by Fetch for streamed request bodies (not in Deno's types).
    duplex: hasBody ? "half" : undefined,
  });
}

/** Writes a Fetch response to a node response, streaming its body with backpressure. */
async function writeResponse(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  response: Response,
  signal: AbortSignal,
): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers["set-cookie"] = cookies;
  try {
    res.writeHead(response.status, response.statusText || undefined, headers);
  } catch (e) {
    console.error("room server: could not write a response head:", e);
    res.destroy();
    await response.body?.cancel().catch(() => {});
    return;
  }
  const body = response.body;
  if (!body || req.method === "HEAD") {
    await body?.cancel().catch(() => {});
    res.end();
    return;
  }
  const reader = body.getReader();
  const onAbort = () => reader.cancel().catch(() => {});
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off("drain", go);
            res.off("close", go);
            resolve();
          };
          res.on("drain", go);
          res.on("close", go);
        });
      }
      if (signal.aborted) return;
    }
    res.end();
  } catch {
    res.destroy(); // the body failed mid-way: the client sees a cut connection, not a short file
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** Writes a whole (non-upgrade) response to a raw socket and closes it. */
async function writeRaw(raw: Duplex, response: Response): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer().catch(() => new ArrayBuffer(0)));
  if (!raw.writable) return void raw.destroy();
  const lines = [`HTTP/1.1 ${response.status} ${STATUS_TEXT[response.status] ?? ""}`];
  response.headers.forEach((value, name) => {
    if (name !== "content-length" && name !== "connection") lines.push(`${name}: ${value}`);
  });
  lines.push(`content-length: ${body.length}`, "connection: close", "", "");
  raw.write(lines.join("\r\n"));
  raw.end(body);
}
