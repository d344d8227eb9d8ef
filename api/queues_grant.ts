import { ApiGrant, type GrantOptions } from "./api_grant.ts";
import { describeGrant, flag, names } from "./_grant_fields.ts";

/**
 * `queues` grant: which queues may be sent to, received from, and whether queues may be listed.
 *
 * JSON: `{ send?: string[], receive?: string[], list?: boolean (true) }`; an absent list = all queues.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueuesGrant } from "@meshagent/api";
 *
 * const grant = QueuesGrant.fromJson({ send: ["jobs"] });
 * assert.equal(grant.canSend("jobs"), true);
 * assert.equal(grant.canSend("other"), false);
 * assert.equal(grant.canReceive("other"), true);
 * assert.equal(grant.canList(), true);
 * assert.deepEqual(new QueuesGrant().toJson(), {});
 * ```
 */
export class QueuesGrant extends ApiGrant {
  static {
    describeGrant(this, "queues", {
      send: names("send"),
      receive: names("receive"),
      list: flag("list", true),
    });
  }

  /** Queue names that may be sent to; null = all. */
  declare readonly send: readonly string[] | null;
  /** Queue names that may be received from; null = all. */
  declare readonly receive: readonly string[] | null;
  /** Whether `queues.list` is allowed (default true). */
  declare readonly list: boolean;

  /**
   * Creates the grant.
   *
   * @param options Allow-lists (`null` = all queues) and the `list` flag (default true).
   */
  constructor(options: GrantOptions<QueuesGrant> = {}) {
    super(options);
  }

  /**
   * Whether messages may be sent to queue `name`.
   *
   * @param name Queue name.
   * @returns true when `send` is unset or contains `name`.
   */
  canSend(name: string): boolean {
    return this.send === null || this.send.includes(name);
  }

  /**
   * Whether messages may be received from queue `name`.
   *
   * @param name Queue name.
   * @returns true when `receive` is unset or contains `name`.
   */
  canReceive(name: string): boolean {
    return this.receive === null || this.receive.includes(name);
  }

  /**
   * Whether `queues.list` is allowed.
   *
   * @returns The `list` flag.
   */
  canList(): boolean {
    return this.list;
  }
}
