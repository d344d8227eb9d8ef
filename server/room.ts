import type { JsonObject } from "@meshagent/api";
import type { Participant } from "./participant.ts";
import type { RoomTool, RoomToolkit, RoomToolkitFactory } from "./room_toolkit.ts";
import type { FileStore } from "./file_store.ts";
import type { ToolkitRoom } from "./toolkit_room.ts";

/** What a {@linkcode Room} is made from. */
export interface RoomInit {
  /** The room name (already validated). */
  name: string;
  /** The public WebSocket URL of the room, sent in `room_ready`. */
  url: string;
  /** The room's own data folder (`<dataDir>/rooms/<room>`); stores create it when they need it. */
  dataDir: string;
  /** The built-in toolkits, one instance each per room. */
  toolkits?: readonly RoomToolkitFactory[];
  /**
   * Opens the room's file store (storage, and the documents sync keeps in it). Called at most once
   * per room session, on first use.
   */
  openFileStore?: () => Promise<FileStore>;
}

interface ToolkitEntry {
  toolkit: RoomToolkit;
  tools: Map<string, RoomTool>;
}

/**
 * One room session: created when the first participant connects, ended (its toolkits closed and
 * its state dropped) after the last one leaves. Durable data lives in stores under
 * {@linkcode dataDir} and survives the session.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Room } from "@meshagent/server";
 * const room = new Room({ name: "demo", url: "ws://127.0.0.1/rooms/demo", dataDir: "/tmp/demo" });
 * assert(room.size === 0 && room.sessionId.length > 0);
 * await room.close();
 * ```
 */
export class Room implements ToolkitRoom {
  /** The room name. */
  readonly name: string;
  /** The id of this session of the room (a UUID), sent in `room_ready`. */
  readonly sessionId: string = crypto.randomUUID();
  /** The public WebSocket URL of the room. */
  readonly url: string;
  /** The room's data folder. */
  readonly dataDir: string;
  readonly #participants = new Map<string, Participant>();
  readonly #toolkits = new Map<string, ToolkitEntry>();
  #closed = false;
  readonly #openFileStore?: () => Promise<FileStore>;
  readonly #removedListeners = new Set<(paths: readonly string[]) => void>();
  #fileStore?: Promise<FileStore>;

  /**
   * Creates the room session and its toolkit instances.
   *
   * @param init Name, URL, data folder and toolkit factories.
   */
  constructor(init: RoomInit) {
    this.name = init.name;
    this.url = init.url;
    this.dataDir = init.dataDir;
    this.#openFileStore = init.openFileStore;
    for (const factory of init.toolkits ?? []) {
      const toolkit = factory(this);
      // A Map (not the record itself) so that names like `constructor` never resolve.
      this.#toolkits.set(toolkit.name, { toolkit, tools: new Map(Object.entries(toolkit.tools)) });
    }
  }

  /** How many participants are connected. */
  get size(): number {
    return this.#participants.size;
  }

  /** True once the room ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The connected participants. */
  participants(): IterableIterator<Participant> {
    return this.#participants.values();
  }

  /**
   * Finds a connected participant.
   *
   * @param id The participant id.
   * @returns The participant, or undefined.
   */
  participant(id: string): Participant | undefined {
    return this.#participants.get(id);
  }

  /**
   * Finds a built-in toolkit.
   *
   * @param name The toolkit name.
   * @returns The toolkit, or undefined.
   */
  toolkit(name: string): RoomToolkit | undefined {
    return this.#toolkits.get(name)?.toolkit;
  }

  /**
   * Finds a tool of a built-in toolkit.
   *
   * @param toolkit The toolkit name.
   * @param tool The tool name.
   * @returns The tool, or undefined.
   */
  tool(toolkit: string, tool: string): RoomTool | undefined {
    return this.#toolkits.get(toolkit)?.tools.get(tool);
  }

  /**
   * Adds a participant.
   *
   * @param participant The new participant.
   */
  join(participant: Participant): void {
    this.#participants.set(participant.id, participant);
  }

  /**
   * Removes a participant and lets every toolkit drop its state (§4.6).
   *
   * @param participant The leaving participant.
   * @returns True when it was in the room (false on a repeated call).
   */
  leave(participant: Participant): boolean {
    if (this.#participants.get(participant.id) !== participant) return false;
    this.#participants.delete(participant.id);
    for (const { toolkit } of this.#toolkits.values()) {
      try {
        toolkit.participantLeft?.(participant);
      } catch (e) {
        console.error(`room ${this.name}: ${toolkit.name} failed to drop a participant:`, e);
      }
    }
    return true;
  }

  /**
   * Merges attributes into a participant (`set_attributes`) and tells the toolkits.
   *
   * @param participant The participant.
   * @param changes The partial attribute map, `__meshagent__` already removed.
   */
  setAttributes(participant: Participant, changes: JsonObject): void {
    Object.assign(participant.attributes, changes);
    for (const { toolkit } of this.#toolkits.values()) {
      toolkit.attributesChanged?.(participant, changes);
    }
  }

  /**
   * The room's file store, opened on first use and shared by every toolkit of the room (storage
   * writes files, sync keeps its documents there).
   *
   * @returns The store.
   * @throws {Error} When the room was made without a file store.
   */
  files(): Promise<FileStore> {
    if (!this.#openFileStore) {
      return Promise.reject(new Error(`room ${this.name} has no file store`));
    }
    if (!this.#fileStore) {
      this.#fileStore = this.#openFileStore();
      // A failed open is retried on the next call instead of being cached.
      this.#fileStore.catch(() => this.#fileStore = undefined);
    }
    return this.#fileStore;
  }

  /**
   * Listens for files removed through the room (deleted, or the source of a move), e.g. so that
   * an open document whose file was deleted is forgotten instead of written back.
   *
   * @param listener Gets the removed paths (a removed folder's path stands for what it held).
   * @returns Stops listening.
   */
  onFilesRemoved(listener: (paths: readonly string[]) => void): () => void {
    this.#removedListeners.add(listener);
    return () => this.#removedListeners.delete(listener);
  }

  /**
   * Tells the room's toolkits that files were removed (called by the toolkit that removed them).
   *
   * @param paths The removed paths.
   */
  filesRemoved(paths: readonly string[]): void {
    for (const listener of [...this.#removedListeners]) {
      try {
        listener(paths);
      } catch (e) {
        console.error(`room ${this.name}: a files-removed listener failed:`, e);
      }
    }
  }

  /** Ends the room: closes every toolkit (and so its stores). Safe to call more than once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const { toolkit } of this.#toolkits.values()) {
      try {
        await toolkit.close?.();
      } catch (e) {
        console.error(`room ${this.name}: closing ${toolkit.name} failed:`, e);
      }
    }
  }
}
