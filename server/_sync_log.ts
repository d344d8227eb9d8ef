// Private: the write-ahead log of accepted document updates (protocol-data §2.8 [impl]).
//
// Every update the sync toolkit accepts is appended here and made durable (one fsync'd SQLite
// transaction per batch: group commit) before the sender gets the chunk's answer. The document
// file in room storage is the compacted state; after it is written, the log rows it covers are
// deleted. Replaying rows the file already holds is harmless: Yjs ignores known updates.
//
// One SQLite database per room at `<roomDir>/sync-log.sqlite`, WAL journal, synchronous=FULL.
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { existsSync, mkdirSync } from "node:fs";

/** The database file of a room's sync log, inside the room's data folder. */
export const SYNC_LOG_FILE = "sync-log.sqlite";

interface Pending {
  path: string;
  update: Uint8Array;
  resolve: (seq: number) => void;
  reject: (e: unknown) => void;
}

/** A room's update log. Opened on first use; appends are batched into one commit per tick. */
export class SyncLog {
  readonly #dir: string;
  #db?: DatabaseSync;
  #insert?: StatementSync;
  #select?: StatementSync;
  #delete?: StatementSync;
  #pending: Pending[] = [];
  #timer?: ReturnType<typeof setTimeout>;
  #closed = false;

  constructor(roomDir: string) {
    this.#dir = roomDir;
  }

  #open(): DatabaseSync {
    if (this.#db) return this.#db;
    if (this.#closed) throw new Error("the sync log is closed");
    mkdirSync(this.#dir, { recursive: true });
    const db = new DatabaseSync(`${this.#dir}/${SYNC_LOG_FILE}`);
    db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS updates (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        path TEXT NOT NULL,
        data BLOB NOT NULL
      );
      CREATE INDEX IF NOT EXISTS updates_path ON updates (path, seq);
    `);
    this.#insert = db.prepare("INSERT INTO updates (path, data) VALUES (?, ?)");
    this.#select = db.prepare("SELECT seq, data FROM updates WHERE path = ? ORDER BY seq");
    this.#delete = db.prepare("DELETE FROM updates WHERE path = ? AND seq <= ?");
    this.#db = db;
    return db;
  }

  /**
   * Appends an update; resolves with its sequence number once it is durable.
   *
   * @param path The document path.
   * @param update The Yjs v1 update.
   */
  append(path: string, update: Uint8Array): Promise<number> {
    if (this.#closed) return Promise.reject(new Error("the sync log is closed"));
    return new Promise((resolve, reject) => {
      this.#pending.push({ path, update, resolve, reject });
      this.#timer ??= setTimeout(() => this.flush(), 0);
    });
  }

  /** Writes every pending append in one transaction (one fsync). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    const seqs: number[] = [];
    try {
      const db = this.#open();
      db.exec("BEGIN");
      try {
        for (const p of batch) {
          seqs.push(Number(this.#insert!.run(p.path, p.update).lastInsertRowid));
        }
        db.exec("COMMIT");
      } catch (e) {
        db.exec("ROLLBACK");
        throw e;
      }
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    batch.forEach((p, i) => p.resolve(seqs[i]));
  }

  /**
   * Reads the logged updates of a document, oldest first.
   *
   * @param path The document path.
   * @returns The updates and the last sequence number (0 when none).
   */
  read(path: string): { updates: Uint8Array[]; lastSeq: number } {
    this.flush();
    // No database yet: nothing was logged (and a read should not create one).
    if (!this.#db && !existsSync(`${this.#dir}/${SYNC_LOG_FILE}`)) {
      return { updates: [], lastSeq: 0 };
    }
    this.#open();
    const rows = this.#select!.all(path) as { seq: number | bigint; data: Uint8Array }[];
    return {
      updates: rows.map((r) => new Uint8Array(r.data)),
      lastSeq: rows.length ? Number(rows[rows.length - 1].seq) : 0,
    };
  }

  /**
   * Drops the updates of a document up to a sequence number (they are in the stored file now).
   *
   * @param path The document path.
   * @param seq The last sequence number covered.
   */
  truncate(path: string, seq: number): void {
    if (seq <= 0 || this.#closed) return;
    this.#open();
    this.#delete!.run(path, seq);
  }

  /** Flushes and closes the database. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#db?.close();
    this.#db = undefined;
  }
}
