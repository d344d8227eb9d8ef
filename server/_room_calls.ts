// Private: calling services into rooms (protocol-data §5.2, §5.5): the `room.call` request of a
// participant, and the room's services (the project's and the room's own `ServiceSpec`s with
// `meshagent` endpoints), called in when the room starts. Each call is a `room.call` webhook
// through the outbox, carrying a participant token the server mints for the callee.
import {
  ApiScope,
  formatApiKey,
  type JsonObject,
  ParticipantToken,
  RoomError,
} from "@meshagent/api";
import type { AdminApi } from "./admin_api.ts";
import type { DeliveryOutcome, WebhookOutbox } from "./webhook_outbox.ts";
import { type RoomServicesSource, ServiceErrorCode } from "./services_toolkit.ts";

/** The claim that marks a token minted for a room's own service. */
export const SERVICE_CLAIM = "meshagent_service";

/** A running room as calls need it. */
export interface CallRoom {
  /** The room name. */
  name: string;
  /** Its WebSocket URL (what the callee connects to). */
  url: string;
  /** Its project. */
  projectId: string;
  /** The key whose tokens opened it (signs the callees' tokens when it can). */
  keyId?: string;
}

/** What a `room.call` asks for (§5.2). */
export interface CallRequest {
  /** The callee's participant name. */
  name: string;
  /** The webhook URL. */
  url: string;
  /** Passed through. */
  arguments: JsonObject | null;
  /** The callee's API scope (default: the agent default). */
  api: ApiScope | null;
}

/** [impl] A `room.call` delivery is tried 3 times (0, ~1 s, ~2 s) within the caller's wait. */
const CALL_ATTEMPTS = 3;
/** [impl] How long the caller of `room.call` waits for the delivery. */
const CALL_WAIT_MS = 30_000;

interface ServiceState {
  service_id: string;
  state: string;
  restart_count: number;
  started_at?: number;
  last_start_error?: string;
  last_start_error_at?: number;
  status: { ports: JsonObject[] };
  events: JsonObject[];
}

function endpointsOf(spec: JsonObject, base: string): { url: string; meshagent: JsonObject }[] {
  const out: { url: string; meshagent: JsonObject }[] = [];
  for (const port of Array.isArray(spec.ports) ? spec.ports : []) {
    if (port === null || typeof port !== "object" || Array.isArray(port)) continue;
    for (const endpoint of Array.isArray(port.endpoints) ? port.endpoints : []) {
      if (endpoint === null || typeof endpoint !== "object" || Array.isArray(endpoint)) continue;
      const meshagent = endpoint.meshagent;
      if (meshagent === null || typeof meshagent !== "object" || Array.isArray(meshagent)) continue;
      const path = typeof endpoint.path === "string" ? endpoint.path : "/";
      out.push({ url: new URL(path, base.endsWith("/") ? base : `${base}/`).href, meshagent });
    }
  }
  return out;
}

/** Calls services into rooms, and keeps the runtime states of each room's services. */
export class RoomCalls implements RoomServicesSource {
  readonly #admin: AdminApi;
  readonly #outbox: WebhookOutbox;
  readonly #secret: string;
  /** Running rooms. */
  readonly #rooms = new Map<string, CallRoom>();
  /** Service states by room, then by service id. */
  readonly #states = new Map<string, Map<string, ServiceState>>();

  constructor(admin: AdminApi, outbox: WebhookOutbox, secret: string) {
    this.#admin = admin;
    this.#outbox = outbox;
    this.#secret = secret;
  }

  /** Mints the callee's token: room grant, role `agent`, the API scope, signed for the room. */
  async #token(room: CallRoom, name: string, api: ApiScope | null, service?: string) {
    const key = this.#admin.signingKey(room.projectId, room.keyId);
    if (!key) {
      throw new RoomError(
        `cannot call into room ${room.name}: its project has no API key to sign the callee's ` +
          "token with",
        1007,
      );
    }
    const token = new ParticipantToken({
      name,
      extra: service ? { [SERVICE_CLAIM]: service } : {},
    });
    token.addRoomGrant(room.name);
    token.addRoleGrant("agent");
    token.addApiGrant(api ?? ApiScope.agentDefault());
    return await token.toJwt({ apiKey: formatApiKey(key) });
  }

  #deliver(room: CallRoom, url: string, token: string, args: JsonObject | null, attempts?: number) {
    return this.#outbox.enqueue({
      url,
      secret: this.#secret,
      event: "room.call",
      data: { room_name: room.name, room_url: room.url, token, arguments: args },
      maxAttempts: attempts,
    });
  }

  /**
   * A participant's `room.call`: delivers the webhook and waits for it (§5.2 step 4).
   *
   * @returns How the delivery ended.
   */
  async call(room: CallRoom, request: CallRequest): Promise<DeliveryOutcome> {
    const token = await this.#token(room, request.name, request.api);
    const id = this.#deliver(room, request.url, token, request.arguments, CALL_ATTEMPTS);
    return await this.#outbox.outcome(id, CALL_WAIT_MS);
  }

  /** A room started: call in each of its services (in the background). */
  roomStarted(room: CallRoom): void {
    this.#rooms.set(room.name, room);
    const states = new Map<string, ServiceState>();
    this.#states.set(room.name, states);
    for (const spec of this.#admin.roomServices(room.projectId, room.name)) {
      if (spec.enabled === false) continue;
      const id = String(spec.id);
      states.set(id, {
        service_id: id,
        state: "starting",
        restart_count: 0,
        status: { ports: [] },
        events: [],
      });
      this.#start(room, spec, states.get(id)!);
    }
  }

  #start(room: CallRoom, spec: JsonObject, state: ServiceState): boolean {
    const external = spec.external as JsonObject | undefined;
    const base = typeof external?.url === "string" ? external.url : undefined;
    const endpoints = base ? endpointsOf(spec, base) : [];
    if (endpoints.length === 0) {
      state.state = "not_callable";
      return false;
    }
    state.state = "starting";
    void (async () => {
      const outcomes: DeliveryOutcome[] = [];
      for (const endpoint of endpoints) {
        const identity = typeof endpoint.meshagent.identity === "string"
          ? endpoint.meshagent.identity
          : "agent";
        const api = endpoint.meshagent.api ? ApiScope.fromJson(endpoint.meshagent.api) : null;
        const token = await this.#token(room, identity, api, state.service_id);
        const id = this.#deliver(room, endpoint.url, token, {});
        outcomes.push(await this.#outbox.outcome(id, 60_000));
      }
      const failed = outcomes.find((o): o is { ok: false; error: string } => !o.ok);
      const now = Date.now() / 1000;
      if (failed) {
        state.state = "failed";
        state.last_start_error = failed.error;
        state.last_start_error_at = now;
      } else {
        state.state = "running";
        state.started_at = now;
      }
    })().catch((e) => {
      state.state = "failed";
      state.last_start_error = e instanceof Error ? e.message : String(e);
      state.last_start_error_at = Date.now() / 1000;
    });
    return true;
  }

  /** A room ended: forget its states. */
  roomEnded(room: string): void {
    this.#rooms.delete(room);
    this.#states.delete(room);
  }

  list(room: string): { specs: JsonObject[]; states: JsonObject[] } {
    const running = this.#rooms.get(room);
    const projectId = running?.projectId ?? this.#admin.roomProject(room);
    const specs = projectId ? this.#admin.roomServices(projectId, room) : [];
    const states = this.#states.get(room);
    return {
      specs,
      states: specs.map((spec) => {
        const state = states?.get(String(spec.id));
        return (state ?? {
          service_id: String(spec.id),
          state: spec.enabled === false ? "disabled" : "stopped",
          restart_count: 0,
          status: { ports: [] },
          events: [],
        }) as unknown as JsonObject;
      }),
    };
  }

  restart(room: string, serviceId: string): void {
    const running = this.#rooms.get(room);
    const spec = running &&
      this.#admin.roomServices(running.projectId, room).find((s) => s.id === serviceId);
    if (!running || !spec) {
      throw new RoomError(
        `no service ${serviceId} in room ${room}`,
        ServiceErrorCode.SERVICE_NOT_FOUND,
      );
    }
    const states = this.#states.get(room)!;
    const state = states.get(serviceId) ?? {
      service_id: serviceId,
      state: "starting",
      restart_count: 0,
      status: { ports: [] },
      events: [],
    };
    states.set(serviceId, state);
    state.restart_count++;
    if (!this.#start(running, spec, state)) {
      throw new RoomError(
        `service ${serviceId} has no meshagent endpoint on an external URL to call`,
        ServiceErrorCode.SERVICE_RESTART_NOT_ALLOWED,
      );
    }
  }
}
