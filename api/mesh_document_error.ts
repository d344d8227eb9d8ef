import { ErrorCode, RoomError } from "./errors.ts";

/**
 * An update or document operation that cannot be done: bytes that are not a Yjs update, an edit
 * of a deleted element, a position out of range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MeshDocumentError } from "@meshagent/api";
 * assert(new MeshDocumentError("bad").code === 1002);
 * ```
 */
export class MeshDocumentError extends RoomError {
  /**
   * Creates the value.
   *
   * @param message What went wrong and what to do.
   * @param code The wire error code. Defaults to INVALID_REQUEST (1002).
   */
  constructor(message: string, code: number = ErrorCode.INVALID_REQUEST) {
    super(message, code);
    this.name = "MeshDocumentError";
  }
}
