import { ApiGrant, type GrantOptions } from "./api_grant.ts";
import { describeGrant, flag } from "./_grant_fields.ts";

/**
 * `messaging` grant: direct messages, broadcasts and participant presence.
 *
 * JSON: `{ broadcast?: boolean (true), list?: boolean (true), send?: boolean (true) }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MessagingGrant } from "@meshagent/api";
 *
 * const grant = MessagingGrant.fromJson({ broadcast: false });
 * assert.equal(grant.broadcast, false);
 * assert.equal(grant.send, true);
 * assert.deepEqual(grant.toJson(), { broadcast: false });
 * ```
 */
export class MessagingGrant extends ApiGrant {
  static {
    describeGrant(this, "messaging", {
      broadcast: flag("broadcast", true),
      list: flag("list", true),
      send: flag("send", true),
    });
  }

  /** `messaging.broadcast` allowed (default true). */
  declare readonly broadcast: boolean;
  /** Participant discovery / presence data delivered (default true). */
  declare readonly list: boolean;
  /** `messaging.send` (and `messaging.stream`) allowed (default true). */
  declare readonly send: boolean;

  /**
   * Creates the grant.
   *
   * @param options Flags; each defaults to true.
   */
  constructor(options: GrantOptions<MessagingGrant> = {}) {
    super(options);
  }
}
