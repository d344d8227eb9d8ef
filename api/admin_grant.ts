import { ApiGrant, type GrantOptions } from "./api_grant.ts";
import { describeGrant, flag } from "./_grant_fields.ts";

/**
 * `admin` grant: the admin configuration surface (REST).
 *
 * JSON: `{ config?: boolean (true) }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AdminGrant } from "@meshagent/api";
 *
 * assert.equal(AdminGrant.fromJson({}).config, true);
 * assert.deepEqual(new AdminGrant().toJson(), {});
 * ```
 */
export class AdminGrant extends ApiGrant {
  static {
    describeGrant(this, "admin", { config: flag("config", true) });
  }

  /** Change the configuration (default true). */
  declare readonly config: boolean;

  /**
   * Creates the grant.
   *
   * @param options `config` (default true).
   */
  constructor(options: GrantOptions<AdminGrant> = {}) {
    super(options);
  }
}
