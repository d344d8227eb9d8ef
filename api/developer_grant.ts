import { ApiGrant, type GrantOptions } from "./api_grant.ts";
import { describeGrant, flag } from "./_grant_fields.ts";

/**
 * `developer` grant: developer logs (`developer.*`).
 *
 * JSON: `{ logs?: boolean (true) }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeveloperGrant } from "@meshagent/api";
 *
 * assert.equal(DeveloperGrant.fromJson({}).logs, true);
 * assert.deepEqual(new DeveloperGrant({ logs: false }).toJson(), { logs: false });
 * ```
 */
export class DeveloperGrant extends ApiGrant {
  static {
    describeGrant(this, "developer", { logs: flag("logs", true) });
  }

  /** Emit and read developer logs (default true). */
  declare readonly logs: boolean;

  /**
   * Creates the grant.
   *
   * @param options `logs` (default true).
   */
  constructor(options: GrantOptions<DeveloperGrant> = {}) {
    super(options);
  }
}
