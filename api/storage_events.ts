/**
 * A file was written (an upload finished: created or overwritten), pushed by the room as
 * `storage.file.updated`.
 */
export interface StorageFileUpdatedEvent {
  /** The file's storage path. */
  path: string;
  /** The participant that made the change. */
  participantId: string;
}

/** A file or folder was deleted (`storage.file.deleted`). */
export interface StorageFileDeletedEvent {
  /** The deleted path. */
  path: string;
  /** The participant that made the change. */
  participantId: string;
}

/** A file or folder was moved (`storage.file.moved`). */
export interface StorageFileMovedEvent {
  /** The old path. */
  sourcePath: string;
  /** The new path. */
  destinationPath: string;
  /** The participant that made the change. */
  participantId: string;
}

/**
 * The events of `room.storage` (a `StorageClient`), by name — the names the official client
 * uses.
 */
export interface StorageClientEvents {
  /** A file was written. */
  "file.updated": StorageFileUpdatedEvent;
  /** A file or folder was deleted. */
  "file.deleted": StorageFileDeletedEvent;
  /** A file or folder was moved. */
  "file.moved": StorageFileMovedEvent;
}
