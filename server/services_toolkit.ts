import { EmptyContent, ErrorCode, JsonContent, type JsonObject, RoomError } from "@meshagent/api";
import type { ToolkitRoom } from "./toolkit_room.ts";
import type { RoomToolkit, ToolContext } from "./room_toolkit.ts";

/** Error codes of the services toolkit (protocol-data §0.4). */
export const ServiceErrorCode = {
  /** No service with that id in the room. */
  SERVICE_NOT_FOUND: 7001,
  /** The service cannot be restarted (it has no endpoint to call). */
  SERVICE_RESTART_NOT_ALLOWED: 7002,
  /** A service with that name exists already. */
  SERVICE_ALREADY_EXISTS: 7003,
} as const;

/** What the `services` toolkit reads: the room's services and their runtime states. */
export interface RoomServicesSource {
  /**
   * The room's service specs (with ids) and their runtime states (`ServiceRuntimeState`).
   *
   * @param room The room name.
   * @returns The specs and states.
   */
  list(room: string): { specs: JsonObject[]; states: JsonObject[] };
  /**
   * Calls a service into the room again.
   *
   * @param room The room name.
   * @param serviceId The service id.
   * @throws {RoomError} 7001 unknown id, 7002 not restartable.
   */
  restart(room: string, serviceId: string): void | Promise<void>;
}

function args(ctx: ToolContext): JsonObject {
  const input = ctx.input;
  if (input instanceof JsonContent && input.json !== null && typeof input.json === "object") {
    return input.json as JsonObject;
  }
  if (input.type === "empty") return {};
  throw new RoomError(`services.${ctx.tool} takes a json object input`, ErrorCode.INVALID_REQUEST);
}

/**
 * The built-in `services` toolkit (protocol-data §5.6): `list` answers the room's services as
 * JSON strings of their `ServiceSpec`s (as the Python client requires) with their runtime
 * states; `restart` calls one into the room again.
 *
 * @param room The room.
 * @param source Where the services and their states come from.
 * @returns The toolkit instance of that room.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Room, servicesToolkit } from "@meshagent/server";
 * const source = { list: () => ({ specs: [], states: [] }), restart: () => {} };
 * const room = new Room({
 *   name: "demo",
 *   url: "ws://x/rooms/demo",
 *   dataDir: "/tmp/demo",
 *   toolkits: [(r) => servicesToolkit(r, source)],
 * });
 * assert(room.tool("services", "list") !== undefined);
 * ```
 */
export function servicesToolkit(room: ToolkitRoom, source: RoomServicesSource): RoomToolkit {
  return {
    name: "services",
    surface: "services",
    tools: {
      list(ctx) {
        args(ctx);
        if (ctx.scope.services?.list === false) {
          throw new RoomError(
            "permission denied: the services grant does not allow list",
            ErrorCode.PERMISSION_DENIED,
          );
        }
        const { specs, states } = source.list(room.name);
        return new JsonContent({
          services_json: specs.map((spec) => JSON.stringify(spec)),
          service_states: states,
        });
      },
      async restart(ctx) {
        const input = args(ctx);
        const id = input.service_id;
        if (typeof id !== "string" || id === "") {
          throw new RoomError(
            "services.restart needs a string service_id",
            ErrorCode.INVALID_REQUEST,
          );
        }
        await source.restart(room.name, id);
        return new EmptyContent();
      },
    },
  };
}
