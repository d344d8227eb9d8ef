import * as Y from "yjs";
import {
  BinaryContent,
  type Content,
  ControlContent,
  ErrorContent,
  JsonContent,
} from "./content.ts";
import { ConnectionClosedError, ErrorCode, RequestTimeoutError, RoomError } from "./errors.ts";
import { EventEmitter } from "./event_emitter.ts";
import type { JsonObject } from "./packing.ts";
import { MeshSchema } from "./mesh_schema.ts";
import { MeshDocument } from "./mesh_document.ts";
import { fromWireUpdate, toWireUpdate } from "./wire_update.ts";
import type { ToolCallStream } from "./tool_call_streams.ts";
import type { RoomRequester } from "./room_requester.ts";

/** [impl] Default wait (ms) for the document state after `sync.open`, and for `close`. */
const DEFAULT_TIMEOUT_MS = 30_000;
const ascii = new TextDecoder("ascii");
/** [impl] Up to this many pending updates are merged; longer bursts are sent as a state diff. */
const MERGE_LIMIT = 64;

/** Options of {@linkcode SyncClient.open}. */
export interface SyncOpenOptions {
  /** Create the document when it does not exist (default true). */
  create?: boolean;
  /**
   * The schema of a new document. Without it the server resolves one (the schema recorded in the
   * document, else `.schemas/<extension>.json` in room storage).
   */
  schema?: MeshSchema;
  /** Document JSON (`{"<root>": {...}}`) for a new document. */
  initialJson?: JsonObject;
  /** How long (ms) to wait for the document state (default 30000). */
  timeout?: number;
}

/** Options of {@linkcode SyncClient.create}. */
export interface SyncCreateOptions {
  /** The document JSON (default: an empty root). */
  json?: JsonObject;
  /** The schema (default: resolved by the server from the path's extension). */
  schema?: MeshSchema;
  /** A storage path of a schema JSON file (e.g. `.schemas/page.json`). */
  schemaPath?: string;
}

/** Emitted when the server ended a document's stream with an error (e.g. a refused update). */
export interface SyncErrorEvent {
  /** The document path. */
  path: string;
  /** What the server said. */
  error: RoomError;
}

/** The events of a {@linkcode SyncClient}. */
export interface SyncClientEvents {
  /** A document stream failed; the document stays readable but is no longer synchronized. */
  error: SyncErrorEvent;
  /** A document was reopened after a reconnect. */
  reopened: { path: string };
}

/**
 * Normalises a document path as the official clients do: strips leading `./` and `/`.
 *
 * @param path The path.
 * @returns The normalised path.
 */
function normalizeSyncPath(path: string): string {
  let p = path;
  while (p.startsWith("./")) p = p.slice(2);
  while (p.startsWith("/")) p = p.slice(1);
  return p === "." ? "" : p;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RequestTimeoutError(what, ms)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** One open document: its MeshDocument, its stream, and the local updates not yet answered. */
class OpenDocument {
  readonly path: string;
  readonly create: boolean;
  readonly schemaJson: JsonObject | null;
  doc!: MeshDocument;
  refs = 1;
  stream?: ToolCallStream;
  /** The consumer of the current stream; resolves when that stream ends. */
  consumed?: Promise<void>;
  /** Local updates not yet sent. */
  pending: Uint8Array[] = [];
  /** The updates of the chunk sent and not yet answered. */
  inFlight: Uint8Array[] = [];
  /** Local updates made, and local updates the server answered (so durable there). */
  made = 0;
  acked = 0;
  inFlightCount = 0;
  /** The state vector when the last chunk was built (its diff base for long bursts). */
  sentVector?: Uint8Array;
  inFlightVector?: Uint8Array;
  /** Bumped for every stream, so the input of a dropped stream stops touching the counters. */
  generation = 0;
  failure?: RoomError;
  closing = false;
  closed = false;
  offLocal?: () => void;
  #wake?: () => void;
  #flushWaiters: { target: number; resolve(): void; reject(e: unknown): void }[] = [];

  constructor(path: string, create: boolean, schemaJson: JsonObject | null) {
    this.path = path;
    this.create = create;
    this.schemaJson = schemaJson;
  }

  wake(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  local(update: Uint8Array): void {
    this.made++;
    this.pending.push(update);
    this.wake();
  }

  /** The input of one `sync.open` call: the start chunk, then merged local updates. */
  async *input(start: Content): AsyncGenerator<Content> {
    const generation = ++this.generation;
    yield start;
    while (true) {
      // A newer stream took over (reconnect): this input is abandoned.
      if (generation !== this.generation) return;
      // Resumed: the pump got the answer to the previous chunk.
      this.#answered();
      if (this.failure) return;
      if (this.pending.length === 0) {
        if (this.closing) return;
        await new Promise<void>((resolve) => this.#wake = resolve);
        continue;
      }
      const updates = this.pending;
      this.pending = [];
      const before = this.sentVector;
      this.sentVector = this.doc.encodeStateVector();
      // Y.mergeUpdates grows quadratically with the count (10,000 updates: 1.8 s); a long burst is
      // cheaper as the diff since the last send (which may repeat remote changes: harmless).
      const merged = updates.length === 1
        ? updates[0]
        : updates.length <= MERGE_LIMIT || !before
        ? Y.mergeUpdates(updates)
        : this.doc.encodeStateAsUpdate(before);
      this.inFlight = [merged];
      this.inFlightVector = before;
      this.inFlightCount = updates.length;
      yield new BinaryContent(toWireUpdate(merged), { kind: "sync" });
    }
  }

  #answered(): void {
    if (this.inFlightCount === 0) return;
    this.acked += this.inFlightCount;
    this.inFlight = [];
    this.inFlightCount = 0;
    this.#flushWaiters = this.#flushWaiters.filter((w) => {
      if (w.target > this.acked) return true;
      w.resolve();
      return false;
    });
  }

  /** Puts the updates of an unanswered chunk back in front (the connection dropped). */
  requeue(): void {
    this.generation++;
    if (this.inFlight.length) {
      this.pending = [...this.inFlight, ...this.pending];
      this.sentVector = this.inFlightVector;
    }
    this.inFlight = [];
    this.inFlightCount = 0;
  }

  waitFlushed(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.acked >= this.made) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#flushWaiters.push({ target: this.made, resolve, reject });
    });
  }

  fail(error: RoomError): void {
    this.failure ??= error;
    for (const w of this.#flushWaiters.splice(0)) w.reject(error);
    this.wake();
  }
}

/**
 * Synchronized MeshDocuments of a room (built-in toolkit `sync`, protocol-data §2): open a
 * document to get a live {@linkcode MeshDocument}: local edits are sent to the room, and the
 * edits of every other participant are applied as they come.
 *
 * Local updates are merged while the previous one is in flight, so a burst of edits costs one
 * round trip. The room answers an update only once it is durable: {@linkcode SyncClient.flush}
 * waits for that. After a reconnect every open document is reopened with its state vector
 * (only the missing changes come back) and unanswered local updates are sent again.
 *
 * @example Opening a document (needs a running room, so shown without running it)
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RoomClient } from "@meshagent/api";
 * async function addParagraph(room: RoomClient) {
 *   const doc = await room.sync.open("notes/today.page");
 *   doc.root.createChildElement("para", { style: "body" });
 *   await room.sync.flush("notes/today.page"); // durable in the room
 *   await room.sync.close("notes/today.page");
 * }
 * assert(typeof addParagraph === "function");
 * ```
 */
export class SyncClient {
  /** Errors of document streams and reopen notices. */
  readonly events: EventEmitter<SyncClientEvents> = new EventEmitter();
  readonly #room: RoomRequester;
  readonly #docs = new Map<string, OpenDocument>();
  readonly #opening = new Map<string, Promise<OpenDocument>>();

  /**
   * Creates the sub-client; a {@linkcode RoomClient} makes one for itself.
   *
   * @param room The room client.
   */
  constructor(room: RoomRequester) {
    this.#room = room;
    room.on("reconnected", () => this.#reopenAll());
    room.on("closed", () => {
      for (const d of this.#docs.values()) {
        d.closed = true;
        d.fail(new ConnectionClosedError(`the room closed; ${d.path} is no longer synchronized`));
        d.offLocal?.();
      }
      this.#docs.clear();
    });
  }

  /** The paths of the open documents. */
  get openPaths(): string[] {
    return [...this.#docs.keys()];
  }

  /**
   * Opens a document (creating it unless `create: false`) and keeps it synchronized until
   * {@linkcode SyncClient.close}. Opening an open path again returns the same document (counted:
   * close it as many times).
   *
   * @param path The document path, e.g. `notes/today.page`.
   * @param options Creation, schema, initial JSON and timeout.
   * @returns The live document, with the room's state applied.
   * @throws {RoomError} 3001 when it does not exist and `create` is false, 1001 without the
   *   grant, 1002 when no schema resolves.
   */
  async open(path: string, options: SyncOpenOptions = {}): Promise<MeshDocument> {
    const p = normalizeSyncPath(path);
    const pending = this.#opening.get(p);
    if (pending) await pending.catch(() => {});
    const open = this.#docs.get(p);
    if (open) {
      open.refs++;
      return open.doc;
    }
    const entry = new OpenDocument(p, options.create ?? true, options.schema?.toJson() ?? null);
    const opening = (async () => {
      await this.#connect(entry, null, options.initialJson ?? null, options.timeout);
      this.#docs.set(p, entry);
      return entry;
    })();
    this.#opening.set(p, opening);
    try {
      return (await opening).doc;
    } finally {
      this.#opening.delete(p);
    }
  }

  /**
   * Waits until every local edit of an open document made so far is durable in the room.
   *
   * @param path The document path.
   * @param timeout Give up after this many ms (default 30000).
   * @throws {RoomError} When the room refused an update (the stream error), or 4001 when the
   *   document is not open.
   */
  async flush(path: string, timeout: number = DEFAULT_TIMEOUT_MS): Promise<void> {
    const entry = this.#entry(path);
    await withTimeout(entry.waitFlushed(), timeout, `sync flush of ${entry.path}`);
  }

  /**
   * Closes a document (once per open). The last close sends the pending edits, ends the stream,
   * and waits for the room to end it too.
   *
   * @param path The document path.
   * @param timeout Give up waiting after this many ms (default 30000).
   * @throws {RoomError} 4001 when the document is not open.
   */
  async close(path: string, timeout: number = DEFAULT_TIMEOUT_MS): Promise<void> {
    const entry = this.#entry(path);
    if (--entry.refs > 0) return;
    this.#docs.delete(entry.path);
    entry.offLocal?.();
    entry.closing = true;
    entry.wake();
    try {
      if (entry.consumed) await withTimeout(entry.consumed, timeout, `sync close of ${entry.path}`);
    } finally {
      entry.closed = true;
      entry.stream?.close();
    }
  }

  /**
   * Creates a document without opening it.
   *
   * @param path The document path.
   * @param options JSON, schema or schema path.
   * @throws {RoomError} 1004 when it exists.
   */
  async create(path: string, options: SyncCreateOptions = {}): Promise<void> {
    await this.#room.invoke({
      toolkit: "sync",
      tool: "create",
      input: {
        path: normalizeSyncPath(path),
        json: options.json ?? null,
        schema: options.schema?.toJson() ?? null,
        schema_path: options.schemaPath ?? null,
      },
    });
  }

  /**
   * Reads a document's JSON (§2.9) without opening it.
   *
   * @param path The document path.
   * @returns `{"<root>": {...}}`.
   * @throws {RoomError} 3001 when there is no document.
   */
  async describe(path: string): Promise<JsonObject> {
    const result = await this.#room.invoke({
      toolkit: "sync",
      tool: "describe",
      input: { path: normalizeSyncPath(path), schema_path: null },
    });
    if (!(result instanceof JsonContent)) {
      throw new RoomError(
        `unexpected return type from sync.describe: ${result.type}`,
        ErrorCode.UNEXPECTED_RESPONSE_TYPE,
      );
    }
    return result.json as JsonObject;
  }

  #entry(path: string): OpenDocument {
    const entry = this.#docs.get(normalizeSyncPath(path));
    if (!entry) {
      throw new RoomError(`the document ${path} is not open`, ErrorCode.SYNC_NOT_CONNECTED);
    }
    return entry;
  }

  /** Opens the stream of a document and applies its first (state) chunk. */
  async #connect(
    entry: OpenDocument,
    vector: Uint8Array | null,
    initialJson: JsonObject | null,
    timeout: number = DEFAULT_TIMEOUT_MS,
  ): Promise<void> {
    const start = new BinaryContent(new Uint8Array(0), {
      kind: "start",
      path: entry.path,
      create: entry.create,
      vector: vector ? ascii.decode(toWireUpdate(vector)) : null,
      schema: entry.schemaJson,
      schema_path: null,
      initial_json: initialJson,
    });
    const stream = await this.#room.invokeStream({
      toolkit: "sync",
      tool: "open",
      input: entry.input(start),
      timeout,
    });
    const iterator = stream[Symbol.asyncIterator]();
    let first: IteratorResult<Content>;
    try {
      first = await withTimeout(iterator.next(), timeout, `sync.open of ${entry.path}`);
    } catch (e) {
      stream.close();
      throw e;
    }
    try {
      const chunk = first.done ? undefined : first.value;
      if (chunk instanceof ErrorContent) throw new RoomError(chunk.text, chunk.code);
      if (
        !(chunk instanceof BinaryContent) || chunk.headers.kind !== "state" ||
        typeof chunk.headers.path !== "string"
      ) {
        throw new RoomError(
          "unexpected return type from sync.open: the first chunk must be the document state",
          ErrorCode.UNEXPECTED_RESPONSE_TYPE,
        );
      }
      if (normalizeSyncPath(chunk.headers.path) !== entry.path) {
        throw new RoomError("sync.open stream returned a mismatched path", 1100);
      }
      const update = fromWireUpdate(chunk.data);
      if (!entry.doc) {
        entry.doc = new MeshDocument(MeshSchema.fromJson(chunk.headers.schema));
        entry.doc.applyUpdate(update);
        entry.sentVector = entry.doc.encodeStateVector();
        entry.offLocal = entry.doc.onLocalUpdate((u) => entry.local(u));
      } else {
        entry.doc.applyUpdate(update);
      }
    } catch (e) {
      stream.close();
      throw e;
    }
    entry.stream = stream;
    entry.consumed = this.#consume(entry, stream, iterator);
  }

  async #consume(
    entry: OpenDocument,
    stream: ToolCallStream,
    iterator: AsyncIterator<Content>,
  ): Promise<void> {
    try {
      while (true) {
        const next = await iterator.next();
        if (next.done) return;
        const chunk = next.value;
        if (chunk instanceof ErrorContent) {
          throw new RoomError(chunk.text, chunk.code ?? ErrorCode.OPERATION_FAILED);
        }
        if (chunk instanceof ControlContent) continue;
        if (!(chunk instanceof BinaryContent) || chunk.headers.kind !== "sync") {
          throw new RoomError("unexpected return type from sync.open", 1100);
        }
        entry.doc.applyUpdate(fromWireUpdate(chunk.data));
      }
    } catch (e) {
      if (e instanceof ConnectionClosedError) {
        entry.requeue(); // reopened after the reconnect
        return;
      }
      const error = e instanceof RoomError ? e : new RoomError(String(e));
      entry.fail(error);
      if (!entry.closed) this.events.emit("error", { path: entry.path, error });
    } finally {
      stream.close();
      if (entry.stream === stream) entry.stream = undefined;
    }
  }

  async #reopenAll(): Promise<void> {
    for (const entry of [...this.#docs.values()]) {
      if (entry.failure || entry.closing) continue;
      try {
        await entry.consumed;
        entry.requeue();
        await this.#connect(entry, entry.doc.encodeStateVector(), null);
        this.events.emit("reopened", { path: entry.path });
      } catch (e) {
        const error = e instanceof RoomError ? e : new RoomError(String(e));
        entry.fail(error);
        this.events.emit("error", { path: entry.path, error });
      }
    }
  }
}
