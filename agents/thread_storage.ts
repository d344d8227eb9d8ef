import { AGENT_MESSAGE_TYPES, type AgentMessage, agentMessageKind } from "./agent_message.ts";

/** One thread in a thread index (`thread.listed`, `thread.created`). */
export interface ThreadInfo {
  /** The thread id (its URL or path). */
  path: string;
  /** Its name, once it has one. */
  name?: string;
  /** When it was created (ISO 8601). */
  created_at: string;
  /** When it last changed (ISO 8601). */
  modified_at: string;
}

/** A change in a thread index. */
export interface ThreadIndexEvent {
  /** What happened. */
  kind: "created" | "updated" | "deleted";
  /** The thread (for `deleted`, only `path` is meaningful). */
  thread: ThreadInfo;
}

/** The stored messages of one thread. */
export interface ThreadStorage {
  /** The thread id. */
  readonly threadId: string;
  /**
   * Records one agent message of the thread. Deltas (`*.delta`) are kept in memory and stored as
   * one delta with the whole text when their `*.ended` arrives (as the official storage does).
   */
  push(message: AgentMessage): void;
  /** The stored messages, in order (joined deltas included). */
  messages(): Promise<AgentMessage[]>;
  /** Drops every message (`thread.clear`). */
  clear(): Promise<void>;
  /** Resolves once everything pushed so far is stored. */
  flush(): Promise<void>;
  /** Flushes and releases the storage. */
  close(): Promise<void>;
}

/** Where an agent keeps its threads: the index and each thread's storage. */
export interface ThreadStorageRepository {
  /** The thread folder as UIs see it (`meshagent.chatbot.thread-dir`). */
  readonly threadDir: string;
  /** The thread index as UIs see it (`meshagent.chatbot.thread-list`). */
  readonly threadList: string;
  /**
   * A new thread id in this repository.
   *
   * @param name A name to derive it from (default: a random id).
   */
  newThreadId(name?: string): string;
  /** Whether `threadId` belongs to this repository. */
  owns(threadId: string): boolean;
  /** Opens (creating when needed) a thread's storage. */
  open(threadId: string): Promise<ThreadStorage>;
  /** The threads, newest first. */
  list(
    options?: { limit?: number; offset?: number },
  ): Promise<{ threads: ThreadInfo[]; total: number }>;
  /** Adds a thread to the index or bumps its `modified_at` (and name, when given). */
  touch(threadId: string, name?: string): Promise<ThreadInfo>;
  /** Renames a thread; null when it is not in the index. */
  rename(threadId: string, name: string): Promise<ThreadInfo | null>;
  /** Deletes a thread and its messages; false when it did not exist. */
  delete(threadId: string): Promise<boolean>;
  /** Calls `listener` for every index change until the returned function is called. */
  watch(listener: (event: ThreadIndexEvent) => void): () => void;
  /** Releases the repository. */
  close(): Promise<void>;
}

/**
 * Whether the thread storage keeps a message: thread-scoped agent events and the turns and steers
 * that made them (not requests like `thread.open`, status updates or listings).
 *
 * @param message An agent message.
 * @returns True when it is stored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { agentMessage, isStoredMessage } from "@meshagent/agents";
 * assert.ok(isStoredMessage(agentMessage("turn.ended", { thread_id: "t", turn_id: "1" })));
 * assert.ok(!isStoredMessage(agentMessage("thread.status", { thread_id: "t" })));
 * ```
 */
export function isStoredMessage(message: AgentMessage): boolean {
  const kind = agentMessageKind(message.type);
  return kind !== null && AGENT_MESSAGE_TYPES[kind].stored === true &&
    typeof message.thread_id === "string";
}

const DELTA = /\.delta$/;

/**
 * Joins the deltas of each item until it ends: what thread storages use so that a thread holds one
 * delta with the whole text per item (and the `*.ended`), not thousands of fragments.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { agentMessage, DeltaJoiner } from "@meshagent/agents";
 * const joiner = new DeltaJoiner();
 * const m = (kind: string, text?: string) =>
 *   agentMessage(kind, { thread_id: "t", turn_id: "1", item_id: "a", text });
 * assert.deepEqual(joiner.push(m("text_content.delta", "he")), []);
 * assert.deepEqual(joiner.push(m("text_content.delta", "llo")), []);
 * const out = joiner.push(m("text_content.ended"));
 * assert.equal(out[0].text, "hello");
 * assert.equal(out.length, 2);
 * ```
 */
export class DeltaJoiner {
  readonly #pending = new Map<string, AgentMessage>();

  /**
   * Takes the next message.
   *
   * @param message A thread message.
   * @returns The messages to store now (none while an item's deltas are being joined).
   */
  push(message: AgentMessage): AgentMessage[] {
    const kind = agentMessageKind(message.type) ?? "";
    const key = `${kind.split(".")[0]}\u0000${message.item_id}`;
    if (DELTA.test(kind) && typeof message.item_id === "string") {
      const joined = this.#pending.get(key);
      if (!joined) this.#pending.set(key, { ...message });
      else {
        for (const field of ["text", "delta", "url"]) {
          if (typeof message[field] === "string") {
            joined[field] = String(joined[field] ?? "") + message[field];
          }
        }
      }
      return [];
    }
    if (kind.endsWith(".ended") || kind.endsWith(".completed") || kind.endsWith(".failed")) {
      const joined = this.#pending.get(key);
      this.#pending.delete(key);
      return joined ? [joined, message] : [message];
    }
    if (kind === "turn.ended") {
      // Anything still open at the end of the turn is stored as it is.
      const open = [...this.#pending.entries()].filter(([, m]) => m.turn_id === message.turn_id);
      for (const [k] of open) this.#pending.delete(k);
      return [...open.map(([, m]) => m), message];
    }
    return [message];
  }

  /** The deltas still being joined (stored as they are when a storage closes). */
  drain(): AgentMessage[] {
    const out = [...this.#pending.values()];
    this.#pending.clear();
    return out;
  }
}

/** A thread kept in memory (`tmp://` storage): lost when the agent stops. */
class MemoryThreadStorage implements ThreadStorage {
  readonly threadId: string;
  readonly #messages: AgentMessage[];
  readonly #joiner = new DeltaJoiner();

  constructor(threadId: string, messages: AgentMessage[]) {
    this.threadId = threadId;
    this.#messages = messages;
  }

  push(message: AgentMessage): void {
    this.#messages.push(...this.#joiner.push(message));
  }

  messages(): Promise<AgentMessage[]> {
    return Promise.resolve([...this.#messages]);
  }

  clear(): Promise<void> {
    this.#messages.length = 0;
    this.#joiner.drain();
    return Promise.resolve();
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#messages.push(...this.#joiner.drain());
    return Promise.resolve();
  }
}

/**
 * Threads in memory, under `tmp://<dir>/…`: for agents that need no history across restarts, and
 * for tests. The index and the messages live as long as the repository.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { agentMessage, MemoryThreadStorageRepository } from "@meshagent/agents";
 * const repo = new MemoryThreadStorageRepository("agents/helper");
 * const id = repo.newThreadId();
 * const storage = await repo.open(id);
 * storage.push(agentMessage("turn.start", { thread_id: id, content: [] }));
 * await repo.touch(id, "first");
 * assert.equal((await repo.list()).threads[0].name, "first");
 * assert.equal((await storage.messages()).length, 1);
 * ```
 */
export class MemoryThreadStorageRepository implements ThreadStorageRepository {
  readonly threadDir: string;
  readonly threadList: string;
  readonly #threads = new Map<
    string,
    { info: ThreadInfo; messages: AgentMessage[]; indexed: boolean }
  >();
  readonly #listeners = new Set<(event: ThreadIndexEvent) => void>();

  /**
   * Creates the value.
   *
   * @param dir The folder name in the `tmp://` URLs (default `threads`).
   */
  constructor(dir = "threads") {
    this.threadDir = `tmp://${dir.replace(/^\/+|\/+$/g, "")}`;
    this.threadList = `${this.threadDir}/index`;
  }

  newThreadId(): string {
    return `${this.threadDir}/${crypto.randomUUID()}`;
  }

  owns(threadId: string): boolean {
    return threadId.startsWith(`${this.threadDir}/`) || !threadId.includes("://");
  }

  #entry(threadId: string): { info: ThreadInfo; messages: AgentMessage[]; indexed: boolean } {
    let entry = this.#threads.get(threadId);
    if (!entry) {
      const now = new Date().toISOString();
      entry = {
        info: { path: threadId, created_at: now, modified_at: now },
        messages: [],
        indexed: false,
      };
      this.#threads.set(threadId, entry);
    }
    return entry;
  }

  open(threadId: string): Promise<ThreadStorage> {
    return Promise.resolve(new MemoryThreadStorage(threadId, this.#entry(threadId).messages));
  }

  list(
    options: { limit?: number; offset?: number } = {},
  ): Promise<{ threads: ThreadInfo[]; total: number }> {
    const all = [...this.#threads.values()]
      .filter((entry) => entry.indexed)
      .map((entry) => ({ ...entry.info }))
      .sort((a, b) => b.modified_at.localeCompare(a.modified_at));
    const offset = options.offset ?? 0;
    return Promise.resolve({
      threads: all.slice(offset, offset + (options.limit ?? 200)),
      total: all.length,
    });
  }

  touch(threadId: string, name?: string): Promise<ThreadInfo> {
    const entry = this.#entry(threadId);
    const created = !entry.indexed;
    entry.indexed = true;
    entry.info.modified_at = new Date().toISOString();
    if (name !== undefined) entry.info.name = name;
    this.#emit({ kind: created ? "created" : "updated", thread: { ...entry.info } });
    return Promise.resolve({ ...entry.info });
  }

  rename(threadId: string, name: string): Promise<ThreadInfo | null> {
    const entry = this.#threads.get(threadId);
    if (!entry?.indexed) return Promise.resolve(null);
    entry.info.name = name;
    entry.info.modified_at = new Date().toISOString();
    this.#emit({ kind: "updated", thread: { ...entry.info } });
    return Promise.resolve({ ...entry.info });
  }

  delete(threadId: string): Promise<boolean> {
    const entry = this.#threads.get(threadId);
    if (!entry) return Promise.resolve(false);
    this.#threads.delete(threadId);
    this.#emit({ kind: "deleted", thread: { ...entry.info } });
    return Promise.resolve(true);
  }

  watch(listener: (event: ThreadIndexEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(event: ThreadIndexEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  close(): Promise<void> {
    this.#listeners.clear();
    return Promise.resolve();
  }
}
