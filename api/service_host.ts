// A ServiceHost (protocol-data §5.1, §5.3a, §5.4; agents-sources §4b) as a plain `fetch`
// handler: it runs unchanged under `Deno.serve`, `deno serve` and Deno Deploy. Web-standard code
// only; it knows nothing of agents or toolkits, only of "something that starts in a room and
// stops" (a `SingleRoomAgent` of @meshagent/agents is one).
import { readEnv } from "./_env.ts";
import type { ApiScope } from "./api_scope.ts";
import type { JsonObject } from "./packing.ts";
import { RoomClient } from "./room_client.ts";
import type { RoomCallEvent, WebhookEvent } from "./webhook_event.ts";
import { WebhookError, WebhookReplayCache } from "./webhook_signature.ts";
import { receiveWebhook } from "./webhook_server.ts";

/**
 * What a ServiceHost runs in a room: started once its room connection is ready, stopped when it
 * is dismissed, its connection closes, or the host shuts down. A `SingleRoomAgent` (and so every
 * agent of @meshagent/agents) is one.
 */
export interface RoomService {
  /**
   * Starts in the room.
   *
   * @param options The connected room client (the host owns and closes it).
   */
  start(options: { room: RoomClient }): void | Promise<void>;
  /** Stops: leaves nothing running (the host closes the room connection afterwards). */
  stop(): void | Promise<void>;
}

/** One `room.call` a ServiceHost answered (what a {@linkcode RoomServiceFactory} gets). */
export interface ServiceCall {
  /** The path that was called. */
  readonly path: string;
  /** The room name. */
  readonly roomName: string;
  /** The room's WebSocket URL. */
  readonly roomUrl: string;
  /** The participant token the service connects with. */
  readonly token: string;
  /** The caller's arguments (null when none). */
  readonly arguments: JsonObject | null;
}

/** Makes the service for one call (a new one each time). */
export type RoomServiceFactory = (call: ServiceCall) => RoomService | Promise<RoomService>;

/** Options of {@linkcode ServiceHost.addPath}. */
export interface ServicePathOptions {
  /** The participant name the room server should give the service (default `agent`). */
  identity?: string;
  /** The API scope the service's token should carry (default: the server's agent default). */
  api?: ApiScope | null;
  /** Describes the agent in the service spec (`agents[]`): its name and description. */
  agent?: { name: string; description?: string; annotations?: Record<string, string> };
}

/** Options of a {@linkcode ServiceHost}. */
export interface ServiceHostOptions {
  /**
   * The webhook secret. Signatures are checked only when one is given (as the official
   * ServiceHost does); then unsigned, forged, tampered or replayed calls get 401.
   */
  secret?: string;
  /** The service name in its spec (`metadata.name`; default `service`). */
  name?: string;
  /** The port the spec advertises (default `MESHAGENT_PORT`, else `"*"`). */
  port?: number;
  /** How long (ms) joining a room may take (default 30 000). */
  connectTimeout?: number;
  /**
   * How long (ms) a service's lost room connection keeps reconnecting (default 300 000, as
   * `RoomClient`; 0: never).
   */
  reconnectTimeout?: number | null;
  /** Reports a session that failed (default `console.error`). */
  onError?: (error: unknown, call: ServiceCall) => void;
  /**
   * Whether a SIGTERM closes the host and ends the process (default true). [impl] SIGTERM is what
   * `deno serve`, containers and Deno Deploy send to stop a service; `deno serve` alone would wait
   * forever for the services' room connections. So, once a service runs, a SIGTERM stops every
   * service (each leaves its room) and then exits with code 0. `false` leaves signals to you
   * (call {@linkcode ServiceHost.close}).
   */
  closeOnSigterm?: boolean;
}

interface PathEntry {
  factory: RoomServiceFactory;
  identity: string;
  api: ApiScope | null;
  agent?: ServicePathOptions["agent"];
}

/** The message type that dismisses a called service (§5.4). */
export const DISMISS_MESSAGE_TYPE = "dismiss";

function reply(status: number, body: JsonObject): Response {
  return Response.json(body, { status });
}

/**
 * Hosts services on paths: when a room server delivers a `room.call` webhook to a path (§5.3a),
 * it answers `{"ok": true}` at once, then joins the room with the call's token, makes the path's
 * service and starts it; the service runs until a participant sends it a `dismiss` message
 * (§5.4), its connection closes, or {@linkcode ServiceHost.close}; then it is stopped and the
 * connection closed. `GET /` is a liveness check; `GET /.well-known/meshagent-service.json`
 * describes the host as a `ServiceSpec` (§5.5).
 *
 * `fetch` is a plain Fetch handler: `Deno.serve(host.fetch)`, or `export default host` in a
 * module run with `deno serve` or deployed to Deno Deploy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServiceHost } from "@meshagent/api";
 *
 * const host = new ServiceHost({ name: "helpers" });
 * host.addPath("/agent", () => ({ start() {}, stop() {} }), { identity: "helper" });
 * const spec = await (await host.fetch(
 *   new Request("http://localhost/.well-known/meshagent-service.json"),
 * )).json();
 * assert.equal(spec.ports[0].endpoints[0].meshagent.identity, "helper");
 * await host.close();
 * ```
 */
export class ServiceHost {
  readonly #options: ServiceHostOptions;
  readonly #paths = new Map<string, PathEntry>();
  readonly #sessions = new Set<Promise<void>>();
  readonly #lifetime = new AbortController();
  readonly #replays = new WebhookReplayCache();
  #closing?: Promise<void>;
  #onSigterm?: () => void;

  /**
   * Creates the host (it serves nothing until paths are added).
   *
   * @param options The webhook secret, the spec's name and port, timeouts and an error reporter.
   */
  constructor(options: ServiceHostOptions = {}) {
    this.#options = options;
  }

  /**
   * Serves a service on a path.
   *
   * @param path The exact path (`/agent`).
   * @param factory Makes the service of each call.
   * @param options The identity and API scope the spec asks for, and the agent's description.
   * @returns The host.
   * @throws {TypeError} When the path is taken, reserved or does not start with `/`.
   */
  addPath(path: string, factory: RoomServiceFactory, options: ServicePathOptions = {}): this {
    if (!path.startsWith("/") || path === "/" || path.startsWith("/.well-known/")) {
      throw new TypeError(
        `service path ${JSON.stringify(path)} must start with "/" and not be "/" or under ` +
          "/.well-known/",
      );
    }
    if (this.#paths.has(path)) throw new TypeError(`service path ${path} is served already`);
    this.#paths.set(path, {
      factory,
      identity: options.identity ?? "agent",
      api: options.api ?? null,
      agent: options.agent,
    });
    return this;
  }

  /** How many services are running now. */
  get sessions(): number {
    return this.#sessions.size;
  }

  /**
   * The host's `ServiceSpec` (what `/.well-known/meshagent-service.json` answers): one HTTP
   * port with one `meshagent` endpoint per path.
   *
   * @returns The spec as JSON.
   */
  serviceSpec(): JsonObject {
    const envPort = readEnv("MESHAGENT_PORT");
    const port = this.#options.port ?? (envPort ? Number(envPort) : "*");
    const endpoints = [...this.#paths].map(([path, entry]) => ({
      path,
      meshagent: { identity: entry.identity, api: entry.api?.toJson() ?? null },
    }));
    const agents: JsonObject[] = [];
    for (const entry of this.#paths.values()) {
      if (!entry.agent) continue;
      agents.push({
        name: entry.agent.name,
        ...(entry.agent.description !== undefined ? { description: entry.agent.description } : {}),
        ...(entry.agent.annotations ? { annotations: entry.agent.annotations } : {}),
      });
    }
    return {
      version: "v1",
      kind: "Service",
      metadata: { name: this.#options.name ?? "service" },
      container: { image: "", environment: [] },
      agents,
      ports: [{ num: port, type: "http", endpoints }],
    } as JsonObject;
  }

  /**
   * Answers one request (bound: pass it as it is to `Deno.serve`).
   *
   * @param request The request.
   * @returns The response.
   */
  readonly fetch = async (request: Request): Promise<Response> => {
    const path = new URL(request.url).pathname;
    const read = request.method === "GET" || request.method === "HEAD";
    if (path === "/" && read) return reply(200, { ok: true });
    if (path === "/.well-known/meshagent-service.json" && read) {
      return Response.json(this.serviceSpec());
    }
    const entry = this.#paths.get(path);
    if (!entry) {
      return reply(404, {
        ok: false,
        error: `not found: this host serves ${[...this.#paths.keys()].join(", ") || "no paths"}`,
      });
    }
    if (request.method !== "POST") {
      if (read && !request.headers.has("meshagent-webhook")) return reply(200, { ok: true });
      return reply(400, {
        ok: false,
        error: "deliver room.call over HTTP POST (WebSocket-mode calls are not supported)",
      });
    }
    if (this.#closing) return reply(503, { ok: false, error: "the service host is closing" });
    let event: WebhookEvent;
    try {
      event = await receiveWebhook(
        request,
        { secret: this.#options.secret, validate: this.#options.secret !== undefined },
        this.#replays,
      );
    } catch (e) {
      if (e instanceof WebhookError) {
        return reply(e.status, { ok: false, error: e.message, code: e.code });
      }
      throw e;
    }
    if (event.event !== "room.call") return reply(200, { ok: true });
    this.#start(path, entry, event);
    return reply(200, { ok: true });
  };

  #start(path: string, entry: PathEntry, event: RoomCallEvent): void {
    const call: ServiceCall = {
      path,
      roomName: event.roomName,
      roomUrl: event.roomUrl,
      token: event.token,
      arguments: event.arguments,
    };
    const session = this.#run(entry, call).catch((e) => {
      (this.#options.onError ?? ((error: unknown) => {
        console.error(`service ${path} in room ${call.roomName} failed:`, error);
      }))(e, call);
    });
    this.#sessions.add(session);
    session.finally(() => this.#sessions.delete(session));
    this.#watchSigterm();
  }

  /** Registers the SIGTERM listener (see `closeOnSigterm`) once a service runs. */
  #watchSigterm(): void {
    if (this.#onSigterm || this.#options.closeOnSigterm === false) return;
    const onSigterm = () => {
      this.close().finally(() => Deno.exit(0));
    };
    try {
      Deno.addSignalListener("SIGTERM", onSigterm);
      this.#onSigterm = onSigterm;
    } catch {
      // No signals here (Windows, or no permission): close() is the way to stop.
    }
  }

  async #run(entry: PathEntry, call: ServiceCall): Promise<void> {
    const signal = this.#lifetime.signal;
    const room = new RoomClient({
      url: call.roomUrl,
      token: call.token,
      ...(this.#options.reconnectTimeout !== undefined
        ? { reconnectTimeout: this.#options.reconnectTimeout }
        : {}),
    });
    let service: RoomService | undefined;
    const offs: (() => void)[] = [];
    try {
      await room.start({ signal, timeout: this.#options.connectTimeout ?? 30_000 });
      const done = Promise.withResolvers<void>();
      offs.push(room.on("message", (m) => {
        if (m.type === DISMISS_MESSAGE_TYPE) done.resolve();
      }));
      offs.push(room.on("closed", () => done.resolve()));
      const onAbort = () => done.resolve();
      signal.addEventListener("abort", onAbort, { once: true });
      offs.push(() => signal.removeEventListener("abort", onAbort));
      service = await entry.factory(call);
      await service.start({ room });
      // Visible to the room (so it can be dismissed by name), unless the service did it.
      if (!room.messaging.isEnabled && !room.isClosed) await room.messaging.enable();
      await done.promise;
    } finally {
      for (const off of offs) off();
      try {
        await service?.stop();
      } finally {
        await room.dispose();
      }
    }
  }

  /**
   * Stops every running service (each is stopped and its connection closed) and refuses new
   * calls with 503. Safe to call more than once.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#lifetime.abort(new Error("the service host is closing"));
      while (this.#sessions.size > 0) await Promise.allSettled([...this.#sessions]);
      if (this.#onSigterm) {
        try {
          Deno.removeSignalListener("SIGTERM", this.#onSigterm);
        } catch { /* already gone */ }
        this.#onSigterm = undefined;
      }
    })();
    return this.#closing;
  }

  /** `await using host = new ServiceHost()` closes it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
