/**
 * Error codes that travel on the wire in `error` contents, and the error classes that carry them.
 */
export const ErrorCode = {
  /** A grant check failed. */
  PERMISSION_DENIED: 1001,
  /** A malformed request, a schema violation or a misused stream. */
  INVALID_REQUEST: 1002,
  /** An unknown toolkit, tool, participant or queue. */
  NOT_FOUND: 1003,
  /** The thing to create exists already. */
  ALREADY_EXISTS: 1004,
  /** A conflicting concurrent change. */
  CONFLICT: 1005,
  /** The operation does not fit the current state (for example a stream that is not open). */
  INVALID_STATE: 1006,
  /** A service the operation needs is not configured. */
  DEPENDENCY_MISSING: 1007,
  /** The operation was attempted and failed. */
  OPERATION_FAILED: 1008,
  /** The operation took longer than allowed. */
  TIMEOUT: 1009,
  /** A response of an unexpected content type (client side only). */
  UNEXPECTED_RESPONSE_TYPE: 1100,
  /** Storage: no such file or folder. */
  STORAGE_NOT_FOUND: 3001,
  /** Storage: deleting a folder needs `recursive`. */
  STORAGE_RECURSIVE_REQUIRED: 3002,
  /** Storage: an unknown upload or download handle. */
  STORAGE_INVALID_HANDLE: 3003,
  /** Storage: a path that is not allowed. */
  STORAGE_INVALID_PATH: 3004,
  /** Storage: the destination exists already. */
  STORAGE_ALREADY_EXISTS: 3005,
  /** Sync: the document is not open. */
  SYNC_NOT_CONNECTED: 4001,
  /** Sync: the document is open already. */
  SYNC_ALREADY_CONNECTED: 4002,
  /** Queues: no such queue. */
  QUEUE_NOT_FOUND: 5001,
  /** Queues: the queue exists already. */
  QUEUE_ALREADY_EXISTS: 5002,
} as const;

/** One of the numeric {@linkcode ErrorCode} values. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * An error reported by the room (an `error` content), or raised locally with a wire error code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ErrorCode, RoomError } from "@meshagent/api";
 * const err = new RoomError("the participant was not found", ErrorCode.NOT_FOUND);
 * assert(err.code === 1003);
 * ```
 */
export class RoomError extends Error {
  /** The wire error code, when one was given. */
  readonly code?: number;

  /**
   * Creates the value.
   *
   * @param message What went wrong, in words a user can act on.
   * @param code The wire error code ({@linkcode ErrorCode}).
   */
  constructor(message: string, code?: number) {
    super(message);
    this.name = "RoomError";
    if (code !== undefined) this.code = code;
  }
}

/**
 * Bytes that do not follow the wire protocol: bad packets, bad packed messages, unknown contents.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProtocolError, unpackMessage } from "@meshagent/api";
 * try {
 *   unpackMessage(new Uint8Array([1, 2]));
 * } catch (e) {
 *   assert(e instanceof ProtocolError);
 * }
 * ```
 */
export class ProtocolError extends RoomError {
  /**
   * Creates the value.
   * @param message What was wrong with the bytes.
   */
  constructor(message: string) {
    super(message, ErrorCode.INVALID_REQUEST);
    this.name = "ProtocolError";
  }
}

/**
 * A message whose id is 2^53 or more: a valid 64-bit id on the wire, but past the largest id
 * a JavaScript number holds exactly, so it cannot be answered by number. The `Protocol`
 * answers such a request itself with an `error` response that carries the
 * same 8 id bytes (see `messageId`), and drops the message's data packets.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnsupportedMessageIdError } from "@meshagent/api";
 * const err = new UnsupportedMessageIdError(2n ** 64n - 1n, "room.invoke_tool");
 * assert(err.messageId === 18446744073709551615n && err.code === 1002);
 * ```
 */
export class UnsupportedMessageIdError extends ProtocolError {
  /** The message's id, exactly. */
  readonly messageId: bigint;
  /** The message's type. */
  readonly messageType: string;

  /**
   * Creates the value.
   *
   * @param messageId The id, exactly.
   * @param messageType The message type.
   */
  constructor(messageId: bigint, messageType: string) {
    super(
      `message id ${messageId} is beyond 2^53-1, the largest message id this side supports ` +
        "(the official clients count their ids up from 0)",
    );
    this.name = "UnsupportedMessageIdError";
    this.messageId = messageId;
    this.messageType = messageType;
  }
}

/**
 * The connection closed (or was never open) while something still waited on it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionClosedError } from "@meshagent/api";
 * const err = new ConnectionClosedError("the connection closed", 1006);
 * assert(err.closeCode === 1006);
 * ```
 */
export class ConnectionClosedError extends RoomError {
  /** The WebSocket close code, when known. */
  readonly closeCode?: number;

  /**
   * Creates the value.
   *
   * @param message Why the wait ended.
   * @param closeCode The WebSocket close code, when known.
   */
  constructor(message: string, closeCode?: number) {
    super(message, ErrorCode.INVALID_STATE);
    this.name = "ConnectionClosedError";
    if (closeCode !== undefined) this.closeCode = closeCode;
  }
}

/**
 * A request that got no answer in time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestTimeoutError } from "@meshagent/api";
 * assert(new RequestTimeoutError("room.list_toolkits", 100).code === 1009);
 * ```
 */
export class RequestTimeoutError extends RoomError {
  /**
   * Creates the value.
   *
   * @param what The request type that timed out.
   * @param ms The timeout in milliseconds.
   */
  constructor(what: string, ms: number) {
    super(`${what} got no response within ${ms} ms`, ErrorCode.TIMEOUT);
    this.name = "RequestTimeoutError";
  }
}
