import { ApiGrant, type GrantOptions } from "./api_grant.ts";
import { describeGrant, names } from "./_grant_fields.ts";

/**
 * `tunnels` grant: port-forward tunnels. Absent from the scope = no tunnels.
 *
 * JSON: `{ ports?: string[] }`; null or empty = every port.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TunnelsGrant } from "@meshagent/api";
 *
 * const grant = TunnelsGrant.fromJson({ ports: ["8080"] });
 * assert.equal(grant.canUsePort(8080), true);
 * assert.equal(grant.canUsePort("22"), false);
 * assert.equal(new TunnelsGrant({ ports: [] }).canUsePort(22), true);
 * ```
 */
export class TunnelsGrant extends ApiGrant {
  static {
    describeGrant(this, "tunnels", { ports: names("ports") });
  }

  /** Allowed ports as strings; null or empty = all. */
  declare readonly ports: readonly string[] | null;

  /**
   * Creates the grant.
   *
   * @param options `ports` (null or empty = all).
   */
  constructor(options: GrantOptions<TunnelsGrant> = {}) {
    super(options);
  }

  /**
   * Whether a tunnel to `port` may be opened.
   *
   * @param port Port number or its string form.
   * @returns The decision.
   */
  canUsePort(port: number | string): boolean {
    if (this.ports === null || this.ports.length === 0) return true;
    return this.ports.includes(String(port).trim());
  }
}
