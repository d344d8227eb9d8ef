import { ApiGrant, type GrantOptions } from "./api_grant.ts";
import { describeGrant, flag } from "./_grant_fields.ts";

/**
 * `services` grant: room services.
 *
 * JSON: `{ list?: boolean (true) }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServicesGrant } from "@meshagent/api";
 *
 * assert.equal(ServicesGrant.fromJson({}).list, true);
 * assert.deepEqual(new ServicesGrant({ list: false }).toJson(), { list: false });
 * ```
 */
export class ServicesGrant extends ApiGrant {
  static {
    describeGrant(this, "services", { list: flag("list", true) });
  }

  /** `services.list` allowed (default true). */
  declare readonly list: boolean;

  /**
   * Creates the grant.
   *
   * @param options `list` (default true).
   */
  constructor(options: GrantOptions<ServicesGrant> = {}) {
    super(options);
  }
}
