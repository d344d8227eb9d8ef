// Private: the open documents of one room for the sync toolkit (protocol-data §2): one
// authoritative Y.Doc per open path, loaded from room storage (plus the update log) on first
// use, checked update by update against its schema, relayed to every other subscriber, logged
// durably before the sender's chunk is answered, and compacted into the storage file on a short
// debounce, when the last subscriber leaves, and when the room ends.
import * as Y from "yjs";
import {
  BinaryContent,
  ErrorCode,
  type JsonObject,
  MeshDocument,
  MeshDocumentError,
  MeshSchema,
  MeshSchemaValidationError,
  RoomError,
} from "@meshagent/api";
import type { Room } from "./room.ts";
import type { FileStore } from "./file_store.ts";
import { StorageError } from "./file_store.ts";
import { decodeDocumentFile, type DocumentFile, encodeDocumentFile } from "./_document_file.ts";
import { SyncLog } from "./_sync_log.ts";
import { UpdateChecker } from "./_update_check.ts";

const ROOT_NAME = "xml";
/** [impl] How long after the first unsaved change the document file is rewritten. */
export const SAVE_DELAY_MS = 200;
/** [impl] Retry delay after a failed save (the log still holds every update). */
const SAVE_RETRY_MS = 2000;
/** The folder of stored MeshSchemas (§2.5). */
export const SCHEMAS_FOLDER = ".schemas";

/** Receives the updates other subscribers made. */
export interface DocumentSubscriber {
  /** A `{kind:"sync"}` chunk to forward (shared between subscribers: do not mutate). */
  deliver(chunk: BinaryContent): void;
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
  schema: MeshSchema;
  json: JsonObject;
  path: string | null;
}

/** One loaded document. */
export class HostedDocument {
  readonly path: string;
  readonly schema: MeshSchema;
  readonly schemaJson: JsonObject;
  readonly schemaPath: string | null;
  ydoc!: Y.Doc;
  checker!: UpdateChecker;
  /** The state of the last compaction, and the updates accepted since (to rebuild after a reject). */
  baseState: Uint8Array;
  accepted: Uint8Array[] = [];
  readonly subscribers = new Set<DocumentSubscriber>();
  readonly syncChunkHeaders: JsonObject;
  changed = false;
  dirty = false;
  saveTimer?: ReturnType<typeof setTimeout>;
  saving?: Promise<void>;
  /** The highest log sequence number known durable. */
  loggedSeq = 0;
  unloaded = false;

  constructor(path: string, choice: SchemaChoice, state: Uint8Array, replay: Uint8Array[]) {
    this.path = path;
    this.schema = choice.schema;
    this.schemaJson = choice.json;
    this.schemaPath = choice.path;
    this.syncChunkHeaders = { kind: "sync", path };
    this.baseState = state;
    this.accepted = replay;
    this.rebuild();
  }

  /** (Re)creates the Y.Doc from the last good state. */
  rebuild(): void {
    this.ydoc?.destroy();
    const ydoc = new Y.Doc();
    ydoc.get(ROOT_NAME, Y.XmlElement);
    if (this.baseState.length) Y.applyUpdate(ydoc, this.baseState);
    for (const u of this.accepted) Y.applyUpdate(ydoc, u);
    ydoc.on("update", () => this.changed = true);
    this.ydoc = ydoc;
    this.checker = new UpdateChecker(this.schema, ydoc);
  }

  /** The document as JSON (§2.9). */
  toJson(): JsonObject {
    const doc = MeshDocument.fromUpdate(this.schema, Y.encodeStateAsUpdate(this.ydoc));
    try {
      return doc.toJson();
    } finally {
      doc.dispose();
    }
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

function parseSchema(json: unknown, where: string): SchemaChoice["schema"] {
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
  readonly #room: Room;
  readonly #log: SyncLog;
  readonly #docs = new Map<string, Promise<HostedDocument>>();
  #closed = false;

  constructor(room: Room) {
    this.#room = room;
    this.#log = new SyncLog(room.dataDir);
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
    let state: Uint8Array;
    if (vector) {
      try {
        state = Y.encodeStateAsUpdate(doc.ydoc, vector);
      } catch (e) {
        this.#maybeUnload(doc);
        throw new RoomError(`"vector" is not a Yjs state vector: ${e}`, ErrorCode.INVALID_REQUEST);
      }
    } else if (doc.accepted.length === 0 && doc.baseState.length > 0) {
      state = doc.baseState; // nothing changed since the load or the last save
    } else {
      state = Y.encodeStateAsUpdate(doc.ydoc);
    }
    doc.subscribers.add(subscriber);
    return { doc, state };
  }

  /** Unsubscribes; the last subscriber out saves and unloads the document. */
  leave(doc: HostedDocument, subscriber: DocumentSubscriber): void {
    if (!doc.subscribers.delete(subscriber)) return;
    this.#maybeUnload(doc);
  }

  /**
   * Checks and applies a remote update, relays it to the other subscribers and logs it.
   *
   * @param wire The update as it came on the wire (base64 text bytes), relayed as is.
   * @returns null when the update changed nothing; otherwise a promise that resolves once the
   *   update is durable.
   * @throws {RoomError} When the update is not a Yjs update (1002), breaks the schema (1002) or
   *   depends on updates the document lacks (1006). The document is then as before.
   */
  apply(
    doc: HostedDocument,
    update: Uint8Array,
    wire: Uint8Array,
    from: DocumentSubscriber,
  ): Promise<void> | null {
    if (update.length === 0) return null;
    doc.changed = false;
    try {
      Y.decodeUpdate(update);
    } catch (e) {
      throw new MeshDocumentError(
        `not a Yjs v1 update (${update.length} bytes): ${(e as Error).message}`,
      );
    }
    let error: RoomError | null = null;
    try {
      Y.applyUpdate(doc.ydoc, update);
      error = doc.checker.takeError();
      const store = doc.ydoc.store;
      if (!error && (store.pendingStructs !== null || store.pendingDs !== null)) {
        error = new MeshDocumentError(
          "the update depends on changes this document does not have; reopen the document",
          ErrorCode.INVALID_STATE,
        );
      }
    } catch (e) {
      error = e instanceof RoomError
        ? e
        : new MeshDocumentError(`the update could not be applied: ${(e as Error).message}`);
    }
    if (error) {
      doc.rebuild();
      if (error instanceof MeshSchemaValidationError) {
        throw new RoomError(
          `the update breaks the document's schema: ${error.message}`,
          error.code,
        );
      }
      throw error;
    }
    if (!doc.changed) return null;
    doc.accepted.push(update);
    const chunk = new BinaryContent(wire, doc.syncChunkHeaders);
    for (const s of doc.subscribers) if (s !== from) s.deliver(chunk);
    this.#markDirty(doc);
    return this.#log.append(doc.path, update).then((seq) => {
      if (seq > doc.loggedSeq) doc.loggedSeq = seq;
    });
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
    const state = buildState(choice.schema, json);
    await this.#write(path, choice, state, false);
  }

  /** The document JSON of a stored or open document. */
  async describe(path: string): Promise<JsonObject> {
    const doc = await this.#acquire(path, { create: false });
    try {
      return doc.toJson();
    } finally {
      this.#maybeUnload(doc);
    }
  }

  /** Saves every document, closes the log. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const docs = await Promise.allSettled([...this.#docs.values()]);
    for (const r of docs) {
      if (r.status !== "fulfilled") continue;
      await this.#save(r.value);
      clearTimeout(r.value.saveTimer);
      r.value.ydoc.destroy();
      r.value.unloaded = true;
    }
    this.#docs.clear();
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

  async #load(path: string, options: DocumentOpenOptions): Promise<HostedDocument> {
    const store = await this.#files();
    let file: DocumentFile | null = null;
    if (await this.#stored(path)) {
      let bytes: Uint8Array;
      try {
        bytes = await store.readFile(path);
      } catch (e) {
        if (!(e instanceof StorageError && e.code === ErrorCode.STORAGE_NOT_FOUND)) throw e;
        bytes = new Uint8Array(0);
      }
      try {
        file = decodeDocumentFile(bytes);
      } catch (e) {
        throw new RoomError(
          `${path} is not a MeshAgent document: ${(e as Error).message}`,
          ErrorCode.INVALID_REQUEST,
        );
      }
    }
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
      const state = buildState(choice.schema, options.initialJson ?? null);
      await this.#write(path, choice, state, false);
      return new HostedDocument(path, choice, state, []);
    }
    const choice = await this.#resolveSchema(
      path,
      file.schema ? { json: file.schema, path: file.schemaPath } : null,
      options.schema ?? null,
      options.schemaPath ?? null,
    );
    let doc: HostedDocument;
    try {
      doc = new HostedDocument(path, choice, file.state, logged.updates);
    } catch (e) {
      throw new RoomError(
        `${path} does not hold a Yjs document: ${(e as Error).message}`,
        ErrorCode.INVALID_REQUEST,
      );
    }
    doc.loggedSeq = logged.lastSeq;
    if (logged.updates.length > 0 || !file.schema) this.#markDirty(doc); // compact soon
    return doc;
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
      return { schema, json: schema.toJson(), path: recorded.path };
    }
    if (inline !== null && inline !== undefined) {
      const schema = parseSchema(inline, "the schema sent");
      return { schema, json: schema.toJson(), path: null };
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
    return { schema, json: schema.toJson(), path: schemaPath };
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
    if (doc.saveTimer === undefined && !this.#closed) {
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
      const state = Y.encodeStateAsUpdate(doc.ydoc);
      doc.baseState = state;
      doc.accepted = [];
      const covered = doc.loggedSeq;
      try {
        await this.#write(
          doc.path,
          { schema: doc.schema, json: doc.schemaJson, path: doc.schemaPath },
          state,
          true,
        );
        this.#log.truncate(doc.path, covered);
      } catch (e) {
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
    if (doc.subscribers.size > 0 || doc.unloaded || this.#closed) return;
    this.#save(doc).finally(() => {
      if (doc.subscribers.size > 0 || doc.unloaded || this.#closed || doc.dirty) return;
      const entry = this.#docs.get(doc.path);
      entry?.then((d) => {
        if (d !== doc || doc.subscribers.size > 0 || doc.unloaded) return;
        this.#docs.delete(doc.path);
        clearTimeout(doc.saveTimer);
        doc.unloaded = true;
        doc.ydoc.destroy();
      });
    }).catch(() => {});
  }
}

/** Builds the Yjs state of a new document from document JSON (or an empty root). */
function buildState(schema: MeshSchema, json: unknown): Uint8Array {
  let doc: MeshDocument;
  try {
    doc = json === null || json === undefined
      ? new MeshDocument(schema)
      : MeshDocument.fromJson(schema, json);
  } catch (e) {
    throw new RoomError(
      `the document JSON does not fit the schema: ${(e as Error).message}`,
      ErrorCode.INVALID_REQUEST,
    );
  }
  try {
    return doc.encodeStateAsUpdate();
  } finally {
    doc.dispose();
  }
}
