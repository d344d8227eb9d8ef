// The admin records of a server (projects, service accounts, API keys, rooms, services, secrets,
// webhooks) in one SQLite table, `<dataDir>/admin.sqlite` (mode 0600: it holds API key secrets
// and secret values). Deno- and Node-only (node:sqlite).
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import type { JsonObject } from "@meshagent/api";

/** The database file of the admin records, in the server's data folder. */
export const ADMIN_DATABASE_FILE = "admin.sqlite";

/** The kinds of records. */
export type AdminKind =
  | "project"
  | "service_account"
  | "api_key"
  | "room"
  | "service"
  | "secret"
  | "secret_version"
  | "webhook";

/** One stored record. */
export interface AdminRecord {
  /** What it is. */
  readonly kind: AdminKind;
  /** Its id (unique per kind). */
  readonly id: string;
  /** The project it belongs to (a project's own is its id). */
  readonly projectId: string;
  /** Its parent (the service account of a key, the room of a room service, …), or null. */
  readonly parentId: string | null;
  /** Its name, or null. */
  readonly name: string | null;
  /** Everything else, as JSON. */
  readonly doc: JsonObject;
  /** When it was made (ISO 8601). */
  readonly createdAt: string;
  /** When it last changed (ISO 8601). */
  readonly updatedAt: string;
}

/** What {@linkcode AdminStore.insert} stores. */
export interface AdminInsert {
  /** The id (default: a random UUID). */
  id?: string;
  /** The project. */
  projectId: string;
  /** The parent, if any. */
  parentId?: string | null;
  /** The name, if any. */
  name?: string | null;
  /** A key that must be unique among records of the kind (e.g. `<project>/<name>`). */
  unique?: string | null;
  /** The rest. */
  doc: JsonObject;
}

/** Thrown when a unique key is taken. */
export class AdminConflictError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is taken.
   */
  constructor(message: string) {
    super(message);
    this.name = "AdminConflictError";
  }
}

interface Row {
  kind: string;
  id: string;
  project_id: string;
  parent_id: string | null;
  name: string | null;
  doc: string;
  created_at: string;
  updated_at: string;
}

function toRecord(row: Row): AdminRecord {
  return {
    kind: row.kind as AdminKind,
    id: row.id,
    projectId: row.project_id,
    parentId: row.parent_id,
    name: row.name,
    doc: JSON.parse(row.doc),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * The admin records of a server: one SQLite table of JSON documents, with the columns the API
 * looks records up by (kind, id, project, parent, name, a unique key). Writes are synchronous
 * and durable (WAL, `synchronous = FULL`): a key created through REST works the moment the reply
 * went out, and survives a crash.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AdminStore } from "@meshagent/server";
 * const dir = await Deno.makeTempDir();
 * const store = AdminStore.open(dir);
 * const project = store.insert("project", { projectId: "p1", id: "p1", name: "demo", doc: {} });
 * assert.equal(store.get("project", "p1")?.name, project.name);
 * store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class AdminStore {
  readonly #db: DatabaseSync;
  readonly #s: Record<
    "insert" | "get" | "unique" | "update" | "remove" | "children" | "list" | "listAll",
    StatementSync
  >;
  #closed = false;

  private constructor(db: DatabaseSync) {
    this.#db = db;
    const columns = "kind, id, project_id, parent_id, name, doc, created_at, updated_at";
    this.#s = {
      insert: db.prepare(
        "INSERT INTO records (kind, id, project_id, parent_id, name, unique_key, doc, " +
          "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ),
      get: db.prepare(`SELECT ${columns} FROM records WHERE kind = ? AND id = ?`),
      unique: db.prepare(`SELECT ${columns} FROM records WHERE kind = ? AND unique_key = ?`),
      update: db.prepare(
        "UPDATE records SET doc = ?, name = ?, unique_key = ?, updated_at = ? " +
          "WHERE kind = ? AND id = ?",
      ),
      remove: db.prepare("DELETE FROM records WHERE kind = ? AND id = ?"),
      children: db.prepare(`SELECT ${columns} FROM records WHERE kind = ? AND parent_id = ?`),
      list: db.prepare(
        `SELECT ${columns} FROM records WHERE kind = ? AND project_id = ? ` +
          "ORDER BY created_at, rowid",
      ),
      listAll: db.prepare(
        `SELECT ${columns} FROM records WHERE kind = ? ORDER BY created_at, rowid`,
      ),
    };
  }

  /**
   * Opens (creating when needed) `<dataDir>/admin.sqlite`.
   *
   * @param dataDir The server's data folder.
   * @returns The store.
   */
  static open(dataDir: string): AdminStore {
    mkdirSync(dataDir, { recursive: true });
    const file = `${dataDir}/${ADMIN_DATABASE_FILE}`;
    const fresh = !existsSync(file);
    const db = new DatabaseSync(file);
    if (fresh) {
      try {
        chmodSync(file, 0o600);
      } catch { /* a file system without modes */ }
    }
    db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS records (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        project_id TEXT NOT NULL,
        parent_id TEXT,
        name TEXT,
        unique_key TEXT,
        doc TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (kind, id)
      );
      CREATE UNIQUE INDEX IF NOT EXISTS records_unique ON records (kind, unique_key);
      CREATE INDEX IF NOT EXISTS records_project ON records (kind, project_id);
      CREATE INDEX IF NOT EXISTS records_parent ON records (kind, parent_id);
    `);
    return new AdminStore(db);
  }

  #check(): void {
    if (this.#closed) throw new Error("the admin store is closed");
  }

  /**
   * Stores a new record.
   *
   * @param kind What it is.
   * @param record The record.
   * @returns The stored record.
   * @throws {AdminConflictError} When its unique key is taken.
   */
  insert(kind: AdminKind, record: AdminInsert): AdminRecord {
    this.#check();
    const id = record.id ?? crypto.randomUUID();
    const now = new Date().toISOString();
    try {
      this.#s.insert.run(
        kind,
        id,
        record.projectId,
        record.parentId ?? null,
        record.name ?? null,
        record.unique ?? null,
        JSON.stringify(record.doc),
        now,
        now,
      );
    } catch (e) {
      if (/UNIQUE/.test(String(e))) throw new AdminConflictError(`that ${kind} exists already`);
      throw e;
    }
    return this.get(kind, id)!;
  }

  /**
   * Finds a record by id.
   *
   * @param kind What it is.
   * @param id Its id.
   * @returns The record, or undefined.
   */
  get(kind: AdminKind, id: string): AdminRecord | undefined {
    this.#check();
    const row = this.#s.get.get(kind, id) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  /**
   * Finds a record by its unique key.
   *
   * @param kind What it is.
   * @param unique The unique key.
   * @returns The record, or undefined.
   */
  byUnique(kind: AdminKind, unique: string): AdminRecord | undefined {
    this.#check();
    const row = this.#s.unique.get(kind, unique) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  /**
   * Lists the records of a kind, oldest first: of one project, or all.
   *
   * @param kind What they are.
   * @param projectId The project (default: every project).
   * @returns The records.
   */
  list(kind: AdminKind, projectId?: string): AdminRecord[] {
    this.#check();
    const rows = projectId === undefined
      ? this.#s.listAll.all(kind)
      : this.#s.list.all(kind, projectId);
    return (rows as unknown as Row[]).map(toRecord);
  }

  /**
   * Lists the records of a kind under a parent.
   *
   * @param kind What they are.
   * @param parentId The parent.
   * @returns The records.
   */
  children(kind: AdminKind, parentId: string): AdminRecord[] {
    this.#check();
    return (this.#s.children.all(kind, parentId) as unknown as Row[]).map(toRecord);
  }

  /**
   * Replaces a record's document (and name and unique key).
   *
   * @param record The record as read.
   * @param doc The new document.
   * @param options A new name and unique key (default: unchanged).
   * @returns The stored record.
   * @throws {AdminConflictError} When the new unique key is taken.
   */
  update(
    record: AdminRecord,
    doc: JsonObject,
    options: { name?: string | null; unique?: string | null } = {},
  ): AdminRecord {
    this.#check();
    const current = this.#db.prepare("SELECT unique_key FROM records WHERE kind = ? AND id = ?")
      .get(record.kind, record.id) as { unique_key: string | null } | undefined;
    try {
      this.#s.update.run(
        JSON.stringify(doc),
        options.name === undefined ? record.name : options.name,
        options.unique === undefined ? current?.unique_key ?? null : options.unique,
        new Date().toISOString(),
        record.kind,
        record.id,
      );
    } catch (e) {
      if (/UNIQUE/.test(String(e))) {
        throw new AdminConflictError(`that ${record.kind} exists already`);
      }
      throw e;
    }
    return this.get(record.kind, record.id)!;
  }

  /**
   * Deletes a record.
   *
   * @param kind What it is.
   * @param id Its id.
   * @returns True when it existed.
   */
  delete(kind: AdminKind, id: string): boolean {
    this.#check();
    return Number(this.#s.remove.run(kind, id).changes) > 0;
  }

  /**
   * Runs several changes as one transaction (all or none).
   *
   * @param work The changes.
   * @returns What `work` returned.
   */
  transaction<T>(work: () => T): T {
    this.#check();
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.#db.exec("COMMIT");
      return result;
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  /** Closes the database. Safe to call more than once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
