/**
 * Thrown when an `api` grant scope (or one of its nested grants) has the wrong shape.
 *
 * `path` names the offending field, e.g. `queues.send` or `sqlite.databases[0].name`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ApiScope, ApiScopeError } from "@meshagent/api";
 *
 * assert.throws(
 *   () => ApiScope.fromJson({ queues: { send: "jobs" } }),
 *   (error: unknown) => error instanceof ApiScopeError && error.path === "queues.send",
 * );
 * ```
 */
export class ApiScopeError extends Error {
  /** Dotted path of the field that is wrong, e.g. `queues.send`. */
  readonly path: string;

  /**
   * Creates the error.
   *
   * @param path Dotted path of the offending field.
   * @param message What is wrong and what to send instead.
   */
  constructor(path: string, message: string) {
    super(`invalid api scope at ${path}: ${message}`);
    this.name = "ApiScopeError";
    this.path = path;
  }
}
