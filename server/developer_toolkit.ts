import {
  BinaryContent,
  type Content,
  EmptyContent,
  ErrorCode,
  JsonContent,
  type JsonObject,
  RoomError,
} from "@meshagent/api";
import type { ToolkitRoom } from "./toolkit_room.ts";
import type { RoomToolkit, ToolContext } from "./room_toolkit.ts";

const EMPTY = new EmptyContent();
const encoder = new TextEncoder();

/** [impl] Events a `logs` subscriber may have unsent before it is dropped as too slow. */
const MAX_PENDING_EVENTS = 10_000;

function args(ctx: ToolContext): JsonObject {
  const input = ctx.input;
  if (input instanceof JsonContent) {
    const json = input.json;
    if (json !== null && typeof json === "object" && !Array.isArray(json)) {
      return json as JsonObject;
    }
  } else if (input.type === "empty") {
    return {};
  }
  throw new RoomError(`developer.${ctx.tool} takes a json object input`, ErrorCode.INVALID_REQUEST);
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function checkGrant(ctx: ToolContext): void {
  if (ctx.scope.developer?.logs === false) {
    throw new RoomError(
      "permission denied: the developer grant does not allow logs",
      ErrorCode.PERMISSION_DENIED,
    );
  }
}

/**
 * The built-in `developer` toolkit (§10): `log` (and the PY forms `info`, `warning`, `error`)
 * emit a log event to the room; `logs` is a live subscription (streamed input, streamed output of
 * `binary` chunks `{headers: {type}}` with the UTF-8 JSON of the data) that ends when the caller
 * closes its input stream or disconnects. Every subscriber sees every event, its own included
 * [inferred].
 *
 * @param room The room.
 * @returns The toolkit instance of that room.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { developerToolkit, Room } from "@meshagent/server";
 * const room = new Room({ name: "demo", url: "ws://x/rooms/demo", dataDir: "/tmp/demo", toolkits: [developerToolkit] });
 * assert(room.tool("developer", "logs") !== undefined);
 * await room.close();
 * ```
 */
export function developerToolkit(room: ToolkitRoom): RoomToolkit {
  const subscribers = new Set<(event: Content) => void>();

  const emit = (type: string, data: JsonObject) => {
    if (subscribers.size === 0) return;
    const event = new BinaryContent(encoder.encode(JSON.stringify(data)), { type });
    for (const subscriber of subscribers) subscriber(event);
  };

  const convenience = (ctx: ToolContext) => {
    checkGrant(ctx);
    const input = args(ctx);
    const message = input.message;
    if (typeof message !== "string") {
      throw new RoomError(`developer.${ctx.tool} needs a string message`, 1002);
    }
    const extra = input.extra ?? {};
    if (!isObject(extra)) {
      throw new RoomError(`developer.${ctx.tool}: extra must be an object`, 1002);
    }
    // [inferred] type = the tool name, data = {message, ...extra}.
    emit(ctx.tool, { message, ...extra });
    return EMPTY;
  };

  return {
    name: "developer",
    surface: "developer",
    tools: {
      log(ctx) {
        checkGrant(ctx);
        const input = args(ctx);
        const type = input.type;
        if (typeof type !== "string" || type === "") {
          throw new RoomError("developer.log needs a non-empty string type", 1002);
        }
        const data = input.data ?? {};
        if (!isObject(data)) throw new RoomError("developer.log: data must be an object", 1002);
        emit(type, data);
        return EMPTY;
      },
      info: convenience,
      warning: convenience,
      error: convenience,
      logs(ctx) {
        checkGrant(ctx);
        return subscribe(ctx);
      },
    },
    close() {
      subscribers.clear();
    },
  };

  async function* subscribe(ctx: ToolContext): AsyncGenerator<Content> {
    const queue: Content[] = [];
    let wake: (() => void) | null = null;
    let done = false;
    const finish = () => {
      done = true;
      wake?.();
    };
    const subscriber = (event: Content) => {
      if (queue.length >= MAX_PENDING_EVENTS) return finish();
      queue.push(event);
      wake?.();
    };
    subscribers.add(subscriber);
    ctx.signal.addEventListener("abort", finish, { once: true });
    // The caller's input stream carries no data, only the final close: that is the cancel signal.
    (async () => {
      for await (const _ of ctx.inputStream) { /* ignored */ }
      finish();
    })();
    try {
      while (true) {
        while (queue.length > 0) yield queue.shift()!;
        if (done || room.closed) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    } finally {
      subscribers.delete(subscriber);
      ctx.signal.removeEventListener("abort", finish);
    }
  }
}
