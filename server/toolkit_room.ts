import type { Participant } from "./participant.ts";
import type { FileStore } from "./file_store.ts";

/**
 * What a built-in toolkit sees of its room: who is in it, its data folder and file store, and
 * the files removed through it. A {@linkcode Room} is one; joining, leaving and routing calls stay
 * with the room server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Room, type ToolkitRoom } from "@meshagent/server";
 * const room: ToolkitRoom = new Room({ name: "demo", url: "ws://x/rooms/demo", dataDir: "/tmp/demo" });
 * assert(room.name === "demo" && [...room.participants()].length === 0);
 * ```
 */
export interface ToolkitRoom {
  /** The room name. */
  readonly name: string;
  /** The id of this session of the room (a UUID). */
  readonly sessionId: string;
  /** The public WebSocket URL of the room. */
  readonly url: string;
  /** The room's data folder (`<dataDir>/rooms/<room>`). */
  readonly dataDir: string;
  /** True once the room ended. */
  readonly closed: boolean;
  /**
   * The connected participants.
   *
   * @returns An iterator over them.
   */
  participants(): IterableIterator<Participant>;
  /**
   * Finds a connected participant.
   *
   * @param id The participant id.
   * @returns The participant, or undefined.
   */
  participant(id: string): Participant | undefined;
  /**
   * The room's file store, opened on first use and shared by every toolkit of the room.
   *
   * @returns The store.
   */
  files(): Promise<FileStore>;
  /**
   * Listens for files removed through the room (deleted, or the source of a move).
   *
   * @param listener Gets the removed paths.
   * @returns Stops listening.
   */
  onFilesRemoved(listener: (paths: readonly string[]) => void): () => void;
  /**
   * Tells the room's toolkits that files were removed (called by the toolkit that removed them).
   *
   * @param paths The removed paths.
   */
  filesRemoved(paths: readonly string[]): void;
}
