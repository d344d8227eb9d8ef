import { ErrorCode, RoomError } from "@meshagent/api";

/**
 * A requirement of an agent that is malformed or cannot be met: a required toolkit that did not
 * appear in time, a schema that could not be installed, or requirement JSON that does not parse.
 * The `code` is a wire {@linkcode ErrorCode}: 1002 for malformed JSON, 1003 for something missing
 * from the room, 1009 when a wait timed out, 1008 for other failures.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequirementError } from "@meshagent/agents";
 * const err = new RequirementError("required toolkit math was not found", 1003, "math");
 * assert(err.code === 1003 && err.requirement === "math");
 * ```
 */
export class RequirementError extends RoomError {
  /** The wire error code. */
  declare readonly code: number;
  /** The name of the requirement (toolkit or schema name), when known. */
  readonly requirement?: string;

  /**
   * Creates the value.
   *
   * @param message What is missing or wrong, and how to fix it.
   * @param code The wire error code (default 1008, operation failed).
   * @param requirement The requirement's name.
   * @param options The underlying cause, if any.
   */
  constructor(
    message: string,
    code: number = ErrorCode.OPERATION_FAILED,
    requirement?: string,
    options?: ErrorOptions,
  ) {
    super(message, code);
    this.name = "RequirementError";
    if (requirement !== undefined) this.requirement = requirement;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}
