import {
  type ApiKey,
  ApiScope,
  EmptyContent,
  ErrorCode,
  type JsonObject,
  RoomError,
} from "@meshagent/api";
import type { FileStore } from "./file_store.ts";
import { LocalFileStore } from "./local_file_store.ts";
import { admit } from "./_admission.ts";
import { InboundLimits } from "./_inbound_limits.ts";
import { type ConnectionRequest, serveConnection } from "./_connection.ts";
import { listenHttpFront } from "./_http_front.ts";
import { denoFrontContext, denoHandler, listenDenoFront } from "./_deno_front.ts";
import type { FrontSocket, HttpFront, HttpFrontContext, HttpLimits } from "./_front.ts";
import { AdminApi } from "./admin_api.ts";
import { WebhookOutbox, type WebhookOutboxOptions } from "./webhook_outbox.ts";
import { type CallRoom, RoomCalls, SERVICE_CLAIM } from "./_room_calls.ts";
import { servicesToolkit } from "./services_toolkit.ts";
import { developerToolkit } from "./developer_toolkit.ts";
import { messagingToolkit } from "./messaging_toolkit.ts";
import type { Participant } from "./participant.ts";
import type { QueueStoreFactory } from "./queue_store.ts";
import { queuesToolkit } from "./queues_toolkit.ts";
import { Room } from "./room.ts";
import { isValidRoomName } from "./room_name.ts";
import type { RoomToolkitFactory } from "./room_toolkit.ts";
import { sqliteQueueStore } from "./sqlite_queue_store.ts";
import { sqliteToolkit, type SqliteToolkitOptions } from "./sqlite_toolkit.ts";
import { datasetToolkit, type DatasetToolkitOptions } from "./dataset_toolkit.ts";
import { storageToolkit } from "./storage_toolkit.ts";
import { syncToolkit } from "./sync_toolkit.ts";
import { livekitToolkit, type LivekitToolkitOptions } from "./livekit_toolkit.ts";
import type { SyncToolkitOptions } from "./sync_toolkit_options.ts";
import { createDownloadHandler, type DownloadHandler, DownloadUrlSigner } from "./download_url.ts";
import { loadDownloadUrlSecret } from "./_download_url_secret.ts";
import { stopIdleDocumentWorkers } from "./_document_worker_pool.ts";

/** The server name reported by `GET /`. */
export const SERVER_NAME = "meshagent-deno-server";
/** The server version reported by `GET /`. */
export const SERVER_VERSION = "0.1.0";
/** The default data bytes per outgoing packet of the server (see `RoomServerOptions.packetSize`). */
export const DEFAULT_PACKET_SIZE = 64 * 1024;

/**
 * An extra HTTP route of a {@linkcode RoomServer}: a response, or `undefined` when the request is
 * not for it.
 */
export type RoomServerRoute = (request: Request) => Promise<Response | undefined>;

/** Options of a {@linkcode RoomServer}. */
export interface RoomServerOptions {
  /** The address to listen on (default `127.0.0.1`). */
  hostname?: string;
  /** The port (default 8080; 0 picks a free one). */
  port?: number;
  /** The data folder; each room keeps its stores under `<dataDir>/rooms/<room>/`. */
  dataDir: string;
  /** The API keys whose tokens are trusted (parsed `ma-…` keys). */
  keys: readonly ApiKey[];
  /** The largest incoming message in bytes (default 16 MiB); bigger closes the socket (1009). */
  maxMessageSize?: number;
  /**
   * What participants may make the server hold for input they have not finished sending
   * (incomplete messages), how long a message may take, and connections per token.
   */
  inbound?: RoomServerInboundOptions;
  /**
   * Seconds between server pings; a client that has not answered the previous ping when the next
   * one is due is dropped (default 30; 0 disables).
   */
  pingInterval?: number;
  /** The largest send backlog per socket in bytes (default 64 MiB); over it → close 1008. */
  maxBufferedAmount?: number;
  /**
   * Data bytes per outgoing data packet (default 64 KiB). Receivers do not check the packet size
   * (protocol-core §2.1; the Python client takes anything under 4 MiB), and large packets cut the
   * per-frame cost of big messages (storage downloads) several times; 1024 is byte-identical to
   * what the official clients send.
   */
  packetSize?: number;
  /**
   * Seconds a call routed to a participant-hosted toolkit may wait for the host's answer (its
   * result, or the start of its output stream) before the caller gets error 1009 (default 600).
   */
  toolCallTimeout?: number;
  /** The public base URL (`https://rooms.example.com`); default: from the request's Host. */
  publicUrl?: string;
  /** Called once the server listens. */
  onListen?: (address: { hostname: string; port: number }) => void;
  /** The queue store of each room (default: SQLite in the room's data folder). */
  queueStore?: QueueStoreFactory;
  /** Extra built-in toolkits, added after messaging, queues and developer. */
  toolkits?: readonly RoomToolkitFactory[];
  /**
   * More HTTP routes (the web console's pages, for one), tried in order before the rooms' and
   * after `GET /` and the admin API: each answers a request or returns `undefined` to pass it on.
   */
  routes?: readonly RoomServerRoute[];
  /**
   * Opens the file store of a room (default: {@linkcode LocalFileStore} under
   * `<dataDir>/rooms/<room>/files/`). Called once per room per server process; the store is then
   * shared by every session of the room and by the download URL handler.
   */
  fileStore?: (room: string) => Promise<FileStore>;
  /** Room storage limits and tuning (used by the default file store and the storage toolkit). */
  storage?: RoomServerStorageOptions;
  /**
   * The rooms' SQL databases (the `sqlite` toolkit): isolation (each room's SQL in a process of
   * its own by default), the per-statement time limit (default 5 s), memory and batch limits.
   */
  sqlite?: SqliteToolkitOptions;
  /** The room datasets (`dataset` toolkit): the store and its limits. */
  dataset?: DatasetToolkitOptions;
  /**
   * The rooms' synchronized documents (the `sync` toolkit): where their Yjs work runs (a Worker
   * per room by default) and its time limit per update (default 10 s).
   */
  sync?: SyncToolkitOptions;
  /**
   * The rooms' media server (the `livekit` toolkit): its URL and token key (default from
   * `LIVEKIT_URL`, `LIVEKIT_API_KEY`, `LIVEKIT_API_SECRET`; without them `connect` answers 1007).
   */
  livekit?: LivekitToolkitOptions;
  /** Limits on HTTP connections that are not WebSockets (slow or oversized request heads). */
  http?: RoomServerHttpOptions;
  /**
   * The HTTP + WebSocket front: `node` (`node:http` + npm `ws`, the default: the faster one,
   * see bench/README.md) or `deno` (`Deno.serve` + `Deno.upgradeWebSocket`; the `http` limits
   * other than the ping do not apply there). Both run the same handler.
   */
  front?: RoomServerFront;
  /**
   * The secret that signs the server's own webhooks: `room.call` deliveries and the `webhooks`
   * below (default: none, they go unsigned). Project webhooks have secrets of their own.
   */
  webhookSecret?: string;
  /** Webhooks of the whole server: every room's events go to each (signed with `webhookSecret`). */
  webhooks?: readonly RoomServerWebhook[];
  /** Retries, timeouts and concurrency of webhook deliveries. */
  webhookDelivery?: WebhookOutboxOptions;
}

/** Which front a {@linkcode RoomServer} listens with. */
export type RoomServerFront = "node" | "deno";

/** A webhook of the whole server (see `RoomServerOptions.webhooks`). */
export interface RoomServerWebhook {
  /** Where events are posted. */
  url: string;
  /**
   * The event types (default: `room.started`, `room.ended`, `participant.joined`,
   * `participant.left`).
   */
  events?: readonly string[];
}

/**
 * HTTP limits of a {@linkcode RoomServer}: they hold for plain HTTP requests and WebSocket
 * handshakes, never for accepted WebSockets (those have `pingInterval`).
 */
export interface RoomServerHttpOptions {
  /**
   * Seconds a connection may take to send a request's line and headers (from its connect or
   * the end of its previous request); past it: 408 and closed (default 10; 0: only node's limit
   * of 300 s on a whole request).
   */
  headerTimeout?: number;
  /** Seconds an idle keep-alive connection is kept between requests (default 5, plus 1 s). */
  keepAliveTimeout?: number;
  /**
   * Seconds without traffic either way after which an HTTP connection is closed: a client that
   * connects and sends nothing, a download whose reader stopped reading (default 60; 0: none).
   */
  idleTimeout?: number;
  /**
   * The most HTTP connections at once, handshakes included; one more gets 503 (default 1024;
   * 0: no limit).
   */
  maxConnections?: number;
  /**
   * The most bytes of a request line and headers (default 16 KiB). A bigger one, such as a
   * 100 KB token, gets 403 with a JSON `error`: the official clients do not retry a 403.
   */
  maxHeaderBytes?: number;
}

/** Storage options of a {@linkcode RoomServer}. */
export interface RoomServerStorageOptions {
  /** The largest file in bytes (default 4 GiB). Ignored when `fileStore` is given. */
  maxFileBytes?: number;
  /** The most bytes one room's files may take (default: no limit). Ignored with `fileStore`. */
  maxRoomBytes?: number;
  /** The `chunk_size` of upload pulls (default 1 MiB). */
  uploadChunkSize?: number;
  /** Upload pulls kept outstanding (default 4). */
  uploadPullWindow?: number;
  /** The largest download data chunk (default 4 MiB). */
  maxDownloadChunkSize?: number;
  /**
   * The secret that signs download URLs (at least 16 bytes). Default: 32 random bytes generated
   * on first use and kept in `<dataDir>/download-url-secret` (mode 0600), so URLs stay valid
   * across restarts; delete that file to invalidate every URL handed out.
   */
  downloadUrlSecret?: string | Uint8Array;
  /** How long download URLs stay valid, in seconds (default 3600). */
  downloadUrlTtlSeconds?: number;
}

/**
 * Limits on incomplete input (messages whose header packet arrived and whose last data packet has
 * not, and WebSocket frames not received whole) and on connections per token. Each one closes
 * only the connection that passed it, with the close code below and a reason that says which
 * limit; what that connection held is dropped at once.
 */
export interface RoomServerInboundOptions {
  /**
   * Bytes one connection may hold in incomplete input; past it: close 1009 (default
   * `maxMessageSize` + 1 MiB). [impl] A connection assembles one message at a time, so the
   * default is the largest message plus room for the frame after it.
   */
  maxConnectionBytes?: number;
  /**
   * Bytes all connections together may hold in incomplete input; past it, the connection of the
   * token holding the most that holds the most is closed with 1013 "try again later" (default
   * 256 MiB, or 4 × `maxMessageSize` if that is more). [impl] 16 largest messages arriving at
   * once; a working client sends a message in well under a second, so this is rarely touched.
   */
  maxServerBytes?: number;
  /**
   * Seconds from a message's header packet (or a frame's first bytes) to its last packet; past
   * it: close 1008 (default 120). [impl] A 16 MiB message then needs about 140 KB/s.
   */
  messageTimeout?: number;
  /**
   * Connections open at once with the same token (the same JWT); one more is accepted and closed
   * at once with 1008 "too many connections" (default 64; 0: no limit). [impl] One client is one
   * connection, so a process running a few agents, or a service joining several rooms with one
   * token, stays far below 64, while one leaked or stolen token cannot open hundreds of sockets,
   * each with its own send backlog and incomplete-input budget.
   */
  maxConnectionsPerToken?: number;
}

interface RoomEntry {
  room: Room;
  /**
   * Sockets admitted to the room (open or opening), except those of the room's own services.
   * The room ends when this drops to 0.
   */
  refs: number;
  /** The project that owns the room. */
  projectId: string;
  /** The key whose token opened the session (it signs the tokens of calls into the room). */
  keyId: string;
  /** Connections of the room's own services (closed when the room ends). */
  services: Set<Participant>;
}

/** The events a server webhook gets by default. */
const DEFAULT_EVENTS = ["room.started", "room.ended", "participant.joined", "participant.left"];

/**
 * The MeshAgent room server: `GET /` answers a JSON banner; `/rooms/{room}` accepts WebSocket
 * connections of participants that hold a token signed by one of the trusted keys. Rooms are
 * created on first connect and ended after the last participant leaves.
 *
 * Start one with {@linkcode RoomServer.listen}; {@linkcode RoomServer.shutdown} stops it.
 *
 * [impl] The HTTP and WebSocket front is `node:http` with npm `ws` (Deno runs both), not
 * `Deno.serve`: every protocol message is two or more WebSocket frames, and a corked `ws` socket
 * sends a tick's frames in one write where `Deno.upgradeWebSocket` makes one write per frame
 * (figures in bench/README.md). Requests are still handled as Fetch `Request` → `Response`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RoomServer } from "@meshagent/server";
 * import { generateApiKey } from "@meshagent/api";
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [generateApiKey()] });
 * const banner = await (await fetch(server.url)).json();
 * assert(banner.name === "meshagent-deno-server");
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export class RoomServer {
  #front?: HttpFront;
  readonly #dataDir: string;
  readonly #maxMessageSize: number;
  readonly #maxBufferedAmount: number;
  readonly #inbound: InboundLimits;
  readonly #packetSize: number;
  readonly #pingInterval: number;
  readonly #toolCallTimeoutMs: number;
  readonly #publicUrl?: string;
  readonly #toolkits: readonly RoomToolkitFactory[];
  readonly #routes: readonly RoomServerRoute[];
  readonly #fileStore: (room: string) => Promise<FileStore>;
  /** One file store per room name for the server's lifetime (shared by sessions and downloads). */
  readonly #fileStores = new Map<string, Promise<FileStore>>();
  #download?: Promise<{ signer: DownloadUrlSigner; handle: DownloadHandler }>;
  readonly #storage: RoomServerStorageOptions;
  readonly #rooms = new Map<string, RoomEntry>();
  /** Accepted sockets, each with a promise that settles once its connection ended. */
  readonly #sockets = new Map<FrontSocket, Promise<void>>();
  /** Participants by the id of the API key that signed their token (closed when it is revoked). */
  readonly #byKey = new Map<string, Set<Participant>>();
  readonly #admin: AdminApi;
  readonly #outbox: WebhookOutbox;
  readonly #calls: RoomCalls;
  readonly #webhookSecret: string;
  readonly #webhooks: readonly RoomServerWebhook[];
  readonly #requests: ReadonlyMap<string, ConnectionRequest>;
  readonly #roomClosing = new Set<Promise<void>>();
  #stopping?: Promise<void>;

  /**
   * Starts a room server and resolves once it listens.
   *
   * @param options Address, data folder, trusted keys and limits.
   * @returns The listening server.
   * @throws When the address cannot be bound (e.g. the port is in use).
   */
  static async listen(options: RoomServerOptions): Promise<RoomServer> {
    const server = new RoomServer(options);
    const listen = options.front === "deno" ? listenDenoFront : listenHttpFront;
    let front: HttpFront;
    try {
      front = await listen({
        hostname: options.hostname ?? "127.0.0.1",
        port: options.port ?? 8080,
        // Incoming frames are packets of at most one message (§2.1): nothing bigger is ever valid.
        maxFrameSize: server.#maxMessageSize + 1024,
        pingInterval: server.#pingInterval,
        handler: (request, context) => server.#handle(request, context),
        limits: httpLimits(options.http ?? {}),
      });
    } catch (e) {
      await server.#closeStores();
      throw e;
    }
    server.#front = front;
    options.onListen?.({ hostname: front.hostname, port: front.port });
    return server;
  }

  /**
   * Makes a room server that does not listen: its {@linkcode RoomServer.fetch} answers requests
   * given to it by Deno's own server — `deno serve`, Deno Deploy, or a `Deno.serve` of yours —
   * with WebSockets upgraded by `Deno.upgradeWebSocket`. Stop it with
   * {@linkcode RoomServer.shutdown}.
   *
   * @param options Data folder, trusted keys and limits (the address and `front` are not used).
   * @returns The server.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { RoomServer } from "@meshagent/server";
   * import { generateApiKey } from "@meshagent/api";
   * const dataDir = await Deno.makeTempDir();
   * const server = RoomServer.create({ dataDir, keys: [generateApiKey()] });
   * const banner = await (await server.fetch(new Request("http://localhost/"))).json();
   * assert(banner.name === "meshagent-deno-server");
   * await server.shutdown();
   * await Deno.remove(dataDir, { recursive: true });
   * ```
   */
  static create(options: RoomServerOptions): RoomServer {
    return new RoomServer(options);
  }

  /**
   * Answers one request as a `Deno.serve` handler (bound: `export default { fetch: server.fetch }`
   * in a module run by `deno serve`).
   *
   * @param request The request.
   * @returns The response (a WebSocket upgrade for `/rooms/<room>`).
   */
  readonly fetch = (request: Request): Promise<Response> => {
    this.#denoFetch ??= denoHandler(
      (r, context) => this.#handle(r, context),
      denoFrontContext(this.#pingInterval, this.#denoSockets, this.#maxMessageSize + 1024),
    );
    return this.#denoFetch(request);
  };
  #denoFetch?: (request: Request) => Promise<Response>;
  readonly #denoSockets = new Set<FrontSocket>();

  private constructor(options: RoomServerOptions) {
    this.#dataDir = options.dataDir;
    this.#routes = options.routes ?? [];
    this.#webhookSecret = options.webhookSecret ?? "";
    this.#webhooks = options.webhooks ?? [];
    this.#maxMessageSize = options.maxMessageSize ?? 16 * 1024 * 1024;
    this.#maxBufferedAmount = options.maxBufferedAmount ?? 64 * 1024 * 1024;
    this.#inbound = inboundLimits(options.inbound ?? {}, this.#maxMessageSize);
    this.#packetSize = options.packetSize ?? DEFAULT_PACKET_SIZE;
    this.#pingInterval = options.pingInterval ?? 30;
    this.#toolCallTimeoutMs = (options.toolCallTimeout ?? 600) * 1000;
    if (options.publicUrl !== undefined) {
      this.#publicUrl = options.publicUrl.replace(/^http/, "ws").replace(/\/+$/, "");
    }
    const queueStore = options.queueStore ?? sqliteQueueStore;
    const dataDir = options.dataDir;
    const storage = this.#storage = options.storage ?? {};
    // Upload temp files written before this server started are a crashed one's leftovers.
    const startedAt = Date.now();
    this.#fileStore = options.fileStore ??
      ((room: string) =>
        LocalFileStore.open({
          dataDir,
          room,
          maxFileBytes: storage.maxFileBytes,
          maxRoomBytes: storage.maxRoomBytes,
          leftoverUploadsBefore: startedAt,
        }));
    this.#toolkits = [
      messagingToolkit,
      (room) => queuesToolkit(room, queueStore),
      developerToolkit,
      (room) =>
        storageToolkit(room, {
          uploadChunkSize: storage.uploadChunkSize,
          uploadPullWindow: storage.uploadPullWindow,
          maxDownloadChunkSize: storage.maxDownloadChunkSize,
          signDownloadUrl: async ({ room, path, download }) => {
            const { signer } = await this.#downloads();
            // room.url is the public WebSocket URL of the room: its base is the server's.
            const baseUrl = room.url.replace(/^ws/, "http").replace(/\/rooms\/[^/]*$/, "");
            return await signer.sign({ baseUrl, room: room.name, path, download });
          },
        }),
      (room) => sqliteToolkit(room, options.sqlite),
      (room) => datasetToolkit(room, options.dataset),
      (room) => syncToolkit(room, options.sync),
      (room) => servicesToolkit(room, this.#calls),
      (room) => livekitToolkit(room, options.livekit),
      ...(options.toolkits ?? []),
    ];
    this.#admin = new AdminApi({
      dataDir,
      serverKeys: options.keys,
      version: SERVER_VERSION,
      roomUrl: (request, room) => `${this.#base(request)}/rooms/${room}`,
      liveRooms: () => this.#rooms.keys(),
      participantCount: (room) => this.#rooms.get(room)?.room.size,
      onKeyRevoked: (keyId) => this.#keyRevoked(keyId),
      onRoomClosed: (room, reason) => this.#roomClosed(room, reason),
    });
    try {
      this.#outbox = WebhookOutbox.open(dataDir, options.webhookDelivery);
    } catch (e) {
      this.#admin.close();
      throw e;
    }
    this.#calls = new RoomCalls(this.#admin, this.#outbox, this.#webhookSecret);
    this.#requests = new Map([["room.call", (p, header) => this.#roomCall(p, header)]]);
  }

  /** The bound port. */
  get port(): number {
    return this.#listening().port;
  }

  /** The admin side: the REST admin API, its records and the keys it trusts. */
  get admin(): AdminApi {
    return this.#admin;
  }

  /** The outgoing webhooks waiting or given up. */
  get webhookOutbox(): WebhookOutbox {
    return this.#outbox;
  }

  /** The bound address. */
  get hostname(): string {
    return this.#listening().hostname;
  }

  /** The HTTP base URL, `http://<hostname>:<port>`. */
  get url(): string {
    return `http://${this.hostname}:${this.port}`;
  }

  /** How many rooms are running. */
  get roomCount(): number {
    return this.#rooms.size;
  }

  /** Resolves when the server stopped. */
  get finished(): Promise<void> {
    return this.#listening().finished;
  }

  #listening(): HttpFront {
    if (!this.#front) throw new Error("the room server is not listening yet");
    return this.#front;
  }

  async #handle(request: Request, front: HttpFrontContext): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname;
    if (path === "/" && (request.method === "GET" || request.method === "HEAD")) {
      return Response.json({ name: SERVER_NAME, version: SERVER_VERSION });
    }
    if (this.#admin.handles(path)) return await this.#admin.handle(request);
    for (const route of this.#routes) {
      const answer = await route(request);
      if (answer) return answer;
    }
    if (!path.startsWith("/rooms/")) return text(404, "not found");
    if (path.endsWith("/storage/download")) {
      const { handle } = await this.#downloads();
      const response = await handle(
        request,
        (room) => isValidRoomName(room) ? this.#files(room) : undefined,
      );
      if (response) return response;
    }
    const name = path.slice(7);
    if (!isValidRoomName(name)) return text(404, `not found: invalid room name`);
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return text(400, "expected a WebSocket upgrade");
    }
    if (this.#stopping) return text(503, "server shutting down");
    const admission = await admit(request, url, name, {
      get: (keyId) => this.#admin.key(keyId),
      sole: () => this.#admin.soleKey(),
    });
    if (!admission.ok) return text(admission.status, admission.text);
    const projectId = admission.key.projectId;
    const owned = this.#admin.admitRoom(name, projectId);
    if (!owned.ok) return text(owned.status, owned.text);
    const service = admission.token.extra[SERVICE_CLAIM];
    if (service !== undefined && !this.#rooms.has(name)) {
      // [impl] A room's own service joins only a running session: one that ended meanwhile
      // must not start again (and call its services again) for it.
      return text(
        403,
        `forbidden: room ${name} is not running: the session that called ` +
          "this service ended",
      );
    }
    this.#admin.touch(admission.key.id);
    const tokenKey = await tokenKeyOf(admission.jwt);
    if (this.#stopping) return text(503, "server shutting down");

    // Read what is needed from the request before upgrading: its headers are gone afterwards.
    const base = this.#base(request);
    const { socket, response } = front.upgradeWebSocket(request, { protocol: admission.protocol });
    const ended = Promise.withResolvers<void>();
    this.#sockets.set(socket, ended.promise);
    const refusal = this.#inbound.connect(tokenKey);
    if (refusal !== null) {
      // [impl] Accepted and closed with a reason rather than refused with an HTTP status: the
      // official clients show a close reason, and only the status line of a refusal.
      socket.onopen = () => socket.close(1008, refusal);
      socket.onclose = () => {
        this.#sockets.delete(socket);
        ended.resolve();
      };
      return response;
    }
    const entry = this.#acquire(name, base, projectId, admission.key.id, service === undefined);
    const token = admission.token;
    const keyId = admission.key.id;
    const participant = serveConnection(
      socket,
      entry.room,
      { name: token.name, role: token.role, scope: token.apiScope, token: tokenKey },
      {
        maxMessageSize: this.#maxMessageSize,
        maxBufferedAmount: this.#maxBufferedAmount,
        toolCallTimeoutMs: this.#toolCallTimeoutMs,
        packetSize: this.#packetSize,
        inbound: this.#inbound,
      },
      (left: Participant) => {
        this.#sockets.delete(socket);
        this.#inbound.disconnect(tokenKey);
        this.#byKey.get(keyId)?.delete(left);
        if (this.#byKey.get(keyId)?.size === 0) this.#byKey.delete(keyId);
        if (service !== undefined) entry.services.delete(left);
        if (this.#joined.delete(left)) this.#participantEvent("participant.left", entry, left);
        this.#release(name, entry, service === undefined);
        ended.resolve();
      },
      {
        requests: this.#requests,
        joined: (joined) => {
          this.#joined.add(joined);
          this.#participantEvent("participant.joined", entry, joined);
        },
      },
    );
    let byKey = this.#byKey.get(keyId);
    if (!byKey) this.#byKey.set(keyId, byKey = new Set());
    byKey.add(participant);
    if (service !== undefined) entry.services.add(participant);
    return response;
  }

  /** Participants that joined (their socket opened) and have not left. */
  readonly #joined = new Set<Participant>();

  /** The public WebSocket base URL for a request: `publicUrl`, else from its Host. */
  #base(request: Request): string {
    return this.#publicUrl ?? `ws://${request.headers.get("host") ?? this.#hostPort()}`;
  }

  /** Delivers an event to the server's webhooks and the project's. Never blocks, never throws. */
  #emit(projectId: string, event: string, data: JsonObject): void {
    try {
      for (const hook of this.#webhooks) {
        if (!(hook.events ?? DEFAULT_EVENTS).includes(event)) continue;
        this.#outbox.enqueue({ url: hook.url, secret: this.#webhookSecret, event, data });
      }
      for (const hook of this.#admin.webhooksFor(projectId, event)) {
        this.#outbox.enqueue({ url: hook.url, secret: hook.secret, event, data });
      }
    } catch (e) {
      console.error(`room server: could not queue the ${event} webhook:`, e);
    }
  }

  #participantEvent(event: string, entry: RoomEntry, participant: Participant): void {
    this.#emit(entry.projectId, event, {
      room_name: entry.room.name,
      participant_id: participant.id,
      participant_name: participant.name,
      role: participant.role,
    });
  }

  /** `room.call` (§5.2): mint the callee's token, deliver the webhook, answer once delivered. */
  async #roomCall(participant: Participant, header: JsonObject): Promise<EmptyContent> {
    if (participant.scope?.agents?.canCallAgents() !== true) {
      throw new RoomError(
        "permission denied: the agents grant does not allow room.call",
        ErrorCode.PERMISSION_DENIED,
      );
    }
    const name = header.name;
    const url = header.url;
    if (typeof name !== "string" || name === "" || typeof url !== "string") {
      throw new RoomError("room.call needs a string name and url", ErrorCode.INVALID_REQUEST);
    }
    if (!/^https?:\/\//.test(url)) {
      throw new RoomError(
        `room.call url must be an http(s) URL, got ${url}`,
        ErrorCode.INVALID_REQUEST,
      );
    }
    const args = header.arguments;
    let api: ApiScope | null = null;
    if (header.api !== undefined && header.api !== null) {
      try {
        api = ApiScope.fromJson(header.api);
      } catch (e) {
        throw new RoomError(`room.call api: ${e instanceof Error ? e.message : e}`, 1002);
      }
    }
    const room = this.#callRoom(participant);
    if (!room) throw new RoomError("the room ended", ErrorCode.INVALID_STATE);
    const outcome = await this.#calls.call(room, {
      name,
      url,
      arguments: args !== null && typeof args === "object" && !Array.isArray(args)
        ? args as JsonObject
        : null,
      api,
    });
    if (!outcome.ok) {
      throw new RoomError(
        `room.call to ${url} failed: ${outcome.error}`,
        ErrorCode.OPERATION_FAILED,
      );
    }
    return new EmptyContent();
  }

  #callRoom(participant: Participant): CallRoom | undefined {
    for (const [name, entry] of this.#rooms) {
      if (entry.room.participant(participant.id) !== participant) continue;
      return { name, url: entry.room.url, projectId: entry.projectId, keyId: entry.keyId };
    }
    return undefined;
  }

  /** A key was revoked: the connections its tokens opened close (1008; clients do not retry). */
  #keyRevoked(keyId: string): void {
    for (const participant of this.#byKey.get(keyId) ?? []) {
      participant.close(1008, "the API key that signed this token was revoked");
    }
  }

  /** A room was disabled or deleted: its session ends now. */
  #roomClosed(room: string, reason: string): void {
    const entry = this.#rooms.get(room);
    if (!entry) return;
    for (const participant of [...entry.room.participants()]) participant.close(1008, reason);
  }

  #acquire(
    name: string,
    base: string,
    projectId: string,
    keyId: string,
    counts: boolean,
  ): RoomEntry {
    let entry = this.#rooms.get(name);
    if (!entry) {
      const room = new Room({
        name,
        url: `${base}/rooms/${name}`,
        dataDir: `${this.#dataDir}/rooms/${name}`,
        toolkits: this.#toolkits,
        openFileStore: () => this.#files(name),
      });
      entry = { room, refs: 0, projectId, keyId, services: new Set() };
      this.#rooms.set(name, entry);
      const url = room.url;
      this.#emit(projectId, "room.started", { room_name: name, room_url: url });
      this.#calls.roomStarted({ name, url, projectId, keyId });
    }
    if (counts) entry.refs++;
    return entry;
  }

  /** The room's file store, opened once per process. */
  #files(room: string): Promise<FileStore> {
    let store = this.#fileStores.get(room);
    if (!store) {
      store = this.#fileStore(room);
      this.#fileStores.set(room, store);
      // A failed open is retried on the next call instead of being cached.
      store.catch(() => {
        if (this.#fileStores.get(room) === store) this.#fileStores.delete(room);
      });
    }
    return store;
  }

  /** The download URL signer and handler, made on first use. */
  #downloads(): Promise<{ signer: DownloadUrlSigner; handle: DownloadHandler }> {
    if (!this.#download) {
      const storage = this.#storage;
      this.#download = (async () => {
        const secret = storage.downloadUrlSecret ?? await loadDownloadUrlSecret(this.#dataDir);
        const signer = await DownloadUrlSigner.create(secret, {
          ttlSeconds: storage.downloadUrlTtlSeconds,
        });
        return { signer, handle: createDownloadHandler(signer) };
      })();
      this.#download.catch(() => this.#download = undefined);
    }
    return this.#download;
  }

  #release(name: string, entry: RoomEntry, counts: boolean): void {
    if (counts) entry.refs--;
    if (entry.refs > 0 || this.#rooms.get(name) !== entry) return;
    this.#rooms.delete(name);
    // The room's own services leave with it (a normal close: they do not reconnect).
    for (const service of entry.services) service.close(1000, "the room ended");
    this.#calls.roomEnded(name);
    this.#emit(entry.projectId, "room.ended", { room_name: name });
    const closing = entry.room.close();
    this.#roomClosing.add(closing);
    closing.then(() => this.#roomClosing.delete(closing));
  }

  #hostPort(): string {
    return `${this.hostname}:${this.port}`;
  }

  /**
   * Stops gracefully: refuses new connections, closes every socket with 1012 ("service restart",
   * so official clients reconnect when the server is back), ends every room (flushing and closing
   * its stores), and stops listening.
   *
   * @param timeoutMs How long to wait for sockets to finish their closing handshake (default 2000).
   */
  shutdown(timeoutMs: number = 2000): Promise<void> {
    this.#stopping ??= this.#shutdown(timeoutMs);
    return this.#stopping;
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const [socket, ended] of this.#sockets) {
      waits.push(ended);
      try {
        // [impl] 1012 Service Restart: TS clients reconnect on any code ≠ 1000; a restarted
        // server takes them back.
        socket.close(1012, "server restarting");
      } catch { /* not open yet: the close event still comes */ }
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(waits),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    // Peers that did not finish the closing handshake in time are cut off.
    for (const socket of this.#sockets.keys()) socket.terminate();
    for (const socket of this.#denoSockets) socket.terminate();
    await this.#front?.close();
    this.#inbound.close();
    // Rooms whose sockets did not close in time still end now.
    for (const [name, entry] of this.#rooms) {
      this.#rooms.delete(name);
      for (const participant of entry.room.participants()) {
        participant.close(1012, "server restarting");
      }
      const closing = entry.room.close();
      this.#roomClosing.add(closing);
    }
    await Promise.all(this.#roomClosing);
    // The document workers the rooms handed back for the next room.
    stopIdleDocumentWorkers();
    await this.#closeStores();
  }

  /** Closes the webhook outbox (what is pending stays for the next run) and the admin records. */
  async #closeStores(): Promise<void> {
    await this.#outbox.close();
    this.#admin.close();
  }
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/**
 * [impl] The same token is the same JWT: a participant holds a token, and whoever can mint new
 * ones holds the API key. Kept as a SHA-256, not as the (possibly long) token itself.
 */
async function tokenKeyOf(jwt: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(jwt));
  return new Uint8Array(digest).toBase64();
}

/** The inbound limits from the server's options (seconds → ms; unset → the defaults). */
function inboundLimits(options: RoomServerInboundOptions, maxMessageSize: number): InboundLimits {
  const check = (key: keyof RoomServerInboundOptions, value: number, min: number) => {
    if (!(value >= min) || !Number.isFinite(value)) {
      throw new RangeError(`inbound.${key} must be a finite number >= ${min}, got ${value}`);
    }
    return value;
  };
  const MiB = 1024 * 1024;
  return new InboundLimits({
    maxConnectionBytes: check(
      "maxConnectionBytes",
      options.maxConnectionBytes ?? maxMessageSize + MiB,
      1,
    ),
    maxServerBytes: check(
      "maxServerBytes",
      options.maxServerBytes ?? Math.max(256 * MiB, 4 * maxMessageSize),
      1,
    ),
    messageTimeoutMs: check("messageTimeout", options.messageTimeout ?? 120, 0.001) * 1000,
    maxConnectionsPerToken: Math.floor(
      check("maxConnectionsPerToken", options.maxConnectionsPerToken ?? 64, 0),
    ),
  });
}

/** The front's limits from the server's HTTP options (seconds → ms; unset → the front's). */
function httpLimits(options: RoomServerHttpOptions): Partial<HttpLimits> {
  const table: [keyof RoomServerHttpOptions, keyof HttpLimits, number][] = [
    ["headerTimeout", "headerTimeoutMs", 1000],
    ["keepAliveTimeout", "keepAliveTimeoutMs", 1000],
    ["idleTimeout", "idleTimeoutMs", 1000],
    ["maxConnections", "maxConnections", 1],
    ["maxHeaderBytes", "maxHeaderBytes", 1],
  ];
  const limits: Partial<HttpLimits> = {};
  for (const [option, limit, scale] of table) {
    const value = options[option];
    if (value === undefined) continue;
    if (!(typeof value === "number" && value >= 0 && Number.isFinite(value))) {
      throw new RangeError(`http.${option} must be a finite number >= 0, got ${value}`);
    }
    limits[limit] = Math.round(value * scale);
  }
  return limits;
}
