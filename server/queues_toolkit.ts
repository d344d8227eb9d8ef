import { EmptyContent, ErrorCode, JsonContent, type JsonObject, RoomError } from "@meshagent/api";
import type { Participant } from "./participant.ts";
import type { QueueStore, QueueStoreFactory } from "./queue_store.ts";
import type { ToolkitRoom } from "./toolkit_room.ts";
import type { RoomToolkit, ToolContext } from "./room_toolkit.ts";

const EMPTY = new EmptyContent();

interface Waiter {
  participant: Participant;
  resolve(message: unknown): void;
  reject(error: RoomError): void;
}

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
  throw new RoomError(`queues.${ctx.tool} takes a json object input`, ErrorCode.INVALID_REQUEST);
}

function queueName(input: JsonObject, tool: string): string {
  const name = input.name;
  if (typeof name !== "string" || name === "") {
    throw new RoomError(`queues.${tool} needs a non-empty string name`, ErrorCode.INVALID_REQUEST);
  }
  return name;
}

function flag(input: JsonObject, key: string, tool: string, fallback: boolean): boolean {
  const value = input[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "boolean") {
    throw new RoomError(`queues.${tool}: ${key} must be a boolean`, ErrorCode.INVALID_REQUEST);
  }
  return value;
}

function denied(what: string): RoomError {
  return new RoomError(`permission denied: the queues grant does not allow ${what}`, 1001);
}

function notFound(name: string): RoomError {
  return new RoomError(`queue ${name} was not found`, ErrorCode.QUEUE_NOT_FOUND);
}

function closedError(name: string): RoomError {
  return new RoomError(`queue ${name} is closed`, ErrorCode.INVALID_STATE);
}

/**
 * The built-in `queues` toolkit (§9): room-scoped FIFO queues of JSON values, kept in a
 * {@linkcode QueueStore} (durable by default). `receive` with `wait` stays pending until a message
 * arrives; waiting receivers are served first come, first served, each message goes to exactly
 * one of them, and a receiver that disconnects consumes nothing. `close` fails waiting receivers
 * with 1006.
 *
 * @param room The room.
 * @param storeFactory Makes the room's queue store (opened on first use).
 * @returns The toolkit instance of that room.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { queuesToolkit, Room, sqliteQueueStore } from "@meshagent/server";
 * const room = new Room({
 *   name: "demo",
 *   url: "ws://x/rooms/demo",
 *   dataDir: "/tmp/demo",
 *   toolkits: [(r) => queuesToolkit(r, sqliteQueueStore)],
 * });
 * assert(room.tool("queues", "receive") !== undefined);
 * await room.close();
 * ```
 */
export function queuesToolkit(room: ToolkitRoom, storeFactory: QueueStoreFactory): RoomToolkit {
  let store: QueueStore | undefined;
  const getStore = (): QueueStore => (store ??= storeFactory(room.name, room.dataDir));
  /** Waiting receivers per queue, oldest first. */
  const waiters = new Map<string, Waiter[]>();
  /** Per-queue operation chains: store calls of one queue never interleave. */
  const locks = new Map<string, Promise<void>>();

  const locked = <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const previous = locks.get(name) ?? Promise.resolve();
    const run = previous.then(fn);
    const tail = run.then(() => {}, () => {});
    locks.set(name, tail);
    tail.then(() => {
      if (locks.get(name) === tail) locks.delete(name);
    });
    return run;
  };

  /** Makes sure the queue exists and is open. */
  const ensureOpen = async (s: QueueStore, name: string, create: boolean) => {
    const state = await s.state(name);
    if (state === undefined) {
      if (!create) throw notFound(name);
      await s.open(name);
    } else if (state === "closed") {
      throw closedError(name);
    }
  };

  const takeWaiter = (name: string): Waiter | undefined => {
    const list = waiters.get(name);
    if (!list) return undefined;
    let waiter: Waiter | undefined;
    while ((waiter = list.shift()) && waiter.participant.closed) { /* skip the departed */ }
    if (list.length === 0) waiters.delete(name);
    return waiter;
  };

  const failWaiters = (name: string, error: RoomError) => {
    const list = waiters.get(name);
    waiters.delete(name);
    for (const w of list ?? []) w.reject(error);
  };

  const canManage = (ctx: ToolContext, name: string) => {
    const grant = ctx.scope.queues!;
    if (!grant.canSend(name) && !grant.canReceive(name)) throw denied(`managing queue ${name}`);
  };

  return {
    name: "queues",
    surface: "queues",
    tools: {
      async list(ctx) {
        args(ctx);
        if (!ctx.scope.queues!.canList()) throw denied("list");
        const queues = await getStore().list();
        // PY validates the top level strictly: only `queues`.
        return new JsonContent({ queues });
      },
      async open(ctx) {
        const name = queueName(args(ctx), "open");
        canManage(ctx, name);
        const s = getStore();
        await locked(name, () => s.open(name));
        return EMPTY;
      },
      async close(ctx) {
        const name = queueName(args(ctx), "close");
        canManage(ctx, name);
        const s = getStore();
        await locked(name, async () => {
          // [inferred] Closing a queue that does not exist does nothing.
          if ((await s.state(name)) === undefined) return;
          await s.markClosed(name);
          failWaiters(name, new RoomError(`queue ${name} was closed`, ErrorCode.INVALID_STATE));
        });
        return EMPTY;
      },
      async drain(ctx) {
        const name = queueName(args(ctx), "drain");
        canManage(ctx, name);
        const s = getStore();
        await locked(name, () => s.drain(name));
        return EMPTY;
      },
      async send(ctx) {
        const input = args(ctx);
        const name = queueName(input, "send");
        if (!ctx.scope.queues!.canSend(name)) throw denied(`sending to queue ${name}`);
        const create = flag(input, "create", "send", true);
        if (!("message" in input)) {
          throw new RoomError("queues.send needs a message", ErrorCode.INVALID_REQUEST);
        }
        const message = input.message;
        const s = getStore();
        await locked(name, async () => {
          await ensureOpen(s, name, create);
          const waiter = takeWaiter(name);
          // A waiting receiver gets the message directly; otherwise it is stored durably.
          if (waiter) waiter.resolve(message);
          else await s.push(name, JSON.stringify(message));
        });
        return EMPTY;
      },
      async receive(ctx) {
        const input = args(ctx);
        const name = queueName(input, "receive");
        if (!ctx.scope.queues!.canReceive(name)) throw denied(`receiving from queue ${name}`);
        const create = flag(input, "create", "receive", true);
        const wait = flag(input, "wait", "receive", true);
        const participant = ctx.participant;
        const s = getStore();
        const outcome = await locked(name, async () => {
          // A missing queue is created before waiting (checked against the 0.47 client suite).
          await ensureOpen(s, name, create);
          const body = await s.pop(name);
          if (body !== undefined) return { message: JSON.parse(body) as unknown };
          if (!wait || participant.closed) return null;
          // Registered under the lock, so a send that follows finds this waiter.
          const pending = new Promise<unknown>((resolve, reject) => {
            const list = waiters.get(name) ?? [];
            list.push({ participant, resolve, reject });
            waiters.set(name, list);
          });
          return { pending };
        });
        if (outcome === null) return EMPTY;
        if ("message" in outcome) return new JsonContent(outcome.message);
        return new JsonContent(await outcome.pending);
      },
    },
    participantLeft(participant) {
      // Its waits end without consuming anything; the answer goes nowhere (the socket is gone).
      for (const [name, list] of waiters) {
        const kept = list.filter((w) => {
          if (w.participant !== participant) return true;
          w.reject(new RoomError("the receiver disconnected", ErrorCode.INVALID_STATE));
          return false;
        });
        if (kept.length === 0) waiters.delete(name);
        else waiters.set(name, kept);
      }
    },
    async close() {
      for (const name of [...waiters.keys()]) {
        failWaiters(name, new RoomError("the room ended", ErrorCode.INVALID_STATE));
      }
      await Promise.all(locks.values());
      await store?.close();
      store = undefined;
    },
  };
}
