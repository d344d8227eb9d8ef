/** One queue as listed by {@linkcode QueueStore.list}. */
export interface QueueInfo {
  /** The queue name. */
  name: string;
  /** How many messages wait in it. */
  size: number;
}

/** Whether a queue exists and accepts sends and receives. */
export type QueueState = "open" | "closed";

/**
 * Durable storage of one room's queues: FIFO lists of JSON texts. The embedded default is
 * SQLite in the room's data folder ({@linkcode sqliteQueueStore}); a networked store (Redis,
 * PostgreSQL) implements the same methods.
 *
 * The queues toolkit serialises calls per queue, so an implementation needs no locking of its
 * own beyond atomic single calls. Waiting receivers are the toolkit's business, not the store's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sqliteQueueStore, type QueueStore } from "@meshagent/server";
 * const dir = await Deno.makeTempDir();
 * const store: QueueStore = sqliteQueueStore("demo", dir);
 * await store.open("jobs");
 * await store.push("jobs", JSON.stringify({ n: 1 }));
 * assert((await store.pop("jobs")) === '{"n":1}');
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface QueueStore {
  /** Every queue with its size, by name. */
  list(): Promise<QueueInfo[]>;
  /** The queue's state, or undefined when it does not exist. */
  state(name: string): Promise<QueueState | undefined>;
  /** Creates the queue, or re-opens a closed one. */
  open(name: string): Promise<void>;
  /** Marks the queue closed (it keeps its messages). */
  markClosed(name: string): Promise<void>;
  /** Removes every message of the queue. */
  drain(name: string): Promise<void>;
  /** Appends one message (JSON text). The queue must exist. */
  push(name: string, message: string): Promise<void>;
  /** Removes and returns the oldest message (JSON text), or undefined when empty. */
  pop(name: string): Promise<string | undefined>;
  /** Flushes and releases the store. */
  close(): Promise<void>;
}

/**
 * Makes the queue store of one room.
 *
 * @param room The room name (valid, so safe in a path).
 * @param roomDir The room's data folder, `<dataDir>/rooms/<room>`.
 */
export type QueueStoreFactory = (room: string, roomDir: string) => QueueStore;
