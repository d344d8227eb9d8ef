import {
  type Element,
  ErrorCode,
  type JsonObject,
  type MeshDocument,
  type RoomClient,
  RoomError,
} from "@meshagent/api";
import type { AgentMessage } from "./agent_message.ts";
import { readThreadDocument, ThreadDocumentWriter } from "./_thread_document_codec.ts";
import { threadListSchema, threadSchema } from "./thread_schema.ts";
import type {
  ThreadIndexEvent,
  ThreadInfo,
  ThreadStorage,
  ThreadStorageRepository,
} from "./thread_storage.ts";

/** [impl] How long opening a document or waiting for the room to store it may take (ms). */
const DEFAULT_TIMEOUT_MS = 30_000;
/** [impl] How often (ms) streamed text is written to the document while it grows. */
const DEFAULT_LIVE_TEXT_INTERVAL_MS = 100;
/** [impl] `list` without a limit returns this many threads (as `thread.list` defaults). */
const DEFAULT_LIST_LIMIT = 200;
/** [impl] After deleting a thread that was open here, its file is looked for again after these waits. */
const RESAVE_CHECKS_MS = [25, 50, 100, 200];

const EMPTY_THREAD: JsonObject = {
  thread: { properties: [{ members: { items: [] } }, { messages: { items: [] } }] },
};
const EMPTY_THREAD_LIST: JsonObject = { thread_list: { threads: [] } };

/** A path as the sync client keys it: no leading `./` or `/`. */
function normalize(path: string): string {
  let p = path.trim();
  while (p.startsWith("./")) p = p.slice(2);
  while (p.startsWith("/")) p = p.slice(1);
  return p;
}

function isRoomError(e: unknown, code: number): boolean {
  return e instanceof RoomError && e.code === code;
}

/** Closes a synced document, ignoring that the room already dropped it (closed, reconnected). */
async function closeQuietly(room: RoomClient, path: string, timeout: number): Promise<void> {
  if (!room.sync.openPaths.includes(normalize(path))) return;
  try {
    await room.sync.close(path, timeout);
  } catch (e) {
    if (!isRoomError(e, ErrorCode.SYNC_NOT_CONNECTED)) throw e;
  }
}

/** Options of {@linkcode DocumentThreadStorageRepository}. */
export interface DocumentThreadStorageRepositoryOptions {
  /** The room the thread documents live in (a started client). */
  room: RoomClient;
  /** The agent's name: the author of its messages, and the default folder's name. */
  agentName: string;
  /** The folder of the thread documents (default `.threads/<agentName>`). */
  threadDir?: string;
  /** How long opening a document or storing its changes may take, in ms (default 30000). */
  timeout?: number;
  /** How often streamed text is written while it grows, in ms (default 100). */
  liveTextIntervalMs?: number;
}

/**
 * The messages of one thread in a `.thread` MeshDocument (see `_thread_document_codec.ts` for
 * how each agent message is written and read back). Pushed messages are written in one
 * transaction per tick; streamed text is written at most every `liveTextIntervalMs` while it
 * grows, so participants watching the document see the answer come.
 */
class DocumentThreadStorage implements ThreadStorage {
  readonly threadId: string;
  readonly #room: RoomClient;
  readonly #doc: MeshDocument;
  readonly #writer: ThreadDocumentWriter;
  readonly #agentName: string;
  readonly #timeout: number;
  readonly #interval: number;
  readonly #onClose: () => void;
  #queue: AgentMessage[] = [];
  #scheduled = false;
  #timer?: ReturnType<typeof setTimeout>;
  #failure?: RoomError;
  #closed?: Promise<void>;

  constructor(init: {
    threadId: string;
    room: RoomClient;
    doc: MeshDocument;
    agentName: string;
    timeout: number;
    interval: number;
    onClose: () => void;
  }) {
    this.threadId = init.threadId;
    this.#room = init.room;
    this.#doc = init.doc;
    this.#agentName = init.agentName;
    this.#timeout = init.timeout;
    this.#interval = init.interval;
    this.#onClose = init.onClose;
    this.#writer = new ThreadDocumentWriter(init.doc, init.agentName);
    this.#edit(() => {
      this.#writer.messages();
      this.#writer.ensureMember(init.agentName);
    });
  }

  /** Whether it was closed (pushes are dropped then). */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Renames the thread document's root (`thread.name`). */
  setName(name: string): void {
    if (!this.closed) this.#edit(() => this.#doc.root.setAttribute("name", name));
  }

  push(message: AgentMessage): void {
    if (this.closed) return;
    this.#queue.push(message);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#drain());
  }

  /** Applies an edit, keeping the first failure for `flush` (nothing throws from a tick). */
  #edit(fn: () => void): void {
    try {
      this.#doc.transact(fn);
    } catch (e) {
      this.#failure ??= e instanceof RoomError ? e : new RoomError(
        `the thread ${this.threadId} could not be written: ${(e as Error).message}`,
        ErrorCode.OPERATION_FAILED,
      );
    }
  }

  #drain(): void {
    this.#scheduled = false;
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    this.#edit(() => {
      // One message that cannot be written (a document changed by someone else) does not stop
      // the others; the first failure is reported by `flush`.
      for (const message of batch) this.#edit(() => this.#writer.apply(message));
    });
    if (this.#writer.hasLiveChanges && this.#timer === undefined && !this.closed) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#writeLive();
      }, this.#interval);
    }
  }

  #writeLive(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#writer.hasLiveChanges) this.#edit(() => this.#writer.flushLive());
  }

  messages(): Promise<AgentMessage[]> {
    this.#drain();
    this.#writeLive();
    return Promise.resolve(readThreadDocument(this.#doc, this.threadId, this.#agentName));
  }

  clear(): Promise<void> {
    this.#queue = [];
    this.#edit(() => this.#writer.clear());
    return Promise.resolve();
  }

  async flush(): Promise<void> {
    this.#drain();
    this.#writeLive();
    if (this.#failure) throw this.#failure;
    if (!this.#room.sync.openPaths.includes(normalize(this.threadId))) {
      if (this.closed) return;
      throw new RoomError(
        `the thread document ${this.threadId} is no longer open (the room connection closed)`,
        ErrorCode.SYNC_NOT_CONNECTED,
      );
    }
    await this.#room.sync.flush(this.threadId, this.#timeout);
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      try {
        await this.flush().catch((e) => {
          // A room that went away cannot be written to any more; that is not the closer's error.
          if (!isRoomError(e, ErrorCode.SYNC_NOT_CONNECTED)) throw e;
        });
      } finally {
        clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#onClose();
        await closeQuietly(this.#room, this.threadId, this.#timeout);
      }
    })();
    return this.#closed;
  }
}

/**
 * Threads as MeshDocuments in the room (agents.md §2.6): each thread is a `thread` document at
 * `<threadDir>/<uuid>.thread`, the index a `thread_list` document at `<threadDir>/index.threadl`.
 * Any participant can open them through `room.sync` and read the conversation as it happens; a
 * restarted agent reads its threads back ({@linkcode ThreadStorage.messages}) and rebuilds each
 * thread's LLM context with `sessionItemsFromMessages`.
 *
 * {@linkcode DocumentThreadStorageRepository.watch} reports the index changes made through this
 * repository and those others make (the index document is synchronized).
 *
 * @example Keeping a thread in the room (needs a running room, so shown without running it)
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RoomClient } from "@meshagent/api";
 * import { agentMessage, DocumentThreadStorageRepository } from "@meshagent/agents";
 * async function remember(room: RoomClient) {
 *   const threads = new DocumentThreadStorageRepository({ room, agentName: "helper" });
 *   const id = threads.newThreadId(); // .threads/helper/<uuid>.thread
 *   const storage = await threads.open(id);
 *   storage.push(agentMessage("turn.start", {
 *     thread_id: id,
 *     content: [{ type: "text", text: "hello" }],
 *   }));
 *   await threads.touch(id, "Greetings");
 *   await storage.close(); // stored in the room
 *   await threads.close();
 * }
 * assert(typeof remember === "function");
 * ```
 */
export class DocumentThreadStorageRepository implements ThreadStorageRepository {
  readonly threadDir: string;
  readonly threadList: string;
  readonly #room: RoomClient;
  readonly #agentName: string;
  readonly #timeout: number;
  readonly #interval: number;
  readonly #storages = new Set<DocumentThreadStorage>();
  readonly #listeners = new Set<(event: ThreadIndexEvent) => void>();
  #index?: Promise<MeshDocument>;
  #offIndex?: () => void;
  #snapshot = new Map<string, ThreadInfo>();
  #lastStamp = 0;
  #closed = false;

  /**
   * Creates the repository (nothing is opened until it is used).
   *
   * @param options The room, the agent's name, the folder and timeouts.
   * @throws {RoomError} 1002 when the agent name is empty.
   */
  constructor(options: DocumentThreadStorageRepositoryOptions) {
    if (typeof options.agentName !== "string" || options.agentName.trim() === "") {
      throw new RoomError(
        "a document thread repository needs the agent's name (agentName)",
        ErrorCode.INVALID_REQUEST,
      );
    }
    this.#room = options.room;
    this.#agentName = options.agentName;
    this.#timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    this.#interval = options.liveTextIntervalMs ?? DEFAULT_LIVE_TEXT_INTERVAL_MS;
    this.threadDir = (options.threadDir ?? `.threads/${options.agentName}`).replace(/\/+$/, "");
    this.threadList = `${this.threadDir}/index.threadl`;
  }

  /**
   * A new thread document path, `<threadDir>/<uuid>.thread`. [impl] A name is not put in the
   * path (paths stay unique); `touch(id, name)` keeps it in the index.
   *
   * @returns The path.
   */
  newThreadId(): string {
    return `${this.threadDir}/${crypto.randomUUID()}.thread`;
  }

  owns(threadId: string): boolean {
    return normalize(threadId).startsWith(`${normalize(this.threadDir)}/`) &&
      threadId.endsWith(".thread");
  }

  async open(threadId: string): Promise<ThreadStorage> {
    this.#assertOpen();
    const doc = await this.#room.sync.open(threadId, {
      create: true,
      schema: threadSchema,
      initialJson: EMPTY_THREAD,
      timeout: this.#timeout,
    });
    if (doc.schema.rootTagName !== "thread" || !doc.schema.findElement("messages")) {
      await closeQuietly(this.#room, threadId, this.#timeout);
      throw new RoomError(
        `${threadId} is a "${doc.schema.rootTagName}" document, not a thread; give a .thread path`,
        ErrorCode.INVALID_REQUEST,
      );
    }
    const storage: DocumentThreadStorage = new DocumentThreadStorage({
      threadId,
      room: this.#room,
      doc,
      agentName: this.#agentName,
      timeout: this.#timeout,
      interval: this.#interval,
      onClose: () => this.#storages.delete(storage),
    });
    this.#storages.add(storage);
    return storage;
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new RoomError("the thread repository was closed", ErrorCode.INVALID_STATE);
    }
  }

  /** The index document, opened (and created) once. */
  #indexDoc(): Promise<MeshDocument> {
    this.#assertOpen();
    if (this.#index) return this.#index;
    const opening = (async () => {
      const doc = await this.#room.sync.open(this.threadList, {
        create: true,
        schema: threadListSchema,
        initialJson: EMPTY_THREAD_LIST,
        timeout: this.#timeout,
      });
      this.#snapshot = this.#read(doc);
      this.#offIndex = doc.on("changed", () => this.#diff(doc));
      return doc;
    })();
    this.#index = opening;
    // A failed open is tried again by the next call.
    opening.catch(() => {
      if (this.#index === opening) this.#index = undefined;
    });
    return opening;
  }

  #entries(doc: MeshDocument): Element[] {
    return doc.root.children.filter((c) =>
      c.tagName === "thread" && typeof c.getAttribute("path") === "string"
    );
  }

  #find(doc: MeshDocument, threadId: string): Element | undefined {
    const key = normalize(threadId);
    return this.#entries(doc).find((c) => normalize(String(c.getAttribute("path"))) === key);
  }

  #info(el: Element): ThreadInfo {
    const name = el.getAttribute("name");
    return {
      path: String(el.getAttribute("path")),
      ...(typeof name === "string" ? { name } : {}),
      created_at: String(el.getAttribute("created_at") ?? ""),
      modified_at: String(el.getAttribute("modified_at") ?? el.getAttribute("created_at") ?? ""),
    };
  }

  #read(doc: MeshDocument): Map<string, ThreadInfo> {
    const out = new Map<string, ThreadInfo>();
    for (const el of this.#entries(doc)) {
      const info = this.#info(el);
      out.set(normalize(info.path), info);
    }
    return out;
  }

  /** Compares the index with what it was and tells the watchers (local and remote changes). */
  #diff(doc: MeshDocument): void {
    const next = this.#read(doc);
    const events: ThreadIndexEvent[] = [];
    for (const [key, info] of next) {
      const before = this.#snapshot.get(key);
      if (!before) events.push({ kind: "created", thread: info });
      else if (JSON.stringify(before) !== JSON.stringify(info)) {
        events.push({ kind: "updated", thread: info });
      }
    }
    for (const [key, info] of this.#snapshot) {
      if (!next.has(key)) events.push({ kind: "deleted", thread: info });
    }
    this.#snapshot = next;
    for (const event of events) {
      for (const listener of this.#listeners) {
        try {
          listener({ kind: event.kind, thread: { ...event.thread } });
        } catch (e) {
          console.error(`a thread index watcher threw: ${(e as Error).message}`);
        }
      }
    }
  }

  /** Now as ISO 8601, never the same as or before the previous stamp (keeps the order total). */
  #now(): string {
    const now = Math.max(Date.now(), this.#lastStamp + 1);
    this.#lastStamp = now;
    return new Date(now).toISOString();
  }

  async list(
    options: { limit?: number; offset?: number } = {},
  ): Promise<{ threads: ThreadInfo[]; total: number }> {
    const all = [...this.#read(await this.#indexDoc()).values()]
      .sort((a, b) => b.modified_at.localeCompare(a.modified_at));
    const offset = Math.max(0, options.offset ?? 0);
    return {
      threads: all.slice(offset, offset + Math.max(0, options.limit ?? DEFAULT_LIST_LIMIT)),
      total: all.length,
    };
  }

  async touch(threadId: string, name?: string): Promise<ThreadInfo> {
    const doc = await this.#indexDoc();
    const now = this.#now();
    let el = this.#find(doc, threadId);
    if (!el) {
      el = doc.root.createChildElement("thread", {
        path: threadId,
        ...(name !== undefined ? { name } : {}),
        created_at: now,
        modified_at: now,
      });
    } else {
      el.setAttributes({ modified_at: now, ...(name !== undefined ? { name } : {}) });
    }
    if (name !== undefined) this.#nameOpenStorages(threadId, name);
    const info = this.#info(el);
    await this.#room.sync.flush(this.threadList, this.#timeout);
    return info;
  }

  async rename(threadId: string, name: string): Promise<ThreadInfo | null> {
    const doc = await this.#indexDoc();
    const el = this.#find(doc, threadId);
    if (!el) return null;
    el.setAttributes({ name, modified_at: this.#now() });
    this.#nameOpenStorages(threadId, name);
    const info = this.#info(el);
    await this.#room.sync.flush(this.threadList, this.#timeout);
    return info;
  }

  #nameOpenStorages(threadId: string, name: string): void {
    for (const storage of this.#storages) {
      if (normalize(storage.threadId) === normalize(threadId)) storage.setName(name);
    }
  }

  /**
   * Deletes a thread: closes its storages opened here, removes its index entry and its document
   * file from room storage.
   *
   * @param threadId The thread document path.
   * @returns False when neither the entry nor the file existed.
   */
  async delete(threadId: string): Promise<boolean> {
    const doc = await this.#indexDoc();
    let wasOpen = false;
    for (const storage of [...this.#storages]) {
      if (normalize(storage.threadId) !== normalize(threadId)) continue;
      wasOpen = true;
      await storage.close();
    }
    const el = this.#find(doc, threadId);
    el?.delete();
    if (el) await this.#room.sync.flush(this.threadList, this.#timeout);
    const file = await this.#deleteFile(threadId);
    if (wasOpen && file) {
      // [impl] The room saves a document when its last subscriber leaves, and that save can land
      // after the delete (the room's document host does not forget a document whose file is
      // deleted through storage): look again a few times and delete what came back.
      for (const ms of RESAVE_CHECKS_MS) {
        await new Promise((resolve) => setTimeout(resolve, ms));
        if (await this.#room.storage.exists(normalize(threadId))) await this.#deleteFile(threadId);
      }
    }
    return el !== undefined || file;
  }

  async #deleteFile(threadId: string): Promise<boolean> {
    try {
      await this.#room.storage.delete(normalize(threadId));
      return true;
    } catch (e) {
      if (isRoomError(e, ErrorCode.STORAGE_NOT_FOUND)) return false;
      throw e;
    }
  }

  watch(listener: (event: ThreadIndexEvent) => void): () => void {
    this.#listeners.add(listener);
    // The index is opened so that changes made by others are seen too.
    this.#indexDoc().catch((e) => {
      console.error(`the thread index ${this.threadList} could not be opened: ${e.message}`);
    });
    return () => this.#listeners.delete(listener);
  }

  /** Closes the storages opened here and the index document. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    const errors: unknown[] = [];
    for (const storage of [...this.#storages]) {
      await storage.close().catch((e) => errors.push(e));
    }
    const index = this.#index;
    this.#index = undefined;
    if (index) {
      const opened = await index.catch(() => null);
      this.#offIndex?.();
      if (opened) {
        await this.#room.sync.flush(this.threadList, this.#timeout).catch(() => {});
        await closeQuietly(this.#room, this.threadList, this.#timeout).catch((e) => errors.push(e));
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}
