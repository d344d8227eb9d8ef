import type { DatasetColumn, DatasetRow, DatasetsClient } from "@meshagent/api";
import { ErrorCode, RoomError } from "@meshagent/api";
import type { AgentMessage } from "./agent_message.ts";
import {
  DeltaJoiner,
  type ThreadIndexEvent,
  type ThreadInfo,
  type ThreadStorage,
  type ThreadStorageRepository,
} from "./thread_storage.ts";

/** [impl] `list` without a limit returns this many threads (as `thread.list` defaults). */
const DEFAULT_LIST_LIMIT = 200;
/** Appends after which a thread table is optimised (agents.md §2.5: "about 25"). */
const OPTIMIZE_EVERY = 25;
/** [impl] How often the index table is polled for changes made by others (seconds). */
const WATCH_POLL_SECONDS = 1;

const ZSTD = { "lance-encoding:compression": "zstd" } as const;

/** The columns of a thread table (agents.md §2.5; official dataset_thread_storage.py). */
export const THREAD_TABLE_COLUMNS: readonly DatasetColumn[] = Object.freeze([
  { name: "turn_id", type: "utf8", nullable: true },
  { name: "item_id", type: "utf8", nullable: false },
  { name: "type", type: "utf8", nullable: true },
  { name: "sequence", type: "int64", nullable: false },
  { name: "timestamp", type: "timestamp", nullable: false },
  { name: "data", type: "large_utf8", nullable: false, metadata: ZSTD },
  { name: "attachment", type: "large_binary", nullable: true, metadata: ZSTD },
]);

/** The columns of the thread index table `index` (official l.788-791; times [impl] µs UTC). */
export const THREAD_INDEX_COLUMNS: readonly DatasetColumn[] = Object.freeze([
  { name: "path", type: "utf8", nullable: false },
  { name: "name", type: "utf8", nullable: true },
  { name: "created_at", type: "timestamp", nullable: true },
  { name: "modified_at", type: "timestamp", nullable: true },
]);

/** What the repository needs of a room: its datasets. A `RoomClient` is one. */
export interface DatasetThreadRoom {
  /** The room's datasets. */
  readonly datasets: DatasetsClient;
}

/** Options of {@linkcode DatasetThreadStorageRepository}. */
export interface DatasetThreadStorageRepositoryOptions {
  /** The room (a started client). */
  room: DatasetThreadRoom;
  /** The agent's name (the default folder is `.threads/<agentName>`). */
  agentName: string;
  /** The thread folder: `dataset://<dir>` or `<dir>` (its segments are the table namespace). */
  threadDir?: string;
  /** Store every delta as it comes instead of one joined delta per item (`--verbose-dataset`). */
  persistDeltas?: boolean;
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function iso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : new Date(String(value ?? 0)).toISOString();
}

/** The messages of one thread: one row per message in table `<uuid>` of the thread folder. */
class DatasetThreadStorage implements ThreadStorage {
  readonly threadId: string;
  readonly #datasets: DatasetsClient;
  readonly #table: string;
  readonly #namespace: string[];
  readonly #joiner: DeltaJoiner | null;
  #sequence: number;
  #pending: AgentMessage[] = [];
  #writing: Promise<void> = Promise.resolve();
  #failure: unknown;
  #appends = 0;

  constructor(init: {
    threadId: string;
    datasets: DatasetsClient;
    table: string;
    namespace: string[];
    sequence: number;
    persistDeltas: boolean;
  }) {
    this.threadId = init.threadId;
    this.#datasets = init.datasets;
    this.#table = init.table;
    this.#namespace = init.namespace;
    this.#sequence = init.sequence;
    this.#joiner = init.persistDeltas ? null : new DeltaJoiner();
  }

  push(message: AgentMessage): void {
    const ready = this.#joiner ? this.#joiner.push(message) : [message];
    if (ready.length === 0) return;
    const start = this.#pending.length === 0;
    this.#pending.push(...ready);
    // One insert per tick for whatever was pushed in it.
    if (start) this.#writing = this.#writing.then(() => this.#write());
  }

  async #write(): Promise<void> {
    const messages = this.#pending.splice(0);
    if (messages.length === 0) return;
    const rows = messages.map((message) => ({
      turn_id: typeof message.turn_id === "string" ? message.turn_id : null,
      item_id: typeof message.item_id === "string" ? message.item_id : message.message_id,
      type: message.type,
      sequence: this.#sequence++,
      timestamp: new Date(message.created_at ?? Date.now()),
      data: JSON.stringify(message),
      attachment: null,
    }));
    try {
      await this.#datasets.insert({
        table: this.#table,
        namespace: this.#namespace,
        records: rows,
      });
      if (++this.#appends % OPTIMIZE_EVERY === 0) {
        await this.#datasets.optimize({ table: this.#table, namespace: this.#namespace });
      }
    } catch (error) {
      this.#failure ??= error;
    }
  }

  async messages(): Promise<AgentMessage[]> {
    await this.flush();
    const rows = await this.#datasets.searchRows({
      table: this.#table,
      namespace: this.#namespace,
      select: ["sequence", "data"],
    });
    return rows
      .sort((a, b) => Number(a.sequence) - Number(b.sequence))
      .map((row) => JSON.parse(String(row.data)) as AgentMessage);
  }

  async clear(): Promise<void> {
    await this.flush();
    this.#joiner?.drain();
    await this.#datasets.delete({ table: this.#table, namespace: this.#namespace, where: "true" });
  }

  async flush(): Promise<void> {
    await this.#writing;
    const failure = this.#failure;
    this.#failure = undefined;
    if (failure !== undefined) throw failure;
  }

  async close(): Promise<void> {
    if (this.#joiner) {
      const open = this.#joiner.drain();
      if (open.length > 0) {
        const start = this.#pending.length === 0;
        this.#pending.push(...open);
        if (start) this.#writing = this.#writing.then(() => this.#write());
      }
    }
    await this.flush();
  }
}

/**
 * Threads in the room's datasets, as the official runtime keeps them (agents.md §2.5): thread
 * `dataset://<d1>/<d2>/<uuid>` is table `<uuid>` in namespace `[d1, d2]` (columns
 * {@linkcode THREAD_TABLE_COLUMNS}, one row per stored agent message, deltas joined), and the
 * thread index is table `index` in the same namespace ({@linkcode THREAD_INDEX_COLUMNS}), watched
 * for changes other processes make.
 *
 * @example Keeping a thread (needs a running room, so shown without running it)
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RoomClient } from "@meshagent/api";
 * import { agentMessage, DatasetThreadStorageRepository } from "@meshagent/agents";
 * async function demo(room: RoomClient) {
 *   const repo = new DatasetThreadStorageRepository({ room, agentName: "helper" });
 *   const id = repo.newThreadId(); // dataset://.threads/helper/<uuid>
 *   const thread = await repo.open(id);
 *   thread.push(agentMessage("turn.start", { thread_id: id, content: [] }));
 *   await repo.touch(id, "first");
 *   await thread.close();
 *   console.log((await repo.list()).threads); // [{ path: id, name: "first", … }]
 * }
 * assert(typeof demo === "function");
 * ```
 */
export class DatasetThreadStorageRepository implements ThreadStorageRepository {
  readonly threadDir: string;
  readonly threadList: string;
  readonly #datasets: DatasetsClient;
  readonly #namespace: string[];
  readonly #persistDeltas: boolean;
  readonly #listeners = new Set<(event: ThreadIndexEvent) => void>();
  #index: Promise<void> | undefined;
  #known: Map<string, ThreadInfo> | undefined;
  #watching: AbortController | undefined;
  #watchLoop: Promise<void> | undefined;

  /**
   * Creates the repository; tables are made when first used.
   *
   * @param options The room, the agent name, the folder and whether every delta is kept.
   */
  constructor(options: DatasetThreadStorageRepositoryOptions) {
    const dir = (options.threadDir ?? `.threads/${options.agentName}`)
      .replace(/^dataset:\/\//, "")
      .replace(/^\/+|\/+$/g, "");
    this.#namespace = dir.split("/").filter((s) => s !== "");
    if (this.#namespace.length === 0) {
      throw new RoomError(
        "the thread folder needs at least one segment",
        ErrorCode.INVALID_REQUEST,
      );
    }
    this.threadDir = `dataset://${this.#namespace.join("/")}`;
    this.threadList = `${this.threadDir}/index`;
    this.#datasets = options.room.datasets;
    this.#persistDeltas = options.persistDeltas ?? false;
  }

  newThreadId(): string {
    return `${this.threadDir}/${crypto.randomUUID()}`;
  }

  owns(threadId: string): boolean {
    return threadId.startsWith(`${this.threadDir}/`) && this.#tableOf(threadId) !== null;
  }

  /** The table name of a thread id of this folder (null when it is not one). */
  #tableOf(threadId: string): string | null {
    if (!threadId.startsWith(`${this.threadDir}/`)) return null;
    const name = threadId.slice(this.threadDir.length + 1);
    return name === "" || name.includes("/") || name === "index" ? null : name;
  }

  #table(threadId: string): string {
    const table = this.#tableOf(threadId);
    if (table === null) {
      throw new RoomError(
        `${threadId} is not a thread of ${this.threadDir} (expected ${this.threadDir}/<id>)`,
        ErrorCode.INVALID_REQUEST,
      );
    }
    return table;
  }

  #ensureIndex(): Promise<void> {
    return this.#index ??= this.#datasets.createTableWithSchema({
      name: "index",
      namespace: this.#namespace,
      schema: THREAD_INDEX_COLUMNS,
      mode: "create_if_not_exists",
    }).catch((error) => {
      this.#index = undefined;
      throw error;
    });
  }

  async open(threadId: string): Promise<ThreadStorage> {
    const table = this.#table(threadId);
    await this.#datasets.createTableWithSchema({
      name: table,
      namespace: this.#namespace,
      schema: THREAD_TABLE_COLUMNS,
      mode: "create_if_not_exists",
    });
    // Appends continue after the highest stored sequence.
    const last = await this.#datasets.searchRows({
      table,
      namespace: this.#namespace,
      select: ["sequence"],
    });
    const sequence = last.reduce((max, row) => Math.max(max, Number(row.sequence) + 1), 0);
    return new DatasetThreadStorage({
      threadId,
      datasets: this.#datasets,
      table,
      namespace: this.#namespace,
      sequence,
      persistDeltas: this.#persistDeltas,
    });
  }

  async #rows(where?: string): Promise<Map<string, ThreadInfo>> {
    await this.#ensureIndex();
    const rows = await this.#datasets.searchRows({
      table: "index",
      namespace: this.#namespace,
      where,
    });
    return new Map(rows.map((row: DatasetRow) => {
      const info: ThreadInfo = {
        path: String(row.path),
        created_at: iso(row.created_at),
        modified_at: iso(row.modified_at),
      };
      if (typeof row.name === "string") info.name = row.name;
      return [info.path, info];
    }));
  }

  async list(
    options: { limit?: number; offset?: number } = {},
  ): Promise<{ threads: ThreadInfo[]; total: number }> {
    const all = [...(await this.#rows()).values()]
      .sort((a, b) => b.modified_at.localeCompare(a.modified_at));
    const offset = options.offset ?? 0;
    return {
      threads: all.slice(offset, offset + (options.limit ?? DEFAULT_LIST_LIMIT)),
      total: all.length,
    };
  }

  async #upsert(info: ThreadInfo): Promise<void> {
    await this.#datasets.merge({
      table: "index",
      namespace: this.#namespace,
      on: "path",
      records: [{
        path: info.path,
        name: info.name ?? null,
        created_at: new Date(info.created_at),
        modified_at: new Date(info.modified_at),
      }],
    });
  }

  async touch(threadId: string, name?: string): Promise<ThreadInfo> {
    const existing = (await this.#rows(`path = ${quote(threadId)}`)).get(threadId);
    const now = new Date().toISOString();
    const info: ThreadInfo = {
      path: threadId,
      created_at: existing?.created_at ?? now,
      modified_at: now,
    };
    const finalName = name ?? existing?.name;
    if (finalName !== undefined) info.name = finalName;
    await this.#upsert(info);
    this.#emit({ kind: existing ? "updated" : "created", thread: { ...info } });
    return info;
  }

  async rename(threadId: string, name: string): Promise<ThreadInfo | null> {
    const existing = (await this.#rows(`path = ${quote(threadId)}`)).get(threadId);
    if (!existing) return null;
    const info = { ...existing, name, modified_at: new Date().toISOString() };
    await this.#upsert(info);
    this.#emit({ kind: "updated", thread: { ...info } });
    return info;
  }

  async delete(threadId: string): Promise<boolean> {
    const table = this.#table(threadId);
    const existing = (await this.#rows(`path = ${quote(threadId)}`)).get(threadId);
    const tables = await this.#datasets.listTables({ namespace: this.#namespace });
    const had = tables.includes(table);
    if (had) {
      await this.#datasets.dropTable({ name: table, namespace: this.#namespace });
    }
    if (existing) {
      await this.#datasets.delete({
        table: "index",
        namespace: this.#namespace,
        where: `path = ${quote(threadId)}`,
      });
      this.#emit({ kind: "deleted", thread: { ...existing } });
    }
    return had || existing !== undefined;
  }

  watch(listener: (event: ThreadIndexEvent) => void): () => void {
    this.#listeners.add(listener);
    if (!this.#watching) this.#startWatching();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#stopWatching();
    };
  }

  #emit(event: ThreadIndexEvent): void {
    if (this.#known) {
      if (event.kind === "deleted") this.#known.delete(event.thread.path);
      else this.#known.set(event.thread.path, { ...event.thread });
    }
    for (const listener of this.#listeners) listener(event);
  }

  /** Follows the index table (`watch_table`): changes made elsewhere become events here. */
  #startWatching(): void {
    const controller = this.#watching = new AbortController();
    this.#watchLoop = (async () => {
      try {
        await this.#ensureIndex();
        this.#known = await this.#rows();
        for await (
          const event of this.#datasets.watchTable({
            table: "index",
            namespace: this.#namespace,
            pollIntervalSeconds: WATCH_POLL_SECONDS,
            signal: controller.signal,
          })
        ) {
          if (controller.signal.aborted) break;
          if (event.kind !== "data") continue;
          const now = await this.#rows();
          const before = this.#known ?? new Map();
          for (const [path, info] of now) {
            const old = before.get(path);
            if (!old) this.#emit({ kind: "created", thread: info });
            else if (old.modified_at !== info.modified_at || old.name !== info.name) {
              this.#emit({ kind: "updated", thread: info });
            }
          }
          for (const [path, info] of before) {
            if (!now.has(path)) this.#emit({ kind: "deleted", thread: info });
          }
          this.#known = now;
        }
      } catch {
        // The room went away or the watch was stopped: local changes still emit events.
      }
    })();
  }

  #stopWatching(): void {
    this.#watching?.abort();
    this.#watching = undefined;
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    this.#stopWatching();
    await this.#watchLoop;
  }
}
