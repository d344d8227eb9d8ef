// Private: small helpers for async iterables of contents.
import { BaseContent } from "@meshagent/api";

/** True for an async iterable that is not itself a content. */
export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value !== null && typeof value === "object" && !(value instanceof BaseContent) &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function";
}

/** Calls `it.return()` without waiting for it (a stuck source must not hang the caller). */
export function closeQuietly(it: AsyncIterator<unknown>): void {
  try {
    const done = it.return?.();
    if (done) Promise.resolve(done).catch(() => {});
  } catch {
    // The source failed while closing: nothing left to release.
  }
}
