// Private: racing a pending step of a tool call against the call's AbortSignal.
import { ErrorCode } from "@meshagent/api";
import { ToolError } from "./tool_error.ts";

/** The error a cancelled call rejects with: "timed out" (1009) or "was cancelled" (1008). */
export function cancelledError(signal: AbortSignal): ToolError {
  const reason: unknown = signal.reason;
  if (reason instanceof ToolError) return reason;
  if (reason instanceof DOMException && reason.name === "TimeoutError") {
    return new ToolError(`the tool call timed out: ${reason.message}`, ErrorCode.TIMEOUT, {
      cause: reason,
    });
  }
  const why = reason instanceof Error ? reason.message : reason === undefined ? "" : String(reason);
  return new ToolError(
    `the tool call was cancelled${why ? `: ${why}` : ""}`,
    ErrorCode.OPERATION_FAILED,
    { cause: reason },
  );
}

/**
 * Settles like `promise`, or rejects with {@linkcode cancelledError} as soon as `signal` aborts.
 * A later rejection of `promise` is swallowed, so nothing goes unhandled.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(cancelledError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelledError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
