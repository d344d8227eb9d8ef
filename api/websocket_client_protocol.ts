import { ConnectionClosedError, RoomError } from "./errors.ts";
import { EventEmitter } from "./event_emitter.ts";
import { Protocol, type ProtocolChannel, type ProtocolOptions } from "./protocol.ts";
import { joined, openNodeWebSocket, type SocketLike } from "./_node_websocket.ts";

/** How the participant token travels in the WebSocket handshake. */
export type TokenTransport = "header" | "subprotocol" | "query";

/** The subprotocol prefix under which browsers present the token. */
export const ROOM_SUBPROTOCOL_PREFIX = "meshagent-room.";

/** Options of a {@linkcode WebSocketClientProtocol}. */
export interface WebSocketClientProtocolOptions extends ProtocolOptions {
  /** The room URL, `ws(s)://host/rooms/<room>`. */
  url: string;
  /** The participant token (JWT). */
  token: string;
  /**
   * How the token is sent: `header` (`Authorization: Bearer`, the default on Deno and Node),
   * `subprotocol` (`meshagent-room.<jwt>`, the default in browsers, which cannot set headers) or
   * `query` (`?token=`, as the npm client 0.39.9 does).
   */
  tokenTransport?: TokenTransport;
  /**
   * How long (ms) to keep retrying a lost or failing connection before giving up; `0` disables
   * retries, `null` retries forever. Default 300000 (5 minutes), so that a dead server ends a
   * client instead of leaving it waiting unseen.
   */
  reconnectTimeout?: number | null;
}

/** Events of a {@linkcode WebSocketClientProtocol}. */
export interface WebSocketClientProtocolEvents {
  /** A socket opened (the first one, or one after a reconnect). */
  open: { reconnect: boolean };
  /** A socket was lost and reconnecting starts. */
  disconnected: { code?: number; reason?: string };
  /** The connection is over for good: closed by either side or given up on. */
  closed: { code?: number; reason?: string; error?: RoomError };
}

/** A WebSocket handshake that the server refused with a status that must not be retried. */
export class HandshakeRejectedError extends RoomError {
  /** The HTTP status (403, 404 or 423). */
  readonly status: number;

  /**
   * Creates the value.
   *
   * @param status The HTTP status.
   * @param message What the server or the transport said.
   */
  constructor(status: number, message: string) {
    super(`websocket connect failed with status ${status}: ${message}`, 1001);
    this.name = "HandshakeRejectedError";
    this.status = status;
  }
}

const NON_RETRYABLE = new Set([403, 404, 423]);

function isDeno(): boolean {
  return typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
}

function isNode(): boolean {
  const p = (globalThis as { process?: { release?: { name?: string } } }).process;
  return !isDeno() && p?.release?.name === "node";
}

function defaultTransport(): TokenTransport {
  return isDeno() || isNode() ? "header" : "subprotocol";
}

/**
 * [impl] Data bytes per outgoing packet: 64 KiB, as our server sends. The official clients send
 * 1024; receivers take any size (protocol-core §2.1; the Python server takes frames up to 4 MiB),
 * and a big message (a dataset insert, an upload) then costs 64 times fewer frames on both sides:
 * bench/README.md, datasets.
 */
const CLIENT_PACKET_SIZE = 64 * 1024;

/** Backoff before retry `n` (0-based): min(30 s, 0.5 s × 2^n). */
function backoff(retry: number): number {
  return Math.min(30_000, 500 * 2 ** retry);
}

interface Attempt {
  socket: SocketLike;
  /** Frames that arrived between the open event and attaching (same tick as the 101). */
  early: unknown[];
  /** A close that happened before attaching. */
  closed?: { code: number; reason: string };
}

/**
 * A {@linkcode Protocol} over a WebSocket to a room, with the reconnect rules of the official
 * clients: handshake statuses 403, 404 and 423 are final; a close with code 1000 is final; any
 * other close or a network error reconnects with backoff `min(30 s, 0.5 s × 2^n)` until
 * `reconnectTimeout` runs out. Requests pending on a lost socket fail; they are not replayed.
 *
 * @example
 * ```ts
 * import { WebSocketClientProtocol } from "@meshagent/api";
 * const protocol = new WebSocketClientProtocol({
 *   url: "ws://127.0.0.1:9/rooms/demo",
 *   token: "not-a-real-token",
 *   reconnectTimeout: 0,
 * });
 * try {
 *   await protocol.connect();
 * } catch (e) {
 *   console.log("no server there:", (e as Error).message);
 * }
 * ```
 */
export class WebSocketClientProtocol extends Protocol {
  /** Connection events. */
  readonly events: EventEmitter<WebSocketClientProtocolEvents> = new EventEmitter();
  readonly #url: string;
  readonly #token: string;
  readonly #transport: TokenTransport;
  readonly #reconnectTimeout: number | null;
  #socket?: SocketLike;
  #disposed = false;
  #connected = false;
  #abort = new AbortController();

  /**
   * Creates the value.
   * @param options Where to connect, the token and the reconnect policy.
   */
  constructor(options: WebSocketClientProtocolOptions) {
    const holder: { socket?: SocketLike } = {};
    const channel: ProtocolChannel = {
      send(frame) {
        const socket = holder.socket;
        if (!socket || socket.readyState !== 1 /* OPEN */) {
          throw new ConnectionClosedError("the room connection is not open");
        }
        socket.send(frame);
      },
      sendParts(pieces) {
        const socket = holder.socket;
        if (!socket || socket.readyState !== 1 /* OPEN */) {
          throw new ConnectionClosedError("the room connection is not open");
        }
        if (socket.sendParts) socket.sendParts(pieces);
        else socket.send(joined(pieces));
      },
      close(code, reason) {
        holder.socket?.close(code, reason);
      },
    };
    super(channel, { ...options, chunkSize: options.chunkSize ?? CLIENT_PACKET_SIZE });
    this.#holder = holder;
    this.#url = options.url;
    this.#token = options.token;
    this.#transport = options.tokenTransport ?? defaultTransport();
    this.#reconnectTimeout = options.reconnectTimeout === undefined
      ? 300_000
      : options.reconnectTimeout;
    // A fresh protocol counts as closed until a socket opens.
    this.closed();
  }

  readonly #holder: { socket?: SocketLike };

  /** The room URL. */
  get url(): string {
    return this.#url;
  }

  /** True while a socket is open. */
  get connected(): boolean {
    return this.#connected;
  }

  /**
   * Opens the first socket, retrying transient failures within `reconnectTimeout`.
   *
   * @param signal Aborts the attempt.
   * @throws {HandshakeRejectedError} When the server refused the token or the room (403/404/423).
   * @throws {ConnectionClosedError} When every attempt failed within the reconnect timeout.
   */
  async connect(signal?: AbortSignal): Promise<void> {
    if (this.#disposed) throw new ConnectionClosedError("the protocol was disposed");
    await this.#openWithRetry(false, signal);
  }

  async #openWithRetry(reconnect: boolean, signal?: AbortSignal): Promise<void> {
    const started = Date.now();
    let retry = 0;
    const limit = this.#reconnectTimeout;
    const signals = [this.#abort.signal, ...(signal ? [signal] : [])];
    const combined = AbortSignal.any(signals);
    // When the limit is null, even the first attempt waits 0.5 s after a lost connection, as the
    // official clients do; a first connect does not wait.
    if (reconnect && limit === null) await sleep(500, combined);
    while (true) {
      let failure: RoomError;
      try {
        const attempt = await this.#open(combined);
        this.#attach(attempt, reconnect);
        return;
      } catch (e) {
        if (e instanceof HandshakeRejectedError) throw e;
        if (combined.aborted) {
          throw new ConnectionClosedError("connecting was cancelled");
        }
        failure = e instanceof RoomError ? e : new ConnectionClosedError(String(e));
      }
      const elapsed = Date.now() - started;
      const delay = backoff(retry++);
      if (limit !== null && elapsed + delay > limit) throw failure;
      await sleep(delay, combined).catch(() => {
        throw new ConnectionClosedError("connecting was cancelled");
      });
    }
  }

  async #open(signal: AbortSignal): Promise<Attempt> {
    let url = this.#url;
    let socket: SocketLike;
    try {
      if (this.#transport === "query") {
        const u = new URL(url);
        u.searchParams.set("token", this.#token);
        url = u.toString();
      }
      if (isDeno() || isNode()) {
        // npm `ws` on Deno and Node: TCP_NODELAY, headers, and the handshake status.
        const headers: Record<string, string> = this.#transport === "header"
          ? { authorization: `Bearer ${this.#token}` }
          : {};
        const protocols = this.#transport === "subprotocol"
          ? [ROOM_SUBPROTOCOL_PREFIX + this.#token]
          : undefined;
        socket = await openNodeWebSocket(url, headers, protocols);
      } else if (this.#transport === "subprotocol") {
        socket = new WebSocket(url, [
          ROOM_SUBPROTOCOL_PREFIX + this.#token,
        ]) as unknown as SocketLike;
      } else {
        socket = new WebSocket(url) as unknown as SocketLike;
      }
    } catch (e) {
      throw new ConnectionClosedError(`cannot open ${url}: ${(e as Error).message}`);
    }
    return await new Promise<Attempt>((resolve, reject) => {
      if (!(isDeno() || isNode())) socket.binaryType = "arraybuffer";
      let errorText = "";
      const onAbort = () => {
        socket.close();
        reject(new ConnectionClosedError("connecting was cancelled"));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      socket.onopen = () => {
        signal.removeEventListener("abort", onAbort);
        socket.onopen = socket.onerror = null;
        // The server sends room_ready right after the upgrade, often in the same TCP segment as
        // the 101: `ws` then emits those messages in the same tick as `open`, before the promise
        // continuation attaches the real handlers. Keep them (and an early close) until then.
        const attempt: Attempt = { socket, early: [] };
        socket.onmessage = (e) => attempt.early.push(e.data);
        socket.onclose = (e) => attempt.closed = { code: e.code, reason: e.reason };
        resolve(attempt);
      };
      socket.onerror = (e) => {
        errorText = e.message ?? "";
      };
      socket.onclose = (e) => {
        signal.removeEventListener("abort", onAbort);
        const match = /(?:status code|server response):? (\d{3})/i.exec(errorText);
        const status = match ? Number(match[1]) : undefined;
        if (status !== undefined && NON_RETRYABLE.has(status)) {
          // What the server said after the status (see _node_websocket.ts), else ws' own text.
          const said = errorText.slice(match!.index + match![0].length).replace(/^:\s*/, "");
          reject(new HandshakeRejectedError(status, said || errorText));
        } else {
          reject(
            new ConnectionClosedError(
              `cannot connect to ${this.#url}: ${errorText || e.reason || `closed with ${e.code}`}`,
              e.code,
            ),
          );
        }
      };
    });
  }

  #attach(attempt: Attempt, reconnect: boolean): void {
    const socket = attempt.socket;
    this.#socket = socket;
    this.#holder.socket = socket;
    this.reopen();
    this.#connected = true;
    const onData = (data: unknown) => {
      if (data instanceof ArrayBuffer) this.receive(new Uint8Array(data));
      else if (ArrayBuffer.isView(data)) {
        this.receive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      } else if (typeof data === "string") this.receive(new TextEncoder().encode(data));
    };
    if (socket.setFrameListener) {
      socket.onmessage = null;
      socket.setFrameListener((frame) => this.receive(frame));
    } else {
      socket.onmessage = (e) => onData(e.data);
    }
    socket.onclose = (e) => this.#lost(socket, e.code, e.reason);
    socket.onerror = () => {};
    this.events.emit("open", { reconnect });
    for (const data of attempt.early) onData(data);
    attempt.early.length = 0;
    if (attempt.closed) this.#lost(socket, attempt.closed.code, attempt.closed.reason);
  }

  #lost(socket: SocketLike, code: number, reason: string): void {
    if (socket !== this.#socket) return;
    this.#connected = false;
    this.#socket = undefined;
    this.#holder.socket = undefined;
    this.closed(code, reason);
    if (this.#disposed || code === 1000 || this.#reconnectTimeout === 0) {
      this.events.emit("closed", { code, reason });
      return;
    }
    this.events.emit("disconnected", { code, reason });
    this.#openWithRetry(true).catch((e) => {
      const error = e instanceof RoomError ? e : new ConnectionClosedError(String(e));
      this.events.emit("closed", { code, reason, error });
    });
  }

  /**
   * Closes the socket with code 1000 and stops reconnecting. Pending requests fail.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#abort.abort();
    const socket = this.#socket;
    this.#socket = undefined;
    this.#holder.socket = undefined;
    this.#connected = false;
    if (socket) {
      socket.onmessage = null;
      socket.setFrameListener?.(null);
      socket.onclose = null;
      try {
        socket.close(1000);
      } catch { /* already closing */ }
    }
    this.closed(1000, "disposed");
    this.events.emit("closed", { code: 1000, reason: "disposed" });
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
