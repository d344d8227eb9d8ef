// Private: the open documents of one room for the sync toolkit (protocol-data §2): one
// authoritative Y.Doc per open path, loaded from room storage (plus the update log) on first
// use, checked update by update against its schema, relayed to every other subscriber, logged
// durably before the sender's chunk is answered, and compacted into the storage file on a short
// debounce, when the last subscriber leaves, and when the room ends.
//
// The Yjs work (decoding, applying, checking, encoding, compacting, JSON) is the room's
// DocumentEngine's, run by a DocumentEngineRunner in a Worker of the room's own: this side keeps
// the files, the update log, the subscribers, the save timers and the relaying, and waits for the
// engine asynchronously.
import { BinaryContent, ErrorCode, type JsonObject, MeshSchema, RoomError } from "@meshagent/api";
import type { ToolkitRoom } from "./toolkit_room.ts";
import type { FileStore } from "./file_store.ts";
import { StorageError } from "./file_store.ts";
import { decodeDocumentFile, type DocumentFile, encodeDocumentFile } from "./_document_file.ts";
import { SyncLog } from "./_sync_log.ts";
import { DocumentEngineRunner } from "./_document_engine_runner.ts";
import type { EngineCalls, EngineOp } from "./_document_engine.ts";
import type { SyncToolkitOptions } from "./sync_toolkit_options.ts";

/** [impl] How long after the first unsaved change the document file is rewritten. */
export const SAVE_DELAY_MS = 200;
/** [impl] Retry delay after a failed save (the log still holds every update). */
const SAVE_RETRY_MS = 2000;
/** The folder of stored MeshSchemas (§2.5). */
export const SCHEMAS_FOLDER = ".schemas";

/** [impl] The default time limit of one piece of a room's document work (an update, a load). */
export const DOCUMENT_TIME_LIMIT_MS = 10_000;
/** [impl] How long a room's document worker is kept with no document loaded. */
export const DOCUMENT_WORKER_IDLE_MS = 30_000;

/** Receives the updates other subscribers made. */
export interface DocumentSubscriber {
  /** A `{kind:"sync"}` chunk to forward (shared between subscribers: do not mutate). */
  deliver(chunk: BinaryContent): void;
  /** The document was closed under the subscriber (it could not be loaded again): end. */
  fail(error: RoomError): void;
}

/** How to open or create a document. */
export interface DocumentOpenOptions {
  /** Create the document when it does not exist. */
  create: boolean;
  /** An inline MeshSchema JSON (used for new documents and bare Yjs files). */
  schema?: unknown;
  /** A storage path of a MeshSchema JSON file. */
  schemaPath?: string | null;
  /** Document JSON for a new document. */
  initialJson?: unknown;
}

interface SchemaChoice {
  /** The normalized MeshSchema JSON. */
  json: JsonObject;
  path: string | null;
}

/** One loaded document, as this side sees it (its Yjs state is in the room's engine). */
export class HostedDocument {
  readonly path: string;
  readonly schemaJson: JsonObject;
  readonly schemaPath: string | null;
  readonly subscribers = new Set<DocumentSubscriber>();
  readonly syncChunkHeaders: JsonObject;
  dirty = false;
  saveTimer?: ReturnType<typeof setTimeout>;
  saving?: Promise<void>;
  /** A document file write (and the log truncation after it) in progress. */
  writing?: Promise<void>;
  /** Updates sent to the engine and not answered yet. */
  applying = 0;
  /** The highest log sequence number known durable. */
  loggedSeq = 0;
  unloaded = false;

  constructor(path: string, choice: SchemaChoice) {
    this.path = path;
    this.schemaJson = choice.json;
    this.schemaPath = choice.path;
    this.syncChunkHeaders = { kind: "sync", path };
  }
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** The schema name a path's extension selects (`notes/a.page` → `page`), if any. */
export function schemaNameOf(path: string): string | undefined {
  const name = basename(path);
  const dot = name.lastIndexOf(".");
  if (dot < 0 || dot === name.length - 1) return undefined;
  return name.slice(dot + 1);
}

function parseSchema(json: unknown, where: string): MeshSchema {
  try {
    return MeshSchema.fromJson(json);
  } catch (e) {
    throw new RoomError(
      `${where} is not a valid MeshSchema: ${(e as Error).message}`,
      ErrorCode.INVALID_REQUEST,
    );
  }
}

/** The open documents of one room. */
export class DocumentHost {
  readonly #room: ToolkitRoom;
  readonly #log: SyncLog;
  readonly #engine: DocumentEngineRunner;
  readonly #docs = new Map<string, Promise<HostedDocument>>();
  /** The documents loaded in the engine (their loads finished). */
  readonly #loaded = new Set<HostedDocument>();
  #closed = false;

  constructor(room: ToolkitRoom, options: SyncToolkitOptions = {}) {
    this.#room = room;
    this.#log = new SyncLog(room.dataDir);
    this.#engine = new DocumentEngineRunner({
      isolation: options.isolation ?? "worker",
      timeLimitMs: options.timeLimitMs ?? DOCUMENT_TIME_LIMIT_MS,
      idleMs: options.workerIdleMs ?? DOCUMENT_WORKER_IDLE_MS,
      name: `documents of room ${room.name}`,
      reload: () => this.#reload(),
    });
    this.#offRemoved = room.onFilesRemoved((paths) => this.#removed(paths));
  }

  readonly #offRemoved: () => void;

  /**
   * Files were deleted (or moved away) through storage: open documents among them are forgotten —
   * subscribers told (3001), log dropped — and a save already writing is undone once it lands.
   */
  #removed(paths: readonly string[]): void {
    for (const doc of [...this.#loaded]) {
      if (!paths.some((p) => doc.path === p || doc.path.startsWith(`${p}/`))) continue;
      const error = new RoomError(
        `the document file ${doc.path} was deleted`,
        ErrorCode.STORAGE_NOT_FOUND,
      );
      const writing = doc.writing;
      this.#log.truncate(doc.path, Number.MAX_SAFE_INTEGER);
      this.#drop(doc);
      this.#call("unload", { path: doc.path }).catch(() => {});
      for (const s of [...doc.subscribers]) s.fail(error);
      if (writing) {
        writing.finally(async () => {
          const store = await this.#files();
          if (await store.stat(doc.path)) await store.delete(doc.path).catch(() => {});
        }).catch(() => {});
      }
    }
  }

  /** How many documents are loaded. */
  get size(): number {
    return this.#docs.size;
  }

  #files(): Promise<FileStore> {
    return this.#room.files();
  }

  #checkOpen(): void {
    if (this.#closed) throw new RoomError("the room is closing", ErrorCode.INVALID_STATE);
  }

  #call<K extends EngineOp>(
    op: K,
    args: EngineCalls[K]["args"],
    priority = false,
  ): Promise<EngineCalls[K]["result"]> {
    return this.#engine.call(op, args, { priority });
  }

  /**
   * Opens (loading or creating) a document and subscribes to its updates.
   *
   * @returns The document, and its state (a Yjs update) for the subscriber: the whole state, or
   *   what a replica with `vector` lacks.
   */
  async open(
    path: string,
    options: DocumentOpenOptions,
    subscriber: DocumentSubscriber,
    vector: Uint8Array | null,
  ): Promise<{ doc: HostedDocument; state: Uint8Array }> {
    let doc = await this.#acquire(path, options);
    // A document unloaded between its load and now is loaded again.
    while (doc.unloaded) doc = await this.#acquire(path, options);
    // Subscribed before the state is encoded: no update accepted meanwhile is missed (the engine
    // answers in order, so the state holds every update relayed before it).
    doc.subscribers.add(subscriber);
    try {
      const state = await this.#call("encode", { path, vector });
      if (doc.unloaded) throw new RoomError(`the document ${path} was closed`, 1006);
      return { doc, state };
    } catch (e) {
      this.leave(doc, subscriber);
      throw e;
    }
  }

  /** Unsubscribes; the last subscriber out saves and unloads the document. */
  leave(doc: HostedDocument, subscriber: DocumentSubscriber): void {
    if (!doc.subscribers.delete(subscriber)) return;
    this.#maybeUnload(doc);
  }

  /**
   * Checks and applies a sync payload in the room's engine, relays it to the other subscribers
   * and logs it.
   *
   * @param wire The payload as it came on the wire (base64 text bytes of a Yjs update), relayed
   *   as is when it is canonical base64.
   * @returns null when the update changed nothing; otherwise `durable`, which resolves once the
   *   update is durable.
   * @throws {RoomError} When the payload is not base64 of a Yjs update (1002), breaks the schema
   *   (1002), depends on updates the document lacks (1006) or took past the time limit (1009).
   *   The document is then as before.
   */
  async apply(
    doc: HostedDocument,
    wire: Uint8Array,
    from: DocumentSubscriber,
  ): Promise<{ durable: Promise<void> } | null> {
    if (doc.unloaded) {
      throw new RoomError(`the document ${doc.path} was closed; reopen it`, 1006);
    }
    doc.applying++;
    try {
      const result = await this.#call("apply", { path: doc.path, wire });
      if (doc.unloaded) {
        throw new RoomError(`the document ${doc.path} was closed; reopen it`, 1006);
      }
      if (!result.changed) return null;
      const chunk = new BinaryContent(result.wire ?? wire, doc.syncChunkHeaders);
      for (const s of doc.subscribers) if (s !== from) s.deliver(chunk);
      this.#markDirty(doc);
      const durable = this.#log.append(doc.path, result.update).then((seq) => {
        if (seq > doc.loggedSeq) doc.loggedSeq = seq;
      });
      return { durable };
    } finally {
      doc.applying--;
      // The sender may have left while its update was in the engine.
      this.#maybeUnload(doc);
    }
  }

  /**
   * Creates a document that does not exist yet.
   *
   * @throws {RoomError} 1004 when it exists; 1002 for a bad schema or JSON.
   */
  async create(
    path: string,
    json: unknown,
    schema: unknown,
    schemaPath: string | null,
  ): Promise<void> {
    this.#checkOpen();
    if (this.#docs.has(path) || await this.#stored(path)) {
      throw new RoomError(`the document ${path} exists already`, ErrorCode.ALREADY_EXISTS);
    }
    const choice = await this.#resolveSchema(path, null, schema, schemaPath);
    const state = await this.#call("build", { schema: choice.json, json });
    await this.#write(path, choice, state, false);
  }

  /** The document JSON of a stored or open document. */
  async describe(path: string): Promise<JsonObject> {
    const doc = await this.#acquire(path, { create: false });
    try {
      return await this.#call("toJson", { path });
    } finally {
      this.#maybeUnload(doc);
    }
  }

  /** Saves every document, stops the room's engine, closes the log. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#offRemoved();
    const docs = await Promise.allSettled([...this.#docs.values()]);
    for (const r of docs) {
      if (r.status !== "fulfilled") continue;
      await this.#save(r.value);
      clearTimeout(r.value.saveTimer);
      r.value.unloaded = true;
    }
    this.#docs.clear();
    this.#loaded.clear();
    this.#engine.close();
    this.#log.close();
  }

  // ------------------------------------------------------------------ loading

  #acquire(path: string, options: DocumentOpenOptions): Promise<HostedDocument> {
    this.#checkOpen();
    let loading = this.#docs.get(path);
    if (!loading) {
      loading = this.#load(path, options);
      this.#docs.set(path, loading);
      loading.catch(() => {
        if (this.#docs.get(path) === loading) this.#docs.delete(path);
      });
    }
    return loading;
  }

  async #stored(path: string): Promise<boolean> {
    const info = await (await this.#files()).stat(path);
    if (info?.isFolder) {
      throw new RoomError(`${path} is a folder, not a document`, ErrorCode.INVALID_REQUEST);
    }
    return info !== undefined;
  }

  /** The stored file of a document; null when there is none. */
  async #readFile(path: string): Promise<DocumentFile | null> {
    if (!await this.#stored(path)) return null;
    let bytes: Uint8Array;
    try {
      bytes = await (await this.#files()).readFile(path);
    } catch (e) {
      if (!(e instanceof StorageError && e.code === ErrorCode.STORAGE_NOT_FOUND)) throw e;
      bytes = new Uint8Array(0);
    }
    try {
      return decodeDocumentFile(bytes);
    } catch (e) {
      throw new RoomError(
        `${path} is not a MeshAgent document: ${(e as Error).message}`,
        ErrorCode.INVALID_REQUEST,
      );
    }
  }

  async #load(path: string, options: DocumentOpenOptions): Promise<HostedDocument> {
    const file = await this.#readFile(path);
    const logged = this.#log.read(path);
    if (!file) {
      // A log without a file: the file was deleted through storage. The log is stale.
      this.#log.truncate(path, logged.lastSeq);
      if (!options.create) {
        throw new RoomError(`there is no document at ${path}`, ErrorCode.STORAGE_NOT_FOUND);
      }
      const choice = await this.#resolveSchema(
        path,
        null,
        options.schema ?? null,
        options.schemaPath ?? null,
      );
      const state = await this.#call("build", {
        schema: choice.json,
        json: options.initialJson ?? null,
      });
      await this.#write(path, choice, state, false);
      await this.#call("load", { path, schema: choice.json, state, replay: [] });
      return this.#loadedDocument(path, choice);
    }
    const choice = await this.#resolveSchema(
      path,
      file.schema ? { json: file.schema, path: file.schemaPath } : null,
      options.schema ?? null,
      options.schemaPath ?? null,
    );
    await this.#call("load", {
      path,
      schema: choice.json,
      state: file.state,
      replay: logged.updates,
    });
    const doc = this.#loadedDocument(path, choice);
    doc.loggedSeq = logged.lastSeq;
    if (logged.updates.length > 0 || !file.schema) this.#markDirty(doc); // compact soon
    return doc;
  }

  #loadedDocument(path: string, choice: SchemaChoice): HostedDocument {
    const doc = new HostedDocument(path, choice);
    if (this.#closed) {
      // The room closed while the document loaded: it is not kept.
      doc.unloaded = true;
      this.#call("unload", { path }).catch(() => {});
      throw new RoomError("the room is closing", ErrorCode.INVALID_STATE);
    }
    this.#loaded.add(doc);
    return doc;
  }

  /**
   * Loads every open document again from its file and the update log into a fresh engine (the
   * previous one was stopped at the time limit). A document that does not load is closed: its
   * subscribers are told.
   */
  async #reload(): Promise<void> {
    await Promise.all([...this.#loaded].map(async (doc) => {
      try {
        // A file written from the old engine's state goes first, with the log rows it covers.
        await doc.writing?.catch(() => {});
        if (doc.unloaded) return;
        const file = await this.#readFile(doc.path);
        if (!file) {
          throw new RoomError(
            `the document file ${doc.path} was removed`,
            ErrorCode.STORAGE_NOT_FOUND,
          );
        }
        const logged = this.#log.read(doc.path);
        await this.#call("load", {
          path: doc.path,
          schema: doc.schemaJson,
          state: file.state,
          replay: logged.updates,
        }, true);
        if (logged.lastSeq > doc.loggedSeq) doc.loggedSeq = logged.lastSeq;
      } catch (e) {
        if (doc.unloaded) return;
        const error = e instanceof RoomError
          ? e
          : new RoomError(`the document could not be loaded again: ${e}`, 1008);
        console.error(`room ${this.#room.name}: closing ${doc.path}: ${error.message}`);
        this.#drop(doc);
        for (const s of [...doc.subscribers]) s.fail(error);
      }
    }));
  }

  /** Forgets a document on this side (its engine side is gone or going). */
  #drop(doc: HostedDocument): void {
    doc.unloaded = true;
    clearTimeout(doc.saveTimer);
    doc.saveTimer = undefined;
    this.#loaded.delete(doc);
    const entry = this.#docs.get(doc.path);
    entry?.then((d) => {
      if (d === doc && this.#docs.get(doc.path) === entry) this.#docs.delete(doc.path);
    }, () => {});
  }

  async #resolveSchema(
    path: string,
    recorded: { json: JsonObject; path: string | null } | null,
    inline: unknown,
    schemaPath: string | null,
  ): Promise<SchemaChoice> {
    // §2.5: a recorded schema wins over one the opener sends (the document exists already).
    if (recorded) {
      const schema = parseSchema(recorded.json, `the schema recorded in ${path}`);
      return { json: schema.toJson(), path: recorded.path };
    }
    if (inline !== null && inline !== undefined) {
      const schema = parseSchema(inline, "the schema sent");
      return { json: schema.toJson(), path: null };
    }
    if (schemaPath !== null && schemaPath !== undefined) {
      return await this.#readSchema(schemaPath);
    }
    const name = schemaNameOf(path);
    if (name !== undefined) {
      const candidate = `${SCHEMAS_FOLDER}/${name}.json`;
      const info = await (await this.#files()).stat(candidate);
      if (info && !info.isFolder) return await this.#readSchema(candidate);
    }
    throw new RoomError(
      `no schema for ${path}: upload one to ${SCHEMAS_FOLDER}/${
        name ?? "<extension>"
      }.json, or pass a schema`,
      ErrorCode.INVALID_REQUEST,
    );
  }

  async #readSchema(schemaPath: string): Promise<SchemaChoice> {
    let bytes: Uint8Array;
    try {
      bytes = await (await this.#files()).readFile(schemaPath);
    } catch (e) {
      if (e instanceof StorageError && e.code === ErrorCode.STORAGE_NOT_FOUND) {
        throw new RoomError(`the schema file ${schemaPath} does not exist`, ErrorCode.NOT_FOUND);
      }
      throw e;
    }
    const schema = parseSchema(new TextDecoder().decode(bytes), schemaPath);
    return { json: schema.toJson(), path: schemaPath };
  }

  async #write(
    path: string,
    choice: SchemaChoice,
    state: Uint8Array,
    overwrite: boolean,
  ): Promise<void> {
    const store = await this.#files();
    try {
      await store.writeFile(path, encodeDocumentFile(choice.json, choice.path, state), {
        overwrite,
        mimeType: "application/vnd.meshagent.document",
      });
    } catch (e) {
      if (e instanceof StorageError && e.code === ErrorCode.STORAGE_ALREADY_EXISTS) {
        throw new RoomError(`the document ${path} exists already`, ErrorCode.ALREADY_EXISTS);
      }
      throw e;
    }
  }

  // ------------------------------------------------------------------ saving

  #markDirty(doc: HostedDocument): void {
    doc.dirty = true;
    if (doc.saveTimer === undefined && !this.#closed && !doc.unloaded) {
      doc.saveTimer = setTimeout(() => {
        doc.saveTimer = undefined;
        this.#save(doc).catch(() => {});
      }, SAVE_DELAY_MS);
    }
  }

  /** Writes the document file if it changed, then drops the log rows it covers. */
  #save(doc: HostedDocument): Promise<void> {
    const run = async (): Promise<void> => {
      if (!doc.dirty || doc.unloaded) return;
      doc.dirty = false;
      clearTimeout(doc.saveTimer);
      doc.saveTimer = undefined;
      // Every update logged so far is in the engine's state (it answered them before this).
      const covered = doc.loggedSeq;
      try {
        // [impl] A document whose file was deleted through storage is forgotten, not written
        // back: its subscribers are told (3001) and its log dropped. (The check narrows the race
        // with a delete to the moment between it and the write.)
        if (!(await (await this.#files()).stat(doc.path))) {
          const error = new RoomError(
            `the document file ${doc.path} was deleted`,
            ErrorCode.STORAGE_NOT_FOUND,
          );
          this.#log.truncate(doc.path, covered);
          this.#drop(doc);
          this.#call("unload", { path: doc.path }).catch(() => {});
          for (const s of [...doc.subscribers]) s.fail(error);
          return;
        }
        const state = await this.#call("compact", { path: doc.path });
        if (doc.unloaded) return; // deleted (or dropped) while the state was made: not written
        const writing = (async () => {
          await this.#write(
            doc.path,
            { json: doc.schemaJson, path: doc.schemaPath },
            state,
            true,
          );
          this.#log.truncate(doc.path, covered);
        })();
        doc.writing = writing;
        try {
          await writing;
        } finally {
          if (doc.writing === writing) doc.writing = undefined;
        }
      } catch (e) {
        if (doc.unloaded) return;
        console.error(`room ${this.#room.name}: saving the document ${doc.path} failed:`, e);
        doc.dirty = true;
        if (!this.#closed && doc.saveTimer === undefined) {
          doc.saveTimer = setTimeout(() => {
            doc.saveTimer = undefined;
            this.#save(doc).catch(() => {});
          }, SAVE_RETRY_MS);
        }
      }
    };
    const next = (doc.saving ?? Promise.resolve()).then(run);
    doc.saving = next;
    next.finally(() => {
      if (doc.saving === next) doc.saving = undefined;
    }).catch(() => {});
    return next;
  }

  #maybeUnload(doc: HostedDocument): void {
    if (doc.subscribers.size > 0 || doc.applying > 0 || doc.unloaded || this.#closed) return;
    this.#save(doc).finally(() => {
      if (
        doc.subscribers.size > 0 || doc.applying > 0 || doc.unloaded || this.#closed || doc.dirty
      ) return;
      const entry = this.#docs.get(doc.path);
      entry?.then((d) => {
        if (d !== doc || doc.subscribers.size > 0 || doc.applying > 0 || doc.unloaded) return;
        this.#docs.delete(doc.path);
        this.#loaded.delete(doc);
        clearTimeout(doc.saveTimer);
        doc.unloaded = true;
        this.#call("unload", { path: doc.path }).catch(() => {});
      });
    }).catch(() => {});
  }
}
