import { ControlCloseStatus, ErrorCode, ErrorContent, RoomError } from "@meshagent/api";

/**
 * A failed tool call: what went wrong and the wire error code that travels with it.
 *
 * {@linkcode Toolkit.execute} and {@linkcode Tool.invoke} reject with this class only: errors
 * thrown by a tool's own code are converted with {@linkcode ToolError.from}. A hosting layer turns
 * it into an `error` content with {@linkcode ToolError.toContent}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ToolError } from "@meshagent/tools";
 * const err = new ToolError("Tool was not found add", 1003);
 * assert(err.code === 1003);
 * assert(err.toContent().toJson().text === "Tool was not found add");
 * ```
 */
export class ToolError extends RoomError {
  /** The wire error code ({@linkcode ErrorCode}); 1008 (operation failed) when nothing better fits. */
  declare readonly code: number;

  /**
   * Creates the value.
   *
   * @param message What went wrong, in words a user can act on.
   * @param code The wire error code (default 1008, `OPERATION_FAILED`).
   * @param options The underlying cause, if any.
   */
  constructor(message: string, code: number = ErrorCode.OPERATION_FAILED, options?: ErrorOptions) {
    super(message, code);
    this.name = "ToolError";
    if (options?.cause !== undefined) this.cause = options.cause;
  }

  /**
   * The `error` content a host answers with.
   *
   * @returns `{"type":"error","text":<message>,"code":<code>}`.
   */
  toContent(): ErrorContent {
    return new ErrorContent(this.message, this.code);
  }

  /**
   * Converts anything thrown by tool code into a {@linkcode ToolError}: a `ToolError` stays as it
   * is, a `RoomError` keeps its code, an `ErrorContent` keeps its text and code, an abort or
   * timeout becomes "... was cancelled" (code 1008) or "... timed out" (code 1009), any other
   * `Error` keeps its message with code 1008, and other values are turned into a string.
   *
   * @param error The thrown value.
   * @returns The tool error.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ToolError } from "@meshagent/tools";
   * const err = ToolError.from(new TypeError("x is not a function"));
   * assert(err.message === "x is not a function" && err.code === 1008);
   * ```
   */
  static from(error: unknown): ToolError {
    if (error instanceof ToolError) return error;
    if (error instanceof RoomError) {
      return new ToolError(error.message, error.code ?? ErrorCode.OPERATION_FAILED, {
        cause: error,
      });
    }
    if (error instanceof ErrorContent) {
      return new ToolError(error.text, error.code ?? ErrorCode.OPERATION_FAILED);
    }
    if (error instanceof DOMException && error.name === "TimeoutError") {
      return new ToolError(`the tool call timed out: ${error.message}`, ErrorCode.TIMEOUT, {
        cause: error,
      });
    }
    if (error instanceof DOMException && error.name === "AbortError") {
      return new ToolError(`the tool call was cancelled: ${error.message}`, undefined, {
        cause: error,
      });
    }
    if (error instanceof Error) {
      return new ToolError(error.message || error.name, undefined, { cause: error });
    }
    return new ToolError(String(error));
  }
}

/**
 * Input or output that does not fit a tool's `input_spec` / `output_spec`: a content type the spec
 * does not list, a streamed value where a single content is required (or the reverse), or JSON
 * that does not match the schema. Its code is 1002 (`INVALID_REQUEST`); when it ends a streamed
 * output, hosts close the stream with status 1007 ({@linkcode ToolValidationError.closeStatus}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ToolValidationError } from "@meshagent/tools";
 * const err = new ToolValidationError("tool add input does not match input_schema: /a must be number");
 * assert(err.code === 1002 && ToolValidationError.closeStatus === 1007);
 * ```
 */
export class ToolValidationError extends ToolError {
  /** The `status_code` of the `control` close that ends a streamed output on this error. */
  static readonly closeStatus: number = ControlCloseStatus.INVALID_DATA;

  /**
   * Creates the value.
   *
   * @param message Which tool, which side (input or output) and what did not match.
   */
  constructor(message: string) {
    super(message, ErrorCode.INVALID_REQUEST);
    this.name = "ToolValidationError";
  }
}
