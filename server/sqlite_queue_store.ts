import { DatabaseSync, type StatementSync } from "node:sqlite";
import { mkdirSync } from "node:fs";
import type { QueueInfo, QueueState, QueueStore } from "./queue_store.ts";

/** The database file of a room's queues, inside the room's data folder. */
export const QUEUE_DATABASE_FILE = "queues.sqlite";

/**
 * The embedded {@linkcode QueueStore}: one SQLite database per room at
 * `<roomDir>/queues.sqlite` (WAL mode), through `node:sqlite`. Queued messages survive a server
 * restart. The database is opened on first use, so rooms that never use queues create no file.
 *
 * @param _room The room name (unused; the folder already names the room).
 * @param roomDir The room's data folder.
 * @returns The store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sqliteQueueStore } from "@meshagent/server";
 * const dir = await Deno.makeTempDir();
 * const store = sqliteQueueStore("demo", dir);
 * await store.open("jobs");
 * await store.push("jobs", "1");
 * assert((await store.list())[0].size === 1);
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function sqliteQueueStore(_room: string, roomDir: string): QueueStore {
  return new SqliteQueueStore(roomDir);
}

class SqliteQueueStore implements QueueStore {
  readonly #dir: string;
  #db?: DatabaseSync;
  #statements?: {
    list: StatementSync;
    state: StatementSync;
    open: StatementSync;
    close: StatementSync;
    drain: StatementSync;
    push: StatementSync;
    pop: StatementSync;
  };
  #closed = false;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #s() {
    if (this.#statements) return this.#statements;
    if (this.#closed) throw new Error("the queue store is closed");
    mkdirSync(this.#dir, { recursive: true });
    const db = new DatabaseSync(`${this.#dir}/${QUEUE_DATABASE_FILE}`);
    db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS queues (
        name TEXT PRIMARY KEY,
        closed INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE IF NOT EXISTS messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        queue TEXT NOT NULL,
        body TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS messages_by_queue ON messages (queue, id);
    `);
    this.#db = db;
    this.#statements = {
      list: db.prepare(
        "SELECT q.name AS name, (SELECT count(*) FROM messages m WHERE m.queue = q.name) AS size " +
          "FROM queues q ORDER BY q.name",
      ),
      state: db.prepare("SELECT closed FROM queues WHERE name = ?"),
      open: db.prepare(
        "INSERT INTO queues (name, closed) VALUES (?, 0) ON CONFLICT (name) DO UPDATE SET closed = 0",
      ),
      close: db.prepare("UPDATE queues SET closed = 1 WHERE name = ?"),
      drain: db.prepare("DELETE FROM messages WHERE queue = ?"),
      push: db.prepare("INSERT INTO messages (queue, body) VALUES (?, ?)"),
      pop: db.prepare(
        "DELETE FROM messages WHERE id = " +
          "(SELECT id FROM messages WHERE queue = ? ORDER BY id LIMIT 1) RETURNING body",
      ),
    };
    return this.#statements;
  }

  list(): Promise<QueueInfo[]> {
    const rows = this.#s().list.all() as { name: string; size: number }[];
    return Promise.resolve(rows.map((r) => ({ name: r.name, size: Number(r.size) })));
  }

  state(name: string): Promise<QueueState | undefined> {
    const row = this.#s().state.get(name) as { closed: number } | undefined;
    return Promise.resolve(row === undefined ? undefined : row.closed ? "closed" : "open");
  }

  open(name: string): Promise<void> {
    this.#s().open.run(name);
    return Promise.resolve();
  }

  markClosed(name: string): Promise<void> {
    this.#s().close.run(name);
    return Promise.resolve();
  }

  drain(name: string): Promise<void> {
    this.#s().drain.run(name);
    return Promise.resolve();
  }

  push(name: string, message: string): Promise<void> {
    this.#s().push.run(name, message);
    return Promise.resolve();
  }

  pop(name: string): Promise<string | undefined> {
    const row = this.#s().pop.get(name) as { body: string } | undefined;
    return Promise.resolve(row?.body);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#statements = undefined;
    const db = this.#db;
    this.#db = undefined;
    db?.close();
    return Promise.resolve();
  }
}
