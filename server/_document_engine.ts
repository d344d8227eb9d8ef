// Private: the Yjs side of a room's open documents (protocol-data §2), kept apart from the event
// loop. A DocumentEngine holds, per path, the authoritative Y.Doc, its MeshSchema and
// UpdateChecker, the state of the last compaction and the updates accepted since. Every piece of
// Yjs work the sync toolkit does — decoding a sync payload, applying and checking an update,
// rebuilding after a refused one, encoding states, compaction, document JSON, building a new
// document — is one call here.
//
// It runs in a Worker of the room's own (_document_engine_entry.ts, driven by
// _document_engine_runner.ts), or inline on the caller's thread for benchmarks and embedders.
// Its inputs and outputs are plain data (bytes, JSON), so a call crosses postMessage as is.
// Buffers it returns are its caller's to keep (never one it still holds), so they can be
// transferred.
import * as Y from "yjs";
import {
  ErrorCode,
  fromWireUpdate,
  type JsonObject,
  MeshDocument,
  MeshDocumentError,
  MeshSchema,
  MeshSchemaValidationError,
  RoomError,
  toWireUpdate,
} from "@meshagent/api";
import { UpdateChecker } from "./_update_check.ts";

const ROOT_NAME = "xml";

/** The result of applying a sync payload. */
export type ApplyResult =
  | { changed: false }
  | {
    changed: true;
    /** The decoded Yjs update (for the update log). */
    update: Uint8Array;
    /** The payload re-encoded as canonical base64 when the one received was not; else null. */
    wire: Uint8Array | null;
  };

/** Every engine call: its arguments and its result. */
export interface EngineCalls {
  /** Loads a document from its compacted state and the logged updates after it. */
  load: {
    args: { path: string; schema: JsonObject; state: Uint8Array; replay: Uint8Array[] };
    result: null;
  };
  /** Decodes, checks and applies a sync payload (base64 text of a Yjs update). */
  apply: { args: { path: string; wire: Uint8Array }; result: ApplyResult };
  /** The whole state, or what a replica with `vector` lacks. */
  encode: { args: { path: string; vector: Uint8Array | null }; result: Uint8Array };
  /** Compacts: the current state becomes the base, the accepted updates are dropped. */
  compact: { args: { path: string }; result: Uint8Array };
  /** The document JSON (§2.9). */
  toJson: { args: { path: string }; result: JsonObject };
  /** The Yjs state of a new document from document JSON (or an empty root). */
  build: { args: { schema: JsonObject; json: unknown }; result: Uint8Array };
  /** Forgets a document (nothing happens when it is not loaded). */
  unload: { args: { path: string }; result: null };
  /** Forgets every document (the worker is handed to another room). */
  clear: { args: Record<string, never>; result: null };
}

/** The name of an engine call. */
export type EngineOp = keyof EngineCalls;

/** An error as it crosses from the engine: a message and a wire error code. */
export interface EngineError {
  message: string;
  code: number;
}

class LoadedDocument {
  readonly schema: MeshSchema;
  ydoc!: Y.Doc;
  checker!: UpdateChecker;
  base: Uint8Array;
  accepted: Uint8Array[];
  changed = false;

  constructor(schema: MeshSchema, base: Uint8Array, accepted: Uint8Array[]) {
    this.schema = schema;
    this.base = base;
    this.accepted = accepted;
    this.rebuild();
  }

  /** (Re)creates the Y.Doc from the last good state. */
  rebuild(): void {
    this.ydoc?.destroy();
    const ydoc = new Y.Doc();
    ydoc.get(ROOT_NAME, Y.XmlElement);
    if (this.base.length) Y.applyUpdate(ydoc, this.base);
    for (const u of this.accepted) Y.applyUpdate(ydoc, u);
    // What Yjs checks before it emits "update" (whose listeners make it encode the whole
    // transaction as an update again: a second pass over a huge one).
    ydoc.on("afterTransaction", (tr: Y.Transaction) => {
      if (this.changed) return;
      if (tr.deleteSet.clients.size > 0) this.changed = true;
      else {
        for (const [client, clock] of tr.afterState) {
          if (tr.beforeState.get(client) !== clock) {
            this.changed = true;
            break;
          }
        }
      }
    });
    this.ydoc = ydoc;
    this.checker = new UpdateChecker(this.schema, ydoc);
  }
}

function schemaOf(json: JsonObject): MeshSchema {
  try {
    return MeshSchema.fromJson(json);
  } catch (e) {
    throw new RoomError(
      `not a valid MeshSchema: ${(e as Error).message}`,
      ErrorCode.INVALID_REQUEST,
    );
  }
}

/** The open documents of one room, as Yjs state. Every method is synchronous CPU work. */
export class DocumentEngine {
  readonly #docs = new Map<string, LoadedDocument>();

  #doc(path: string): LoadedDocument {
    const doc = this.#docs.get(path);
    if (!doc) {
      throw new RoomError(
        `the document ${path} is not open any more; reopen it`,
        ErrorCode.INVALID_STATE,
      );
    }
    return doc;
  }

  /** Runs one call by name (what the worker entry does with each message). */
  run<K extends EngineOp>(op: K, args: EngineCalls[K]["args"]): EngineCalls[K]["result"] {
    if (!Object.hasOwn(OPS, op)) {
      throw new RoomError(`unknown document engine call ${op}`, ErrorCode.OPERATION_FAILED);
    }
    const method = OPS[op] as (
      engine: DocumentEngine,
      args: EngineCalls[K]["args"],
    ) => EngineCalls[K]["result"];
    return method(this, args);
  }

  load(args: EngineCalls["load"]["args"]): null {
    const schema = schemaOf(args.schema);
    let doc: LoadedDocument;
    try {
      doc = new LoadedDocument(schema, args.state, args.replay);
    } catch (e) {
      throw new RoomError(
        `${args.path} does not hold a Yjs document: ${(e as Error).message}`,
        ErrorCode.INVALID_REQUEST,
      );
    }
    this.#docs.get(args.path)?.ydoc.destroy();
    this.#docs.set(args.path, doc);
    return null;
  }

  apply(args: EngineCalls["apply"]["args"]): ApplyResult {
    const doc = this.#doc(args.path);
    const update = fromWireUpdate(args.wire);
    if (update.length === 0) return { changed: false };
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
    if (!doc.changed) return { changed: false };
    doc.accepted.push(update);
    const canonical = args.wire.length === 4 * Math.ceil(update.length / 3);
    // The engine keeps `update` (to rebuild after a refused one): the caller gets a copy.
    return { changed: true, update: update.slice(), wire: canonical ? null : toWireUpdate(update) };
  }

  encode(args: EngineCalls["encode"]["args"]): Uint8Array {
    const doc = this.#doc(args.path);
    if (args.vector) {
      try {
        return Y.encodeStateAsUpdate(doc.ydoc, args.vector);
      } catch (e) {
        throw new RoomError(`"vector" is not a Yjs state vector: ${e}`, ErrorCode.INVALID_REQUEST);
      }
    }
    // Nothing changed since the load or the last compaction: the base is the state.
    if (doc.accepted.length === 0 && doc.base.length > 0) return doc.base.slice();
    return Y.encodeStateAsUpdate(doc.ydoc);
  }

  compact(args: EngineCalls["compact"]["args"]): Uint8Array {
    const doc = this.#doc(args.path);
    const state = Y.encodeStateAsUpdate(doc.ydoc);
    doc.base = state;
    doc.accepted = [];
    return state.slice();
  }

  toJson(args: EngineCalls["toJson"]["args"]): JsonObject {
    const doc = this.#doc(args.path);
    const mesh = MeshDocument.fromUpdate(doc.schema, Y.encodeStateAsUpdate(doc.ydoc));
    try {
      return mesh.toJson();
    } finally {
      mesh.dispose();
    }
  }

  build(args: EngineCalls["build"]["args"]): Uint8Array {
    const schema = schemaOf(args.schema);
    let doc: MeshDocument;
    try {
      doc = args.json === null || args.json === undefined
        ? new MeshDocument(schema)
        : MeshDocument.fromJson(schema, args.json);
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

  unload(args: EngineCalls["unload"]["args"]): null {
    this.#docs.get(args.path)?.ydoc.destroy();
    this.#docs.delete(args.path);
    return null;
  }

  clear(): null {
    for (const doc of this.#docs.values()) doc.ydoc.destroy();
    this.#docs.clear();
    return null;
  }
}

/** The calls by name (a table, so that a message names a method and nothing else). */
const OPS: {
  [K in EngineOp]: (
    engine: DocumentEngine,
    args: EngineCalls[K]["args"],
  ) => EngineCalls[K]["result"];
} = {
  load: (e, a) => e.load(a),
  apply: (e, a) => e.apply(a),
  encode: (e, a) => e.encode(a),
  compact: (e, a) => e.compact(a),
  toJson: (e, a) => e.toJson(a),
  build: (e, a) => e.build(a),
  unload: (e, a) => e.unload(a),
  clear: (e) => e.clear(),
};

/** An error thrown by an engine call, as it crosses to the caller. */
export function engineErrorOf(error: unknown): EngineError {
  if (error instanceof RoomError) {
    return { message: error.message, code: error.code ?? ErrorCode.OPERATION_FAILED };
  }
  return {
    message: `the document engine failed: ${error instanceof Error ? error.message : error}`,
    code: ErrorCode.OPERATION_FAILED,
  };
}

const none = (): ArrayBuffer[] => [];
const bytes = (result: Uint8Array): ArrayBuffer[] => [result.buffer as ArrayBuffer];

/** Per call, the buffers of its result the caller takes over (transferred, not copied). */
const TRANSFERABLE: { [K in EngineOp]: (result: EngineCalls[K]["result"]) => ArrayBuffer[] } = {
  load: none,
  apply: (r) =>
    r.changed
      ? [r.update.buffer as ArrayBuffer, ...(r.wire ? [r.wire.buffer as ArrayBuffer] : [])]
      : [],
  encode: bytes,
  compact: bytes,
  toJson: none,
  build: bytes,
  unload: none,
  clear: none,
};

/** The buffers of a call's result the caller may take over (transfer) instead of copying. */
export function transferablesOf<K extends EngineOp>(
  op: K,
  result: EngineCalls[K]["result"],
): ArrayBuffer[] {
  return (TRANSFERABLE[op] as (result: EngineCalls[K]["result"]) => ArrayBuffer[])(result);
}
