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
import "./_ws_masking.ts"; // before ws: it reads the hook when it loads
import { WebSocketServer } from "ws";
import { ServerWebSocket, type WsSocket } from "./_server_web_socket.ts";
import {
  type HttpFront,
  type HttpFrontContext,
  type HttpFrontOptions,
  type HttpLimits,
  runHandler,
} from "./_front.ts";

export type { HttpFront, HttpFrontContext, HttpFrontOptions, HttpLimits } from "./_front.ts";

/**
 * The defaults of {@linkcode HttpLimits}.
 *
 * [impl] 10 s for a request head: a handshake head is a few hundred bytes (a few KB with a
 * token), which any working client sends in well under a second; node's own 60 s let a slowloris
 * hold each socket six times longer. 5 s keep-alive is node's default. 60 s of silence on an
 * HTTP connection is far more than any legitimate pause. 1024 connections: the size of a usual
 * file descriptor limit, well above the handshakes of a busy server at any instant. 16 KiB of
 * head is node's default and 30 times a participant token with a dozen grants.
 */
export const HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  headerTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
  maxConnections: 1024,
  maxHeaderBytes: 16 * 1024,
});

interface PendingUpgrade {
  socket: ServerWebSocket;
  response: Response;
  protocol?: string;
}

const STATUS_TEXT = http.STATUS_CODES;

/**
 * How a connection whose request head `node:http` refused is answered, by node's error code.
 *
 * [impl] An oversized head (a 100 KB token in `Authorization`, in the `meshagent-room.`
 * subprotocol or in `?token=`) gets **403**, not 431 or 414: the npm client 0.39.9 treats only
 * 403 and 404 as final (`nonRetryableConnectFailureReason` in its room-client.js; ours: 403,
 * 404, 423) and retries every other status forever, though the same head can never pass. The
 * reason phrase says what happened, since the npm client shows only the status line
 * ("websocket connect failed with status 403: Request Header Fields Too Large"); the JSON body
 * explains it. A slow head gets 408, which clients retry: the next attempt may well be faster.
 */
const HEAD_REFUSALS: Readonly<
  Record<string, { status: number; reason: string; error: (limits: HttpLimits) => string }>
> = {
  HPE_HEADER_OVERFLOW: {
    status: 403,
    reason: "Request Header Fields Too Large",
    error: (limits) =>
      `request header fields too large: the request line and headers exceed the server's ` +
      `limit of ${limits.maxHeaderBytes} bytes. A participant token (in Authorization: Bearer, ` +
      `the meshagent-room. subprotocol or ?token=) is at most a few KB: this one cannot be valid`,
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    reason: "Request Timeout",
    error: (limits) =>
      `request timeout: the request line and headers did not arrive within ` +
      `${limits.headerTimeoutMs / 1000} s`,
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    status: 413,
    reason: "Content Too Large",
    error: () => "content too large: a chunk extension of the request body is too long",
  },
};

/** How long a refused connection may still send (and have dropped) before it is cut. */
const LINGER_MS = 1000;

/**
 * Listens on `hostname:port` (0 picks a free port) and resolves once it does.
 *
 * @param options Address, WebSocket limits and the request handler.
 * @returns The listening front.
 */
export function listenHttpFront(options: HttpFrontOptions): Promise<HttpFront> {
  const limits: HttpLimits = { ...HTTP_LIMITS, ...options.limits };
  const sockets = new Set<ServerWebSocket>();
  /** TCP connections that are not accepted WebSockets (HTTP, handshakes, refusals lingering). */
  const connections = new Set<Duplex>();
  /** Connections answered already (refused): what they send on is dropped, never handled. */
  const refused = new WeakSet<Duplex>();
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

  const headersTimeout = limits.headerTimeoutMs;
  const server = http.createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout,
    // node checks the head timeout on a timer (30 s apart by default, so a 10 s limit would
    // really be up to 40 s): check often enough to be within a quarter of the limit, or 1 s.
    connectionsCheckingInterval: Math.max(
      25,
      Math.min(1000, Math.floor(headersTimeout / 4) || 1000),
    ),
    // node requires requestTimeout >= headersTimeout; its default is 300 s.
    requestTimeout: Math.max(300_000, headersTimeout),
    keepAliveTimeout: limits.keepAliveTimeoutMs,
  });
  server.timeout = limits.idleTimeoutMs; // ws clears it on the sockets it accepts
  server.on("connection", (raw: Duplex) => {
    connections.add(raw);
    raw.once("close", () => connections.delete(raw));
    if (limits.maxConnections > 0 && connections.size > limits.maxConnections) {
      refuseHead(raw, 503, "Service Unavailable", {
        error: `service unavailable: the server has ${limits.maxConnections} HTTP connections ` +
          `open already (WebSockets not counted); retry later`,
      });
    }
  });
  const hostname = options.hostname;
  const url = (req: http.IncomingMessage) => {
    const host = req.headers.host ?? `${hostname}:${address().port}`;
    return new URL(req.url ?? "/", `http://${host}`);
  };

  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (refused.has(req.socket)) return; // answered already; the socket closes soon
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
    runHandler(() => options.handler(request, context))
      .then((response) => writeResponse(req, res, response, abort.signal))
      .catch((e) => {
        // Never an unhandled rejection (it would end the process): log and drop the connection.
        console.error("room server: could not answer a request:", e);
        res.destroy();
      });
  });

  server.on("upgrade", (req: http.IncomingMessage, raw: Duplex, head: Uint8Array) => {
    raw.on("error", () => {}); // a reset before the handshake ends is the client's business
    if (refused.has(raw)) return;
    let request: Request;
    try {
      request = toRequest(req, url(req), undefined);
    } catch {
      return void writeRaw(raw, text(400, "bad request")).catch(() => raw.destroy());
    }
    upgradable.add(request);
    runHandler(() => options.handler(request, context)).then((response) => {
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
          connections.delete(raw); // a WebSocket now: out of the HTTP limits
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

  // A request head node could not take (malformed, too large, too slow): answered with a JSON
  // error if nothing else was sent on the connection yet, else cut; never a crash.
  server.on("clientError", (error: Error & { code?: string }, raw: Duplex) => {
    if (refused.has(raw)) return; // node reports each further chunk of a refused head again
    const message = (raw as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (!raw.writable || message?.headersSent) return void raw.destroy();
    const refusal = HEAD_REFUSALS[error.code ?? ""];
    if (refusal) {
      refuseHead(raw, refusal.status, refusal.reason, { error: refusal.error(limits) });
    } else {
      refuseHead(raw, 400, "Bad Request", {
        error: `bad request: the request line or headers are malformed (${error.code ?? "?"})`,
      });
    }
  });

  /**
   * Answers a connection with a JSON error and closes it. Bytes the client still sends are read
   * and dropped for up to {@linkcode LINGER_MS}: closing a socket with unread input makes the
   * kernel send a reset, which can destroy the answer before the client reads it.
   */
  function refuseHead(raw: Duplex, status: number, reason: string, body: { error: string }) {
    refused.add(raw);
    const json = JSON.stringify(body);
    raw.end(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\n` +
        `content-length: ${new TextEncoder().encode(json).length}\r\nconnection: close\r\n\r\n` +
        json,
    );
    raw.resume();
    const linger = setTimeout(() => raw.destroy(), LINGER_MS);
    raw.once("close", () => clearTimeout(linger));
  }

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
          // Refused connections lingering, handshakes in progress.
          for (const raw of connections) raw.destroy();
          // Sockets still waiting for a peer's close frame (a stalled peer holds one for up to
          // 30 s) would keep the server open.
          for (const socket of sockets) socket.terminate();
          return finished;
        },
      });
    });
  });
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
