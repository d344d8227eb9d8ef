import { type Content, EmptyContent, JsonContent } from "./content.ts";
import { ErrorCode, RoomError } from "./errors.ts";
import type { ApiScope } from "./api_scope.ts";
import type { JsonObject } from "./packing.ts";
import type { RoomRequester } from "./room_requester.ts";

/** Options of {@linkcode ServicesClient.call}. */
export interface ServiceCallOptions {
  /** The participant name the called service joins as. */
  name: string;
  /** The URL the room server delivers the `room.call` webhook to (a ServiceHost path). */
  url: string;
  /** Arguments passed to the service (default `{}`). */
  arguments?: JsonObject;
  /** The API scope of the service's token (default: the server's agent default). */
  api?: ApiScope;
  /** Fail after this many ms. */
  timeout?: number;
  /** Cancels the wait. */
  signal?: AbortSignal;
}

/** The runtime state of a room service (`ServiceRuntimeState`, protocol-data §5.6). */
export interface ServiceState {
  /** The service id. */
  serviceId: string;
  /** `running`, `starting`, `failed`, … */
  state: string;
  /** How often it was restarted. */
  restartCount: number;
  /** When it last started (Unix seconds). */
  startedAt?: number;
  /** The last start error, if any. */
  lastStartError?: string;
  /** The state as received (extra keys included). */
  json: JsonObject;
}

/** What {@linkcode ServicesClient.list} returns. */
export interface RoomServices {
  /** The service specs (`ServiceSpec` JSON). */
  services: JsonObject[];
  /** Their runtime states, by service id. */
  states: Map<string, ServiceState>;
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Room services: ask the room server to call a service into the room (`room.call`, §5.2), and
 * the `services` toolkit (§5.6) — the services the room runs and their states.
 *
 * @example Calling a ServiceHost into a room (needs a running room, so shown without running it)
 * ```ts
 * import assert from "node:assert/strict";
 * import { type RoomClient, ServicesClient } from "@meshagent/api";
 * async function callHelper(room: RoomClient) {
 *   await new ServicesClient(room).call({ name: "helper", url: "http://127.0.0.1:8000/agent" });
 * }
 * assert(typeof callHelper === "function");
 * ```
 */
export class ServicesClient {
  readonly #room: RoomRequester;

  /**
   * Creates the client.
   *
   * @param room The room client to send through.
   */
  constructor(room: RoomRequester) {
    this.#room = room;
  }

  /**
   * Asks the room server to call a service into the room: the server mints a token for `name`
   * and delivers a signed `room.call` webhook to `url`; this resolves once that delivery
   * succeeded (the service then joins on its own).
   *
   * @param options The name, URL, arguments and API scope.
   * @throws {RoomError} When the caller may not call, or the delivery failed (its message says
   *   why).
   */
  async call(options: ServiceCallOptions): Promise<void> {
    const header: JsonObject = {
      name: options.name,
      url: options.url,
      arguments: options.arguments ?? {},
    };
    if (options.api) header.api = options.api.toJson() as JsonObject;
    await this.#room.request("room.call", header, {
      timeout: options.timeout,
      signal: options.signal,
    });
  }

  /**
   * Lists the room's services and their states (`services.list`).
   *
   * @param options Timeout and cancellation.
   * @returns The specs and the states.
   * @throws {RoomError} When the reply is not what the protocol says.
   */
  async list(options: { timeout?: number; signal?: AbortSignal } = {}): Promise<RoomServices> {
    const content = await this.#room.invoke({
      toolkit: "services",
      tool: "list",
      input: {},
      timeout: options.timeout,
      signal: options.signal,
    });
    const json = content instanceof JsonContent ? content.json as JsonObject : undefined;
    const specs = json?.services_json;
    const states = json?.service_states;
    if (!Array.isArray(specs) || !Array.isArray(states)) throw unexpected("list", content);
    const services = specs.map((item) => {
      const spec = typeof item === "string" ? JSON.parse(item) : item;
      if (!isObject(spec)) throw unexpected("list", content);
      return spec;
    });
    const byId = new Map<string, ServiceState>();
    for (const state of states) {
      if (!isObject(state) || typeof state.service_id !== "string") {
        throw unexpected("list", content);
      }
      byId.set(state.service_id, {
        serviceId: state.service_id,
        state: typeof state.state === "string" ? state.state : "unknown",
        restartCount: typeof state.restart_count === "number" ? state.restart_count : 0,
        ...(typeof state.started_at === "number" ? { startedAt: state.started_at } : {}),
        ...(typeof state.last_start_error === "string"
          ? { lastStartError: state.last_start_error }
          : {}),
        json: state,
      });
    }
    return { services, states: byId };
  }

  /**
   * Restarts a room service (`services.restart`): it is called into the room again.
   *
   * @param serviceId The service id.
   * @param options Timeout and cancellation.
   * @throws {RoomError} 7001 for an unknown id, 7002 when it cannot be restarted.
   */
  async restart(
    serviceId: string,
    options: { timeout?: number; signal?: AbortSignal } = {},
  ): Promise<void> {
    const content = await this.#room.invoke({
      toolkit: "services",
      tool: "restart",
      input: { service_id: serviceId },
      timeout: options.timeout,
      signal: options.signal,
    });
    if (!(content instanceof EmptyContent || content instanceof JsonContent)) {
      throw unexpected("restart", content);
    }
  }
}

function unexpected(tool: string, content: Content): RoomError {
  return new RoomError(
    `unexpected return type from services.${tool}: ${content.type}`,
    ErrorCode.UNEXPECTED_RESPONSE_TYPE,
  );
}
