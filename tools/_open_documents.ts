// Private: the documents the document authoring toolkits hold open, per room client. Each path
// is opened once through `room.sync` (one reference) and closed by `meshagent.document.close`.
import {
  type Element,
  ErrorCode,
  type JsonObject,
  type MeshDocument,
  type MeshSchema,
  type RoomClient,
  RoomError,
} from "@meshagent/api";
import { roomOf } from "./_tool_room.ts";
import type { ToolContext } from "./tool_context.ts";
import { ToolError } from "./tool_error.ts";

/** [impl] How long opening a document or waiting for an edit to be stored may take (ms). */
export const DOCUMENT_TIMEOUT_MS = 30_000;

/** One document this module opened: settled once `sync.open` has answered. */
interface Opened {
  promise: Promise<MeshDocument>;
  settled: boolean;
}

const opened = new WeakMap<RoomClient, Map<string, Opened>>();

/** Normalises a document path as the sync client does (no leading `./` or `/`). */
export function documentPath(path: string): string {
  let p = path.trim();
  if (p.startsWith("room://")) p = p.slice("room://".length);
  while (p.startsWith("./")) p = p.slice(2);
  while (p.startsWith("/")) p = p.slice(1);
  if (p === "" || p.endsWith("/")) {
    throw new ToolError(
      `${JSON.stringify(path)} is not a document path; give a file path such as "notes/plan.page"`,
      ErrorCode.INVALID_REQUEST,
    );
  }
  return p;
}

function docsOf(room: RoomClient): Map<string, Opened> {
  let docs = opened.get(room);
  if (!docs) opened.set(room, docs = new Map());
  return docs;
}

/** Options of {@linkcode openDocument}. */
export interface OpenOptions {
  /** Create the document when missing. */
  create: boolean;
  /** The schema for a new document, when known. */
  schema?: MeshSchema;
  /** How long to wait (ms). */
  timeout: number;
}

/**
 * The open document at `path`, opening it (once) when needed.
 *
 * @throws {ToolError} 3001 when it does not exist and `create` is false.
 */
export async function openDocument(
  room: RoomClient,
  path: string,
  options: OpenOptions,
): Promise<MeshDocument> {
  const docs = docsOf(room);
  const known = docs.get(path);
  // Still opening, or still open in the sync client (it forgets documents when the room closes).
  if (known && (!known.settled || room.sync.openPaths.includes(path))) return await known.promise;
  if (known) docs.delete(path);
  const opening: Opened = {
    promise: room.sync.open(path, {
      create: options.create,
      timeout: options.timeout,
      ...(options.schema ? { schema: options.schema } : {}),
    }),
    settled: false,
  };
  docs.set(path, opening);
  try {
    return await opening.promise;
  } catch (e) {
    if (docs.get(path) === opening) docs.delete(path);
    if (e instanceof RoomError && e.code === ErrorCode.STORAGE_NOT_FOUND && !options.create) {
      throw new ToolError(
        `there is no document at ${JSON.stringify(path)}; open it with meshagent.document.open ` +
          "to create it",
        ErrorCode.STORAGE_NOT_FOUND,
      );
    }
    throw e;
  } finally {
    opening.settled = true;
  }
}

/**
 * Closes a document opened by {@linkcode openDocument}.
 *
 * @returns False when it was not open.
 */
export async function closeDocument(
  room: RoomClient,
  path: string,
  timeout: number,
): Promise<boolean> {
  const docs = docsOf(room);
  const known = docs.get(path);
  if (!known) return false;
  docs.delete(path);
  try {
    await known.promise;
  } catch {
    return false;
  }
  if (!room.sync.openPaths.includes(path)) return false;
  await room.sync.close(path, timeout);
  return true;
}

/** Waits until the room has stored the document's local edits (or refused them). */
export async function storeEdits(room: RoomClient, path: string, timeout: number): Promise<void> {
  await room.sync.flush(path, timeout);
}

/** What {@linkcode DocumentAccess} needs from a toolkit's options. */
export interface AccessOptions {
  schemas?: Readonly<Record<string, MeshSchema>>;
  room?: RoomClient | null;
  timeout?: number;
}

/** Where the tools find documents: a room and the open-or-create rules. */
export class DocumentAccess {
  readonly #room: RoomClient | null;
  readonly #schemas: Readonly<Record<string, MeshSchema>>;
  /** How long opening or storing may take (ms). */
  readonly timeout: number;
  readonly #toolkit: string;

  constructor(toolkit: string, options: AccessOptions) {
    this.#toolkit = toolkit;
    this.#room = options.room ?? null;
    this.#schemas = options.schemas ?? {};
    this.timeout = options.timeout ?? DOCUMENT_TIMEOUT_MS;
  }

  room(ctx: ToolContext): RoomClient {
    return roomOf(ctx, this.#room, this.#toolkit);
  }

  schemaFor(path: string): MeshSchema | undefined {
    const name = path.split("/").at(-1) ?? "";
    const dot = name.lastIndexOf(".");
    return dot > 0 ? this.#schemas[name.slice(dot + 1)] : undefined;
  }

  /** Opens (and creates) a document for `meshagent.document.open`. */
  async open(ctx: ToolContext, rawPath: string): Promise<{ path: string; doc: MeshDocument }> {
    const path = documentPath(rawPath);
    const schema = this.schemaFor(path);
    const doc = await openDocument(this.room(ctx), path, {
      create: true,
      timeout: this.timeout,
      ...(schema ? { schema } : {}),
    });
    return { path, doc };
  }

  /** The document for an editing tool: opened already, or opened now (never created). */
  async get(ctx: ToolContext, rawPath: string): Promise<{ path: string; doc: MeshDocument }> {
    const path = documentPath(rawPath);
    const doc = await openDocument(this.room(ctx), path, { create: false, timeout: this.timeout });
    return { path, doc };
  }

  /** Waits until the room stored the edits just made. */
  async store(ctx: ToolContext, path: string): Promise<void> {
    await storeEdits(this.room(ctx), path, this.timeout);
  }

  /** Closes a document. */
  async close(ctx: ToolContext, rawPath: string): Promise<boolean> {
    return await closeDocument(this.room(ctx), documentPath(rawPath), this.timeout);
  }
}

/**
 * The element of `doc` with `$id` `id` (the root for null).
 *
 * @throws {ToolError} 1003 when there is none.
 */
export function elementById(doc: MeshDocument, path: string, id: string | null): Element {
  if (id === null || id === "") return doc.root;
  const element = doc.getElementById(id);
  if (!element) {
    throw new ToolError(
      `the document ${path} has no element with id ${JSON.stringify(id)}; get_document shows ` +
        "the ids",
      ErrorCode.NOT_FOUND,
    );
  }
  return element;
}

/** The result of an element edit: the path, the id and the element JSON with ids. */
export function elementResult(path: string, element: Element): JsonObject {
  return { path, id: element.id ?? null, element: element.toJson({ includeIds: true }) };
}
