/**
 * The built-in `sync` toolkit (protocol-data §2): synchronized MeshDocuments over Yjs.
 *
 * @module
 */
import {
  BinaryContent,
  type Content,
  ControlContent,
  EmptyContent,
  ErrorCode,
  ErrorContent,
  fromWireUpdate,
  JsonContent,
  type JsonObject,
  RoomError,
  type SyncGrant,
  toWireUpdate,
} from "@meshagent/api";
import type { ToolkitRoom } from "./toolkit_room.ts";
import type { RoomToolkit, ToolContext, ToolResult } from "./room_toolkit.ts";
import { normalizeStoragePath, StoragePathError } from "./storage_path.ts";
import { DocumentHost, type DocumentSubscriber, type HostedDocument } from "./_document_host.ts";
import type { SyncToolkitOptions } from "./sync_toolkit_options.ts";

/** [impl] How long `sync.open` waits for the start chunk after the invoke. */
export const SYNC_START_TIMEOUT_MS = 30_000;

const EMPTY = new EmptyContent();

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function args(ctx: ToolContext): JsonObject {
  const input = ctx.input;
  if (input instanceof JsonContent && isObject(input.json)) return input.json as JsonObject;
  throw new RoomError(`sync.${ctx.tool} takes a json object input`, ErrorCode.INVALID_REQUEST);
}

/** Normalises a document path (§0.5); the root and non-strings are refused with 3004. */
function documentPath(value: unknown, tool: string): string {
  if (typeof value !== "string") {
    throw new RoomError(`sync.${tool} needs a string path`, ErrorCode.INVALID_REQUEST);
  }
  const path = normalizeStoragePath(value);
  if (path === "") {
    throw new StoragePathError(
      `sync.${tool}: the path names the root folder, not a document`,
      value,
    );
  }
  return path;
}

function optionalString(input: JsonObject, key: string, tool: string): string | null {
  const value = input[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") {
    throw new RoomError(
      `sync.${tool}: "${key}" must be a string or null`,
      ErrorCode.INVALID_REQUEST,
    );
  }
  return value;
}

function grantOf(ctx: ToolContext): SyncGrant {
  const grant = ctx.scope.sync;
  if (!grant) {
    throw new RoomError("permission denied: the api grant has no sync scope", 1001);
  }
  return grant;
}

function denied(what: string, path: string): RoomError {
  return new RoomError(
    `permission denied: the sync grant does not allow ${what} ${path}`,
    ErrorCode.PERMISSION_DENIED,
  );
}

/** Output queue of one `sync.open` stream: contents, and actions run once what precedes is sent. */
class OutputQueue {
  #items: (Content | (() => void))[] = [];
  #wake: (() => void) | null = null;
  #ended = false;

  push(item: Content | (() => void)): void {
    if (this.#ended) {
      if (typeof item === "function") item();
      return;
    }
    this.#items.push(item);
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  end(): void {
    this.#ended = true;
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async *drain(): AsyncGenerator<Content> {
    while (true) {
      const item = this.#items.shift();
      if (item === undefined) {
        if (this.#ended) return;
        await new Promise<void>((resolve) => this.#wake = resolve);
        continue;
      }
      if (typeof item === "function") item();
      else yield item;
    }
  }

  /** Runs the actions still queued (the stream is over). */
  flushActions(): void {
    for (const item of this.#items.splice(0)) if (typeof item === "function") item();
  }
}

async function nextChunk(
  input: AsyncIterator<Content>,
  signal: AbortSignal,
): Promise<Content | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort = () => {};
  try {
    const result = await Promise.race([
      input.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new RoomError(
                `sync.open: no start chunk within ${SYNC_START_TIMEOUT_MS} ms`,
                ErrorCode.TIMEOUT,
              ),
            ),
          SYNC_START_TIMEOUT_MS,
        );
        onAbort = () => reject(new RoomError("the caller left", ErrorCode.INVALID_STATE));
        signal.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
    return result.done ? undefined : result.value;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}

async function openDocument(host: DocumentHost, ctx: ToolContext): Promise<ToolResult> {
  if (!(ctx.input instanceof ControlContent && ctx.input.method === "open")) {
    throw new RoomError(
      "sync.open is a streamed call: send a control open, then a start chunk",
      ErrorCode.INVALID_REQUEST,
    );
  }
  // Chunks are answered once their update is durable (or refused), not on arrival.
  const ack = ctx.deferInputAcks?.() ?? (() => {});
  const input = ctx.inputStream[Symbol.asyncIterator]();
  const start = await nextChunk(input, ctx.signal);
  if (!start) throw new RoomError("sync.open: the input ended before the start chunk", 1002);
  ack(start);
  if (!(start instanceof BinaryContent) || start.headers.kind !== "start") {
    throw new RoomError(
      'sync.open: the first chunk must be binary with headers {"kind":"start","path":…}',
      ErrorCode.INVALID_REQUEST,
    );
  }
  const h = start.headers;
  const path = documentPath(h.path, "open");
  const grant = grantOf(ctx);
  if (!grant.canRead(path)) throw denied("reading", path);
  const canWrite = grant.canWrite(path);
  if (h.create !== undefined && h.create !== null && typeof h.create !== "boolean") {
    throw new RoomError('sync.open: "create" must be a boolean', ErrorCode.INVALID_REQUEST);
  }
  const create = h.create ?? true;
  let vector: Uint8Array | null = null;
  if (h.vector !== undefined && h.vector !== null) {
    if (typeof h.vector !== "string") {
      throw new RoomError('sync.open: "vector" must be base64 text', ErrorCode.INVALID_REQUEST);
    }
    vector = fromWireUpdate(new TextEncoder().encode(h.vector));
  }
  if (h.schema !== undefined && h.schema !== null && !isObject(h.schema)) {
    throw new RoomError('sync.open: "schema" must be a MeshSchema object', 1002);
  }
  const schemaPath = optionalString(h, "schema_path", "open");

  const queue = new OutputQueue();
  const subscriber: DocumentSubscriber = {
    deliver: (chunk) => queue.push(chunk),
    fail: (e) => {
      queue.push(new ErrorContent(e.message, e.code ?? ErrorCode.OPERATION_FAILED));
      queue.end();
    },
  };
  let opened: { doc: HostedDocument; state: Uint8Array };
  try {
    opened = await host.open(
      path,
      {
        create: create && canWrite,
        schema: h.schema,
        schemaPath: schemaPath === null ? null : documentPath(schemaPath, "open"),
        initialJson: h.initial_json,
      },
      subscriber,
      vector,
    );
  } catch (e) {
    if (create && !canWrite && e instanceof RoomError && e.code === ErrorCode.STORAGE_NOT_FOUND) {
      throw denied("creating", path);
    }
    throw e;
  }
  const { doc, state } = opened;
  if (ctx.signal.aborted) {
    host.leave(doc, subscriber);
    throw new RoomError("the caller left", ErrorCode.INVALID_STATE);
  }
  const onAbort = () => queue.end();
  ctx.signal.addEventListener("abort", onAbort, { once: true });

  const refuse = (error: unknown, chunk: Content) => {
    const e = error instanceof RoomError
      ? error
      : new RoomError(`sync.open: ${(error as Error)?.message ?? error}`, 1008);
    const content = new ErrorContent(e.message, e.code ?? ErrorCode.OPERATION_FAILED);
    queue.push(content);
    // The chunk itself is answered with the error too, after the error chunk went out.
    queue.push(() => ack(chunk, content));
    queue.end();
  };

  // The input side: each sync chunk is checked, applied, relayed, logged, then answered.
  (async () => {
    try {
      while (true) {
        const next = await input.next();
        if (next.done) return;
        const chunk = next.value;
        if (!(chunk instanceof BinaryContent) || chunk.headers.kind !== "sync") {
          return refuse(
            new RoomError(
              'sync.open: expected a binary chunk with headers {"kind":"sync"}',
              ErrorCode.INVALID_REQUEST,
            ),
            chunk,
          );
        }
        if (!canWrite) return refuse(denied("writing", path), chunk);
        // The next chunk is taken once this one is applied (in the room's document worker):
        // updates are applied, relayed and logged in the order they were sent.
        let applied: { durable: Promise<void> } | null;
        try {
          applied = await host.apply(doc, chunk.data, subscriber);
        } catch (e) {
          return refuse(e, chunk);
        }
        if (!applied) ack(chunk);
        else {
          applied.durable.then(
            () => ack(chunk),
            (e) => refuse(new RoomError(`the update could not be stored: ${e}`, 1008), chunk),
          );
        }
      }
    } catch (e) {
      refuse(e, EMPTY);
    } finally {
      queue.end();
    }
  })();

  const stateChunk = new BinaryContent(toWireUpdate(state), {
    kind: "state",
    path,
    schema: doc.schemaJson,
  });
  return (async function* (): AsyncGenerator<Content> {
    try {
      yield stateChunk;
      yield* queue.drain();
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
      queue.flushActions();
      host.leave(doc, subscriber);
    }
  })();
}

/**
 * Makes the `sync` toolkit of a room (api grant surface `sync`):
 *
 * - `open` — a long-lived bidirectional stream (§2.3). The caller's start chunk names the
 *   document; the first output chunk is its state (`{kind:"state",path,schema}` + base64 Yjs
 *   update), then every update another participant makes (`{kind:"sync",path}`). Each input
 *   `{kind:"sync"}` chunk is checked (Yjs bytes, the schema, missing dependencies, the grant),
 *   applied, relayed and logged durably; its answer is sent only then, so an answered update
 *   survives a crash. A refused update ends the stream with an error chunk (code 1002, 1006 or
 *   1001) followed by a normal close; the document and the other participants are untouched.
 * - `create` — `{path, json, schema, schema_path}` → empty; 1004 when the document exists.
 * - `describe` — `{path}` → the document JSON (§2.9).
 *
 * Documents are files in room storage (see the room's `files()`), with their schema recorded in a
 * small header; schemas resolve as §2.5: the recorded one, the inline `schema`, `schema_path`,
 * then `.schemas/<extension>.json`.
 *
 * The Yjs work runs in a Worker of the room's own (see {@linkcode SyncToolkitOptions}); the
 * files, the update log and the relaying stay on the server's event loop.
 *
 * @param room The room.
 * @param options Where the room's Yjs work runs, and its time limit.
 * @returns The toolkit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Room, syncToolkit } from "@meshagent/server";
 * const room = new Room({ name: "demo", url: "ws://127.0.0.1/rooms/demo", dataDir: "/tmp/demo" });
 * const sync = syncToolkit(room);
 * assert(sync.name === "sync" && typeof sync.tools.open === "function");
 * await sync.close?.();
 * await room.close();
 * ```
 */
export function syncToolkit(room: ToolkitRoom, options: SyncToolkitOptions = {}): RoomToolkit {
  const host = new DocumentHost(room, options);
  return {
    name: "sync",
    surface: "sync",
    tools: {
      open: (ctx) => openDocument(host, ctx),
      async create(ctx) {
        const input = args(ctx);
        const path = documentPath(input.path, "create");
        if (!grantOf(ctx).canWrite(path)) throw denied("creating", path);
        const schemaPath = optionalString(input, "schema_path", "create");
        const schema = input.schema ?? null;
        if (schema !== null && !isObject(schema)) {
          throw new RoomError('sync.create: "schema" must be a MeshSchema object', 1002);
        }
        await host.create(
          path,
          input.json ?? null,
          schema,
          schemaPath === null ? null : documentPath(schemaPath, "create"),
        );
        return EMPTY;
      },
      async describe(ctx) {
        const input = args(ctx);
        const path = documentPath(input.path, "describe");
        if (!grantOf(ctx).canRead(path)) throw denied("reading", path);
        return new JsonContent(await host.describe(path));
      },
    },
    close: () => host.close(),
  };
}
