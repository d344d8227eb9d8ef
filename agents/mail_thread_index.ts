import { ErrorCode, type RoomClient, RoomError } from "@meshagent/api";

/**
 * Which thread a mail belongs to: every Message-ID a mail channel sees or sends is recorded with
 * its thread, so a reply (its `In-Reply-To`, or one of its `References`) finds the conversation.
 */
export interface MailThreadIndex {
  /**
   * The thread of a Message-ID.
   *
   * @param messageId The id, with or without angle brackets.
   * @returns The thread id, or null when the id is not known.
   */
  threadOf(messageId: string): Promise<string | null>;
  /**
   * Records the thread of a Message-ID.
   *
   * @param messageId The id.
   * @param threadId The thread.
   */
  record(messageId: string, threadId: string): Promise<void>;
}

/** A Message-ID as the indexes key it: trimmed, in angle brackets. */
function key(messageId: string): string {
  const id = messageId.trim().replace(/^<|>$/g, "");
  return `<${id}>`;
}

/**
 * A {@linkcode MailThreadIndex} in memory (tests; agents whose threads do not outlive them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryMailThreadIndex } from "@meshagent/agents";
 * const index = new MemoryMailThreadIndex();
 * await index.record("<m1@x.test>", "threads/a");
 * assert.equal(await index.threadOf("m1@x.test"), "threads/a");
 * assert.equal(await index.threadOf("<other@x.test>"), null);
 * ```
 */
export class MemoryMailThreadIndex implements MailThreadIndex {
  readonly #threads = new Map<string, string>();

  threadOf(messageId: string): Promise<string | null> {
    return Promise.resolve(this.#threads.get(key(messageId)) ?? null);
  }

  record(messageId: string, threadId: string): Promise<void> {
    this.#threads.set(key(messageId), threadId);
    return Promise.resolve();
  }
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A {@linkcode MailThreadIndex} in the room's storage: one small JSON file per Message-ID,
 * `<dir>/<sha-256 of the id>.json` holding `{"message_id", "thread_id"}`. [impl] Files rather
 * than a database table: every room has storage, the index survives agent restarts, and any
 * participant (or a person) can read it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RoomMailThreadIndex } from "@meshagent/agents";
 * import type { RoomClient } from "@meshagent/api";
 * const index = new RoomMailThreadIndex({} as RoomClient, ".emails/helper@mail.test/message-ids");
 * assert.equal(index.dir, ".emails/helper@mail.test/message-ids");
 * ```
 */
export class RoomMailThreadIndex implements MailThreadIndex {
  /** The folder of the index files. */
  readonly dir: string;
  readonly #room: RoomClient;

  /**
   * Creates the index (nothing is written until a mail is recorded).
   *
   * @param room The room.
   * @param dir The folder of the index files.
   */
  constructor(room: RoomClient, dir: string) {
    this.#room = room;
    this.dir = dir.replace(/\/+$/, "");
  }

  async #path(messageId: string): Promise<string> {
    return `${this.dir}/${await sha256(key(messageId))}.json`;
  }

  async threadOf(messageId: string): Promise<string | null> {
    const path = await this.#path(messageId);
    try {
      const file = await this.#room.storage.download(path);
      const entry = JSON.parse(new TextDecoder().decode(file.data)) as { thread_id?: unknown };
      return typeof entry.thread_id === "string" ? entry.thread_id : null;
    } catch (e) {
      if (e instanceof RoomError && e.code === ErrorCode.STORAGE_NOT_FOUND) return null;
      if (e instanceof SyntaxError) return null;
      throw e;
    }
  }

  async record(messageId: string, threadId: string): Promise<void> {
    const body = JSON.stringify({ message_id: key(messageId), thread_id: threadId });
    await this.#room.storage.upload(await this.#path(messageId), new TextEncoder().encode(body), {
      overwrite: true,
      mimeType: "application/json",
    });
  }
}
